//! `Connection::park` / `unpark`: a server connection between requests can be reduced to its
//! `Parked` form while idle and brought back equal (issue 11, idle memory).

use std::time::Duration;

use portline_core::Time;
use portline_core::http::{
    BodyLength, Config, Connection, Event, Parked, Progress, RequestHead, Response, Role,
};

const GET: &[u8] = b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";

fn at(secs: u64) -> Time {
    Time::ZERO + Duration::from_secs(secs)
}

/// Feed `bytes` at `now`, answer the request with a 2-byte body; the events' heads and the
/// bytes written.
fn serve(conn: &mut Connection, now: Time, bytes: &[u8]) -> (Vec<RequestHead>, Vec<u8>) {
    conn.receive(now, bytes);
    let mut heads = Vec::new();
    let mut out = Vec::new();
    loop {
        match conn.poll_event() {
            Ok(Progress::Event(Event::Request(head))) => heads.push(head),
            Ok(Progress::Event(Event::EndOfMessage)) => {
                let ok = Response {
                    status: 200,
                    reason: "OK",
                    headers: &[],
                    body: BodyLength::Known(2),
                };
                conn.send_response(now, &ok, &mut out).unwrap();
                conn.send_data(now, b"ok", &mut out).unwrap();
                conn.send_end(now).unwrap();
            }
            Ok(Progress::Event(other)) => panic!("{other:?}"),
            Ok(_) => return (heads, out),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_parked_connection_comes_back_equal() {
    let config = Config::default();
    let mut kept = Connection::new(Role::Server, config.clone(), at(0));
    serve(&mut kept, at(1), GET);
    let parked: Parked = kept.park().expect("idle after a kept-alive exchange");
    assert_eq!(parked.poll_timeout(&config), kept.poll_timeout());
    assert_eq!(
        kept.poll_timeout(),
        Some(at(1) + config.limits.idle_timeout),
        "the idle timer counts from the end of the exchange, not from creation"
    );
    let mut back = Connection::unpark(parked, config.clone(), at(2));
    assert_eq!(back.poll_timeout(), kept.poll_timeout());
    assert_eq!(back.park(), Some(parked));
    // The next request gets the same events and the same bytes from both.
    let (h1, o1) = serve(&mut kept, at(3), GET);
    let (h2, o2) = serve(&mut back, at(3), GET);
    assert_eq!(h1, h2);
    assert_eq!(o1, o2);
    assert!(o2.starts_with(b"HTTP/1.0 200 OK\r\n"), "{o2:?}");
    assert_eq!(back.poll_timeout(), kept.poll_timeout());
    // And the idle timeout closes both alike.
    let due = back.poll_timeout().unwrap();
    kept.handle_timeout(due);
    back.handle_timeout(due);
    assert_eq!(kept.poll_event(), Ok(Progress::Closed));
    assert_eq!(back.poll_event(), Ok(Progress::Closed));
}

#[test]
fn only_a_connection_between_requests_parks() {
    let config = Config::default();
    let fresh = Connection::new(Role::Server, config.clone(), at(0));
    assert!(
        fresh.park().is_some(),
        "a new server connection waits for its first request"
    );
    let client = Connection::new(Role::Client, config.clone(), at(0));
    assert_eq!(client.park(), None, "a client");

    let mut partial = Connection::new(Role::Server, config.clone(), at(0));
    partial.receive(at(1), b"GET /a HT");
    assert_eq!(partial.poll_event(), Ok(Progress::NeedData));
    assert_eq!(partial.park(), None, "half a head is held");

    let mut answering = Connection::new(Role::Server, config.clone(), at(0));
    answering.receive(at(1), GET);
    assert!(matches!(
        answering.poll_event(),
        Ok(Progress::Event(Event::Request(_)))
    ));
    assert_eq!(answering.park(), None, "a request under way");

    let mut pipelined = Connection::new(Role::Server, config.clone(), at(0));
    let two = [GET, GET].concat();
    let (heads, _) = serve(&mut pipelined, at(1), &two);
    assert_eq!(heads.len(), 2);
    assert!(pipelined.park().is_some(), "both answered");
    let three = [GET, b"GET /b".as_slice()].concat();
    let (heads, _) = serve(&mut pipelined, at(2), &three);
    assert_eq!(heads.len(), 1);
    assert_eq!(
        pipelined.park(),
        None,
        "the start of the next request is buffered"
    );

    let mut ended = Connection::new(Role::Server, config.clone(), at(0));
    ended.receive_eof(at(1));
    assert_eq!(ended.park(), None, "after the peer's end of stream");

    let mut failed = Connection::new(Role::Server, config, at(0));
    failed.receive(at(1), b"\x00\x01 nonsense\r\n\r\n");
    assert!(failed.poll_event().is_err());
    assert_eq!(failed.park(), None, "failed");
}

/// A connection that has heard nothing parks under the first-byte timer and unparks under it;
/// one that has served a request parks and unparks under the idle timer.
#[test]
fn parking_keeps_which_timer_runs() {
    let config = Config::default();
    let limits = config.limits.clone();
    assert_ne!(limits.first_byte_timeout, limits.idle_timeout);

    let fresh = Connection::new(Role::Server, config.clone(), at(0));
    let parked = fresh.park().expect("a new server connection parks");
    assert_eq!(
        parked.poll_timeout(&config),
        Some(at(0) + limits.first_byte_timeout)
    );
    let back = Connection::unpark(parked, config.clone(), at(1));
    assert_eq!(back.poll_timeout(), fresh.poll_timeout());

    let mut served = Connection::new(Role::Server, config.clone(), at(0));
    serve(&mut served, at(3), GET);
    let parked = served.park().expect("between requests it parks");
    assert_eq!(
        parked.poll_timeout(&config),
        Some(at(3) + limits.idle_timeout)
    );
    let back = Connection::unpark(parked, config, at(4));
    assert_eq!(back.poll_timeout(), served.poll_timeout());
}

/// `waiting_since` is when the connection began waiting for its current request: creation,
/// then the end of each kept-alive exchange. A head trickling in does not move it (a full
/// server evicts the connection that has waited longest, so a slowloris head stays old while
/// a client answered a moment ago is young), and the parked form says the same.
#[test]
fn waiting_since_counts_from_creation_or_the_last_exchange() {
    let config = Config::default();
    let mut conn = Connection::new(Role::Server, config.clone(), at(0));
    assert_eq!(
        conn.waiting_since(),
        at(0),
        "a new connection: its creation"
    );
    assert_eq!(conn.park().unwrap().waiting_since(), at(0));
    serve(&mut conn, at(3), GET);
    assert_eq!(conn.waiting_since(), at(3), "the end of the exchange");
    let parked = conn.park().unwrap();
    assert_eq!(parked.waiting_since(), at(3));
    assert_eq!(
        Connection::unpark(parked, config.clone(), at(4)).waiting_since(),
        at(3)
    );
    conn.receive(at(5), b"GET /a HT");
    assert_eq!(conn.poll_event(), Ok(Progress::NeedData));
    conn.receive(at(7), b"TP/1.0\r\nX-A: ");
    assert_eq!(conn.poll_event(), Ok(Progress::NeedData));
    assert_eq!(
        conn.waiting_since(),
        at(3),
        "a trickling head does not renew it"
    );

    let mut slow = Connection::new(Role::Server, config, at(1));
    slow.receive(at(2), b"GET / HTTP/1.1\r\nX-");
    assert_eq!(slow.poll_event(), Ok(Progress::NeedData));
    slow.receive(at(9), b"a");
    assert_eq!(
        slow.waiting_since(),
        at(1),
        "never answered: since it opened"
    );
}
