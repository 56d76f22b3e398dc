//! `portline-smol`: the portline command line on the smol runtime.

use portline_smol::SmolRuntime;

fn main() {
    // The shared command line (frontends/common) is not in place yet.
    let _runtime = SmolRuntime::new();
    eprintln!("portline-smol: the shared command line is not wired in yet");
    std::process::exit(2);
}
