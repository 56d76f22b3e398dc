//! The command lines in README.md and docs/CLI.md run here, so an example fails the suite when
//! it goes stale.
//!
//! Every line of a ```sh block is one example. Each is either run or skipped by a rule named in
//! [`skip_rule`] (it needs the network, a terminal, cargo, or a CI script); the test prints both
//! lists. How a line runs:
//!
//! - `portline-X serve ...` starts that binary with `--listen 127.0.0.1:0` in place of the address
//!   written, waits for its ready line (and for `serve http`, answers a GET), then stops it;
//! - any other line runs in `sh -c` in a scratch folder (with `site/`, `request.txt`, a test
//!   certificate `cert.pem`/`key.pem` and its CA `ca.pem`, and `HOME`
//!   pointing into it, and the built binaries first on `PATH`), with `127.0.0.1:8080` and
//!   `127.0.0.1:7070` rewritten to a file server (the test fixture's folder, plus `big.iso`)
//!   and an info service the harness started;
//! - a line whose comment says "exit status N" must end with N; any other must end with 0.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use portline_tests::*;

/// One command line found in a document.
#[derive(Debug)]
struct Example {
    /// `README.md:42`.
    place: String,
    /// The command without its comment.
    command: String,
    /// The comment after `#`, if any.
    comment: String,
}

/// The lines of the ```sh (or bash, shell, console) blocks of `doc`.
fn examples(doc: &str) -> Vec<Example> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(doc);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    let mut in_block = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(lang) = trimmed.strip_prefix("```") {
            in_block = !in_block && matches!(lang, "sh" | "bash" | "shell" | "console");
            continue;
        }
        if !in_block || trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (command, comment) = split_comment(trimmed);
        out.push(Example {
            place: format!("{doc}:{}", i + 1),
            command: command.trim().to_string(),
            comment: comment.trim().to_string(),
        });
    }
    out
}

/// Splits a shell line at its comment: a `#` outside quotes that starts a word.
fn split_comment(line: &str) -> (&str, &str) {
    let (mut single, mut double, mut prev) = (false, false, ' ');
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && prev.is_whitespace() => {
                return (&line[..i], &line[i + 1..]);
            }
            _ => {}
        }
        prev = c;
    }
    (line, "")
}

/// Why an example is not run, or `None` when it runs offline against the harness's servers.
fn skip_rule(e: &Example) -> Option<&'static str> {
    let words: Vec<&str> = e.command.split_whitespace().collect();
    let has = |w: &str| words.contains(&w);
    if has("cargo") {
        return Some(
            "runs cargo: a build, not a command of the binaries (examples.rs runs the examples)",
        );
    }
    if words.first() == Some(&"bash") {
        return Some("runs the CI or a load script");
    }
    if has("nc") || has("telnet") || has("connect") {
        return Some("interactive: it reads a terminal");
    }
    let remote = e
        .command
        .split(|c: char| c.is_whitespace() || c == '\'' || c == '"')
        .filter_map(|w| {
            w.strip_prefix("http://")
                .or_else(|| w.strip_prefix("https://"))
        })
        .any(|rest| {
            !(rest.starts_with("127.0.0.1")
                || rest.starts_with("localhost")
                || rest.starts_with("[::1]"))
        });
    if remote {
        return Some("needs the network: a URL that is not loopback");
    }
    if !words.first().is_some_and(|w| w.starts_with("portline-")) {
        return Some("not a portline command");
    }
    None
}

