//! End-to-end test harness (the tests live in `tests/tests/`).
//!
//! Every test runs against every frontend binary (`portline-std`, `portline-mio`,
//! `portline-smol`) through the [`matrix!`] macro. The harness
//! - builds each binary once per test process (`cargo build -p portline-<x>`, same profile and
//!   target dir as the tests), so `cargo test --workspace` needs no extra step;
//! - starts servers on `127.0.0.1:0`, reads the real address from the ready line on stderr, keeps
//!   the rest of stderr (the access log) for assertions, and kills the process it started by PID
//!   when the [`Server`] is dropped;
//! - runs peers (curl, wget, nc, ab, wrk, python3, chromium, openssl) with a time bound, starts
//!   [`Nginx`] as the reference server for `get`, and skips a test whose peer is missing unless
//!   `PORTLINE_REQUIRE_PEERS=1`.
//!
//! Files (each test runs as `name::std`, `name::mio`, `name::smol`):
//! - `http_curl.rs`: curl GET/HEAD/404/304/`--http1.0`/connection reuse, listings, 405, access log.
//! - `http_server.rs`: the access log's byte counts and 503s; validators, ranges, directories,
//!   precompressed files and the header options against curl, wget and python `requests`.
//! - `http_clients.rs`: wget -r, python3 requests and urllib, and the `get` client against
//!   python3 http.server, scripted peers and our own server.
//! - `get_client.rs`: `get` against nginx (redirect chain, range resume, gzip_static), a
//!   silent listener and a full accept queue (timeouts), scripted servers (redirects, uploads),
//!   and the `-o FILE` faults.
//! - `line.rs`: nc (typed HTTP/1.0 with bare LF, HTTP/0.9, info, echo, long lines), the TCP and
//!   UDP line services, telnet negotiation, `connect`.
//! - `tools.rs`: `services`, `info`, `netstat`, `parse`, `--help`.
//! - `load.rs`: ab -k, wrk, `--threads`, 1,000 concurrent keep-alive connections.
//! - `robustness.rs`: path traversal, hostile clients with fd counts, pipelining, error statuses,
//!   timeouts, memory bounds, `--max-connections`, EMFILE, IPv6, SIGTERM/SIGINT.
//! - `tls.rs`: HTTPS and `serve line --tls` against curl, python3 requests, wget, openssl
//!   s_client and nginx; every certificate failure of `get`; plain HTTP, garbage, stalls and
//!   resets on the TLS port; 100 MB over TLS; 200 concurrent keep-alive TLS connections. The
//!   certificates come from [`pki`].
//! - `edges.rs`: odd names, encodings, dates, byte-at-a-time, deep pipelines, many lines in
//!   flight, chargen back-pressure, FIFOs.
//! - `balancer.rs`: nginx as the balancer in front of two instances, HTTP/1.0 and kept-alive
//!   upstreams: both serve, `--log-forwarded`, nothing lost when one stops (SIGTERM) mid-load.
//! - `faults.rs`: regressions of faults found by hand: a taken port, out-of-range flags.
//! - `http_echo.rs`: `serve http --echo` against curl, both JSON formats, limits and timeouts.
//! - `meta.rs`: `--version`, `completions` (loaded into bash), `manpage`.
//! - `doc_examples.rs`: the command lines of README.md and docs/CLI.md (run once, not per
//!   frontend).
//! - `examples.rs`: the core's examples (`core/examples/`) and the tokio example server, against
//!   scripts and curl (run once).
//!
//! Run: `cargo test -p portline-tests` (or `cargo test --workspace`); one frontend:
//! `PORTLINE_FRONTENDS=mio cargo test -p portline-tests`; one test on all: `cargo test -p
//! portline-tests --test http_curl get_text`.
//!
//! Environment:
//! - `PORTLINE_FRONTENDS=std,mio` restricts the matrix (default: all three).
//! - `PORTLINE_REQUIRE_PEERS=1` turns a missing peer into a failure.
//! - `PORTLINE_NO_BUILD=1` skips the `cargo build` step (the binaries must already exist).

pub mod pki;

use std::ffi::OsStr;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The frontends every test runs against, in order.
pub const ALL_FRONTENDS: [&str; 3] = ["std", "mio", "smol"];

