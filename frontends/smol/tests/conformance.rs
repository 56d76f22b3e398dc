//! The runtime conformance kit (portline-testkit) against [`SmolRuntime`]: every case the three
//! runtimes share, written once there.

use portline_smol::SmolRuntime;

portline_testkit::conformance!(SmolRuntime::with_shutdown);
