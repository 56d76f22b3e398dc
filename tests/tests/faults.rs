//! Faults found by trying the binaries (issue 11 §2), each kept as a regression test: a second
//! server on a taken port, out-of-range `--threads` and zero timeouts.

use portline_tests::*;

matrix!(
    a_second_server_on_a_taken_port_fails,
    out_of_range_flags_are_refused,
    the_open_files_limit_is_raised_to_the_hard_limit
);

/// Starting a second server on the address of a running one fails at once with "Address
/// already in use" (portline-mio's SO_REUSEPORT once let the two split the traffic), and the
/// first server carries on.
fn a_second_server_on_a_taken_port_fails(fe: Frontend) {
    let fx = Fixture::new();
    let first = fe.serve_http(&fx.root);
    let addr = first.addr().to_string();
    for other in ["std", "mio", "smol"] {
        let out = Frontend::named(other).run(&["serve", "http", "--listen", &addr, "--quiet"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{other} after {}: {err}",
            fe.name()
        );
        assert!(err.contains("Address already in use"), "{other}: {err}");
        assert!(err.contains(&addr), "the message names the address: {err}");
    }
    let line = fe.serve_line("echo");
    let out = fe.run(&["serve", "line", "--listen", &line.addr().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(get(first.addr(), "/hello.txt").body, HELLO);
}

/// `--threads` beyond the bound and zero timeouts are usage errors with a message, not a panic
/// at start or a server whose every connection breaks.
fn out_of_range_flags_are_refused(fe: Frontend) {
    let cases: &[(&[&str], &str)] = &[
        (&["--threads", "100000"], "at most 256"),
        (&["--threads", "0"], "at least 1"),
        (&["--idle-timeout", "0"], "more than 0"),
        (&["--header-timeout", "0"], "more than 0"),
        (&["--body-timeout", "0"], "more than 0"),
        (&["--first-byte-timeout", "0"], "more than 0"),
    ];
    for (flags, says) in cases {
        let mut args = vec!["serve", "http", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(flags);
        let out = fe.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        assert!(err.contains(says), "{flags:?}: {err}");
    }
}

/// At start the soft open-files limit is raised to the hard one (nginx's `worker_rlimit_nofile`),
/// so the derived default connection limit is what the machine allows, not a shell's 1024.
fn the_open_files_limit_is_raised_to_the_hard_limit(fe: Frontend) {
    let fx = Fixture::new();
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -S -n 256 && exec \"$0\" \"$@\"")
        .arg(fe.bin())
        .args([
            "serve",
            "http",
            "--quiet",
            "--listen",
            "127.0.0.1:0",
            "--root",
        ])
        .arg(&fx.root);
    let server = Server::start_command(fe, cmd, "http");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.pid())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("a Max open files line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (soft, hard) = (fields[3], fields[4]);
    assert_eq!(soft, hard, "{line}");
    assert_ne!(soft, "256", "{line}");
    assert_eq!(get(server.addr(), "/hello.txt").body, HELLO);
}