/// How long a server may take to print its ready line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Default bound for a peer command (curl, nc, ...).
pub const PEER_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs test functions against every frontend: `matrix!(a, b);` next to
/// `fn a(fe: Frontend) { ... }` makes a module `a` with one `#[test]` per frontend
/// (`a::std`, `a::mio`, `a::smol`), each calling `a` with that frontend.
#[macro_export]
macro_rules! matrix {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("`", stringify!($name), "` against each frontend.")]
            mod $name {
                #[test]
                fn std() {
                    $crate::run_case("std", super::$name)
                }

                #[test]
                fn mio() {
                    $crate::run_case("mio", super::$name)
                }

                #[test]
                fn smol() {
                    $crate::run_case("smol", super::$name)
                }
            }
        )*
    };
}

/// Whether `PORTLINE_FRONTENDS` (default: all) selects this frontend.
pub fn selected(name: &str) -> bool {
    match std::env::var("PORTLINE_FRONTENDS") {
        Ok(list) if !list.trim().is_empty() => list
            .split(',')
            .map(str::trim)
            .any(|item| item == name || item == "all"),
        _ => true,
    }
}

/// Runs one test case against one frontend, unless the matrix excludes it.
pub fn run_case(name: &'static str, case: fn(Frontend)) {
    if !selected(name) {
        eprintln!("notice: frontend {name} not selected by PORTLINE_FRONTENDS; skipped");
        return;
    }
    let fe = Frontend { name };
    // Build (or find) the binary before the case starts: a case that starts a peer with a time
    // bound (accept_within, ScriptedServer) must not spend that time waiting on cargo's lock
    // while other test processes build.
    fe.bin();
    case(fe);
}

/// One of the frontend binaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frontend {
    name: &'static str,
}

impl Frontend {
    /// A frontend by its short name (`std`, `mio`, `smol`).
    pub fn named(name: &'static str) -> Self {
        Frontend { name }
    }

    /// The short name (`std`, `mio`, `smol`).
    pub fn name(self) -> &'static str {
        self.name
    }

    /// The path of the built binary (built on first use).
    pub fn bin(self) -> PathBuf {
        binary(self.name)
    }

    /// A `Command` for the binary with `args`.
    pub fn command<I, S>(self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(self.bin());
        cmd.args(args);
        cmd
    }

    /// Runs the binary with `args` (stdin empty) and a time bound.
    pub fn run(self, args: &[&str]) -> Output {
        run(&mut self.command(args), PEER_TIMEOUT)
    }

    /// `serve http --listen 127.0.0.1:0 --root ROOT`.
    pub fn serve_http(self, root: &Path) -> Server {
        self.serve_http_with(root, &[])
    }

    /// `serve http --listen 127.0.0.1:0 --root ROOT EXTRA...`.
    pub fn serve_http_with(self, root: &Path, extra: &[&str]) -> Server {
        let root = root.to_str().expect("temp path is UTF-8");
        let mut args = vec!["serve", "http", "--listen", "127.0.0.1:0", "--root", root];
        args.extend_from_slice(extra);
        Server::start(self, &args, "http")
    }

    /// `serve http --listen 127.0.0.1:0 --echo EXTRA...`: every request answered with JSON of
    /// what was parsed, bodies read whole.
    pub fn serve_echo_with(self, extra: &[&str]) -> Server {
        let mut args = vec!["serve", "http", "--listen", "127.0.0.1:0", "--echo"];
        args.extend_from_slice(extra);
        Server::start(self, &args, "http")
    }

    /// `serve line --listen 127.0.0.1:0 --service SERVICE` over TCP.
    pub fn serve_line(self, service: &str) -> Server {
        self.serve_line_with(service, &[])
    }

    /// `serve line --listen 127.0.0.1:0 --service SERVICE EXTRA...` (pass `--udp` in `extra`
    /// for UDP; the ready line then says `udp://`).
    pub fn serve_line_with(self, service: &str, extra: &[&str]) -> Server {
        let mut args = vec![
            "serve",
            "line",
            "--listen",
            "127.0.0.1:0",
            "--service",
            service,
        ];
        args.extend_from_slice(extra);
        let scheme = if extra.contains(&"--udp") {
            "udp"
        } else {
            "tcp"
        };
        Server::start(self, &args, scheme)
    }
}

// ---------------------------------------------------------------------------------------------
// Building and locating the binaries

/// One build result per frontend (indexed like [`ALL_FRONTENDS`]), computed once per process.
type BuildCell = OnceLock<Result<PathBuf, String>>;
static BUILDS: [BuildCell; 3] = [const { OnceLock::new() }; 3];

