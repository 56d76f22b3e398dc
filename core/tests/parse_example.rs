//! The `parse` example as a user runs it: JSON lines on stdout, exit status 0 / 2 / 64, and the
//! same output whatever `--chunk` is. (Cargo builds examples before running integration tests.)

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn example() -> PathBuf {
    // target/<profile>/deps/<this test> -> target/<profile>/examples/parse
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    dir.join("examples")
        .join(format!("parse{}", std::env::consts::EXE_SUFFIX))
}

fn run(args: &[&str], input: &[u8]) -> (String, i32) {
    let mut child = Command::new(example())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the parse example is built (plain `cargo test` builds examples; or `cargo build -p portline-core --example parse`)");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        String::from_utf8(out.stdout).expect("UTF-8 JSON"),
        out.status.code().unwrap_or(-1),
    )
}

const PIPELINED: &[u8] = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.0\r\n\r\n";

#[test]
fn requests_print_json_lines_and_exit_0() {
    let (out, code) = run(&["http-request"], PIPELINED);
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            r#"{"event":"request","method":"GET","target":"/a","version":"1.1","headers":[["Host","x"]]}"#,
            r#"{"event":"end"}"#,
            r#"{"event":"request","method":"POST","target":"/b","version":"1.1","headers":[["Content-Length","5"]]}"#,
            r#"{"event":"data","len":5,"text":"hello"}"#,
            r#"{"event":"end"}"#,
            r#"{"event":"request","method":"GET","target":"/c","version":"1.0","headers":[]}"#,
            r#"{"event":"end"}"#,
            r#"{"event":"closed"}"#,
        ]
    );
}

#[test]
fn output_does_not_depend_on_chunk() {
    let response =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nHTTP/1.0 200 OK\r\n\r\nrest";
    for (mode, input) in [
        ("http-request", PIPELINED),
        ("http-response", &response[..]),
        ("http-request", b"GET / HTTP/1.1\r\nBad\x01: x\r\n\r\n"),
    ] {
        let whole = run(&[mode], input);
        for chunk in ["1", "2", "7"] {
            assert_eq!(
                run(&[mode, "--chunk", chunk], input),
                whole,
                "{mode} --chunk {chunk}"
            );
        }
    }
}

#[test]
fn protocol_errors_exit_2_and_usage_errors_64() {
    let (out, code) = run(&["http-request"], b"GET / HTTP/2.0\r\n\r\n");
    assert_eq!(code, 2);
    assert!(
        out.starts_with(r#"{"event":"error","status":505,"#),
        "{out}"
    );
    let (out, code) = run(
        &["http-response", "--method", "HEAD"],
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains(r#""event":"data""#),
        "HEAD has no body: {out}"
    );
    assert_eq!(run(&["nonsense"], b"").1, 64);
    assert_eq!(run(&["http-request", "--chunk"], b"").1, 64);
}

#[test]
fn a_response_with_an_unknown_coding_says_undecoded() {
    let (out, code) = run(
        &["http-response"],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(r#""undecoded":true}"#), "{out}");
    assert!(out.contains(r#"{"event":"data""#), "{out}");
    let (out, _) = run(
        &["http-response"],
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
    );
    assert!(!out.contains("undecoded"), "{out}");
}