/// The exit status the example's comment promises ("exit status 4"), else 0.
fn expected_status(comment: &str) -> i32 {
    let words: Vec<&str> = comment.split_whitespace().collect();
    words
        .windows(3)
        .find(|w| w[0] == "exit" && w[1] == "status")
        .and_then(|w| {
            w[2].trim_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// A scratch folder laid out for the examples.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("site")).unwrap();
    fs::write(dir.path().join("site/index.html"), INDEX_HTML).unwrap();
    fs::write(
        dir.path().join("request.txt"),
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .unwrap();
    // `serve http --tls-cert cert.pem --tls-key key.pem`, `--cacert ca.pem`.
    let pki = portline_tests::pki::Pki::new();
    fs::copy(&pki.good.cert, dir.path().join("cert.pem")).unwrap();
    fs::copy(&pki.good.key, dir.path().join("key.pem")).unwrap();
    fs::copy(&pki.ca, dir.path().join("ca.pem")).unwrap();
    dir
}

/// Runs one `serve` example: the binary with `--listen 127.0.0.1:0`, until its ready line.
fn run_server(e: &Example, cwd: &Path) {
    let mut words: Vec<String> = e.command.split_whitespace().map(String::from).collect();
    let bin = words.remove(0);
    let frontend = Frontend::named(match bin.as_str() {
        "portline-std" => "std",
        "portline-mio" => "mio",
        "portline-smol" => "smol",
        other => panic!("{}: unknown binary {other}", e.place),
    });
    match words.iter().position(|w| w == "--listen" || w == "-l") {
        Some(at) => words[at + 1] = "127.0.0.1:0".into(),
        None => words.extend(["--listen".into(), "127.0.0.1:0".into()]),
    }
    let tls = words.iter().any(|w| w.starts_with("--tls"));
    let scheme = if words.iter().any(|w| w == "--udp" || w == "-u") {
        "udp"
    } else if words.get(1).map(String::as_str) == Some("http") {
        if tls { "https" } else { "http" }
    } else if tls {
        "tls"
    } else {
        "tcp"
    };
    let mut command = frontend.command(&words);
    command.current_dir(cwd);
    let server = Server::start_command(frontend, command, scheme);
    if scheme == "http" {
        let response = get(server.addr(), "/");
        assert!(
            response.status == 200,
            "{}: `{}` answered GET / with {}",
            e.place,
            e.command,
            response.status
        );
    }
}

/// Runs one client example in `sh -c` and checks its exit status.
fn run_client(e: &Example, cwd: &Path, path: &str, http: &Server, line: &Server) {
    let command = e
        .command
        .replace("127.0.0.1:8080", &http.addr().to_string())
        .replace("127.0.0.1:7070", &line.addr().to_string());
    // A redirect into a folder that does not exist yet (~/.zfunc/...) gets the folder.
    let home = cwd.join("home");
    let redirect = command.split_once('>').map(|(_, t)| {
        let target = PathBuf::from(t.trim().replacen('~', home.to_str().unwrap(), 1));
        if target.is_absolute() {
            target
        } else {
            cwd.join(target)
        }
    });
    if let Some(target) = &redirect {
        fs::create_dir_all(target.parent().unwrap()).unwrap();
    }
    fs::create_dir_all(&home).unwrap();
    let out = run(
        Command::new("sh")
            .args(["-c", &command])
            .current_dir(cwd)
            .env("HOME", &home)
            .env("PATH", path),
        PEER_TIMEOUT,
    );
    let want = expected_status(&e.comment);
    assert_eq!(
        out.status.code(),
        Some(want),
        "{}: `{command}` ended with {} (the docs say {want})\nstdout:\n{}\nstderr:\n{}",
        e.place,
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Every example prints something: on stdout, into the file it redirects to, or into its
    // `-o FILE` (get's output file, as curl's).
    let words: Vec<&str> = command.split_whitespace().collect();
    let output = words
        .windows(2)
        .find(|w| w[0] == "-o" || w[0] == "--output")
        .map(|w| cwd.join(w[1]));
    let printed = match redirect.as_ref().or(output.as_ref()) {
        Some(target) => fs::metadata(target).map_or(0, |m| m.len()),
        None => out.stdout.len() as u64,
    };
    assert!(printed > 0, "{}: `{command}` printed nothing", e.place);
}

#[test]
fn the_command_lines_in_the_docs_run() {
    let mut all = examples("README.md");
    all.extend(examples("docs/CLI.md"));
    assert!(all.len() >= 20, "fewer examples than expected: {all:#?}");

    let bins: Vec<PathBuf> = ALL_FRONTENDS
        .iter()
        .map(|name| Frontend::named(name).bin())
        .collect();
    let bin_dir = bins[0].parent().expect("a folder").to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let fx = Fixture::new();
    // Files the examples fetch that the fixture does not have.
    fs::write(fx.root.join("big.iso"), pseudo_random(256 * 1024, 3)).unwrap();
    let std_fe = Frontend::named("std");
    let http = std_fe.serve_http_with(&fx.root, &["--quiet"]);
    let line = std_fe.serve_line("info");

    let (mut checked, mut skipped) = (Vec::new(), Vec::new());
    for e in &all {
        if let Some(rule) = skip_rule(e) {
            skipped.push(format!("{}: {} ({rule})", e.place, e.command));
            continue;
        }
        let cwd = scratch();
        if e.command.split_whitespace().nth(1) == Some("serve") {
            run_server(e, cwd.path());
        } else {
            run_client(e, cwd.path(), &path, &http, &line);
        }
        checked.push(format!("{}: {}", e.place, e.command));
    }
    eprintln!("checked ({}):\n  {}", checked.len(), checked.join("\n  "));
    eprintln!(
        "skipped by rule ({}):\n  {}",
        skipped.len(),
        skipped.join("\n  ")
    );
    assert!(checked.len() >= 15, "too few examples ran: {checked:#?}");
}

#[test]
fn the_harness_reads_comments_statuses_and_rules() {
    let e = |command: &str| Example {
        place: "x".into(),
        command: command.into(),
        comment: String::new(),
    };
    assert_eq!(split_comment("a 'b # c' # d"), ("a 'b # c' ", " d"));
    assert_eq!(split_comment("a#b"), ("a#b", ""));
    assert_eq!(expected_status("exit status 4 for a 4xx"), 4);
    assert_eq!(expected_status("exit status 4 (a 404)"), 4);
    assert_eq!(expected_status("then: HELP"), 0);
    assert!(skip_rule(&e("portline-std get http://example.org/")).is_some());
    assert!(skip_rule(&e("portline-std get http://127.0.0.1:8080/")).is_none());
    assert!(skip_rule(&e("nc 127.0.0.1 7070")).is_some());
    assert!(skip_rule(&e("cargo bench -p x")).is_some());
}