/// The profile directory the test executable runs from (`target/debug`), and its profile name.
fn profile_dir() -> (PathBuf, String) {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test-binary>
    let deps = exe.parent().expect("test binary has a parent dir");
    let profile = if deps.file_name() == Some(OsStr::new("deps")) {
        deps.parent().expect("deps has a parent").to_path_buf()
    } else {
        deps.to_path_buf()
    };
    let name = profile
        .file_name()
        .and_then(OsStr::to_str)
        .unwrap_or("debug")
        .to_string();
    (profile, name)
}

/// Builds `portline-<name>` once per process and returns its path.
///
/// Panics with a clear message if the build fails or the binary is not where it should be.
pub fn binary(name: &'static str) -> PathBuf {
    let index = ALL_FRONTENDS
        .iter()
        .position(|f| *f == name)
        .unwrap_or_else(|| panic!("unknown frontend {name}"));
    let cell = &BUILDS[index];
    let result = cell.get_or_init(|| build(name));
    match result {
        Ok(path) => path.clone(),
        Err(msg) => panic!("{msg}"),
    }
}

fn build(name: &str) -> Result<PathBuf, String> {
    let package = format!("portline-{name}");
    let exe = profile_dir()
        .0
        .join(format!("{package}{}", std::env::consts::EXE_SUFFIX));
    cargo_build(&package, &["--bin", &package], &exe).map_err(|why| {
        format!("frontend {name}: {why}; or restrict the matrix with PORTLINE_FRONTENDS")
    })?;
    Ok(exe)
}

/// Builds a workspace target (`selector`: `["--bin", NAME]` or `["--example", NAME]`) with the
/// tests' profile and target dir, unless `PORTLINE_NO_BUILD` is set, and checks `exe` exists.
fn cargo_build(package: &str, selector: &[&str], exe: &Path) -> Result<(), String> {
    let what = format!("cargo build -p {package} {}", selector.join(" "));
    if std::env::var_os("PORTLINE_NO_BUILD").is_none() {
        let (profile_dir, profile) = profile_dir();
        let target_dir = profile_dir.parent().expect("profile dir has a parent");
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("tests/ lives in the workspace root");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let profile_arg = match profile.as_str() {
            "debug" => "dev".to_string(),
            other => other.to_string(),
        };
        let started = Instant::now();
        let output = Command::new(&cargo)
            .current_dir(workspace)
            .args(["build", "--quiet", "-p", package])
            .args(selector)
            .arg("--profile")
            .arg(&profile_arg)
            .arg("--target-dir")
            .arg(target_dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("could not run {cargo:?} ({what}): {e}"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "`{what}` failed ({}); fix the build. Last lines:\n{}",
                output.status,
                tail.join("\n")
            ));
        }
        eprintln!(
            "harness: {what} took {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }
    if exe.is_file() {
        Ok(())
    } else {
        Err(format!(
            "{} not found after `{what}` (or PORTLINE_NO_BUILD is set and it was never built)",
            exe.display()
        ))
    }
}

/// Builds the example `name` of workspace package `package` (once per process) and returns its
/// path, e.g. `example("portline-core", "std_server")`. Panics if the build fails.
pub fn example(package: &'static str, name: &'static str) -> PathBuf {
    let exe = profile_dir().0.join("examples").join(name);
    build_once(package, "--example", name, exe)
}

/// Builds the binary `bin` of workspace package `package` (once per process) and returns its
/// path, for binaries outside the frontend matrix (e.g. the tokio example server).
pub fn package_binary(package: &'static str, bin: &'static str) -> PathBuf {
    build_once(package, "--bin", bin, profile_dir().0.join(bin))
}

fn build_once(
    package: &'static str,
    kind: &'static str,
    name: &'static str,
    exe: PathBuf,
) -> PathBuf {
    static BUILT: Mutex<Vec<(&str, &str, PathBuf)>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, _, path)) = built.iter().find(|(p, n, _)| *p == package && *n == name) {
        return path.clone();
    }
    if let Err(why) = cargo_build(package, &[kind, name], &exe) {
        panic!("{name} of {package}: {why}");
    }
    built.push((package, name, exe.clone()));
    exe
}

// ---------------------------------------------------------------------------------------------
// Servers

/// A server process started by a test; killed (by its PID) and reaped on drop.
pub struct Server {
    child: Child,
    addr: SocketAddr,
    frontend: Frontend,
    stderr: Arc<Mutex<Vec<String>>>,
    ready_index: usize,
    exited: Option<ExitStatus>,
}

