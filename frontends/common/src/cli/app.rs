//! `main` for every binary: parse the command line, build the app for the subcommand, and hand
//! the sockets to the runtime.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::FromArgMatches;
#[cfg(test)]
use clap::Parser;
use portline_core::http::Config;

use crate::apps::echo::{EchoOptions, EchoServer};
use crate::apps::get::body::Source;
use crate::apps::get::{self, GetCommand};
use crate::apps::http_server::{FileServer, FileServerOptions};
use crate::apps::line_service::{self, LineOptions};
use crate::cli::args::{Cli, Command, HttpArgs, LineArgs, Serve};
use crate::cli::message;
use crate::cli::tools;
use crate::driver::runtime::{ClientError, Runtime, ServerOptions};
use crate::driver::session::SessionFactory;

/// How long responses in flight may take after SIGINT/SIGTERM.
pub const GRACE: Duration = Duration::from_secs(5);

/// The longest line a line service accepts (docs/LINE.md: 8 KiB).
pub const MAX_LINE: usize = 8 * 1024;

/// Run the command line of `docs/CLI.md` on `rt` with the process's arguments; returns the exit
/// status. A binary's whole `main` is `std::process::exit(portline_common::main(MyRuntime))`.
pub fn main<R: Runtime>(rt: R) -> i32 {
    main_from(rt, std::env::args_os())
}

/// [`main`] with explicit arguments (the first one is the program name).
pub fn main_from<R: Runtime, I, T>(rt: R, args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    crate::driver::clock::origin();
    let name = rt.name();
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let cli = match crate::cli::meta::command(name)
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // A usage error (exit 2): the first line in the format of every message.
            message::set_context(name, command_in(&args));
            message::usage_error(&e.render().to_string());
            return e.exit_code();
        }
        Err(e) => {
            // --help and --version print to stdout and exit 0.
            let _ = e.print();
            return e.exit_code();
        }
    };
    message::set_context(name, command_name(&cli.command));
    match cli.command {
        Command::Serve(Serve::Http(a)) => serve_http(&rt, &a),
        Command::Serve(Serve::Line(a)) => serve_line(&rt, &a),
        Command::Get(a) => get::run(&rt, &get_command(a)),
        Command::Connect(a) => {
            let addr = match resolve(&a.addr) {
                Some(addr) => addr,
                None => return 1,
            };
            if a.tls {
                return crate::apps::tls::connect::run(&rt, &a.addr, addr, a.crlf, &a.tls_trust);
            }
            match crate::apps::connect::run(addr, a.udp, a.crlf) {
                Ok(()) => 0,
                Err(e) => {
                    client_error(&e, addr, &a.addr.host);
                    1
                }
            }
        }
        Command::Services(a) => tools::services::run(&a),
        Command::Info(a) => tools::info::run(&a),
        Command::Netstat(a) => tools::netstat::run(&a),
        Command::Parse(a) => tools::parse::run(&a),
        Command::Completions(a) => crate::cli::meta::completions(name, a.shell),
        Command::Manpage => crate::cli::meta::manpage(name),
        Command::Bench(a) => crate::apps::bench::run(&rt, &a),
    }
}

/// The subcommand as messages name it.
fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Serve(Serve::Http(_)) => "serve http",
        Command::Serve(Serve::Line(_)) => "serve line",
        Command::Get(_) => "get",
        Command::Connect(_) => "connect",
        Command::Services(_) => "services",
        Command::Info(_) => "info",
        Command::Netstat(_) => "netstat",
        Command::Parse(_) => "parse",
        Command::Completions(_) => "completions",
        Command::Manpage => "manpage",
        Command::Bench(_) => "bench",
    }
}

/// The subcommand of a command line that did not parse, as far as it can be told (the first
/// word that is a subcommand, and for `serve` the next one); "" when there is none.
fn command_in(args: &[std::ffi::OsString]) -> &'static str {
    const COMMANDS: [&str; 10] = [
        "get",
        "connect",
        "services",
        "info",
        "netstat",
        "parse",
        "completions",
        "manpage",
        "bench",
        "serve",
    ];
    let words: Vec<&str> = args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .filter(|a| !a.starts_with('-'))
        .take(2)
        .collect();
    match words.as_slice() {
        ["serve", "http", ..] => "serve http",
        ["serve", "line", ..] => "serve line",
        [first, ..] => COMMANDS.into_iter().find(|c| c == first).unwrap_or(""),
        [] => "",
    }
}

