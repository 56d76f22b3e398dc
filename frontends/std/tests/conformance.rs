//! The runtime conformance kit (portline-testkit) against [`StdRuntime`]: every case the three
//! runtimes share, written once there.

use portline_std::StdRuntime;

portline_testkit::conformance!(StdRuntime::with_shutdown);
