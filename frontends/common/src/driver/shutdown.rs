//! Stopping a server: one flag that SIGINT/SIGTERM (or a test) sets, and the wake-ups that tell
//! every event loop or thread to look at it.
//!
//! A runtime keeps a [`Shutdown`], registers a wake-up per loop with [`Shutdown::on_request`]
//! (a mio `Waker`, an async notifier, or nothing for a blocking loop that polls
//! [`Shutdown::is_requested`]), and on request stops accepting, lets responses in flight finish
//! within its grace period, and returns. The binaries make theirs with [`Shutdown::on_signals`] and
//! call [`Shutdown::arm`] when a server starts; tests use [`Shutdown::new`] and call
//! [`Shutdown::request`] instead, so they never touch the process's signal handlers.
//!
//! What a signal does is said here once, for every runtime (docs/CLI.md, "Messages"): the
//! first signal is noted at once (`note: SIGTERM: shutting down; ...`), a runtime that had to cut
//! connections at the end of the grace period counts them with [`Shutdown::unfinished`], and
//! [`Shutdown::report`] says how it ended.
//!
//! ```
//! use portline_common::driver::shutdown::Shutdown;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//!
//! let shutdown = Shutdown::new();
//! let woken = Arc::new(AtomicUsize::new(0));
//! let w = woken.clone();
//! let _registration = shutdown.on_request(move || {
//!     w.fetch_add(1, Ordering::SeqCst);
//! });
//! shutdown.clone().request();
//! assert!(shutdown.is_requested());
//! assert_eq!(woken.load(Ordering::SeqCst), 1);
//! ```

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use crate::cli::message;

type WakeFn = Box<dyn Fn() + Send + Sync>;

/// A shared shutdown request. Clones share the same flag.
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    requested: AtomicBool,
    next_id: AtomicU64,
    wakers: Mutex<Vec<(u64, WakeFn)>>,
    /// Whether [`Shutdown::arm`] connects SIGINT/SIGTERM to this flag.
    signals: bool,
    /// The outcome of installing the handlers, once (a second server in the same process
    /// shares them).
    armed: OnceLock<Result<(), String>>,
    /// The signal that requested shutdown (`SIGINT`, `SIGTERM`), if one did.
    signal: OnceLock<&'static str>,
    /// Connections still open when the grace period ended, closed unfinished.
    unfinished: AtomicUsize,
}

impl Inner {
    fn wakers(&self) -> MutexGuard<'_, Vec<(u64, WakeFn)>> {
        // A waker that panicked cannot leave the list half-updated: pushes and removals are
        // single Vec operations, so a poisoned lock still holds a consistent list.
        self.wakers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shutdown")
            .field("requested", &self.is_requested())
            .finish_non_exhaustive()
    }
}

impl Shutdown {
    /// A flag that nothing has set yet, and that only [`Shutdown::request`] sets.
    pub fn new() -> Self {
        Self::default()
    }

    /// A flag that SIGINT and SIGTERM will set once [`Shutdown::arm`] is called (what a binary
    /// wants; the handlers are installed when a server starts, not when the runtime is made).
    pub fn on_signals() -> Self {
        Shutdown {
            inner: Arc::new(Inner {
                signals: true,
                ..Inner::default()
            }),
        }
    }

