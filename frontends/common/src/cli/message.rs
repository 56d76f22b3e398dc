//! Messages on stderr: one format for the errors, warnings and notes of every command, written by
//! this module only, so that no command invents a prefix of its own (docs/CLI.md, "Messages").
//!
//! ```text
//! PROGRAM: COMMAND: SUBJECT: CAUSE             an error; the exit status is not 0
//! PROGRAM: COMMAND: warning: SUBJECT: CAUSE    something went wrong, the command carries on
//! PROGRAM: COMMAND: note: SUBJECT: TEXT        worth knowing, nothing went wrong
//! ```
//!
//! The shape is coreutils' `prog: subject: cause` (`cat: nope: No such file or directory`) with
//! the subcommand after the program, as a tool with subcommands needs. PROGRAM is the running
//! binary (`portline-std`, `portline-mio`, `portline-smol`: [`set_context`] is called by
//! [`crate::main_from`] with [`Runtime::name`](crate::Runtime::name)); COMMAND is the subcommand
//! as typed (`serve http`, `get`, `connect`, ...). SUBJECT is what failed, as precisely as it
//! is known: a stage of `get` (`url`, `resolve`, `connect`, ...), a file, an address with its
//! port and family (see [`addr`]). CAUSE is the reason in words; an operating-system error is
//! its `strerror` text, without Rust's ` (os error N)` suffix, as coreutils prints it.
//!
//! Not messages, and so not in this format: what a command produces (stdout), the ready line
//! `listening on ...` and the access log of a server, `get -v`'s `*`, `>` and `<` trace lines
//! and the progress lines of `get` and `bench` (curl's and wrk's conventions).
//!
//! ```
//! use portline_common::cli::message::{Level, render};
//!
//! let line = render(Level::Error, "connect", "127.0.0.1:1 (IPv4): Connection refused (os error 111)");
//! assert!(line.ends_with(": connect: 127.0.0.1:1 (IPv4): Connection refused"));
//! ```

use std::fmt::Display;
use std::net::{IpAddr, SocketAddr};
use std::sync::RwLock;

use crate::apps::log::emit;

/// The program and the subcommand every message starts with.
#[derive(Debug, Clone, Copy)]
struct Context {
    program: Option<&'static str>,
    command: Option<&'static str>,
}

static CONTEXT: RwLock<Context> = RwLock::new(Context {
    program: None,
    command: None,
});

/// Start every message with `program: command: ` (`command` empty: `program: ` alone, for a
/// line that belongs to no subcommand, such as an unknown one). Called once the command line is
/// parsed; a library that never calls it gets its executable's file name and no command.
pub fn set_context(program: &'static str, command: &'static str) {
    let mut context = CONTEXT.write().unwrap_or_else(|e| e.into_inner());
    context.program = Some(program);
    context.command = (!command.is_empty()).then_some(command);
}

/// What kind of line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The command failed (its exit status is not 0).
    Error,
    /// Something went wrong, and the command carries on.
    Warning,
    /// Worth knowing; nothing went wrong.
    Note,
}

/// The line for `subject` and `cause` at `level`, without the newline.
pub fn render(level: Level, subject: impl Display, cause: impl Display) -> String {
    let context = *CONTEXT.read().unwrap_or_else(|e| e.into_inner());
    let mut line = String::with_capacity(80);
    match context.program {
        Some(program) => line.push_str(program),
        None => line.push_str(&fallback_program()),
    }
    line.push_str(": ");
    if let Some(command) = context.command {
        line.push_str(command);
        line.push_str(": ");
    }
    match level {
        Level::Error => {}
        Level::Warning => line.push_str("warning: "),
        Level::Note => line.push_str("note: "),
    }
    let subject = subject.to_string();
    if !subject.is_empty() {
        line.push_str(&subject);
        line.push_str(": ");
    }
    line.push_str(&cause.to_string());
    without_os_error_codes(&line)
}

/// Write an error line to stderr.
pub fn error(subject: impl Display, cause: impl Display) {
    emit(&render(Level::Error, subject, cause));
}

