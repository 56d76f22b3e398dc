//! `portline-mio`: the portline command line on mio event loops.
//!
//! ```text
//! cargo run --release -p portline-mio -- serve http
//! ```

fn main() {
    std::process::exit(portline_common::main(portline_mio::MioRuntime::new()))
}