    /// Install the signal handlers if this flag was made by [`Shutdown::on_signals`], the first
    /// time only; otherwise do nothing. Every runtime calls it as a server starts, with the
    /// grace period it gives work in flight (named in the note the first signal writes).
    pub fn arm(&self, grace: Duration) -> io::Result<()> {
        if !self.inner.signals {
            return Ok(());
        }
        self.inner
            .armed
            .get_or_init(|| {
                self.install_signal_handlers(grace)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| io::Error::other(format!("installing signal handlers: {e}")))
    }

    /// Run one server under this flag, as every runtime's `serve_tcp` and `serve_udp` do:
    /// [`Shutdown::arm`] first (a failure to install the handlers is the server's error), then
    /// `serve`, then [`Shutdown::report`] how a signalled shutdown ended.
    pub fn serving(
        &self,
        grace: Duration,
        serve: impl FnOnce() -> io::Result<()>,
    ) -> io::Result<()> {
        self.arm(grace)?;
        let result = serve();
        self.report(grace);
        result
    }

    /// Whether shutdown was requested.
    pub fn is_requested(&self) -> bool {
        self.inner.requested.load(Ordering::SeqCst)
    }

    /// Request shutdown and wake every registered loop. Requesting again does nothing more.
    pub fn request(&self) {
        if !self.inner.requested.swap(true, Ordering::SeqCst) {
            for (_, wake) in self.inner.wakers().iter() {
                wake();
            }
        }
    }

    /// Call `wake` when shutdown is requested (at once if it already was). The wake-up stays
    /// registered until the returned [`Registration`] is dropped.
    #[must_use = "dropping the Registration unregisters the wake-up"]
    pub fn on_request(&self, wake: impl Fn() + Send + Sync + 'static) -> Registration {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.inner.wakers().push((id, Box::new(wake)));
        if self.is_requested() {
            // Requested between the check a caller made and the push: wake it now. A second
            // wake-up is harmless, a lost one would hang a loop.
            if let Some((_, wake)) = self.inner.wakers().iter().find(|(i, _)| *i == id) {
                wake();
            }
        }
        Registration {
            inner: Arc::downgrade(&self.inner),
            id,
        }
    }

    /// Request shutdown on SIGINT and SIGTERM, from a small thread that waits for them, and say
    /// so on stderr: `note: SIGTERM: shutting down; work in flight gets up to 5s to finish (a
    /// second signal quits at once)`. A second signal after the first exits the process at once
    /// with status 130, for a user who does not want to wait for the grace period.
    pub fn install_signal_handlers(&self, grace: Duration) -> io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let shutdown = self.clone();
        std::thread::Builder::new()
            .name("portline-signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    if shutdown.is_requested() {
                        std::process::exit(130);
                    }
                    let name = if signal == SIGINT {
                        "SIGINT"
                    } else {
                        "SIGTERM"
                    };
                    let _ = shutdown.inner.signal.set(name);
                    message::note(
                        name,
                        format!(
                            "shutting down; work in flight gets up to {} to finish (a second \
                             signal quits at once)",
                            seconds(grace)
                        ),
                    );
                    shutdown.request();
                }
            })?;
        Ok(())
    }

    /// Count `n` connections that were still open at the end of the grace period and were
    /// closed unfinished (a runtime with several loops calls it once per loop).
    pub fn unfinished(&self, n: usize) {
        self.inner.unfinished.fetch_add(n, Ordering::Relaxed);
    }

    /// Once a server has returned: if a signal stopped it, say how the shutdown ended, as a note
    /// (`shutdown: stopped; nothing was cut short`) or, when [`Shutdown::unfinished`]
    /// counted any, a warning (`shutdown: stopped; 2 connections still busy after 5s were
    /// closed`). Nothing for a shutdown a caller requested without a signal (tests, embedding).
    pub fn report(&self, grace: Duration) {
        if self.inner.signal.get().is_none() {
            return;
        }
        match self.inner.unfinished.load(Ordering::Relaxed) {
            0 => message::note("shutdown", "stopped; nothing was cut short"),
            1 => message::warning(
                "shutdown",
                format!(
                    "stopped; 1 connection still busy after {} was closed",
                    seconds(grace)
                ),
            ),
            n => message::warning(
                "shutdown",
                format!(
                    "stopped; {n} connections still busy after {} were closed",
                    seconds(grace)
                ),
            ),
        }
    }
}

/// A grace period as messages write it: `5s`, `1.5s`.
fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// Keeps a wake-up registered with [`Shutdown::on_request`]; dropping it unregisters it.
#[derive(Debug)]
pub struct Registration {
    inner: Weak<Inner>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.wakers().retain(|(i, _)| *i != self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn counter(shutdown: &Shutdown) -> (Arc<AtomicUsize>, Registration) {
        let n = Arc::new(AtomicUsize::new(0));
        let m = n.clone();
        let reg = shutdown.on_request(move || {
            m.fetch_add(1, Ordering::SeqCst);
        });
        (n, reg)
    }

    #[test]
    fn request_wakes_each_registered_loop_once() {
        let shutdown = Shutdown::new();
        let (a, _ra) = counter(&shutdown);
        let (b, rb) = counter(&shutdown);
        drop(rb);
        assert!(!shutdown.is_requested());
        shutdown.request();
        shutdown.request();
        assert!(shutdown.is_requested());
        assert_eq!(a.load(Ordering::SeqCst), 1);
        assert_eq!(
            b.load(Ordering::SeqCst),
            0,
            "an unregistered wake-up is not called"
        );
    }

    #[test]
    fn registering_after_the_request_wakes_at_once() {
        let shutdown = Shutdown::new();
        shutdown.request();
        let (a, _ra) = counter(&shutdown);
        assert_eq!(a.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn registrations_do_not_accumulate() {
        let shutdown = Shutdown::new();
        for _ in 0..10 {
            let _ = counter(&shutdown);
        }
        assert!(shutdown.inner.wakers().is_empty());
    }

    #[test]
    fn arm_installs_handlers_only_for_on_signals_and_only_once() {
        // A plain flag never touches the process's handlers: arming it is a no-op.
        let plain = Shutdown::new();
        plain.arm(Duration::from_secs(1)).unwrap();
        assert!(plain.inner.armed.get().is_none());

        let binary = Shutdown::on_signals();
        binary.arm(Duration::from_secs(1)).unwrap();
        binary.arm(Duration::from_secs(1)).unwrap(); // a second server in the same process
        assert!(matches!(binary.inner.armed.get(), Some(Ok(()))));
        // The handler turns SIGTERM into a request instead of ending this test process.
        signal_hook::low_level::raise(signal_hook::consts::SIGTERM).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !binary.is_requested() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(binary.is_requested(), "SIGTERM did not request shutdown");
        assert_eq!(binary.inner.signal.get(), Some(&"SIGTERM"));
        assert!(!plain.is_requested());
    }
}
