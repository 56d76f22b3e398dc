//! The runtime conformance kit (portline-testkit) against [`StdRuntime`]: every case the three
//! runtimes share, written once there.

use portline_std::StdRuntime;

portline_testkit::conformance!(StdRuntime::with_shutdown);

/// A panicking session loses only its own connection (each connection has its own thread or
/// task here; portline-mio's loops do not survive one).
#[test]
fn a_panicking_session_only_loses_its_own_connection() {
    portline_testkit::cases::a_panicking_session_only_loses_its_own_connection(
        StdRuntime::with_shutdown,
    );
}
