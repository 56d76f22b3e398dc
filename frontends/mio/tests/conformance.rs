//! The runtime conformance kit (portline-testkit) against [`MioRuntime`]: every case the three
//! runtimes share, written once there.

use portline_mio::MioRuntime;

portline_testkit::conformance!(MioRuntime::with_shutdown);
