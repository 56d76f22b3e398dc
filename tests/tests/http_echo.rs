//! `serve http --echo`: curl's requests come back as JSON of what the parser saw, in both
//! formats, with the file server's limits and timeouts.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use portline_tests::*;
use serde_json::{Value, json};

matrix!(
    echo_shows_what_curl_sent,
    echo_garden_is_base64_and_binary_safe,
    echo_has_the_file_servers_limits_and_timeouts
);

fn serve_echo(fe: Frontend, extra: &[&str]) -> Server {
    let mut args = vec!["serve", "http", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Server::start(fe, &args, "http")
}

fn curl_json(args: &[&str]) -> Value {
    let out = run(Command::new("curl").arg("-sS").args(args), PEER_TIMEOUT);
    let text = stdout_ok(&out, &format!("curl {}", args.join(" ")));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn echo_shows_what_curl_sent(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let server = serve_echo(fe, &["--echo"]);
    let url = server.url("/path/x?q=1&r=%20");
    let json = curl_json(&[
        "-H",
        "X-Dup: one",
        "-H",
        "Accept: text/plain",
        "-H",
        "X-Dup: two",
        "-H",
        "Content-Type: text/plain",
        "--data-binary",
        "hello body",
        &url,
    ]);
    assert_eq!(json["method"], "POST");
    assert_eq!(json["uri"], "/path/x?q=1&r=%20");
    assert_eq!(json["version"], "1.1");
    assert_eq!(json["body"], "hello body");
    let headers = json["headers"].as_array().expect("headers").clone();
    let port = server.port().to_string();
    // In the order curl sent them, duplicates where they were.
    assert_eq!(
        headers,
        [
            json!(["Host", format!("127.0.0.1:{port}")]),
            json!(["User-Agent", headers[1][1].clone()]),
            json!(["X-Dup", "one"]),
            json!(["Accept", "text/plain"]),
            json!(["X-Dup", "two"]),
            json!(["Content-Type", "text/plain"]),
            json!(["Content-Length", "10"]),
        ],
        "{json}"
    );
    assert!(headers[1][1].as_str().unwrap().starts_with("curl/"));

    // HTTP/1.0 and HEAD.
    let json = curl_json(&["--http1.0", &server.url("/ten")]);
    assert_eq!(
        (json["method"].clone(), json["version"].clone()),
        (json!("GET"), json!("1.0"))
    );
    let out = run(
        Command::new("curl").args(["-sS", "-I", &server.url("/h")]),
        PEER_TIMEOUT,
    );
    let head = stdout_ok(&out, "curl -I");
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    assert!(
        head.contains("Content-Type: application/json\r\n"),
        "{head}"
    );

    // The access log has every request, like the file server's.
    let lines = server.wait_log(3, Duration::from_secs(5), |l| l.contains("\" 200 "));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"POST /path/x?q=1&r=%20 HTTP/1.1\" 200 ")),
        "{lines:?}"
    );
}

fn echo_garden_is_base64_and_binary_safe(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let server = serve_echo(fe, &["--echo=garden", "--quiet"]);
    let fx = Fixture::new();
    let body_path = fx.scratch("echo").join("body.bin");
    let body: Vec<u8> = (0..=255u8).collect();
    std::fs::write(&body_path, &body).unwrap();
    let data = format!("@{}", body_path.display());
    let json = curl_json(&[
        "-X",
        "PUT",
        "-H",
        "X-Token: abc",
        "--data-binary",
        &data,
        &server.url("/g"),
    ]);
    let decode = |v: &Value| {
        BASE64
            .decode(v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
            .unwrap()
    };
    assert_eq!(decode(&json["method"]), b"PUT");
    assert_eq!(decode(&json["uri"]), b"/g");
    assert_eq!(decode(&json["version"]), b"1.1");
    assert_eq!(decode(&json["body"]), body);
    let token = json["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| decode(&pair[0]) == b"X-Token")
        .expect("X-Token echoed");
    assert_eq!(decode(&token[1]), b"abc");

    // In the readable format, bytes that are not UTF-8 come as {"base64": ...}.
    let readable = serve_echo(fe, &["--echo", "--quiet"]);
    let json = curl_json(&["--data-binary", &data, &readable.url("/r")]);
    assert_eq!(json["body"]["base64"], BASE64.encode(&body));
}

fn echo_has_the_file_servers_limits_and_timeouts(fe: Frontend) {
    let server = serve_echo(
        fe,
        &[
            "--echo",
            "--quiet",
            "--header-timeout",
            "0.5",
            "--idle-timeout",
            "0.5",
            "--first-byte-timeout",
            "0.5",
        ],
    );
    // A body over 1 MiB: 413 before a byte of it is read.
    let big = exchange(
        server.addr(),
        b"POST / HTTP/1.0\r\nContent-Length: 1048577\r\n\r\n",
    );
    assert_eq!(big.status, 413);
    // A head that never ends: closed after --header-timeout without an answer, as nginx does.
    let mut stream = connect(server.addr());
    stream.write_all(b"GET / HTTP/1.0\r\nX: ").unwrap();
    let started = Instant::now();
    let reply = String::from_utf8_lossy(&read_to_close(&mut stream)).into_owned();
    assert_eq!(reply, "", "no answer to a timed-out head");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    // A connection that sends nothing: closed after --first-byte-timeout without a byte.
    let mut idle = connect(server.addr());
    assert_eq!(read_to_close(&mut idle), b"");
    // Others carry on.
    let ok = exchange(server.addr(), b"GET /still HTTP/1.0\r\n\r\n");
    assert_eq!(ok.status, 200);
}
