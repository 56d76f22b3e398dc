//! The default driver of [`Runtime::bench`](crate::Runtime::bench): blocking `std::net`, a
//! thread per connection (the std runtime's way). Each thread: connect, then write the
//! requests due, read with a timeout up to the next deadline, repeat until the end.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use super::{Failure, Live, Next, Plan, Publisher, READ_BUFFER, RECONNECT_BACKOFF, Stats};

/// Run `plan` with a thread per connection; returns the merged counts.
pub fn run_blocking(plan: &Plan, live: &Live) -> Stats {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..plan.connections)
            .map(|i| s.spawn(move || connection(plan, live, i)))
            .collect();
        // A panic is a bug; its connection's counts are lost but the others still report.
        Stats::sum(handles.into_iter().filter_map(|h| h.join().ok()))
    })
}

/// One connection's thread, reconnecting until the plan's end.
fn connection(plan: &Plan, live: &Live, index: usize) -> Stats {
    let mut stats = Stats::new();
    let mut bc = plan.connection(index);
    let mut buf = vec![0u8; READ_BUFFER];
    let mut out = Vec::with_capacity(plan.template.bytes.len() * plan.pipeline);
    let mut publisher = Publisher::new(Instant::now());
    'connect: loop {
        let now = Instant::now();
        if now >= plan.end {
            break;
        }
        let left = plan.end - now;
        let mut stream = match TcpStream::connect_timeout(&plan.addr, plan.timeout.min(left)) {
            Ok(s) => s,
            Err(_) => {
                bc.fail(Failure::Connect, &mut stats);
                std::thread::sleep(RECONNECT_BACKOFF.min(left));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        bc.reconnected();
        loop {
            let now = Instant::now();
            if now >= plan.end {
                break 'connect;
            }
            publisher.tick(live, &stats, now);
            if bc.begin_turn(now, &plan.template, &mut out, &mut stats) == Next::Reconnect {
                continue 'connect;
            }
            if !out.is_empty() && stream.write_all(&out).is_err() {
                bc.fail(Failure::Write, &mut stats);
                continue 'connect;
            }
            // Wait for the response, or until the next deadline (timeout, next send, end).
            let wake = bc.poll_timeout().map_or(plan.end, |t| t.min(plan.end));
            let wait = wake.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                continue;
            }
            if bc.in_flight() == 0 {
                // Nothing to read for (a rate's next send is due later): sleep instead.
                std::thread::sleep(wait);
                continue;
            }
            // A zero read timeout means "block forever" to std; `wait` is more than zero here.
            let _ = stream.set_read_timeout(Some(wait));
            match stream.read(&mut buf) {
                Ok(0) => {
                    let _ = bc.receive_eof(Instant::now(), &mut stats);
                    continue 'connect;
                }
                Ok(n) => {
                    if bc.receive(Instant::now(), &buf[..n], &mut stats) == Next::Reconnect {
                        continue 'connect;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => {
                    bc.fail(Failure::Read, &mut stats);
                    continue 'connect;
                }
            }
        }
    }
    publisher.flush(live, &stats);
    stats
}
