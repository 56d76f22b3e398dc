//! The file server against curl: text and binary GET, HEAD, 404, 304, HTTP/1.0, connection reuse,
//! index.html, directory listings, 405, and the access log.

use portline_tests::*;
use std::process::Command;

matrix!(
    get_text,
    get_binary,
    head,
    not_found,
    if_modified_since,
    http10,
    connection_reuse,
    index_and_listing,
    content_types,
    method_not_allowed,
    access_log
);

/// GET of a text file: 200, the exact bytes, text/plain, Content-Length, Date, Server.
fn get_text(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let (status, headers, body) = curl(&[], &server.url("/hello.txt"));
    assert_eq!(status, 200, "{headers:?}");
    assert_eq!(body, HELLO);
    let ctype = has_header(&headers, "content-type").expect("Content-Type");
    assert!(ctype.starts_with("text/plain"), "Content-Type {ctype}");
    assert_eq!(
        has_header(&headers, "content-length").as_deref(),
        Some("21")
    );
    assert!(
        has_header(&headers, "date").is_some(),
        "no Date: {headers:?}"
    );
    assert!(
        has_header(&headers, "server").is_some(),
        "no Server: {headers:?}"
    );
    assert!(
        has_header(&headers, "last-modified").is_some(),
        "no Last-Modified: {headers:?}"
    );
}

/// GET of a 100 KiB and a 4 MiB binary file: byte-identical.
fn get_binary(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let (status, _, body) = curl(&[], &server.url("/data.bin"));
    assert_eq!(status, 200);
    assert!(
        body == fx.data,
        "data.bin differs: got {} bytes, want {}",
        body.len(),
        fx.data.len()
    );
    let (status, _, body) = curl(&[], &server.url("/big.bin"));
    assert_eq!(status, 200);
    assert!(
        body == fx.big,
        "big.bin differs: got {} bytes, want {}",
        body.len(),
        fx.big.len()
    );
}

/// HEAD: the same head as GET, no body.
fn head(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let (status, headers, body) = curl(&["-I"], &server.url("/data.bin"));
    assert_eq!(status, 200);
    // curl -I prints the head itself on stdout; nothing may follow it.
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.starts_with("HTTP/1.0 200") && text.ends_with("\r\n\r\n"),
        "curl -I output: {text:?}"
    );
    assert_eq!(
        has_header(&headers, "content-length").as_deref(),
        Some("102400")
    );
    // And on the wire: nothing after the head (a raw client would see it).
    let resp = exchange(server.addr(), b"HEAD /hello.txt HTTP/1.0\r\n\r\n");
    assert_eq!(resp.status, 200);
    let mut stream = connect(server.addr());
    std::io::Write::write_all(&mut stream, b"HEAD /hello.txt HTTP/1.0\r\n\r\n").unwrap();
    let raw = read_to_close(&mut stream);
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.ends_with("\r\n\r\n"),
        "bytes after the HEAD response head: {text:?}"
    );
}

/// A missing file: 404 with a body that is not the secret or a listing.
fn not_found(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let (status, _, _) = curl(&[], &server.url("/no/such/file.txt"));
    assert_eq!(status, 404);
    let (status, _, _) = curl(&[], &server.url("/nothing"));
    assert_eq!(status, 404);
}

