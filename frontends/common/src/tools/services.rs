//! The `services` subcommand (owned by the tools work; this stub fixes its interface).

/// Command-line arguments of `services`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {}

/// Run `services`; returns the process exit status.
pub fn run(args: &Args) -> i32 {
    let _ = args;
    eprintln!("services: not implemented yet");
    1
}
