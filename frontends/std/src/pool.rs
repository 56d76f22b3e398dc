//! Connection threads kept for the next connection: a thread per connection still, but a thread
//! whose connection ended waits a while for another instead of ending.
//!
//! Starting a thread is most of what a short connection costs this runtime: under a slowloris
//! attack (connections closed at their head timeout and opened again), `clone3`, the stack's
//! `mmap` and guard-page `mprotect`, and the first touch of its pages were about 70 % of the
//! accept thread's CPU time (benches/RESULTS.md, "Slowloris"). A finished thread that finds
//! no new connection within [`SPARE_IDLE`] ends, and at most [`MAX_SPARE`] wait at once: the
//! shape of Java's cached thread pool (`Executors.newCachedThreadPool`, idle threads end after
//! 60 s) with Apache's worker MPM's bound on spare threads (`MaxSpareThreads`, 250 by default).

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a connection thread with nothing to do waits for a new connection before it ends
/// (Java's `newCachedThreadPool`: 60 s).
pub const SPARE_IDLE: Duration = Duration::from_secs(60);

/// How many connection threads may wait for a connection at once; a thread finishing when this
/// many wait ends at once (Apache's worker MPM, `MaxSpareThreads` 250). Each keeps its stack's
/// touched pages, about 20 KiB.
pub const MAX_SPARE: usize = 250;

/// A connection's work, run on a connection thread.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// Connection threads: [`Pool::run`] gives a job to a waiting thread, or starts one.
pub struct Pool {
    shared: Arc<Shared>,
    name: String,
    stack_size: usize,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
    max_spare: usize,
    spare_idle: Duration,
}

#[derive(Default)]
struct State {
    /// Jobs handed over and not yet taken.
    jobs: VecDeque<Job>,
    /// Threads waiting for a job (some may be about to take one of `jobs`).
    idle: usize,
    /// Threads alive, working or waiting.
    threads: usize,
    /// Set when the pool is dropped: waiting threads end.
    closed: bool,
}

impl Pool {
    /// Threads named `name` with `stack_size`-byte stacks, [`MAX_SPARE`] and [`SPARE_IDLE`].
    pub fn new(name: &str, stack_size: usize) -> Pool {
        Pool::with_spares(name, stack_size, MAX_SPARE, SPARE_IDLE)
    }

    /// As [`Pool::new`], with the bound on waiting threads and how long each waits.
    pub fn with_spares(
        name: &str,
        stack_size: usize,
        max_spare: usize,
        spare_idle: Duration,
    ) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                ready: Condvar::new(),
                max_spare,
                spare_idle,
            }),
            name: name.to_owned(),
            stack_size,
        }
    }

    /// Runs `job` on a waiting thread, or on a new one when none waits. Fails only when a new
    /// thread cannot be started; the job is then dropped unrun.
    pub fn run(&self, job: Job) -> io::Result<()> {
        let mut state = self.shared.lock();
        if state.idle > state.jobs.len() {
            state.jobs.push_back(job);
            drop(state);
            self.shared.ready.notify_one();
            return Ok(());
        }
        state.threads += 1;
        drop(state);
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name(self.name.clone())
            .stack_size(self.stack_size)
            .spawn(move || shared.work(job));
        if spawned.is_err() {
            self.shared.lock().threads -= 1;
        }
        spawned.map(drop)
    }

    /// Threads alive now, working or waiting.
    pub fn threads(&self) -> usize {
        self.shared.lock().threads
    }

    /// Threads waiting for a job now.
    pub fn idle(&self) -> usize {
        self.shared.lock().idle
    }
}

impl Drop for Pool {
    /// Waiting threads end; working threads end after their job.
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a panic cannot leave the state half-changed.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A connection thread: `job`, then each job handed over while it waits, until none comes
    /// within `spare_idle`, too many wait already, or the pool is dropped.
    fn work(&self, mut job: Job) {
        loop {
            job();
            let mut state = self.lock();
            if state.closed || state.idle >= self.max_spare {
                state.threads -= 1;
                return;
            }
            state.idle += 1;
            let deadline = Instant::now() + self.spare_idle;
            job = loop {
                // A job handed over is taken before anything else, so none is left unrun.
                if let Some(next) = state.jobs.pop_front() {
                    state.idle -= 1;
                    break next;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if state.closed || left.is_zero() {
                    state.idle -= 1;
                    state.threads -= 1;
                    return;
                }
                state = self
                    .ready
                    .wait_timeout(state, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::thread::ThreadId;

    /// Waits (bounded) until `f` holds.
    fn eventually(f: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        f()
    }

    fn job_reporting(tx: &mpsc::Sender<ThreadId>) -> Job {
        let tx = tx.clone();
        Box::new(move || tx.send(std::thread::current().id()).unwrap())
    }

    #[test]
    fn a_finished_thread_takes_the_next_job() {
        let pool = Pool::new("test", 64 * 1024);
        let (tx, rx) = mpsc::channel();
        pool.run(job_reporting(&tx)).unwrap();
        let first = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(eventually(|| pool.idle() == 1));
        pool.run(job_reporting(&tx)).unwrap();
        let second = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(first, second, "the waiting thread ran the second job");
        assert_eq!(pool.threads(), 1);
    }

    #[test]
    fn busy_threads_do_not_hold_up_a_new_job() {
        let pool = Pool::new("test", 64 * 1024);
        let (release, held) = mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let h = held.clone();
        pool.run(Box::new(move || {
            let _ = h.lock().unwrap().recv_timeout(Duration::from_secs(5));
        }))
        .unwrap();
        let (tx, rx) = mpsc::channel();
        pool.run(job_reporting(&tx)).unwrap();
        // Runs while the first job still blocks: a second thread was started.
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(pool.threads(), 2);
        release.send(()).unwrap();
    }

    #[test]
    fn spare_threads_are_bounded_and_end_when_idle() {
        // Long enough that a loaded machine still sees the two waiting before they end.
        let pool = Pool::with_spares("test", 64 * 1024, 2, Duration::from_secs(1));
        let (release, held) = mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        for _ in 0..4 {
            let h = held.clone();
            pool.run(Box::new(move || {
                let _ = h.lock().unwrap().recv_timeout(Duration::from_secs(5));
            }))
            .unwrap();
        }
        assert_eq!(pool.threads(), 4);
        for _ in 0..4 {
            release.send(()).unwrap();
        }
        // Two end at once (two wait already), two wait, then end after a second.
        assert!(eventually(|| pool.threads() == 2 && pool.idle() == 2));
        assert!(eventually(|| pool.threads() == 0));
    }

    #[test]
    fn dropping_the_pool_ends_waiting_threads() {
        let pool = Pool::new("test", 64 * 1024);
        let shared = pool.shared.clone();
        let (tx, rx) = mpsc::channel();
        pool.run(job_reporting(&tx)).unwrap();
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(eventually(|| pool.idle() == 1));
        drop(pool);
        assert!(eventually(|| shared.lock().threads == 0));
    }
}
