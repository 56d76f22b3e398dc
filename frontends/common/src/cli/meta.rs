//! What a binary says about itself: `--version` (with its runtime), `completions SHELL` and
//! `manpage`, generated from the one command line of [`crate::cli::args`] by `clap_complete` and
//! `clap_mangen`.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::args::Cli;

/// The `--version` text after the binary's name: the crate version and the runtime, e.g.
/// `0.1.0 (runtime: mio)` for `portline-mio`.
pub fn version(name: &str) -> String {
    let runtime = name.strip_prefix("portline-").unwrap_or(name);
    format!("{} (runtime: {runtime})", env!("CARGO_PKG_VERSION"))
}

/// The clap command of binary `name`: the command line of docs/CLI.md under that name, with
/// [`version`].
pub fn command(name: &'static str) -> clap::Command {
    Cli::command()
        .name(name)
        .bin_name(name)
        .version(version(name))
}

/// `completions SHELL`: the completion script for binary `name` on stdout; exit status.
pub fn completions(name: &'static str, shell: clap_complete::Shell) -> i32 {
    emit(&completion_script(name, shell))
}

/// The completion script of binary `name` for `shell`.
///
/// clap_complete's bash script spells a hyphenated binary's state two ways (the loop sets
/// `portline__std`, the case arms test `portline__subcmd__std`), so nothing after the first
/// subcommand completes (clap-rs/clap#6421, open in clap_complete 4.6.12). The arms are
/// respelled the loop's way; the test below runs the script in bash.
pub fn completion_script(name: &'static str, shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command(name), name, &mut out);
    if shell == clap_complete::Shell::Bash && name.contains('-') {
        let text = String::from_utf8_lossy(&out);
        let wrong = name.replace('-', "__subcmd__");
        let right = name.replace('-', "__");
        out = text.replace(&wrong, &right).into_bytes();
    }
    out
}

/// `manpage`: the roff manual page of binary `name` on stdout; exit status.
pub fn manpage(name: &'static str) -> i32 {
    let mut out = Vec::new();
    match clap_mangen::Man::new(command(name)).render(&mut out) {
        Ok(()) => emit(&out),
        Err(e) => {
            crate::cli::message::error("", e);
            1
        }
    }
}

fn emit(bytes: &[u8]) -> i32 {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => 0,
        Err(e) => {
            crate::cli::message::error("stdout", e);
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_names_the_runtime_and_the_crate_version() {
        assert_eq!(
            version("portline-smol"),
            format!("{} (runtime: smol)", env!("CARGO_PKG_VERSION"))
        );
        let rendered = command("portline-std").render_version();
        assert_eq!(
            rendered.trim_end(),
            format!("portline-std {} (runtime: std)", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn every_shell_gets_a_script_naming_every_subcommand() {
        use clap::ValueEnum;
        for shell in clap_complete::Shell::value_variants() {
            let mut out = Vec::new();
            clap_complete::generate(
                *shell,
                &mut command("portline-mio"),
                "portline-mio",
                &mut out,
            );
            let text = String::from_utf8(out).unwrap();
            for word in ["portline-mio", "serve", "netstat", "completions", "manpage"] {
                assert!(text.contains(word), "{shell}: no {word}");
            }
        }
    }

    #[test]
    fn the_manpage_is_roff_for_the_binary() {
        let mut out = Vec::new();
        clap_mangen::Man::new(command("portline-smol"))
            .render(&mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(".ie \\n(.g .ds Aq"), "{}", &text[..80]);
        assert!(text.contains(".TH portline-smol 1"), "{text}");
        assert!(text.contains("serve"));
    }
}
