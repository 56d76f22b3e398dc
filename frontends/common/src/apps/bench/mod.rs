//! `bench`: an HTTP load generator on the same core as the servers (wrk's command line, wrk2's
//! constant-rate mode), for every binary.
//!
//! The sans-IO parts are here: the request [`Template`], one connection's state [`BenchConn`]
//! (the core's client [`Connection`](portline_core::http::Connection) reads the responses), the
//! rate [`Schedule`], the counts [`Stats`] (an HdrHistogram of latencies), and the [`report`].
//! A runtime only moves the bytes: [`Runtime::bench`] runs a [`Plan`] (mio: an event loop per
//! thread, as wrk; smol: a task per connection; std: a thread per connection, the default).
//! [`run`] is the command: parse, check the target answers, run, report.

mod blocking;
mod conn;
pub mod report;
mod request;
mod schedule;
mod stats;

use std::io::{self, IsTerminal, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use blocking::run_blocking;
pub use conn::{BenchConn, Next};
pub use request::Template;
pub use schedule::Schedule;
pub use stats::{
    Failure, Live, MAX_LATENCY_US, PUBLISH_EVERY, Publisher, STATUS_CLASSES, Stats, status_class,
};

use crate::cli::args::BenchArgs;
use crate::driver::runtime::Runtime;
use crate::driver::shutdown::Shutdown;

/// After a failed connect, a connection waits this long before the next try, so that a server
/// that refuses does not turn the client into a busy loop (wrk retries at once).
pub const RECONNECT_BACKOFF: Duration = Duration::from_millis(10);

/// Bytes read at once: 64 KiB, so that a large body takes few reads (wrk reads 8 KiB).
pub const READ_BUFFER: usize = 64 * 1024;

/// What to run: the target, the request, and the load.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The address to connect to.
    pub addr: SocketAddr,
    /// The request every connection sends.
    pub template: Template,
    /// Connections open at once (`-c`).
    pub connections: usize,
    /// Threads or event loops (`-t`); each gets an equal share of the connections.
    pub threads: usize,
    /// Requests per second in total (`-R`); `None`: as fast as responses come.
    pub rate: Option<f64>,
    /// Requests in flight per connection (`--pipeline`).
    pub pipeline: usize,
    /// A response not complete this long after its request was sent is a timeout.
    pub timeout: Duration,
    /// When the load starts (schedules count from here).
    pub start: Instant,
    /// When every connection stops: requests still in flight then are not counted.
    pub end: Instant,
}

impl Plan {
    /// The connection indices thread `thread` runs: an even split, the first threads taking
    /// one more when it does not divide.
    pub fn share(&self, thread: usize) -> Range<usize> {
        let threads = self.threads.max(1);
        let (base, extra) = (self.connections / threads, self.connections % threads);
        let first = thread * base + thread.min(extra);
        first..first + base + usize::from(thread < extra)
    }

    /// The state for connection `index`, with its share of the rate.
    pub fn connection(&self, index: usize) -> BenchConn {
        let schedule = self
            .rate
            .map(|r| Schedule::new(self.start, r, index, self.connections));
        BenchConn::new(self.pipeline, schedule, self.timeout)
    }
}

/// Run `bench` on `rt`; returns the exit status: 0 when at least one response came, 1 with the
/// failing stage named otherwise (`url`, `resolve`, `connect`, or the errors of the run).
pub fn run<R: Runtime + ?Sized>(rt: &R, args: &BenchArgs) -> i32 {
    match run_inner(rt, args) {
        Ok(code) => code,
        Err((code, subject, cause)) => {
            crate::cli::message::error(subject, cause);
            code
        }
    }
}

