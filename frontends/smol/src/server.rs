//! The servers: one acceptor task and one task per connection on an executor shared by
//! `--threads` threads; UDP as one task answering datagrams.

use std::io::{self, Read, Write};
use std::net::{Shutdown as Direction, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use easy_parallel::Parallel;
use portline_common::apps::log;
use portline_common::driver::admission::{Admission, Admitted, Closer, Ticket};
use portline_common::driver::listen::{ListenOptions, listen_tcp, local_address};
use portline_common::driver::policy::{
    ACCEPT_BACKOFF, AcceptError, AcceptFailures, DATAGRAM_BUFFER, LINGER, LINGER_BYTES,
    reset_on_close, session_panicked,
};
use portline_common::driver::shutdown::Shutdown;
use portline_common::{DatagramService, ServerOptions, SessionFactory};
use smol::channel::{self, Receiver, Sender};
use smol::future::{self, FutureExt as _};
use smol::{Async, Executor, Timer};

use crate::conn::{self, Alarm, Conn, End};
use crate::deadlines::Deadlines;

/// Connections refused for `--max-connections` that may linger at once (each holds an fd for
/// up to [`LINGER`]); beyond it a refused connection is closed at once.
const MAX_REFUSING: usize = 64;

/// Serve TCP until `shutdown` is requested; see [`Runtime::serve_tcp`].
///
/// [`Runtime::serve_tcp`]: portline_common::Runtime::serve_tcp
pub(crate) fn serve_tcp(
    opts: &ServerOptions,
    factory: Arc<dyn SessionFactory>,
    ready: &mut dyn FnMut(SocketAddr),
    shutdown: &Shutdown,
) -> io::Result<()> {
    let listener = Async::new(bind(opts.listen)?)?;
    let (stop_tx, stop) = channel::unbounded::<()>();
    let _registration = shutdown.on_request(move || {
        stop_tx.close();
    });
    ready(listener.get_ref().local_addr()?);

    let ex = Executor::new();
    // The connections' deadlines, rung by one task with one reactor timer.
    let deadlines = Arc::new(Deadlines::default());
    ex.spawn(deadlines.clone().drive()).detach();
    let threads = opts.threads.max(1);
    // Closed when the acceptor returns: the other threads stop running the executor.
    let (workers_tx, workers_rx) = channel::unbounded::<()>();
    let (_, result) = Parallel::new()
        .each(1..threads, |_| run_batched(&ex, workers_rx.recv()))
        .finish(|| {
            let served = run_batched(
                &ex,
                accept_loop(&ex, listener, factory, &deadlines, opts, stop, shutdown),
            );
            drop(workers_tx);
            served
        });
    // Dropping the executor cancels the tasks still running after the grace period; their
    // sockets and sessions are dropped with them.
    drop(ex);
    result
}

/// `smol::block_on(ex.run(fut))`, with this thread's access-log lines written together
/// (`log::batch`) each time the executor has run what was ready: one poll of `ex.run` runs
/// ready tasks until none is left or it yields to the thread after a batch of them, and
/// `block_on` waits for I/O only between polls. So under load the lines of up to a batch of
/// answers go out in one `write(2)`, and none is held while the thread waits.
fn run_batched<T>(ex: &Executor<'_>, fut: impl Future<Output = T>) -> T {
    let _batch = log::batch();
    let mut run = pin!(ex.run(fut));
    smol::block_on(future::poll_fn(|cx| {
        let polled = run.as_mut().poll(cx);
        log::flush();
        polled
    }))
}

/// Connections being refused (each lingers a moment), bounded by [`MAX_REFUSING`].
struct Live {
    refusing: AtomicUsize,
}

/// One open connection: its admission ticket (the count for `--max-connections`), and a sender
/// of the channel whose receiver waits for every connection to end (`recv()` then errs).
struct Held {
    _ticket: Ticket,
    _alive: Sender<()>,
}

/// Accept connections until shutdown, spawn one task per connection, then wait for the
/// connections in flight for at most the grace period.
async fn accept_loop(
    ex: &Executor<'_>,
    listener: Async<TcpListener>,
    factory: Arc<dyn SessionFactory>,
    deadlines: &Arc<Deadlines>,
    opts: &ServerOptions,
    stop: Receiver<()>,
    shutdown: &Shutdown,
) -> io::Result<()> {
    let live = Arc::new(Live {
        refusing: AtomicUsize::new(0),
    });
    let admission = Admission::new(opts.max_connections);
    let (alive_tx, alive_rx) = channel::bounded::<()>(1);
    let accept_failures = AcceptFailures::new();
    let mut accepts = 0u32;
    let listening = listener.get_ref().local_addr()?;
    loop {
        // Under a flood of connections `accept` is always ready: still notice a shutdown, and
        // let this thread's connection tasks run now and then.
        if stop.is_closed() {
            break;
        }
        accepts = accepts.wrapping_add(1);
        if accepts % 16 == 0 {
            future::yield_now().await;
        }
        let attempt = accept_failures.attempt();
        // Accept first, and wait for readiness only when nothing is pending. This loop is the
        // future `block_on` polls on every wake-up of the thread, for whatever task: a wait
        // kept across those polls costs nothing, whereas `Async::accept` would retry accept(2)
        // and re-arm the listener (two syscalls) on each of them.
        let accepted = match listener.get_ref().accept() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let ready = async { Some(listener.readable().await) }
                    .or(async {
                        let _ = stop.recv().await;
                        None
                    })
                    .await;
                match ready {
                    None => break,
                    Some(Ok(())) => continue,
                    Some(Err(e)) => Err(e),
                }
            }
            Ok((stream, peer)) => Async::new(stream).map(|stream| (stream, peer)),
            Err(e) => Err(e),
        };
        match accepted {
            Ok((stream, peer)) => {
                accept_failures.succeeded(attempt);
                let stream = Arc::new(stream);
                let victim = stream.clone();
                let close: Closer = Box::new(move || {
                    let _ = victim.get_ref().shutdown(Direction::Both);
                });
                let Admitted::Yes(ticket) = admission.admit(Instant::now(), peer, close) else {
                    refuse(ex, stream, peer, &factory, &live);
                    continue;
                };
                let held = Held {
                    _ticket: ticket,
                    _alive: alive_tx.clone(),
                };
                let local = local_address(listening, || stream.get_ref().local_addr());
                ex.spawn(connection(
                    stream,
                    peer,
                    local,
                    factory.clone(),
                    deadlines.clone(),
                    stop.clone(),
                    held,
                ))
                .detach();
            }
            // Per-connection failures (the peer gave up before we accepted): try the next one.
            // Out of descriptors or buffers (said once per run of errors): the listener stays
            // readable, so back off instead of spinning.
            Err(e) => {
                if accept_failures.failed(&e) == AcceptError::Skip {
                    continue;
                }
                let _ = async {
                    Timer::after(ACCEPT_BACKOFF).await;
                }
                .or(async {
                    let _ = stop.recv().await;
                })
                .await;
            }
        }
    }

    // Stop accepting: close the listener now, so new connections are refused, then give the
    // connections in flight the grace period. Idle ones close at once (see conn::drive).
    drop(listener);
    drop(alive_tx);
    let finished = async {
        let _ = alive_rx.recv().await;
        true
    }
    .or(async {
        Timer::after(opts.grace).await;
        false
    })
    .await;
    if !finished {
        shutdown.unfinished(admission.len());
    }
    Ok(())
}

