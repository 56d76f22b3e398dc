//! The command line of `docs/CLI.md`, the same for every binary (only the runtime differs).
//!
//! The doc comments of the argument structs are clap's `--help` text, where `[IPV6]:PORT` is
//! literal, not a rustdoc link.
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::apps::line_service::ServiceKind;
use crate::cli::addr::HostPort;
use crate::cli::tools;

const EXAMPLES: &str = "\
Examples:
  serve http --root site --listen 127.0.0.1:0   serve ./site on a free port
  get -i http://127.0.0.1:8080/                  fetch a page with its head
  serve http --echo                              answer every request with what was parsed
  get https://example.com/                       over TLS (--cacert FILE, -k)
  serve http --tls-self-signed                   HTTPS with a certificate made at start
  serve line --service echo                      an echo service on 127.0.0.1:7070
  connect 127.0.0.1:7070                         talk to it (stdin lines, Ctrl-D to end)
  services 80 53/udp http                        look up services
  netstat -tl                                    listening TCP sockets
  bench -c 50 -d 5 http://127.0.0.1:8080/        load test: 50 connections for 5 s";

/// portline: an HTTP/1.0 file server and client, line services (echo, daytime, chargen,
/// discard, an info service) and a few network tools, over a sans-IO protocol core.
#[derive(Parser, Debug)]
#[command(
    version,
    propagate_version = true,
    arg_required_else_help = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a server: `serve http` (a file server) or `serve line` (line services).
    #[command(subcommand)]
    Serve(Serve),
    /// Send one HTTP/1.0 request and print the response body (like curl).
    Get(GetArgs),
    /// Interactive line client (like telnet or nc): stdin lines to the peer, its bytes to stdout.
    Connect(ConnectArgs),
    /// Look up service names by port and ports by name (/etc/services or a built-in table).
    Services(tools::services::Args),
    /// Print the host name and all of its addresses (IPv4 and IPv6), loopback ones marked.
    Info(tools::info::Args),
    /// List this machine's TCP and UDP sockets from /proc/net (like `netstat -tuna`).
    Netstat(tools::netstat::Args),
    /// Run the protocol core over raw bytes (FILE or stdin) and print one JSON object per event.
    Parse(tools::parse::Args),
    /// HTTP load generator (like wrk; -R paces like wrk2): keep-alive connections send GET
    /// requests for SECS seconds, then a report of requests/s, latency percentiles, status
    /// classes and errors.
    Bench(BenchArgs),
    /// Print the shell completion script for this binary (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print this binary's manual page (roff) to stdout, e.g. `manpage > portline-mio.1`.
    Manpage,
}

/// `completions` options.
#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The servers.
#[derive(Subcommand, Debug)]
pub enum Serve {
    /// Serve a folder over HTTP/1.0: GET and HEAD, index.html or a directory listing (sortable
    /// with ?sort=name|size|time), Content-Type by extension, ETag and Last-Modified with
    /// conditional requests (304, 412), byte ranges (206, 416), precompressed FILE.br/.zst/.gz,
    /// keep-alive, no dotfiles unless --hidden, and never a byte from outside the folder. Files
    /// of at most 16 KiB are kept in memory for up to a second (an edit shows within one).
    /// Other methods get 405 at their head, without waiting for a body. One Common Log Format line
    /// per answer on stderr (503 refusals included), with the body bytes actually sent.
    /// SIGINT/SIGTERM: stop accepting, finish responses in flight, exit 0. With --echo: no
    /// files, every request answered with JSON of what was parsed.
    Http(HttpArgs),
    /// Line services over TCP or UDP: info (a command service: HELP, ECHO, HOST, SERVICE, TIME,
    /// QUIT), echo (RFC 862), discard (RFC 863), daytime (RFC 867), chargen (RFC 864).
    Line(LineArgs),
}

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Parse a number of seconds (fractions allowed, e.g. `0.5`).
fn parse_secs(s: &str) -> Result<std::time::Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !v.is_finite() || !(0.0..=86_400.0 * 365.0).contains(&v) {
        return Err(format!("`{s}`: seconds must be between 0 and a year"));
    }
    Ok(std::time::Duration::from_secs_f64(v))
}

