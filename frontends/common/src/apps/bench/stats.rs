//! What a run counts: latencies in an HdrHistogram, responses by status class, errors by kind,
//! bytes read. Each driver thread keeps its own [`Stats`] (no sharing on the hot path) and the
//! threads' are merged at the end; [`Live`] carries running totals for the progress line.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

/// The largest latency recorded: an hour, in microseconds (larger ones are recorded as this).
pub const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Significant decimal digits of the histogram: 3, wrk2's (values within 0.1%).
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// Why a request failed or a connection was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Connecting failed (refused, unreachable, timed out).
    Connect,
    /// Reading failed, or the server closed the connection with a request unanswered.
    Read,
    /// Writing a request failed.
    Write,
    /// No complete response within `--timeout` of sending the request.
    Timeout,
    /// The response was not valid HTTP (the core's client rejected it).
    Parse,
}

impl Failure {
    /// Every kind, in report order.
    pub const ALL: [Failure; 5] = [
        Failure::Connect,
        Failure::Read,
        Failure::Write,
        Failure::Timeout,
        Failure::Parse,
    ];

    /// The kind's name in the report and the JSON: `connect`, `read`, ...
    pub fn name(self) -> &'static str {
        match self {
            Failure::Connect => "connect",
            Failure::Read => "read",
            Failure::Write => "write",
            Failure::Timeout => "timeout",
            Failure::Parse => "parse",
        }
    }
}

/// The status classes counted, in report order: `1xx` to `5xx`, then `other` (status codes
/// 600-999, which the core accepts).
pub const STATUS_CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

/// One thread's (or, merged, the whole run's) counts.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Latency of each complete response, in microseconds.
    pub latency: Histogram<u64>,
    /// Final responses by class, indexed as [`STATUS_CLASSES`].
    pub status: [u64; 6],
    /// Failures, indexed as [`Failure::ALL`].
    pub errors: [u64; 5],
    /// Bytes read from the server (heads and bodies).
    pub bytes: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

impl Stats {
    /// Empty counts.
    pub fn new() -> Stats {
        Stats {
            latency: Histogram::new_with_bounds(1, MAX_LATENCY_US, SIGNIFICANT_DIGITS)
                .expect("constant bounds: 1 <= low, high >= 2 * low, 3 significant digits"),
            status: [0; 6],
            errors: [0; 5],
            bytes: 0,
        }
    }

    /// A complete response with `status`, `latency` after its (intended) send time.
    pub fn record(&mut self, status: u16, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency.saturating_record(us.max(1));
        self.status[status_class(status)] += 1;
    }

    /// A failure of kind `f`.
    pub fn fail(&mut self, f: Failure) {
        self.errors[f as usize] += 1;
    }

    /// Complete responses.
    pub fn responses(&self) -> u64 {
        self.status.iter().sum()
    }

    /// Failures of every kind.
    pub fn error_count(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// The count of failures of kind `f`.
    pub fn errors_of(&self, f: Failure) -> u64 {
        self.errors[f as usize]
    }

    /// The counts of every thread (or task) added up.
    pub fn sum(parts: impl IntoIterator<Item = Stats>) -> Stats {
        let mut total = Stats::new();
        for p in parts {
            total.merge(&p);
        }
        total
    }

    /// Add `other`'s counts to these.
    pub fn merge(&mut self, other: &Stats) {
        self.latency
            .add(&other.latency)
            .expect("same bounds on both sides, so every value fits");
        for (a, b) in self.status.iter_mut().zip(other.status) {
            *a += b;
        }
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
        self.bytes += other.bytes;
    }
}

/// The index into [`STATUS_CLASSES`] of `status`.
pub fn status_class(status: u16) -> usize {
    match status {
        100..=599 => usize::from(status / 100 - 1),
        _ => 5,
    }
}

/// How often a driver thread or task adds its counts to the [`Live`] totals.
pub const PUBLISH_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// One thread's (or task's) side of [`Live`]: what it published, and when.
#[derive(Debug, Clone, Copy)]
pub struct Publisher {
    seen: (u64, u64),
    at: std::time::Instant,
}

impl Publisher {
    /// Nothing published yet.
    pub fn new(now: std::time::Instant) -> Publisher {
        Publisher {
            seen: (0, 0),
            at: now,
        }
    }

