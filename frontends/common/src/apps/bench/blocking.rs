//! The default driver of [`Runtime::bench`](crate::Runtime::bench): blocking `std::net`, a
//! thread per connection (the std runtime's way). Each thread: connect, then write the
//! requests due, read with a timeout up to the next deadline, repeat until the end.
//!
//! A histogram is about 190 KB, too much for each of thousands of threads: the connections
//! share `plan.threads` shards of counts, each behind a lock taken once per read.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::{Failure, Live, Next, Plan, Publisher, RECONNECT_BACKOFF, Stats};
use crate::driver::policy::read_came_back_empty;

/// Bytes read at once by each connection's thread (a thread each: smaller than the event
/// loops' shared buffer).
const THREAD_READ_BUFFER: usize = 16 * 1024;

/// Stack of each connection's thread: its buffers are on the heap.
const THREAD_STACK: usize = 256 * 1024;

/// One shard of counts and its side of the live totals.
struct Shard {
    stats: Stats,
    publisher: Publisher,
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A panicking connection thread cannot leave the counts half-updated in a way that matters.
    shard.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run `plan` with a thread per connection; returns the merged counts. A thread that cannot
/// be started (the process's thread limit) counts as a connect failure of its connection.
pub fn run_blocking(plan: &Plan, live: &Live) -> Stats {
    let now = Instant::now();
    let shards: Vec<Mutex<Shard>> = (0..plan.threads.max(1))
        .map(|_| {
            Mutex::new(Shard {
                stats: Stats::new(),
                publisher: Publisher::new(now),
            })
        })
        .collect();
    std::thread::scope(|s| {
        for i in 0..plan.connections {
            let shard = &shards[i % shards.len()];
            let started = std::thread::Builder::new()
                .stack_size(THREAD_STACK)
                .spawn_scoped(s, move || connection(plan, live, shard, i));
            if started.is_err() {
                lock(shard).stats.fail(Failure::Connect);
            }
        }
    });
    Stats::sum(shards.into_iter().map(|m| {
        let mut shard = m.into_inner().unwrap_or_else(|e| e.into_inner());
        shard.publisher.flush(live, &shard.stats);
        shard.stats
    }))
}

/// One connection's thread, reconnecting until the plan's end.
fn connection(plan: &Plan, live: &Live, shard: &Mutex<Shard>, index: usize) {
    let mut bc = plan.connection(index);
    let mut buf = vec![0u8; THREAD_READ_BUFFER];
    let mut out = Vec::with_capacity(plan.template.bytes.len() * plan.pipeline);
    'connect: loop {
        let now = Instant::now();
        if now >= plan.end || live.is_stopped() {
            break;
        }
        let left = plan.end - now;
        let mut stream = match TcpStream::connect_timeout(&plan.addr, plan.timeout.min(left)) {
            Ok(s) => s,
            Err(_) => {
                bc.fail(Failure::Connect, &mut lock(shard).stats);
                std::thread::sleep(RECONNECT_BACKOFF.min(left));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        bc.reconnected();
        loop {
            let now = Instant::now();
            if now >= plan.end || live.is_stopped() {
                break 'connect;
            }
            let turn = {
                let mut g = lock(shard);
                let Shard { stats, publisher } = &mut *g;
                publisher.tick(live, stats, now);
                bc.begin_turn(now, &plan.template, &mut out, stats)
            };
            if turn == Next::Reconnect {
                continue 'connect;
            }
            if !out.is_empty() && stream.write_all(&out).is_err() {
                bc.fail(Failure::Write, &mut lock(shard).stats);
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
            let next = match stream.read(&mut buf) {
                Ok(0) => bc.receive_eof(Instant::now(), &mut lock(shard).stats),
                Ok(n) => bc.receive(Instant::now(), &buf[..n], &mut lock(shard).stats),
                Err(e) if read_came_back_empty(&e) => Next::Continue,
                Err(_) => {
                    bc.fail(Failure::Read, &mut lock(shard).stats);
                    Next::Reconnect
                }
            };
            if next == Next::Reconnect {
                continue 'connect;
            }
        }
    }
}