/// Parse a timeout: seconds as for [`parse_secs`], but more than 0. A timeout of 0 would close
/// every connection the moment it opens; to turn keep-alive off, clients send `Connection: close`.
fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_secs(s)?;
    if d.is_zero() {
        return Err(
            "must be more than 0 (a 0 s timeout would close every connection at once)".into(),
        );
    }
    Ok(d)
}

/// The most `--threads`: far past any useful count (one per core), yet low enough that the
/// threads, their event loops and listeners always fit the process's limits.
pub const MAX_THREADS: usize = 256;

fn parse_threads(s: &str) -> Result<usize, String> {
    let n = parse_positive(s)?;
    if n > MAX_THREADS {
        return Err(format!(
            "at most {MAX_THREADS} (one per core is the useful most; this machine has {})",
            default_threads()
        ));
    }
    Ok(n)
}

fn parse_positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a positive whole number")),
    }
}

/// `serve http` options.
#[derive(Args, Debug, Clone)]
pub struct HttpArgs {
    /// Address to listen on: HOST:PORT, [IPV6]:PORT, a service name as the port
    /// (localhost:http); port 0 lets the system choose (the ready line on stderr tells which).
    #[arg(
        long,
        short = 'l',
        value_name = "ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: HostPort,
    /// The folder to serve.
    #[arg(long, short = 'r', value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// Worker threads or event loops, 1 to 256; default one per core (the std runtime uses a
    /// thread per connection instead).
    #[arg(long, short = 't', value_name = "N", default_value_t = default_threads(), value_parser = parse_threads)]
    pub threads: usize,
    /// Most connections open at once; further ones get a 503 and are closed. Default: what the
    /// open-files limit holds (raised to its hard limit at start), a socket and a file per
    /// connection after 64 kept back: 9,968 for a limit of 20,000.
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub max_connections: Option<usize>,
    /// Seconds a request head may take to arrive, from its first byte (then a close without an
    /// answer, logged 408, as nginx does); more than 0.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_timeout)]
    pub header_timeout: std::time::Duration,
    /// Seconds an idle kept-alive connection stays open after an answer; more than 0. Default
    /// 5, Apache's KeepAliveTimeout.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_timeout)]
    pub idle_timeout: std::time::Duration,
    /// Seconds a new connection may stay silent before its first byte (then it is closed
    /// without a word); more than 0. Default 20, the first stage of Apache's mod_reqtimeout
    /// (header=20-40), made against slowloris.
    #[arg(long, value_name = "SECS", default_value = "20", value_parser = parse_timeout)]
    pub first_byte_timeout: std::time::Duration,
    /// Seconds a request body may stall between two reads (then 408, or a close once the
    /// answer has started); more than 0. Default 60, nginx's client_body_timeout.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_timeout)]
    pub body_timeout: std::time::Duration,
    /// No access log.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Behind a balancer: end each access-log line with `forwarded-for=IP`, the left-most
    /// (original client) address of the request's X-Forwarded-For, or `forwarded-for=-` when
    /// there is none or it is not an address. Only logged: the peer stays the first field, and
    /// nothing else trusts the header.
    #[arg(long, conflicts_with = "quiet")]
    pub log_forwarded: bool,
    /// Serve no files: answer every request with JSON of what the parser saw (method, uri,
    /// version, headers in order as [name, value] pairs, body up to 1 MiB). `json`: strings,
    /// {"base64": ...} where not UTF-8; `garden`: every value base64 (http-garden's shape).
    #[arg(
        long,
        value_name = "FORMAT",
        value_enum,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "json",
        conflicts_with = "root"
    )]
    pub echo: Option<crate::apps::echo::EchoFormat>,
    /// Serve and list dotfiles (names starting with `.`). Without it they are not found and
    /// not listed (a served folder is often a git checkout), except `.well-known/`.
    #[arg(long)]
    pub hidden: bool,
    /// Add a header field to every response, 'Name: value' (repeatable, at most 32), e.g.
    /// 'Cache-Control: max-age=3600'.
    #[arg(long = "header", short = 'H', value_name = "HEADER", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Open CORS: `Access-Control-Allow-Origin: *` on every response, and OPTIONS preflights
    /// answered (204, methods GET, HEAD, OPTIONS, the asked headers, max-age one day).
    #[arg(long)]
    pub cors: bool,
    /// Send FILE (read once, at start; at most 1 MiB) as the body of every 404.
    #[arg(long = "404", value_name = "FILE")]
    pub not_found: Option<PathBuf>,
    /// Single-page app: a missing path whose last segment has no extension (/users/42) gets
    /// /index.html with 200; missing /app.js is still a 404.
    #[arg(long)]
    pub spa: bool,
    /// HTTPS: --tls, --tls-cert, --tls-key, --tls-self-signed.
    #[command(flatten)]
    pub tls: crate::apps::tls::cli::ServeTlsArgs,
}