impl Server {
    /// Starts `<bin> ARGS...` and waits for `listening on SCHEME://ADDR` on its stderr.
    pub fn start(frontend: Frontend, args: &[&str], scheme: &str) -> Server {
        Server::start_command(frontend, frontend.command(args), scheme)
    }

    /// Starts the server `command` (which must `exec` the frontend binary if it is a shell, so
    /// that the PID is the server's) and waits for its ready line.
    pub fn start_command(frontend: Frontend, mut command: Command, scheme: &str) -> Server {
        let args = format!("{command:?}");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {args}: {e}"));
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<String>();
        {
            let lines = Arc::clone(&lines);
            thread::spawn(move || {
                let mut reader = BufReader::new(stderr);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    match reader.read_until(b'\n', &mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                            lines
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(line.clone());
                            let _ = tx.send(line);
                        }
                    }
                }
            });
        }
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut seen = 0usize;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    seen += 1;
                    if let Some(addr) = parse_ready_line(&line, scheme) {
                        return Server {
                            child,
                            addr,
                            frontend,
                            stderr: lines,
                            ready_index: seen,
                            exited: None,
                        };
                    }
                }
                Err(err) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    let so_far = lines.lock().unwrap_or_else(|e| e.into_inner()).join("\n");
                    let why = match err {
                        mpsc::RecvTimeoutError::Timeout => {
                            format!("no ready line within {READY_TIMEOUT:?}")
                        }
                        mpsc::RecvTimeoutError::Disconnected => {
                            format!("the process exited ({status:?}) before its ready line")
                        }
                    };
                    panic!(
                        "{args}: {why}; expected `listening on {scheme}://IP:PORT`. \
                         stderr:\n{so_far}"
                    );
                }
            }
        }
    }

    /// Starts a program that is not one of the frontends (an example, the tokio example server)
    /// and waits for its ready line. Its [`Server::frontend`] is meaningless.
    pub fn start_program(command: Command, scheme: &str) -> Server {
        Server::start_command(Frontend { name: "program" }, command, scheme)
    }

    /// The address the server listens on (from its ready line).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://IP:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Which frontend this is.
    pub fn frontend(&self) -> Frontend {
        self.frontend
    }

    /// Every stderr line so far, the ones before the ready line included.
    pub fn all_stderr(&self) -> Vec<String> {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The stderr lines after the ready line (the access log and any errors) so far.
    pub fn log(&self) -> Vec<String> {
        let lines = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().skip(self.ready_index).cloned().collect()
    }

    /// Waits up to `timeout` until at least `n` log lines satisfy `pred`; returns those lines
    /// seen at the end (whether or not enough arrived).
    pub fn wait_log(
        &self,
        n: usize,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let matching: Vec<String> = self.log().into_iter().filter(|l| pred(l)).collect();
            if matching.len() >= n || Instant::now() >= deadline {
                return matching;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The resident memory of the server process in KiB (`VmRSS` in `/proc/<pid>/status`).
    pub fn rss_kib(&self) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap_or_else(|e| panic!("reading /proc/{}/status: {e}", self.pid()));
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS in /proc/<pid>/status")
    }

    /// CPU time (user + system) the server process has used, in clock ticks
    /// (`/proc/<pid>/stat` fields 14 and 15; usually 100 per second).
    pub fn cpu_ticks(&self) -> u64 {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .unwrap_or_else(|e| panic!("reading /proc/{}/stat: {e}", self.pid()));
        // The command name (field 2) is in parentheses and may contain spaces.
        let after = &stat[stat.rfind(')').expect("stat format") + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        // `after` starts at field 3 (state), so utime (14) and stime (15) are at 11 and 12.
        fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0)
    }

    /// The number of open file descriptors of the server process (`/proc/<pid>/fd`).
    pub fn fd_count(&self) -> usize {
        fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|dir| dir.count())
            .unwrap_or_else(|e| panic!("reading /proc/{}/fd: {e}", self.pid()))
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        if self.exited.is_some() {
            return false;
        }
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.exited = Some(status);
                false
            }
            _ => true,
        }
    }

    /// Sends `signal` (e.g. `TERM`, `INT`) to the process by PID.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {} failed", self.pid());
    }

    /// Waits up to `timeout` for the process to exit; `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited {
                return Some(status);
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exited = Some(status);
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Parses `... listening on SCHEME://IP:PORT[/]` into the address.
pub fn parse_ready_line(line: &str, scheme: &str) -> Option<SocketAddr> {
    let at = line.find("listening on ")?;
    let rest = line[at + "listening on ".len()..].trim();
    let rest = rest.strip_prefix(scheme)?.strip_prefix("://")?;
    let rest = rest.split_whitespace().next()?.trim_end_matches('/');
    rest.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// Peers and commands

/// Whether `PORTLINE_REQUIRE_PEERS=1` is set.
pub fn peers_required() -> bool {
    std::env::var("PORTLINE_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// Finds an executable on `PATH`.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| {
            fs::metadata(candidate).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        })
}

