//! `portline-smol`: the portline command line (docs/CLI.md) on the smol runtime.
//!
//! ```text
//! cargo run -p portline-smol -- serve http --listen 127.0.0.1:8080
//! ```

use portline_smol::SmolRuntime;

fn main() {
    std::process::exit(portline_common::main(SmolRuntime::new()))
}
