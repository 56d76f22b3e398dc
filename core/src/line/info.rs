//! The `info` command service (docs/LINE.md "The info command service"): one command line in, one
//! reply (possibly multi-line, SMTP style) out. Shared by the TCP and UDP services.

use std::time::SystemTime;

use super::service::World;
use crate::services::Query;

/// What the caller does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Read the next command.
    Continue,
    /// `QUIT`: send the reply, then close.
    Quit,
}

/// The lines of the `HELP` reply, before `214 end of help`.
const HELP: &[&str] = &[
    "commands (case-insensitive, arguments separated by spaces):",
    "HELP                           this list",
    "ECHO <text>                    reply with <text>",
    "HOST                           the host name and its addresses",
    "SERVICE <port>[/<proto>]       the service name of a port (proto defaults to tcp)",
    "SERVICE <name>[/<proto>]       the port of a service name or alias",
    "TIME                           the current time, RFC 3339 UTC",
    "QUIT                           close the connection",
];

/// Append one reply line `code text` + CRLF.
fn reply(out: &mut Vec<u8>, code: &str, text: &[u8]) {
    out.extend_from_slice(code.as_bytes());
    out.push(b' ');
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

/// The greeting sent on connect: `220 <hostname> portline info service ready`.
pub(crate) fn greeting(world: &World, out: &mut Vec<u8>) {
    let text = format!("{} portline info service ready", world.hostname);
    reply(out, "220", text.as_bytes());
}

/// The reply to a line over the limit.
pub(crate) fn too_long(out: &mut Vec<u8>) {
    reply(out, "500", b"line too long");
}

/// `wall` clamped to what the date formatters accept (1970 to 9999), so no clock value panics.
pub(crate) fn clamp_wall(wall: SystemTime) -> SystemTime {
    use std::time::{Duration, UNIX_EPOCH};
    // 9999-12-31T23:59:59Z.
    let max = UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    wall.clamp(UNIX_EPOCH, max)
}

/// `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339, UTC, whole seconds).
pub(crate) fn rfc3339(wall: SystemTime) -> String {
    humantime::format_rfc3339_seconds(clamp_wall(wall)).to_string()
}

/// Answer one command line (without its terminator), appending the reply to `out`.
pub(crate) fn command(world: &World, wall: SystemTime, line: &[u8], out: &mut Vec<u8>) -> Outcome {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = line.iter().position(|b| !is_space(b)).unwrap_or(line.len());
    let line = &line[start..];
    let verb_end = line.iter().position(is_space).unwrap_or(line.len());
    let (verb, rest) = line.split_at(verb_end);
    let arg_start = rest.iter().position(|b| !is_space(b)).unwrap_or(rest.len());
    let arg = &rest[arg_start..];
    let arg_trimmed = {
        let end = arg.iter().rposition(|b| !is_space(b)).map_or(0, |i| i + 1);
        &arg[..end]
    };
    let is = |name: &str| verb.eq_ignore_ascii_case(name.as_bytes());

    if is("HELP") {
        for line in HELP {
            // Every line but the last is `214-text` (SMTP multi-line reply).
            out.extend_from_slice(b"214-");
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        reply(out, "214", b"end of help");
    } else if is("ECHO") {
        if arg.is_empty() {
            reply(out, "501", b"ECHO needs some text");
        } else {
            reply(out, "250", arg);
        }
    } else if is("HOST") {
        if !arg_trimmed.is_empty() {
            reply(out, "501", b"HOST takes no argument");
        } else {
            let mut text = world.hostname.clone();
            for address in &world.addresses {
                text.push(' ');
                text.push_str(&address.to_string());
            }
            reply(out, "250", text.as_bytes());
        }
    } else if is("SERVICE") {
        service(world, arg_trimmed, out);
    } else if is("TIME") {
        if !arg_trimmed.is_empty() {
            reply(out, "501", b"TIME takes no argument");
        } else {
            reply(out, "250", rfc3339(wall).as_bytes());
        }
    } else if is("QUIT") {
        reply(out, "221", b"bye");
        return Outcome::Quit;
    } else {
        reply(out, "500", b"unknown command");
    }
    Outcome::Continue
}

/// `SERVICE <port|name>[/<proto>]`.
fn service(world: &World, arg: &[u8], out: &mut Vec<u8>) {
    if arg.is_empty() {
        reply(
            out,
            "501",
            b"SERVICE needs a port or a name, e.g. SERVICE 80/tcp",
        );
        return;
    }
    if arg.iter().any(|b| *b == b' ' || *b == b'\t') {
        reply(out, "501", b"SERVICE takes one argument");
        return;
    }
    let Ok(arg) = core::str::from_utf8(arg) else {
        reply(out, "501", b"SERVICE argument is not UTF-8");
        return;
    };
    let query = match Query::parse(arg) {
        Ok(query) => query,
        Err(e) => {
            reply(out, "501", e.to_string().as_bytes());
            return;
        }
    };
    match (world.services.lookup(query), query) {
        (Ok(entry), Query::Port { .. }) => reply(out, "250", entry.name.as_bytes()),
        (Ok(entry), Query::Name { .. }) => reply(out, "250", entry.port.to_string().as_bytes()),
        (Err(e), _) => reply(out, "550", e.to_string().as_bytes()),
    }
}
