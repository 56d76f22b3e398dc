//! The `netstat` subcommand (owned by the tools work; this stub fixes its interface).

/// Command-line arguments of `netstat`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {}

/// Run `netstat`; returns the process exit status.
pub fn run(args: &Args) -> i32 {
    let _ = args;
    eprintln!("netstat: not implemented yet");
    1
}
