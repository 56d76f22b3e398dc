//! `portline-std`: the whole command line of portline over blocking std sockets.
//!
//! ```text
//! cargo run -p portline-std -- serve http      # serves the current folder on 127.0.0.1:8080
//! ```

fn main() {
    std::process::exit(portline_common::main(portline_std::StdRuntime::new()));
}