/// The first address of `hp` (what a server binds to and `connect` tries), or `None` with the
/// error written (`resolve: HOST: cause`).
fn resolve(hp: &crate::cli::addr::HostPort) -> Option<SocketAddr> {
    match hp.resolve_first() {
        Ok(addr) => Some(addr),
        Err(e) => {
            message::error("resolve", format_args!("{}: {e}", hp.host));
            None
        }
    }
}

/// A client failure as a message: the stage, then the address with its family, then the cause:
/// `connect: 127.0.0.1:1 (IPv4): Connection refused`.
pub(crate) fn client_error(e: &ClientError, addr: SocketAddr, host: &str) {
    let (stage, cause) = match e {
        ClientError::Connect(e) => ("connect", e),
        ClientError::Send(e) => ("send", e),
        ClientError::Receive(e) => ("receive", e),
    };
    message::error(
        stage,
        format_args!("{}: {cause}", message::addr(addr, Some(host))),
    );
}

/// The `get` command line as the client takes it.
fn get_command(a: crate::cli::args::GetArgs) -> GetCommand {
    GetCommand {
        url: a.url,
        method: a.method,
        headers: a.headers,
        data: a.data.as_deref().map(Source::from_data_arg),
        upload: a.upload.as_deref().map(Source::from_upload_arg),
        include: a.include,
        head: a.head,
        output: a.output,
        verbose: a.verbose,
        location: a.location,
        max_redirs: a.max_redirs,
        // 0 is no limit, as in curl.
        connect_timeout: Some(a.connect_timeout).filter(|d| !d.is_zero()),
        max_time: a.max_time.filter(|d| !d.is_zero()),
        read_timeout: Some(a.read_timeout).filter(|d| !d.is_zero()),
        fail: a.fail,
        silent: a.silent,
        show_error: a.show_error,
        write_out: a.write_out,
        resume: a.continue_at.unwrap_or(false),
        compressed: a.compressed,
        tls: a.tls,
    }
}

/// The line a server prints on stderr once it accepts: `listening on http://127.0.0.1:8080/`.
pub fn ready_line(scheme: &str, addr: SocketAddr) -> String {
    let slash = if scheme.starts_with("http") { "/" } else { "" };
    format!("listening on {scheme}://{addr}{slash}")
}

fn announce(scheme: &'static str) -> impl FnMut(SocketAddr) {
    move |addr| crate::apps::log::emit(&ready_line(scheme, addr))
}

/// `--max-connections`, or the default the open-files limit holds once raised to its hard limit
/// (`fdlimit`). The limit is raised either way, so an explicit value can be reached.
fn max_connections(flag: Option<usize>) -> usize {
    let nofile = crate::driver::fdlimit::raise_open_files_limit();
    flag.unwrap_or_else(|| crate::driver::fdlimit::default_max_connections(nofile))
}

