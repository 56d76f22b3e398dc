//! No descriptor left behind (portline-testkit). Its own test binary: the count is of the
//! whole process, so nothing else may run beside it.

use portline_std::StdRuntime;

#[test]
fn descriptors_return_to_the_baseline() {
    portline_testkit::process::descriptors_return_to_the_baseline(StdRuntime::with_shutdown);
}
