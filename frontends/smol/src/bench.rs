//! `bench` on smol: a task per connection on an executor run by `plan.threads` threads. Each
//! task writes the requests due, then reads until the response ends, racing the read against
//! one timer per connection (re-armed only when a deadline comes earlier or it fired: arming a
//! timer takes the reactor's lock, which once per request would cost more than the request).

use std::io;
use std::net::TcpStream;
use std::time::Instant;

use easy_parallel::Parallel;
use portline_common::apps::bench::{
    Failure, Live, Next, Plan, Publisher, READ_BUFFER, RECONNECT_BACKOFF, Stats,
};
use smol::future::{self, FutureExt as _};
use smol::io::{AsyncReadExt as _, AsyncWriteExt as _};
use smol::{Async, Executor, Timer, channel};

/// Run `plan` as one task per connection on `plan.threads` threads; returns the merged counts.
pub(crate) fn run(plan: &Plan, live: &Live) -> Stats {
    let ex = Executor::new();
    let (stop_tx, stop_rx) = channel::unbounded::<()>();
    let (_, total) = Parallel::new()
        .each(1..plan.threads.max(1), |_| {
            smol::block_on(ex.run(stop_rx.recv()))
        })
        .finish(|| {
            let tasks: Vec<_> = (0..plan.connections)
                .map(|i| ex.spawn(connection(plan, live, i)))
                .collect();
            let total = smol::block_on(ex.run(async {
                let mut parts = Vec::with_capacity(tasks.len());
                for t in tasks {
                    parts.push(t.await);
                }
                Stats::sum(parts)
            }));
            drop(stop_tx);
            total
        });
    total
}

/// What a read raced against its timer gave.
enum Read {
    Done(io::Result<usize>),
    Timer,
}

/// One connection's task, reconnecting until the plan's end.
async fn connection(plan: &Plan, live: &Live, index: usize) -> Stats {
    let mut stats = Stats::new();
    let mut bc = plan.connection(index);
    let mut buf = vec![0u8; READ_BUFFER];
    let mut out = Vec::with_capacity(plan.template.bytes.len() * plan.pipeline);
    let mut publisher = Publisher::new(Instant::now());
    let mut timer = Timer::at(plan.end);
    let mut timer_at = plan.end;
    'connect: loop {
        let now = Instant::now();
        if now >= plan.end || live.is_stopped() {
            break;
        }
        let give_up = (now + plan.timeout).min(plan.end);
        let connected = Async::<TcpStream>::connect(plan.addr)
            .or(async {
                Timer::at(give_up).await;
                Err(io::ErrorKind::TimedOut.into())
            })
            .await;
        let stream = match connected {
            Ok(s) => s,
            Err(_) => {
                bc.fail(Failure::Connect, &mut stats);
                Timer::after(RECONNECT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.get_ref().set_nodelay(true);
        bc.reconnected();
        loop {
            let now = Instant::now();
            if now >= plan.end || live.is_stopped() {
                break 'connect;
            }
            publisher.tick(live, &stats, now);
            if bc.begin_turn(now, &plan.template, &mut out, &mut stats) == Next::Reconnect {
                continue 'connect;
            }
            if !out.is_empty() && (&stream).write_all(&out).await.is_err() {
                bc.fail(Failure::Write, &mut stats);
                continue 'connect;
            }
            let wake = bc.poll_timeout().map_or(plan.end, |t| t.min(plan.end));
            if wake < timer_at || timer_at <= now {
                timer.set_at(wake);
                timer_at = wake;
            }
            let read = future::or(
                async { Read::Done((&stream).read(&mut buf).await) },
                async {
                    (&mut timer).await;
                    Read::Timer
                },
            )
            .await;
            match read {
                Read::Timer => {
                    // Fired: the next turn checks the deadlines and re-arms it.
                    timer_at = Instant::now();
                }
                Read::Done(Ok(0)) => {
                    let _ = bc.receive_eof(Instant::now(), &mut stats);
                    continue 'connect;
                }
                Read::Done(Ok(n)) => {
                    if bc.receive(Instant::now(), &buf[..n], &mut stats) == Next::Reconnect {
                        continue 'connect;
                    }
                }
                Read::Done(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Read::Done(Err(_)) => {
                    bc.fail(Failure::Read, &mut stats);
                    continue 'connect;
                }
            }
        }
    }
    publisher.flush(live, &stats);
    stats
}