/// If-Modified-Since equal to Last-Modified gives 304 with no body; an old date gives 200.
fn if_modified_since(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let (status, headers, _) = curl(&[], &server.url("/hello.txt"));
    assert_eq!(status, 200);
    let last_modified = has_header(&headers, "last-modified").expect("Last-Modified");
    let ims = format!("If-Modified-Since: {last_modified}");
    let (status, _, body) = curl(&["-H", &ims], &server.url("/hello.txt"));
    assert_eq!(status, 304, "with {ims}");
    assert!(body.is_empty(), "304 with a body");
    let (status, _, body) = curl(
        &["-H", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"],
        &server.url("/hello.txt"),
    );
    assert_eq!(status, 200);
    assert_eq!(body, HELLO);
    // curl's own conditional: -z with a date after the file's time.
    let (status, _, _) = curl(
        &["-z", "Fri, 01 Jan 2100 00:00:00 GMT"],
        &server.url("/hello.txt"),
    );
    assert_eq!(status, 304);
}

/// curl --http1.0: an HTTP/1.0 response with the body.
fn http10(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let out = run(
        Command::new("curl")
            .args(["-s", "-S", "--max-time", "10", "--http1.0", "-i"])
            .arg(server.url("/hello.txt")),
        PEER_TIMEOUT,
    );
    let text = stdout_ok(&out, "curl --http1.0");
    assert!(text.starts_with("HTTP/1.0 200"), "{text}");
    assert!(
        text.ends_with(std::str::from_utf8(HELLO).unwrap()),
        "{text}"
    );
}

/// Two URLs on one curl command line share one kept-alive connection.
fn connection_reuse(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    for extra in [&[][..], &["--http1.0", "-H", "Connection: keep-alive"][..]] {
        let out = run(
            Command::new("curl")
                .args(["-s", "-S", "-v", "--max-time", "10"])
                .args(extra)
                .arg(server.url("/hello.txt"))
                .arg(server.url("/site/index.html")),
            PEER_TIMEOUT,
        );
        let body = stdout_ok(&out, "curl two urls");
        let mut want = String::from_utf8(HELLO.to_vec()).unwrap();
        want.push_str(std::str::from_utf8(INDEX_HTML).unwrap());
        assert_eq!(body, want);
        let verbose = String::from_utf8_lossy(&out.stderr);
        assert!(
            verbose.contains("Re-using existing connection")
                || verbose.contains("Reusing existing connection"),
            "curl {extra:?} did not reuse the connection:\n{verbose}"
        );
        assert!(verbose.contains("left intact"), "{verbose}");
        assert!(
            verbose
                .to_ascii_lowercase()
                .contains("< connection: keep-alive"),
            "no `Connection: keep-alive` in the response:\n{verbose}"
        );
    }
}

/// index.html is served for a directory; a directory without one gets an HTML listing.
fn index_and_listing(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let (status, headers, body) = curl(&[], &server.url("/site/"));
    assert_eq!(status, 200);
    assert_eq!(body, INDEX_HTML);
    let ctype = has_header(&headers, "content-type").unwrap_or_default();
    assert!(ctype.starts_with("text/html"), "Content-Type {ctype}");
    let (status, headers, body) = curl(&[], &server.url("/tree/"));
    assert_eq!(status, 200);
    let ctype = has_header(&headers, "content-type").unwrap_or_default();
    assert!(
        ctype.starts_with("text/html"),
        "listing Content-Type {ctype}"
    );
    let listing = String::from_utf8_lossy(&body);
    for name in ["a.txt", "b.html", "sub"] {
        assert!(
            listing.contains(&format!("{name}\"")) || listing.contains(&format!("{name}/\"")),
            "listing has no link to {name}:\n{listing}"
        );
    }
    assert!(listing.contains("<a "), "listing without links:\n{listing}");
    // The root directory has a listing too, and curl -L follows a directory redirect if any.
    let (status, _, body) = curl(&["-L"], &server.url("/tree"));
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("a.txt"));
}

/// Content-Type by extension.
fn content_types(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let (_, headers, _) = curl(&[], &server.url("/tree/b.html"));
    assert!(
        has_header(&headers, "content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let (_, headers, _) = curl(&[], &server.url("/data.bin"));
    assert_eq!(
        has_header(&headers, "content-type").as_deref(),
        Some("application/octet-stream")
    );
}

/// A method other than GET/HEAD gets 405 with an Allow header.
fn method_not_allowed(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    let (status, headers, _) = curl(&["-X", "DELETE"], &server.url("/hello.txt"));
    assert_eq!(status, 405);
    let allow = has_header(&headers, "allow").expect("Allow header on 405");
    assert!(
        allow.contains("GET") && allow.contains("HEAD"),
        "Allow: {allow}"
    );
    assert!(fx.root.join("hello.txt").exists());
}

/// One Common Log Format line per request on stderr; none with --quiet.
fn access_log(fe: Frontend) {
    if !require("curl") {
        return;
    }
    let fx = Fixture::new();
    let server = fe.serve_http(&fx.root);
    curl(&[], &server.url("/hello.txt"));
    curl(&[], &server.url("/missing.txt"));
    let lines = server.wait_log(2, std::time::Duration::from_secs(5), |l| {
        l.contains("\"GET /")
    });
    assert_eq!(lines.len(), 2, "access log: {:?}", server.log());
    // 127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /hello.txt HTTP/1.1" 200 21
    let ok = &lines[0];
    assert!(ok.starts_with("127.0.0.1 - - ["), "{ok}");
    assert!(ok.contains("] \"GET /hello.txt HTTP/1.1\" 200 21"), "{ok}");
    assert!(
        lines[1].contains("\"GET /missing.txt HTTP/1.1\" 404 "),
        "{}",
        lines[1]
    );

    let quiet = fe.serve_http_with(&fx.root, &["--quiet"]);
    curl(&[], &quiet.url("/hello.txt"));
    curl(&[], &server.url("/hello.txt"));
    // The loud server logged its third request; by then the quiet one has had time too.
    server.wait_log(3, std::time::Duration::from_secs(5), |l| {
        l.contains("\"GET /")
    });
    sleep_ms(100);
    assert!(
        quiet.log().iter().all(|l| !l.contains("GET /hello.txt")),
        "--quiet still logs: {:?}",
        quiet.log()
    );
}
