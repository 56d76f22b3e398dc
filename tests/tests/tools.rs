//! The tools of every binary: `services`, `info`, `netstat` (showing the server's own sockets),
//! `parse`, and `--help`.

use portline_tests::*;

fn lines_of(fe: Frontend, args: &[&str]) -> Vec<String> {
    let out = fe.run(args);
    let text = stdout_ok(&out, &format!("portline-{} {}", fe.name(), args.join(" ")));
    text.lines().map(|l| l.trim_end().to_string()).collect()
}

matrix!(
    services,
    info,
    netstat_own_sockets,
    parse_tool,
    help_and_usage_errors
);

/// `services 80 25 53/udp http`: names by port and the port by name.
fn services(fe: Frontend) {
    let lines = lines_of(fe, &["services", "80", "25", "53/udp", "http"]);
    assert_eq!(lines.len(), 4, "{lines:?}");
    let words: Vec<Vec<&str>> = lines
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(
        words[0].contains(&"80/tcp") && words[0].contains(&"http"),
        "{lines:?}"
    );
    assert!(
        words[1].contains(&"25/tcp") && words[1].contains(&"smtp"),
        "{lines:?}"
    );
    assert!(
        words[2].contains(&"53/udp") && words[2].contains(&"domain"),
        "{lines:?}"
    );
    assert!(
        words[3].contains(&"http") && words[3].contains(&"80/tcp"),
        "{lines:?}"
    );
    // Unknown: non-zero exit and the getservbyport wording on stderr.
    let out = fe.run(&["services", "65000/udp"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("port/proto not found"));
}

/// `info`: the host name and at least one address, the loopback one marked.
fn info(fe: Frontend) {
    let lines = lines_of(fe, &["info"]);
    let text = lines.join("\n");
    assert!(
        text.contains(&hostname()),
        "no host name {:?} in:\n{text}",
        hostname()
    );
    let addresses = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|w| {
            w.split('%')
                .next()
                .unwrap_or(w)
                .parse::<std::net::IpAddr>()
                .is_ok()
        })
        .count();
    assert!(addresses >= 1, "no address in:\n{text}");
    let loopback_line = lines
        .iter()
        .find(|l| l.contains("127.0.0.1") || l.contains("::1"));
    if let Some(line) = loopback_line {
        assert!(
            line.to_ascii_lowercase().contains("loopback"),
            "loopback not marked: {line}"
        );
    }
}

/// `netstat -l -n` lists the server's own TCP listener; `netstat -u -a -n` its UDP socket;
/// `netstat -t -a -n` an established connection to it.
fn netstat_own_sockets(fe: Frontend) {
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let needle = format!("127.0.0.1:{}", server.port());
    let lines = lines_of(fe, &["netstat", "-l", "-n"]);
    let own: Vec<&String> = lines.iter().filter(|l| l.contains(&needle)).collect();
    assert!(
        !own.is_empty(),
        "{needle} not in netstat -l -n:\n{}",
        lines.join("\n")
    );
    assert!(
        own.iter()
            .any(|l| l.contains("LISTEN") && l.starts_with("tcp")),
        "{own:?}"
    );

    let _held = connect(server.addr());
    sleep_ms(100);
    let lines = lines_of(fe, &["netstat", "-t", "-a", "-n"]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&needle) && l.contains("ESTABLISHED")),
        "no ESTABLISHED connection to {needle}:\n{}",
        lines.join("\n")
    );

    let udp = fe.serve_line_with("echo", &["--udp"]);
    let needle = format!("127.0.0.1:{}", udp.port());
    let lines = lines_of(fe, &["netstat", "-u", "-a", "-n"]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&needle) && l.starts_with("udp")),
        "{needle} not in netstat -u -a -n:\n{}",
        lines.join("\n")
    );
    // Without -u only TCP.
    let lines = lines_of(fe, &["netstat", "-t", "-l", "-n"]);
    assert!(lines.iter().all(|l| !l.starts_with("udp")), "{lines:?}");
}

/// `parse http-request`: exit 0 and JSON events on valid input, exit 2 on a protocol error;
/// the result does not depend on --chunk.
fn parse_tool(fe: Frontend) {
    let parse = |args: &[&str], input: &[u8]| {
        let mut all = vec!["parse"];
        all.extend_from_slice(args);
        let out = run_with_input(&mut fe.command(&all), input, PEER_TIMEOUT);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        for line in text.lines() {
            assert!(
                line.starts_with('{') && line.ends_with('}'),
                "parse {args:?}: not one JSON object per line: {line}"
            );
        }
        (out.status.code(), text)
    };
    let request = b"GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    let (code, whole) = parse(&["http-request"], request);
    assert_eq!(code, Some(0), "{whole}");
    for needle in ["GET", "/x", "Host", "abc"] {
        assert!(whole.contains(needle), "no {needle} in:\n{whole}");
    }
    // Fed one byte or seven bytes at a time: the same events.
    for chunk in ["1", "7"] {
        let (code, split) = parse(&["http-request", "--chunk", chunk], request);
        assert_eq!(code, Some(0));
        assert_eq!(split, whole, "--chunk {chunk}");
    }
    let (code, bad) = parse(
        &["http-request"],
        b"GET /x HTTP/1.1\r\nBad Header: x\r\n\r\n",
    );
    assert_eq!(code, Some(2), "{bad}");
    assert!(bad.contains("400"), "no status in the error event: {bad}");

    // Responses: HEAD has no body; otherwise a missing body is an error; no length means
    // the body runs to the end.
    let head = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n";
    let (code, out) = parse(&["http-response", "--method", "HEAD"], head);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = parse(&["http-response"], head);
    assert_eq!(code, Some(2), "{out}");
    let (code, out) = parse(
        &["http-response"],
        b"HTTP/1.0 200 OK\r\n\r\nclose-delimited",
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("close-delimited"), "{out}");

    // Lines, including the unterminated last one.
    let (code, out) = parse(&["line"], b"one\r\ntwo\nthree");
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("one") && out.contains("two") && out.contains("three"),
        "{out}"
    );
    let (_, split) = parse(&["line", "--chunk", "1"], b"one\r\ntwo\nthree");
    assert_eq!(split, out);
    // From a file argument as well as stdin.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), request).unwrap();
    let (code, from_file) = parse(&["http-request", file.path().to_str().unwrap()], b"");
    assert_eq!((code, from_file), (Some(0), whole));
}

/// `--help` works on every command and a bad command line exits non-zero with a message.
fn help_and_usage_errors(fe: Frontend) {
    for args in [
        &["--help"][..],
        &["serve", "http", "--help"],
        &["serve", "line", "--help"],
        &["get", "--help"],
        &["connect", "--help"],
        &["services", "--help"],
        &["info", "--help"],
        &["netstat", "--help"],
        &["parse", "--help"],
    ] {
        let out = fe.run(args);
        let text = stdout_ok(&out, &args.join(" "));
        assert!(
            text.to_ascii_lowercase().contains("usage"),
            "{args:?}: {text}"
        );
    }
    let out = fe.run(&["serve", "http", "--no-such-flag"]);
    assert!(!out.status.success());
    assert!(!out.stderr.is_empty());
    let out = fe.run(&["get", "not a url"]);
    assert!(!out.status.success());
}
