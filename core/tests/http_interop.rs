//! The `http` feature: heads to `http` types and `http` messages to what the commands take,
//! round-tripped through real connections in both roles, and the documented losses.

use portline_core::Time;
use portline_core::http::interop::{ConvertError, RequestFields, ResponseFields};
use portline_core::http::{
    BodyLength, Config, Connection, Event, Progress, RequestHead, ResponseHead, Role,
};

const NOW: Time = Time::ZERO;

/// A server connection's request head for `bytes`.
fn parse_request(bytes: &[u8]) -> RequestHead {
    let mut conn = Connection::new(Role::Server, Config::default(), NOW);
    conn.receive(NOW, bytes);
    match conn.poll_event() {
        Ok(Progress::Event(Event::Request(head))) => head,
        other => panic!(
            "no request head for {:?}: {other:?}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

/// A client connection that sent a GET; its response head for `bytes`.
fn parse_response(bytes: &[u8]) -> ResponseHead {
    let mut conn = Connection::new(Role::Client, Config::default(), NOW);
    let request = portline_core::http::Request {
        method: "GET",
        target: "/",
        headers: &[],
        body: BodyLength::Known(0),
        keep_alive: false,
    };
    conn.send_request(NOW, &request, &mut Vec::new()).unwrap();
    conn.send_end(NOW).unwrap();
    conn.receive(NOW, bytes);
    match conn.poll_event() {
        Ok(Progress::Event(Event::Response(head))) => head,
        other => panic!("no response head: {other:?}"),
    }
}

/// Fields as `(lowercase name, value)` in the map's order.
fn map_fields(map: &http::HeaderMap) -> Vec<(String, Vec<u8>)> {
    map.iter()
        .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
        .collect()
}

#[test]
fn a_request_head_becomes_an_http_request_sharing_its_values() {
    let head = parse_request(
        b"POST /submit?a=1&b=%20 HTTP/1.1\r\nHost: example.org\r\nX-Multi: one\r\n\
          Content-Length: 3\r\nX-Multi: two\r\n\r\nabc",
    );
    let request = head.to_http().unwrap();
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(request.uri().path(), "/submit");
    assert_eq!(request.uri().query(), Some("a=1&b=%20"));
    assert_eq!(request.version(), http::Version::HTTP_11);
    assert_eq!(request.headers()["host"], "example.org");
    assert_eq!(request.headers()["content-length"], "3");
    let multi: Vec<_> = request.headers().get_all("x-multi").iter().collect();
    assert_eq!(multi, ["one", "two"], "values of one name keep their order");
    assert_eq!(request.headers().len(), 4);

    for (bytes, version) in [
        (&b"GET / HTTP/1.0\r\n\r\n"[..], http::Version::HTTP_10),
        (b"GET /\r\n", http::Version::HTTP_09),
    ] {
        assert_eq!(parse_request(bytes).to_http().unwrap().version(), version);
    }
    // Other target forms: asterisk, absolute, authority.
    let star = parse_request(b"OPTIONS * HTTP/1.0\r\n\r\n")
        .to_http()
        .unwrap();
    assert_eq!(star.uri(), "*");
    let absolute = parse_request(b"GET http://h:8080/p?q HTTP/1.0\r\n\r\n")
        .to_http()
        .unwrap();
    assert_eq!(absolute.uri().authority().unwrap().as_str(), "h:8080");
    let authority = parse_request(b"CONNECT h:443 HTTP/1.0\r\n\r\n")
        .to_http()
        .unwrap();
    assert_eq!(authority.method(), http::Method::CONNECT);
    assert_eq!(authority.uri().port_u16(), Some(443));
}

#[test]
fn a_response_head_becomes_an_http_response_without_its_reason() {
    let head = parse_response(
        b"HTTP/1.1 404 Gone Fishing\r\nServer: x\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
    );
    let response = head.to_http().unwrap();
    assert_eq!(response.status(), http::StatusCode::NOT_FOUND);
    assert_eq!(response.version(), http::Version::HTTP_11);
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    // The reason phrase is not in http's types (the documented loss).
    assert_eq!(response.status().canonical_reason(), Some("Not Found"));
}

/// Documented loss: a HeaderMap keeps the order of one name's values, not the interleaving of
/// fields, and lowercases names. The raw `Headers` keep both.
#[test]
fn the_header_map_loses_field_order_and_interleaving() {
    let head = parse_request(b"GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\nA: 3\r\n\r\n");
    let raw: Vec<_> = head.headers.iter().collect();
    assert_eq!(raw, [(&b"A"[..], &b"1"[..]), (b"B", b"2"), (b"A", b"3")]);
    let map = map_fields(head.to_http().unwrap().headers());
    assert_eq!(
        map,
        [
            ("a".to_string(), b"1".to_vec()),
            ("a".to_string(), b"3".to_vec()),
            ("b".to_string(), b"2".to_vec()),
        ]
    );
    // A fragment sent in the target (which servers should not get) is dropped by http::Uri.
    let uri = parse_request(b"GET /a#frag HTTP/1.0\r\n\r\n")
        .to_http()
        .unwrap();
    assert_eq!(uri.uri(), "/a");
}

#[test]
fn what_http_types_refuse_is_an_error_not_a_panic() {
    // A backquote is a valid request-target byte for the parser, not for http::Uri.
    let head = parse_request(b"GET /a`b HTTP/1.0\r\n\r\n");
    assert_eq!(head.to_http().unwrap_err(), ConvertError::Target);
    assert!(ConvertError::Target.to_string().contains("http::Uri"));
}

/// `http::Request` → `RequestFields` → a client connection's bytes → a server connection's head
/// → `http::Request` again: the same method, target and fields.
#[test]
fn requests_round_trip_through_both_roles() {
    let mut original = http::Request::builder()
        .method("PUT")
        .uri("http://example.org:8080/items/7?rev=2")
        .header("Accept", "text/plain")
        .header("X-Dup", "1")
        .header("X-Dup", "2")
        .header("Content-Length", "5")
        .body(b"hello".to_vec())
        .unwrap();
    let fields = RequestFields::new(&original, BodyLength::Known(5), true).unwrap();
    let mut client = Connection::new(Role::Client, Config::default(), NOW);
    let mut wire = Vec::new();
    client
        .send_request(NOW, &fields.request(), &mut wire)
        .unwrap();
    client.send_data(NOW, original.body(), &mut wire).unwrap();
    client.send_end(NOW).unwrap();
    let text = String::from_utf8(wire.clone()).unwrap();
    assert!(
        text.starts_with("PUT /items/7?rev=2 HTTP/1.0\r\nHost: example.org:8080\r\n"),
        "{text}"
    );
    assert!(text.contains("Connection: keep-alive\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nhello"), "{text}");

    let again = parse_request(&wire).to_http().unwrap();
    assert_eq!(again.method(), original.method());
    assert_eq!(again.uri(), "/items/7?rev=2");
    // Host was added from the authority; Connection by the connection. The rest is the same.
    original
        .headers_mut()
        .insert("host", "example.org:8080".parse().unwrap());
    let mut expected = map_fields(original.headers());
    expected.push(("connection".into(), b"keep-alive".to_vec()));
    let mut got = map_fields(again.headers());
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
}

/// `http::Response` → `ResponseFields` → a server connection's bytes → a client connection's
/// head → `http::Response` again.
#[test]
fn responses_round_trip_through_both_roles() {
    let original = http::Response::builder()
        .status(201)
        .header("Location", "/items/8")
        .header("Set-Cookie", "a=1")
        .header("Set-Cookie", "b=2")
        .body(())
        .unwrap();
    let mut server = Connection::new(Role::Server, Config::default(), NOW);
    server.receive(NOW, b"POST /items HTTP/1.0\r\n\r\n");
    assert!(matches!(
        server.poll_event(),
        Ok(Progress::Event(Event::Request(_)))
    ));
    assert_eq!(
        server.poll_event(),
        Ok(Progress::Event(Event::EndOfMessage))
    );
    let fields = ResponseFields::new(&original, BodyLength::Known(0)).unwrap();
    let mut wire = Vec::new();
    server
        .send_response(NOW, &fields.response(), &mut wire)
        .unwrap();
    server.send_end(NOW).unwrap();
    assert!(wire.starts_with(b"HTTP/1.0 201 Created\r\nlocation: /items/8\r\n"));

    let again = parse_response(&wire).to_http().unwrap();
    assert_eq!(again.status(), original.status());
    let mut expected = map_fields(original.headers());
    // Added by the connection: the length, and the end of this HTTP/1.0 connection.
    expected.push(("content-length".into(), b"0".to_vec()));
    expected.push(("connection".into(), b"close".to_vec()));
    assert_eq!(map_fields(again.headers()), expected);
}

#[test]
fn framing_fields_in_http_messages_are_checked() {
    let with = |name: &str, value: &str| {
        http::Response::builder()
            .header(name, value)
            .body(())
            .unwrap()
    };
    // A Content-Length that agrees is left for the connection to write (not written twice).
    let agrees = with("Content-Length", "4");
    let fields = ResponseFields::new(&agrees, BodyLength::Known(4)).unwrap();
    assert!(fields.response().headers.is_empty());
    for (response, body) in [
        (with("Content-Length", "4"), BodyLength::Known(5)),
        (with("Content-Length", "4"), BodyLength::Unknown),
        (with("Content-Length", "x"), BodyLength::Known(4)),
        (with("Connection", "close"), BodyLength::Known(0)),
        (with("Transfer-Encoding", "chunked"), BodyLength::Unknown),
    ] {
        let err = ResponseFields::new(&response, body).unwrap_err();
        assert!(
            matches!(err, ConvertError::Framing(_)),
            "{response:?}: {err:?}"
        );
    }
    let request = http::Request::builder()
        .uri("/")
        .header("Connection", "keep-alive")
        .body(())
        .unwrap();
    assert!(RequestFields::new(&request, BodyLength::Known(0), true).is_err());

    // CONNECT: the target is the authority; a request without a path gets "/".
    let connect = http::Request::builder()
        .method("CONNECT")
        .uri("h:443")
        .body(())
        .unwrap();
    let fields = RequestFields::new(&connect, BodyLength::Known(0), false).unwrap();
    assert_eq!(fields.request().target, "h:443");
    let bare = http::Request::builder().uri("http://h").body(()).unwrap();
    let fields = RequestFields::new(&bare, BodyLength::Known(0), false).unwrap();
    assert_eq!(fields.request().target, "/");
    assert_eq!(fields.request().headers, [("Host", &b"h"[..])]);
}