/// `serve line` options.
#[derive(Args, Debug, Clone)]
pub struct LineArgs {
    /// Address to listen on: HOST:PORT, [IPV6]:PORT, or a service name as the port.
    #[arg(
        long,
        short = 'l',
        value_name = "ADDR",
        default_value = "127.0.0.1:7070"
    )]
    pub listen: HostPort,
    /// Serve over UDP (one datagram in, at most one out) instead of TCP.
    #[arg(long, short = 'u')]
    pub udp: bool,
    /// The service to run.
    #[arg(long, short = 's', value_enum, default_value_t = ServiceKind::Info)]
    pub service: ServiceKind,
    /// Telnet mode (RFC 854): refuse option negotiation and handle IAC sequences; echo then
    /// works line by line. Off by default: every service treats 0xFF as a data byte.
    #[arg(long)]
    pub telnet: bool,
    /// Most connections open at once (TCP). Default: derived from the open-files limit, as for
    /// `serve http`.
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub max_connections: Option<usize>,
    /// TLS (TCP only): --tls, --tls-cert, --tls-key, --tls-self-signed.
    #[command(flatten)]
    pub tls: crate::apps::tls::cli::ServeTlsArgs,
}

/// Parse `Name: value`.
fn parse_header(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}`: expected 'Name: value'"))?;
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(tchar) {
        return Err(format!("`{name}` is not a valid header name"));
    }
    let value = value.trim();
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err("a header value cannot contain CR, LF or NUL".into());
    }
    Ok((name.to_string(), value.to_string()))
}

fn parse_method(s: &str) -> Result<String, String> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if s.is_empty() || !s.bytes().all(tchar) {
        return Err(format!("`{s}` is not a valid method"));
    }
    Ok(s.to_string())
}

fn parse_write_out(s: &str) -> Result<String, String> {
    crate::apps::get::report::check_format(s)
}

/// A redirect limit; curl's -1 is no limit.
fn parse_max_redirs(s: &str) -> Result<u32, String> {
    match s {
        "-1" => Ok(u32::MAX),
        _ => s
            .parse()
            .map_err(|_| format!("`{s}` is not a number of redirects (or -1: no limit)")),
    }
}

fn parse_continue_at(s: &str) -> Result<bool, String> {
    match s {
        "-" => Ok(true),
        _ => Err(format!(
            "`{s}`: only `-C -` (resume from the output file's length) is supported"
        )),
    }
}

/// `get` options.
#[derive(Args, Debug, Clone)]
#[command(after_help = crate::apps::get::EXIT_CODES)]
pub struct GetArgs {
    /// The URL: http://HOST[:PORT]/PATH or https://HOST[:PORT]/PATH (a missing scheme means
    /// http://).
    pub url: String,
    /// Print the status line and header fields before the body.
    #[arg(short = 'i', long = "include")]
    pub include: bool,
    /// Send HEAD and print the status line and header fields.
    #[arg(short = 'I', long = "head", conflicts_with_all = ["data", "upload"])]
    pub head: bool,
    /// The request method (default GET; POST with -d; PUT with -T).
    #[arg(short = 'X', long = "request", value_name = "METHOD", value_parser = parse_method)]
    pub method: Option<String>,
    /// An extra header field, 'Name: value' (repeatable; replaces Host, User-Agent or Accept).
    #[arg(short = 'H', long = "header", value_name = "HEADER", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Send DATA as the request body (with Content-Length and a form Content-Type); @FILE sends
    /// a file, @- stdin, streamed and sent as they are (like curl's --data-binary).
    #[arg(
        short = 'd',
        long = "data",
        visible_alias = "data-binary",
        value_name = "DATA",
        conflicts_with = "upload"
    )]
    pub data: Option<String>,
    /// Upload FILE with PUT (- for stdin), streamed; a URL ending in / gets the file's name.
    #[arg(short = 'T', long = "upload-file", value_name = "FILE")]
    pub upload: Option<PathBuf>,
    /// Write the body to FILE instead of stdout (a progress bar shows on a terminal). FILE is
    /// replaced only when the transfer succeeds: a failure leaves an existing FILE as it was.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the request and response heads on stderr (`> ` and `< ` lines), and for
    /// https:// the TLS version, cipher suite and the server certificate (`* ` lines).
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Follow redirects (301, 302, 303 as GET without a body; 307, 308 as they were). Another
    /// host or port gets no Authorization, Cookie or custom Host.
    #[arg(short = 'L', long = "location")]
    pub location: bool,
    /// Follow at most N redirects with -L (then exit 13); -1: no limit but a loop.
    #[arg(
        long = "max-redirs",
        value_name = "N",
        default_value_t = crate::apps::get::redirect::MAX_REDIRS,
        value_parser = parse_max_redirs,
        allow_negative_numbers = true
    )]
    pub max_redirs: u32,
    /// Seconds connecting may take (then exit 9); 0: the system's own limit.
    #[arg(long = "connect-timeout", value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    pub connect_timeout: std::time::Duration,
    /// Seconds the whole transfer may take, redirects included (then exit 12); 0: no limit.
    #[arg(short = 'm', long = "max-time", value_name = "SECS", value_parser = parse_secs)]
    pub max_time: Option<std::time::Duration>,
    /// Seconds the server may stay silent, before the response or within it (then exit 12);
    /// 0: no limit.
    #[arg(long = "read-timeout", value_name = "SECS", default_value = "300", value_parser = parse_secs)]
    pub read_timeout: std::time::Duration,
    /// No body output for a 4xx or 5xx: an error message instead, and FILE left alone.
    #[arg(short = 'f', long = "fail")]
    pub fail: bool,
    /// No progress bar and no error messages.
    #[arg(short = 's', long = "silent")]
    pub silent: bool,
    /// With -s, still print error messages.
    #[arg(short = 'S', long = "show-error")]
    pub show_error: bool,
    /// Print FORMAT on stdout after the transfer: %{http_code} %{size_download} %{time_total}
    /// %{time_connect} %{time_starttransfer} %{url_effective} %{num_redirects} %{exitcode},
    /// or %{json} for all; \n, \t and %% as in curl.
    #[arg(short = 'w', long = "write-out", value_name = "FORMAT", value_parser = parse_write_out)]
    pub write_out: Option<String>,
    /// Resume -o FILE from its length with a Range request; OFFSET must be `-` (206 appends; a
    /// 200 starts again; 416 means it is complete).
    #[arg(
        short = 'C',
        long = "continue-at",
        value_name = "OFFSET",
        value_parser = parse_continue_at,
        requires = "output",
        allow_hyphen_values = true
    )]
    pub continue_at: Option<bool>,
    /// Ask for a compressed body (Accept-Encoding: br, gzip, deflate) and decode it.
    #[arg(long = "compressed")]
    pub compressed: bool,
    /// For https://: --cacert FILE, -k/--insecure.
    #[command(flatten)]
    pub tls: crate::apps::tls::cli::ClientTlsArgs,
}

/// `connect` options.
#[derive(Args, Debug, Clone)]
pub struct ConnectArgs {
    /// The peer: HOST:PORT, [IPV6]:PORT, or a service name as the port (localhost:echo).
    pub addr: HostPort,
    /// Use UDP: each stdin line is one datagram.
    #[arg(long, short = 'u')]
    pub udp: bool,
    /// End the lines sent with CRLF instead of LF.
    #[arg(long, short = 'C')]
    pub crlf: bool,
    /// Speak TLS to the peer (like `openssl s_client`), verifying its certificate for HOST.
    #[arg(long, conflicts_with = "udp")]
    pub tls: bool,
    /// With --tls: --cacert FILE, -k/--insecure.
    #[command(flatten)]
    pub tls_trust: crate::apps::tls::cli::ClientTlsArgs,
}

/// Parse a request rate (`-R`): requests per second in total, more than 0.
fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1e9 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a rate: requests per second, more than 0"
        )),
    }
}

/// The most `bench -c`: more connections than one process can open under any usual limit.
pub const MAX_BENCH_CONNECTIONS: usize = 1_000_000;

fn parse_connections(s: &str) -> Result<usize, String> {
    let n = parse_positive(s)?;
    if n > MAX_BENCH_CONNECTIONS {
        return Err(format!("at most {MAX_BENCH_CONNECTIONS}"));
    }
    Ok(n)
}

/// The most `--pipeline`: wrk's pipeline scripts use 16; more only fills the server's buffer.
pub const MAX_PIPELINE: usize = 1024;

fn parse_pipeline(s: &str) -> Result<usize, String> {
    let n = parse_positive(s)?;
    if n > MAX_PIPELINE {
        return Err(format!("at most {MAX_PIPELINE}"));
    }
    Ok(n)
}

/// `bench` options; defaults are wrk's (`-c 10 -d 10 -t 2`, 2 s timeout).
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// The URL: http://HOST[:PORT]/PATH (the http:// may be left out; https is not supported).
    pub url: String,
    /// Connections kept open (each reconnects after a close); at least -t.
    #[arg(short = 'c', long = "connections", value_name = "CONNS", default_value = "10", value_parser = parse_connections)]
    pub connections: usize,
    /// How long to send requests, in seconds (fractions allowed).
    #[arg(short = 'd', long = "duration", value_name = "SECS", default_value = "10", value_parser = parse_timeout)]
    pub duration: std::time::Duration,
    /// Threads (event loops), 1 to 256; the connections are shared among them (the std
    /// runtime uses a thread per connection instead).
    #[arg(short = 't', long = "threads", value_name = "THREADS", default_value = "2", value_parser = parse_threads)]
    pub threads: usize,
    /// Send RATE requests per second in total, at constant pace, and count each latency from
    /// the request's intended send time (coordinated omission corrected, as wrk2). Without
    /// it, each connection sends its next request as soon as the response has arrived.
    #[arg(short = 'R', long = "rate", value_name = "RATE", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Requests in flight per connection (HTTP pipelining), 1 to 1024.
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_pipeline)]
    pub pipeline: usize,
    /// An extra header field, 'Name: value' (repeatable; a Host field replaces the default).
    #[arg(short = 'H', long = "header", value_name = "HEADER", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Seconds to wait for a response before counting a timeout and reconnecting (wrk: 2).
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// Add the latency distribution (50% to 100%, finer than the default percentiles).
    #[arg(long)]
    pub latency: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_http_defaults_match_cli_md() {
        let cli = Cli::try_parse_from(["p", "serve", "http"]).unwrap();
        let Command::Serve(Serve::Http(a)) = cli.command else {
            panic!("not serve http")
        };
        assert_eq!(a.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(a.root, PathBuf::from("."));
        assert_eq!(a.threads, default_threads());
        assert_eq!(a.max_connections, None);
        assert_eq!(a.header_timeout.as_secs(), 10);
        assert_eq!(a.idle_timeout.as_secs(), 5);
        assert_eq!(a.first_byte_timeout.as_secs(), 20);
        assert_eq!(a.body_timeout.as_secs(), 60);
        assert!(!a.quiet && !a.hidden && !a.cors && !a.spa);
        assert!(a.headers.is_empty() && a.not_found.is_none());
        assert_eq!(a.echo, None);
    }

    #[test]
    fn serve_http_echo_takes_an_optional_format() {
        use crate::apps::echo::EchoFormat;
        let echo = |args: &[&str]| {
            let cli = Cli::try_parse_from(args).unwrap();
            let Command::Serve(Serve::Http(a)) = cli.command else {
                panic!("not serve http")
            };
            a.echo
        };
        assert_eq!(
            echo(&["p", "serve", "http", "--echo"]),
            Some(EchoFormat::Json)
        );
        assert_eq!(
            echo(&["p", "serve", "http", "--echo=garden", "-q"]),
            Some(EchoFormat::Garden)
        );
        for bad in [
            &["p", "serve", "http", "--echo=xml"][..],
            &["p", "serve", "http", "--echo", "--root", "."],
        ] {
            assert_eq!(Cli::try_parse_from(bad).unwrap_err().exit_code(), 2);
        }
    }

    #[test]
    fn serve_http_takes_header_options() {
        let cli = Cli::try_parse_from([
            "p",
            "serve",
            "http",
            "--header",
            "Cache-Control: no-store",
            "-H",
            "X-Frame-Options:DENY",
            "--cors",
            "--404",
            "404.html",
            "--spa",
            "--hidden",
        ])
        .unwrap();
        let Command::Serve(Serve::Http(a)) = cli.command else {
            panic!("not serve http")
        };
        assert_eq!(
            a.headers,
            vec![
                ("Cache-Control".to_string(), "no-store".to_string()),
                ("X-Frame-Options".to_string(), "DENY".to_string())
            ]
        );
        assert!(a.cors && a.spa && a.hidden);
        assert_eq!(a.not_found, Some(PathBuf::from("404.html")));
    }

    #[test]
    fn serve_line_defaults_match_cli_md() {
        let cli = Cli::try_parse_from(["p", "serve", "line"]).unwrap();
        let Command::Serve(Serve::Line(a)) = cli.command else {
            panic!("not serve line")
        };
        assert_eq!(a.listen.to_string(), "127.0.0.1:7070");
        assert_eq!(a.service, ServiceKind::Info);
        assert!(!a.udp && !a.telnet);
    }

    #[test]
    fn get_takes_curl_like_flags() {
        let cli = Cli::try_parse_from([
            "p",
            "get",
            "http://[::1]:8080/x",
            "-i",
            "-X",
            "PUT",
            "-H",
            "X-A: 1",
            "-H",
            "Accept:text/plain",
            "-d",
            "body",
            "-o",
            "out.bin",
            "-v",
        ])
        .unwrap();
        let Command::Get(a) = cli.command else {
            panic!("not get")
        };
        assert!(a.include && a.verbose && !a.head);
        assert_eq!(a.method.as_deref(), Some("PUT"));
        assert_eq!(
            a.headers,
            vec![
                ("X-A".to_string(), "1".to_string()),
                ("Accept".to_string(), "text/plain".to_string())
            ]
        );
        assert_eq!(a.data.as_deref(), Some("body"));
    }

    #[test]
    fn get_takes_curls_transfer_flags() {
        let cli = Cli::try_parse_from([
            "p",
            "get",
            "-L",
            "--max-redirs",
            "3",
            "--connect-timeout",
            "2.5",
            "-m",
            "60",
            "-fsS",
            "-w",
            "%{http_code}\\n",
            "-C",
            "-",
            "-o",
            "f",
            "--compressed",
            "http://x/",
        ])
        .unwrap();
        let Command::Get(a) = cli.command else {
            panic!("not get")
        };
        assert!(a.location && a.fail && a.silent && a.show_error && a.compressed);
        assert_eq!(a.max_redirs, 3);
        assert_eq!(a.connect_timeout.as_millis(), 2500);
        assert_eq!(a.max_time.map(|d| d.as_secs()), Some(60));
        assert_eq!(a.read_timeout.as_secs(), 300);
        assert_eq!(a.continue_at, Some(true));
        let d = Cli::try_parse_from(["p", "get", "http://x/"]).unwrap();
        let Command::Get(d) = d.command else {
            panic!("not get")
        };
        assert_eq!(d.max_redirs, crate::apps::get::redirect::MAX_REDIRS);
        assert_eq!(d.connect_timeout, crate::apps::get::CONNECT_TIMEOUT);
        assert_eq!(d.read_timeout, crate::apps::get::READ_TIMEOUT);
        assert_eq!(d.max_time, None);
        let u = Cli::try_parse_from(["p", "get", "--max-redirs", "-1", "http://x/"]).unwrap();
        let Command::Get(u) = u.command else {
            panic!("not get")
        };
        assert_eq!(u.max_redirs, u32::MAX);
    }

    #[test]
    fn bench_defaults_are_wrks() {
        let cli = Cli::try_parse_from(["p", "bench", "http://127.0.0.1:8080/"]).unwrap();
        let Command::Bench(a) = cli.command else {
            panic!("not bench")
        };
        assert_eq!((a.connections, a.threads, a.pipeline), (10, 2, 1));
        assert_eq!(a.duration.as_secs(), 10);
        assert_eq!(a.timeout.as_secs(), 2);
        assert_eq!(a.rate, None);
        assert!(!a.json && !a.latency && a.headers.is_empty());
        let cli = Cli::try_parse_from([
            "p",
            "bench",
            "127.0.0.1:80/x",
            "-c",
            "50",
            "-d",
            "1.5",
            "-t",
            "1",
            "-R",
            "2000",
            "--pipeline",
            "4",
            "-H",
            "Accept: */*",
            "--json",
            "--latency",
        ])
        .unwrap();
        let Command::Bench(a) = cli.command else {
            panic!("not bench")
        };
        assert_eq!((a.connections, a.threads, a.pipeline), (50, 1, 4));
        assert_eq!(a.duration.as_millis(), 1500);
        assert_eq!(a.rate, Some(2000.0));
        assert_eq!(a.headers, vec![("Accept".to_string(), "*/*".to_string())]);
        assert!(a.json && a.latency);
    }

    #[test]
    fn tls_flags_parse_as_curl_and_the_server_docs_say() {
        let cli = Cli::try_parse_from([
            "p",
            "get",
            "https://x/",
            "--cacert",
            "a",
            "--cacert",
            "b",
            "-k",
        ])
        .unwrap();
        let Command::Get(a) = cli.command else {
            panic!("not get")
        };
        assert_eq!(a.tls.cacert, [PathBuf::from("a"), PathBuf::from("b")]);
        assert!(a.tls.insecure);
        let cli = Cli::try_parse_from(["p", "serve", "http", "--tls-cert", "c", "--tls-key", "k"])
            .unwrap();
        let Command::Serve(Serve::Http(a)) = cli.command else {
            panic!("not serve http")
        };
        assert!(matches!(
            a.tls.cert(),
            Some(crate::apps::tls::server::ServerCert::Files { .. })
        ));
        for flag in ["--tls", "--tls-self-signed"] {
            let cli = Cli::try_parse_from(["p", "serve", "line", flag]).unwrap();
            let Command::Serve(Serve::Line(a)) = cli.command else {
                panic!("not serve line")
            };
            assert!(matches!(
                a.tls.cert(),
                Some(crate::apps::tls::server::ServerCert::SelfSigned(_))
            ));
        }
        let cli = Cli::try_parse_from(["p", "serve", "http"]).unwrap();
        let Command::Serve(Serve::Http(a)) = cli.command else {
            panic!("not serve http")
        };
        assert!(a.tls.cert().is_none(), "plain TCP by default");
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        let bad: &[&[&str]] = &[
            &["p", "serve", "http", "--listen", "nohost"],
            &["p", "serve", "http", "--threads", "0"],
            &["p", "serve", "http", "--threads", "100000"],
            &["p", "serve", "http", "--idle-timeout", "0"],
            &["p", "serve", "http", "--first-byte-timeout", "0"],
            &["p", "serve", "http", "--body-timeout", "0"],
            &["p", "serve", "http", "--body-timeout", "-1"],
            &["p", "serve", "http", "--header-timeout", "0"],
            &["p", "serve", "http", "--header-timeout", "soon"],
            &["p", "serve", "http", "--header", "no colon"],
            &["p", "serve", "http", "--header", "Bad Name: x"],
            &["p", "serve", "line", "--service", "gopher"],
            &["p", "get", "http://x/", "-H", "no colon"],
            &["p", "get", "http://x/", "-X", "GE T"],
            &["p", "get", "http://x/", "-C", "-"],
            &["p", "get", "http://x/", "-C", "100", "-o", "f"],
            &["p", "get", "http://x/", "-w", "%{nope}"],
            &["p", "get", "http://x/", "--max-redirs", "-2"],
            &["p", "get", "http://x/", "-d", "a", "-T", "f"],
            &["p", "get", "http://x/", "-I", "-d", "a"],
            &["p", "connect", "localhost"],
            &["p", "serve", "http", "--tls-cert", "c.pem"],
            &["p", "serve", "http", "--tls-key", "k.pem"],
            &[
                "p",
                "serve",
                "line",
                "--tls-self-signed",
                "--tls-cert",
                "c",
                "--tls-key",
                "k",
            ],
            &["p", "connect", "--tls", "--udp", "localhost:7"],
            &["p", "frobnicate"],
            &["p", "bench"],
            &["p", "bench", "http://x/", "-c", "0"],
            &["p", "bench", "http://x/", "-d", "0"],
            &["p", "bench", "http://x/", "-t", "0"],
            &["p", "bench", "http://x/", "-R", "0"],
            &["p", "bench", "http://x/", "-R", "fast"],
            &["p", "bench", "http://x/", "--pipeline", "0"],
            &["p", "bench", "http://x/", "--pipeline", "5000"],
            &["p", "bench", "http://x/", "-H", "bad"],
        ];
        for args in bad {
            let e = Cli::try_parse_from(*args).expect_err(&args.join(" "));
            assert_eq!(e.exit_code(), 2, "{}", args.join(" "));
        }
    }
}
