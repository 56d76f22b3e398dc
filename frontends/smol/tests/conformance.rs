//! The runtime conformance kit (portline-testkit) against [`SmolRuntime`]: every case the three
//! runtimes share, written once there.

use portline_smol::SmolRuntime;

portline_testkit::conformance!(SmolRuntime::with_shutdown);

/// A panicking session loses only its own connection (each connection has its own thread or
/// task here; portline-mio's loops do not survive one).
#[test]
fn a_panicking_session_only_loses_its_own_connection() {
    portline_testkit::cases::a_panicking_session_only_loses_its_own_connection(
        SmolRuntime::with_shutdown,
    );
}
