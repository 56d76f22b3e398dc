//! The `services` subcommand: getservbyport / getservbyname over `/etc/services` (or the
//! built-in table when it is missing), or over the file `--file` names (which must be readable).
//!
//! ```text
//! $ portline-std services 80 25 53/udp http
//! 80/tcp http
//! 25/tcp smtp
//! 53/udp domain
//! http 80/tcp
//! ```

use std::fmt::Write as _;
use std::io::{self, Write as _};

use crate::cli::message;
use std::path::PathBuf;

use portline_core::services::{Query, Services};

use super::table;

/// Command-line arguments of `services`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Args {
    /// Ports or service names, each optionally with `/tcp` or `/udp` (default tcp).
    #[arg(value_name = "PORT[/PROTO]|NAME[/PROTO]", required = true)]
    pub queries: Vec<String>,
    /// Read this services file instead of /etc/services. A FILE that cannot be read is an error
    /// (exit 1): only /etc/services falls back to the built-in table.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// The answers to `queries`: the text for stdout (one line per query found), the queries not
/// found or malformed with the reason (each an error line on stderr: `PROGRAM: services: QUERY:
/// reason`), and whether every query was found.
pub fn answer(table: &Services, queries: &[String]) -> (String, Vec<(String, String)>, bool) {
    let (mut out, mut err, mut all_found) = (String::new(), Vec::new(), true);
    for q in queries {
        let query = match Query::parse(q) {
            Ok(query) => query,
            Err(e) => {
                all_found = false;
                err.push((q.clone(), e.to_string()));
                continue;
            }
        };
        match (query, table.lookup(query)) {
            (Query::Port { port, proto }, Ok(entry)) => {
                let _ = writeln!(out, "{port}/{proto} {}", entry.name);
            }
            (Query::Name { name, proto }, Ok(entry)) => {
                let _ = writeln!(out, "{name} {}/{proto}", entry.port);
            }
            (Query::Port { port, proto }, Err(e)) => {
                all_found = false;
                err.push((format!("{port}/{proto}"), e.to_string()));
            }
            (Query::Name { name, proto }, Err(e)) => {
                all_found = false;
                err.push((format!("{name}/{proto}"), e.to_string()));
            }
        }
    }
    (out, err, all_found)
}

/// Run `services`; returns the process exit status: 0 when every query was found, 1 otherwise
/// (every query is still answered), 1 at once when `--file` cannot be read.
pub fn run(args: &Args) -> i32 {
    let table = match &args.file {
        None => table::load_default(),
        Some(path) => match table::load_file(path) {
            Ok(t) => t,
            Err(e) => {
                message::error(path.display(), e);
                return 1;
            }
        },
    };
    let (out, err, ok) = answer(&table, &args.queries);
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() != io::ErrorKind::BrokenPipe {
            message::error("stdout", e);
            return 1;
        }
    }
    for (query, reason) in &err {
        message::error(query, reason);
    }
    if ok { 0 } else { 1 }
}
