//! The `parse` subcommand (owned by the tools work; this stub fixes its interface).

/// Command-line arguments of `parse`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {}

/// Run `parse`; returns the process exit status.
pub fn run(args: &Args) -> i32 {
    let _ = args;
    eprintln!("parse: not implemented yet");
    1
}