fn missing(what: &str) -> bool {
    if peers_required() {
        panic!("peer {what} is not installed and PORTLINE_REQUIRE_PEERS=1");
    }
    eprintln!(
        "notice: peer {what} is not installed; test skipped (set PORTLINE_REQUIRE_PEERS=1 to fail instead)"
    );
    false
}

/// `true` if `tool` is on `PATH`; otherwise prints a notice and returns `false` (the test
/// should return and pass), or panics when `PORTLINE_REQUIRE_PEERS=1`.
pub fn require(tool: &str) -> bool {
    which(tool).is_some() || missing(tool)
}

/// Like [`require`] for a python3 module (`requests`).
pub fn require_python_module(module: &str) -> bool {
    if !require("python3") {
        return false;
    }
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok || missing(&format!("python3 module `{module}`"))
}

/// Runs a command with empty stdin and a time bound; panics if it exceeds it.
pub fn run(cmd: &mut Command, timeout: Duration) -> Output {
    run_with_input(cmd, &[], timeout)
}

/// Runs a command with `input` on stdin (then EOF) and a time bound; on timeout it kills the
/// process (by PID) and panics with what it printed so far.
pub fn run_with_input(cmd: &mut Command, input: &[u8], timeout: Duration) -> Output {
    let description = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {description}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_vec();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = spawn_reader(child.stdout.take().expect("piped stdout"));
    let err = spawn_reader(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stdout = out.join().unwrap_or_default();
            let stderr = err.join().unwrap_or_default();
            panic!(
                "{description} did not finish within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            );
        }
        thread::sleep(Duration::from_millis(10));
    };
    let _ = writer.join();
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

fn spawn_reader(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// Asserts the command succeeded; returns stdout as a string (lossy).
#[track_caller]
pub fn stdout_ok(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed with {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs a python3 script given on the command line with `args`.
pub fn python(script: &str, args: &[&str]) -> Output {
    run(
        Command::new("python3").arg("-c").arg(script).args(args),
        PEER_TIMEOUT,
    )
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// The content of `hello.txt`.
pub const HELLO: &[u8] = b"Hello from portline!\n";

/// The content of `site/index.html`.
pub const INDEX_HTML: &[u8] = b"<!doctype html><title>site</title><p>the index page</p>\n";

/// A marker inside the secret file outside the root; no response may contain it.
pub const SECRET_MARKER: &str = "PORTLINE-SECRET-5f1c9a7e";

/// A served tree in a temp dir:
/// ```text
/// base/secret.txt                     (outside the root; contains SECRET_MARKER)
/// base/root/hello.txt                 HELLO
/// base/root/data.bin                  100 KiB of pseudo-random bytes
/// base/root/big.bin                   4 MiB of pseudo-random bytes
/// base/root/site/index.html           INDEX_HTML
/// base/root/tree/a.txt, b.html, sub/c.txt, sub/deeper/d.bin   (no index.html: a listing)
/// base/root/escape.txt -> ../secret.txt   (symlink pointing outside)
/// base/root/escape_dir -> ..              (symlink to the parent)
/// ```
pub struct Fixture {
    dir: tempfile::TempDir,
    /// The served root.
    pub root: PathBuf,
    /// The content of `data.bin`.
    pub data: Vec<u8>,
    /// The content of `big.bin`.
    pub big: Vec<u8>,
}

/// Deterministic pseudo-random bytes (xorshift64*), different per `seed`.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The files of `tree/` (relative path, content), for comparing recursive fetches.
pub fn tree_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("a.txt", b"file a\n".to_vec()),
        ("b.html", b"<p>file b</p>\n".to_vec()),
        ("sub/c.txt", b"file c, one level down\n".to_vec()),
        ("sub/deeper/d.bin", pseudo_random(3000, 4)),
    ]
}

impl Fixture {
    /// Creates the tree.
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path();
        let root = base.join("root");
        fs::create_dir_all(root.join("site")).expect("mkdir");
        fs::create_dir_all(root.join("tree/sub/deeper")).expect("mkdir");
        fs::write(base.join("secret.txt"), format!("{SECRET_MARKER}\n")).expect("write");
        fs::write(root.join("hello.txt"), HELLO).expect("write");
        let data = pseudo_random(100 * 1024, 1);
        fs::write(root.join("data.bin"), &data).expect("write");
        let big = pseudo_random(4 * 1024 * 1024, 2);
        fs::write(root.join("big.bin"), &big).expect("write");
        fs::write(root.join("site/index.html"), INDEX_HTML).expect("write");
        for (path, content) in tree_files() {
            fs::write(root.join("tree").join(path), content).expect("write");
        }
        std::os::unix::fs::symlink("../secret.txt", root.join("escape.txt")).expect("symlink");
        std::os::unix::fs::symlink("..", root.join("escape_dir")).expect("symlink");
        Fixture {
            dir,
            root,
            data,
            big,
        }
    }

    /// The temp dir holding the root (and the secret file).
    pub fn base(&self) -> &Path {
        self.dir.path()
    }

    /// A fresh empty directory inside the temp dir (outside the root), for downloads.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        fs::create_dir_all(&path).expect("mkdir scratch");
        path
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP client over TcpStream, for cases no peer can express.

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Response {
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// Header fields in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Connects to `addr` with 10 s read and write timeouts.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
}

/// Reads one response from `reader`. `head_only` is for answers to HEAD. The body is framed
/// by Content-Length, or absent for 1xx/204/304/HEAD, or read to the end of the stream.
pub fn read_response<R: BufRead>(reader: &mut R, head_only: bool) -> io::Result<Response> {
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before a status line",
        ));
    }
    let status_line = String::from_utf8_lossy(&line).trim_end().to_string();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_string();
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {status_line:?}")))?;
    let reason = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed inside the head",
            ));
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if text.is_empty() {
            break;
        }
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| io::Error::other(format!("bad header line {text:?}")))?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let mut response = Response {
        version,
        status,
        reason,
        headers,
        body: Vec::new(),
    };
    let no_body = head_only || status / 100 == 1 || status == 204 || status == 304;
    if !no_body {
        match response.header("content-length") {
            Some(len) => {
                let len: usize = len
                    .parse()
                    .map_err(|_| io::Error::other(format!("bad Content-Length {len:?}")))?;
                response.body = vec![0; len];
                reader.read_exact(&mut response.body)?;
            }
            None => {
                reader.read_to_end(&mut response.body)?;
            }
        }
    }
    Ok(response)
}

