//! A kept-alive connection allocates nothing per message with borrowed events, and only each
//! head's field list with owned ones (issue 8): after the first exchange has
//! sized the receive buffer, the span storage and the output buffer, every further exchange
//! (`receive`, `poll_borrowed` until the end of the message, `send_response`, `send_end`) is
//! counted with a global allocator that counts (stats_alloc), in a test binary of its own
//! without the test harness (`harness = false`), so that no other thread allocates meanwhile.

use portline_core::Time;
use portline_core::http::{
    BodyLength, Config, Connection, Event, EventRef, Progress, Request, Response, Role,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const REQUEST: &[u8] = b"GET /wp-content/uploads/2010/03/hello-kitty.jpg HTTP/1.1\r\n\
Host: www.kittyhell.com\r\n\
User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3)\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n\
Accept-Encoding: gzip,deflate\r\n\
Keep-Alive: 115\r\n\
Connection: keep-alive\r\n\
Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx\r\n\r\n";

const POST: &[u8] = b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Wed, 21 Oct 2015 07:28:00 GMT\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Length: 5\r\n\
Connection: keep-alive\r\n\r\nhello";

/// One server exchange; returns the number of events.
fn serve(conn: &mut Connection, bytes: &[u8], out: &mut Vec<u8>) -> usize {
    out.clear();
    conn.receive(Time::ZERO, bytes);
    let mut events = 0;
    loop {
        match conn.poll_borrowed() {
            Ok(Progress::Event(EventRef::EndOfMessage)) => break,
            Ok(Progress::Event(EventRef::Request(r))) => {
                assert!(r.keep_alive && r.headers.get("host").is_some());
                events += 1;
            }
            Ok(Progress::Event(_)) => events += 1,
            other => panic!("{other:?}"),
        }
    }
    let ok = Response {
        status: 200,
        reason: "OK",
        headers: &[("Content-Type", b"text/plain")],
        body: BodyLength::Known(2),
    };
    conn.send_response(Time::ZERO, &ok, out).unwrap();
    conn.send_data(Time::ZERO, b"ok", out).unwrap();
    conn.send_end(Time::ZERO).unwrap();
    events + 1
}

/// One client exchange.
fn fetch(conn: &mut Connection, out: &mut Vec<u8>) -> usize {
    out.clear();
    let get = Request {
        method: "GET",
        target: "/",
        headers: &[("Host", b"x")],
        body: BodyLength::Known(0),
        keep_alive: true,
    };
    conn.send_request(Time::ZERO, &get, out).unwrap();
    conn.send_end(Time::ZERO).unwrap();
    conn.receive(Time::ZERO, RESPONSE);
    let mut events = 0;
    loop {
        events += 1;
        match conn.poll_borrowed() {
            Ok(Progress::Event(EventRef::EndOfMessage)) => return events,
            Ok(Progress::Event(_)) => {}
            other => panic!("{other:?}"),
        }
    }
}

/// One server exchange with owned events (`poll_event`), each dropped before the next
/// `receive`, as an application that does not keep them does.
fn serve_owned(conn: &mut Connection, bytes: &[u8], out: &mut Vec<u8>) {
    out.clear();
    conn.receive(Time::ZERO, bytes);
    loop {
        match conn.poll_event() {
            Ok(Progress::Event(Event::EndOfMessage)) => break,
            Ok(Progress::Event(Event::Request(r))) => assert!(r.keep_alive),
            Ok(Progress::Event(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    let ok = Response {
        status: 200,
        reason: "OK",
        headers: &[],
        body: BodyLength::Known(0),
    };
    conn.send_response(Time::ZERO, &ok, out).unwrap();
    conn.send_end(Time::ZERO).unwrap();
}

fn main() {
    a_kept_alive_connection_allocates_nothing_per_message();
    owned_events_allocate_only_their_head_storage();
    fresh_connections_are_counted();
    println!("http_alloc: 3 passed, 0 failed");
}

fn a_kept_alive_connection_allocates_nothing_per_message() {
    let mut server = Connection::new(Role::Server, Config::default(), Time::ZERO);
    let mut client = Connection::new(Role::Client, Config::default(), Time::ZERO);
    let mut out = Vec::new();
    // The first exchanges size every buffer (the longest message first).
    assert_eq!(serve(&mut server, REQUEST, &mut out), 2);
    assert_eq!(serve(&mut server, POST, &mut out), 3);
    assert_eq!(fetch(&mut client, &mut out), 3);

    let region = Region::new(GLOBAL);
    let mut events = 0;
    for i in 0..1000 {
        let bytes = if i % 2 == 0 { REQUEST } else { POST };
        events += serve(&mut server, bytes, &mut out);
        events += fetch(&mut client, &mut out);
    }
    let stats = region.change();
    assert_eq!(events, 500 * 2 + 500 * 3 + 1000 * 3);
    assert_eq!(
        (stats.allocations, stats.reallocations),
        (0, 0),
        "allocations in 1000 kept-alive exchanges per role: {stats:?}"
    );
}

/// The owned path hands each head out as `Bytes` split off the receive buffer: it allocates
/// only the head's field list per message, and once the event is dropped the buffer is taken
/// back whole, so the next `receive` does not allocate a new one (which the borrowed path's
/// test above cannot see: a change that stopped the buffer's reclaim once passed it).
/// What an owned request head allocates: its field list (the parser's spans copied out, 16
/// bytes a field). The head's bytes are split off the receive buffer without allocating, and
/// the buffer is taken back once the head is dropped.
const OWNED_ALLOCATIONS_PER_MESSAGE: usize = 1;

fn owned_events_allocate_only_their_head_storage() {
    let mut server = Connection::new(Role::Server, Config::default(), Time::ZERO);
    let mut out = Vec::new();
    serve_owned(&mut server, REQUEST, &mut out);
    serve_owned(&mut server, POST, &mut out);
    let region = Region::new(GLOBAL);
    const MESSAGES: usize = 1000;
    for i in 0..MESSAGES {
        serve_owned(
            &mut server,
            if i % 2 == 0 { REQUEST } else { POST },
            &mut out,
        );
    }
    let stats = region.change();
    assert!(
        stats.allocations <= OWNED_ALLOCATIONS_PER_MESSAGE * MESSAGES && stats.reallocations == 0,
        "allocations in {MESSAGES} kept-alive exchanges with owned events: {stats:?}"
    );
}

/// The counter counts: the same exchange on fresh connections allocates (a test that could not
/// fail would prove nothing).
fn fresh_connections_are_counted() {
    let mut out = Vec::new();
    let region = Region::new(GLOBAL);
    for _ in 0..10 {
        let mut server = Connection::new(Role::Server, Config::default(), Time::ZERO);
        serve(&mut server, REQUEST, &mut out);
    }
    assert!(region.change().allocations >= 10);
}
