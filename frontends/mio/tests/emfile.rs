//! Out of descriptors, the binary backs off and recovers (portline-testkit); it runs under a
//! small `ulimit -n` and is stopped by PID.

#[test]
fn out_of_descriptors_the_binary_backs_off_and_recovers() {
    portline_testkit::process::out_of_descriptors_the_binary_backs_off_and_recovers(env!(
        "CARGO_BIN_EXE_portline-mio"
    ));
}
