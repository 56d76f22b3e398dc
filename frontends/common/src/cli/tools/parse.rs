//! The `parse` subcommand: run the core over raw bytes (FILE or stdin), fed N bytes at a time,
//! and print one JSON object per event: the same lines as the core's `parse` example, from the
//! same code (`portline_core::inspect`). Exit status 0 when the input was valid, 2 on a protocol
//! error (printed as an `error` event).
//!
//! ```text
//! $ printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' | portline-std parse http-request
//! {"event":"request","method":"GET","target":"/","version":"1.0","headers":[["Host","x"]]}
//! {"event":"end"}
//! {"event":"closed"}
//! ```

use std::fs::File;
use std::io::{self, Read, Write as _};
use std::path::{Path, PathBuf};

use portline_core::http::Config as HttpConfig;
use portline_core::inspect::{self, HttpMode, InspectEvent};
use portline_core::line::{self, TelnetMode};

/// The most input `parse` reads (64 MiB): more is refused with an error rather than held in
/// memory.
pub const MAX_INPUT: u64 = 64 * 1024 * 1024;

/// What the input bytes are.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bytes a client sends, read by a server connection (each request gets a minimal answer,
    /// so pipelined requests are all read).
    HttpRequest,
    /// Bytes a server sends, read by a client connection that sent `--method` requests.
    HttpResponse,
    /// The line protocol: lines, over-long lines, the end of stream, telnet replies.
    Line,
}

/// Command-line arguments of `parse`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// What the input is.
    #[arg(value_enum)]
    pub mode: Mode,
    /// The input (default: stdin; `-` is stdin too).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Feed the input N bytes at a time (default: all at once). The output does not depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub chunk: usize,
    /// http-response mode: the method of the requests the responses answer (HEAD: no bodies).
    #[arg(long, value_name = "M")]
    pub method: Option<String>,
    /// line mode: the longest line, in bytes (default 8192).
    #[arg(long, value_name = "N")]
    pub max_line: Option<usize>,
    /// line mode: interpret telnet commands from the first byte (and report the refusals).
    #[arg(long)]
    pub telnet: bool,
}

/// The events for `input` as `args` asks, or a usage error (an option of another mode).
pub fn events(args: &Args, input: &[u8]) -> Result<Vec<InspectEvent>, String> {
    match args.mode {
        Mode::HttpRequest | Mode::HttpResponse => {
            if args.max_line.is_some() || args.telnet {
                return Err("--max-line and --telnet apply to line mode only".into());
            }
            let mode = if args.mode == Mode::HttpRequest {
                if args.method.is_some() {
                    return Err("--method applies to http-response mode only".into());
                }
                HttpMode::Request
            } else {
                HttpMode::Response
            };
            let method = args.method.as_deref().unwrap_or("GET");
            if method.is_empty() || !method.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(format!("--method {method:?}: not a method token"));
            }
            Ok(inspect::http_events(
                mode,
                input,
                args.chunk,
                method,
                &HttpConfig::default(),
            ))
        }
        Mode::Line => {
            if args.method.is_some() {
                return Err("--method applies to http-response mode only".into());
            }
            let config = line::Config {
                max_line: args.max_line.unwrap_or(line::DEFAULT_MAX_LINE),
                // As in the core's example: every byte is data unless --telnet.
                telnet: if args.telnet {
                    TelnetMode::On
                } else {
                    TelnetMode::Off
                },
            };
            Ok(inspect::line_events(input, args.chunk, &config))
        }
    }
}

/// Read at most [`MAX_INPUT`] bytes; more is an error.
fn read_input(file: Option<&Path>) -> io::Result<Vec<u8>> {
    let reader: Box<dyn Read> = match file {
        None => Box::new(io::stdin().lock()),
        Some(p) if p == Path::new("-") => Box::new(io::stdin().lock()),
        Some(p) => Box::new(File::open(p)?),
    };
    let mut input = Vec::new();
    reader.take(MAX_INPUT + 1).read_to_end(&mut input)?;
    if input.len() as u64 > MAX_INPUT {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "input larger than 64 MiB",
        ));
    }
    Ok(input)
}

/// Run `parse`; returns the process exit status: 0 valid, 2 protocol error, 1 when the input
/// cannot be read or an option does not fit the mode.
pub fn run(args: &Args) -> i32 {
    let input = match read_input(args.file.as_deref()) {
        Ok(input) => input,
        Err(e) => {
            let name = args
                .file
                .as_ref()
                .map_or_else(|| "stdin".into(), |p| p.display().to_string());
            crate::cli::message::error(name, e);
            return 1;
        }
    };
    let events = match events(args, &input) {
        Ok(events) => events,
        Err(e) => {
            crate::cli::message::error("", e);
            return 1;
        }
    };
    let mut text = String::new();
    for e in &events {
        text.push_str(&e.to_json_line());
        text.push('\n');
    }
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() != io::ErrorKind::BrokenPipe {
            crate::cli::message::error("stdout", e);
            return 1;
        }
    }
    inspect::exit_status(&events)
}