fn serve_http<R: Runtime>(rt: &R, a: &HttpArgs) -> i32 {
    let Some(listen) = resolve(&a.listen) else {
        return 1;
    };
    let mut config = Config::default();
    config.limits.head_timeout = a.header_timeout;
    config.limits.idle_timeout = a.idle_timeout;
    config.limits.first_byte_timeout = a.first_byte_timeout;
    config.limits.body_timeout = a.body_timeout;
    let server: Arc<dyn SessionFactory> = if let Some(format) = a.echo {
        Arc::new(EchoServer::new(EchoOptions {
            format,
            quiet: a.quiet,
            log_forwarded: a.log_forwarded,
            config,
        }))
    } else {
        match FileServer::new(FileServerOptions {
            root: a.root.clone(),
            quiet: a.quiet,
            log_forwarded: a.log_forwarded,
            config,
            hidden: a.hidden,
            headers: a.headers.clone(),
            cors: a.cors,
            not_found: a.not_found.clone(),
            spa: a.spa,
        }) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                message::error("", e);
                return 1;
            }
        }
    };
    let opts = ServerOptions {
        listen,
        threads: a.threads,
        max_connections: max_connections(a.max_connections),
        grace: GRACE,
    };
    let tls = a.tls.wrap(
        server,
        a.header_timeout,
        crate::apps::tls::server::ALPN_HTTP,
        Some(crate::apps::tls::server::plain_http_reply()),
    );
    let (factory, scheme) = match tls {
        Ok((factory, tls)) => (factory, if tls { "https" } else { "http" }),
        Err(e) => {
            message::error("", e);
            return 1;
        }
    };
    match rt.serve_tcp(&opts, factory, &mut announce(scheme)) {
        Ok(()) => 0,
        Err(e) => {
            listen_error(listen, &a.listen.host, &e);
            1
        }
    }
}

/// `listen 127.0.0.1:8080 (IPv4): Address already in use`.
fn listen_error(listen: SocketAddr, host: &str, e: &std::io::Error) {
    message::error(
        format_args!("listen {}", message::addr(listen, Some(host))),
        e,
    );
}

fn serve_line<R: Runtime>(rt: &R, a: &LineArgs) -> i32 {
    let Some(listen) = resolve(&a.listen) else {
        return 1;
    };
    let line = LineOptions {
        service: a.service,
        telnet: a.telnet,
        max_line: MAX_LINE,
    };
    let opts = ServerOptions {
        listen,
        threads: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        max_connections: max_connections(a.max_connections),
        grace: GRACE,
    };
    let result = if a.udp && a.tls.cert().is_some() {
        message::error("--udp with --tls", "TLS needs TCP");
        return 2;
    } else if a.udp {
        rt.serve_udp(
            &opts,
            line_service::udp_service(&line),
            &mut announce("udp"),
        )
    } else {
        // The handshake gets the HTTP server's default head timeout (docs/HTTP.md: 10 s).
        let handshake_timeout = Config::default().limits.head_timeout;
        let factory = line_service::tcp_factory(&line);
        match a.tls.wrap(factory, handshake_timeout, &[], None) {
            Ok((factory, tls)) => rt.serve_tcp(
                &opts,
                factory,
                &mut announce(if tls { "tls" } else { "tcp" }),
            ),
            Err(e) => {
                message::error("", e);
                return 1;
            }
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            listen_error(listen, &a.listen.host, &e);
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_seconds_is_no_limit_as_in_curl() {
        let parse = |extra: &[&str]| {
            let mut args = vec!["p", "get", "http://x/"];
            args.extend_from_slice(extra);
            match Cli::try_parse_from(args).unwrap().command {
                Command::Get(a) => get_command(a),
                _ => panic!("not get"),
            }
        };
        let c = parse(&["-m", "0", "--read-timeout", "0", "--connect-timeout", "0"]);
        assert_eq!(
            (c.max_time, c.read_timeout, c.connect_timeout),
            (None, None, None)
        );
        let c = parse(&["-m", "2"]);
        assert_eq!(c.max_time, Some(Duration::from_secs(2)));
        assert_eq!(c.read_timeout, Some(get::READ_TIMEOUT));
        assert_eq!(c.connect_timeout, Some(get::CONNECT_TIMEOUT));
    }

    #[test]
    fn ready_lines() {
        let v4: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let v6: SocketAddr = "[::1]:7070".parse().unwrap();
        assert_eq!(
            ready_line("http", v4),
            "listening on http://127.0.0.1:8080/"
        );
        assert_eq!(ready_line("tcp", v6), "listening on tcp://[::1]:7070");
        assert_eq!(
            ready_line("https", v4),
            "listening on https://127.0.0.1:8080/"
        );
        assert_eq!(ready_line("tls", v4), "listening on tls://127.0.0.1:8080");
        assert_eq!(ready_line("udp", v4), "listening on udp://127.0.0.1:8080");
    }
}