    /// Publish `stats` to `live` if [`PUBLISH_EVERY`] has passed since the last time.
    pub fn tick(&mut self, live: &Live, stats: &Stats, now: std::time::Instant) {
        if now.saturating_duration_since(self.at) >= PUBLISH_EVERY {
            self.at = now;
            live.publish(stats, &mut self.seen);
        }
    }

    /// Publish `stats` now (at the end).
    pub fn flush(&mut self, live: &Live, stats: &Stats) {
        live.publish(stats, &mut self.seen);
    }
}

/// Running totals every driver thread adds to now and then, for the progress line.
#[derive(Debug, Default)]
pub struct Live {
    responses: AtomicU64,
    errors: AtomicU64,
    stopped: std::sync::atomic::AtomicBool,
}

impl Live {
    /// Zero totals.
    pub fn new() -> Live {
        Live::default()
    }

    /// Add what `stats` gained since `seen` (the caller's last published `(responses, errors)`),
    /// and remember it in `seen`.
    pub fn publish(&self, stats: &Stats, seen: &mut (u64, u64)) {
        let now = (stats.responses(), stats.error_count());
        if now != *seen {
            self.responses.fetch_add(now.0 - seen.0, Ordering::Relaxed);
            self.errors.fetch_add(now.1 - seen.1, Ordering::Relaxed);
            *seen = now;
        }
    }

    /// Ask every driver to end the run now, as if the plan's end had come (SIGINT, as wrk).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    /// Whether [`Self::stop`] was called: drivers check it where they check the plan's end.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// `(responses, errors)` published so far.
    pub fn totals(&self) -> (u64, u64) {
        (
            self.responses.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_fall_in_their_class() {
        let cases = [
            (100, 0),
            (199, 0),
            (200, 1),
            (304, 2),
            (404, 3),
            (503, 4),
            (600, 5),
            (999, 5),
        ];
        for (status, class) in cases {
            assert_eq!(status_class(status), class, "{status}");
        }
    }

    #[test]
    fn merged_stats_add_up_and_keep_the_extremes() {
        let mut a = Stats::new();
        let mut b = Stats::new();
        for us in 1..=100 {
            a.record(200, Duration::from_micros(us));
        }
        b.record(404, Duration::from_millis(250));
        b.record(500, Duration::from_micros(10));
        b.fail(Failure::Timeout);
        b.fail(Failure::Parse);
        b.bytes = 7;
        a.bytes = 3;
        a.merge(&b);
        assert_eq!(a.responses(), 102);
        assert_eq!(a.status, [0, 100, 0, 1, 1, 0]);
        assert_eq!(a.errors_of(Failure::Timeout), 1);
        assert_eq!(a.errors_of(Failure::Parse), 1);
        assert_eq!(a.error_count(), 2);
        assert_eq!(a.bytes, 10);
        assert_eq!(a.latency.len(), 102);
        assert_eq!(a.latency.min(), 1);
        // Within the histogram's 0.1% precision.
        let max = a.latency.max();
        assert!((249_750..=250_250).contains(&max), "{max}");
    }

    #[test]
    fn latencies_past_an_hour_are_recorded_as_an_hour_and_zero_as_one_microsecond() {
        let mut s = Stats::new();
        s.record(200, Duration::from_secs(7200));
        s.record(200, Duration::ZERO);
        assert_eq!(s.latency.len(), 2);
        assert!(s.latency.max() >= MAX_LATENCY_US * 999 / 1000);
        assert_eq!(s.latency.min(), 1);
    }

    #[test]
    fn live_totals_are_the_sum_of_what_threads_published() {
        let live = Live::new();
        let (mut s1, mut s2) = (Stats::new(), Stats::new());
        let (mut seen1, mut seen2) = ((0, 0), (0, 0));
        s1.record(200, Duration::from_micros(5));
        live.publish(&s1, &mut seen1);
        s1.record(200, Duration::from_micros(5));
        s2.fail(Failure::Connect);
        live.publish(&s1, &mut seen1);
        live.publish(&s2, &mut seen2);
        live.publish(&s2, &mut seen2); // nothing new: nothing added twice
        assert_eq!(live.totals(), (2, 1));
    }
}