/// Sends `request` on a fresh connection and reads one response.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Response {
    let mut stream = connect(addr);
    stream.write_all(request).expect("send request");
    let head_only = request.starts_with(b"HEAD ");
    read_response(&mut BufReader::new(stream), head_only).unwrap_or_else(|e| {
        panic!(
            "reading the response to {:?}: {e}",
            String::from_utf8_lossy(request)
        )
    })
}

/// `GET PATH HTTP/1.0` on a fresh connection.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    exchange(addr, format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
}

/// Reads from `stream` until the peer closes (or the read timeout hits, which panics).
pub fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    stream
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("reading until close: {e} (got {} bytes)", out.len()));
    out
}

/// `curl -s -S -D - URL` plus extra args, within [`PEER_TIMEOUT`]; returns (status, header
/// lines, body). Panics if curl fails.
pub fn curl(extra: &[&str], url: &str) -> (u16, Vec<String>, Vec<u8>) {
    let head_file = tempfile::NamedTempFile::new().expect("temp file");
    let out = run(
        Command::new("curl")
            .args(["-s", "-S", "--max-time", "20", "-D"])
            .arg(head_file.path())
            .args(extra)
            .arg(url),
        PEER_TIMEOUT,
    );
    assert!(
        out.status.success(),
        "curl {extra:?} {url} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let head = std::fs::read_to_string(head_file.path()).expect("read dumped head");
    let (status, headers) = parse_dumped_head(&head);
    (status, headers, out.stdout)
}

/// The value of the first header line named `name` (case-insensitive), trimmed.
pub fn has_header(headers: &[String], name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    headers
        .iter()
        .find(|h| h.to_ascii_lowercase().starts_with(&prefix))
        .map(|h| h[prefix.len()..].trim().to_string())
}

/// Splits bytes into lines without their CRLF/LF endings (lossy UTF-8).
pub fn text_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

/// The last head of a `curl -D FILE` dump (after redirects with `-L` there are several):
/// (status code, header lines).
pub fn parse_dumped_head(text: &str) -> (u16, Vec<String>) {
    let last = text.rfind("\nHTTP/").map_or(text, |at| &text[at + 1..]);
    let mut lines = last.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .map(|l| l.trim_end().to_string())
        .take_while(|l| !l.is_empty())
        .collect();
    (status, headers)
}

/// The host name, as the kernel reports it.
pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Raises this process's soft limit on open files to its hard limit (at most 65,536) and
/// returns the limit now in force. Servers started afterwards inherit it.
pub fn raise_open_files_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let wanted = limit.maximum.map_or(65_536, |max| max.min(65_536));
    if limit.current.is_some_and(|cur| cur < wanted) {
        limit.current = Some(wanted);
        let _ = setrlimit(Resource::Nofile, limit);
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Sleeps `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    thread::sleep(Duration::from_millis(ms));
}

// ---------------------------------------------------------------------------------------------
// A scripted peer server, for testing the `get` client against exact bytes.

/// A TCP server on `127.0.0.1:0` run by a thread of the test: for each canned reply in turn it
/// accepts one connection, reads the request head (and a `Content-Length` body), records the
/// request bytes, writes the reply and closes. Replies may be split into parts with a pause
/// between them.
pub struct ScriptedServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl ScriptedServer {
    /// Starts the server with one reply per expected connection.
    pub fn start(replies: Vec<Vec<u8>>) -> ScriptedServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind scripted server");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let thread = thread::spawn(move || {
            for reply in replies {
                // A client that never comes cannot hang `finish`.
                let Some(mut conn) = accept_within(&listener, PEER_TIMEOUT) else {
                    return;
                };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let request = read_request_bytes(&mut conn);
                recorded
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(request);
                for part in reply.split(|b| *b == 0x01) {
                    // A 0x01 byte in a reply marks a pause (and is not sent).
                    if conn.write_all(part).is_err() {
                        break;
                    }
                    let _ = conn.flush();
                    thread::sleep(Duration::from_millis(50));
                }
            }
        });
        ScriptedServer {
            addr,
            requests,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits for the script to finish (every reply sent).
    pub fn finish(mut self) -> Vec<Vec<u8>> {
        if let Some(t) = self.thread.take() {
            t.join().expect("scripted server thread");
        }
        self.requests()
    }
}

/// Accepts one connection, waiting at most `timeout` (so a test thread playing a peer cannot
/// hang when the client under test never connects). The stream is blocking.
pub fn accept_within(listener: &std::net::TcpListener, timeout: Duration) -> Option<TcpStream> {
    listener.set_nonblocking(true).ok()?;
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((conn, _)) => {
                conn.set_nonblocking(false).ok()?;
                return Some(conn);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionAborted
                ) && Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return None,
        }
    }
}

/// nginx serving a folder on a free port of 127.0.0.1, as the reference server for `get`:
/// one process (`master_process off`, so the PID is the server's), its own config, logs and
/// temp paths in a temp dir; killed by PID and reaped on drop. `server_conf` is added inside
/// the `server { }` block (redirects, `gzip_static on;`).
pub struct Nginx {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx on `root`; `None` (after a notice) when nginx is not installed, unless
    /// `PORTLINE_REQUIRE_PEERS=1`, when it panics.
    pub fn start(root: &Path, server_conf: &str) -> Option<Nginx> {
        Nginx::launch(root, "", "", server_conf)
    }

    /// Starts nginx with `http_conf` added inside `http { }` (an `upstream` block) and
    /// `server_conf` inside `server { }` (a `location` that proxies to it): nginx as a reverse
    /// proxy or balancer. `None` as for [`Nginx::start`].
    pub fn start_proxy(root: &Path, http_conf: &str, server_conf: &str) -> Option<Nginx> {
        Nginx::launch(root, "", http_conf, server_conf)
    }

    /// Starts nginx serving `root` over HTTPS with `cert` (TLS 1.2 and 1.3: nginx before
    /// 1.23.4 leaves 1.3 off by default); `None` as for [`Nginx::start`].
    pub fn start_tls(root: &Path, cert: &pki::CertFiles) -> Option<Nginx> {
        let conf = format!(
            "ssl_certificate {};\nssl_certificate_key {};\nssl_protocols TLSv1.2 TLSv1.3;",
            cert.cert.display(),
            cert.key.display()
        );
        Nginx::launch(root, " ssl", "", &conf)
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its error log so far (what it says about upstreams, for a failing assertion).
    pub fn error_log(&self) -> String {
        fs::read_to_string(self._dir.path().join("error.log")).unwrap_or_default()
    }

    fn launch(
        root: &Path,
        listen_options: &str,
        http_conf: &str,
        server_conf: &str,
    ) -> Option<Nginx> {
        let nginx = which("nginx")
            .or_else(|| Some(PathBuf::from("/usr/sbin/nginx")).filter(|p| p.is_file()));
        let Some(nginx) = nginx else {
            missing("nginx");
            return None;
        };
        let dir = tempfile::tempdir().expect("nginx temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let d = dir.path().display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n\
             access_log off;\nclient_body_temp_path {d};\nproxy_temp_path {d};\n\
             fastcgi_temp_path {d};\nuwsgi_temp_path {d};\nscgi_temp_path {d};\n\
             default_type application/octet-stream;\n{http_conf}\n\
             server {{\nlisten 127.0.0.1:{port}{listen_options};\nroot {root};\n{server_conf}\n}}\n}}\n",
            root = root.display()
        );
        fs::write(dir.path().join("nginx.conf"), conf).expect("write nginx.conf");
        let mut child = Command::new(nginx)
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-p")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(Nginx {
                    child,
                    port,
                    _dir: dir,
                });
            }
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                let _ = child.kill();
                let _ = child.wait();
                let log = fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
                panic!("nginx did not start on port {port}:\n{log}");
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_request_bytes(conn: &mut TcpStream) -> Vec<u8> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if let Some(at) = data.windows(2).position(|w| w == b"\n\n") {
            break at + 2;
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return data,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_line() {
        let http = "portline-std: listening on http://127.0.0.1:40123/";
        assert_eq!(
            parse_ready_line(http, "http"),
            Some("127.0.0.1:40123".parse().unwrap())
        );
        assert_eq!(
            parse_ready_line("listening on tcp://[::1]:7070", "tcp"),
            Some("[::1]:7070".parse().unwrap())
        );
        assert_eq!(parse_ready_line(http, "tcp"), None);
        assert_eq!(
            parse_ready_line("listening on http://nonsense/", "http"),
            None
        );
        assert_eq!(parse_ready_line("127.0.0.1 - - GET /", "http"), None);
    }

    #[test]
    fn responses() {
        let raw = b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\nX: y\r\n\r\nabcHTTP/1.0 304 Not Modified\r\nContent-Length: 9\r\n\r\nHTTP/1.0 404 Not Found\r\n\r\nrest";
        let mut reader = &raw[..];
        let first = read_response(&mut reader, false).unwrap();
        assert_eq!((first.status, first.reason.as_str()), (200, "OK"));
        assert_eq!(first.body, b"abc");
        assert_eq!(first.header("x"), Some("y"));
        let second = read_response(&mut reader, false).unwrap();
        assert_eq!(second.status, 304);
        assert!(second.body.is_empty());
        let third = read_response(&mut reader, false).unwrap();
        assert_eq!((third.status, third.body.as_slice()), (404, &b"rest"[..]));
        assert!(read_response(&mut reader, false).is_err());
        let mut cut = &b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc"[..];
        assert!(read_response(&mut cut, false).is_err());
    }

    #[test]
    fn random_bytes_are_deterministic_and_distinct() {
        assert_eq!(pseudo_random(1000, 1), pseudo_random(1000, 1));
        assert_ne!(pseudo_random(1000, 1), pseudo_random(1000, 2));
        let bytes = pseudo_random(100_000, 1);
        let zeros = bytes.iter().filter(|b| **b == 0).count();
        assert!(zeros < 1000, "{zeros} zero bytes");
    }

    #[test]
    fn dumped_heads() {
        let (status, headers) = parse_dumped_head("HTTP/1.0 304 Not Modified\r\nDate: x\r\n\r\n");
        assert_eq!(status, 304);
        assert_eq!(headers, ["Date: x"]);
        let (status, headers) = parse_dumped_head(
            "HTTP/1.0 301 Moved\r\nLocation: /a/\r\n\r\nHTTP/1.0 200 OK\r\nA: b\r\n\r\n",
        );
        assert_eq!(
            (status, headers.as_slice()),
            (200, &["A: b".to_string()][..])
        );
    }
}
