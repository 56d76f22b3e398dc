//! `parse`: the core's inspector behind the command line: JSON lines, exit statuses, options
//! checked against the mode, output independent of `--chunk`.

use std::path::PathBuf;

use portline_common::cli::tools::parse::{self, Args, Mode};
use portline_core::inspect::{self, InspectEvent};

fn args(mode: Mode) -> Args {
    Args {
        mode,
        file: None,
        chunk: 0,
        method: None,
        max_line: None,
        telnet: false,
    }
}

fn json(events: &[InspectEvent]) -> Vec<String> {
    events.iter().map(InspectEvent::to_json_line).collect()
}

/// The events for every chunk size from 1 to 7 and all at once; they must all agree.
fn lines(a: &Args, input: &[u8]) -> Vec<String> {
    let whole = json(&parse::events(a, input).unwrap());
    for chunk in 1..8 {
        let split = json(&parse::events(&Args { chunk, ..a.clone() }, input).unwrap());
        assert_eq!(split, whole, "chunk {chunk}");
    }
    for line in &whole {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["event"].is_string(), "{line}");
    }
    whole
}

#[test]
fn http_request_pipelined_with_keep_alive() {
    let input =
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nPOST /p HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello";
    let out = lines(&args(Mode::HttpRequest), input);
    assert_eq!(
        out,
        [
            r#"{"event":"request","method":"GET","target":"/","version":"1.0","headers":[["Connection","keep-alive"]]}"#,
            r#"{"event":"end"}"#,
            r#"{"event":"request","method":"POST","target":"/p","version":"1.0","headers":[["Content-Length","5"]]}"#,
            r#"{"event":"data","len":5,"text":"hello"}"#,
            r#"{"event":"end"}"#,
            r#"{"event":"closed"}"#,
        ]
    );
    let events = parse::events(&args(Mode::HttpRequest), input).unwrap();
    assert_eq!(inspect::exit_status(&events), 0);
}

#[test]
fn http_request_error_exits_2() {
    let events = parse::events(&args(Mode::HttpRequest), b"GET / HTTP/9.9\r\n\r\n").unwrap();
    let last = events.last().unwrap().to_json_line();
    assert!(
        last.starts_with(r#"{"event":"error","status":505"#),
        "{last}"
    );
    assert_eq!(inspect::exit_status(&events), 2);
}

#[test]
fn http_response_head_method_has_no_body() {
    let input = b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n";
    let head = Args {
        method: Some("HEAD".into()),
        ..args(Mode::HttpResponse)
    };
    let out = lines(&head, input);
    assert_eq!(
        out,
        [
            r#"{"event":"response","version":"1.0","status":200,"reason":"OK","headers":[["Content-Length","3"]]}"#,
            r#"{"event":"end"}"#,
            r#"{"event":"closed"}"#,
        ]
    );
    // With GET the body is owed and the stream ends early: an error.
    let events = parse::events(&args(Mode::HttpResponse), input).unwrap();
    assert_eq!(inspect::exit_status(&events), 2);
}

#[test]
fn line_mode_with_limit_and_telnet() {
    let a = Args {
        max_line: Some(4),
        ..args(Mode::Line)
    };
    assert_eq!(
        lines(&a, b"one\r\ntoo long\nlast"),
        [
            r#"{"event":"line","text":"one"}"#,
            r#"{"event":"too_long","dropped":5}"#,
            r#"{"event":"eof","unterminated":"last"}"#,
        ]
    );
    let t = Args {
        telnet: true,
        ..args(Mode::Line)
    };
    assert_eq!(
        lines(&t, b"\xff\xfd\x01hi\r\n"),
        [
            r#"{"event":"reply","hex":"fffc01"}"#,
            r#"{"event":"line","text":"hi"}"#,
            r#"{"event":"eof","unterminated":null}"#,
        ]
    );
    // Without --telnet, IAC is data.
    let plain = lines(&args(Mode::Line), b"\xff\xfd\x01hi\n");
    assert_eq!(plain.len(), 2);
    assert!(plain[0].starts_with(r#"{"event":"line","text":""#));
}

#[test]
fn options_of_another_mode_are_refused() {
    let bad = [
        Args {
            telnet: true,
            ..args(Mode::HttpRequest)
        },
        Args {
            max_line: Some(3),
            ..args(Mode::HttpResponse)
        },
        Args {
            method: Some("HEAD".into()),
            ..args(Mode::Line)
        },
        Args {
            method: Some("HEAD".into()),
            ..args(Mode::HttpRequest)
        },
        Args {
            method: Some("BAD METHOD".into()),
            ..args(Mode::HttpResponse)
        },
    ];
    for a in bad {
        assert!(parse::events(&a, b"x").is_err(), "{a:?}");
    }
}

fn fixture(name: &str, bytes: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn run_exit_statuses() {
    let good = fixture("tools_parse_good", b"GET / HTTP/1.0\r\n\r\n");
    let bad = fixture("tools_parse_bad", b"GET / HTTP/1.0\r\nBad Header\r\n\r\n");
    let with = |file: PathBuf| Args {
        file: Some(file),
        ..args(Mode::HttpRequest)
    };
    assert_eq!(parse::run(&with(good)), 0);
    assert_eq!(parse::run(&with(bad)), 2);
    assert_eq!(parse::run(&with(PathBuf::from("/nonexistent/input"))), 1);
}