/// One connection's task: a session from the factory, driven until done, then closed; `held`
/// (its admission ticket, and its part in the count of live connections) is given back when the
/// task ends. The task owns what it needs: an async block around a call would hold those
/// values twice in the task, which every idle connection pays for; so would an `async fn`,
/// whose future keeps its arguments both as given and as moved into its body
/// (rust-lang/rust#62958): 104 bytes here.
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` would keep its arguments twice in the future (rust-lang/rust#62958)"
)]
fn connection(
    stream: Arc<Async<TcpStream>>,
    peer: SocketAddr,
    local: SocketAddr,
    factory: Arc<dyn SessionFactory>,
    deadlines: Arc<Deadlines>,
    stop: Receiver<()>,
    held: Held,
) -> impl Future<Output = ()> + Send + 'static {
    async move {
        // Every write is a whole batch of responses; Nagle would only delay the last segment.
        let _ = stream.get_ref().set_nodelay(true);
        // A panic (a bug in the app) would end this task alone (the executor keeps it); caught,
        // it is said in the one message format and the connection reset, as the other runtimes do.
        let made = catch_unwind(AssertUnwindSafe(|| {
            let mut session = factory.session(Instant::now(), peer, local);
            // A plain socket: file bodies may go out with sendfile(2).
            #[cfg(any(target_os = "linux", target_os = "android"))]
            session.enable_sendfile();
            session
        }));
        let served = match made {
            Ok(mut session) => {
                let driven = AssertUnwindSafe(conn::drive(
                    Conn::new(&stream, &mut *session, Some(&deadlines)),
                    Some(&stop),
                    Some(&held._ticket),
                ))
                .catch_unwind()
                .await;
                // The session's drop is a call into the app too.
                driven
                    .and_then(|end| catch_unwind(AssertUnwindSafe(|| drop(session))).map(|()| end))
            }
            Err(panic) => Err(panic),
        };
        match served {
            Ok(Ok(End::Done { linger: true })) => linger(&stream, Some(&deadlines)).await,
            // The peer closed, the session owes it nothing, shutdown came while idle, or the
            // peer failed: nothing left to say.
            Ok(Ok(End::Done { linger: false }) | Ok(End::Stopped) | Err(_)) => {}
            Err(panic) => {
                session_panicked(Some(peer), panic.as_ref());
                reset_on_close(stream.get_ref());
            }
        }
        drop(held);
    }
}

/// Close gracefully: send FIN, then discard what the peer still sends for a short while, so
/// that unread input does not turn the close into a reset that could destroy the last reply.
async fn linger(stream: &Async<TcpStream>, deadlines: Option<&Deadlines>) {
    if stream.get_ref().shutdown(Direction::Write).is_err() {
        return;
    }
    // A server connection's alarm is an entry of the server's deadlines, as while it served.
    let mut alarm = Alarm::new(deadlines);
    alarm.arm(Some(Instant::now() + LINGER));
    let mut discarded = 0;
    future::poll_fn(|cx| {
        while discarded < LINGER_BYTES {
            // The thread's read buffer, not an array in this future: every connection's task
            // is as large as its largest state, idle ones included.
            let mut socket = stream.get_ref();
            let read = conn::READ_BUF.with_borrow_mut(|buf| socket.read(buf));
            match read {
                Ok(0) => return Poll::Ready(()),
                Ok(n) => discarded += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => match stream.poll_readable(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(_)) => return Poll::Ready(()),
                    Poll::Pending => return alarm.poll_ring(cx),
                },
                Err(_) => return Poll::Ready(()),
            }
        }
        Poll::Ready(())
    })
    .await;
}

/// A connection over `--max-connections`: the factory's overload reply (if any), then close.
fn refuse(
    ex: &Executor<'_>,
    stream: Arc<Async<TcpStream>>,
    peer: SocketAddr,
    factory: &Arc<dyn SessionFactory>,
    live: &Arc<Live>,
) {
    if live.refusing.fetch_add(1, Ordering::SeqCst) >= MAX_REFUSING {
        live.refusing.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let live = live.clone();
    let factory = factory.clone();
    ex.spawn(async move {
        let Some(reply) = factory.overload_reply() else {
            linger(&stream, None).await;
            live.refusing.fetch_sub(1, Ordering::SeqCst);
            return;
        };
        // The reply is small and the socket's buffer empty: one non-blocking write suffices.
        let sent = stream.get_ref().write(&reply).unwrap_or(0);
        factory.refused(Instant::now(), peer, sent);
        if sent == reply.len() {
            linger(&stream, None).await;
        }
        live.refusing.fetch_sub(1, Ordering::SeqCst);
    })
    .detach();
}

/// A listening socket on `addr` (common's backlog and options).
fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    listen_tcp(addr, ListenOptions::default())
}

/// Serve UDP until `shutdown` is requested: one datagram in, at most one reply out.
pub(crate) fn serve_udp(
    opts: &ServerOptions,
    mut service: Box<dyn DatagramService>,
    ready: &mut dyn FnMut(SocketAddr),
    shutdown: &Shutdown,
) -> io::Result<()> {
    let socket = Async::<UdpSocket>::bind(opts.listen)?;
    let (stop_tx, stop) = channel::unbounded::<()>();
    let _registration = shutdown.on_request(move || {
        stop_tx.close();
    });
    ready(socket.get_ref().local_addr()?);
    smol::block_on(async {
        // The largest UDP payload.
        let mut buf = vec![0u8; DATAGRAM_BUFFER];
        let mut out = Vec::new();
        loop {
            // Under a flood of datagrams `recv_from` is always ready: still notice a shutdown.
            if stop.is_closed() {
                return Ok(());
            }
            let received = async { Some(socket.recv_from(&mut buf).await) }
                .or(async {
                    let _ = stop.recv().await;
                    None
                })
                .await;
            let Some(received) = received else {
                return Ok(());
            };
            match received {
                Ok((n, peer)) => {
                    out.clear();
                    if service.handle_datagram(Instant::now(), peer, &buf[..n], &mut out) {
                        // A peer that cannot be reached loses its reply; the others are served.
                        let _ = socket.send_to(&out, peer).await;
                    }
                }
                // An ICMP error reported for an earlier reply, or a signal: not fatal, but do
                // not spin on a persistent one either.
                Err(_) => {
                    Timer::after(Duration::from_millis(1)).await;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use portline_common::apps::http_server::{FileServer, FileServerOptions};

    /// Every open connection holds its task's future, idle ones included (the future is as large
    /// as its largest state): 1,160 bytes before the waits became `poll_fn`s over one state,
    /// 424 since, 432 with the server's deadlines (an `Arc`) in place of a timer each.
    #[test]
    fn a_connection_task_stays_small() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = TcpStream::connect(addr).unwrap();
        let (socket, peer) = listener.accept().unwrap();
        let stream = Arc::new(Async::new(socket).unwrap());
        let options = FileServerOptions::new(std::env::temp_dir());
        let factory: Arc<dyn SessionFactory> = Arc::new(FileServer::new(options).unwrap());
        let (_stop_tx, stop) = channel::unbounded::<()>();
        let (alive, _alive_rx) = channel::bounded::<()>(1);
        let admission = Admission::new(10);
        let Admitted::Yes(ticket) = admission.admit(Instant::now(), peer, Box::new(|| {})) else {
            panic!("not admitted");
        };
        let held = Held {
            _ticket: ticket,
            _alive: alive,
        };
        let task = connection(stream, peer, peer, factory, Arc::default(), stop, held);
        let size = std::mem::size_of_val(&task);
        assert!(size <= 432, "a connection's task future is {size} bytes");
    }
}