/// A failure of `bench`: the exit status, what failed (the stage), and why.
type Failed = (i32, &'static str, String);

fn run_inner<R: Runtime + ?Sized>(rt: &R, a: &BenchArgs) -> Result<i32, Failed> {
    use portline_core::addr::HttpUrl;
    let url = HttpUrl::parse(&a.url).map_err(|e| (1, "url", format!("{}: {e}", a.url)))?;
    if url.scheme == portline_core::addr::Scheme::Https {
        // get and serve speak TLS (the tls module); the load generator does not yet.
        return Err((
            1,
            "url",
            format!(
                "{}: https is not supported (bench speaks plain HTTP only)",
                a.url
            ),
        ));
    }
    if a.threads > a.connections {
        return Err((
            2,
            "",
            format!(
                "-c {} is fewer connections than -t {} threads (each thread needs one)",
                a.connections, a.threads
            ),
        ));
    }
    let host = url.host.to_string();
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), url.port))
        .map_err(|e| (1, "resolve", format!("{host}: {e}")))?
        .next()
        .ok_or_else(|| (1, "resolve", format!("{host}: no address found")))?;
    // One connection first, so that a target that is not there fails at once, naming the
    // stage, instead of after the whole duration of connect errors.
    TcpStream::connect_timeout(&addr, a.timeout).map_err(|e| {
        let to = crate::cli::message::addr(addr, Some(&host));
        (1, "connect", format!("{to}: {e}"))
    })?;

    let start = Instant::now();
    let plan = Plan {
        addr,
        template: Template::new("GET", &url.target, &url.host_header(), &a.headers),
        connections: a.connections,
        threads: a.threads,
        rate: a.rate,
        pipeline: a.pipeline,
        timeout: a.timeout,
        start,
        end: start + a.duration,
    };
    let live = Arc::new(Live::new());
    // SIGINT or SIGTERM ends the run early and still reports, as wrk does; a second one exits.
    let signals = Shutdown::on_signals();
    signals
        .arm(a.timeout)
        .map_err(|e| (1, "signals", e.to_string()))?;
    let _stop = signals.on_request({
        let live = live.clone();
        move || live.stop()
    });
    let done = AtomicBool::new(false);
    let stats = std::thread::scope(|s| {
        if io::stderr().is_terminal() {
            s.spawn(|| progress(&plan, &live, &done));
        }
        let stats = rt.bench(&plan, &live);
        done.store(true, Ordering::Relaxed);
        stats
    });
    let info = report::RunInfo {
        url: a.url.clone(),
        connections: a.connections,
        threads: a.threads,
        rate: a.rate,
        pipeline: a.pipeline,
        elapsed: start.elapsed(),
    };
    let mut out = io::stdout().lock();
    let written = if a.json {
        writeln!(out, "{}", report::json(&info, &stats, a.latency))
    } else {
        write!(out, "{}", report::text(&info, &stats, a.latency))
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| (1, "stdout", e.to_string()))?;
    if stats.responses() == 0 {
        let errors: Vec<String> = Failure::ALL
            .iter()
            .filter(|f| stats.errors_of(**f) > 0)
            .map(|f| format!("{} {}", f.name(), stats.errors_of(*f)))
            .collect();
        let why = if errors.is_empty() {
            "none within the duration".to_string()
        } else {
            format!("errors: {}", errors.join(", "))
        };
        return Err((
            1,
            "",
            format!(
                "no response from {} ({why})",
                crate::cli::message::addr(addr, Some(&host))
            ),
        ));
    }
    Ok(0)
}

/// The live line on a terminal: elapsed, responses, the rate of the last second, errors.
fn progress(plan: &Plan, live: &Live, done: &AtomicBool) {
    let mut last = (Instant::now(), 0);
    let mut err = io::stderr();
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let now = Instant::now();
        if now.duration_since(last.0) < Duration::from_secs(1) {
            continue;
        }
        let (responses, errors) = live.totals();
        let rate = (responses - last.1) as f64 / now.duration_since(last.0).as_secs_f64();
        last = (now, responses);
        let left = plan.end.saturating_duration_since(now).as_secs_f64();
        let _ = write!(
            err,
            "\r\x1b[K  {responses} requests, {rate:.0} req/s, {errors} errors, {left:.0}s left"
        );
        let _ = err.flush();
    }
    let _ = write!(err, "\r\x1b[K");
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(connections: usize, threads: usize) -> Plan {
        let now = Instant::now();
        Plan {
            addr: "127.0.0.1:1".parse().unwrap(),
            template: Template::new("GET", "/", "127.0.0.1:1", &[]),
            connections,
            threads,
            rate: None,
            pipeline: 1,
            timeout: Duration::from_secs(2),
            start: now,
            end: now,
        }
    }

    #[test]
    fn threads_share_the_connections_evenly_and_cover_each_once() {
        for (c, t) in [(10, 2), (50, 1), (7, 3), (3, 3), (100, 8)] {
            let p = plan(c, t);
            let shares: Vec<Range<usize>> = (0..t).map(|i| p.share(i)).collect();
            let all: Vec<usize> = shares.iter().flat_map(|r| r.clone()).collect();
            assert_eq!(all, (0..c).collect::<Vec<_>>(), "-c {c} -t {t}");
            let sizes: Vec<usize> = shares.iter().map(|r| r.len()).collect();
            assert!(
                sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
                "{sizes:?}"
            );
        }
    }
}
