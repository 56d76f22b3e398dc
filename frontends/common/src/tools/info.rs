//! The `info` subcommand (owned by the tools work; this stub fixes its interface).

/// Command-line arguments of `info`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {}

/// Run `info`; returns the process exit status.
pub fn run(args: &Args) -> i32 {
    let _ = args;
    eprintln!("info: not implemented yet");
    1
}
