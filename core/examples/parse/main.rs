//! Run the core's parsers over raw bytes and print one JSON object per event.
//!
//! ```text
//! printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' | cargo run -p portline-core --example parse -- http-request
//! cargo run -p portline-core --example parse -- http-response --method HEAD --chunk 1 response.bin
//! ```
//!
//! Usage: `parse http-request|http-response|line [--chunk N] [--method M] [--max-line N]
//! [--telnet] [FILE]`. Bytes come from FILE or stdin and are fed N at a time (default: all at
//! once), then end of stream. Exit status: 0 when everything was valid, 2 on a protocol error
//! (printed as an `error` event), 64 on a usage error. The output never depends on `--chunk`.
//! All the logic lives in `portline_core::inspect`; this file only does the I/O.

// This is a tool: it reads a file or stdin and writes stdout, which core/src may not do.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::{Read, Write};
use std::process::ExitCode;

use portline_core::http::Config;
use portline_core::inspect::{self, HttpMode, InspectEvent};
use portline_core::line::TelnetMode;

const USAGE: &str = "usage: parse http-request|http-response|line [--chunk N] [--method M] \
                     [--max-line N] [--telnet] [FILE]";

struct Args {
    mode: String,
    chunk: usize,
    method: String,
    max_line: Option<usize>,
    telnet: bool,
    file: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        mode: String::new(),
        chunk: 0,
        method: "GET".into(),
        max_line: None,
        telnet: false,
        file: None,
    };
    let number = |v: Option<String>, flag: &str| -> Result<usize, String> {
        v.ok_or(format!("{flag} needs a value"))?
            .parse()
            .map_err(|e| format!("{flag}: {e}"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--chunk" => args.chunk = number(it.next(), "--chunk")?,
            "--max-line" => args.max_line = Some(number(it.next(), "--max-line")?),
            "--method" => args.method = it.next().ok_or("--method needs a value")?,
            "--telnet" => args.telnet = true,
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ if args.mode.is_empty() => args.mode = a,
            _ if args.file.is_none() => args.file = Some(a),
            _ => return Err(format!("unexpected argument {a}")),
        }
    }
    if args.mode.is_empty() {
        return Err("missing mode".into());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("parse: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(64);
        }
    };
    let mut input = Vec::new();
    let read = match &args.file {
        Some(path) => std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut input)),
        None => std::io::stdin().read_to_end(&mut input),
    };
    if let Err(e) = read {
        eprintln!(
            "parse: reading {}: {e}",
            args.file.as_deref().unwrap_or("stdin")
        );
        return ExitCode::from(66);
    }
    let events: Vec<InspectEvent> = match args.mode.as_str() {
        "http-request" | "http-response" => {
            let mode = if args.mode == "http-request" {
                HttpMode::Request
            } else {
                HttpMode::Response
            };
            if args.max_line.is_some() || args.telnet {
                eprintln!("parse: --max-line and --telnet apply to line mode only");
                return ExitCode::from(64);
            }
            inspect::http_events(mode, &input, args.chunk, &args.method, &Config::default())
        }
        "line" => {
            if args.method != "GET" {
                eprintln!("parse: --method applies to http-response mode only");
                return ExitCode::from(64);
            }
            let mut config = portline_core::line::Config {
                // Without --telnet every byte is data; with it, telnet is on from the first byte.
                telnet: if args.telnet {
                    TelnetMode::On
                } else {
                    TelnetMode::Off
                },
                ..portline_core::line::Config::default()
            };
            if let Some(n) = args.max_line {
                config.max_line = n;
            }
            inspect::line_events(&input, args.chunk, &config)
        }
        other => {
            eprintln!("parse: unknown mode {other}\n{USAGE}");
            return ExitCode::from(64);
        }
    };
    let mut out = std::io::stdout().lock();
    for e in &events {
        if writeln!(out, "{}", e.to_json_line()).is_err() {
            return ExitCode::from(74);
        }
    }
    ExitCode::from(inspect::exit_status(&events) as u8)
}