/// Write a warning line to stderr.
pub fn warning(subject: impl Display, cause: impl Display) {
    emit(&render(Level::Warning, subject, cause));
}

/// Write a note line to stderr.
pub fn note(subject: impl Display, text: impl Display) {
    emit(&render(Level::Note, subject, text));
}

/// A usage error from the command-line parser (clap), exit status 2: its first line in this
/// format (`PROGRAM: COMMAND: invalid value '0' for '--threads <N>': must be at least 1`), then
/// the rest of clap's text (the usage, the hint at `--help`) as it is.
pub fn usage_error(clap_text: &str) {
    let text = clap_text.trim_end();
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let mut out = render(Level::Error, "", first);
    if !rest.is_empty() {
        out.push('\n');
        out.push_str(rest);
    }
    emit(&out);
}

/// An address as messages name it: IP, port and family, and the host name it came from when it
/// was not typed as an IP: `127.0.0.1:8080 (IPv4)`, `[::1]:7070 (IPv6, from localhost)`.
pub fn addr(addr: SocketAddr, host: Option<&str>) -> String {
    let family = if addr.is_ipv4() { "IPv4" } else { "IPv6" };
    let named = host.filter(|h| h.trim_matches(['[', ']']).parse::<IpAddr>().is_err());
    match named {
        Some(host) => format!("{addr} ({family}, from {host})"),
        None => format!("{addr} ({family})"),
    }
}

/// The executable's file name, for a process that never called [`set_context`].
fn fallback_program() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map_or_else(
            || "portline".to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
}

/// `text` without the ` (os error N)` that Rust's `io::Error` adds to the system's message.
fn without_os_error_codes(text: &str) -> String {
    const MARK: &str = " (os error ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        let after = &rest[at + MARK.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(')') {
            out.push_str(&rest[..at]);
            rest = &after[digits + 1..];
        } else {
            out.push_str(&rest[..at + MARK.len()]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_error_codes_are_dropped_and_other_parentheses_kept() {
        let cases = [
            (
                "x: Connection refused (os error 111)",
                "x: Connection refused",
            ),
            ("a (os error 2); b (os error 13)", "a; b"),
            ("kept (os error N)", "kept (os error N)"),
            ("kept (os error 12", "kept (os error 12"),
            ("(IPv4) fine", "(IPv4) fine"),
        ];
        for (input, want) in cases {
            assert_eq!(without_os_error_codes(input), want, "{input}");
        }
    }

    /// One test sets the context, so that parallel tests of this binary never see another's.
    #[test]
    fn every_level_has_one_shape() {
        set_context("portline-test", "serve http");
        let io = std::io::Error::from_raw_os_error(98);
        assert_eq!(
            render(Level::Error, "listen 127.0.0.1:80", &io),
            "portline-test: serve http: listen 127.0.0.1:80: Address already in use"
        );
        assert_eq!(
            render(Level::Warning, "shutdown", "2 connections"),
            "portline-test: serve http: warning: shutdown: 2 connections"
        );
        assert_eq!(
            render(Level::Note, "SIGTERM", "shutting down"),
            "portline-test: serve http: note: SIGTERM: shutting down"
        );
        assert_eq!(
            render(Level::Error, "", "no subject"),
            "portline-test: serve http: no subject"
        );
        set_context("portline-test", "");
        assert_eq!(render(Level::Error, "a", "b"), "portline-test: a: b");
    }

    #[test]
    fn addresses_name_ip_port_family_and_the_host_typed() {
        let v4: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let v6: SocketAddr = "[::1]:7070".parse().unwrap();
        assert_eq!(addr(v4, None), "127.0.0.1:1 (IPv4)");
        assert_eq!(addr(v4, Some("127.0.0.1")), "127.0.0.1:1 (IPv4)");
        assert_eq!(addr(v6, Some("::1")), "[::1]:7070 (IPv6)");
        assert_eq!(addr(v6, Some("[::1]")), "[::1]:7070 (IPv6)");
        assert_eq!(
            addr(v6, Some("localhost")),
            "[::1]:7070 (IPv6, from localhost)"
        );
    }
}
