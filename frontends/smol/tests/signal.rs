//! SIGTERM stops a server of the binary's runtime (portline-testkit). Alone in its own test
//! binary: it sends the signal to its own process.

use portline_smol::SmolRuntime;

#[test]
fn sigterm_stops_the_server_gracefully() {
    portline_testkit::process::sigterm_stops_the_server_gracefully(SmolRuntime::new);
}
