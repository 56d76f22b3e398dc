//! When a connection sends: as soon as it may (closed loop, wrk), or at a constant rate (`-R`,
//! wrk2), where each request has an *intended* send time and its latency counts from there.
//!
//! A server that stalls for a second stalls a closed-loop client with it: the requests it would
//! have sent in that second are never sent, so they are never measured, and the percentiles
//! look better than what users saw ("coordinated omission", Gil Tene). With a rate, the
//! schedule does not wait: a late connection sends its overdue requests as soon as it can, and
//! each one's latency includes how late it was sent.

use std::time::{Duration, Instant};

/// One connection's share of a constant request rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The intended send time of the next request.
    next: Instant,
    /// Between two requests of this connection.
    interval: Duration,
}

impl Schedule {
    /// Connection `index` of `connections` sharing `rate` requests per second in total, from
    /// `start`: each sends every `connections / rate` seconds, and their first requests are
    /// spread evenly over one interval, so the total is smooth instead of bursts of
    /// `connections` requests.
    pub fn new(start: Instant, rate: f64, index: usize, connections: usize) -> Schedule {
        let connections = connections.max(1);
        let interval = Duration::from_secs_f64(connections as f64 / rate.max(f64::MIN_POSITIVE))
            .max(Duration::from_nanos(1));
        let phase = interval.mul_f64(index as f64 / connections as f64);
        Schedule {
            next: start + phase,
            interval,
        }
    }

    /// The intended send time of the next request.
    pub fn next(&self) -> Instant {
        self.next
    }

    /// Whether the next request is due at `now`.
    pub fn is_due(&self, now: Instant) -> bool {
        self.next <= now
    }

    /// Take the next request's slot: returns its intended send time and moves on one interval
    /// (from the intended time, not from `now`, so lateness is never forgiven).
    pub fn take(&mut self) -> Instant {
        let t = self.next;
        self.next += self.interval;
        t
    }

    /// Between two requests of this connection.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_share_the_rate_and_are_spread_over_one_interval() {
        let start = Instant::now();
        // 1,000 req/s over 4 connections: each every 4 ms, first sends 0, 1, 2, 3 ms in.
        let s: Vec<Schedule> = (0..4).map(|i| Schedule::new(start, 1000.0, i, 4)).collect();
        for (i, s) in s.iter().enumerate() {
            assert_eq!(s.interval(), Duration::from_millis(4));
            assert_eq!(s.next(), start + Duration::from_millis(i as u64));
        }
    }

    #[test]
    fn the_schedule_keeps_its_pace_when_the_sender_is_late() {
        let start = Instant::now();
        let mut s = Schedule::new(start, 100.0, 0, 1); // every 10 ms
        assert!(s.is_due(start));
        assert_eq!(s.take(), start);
        assert!(!s.is_due(start + Duration::from_millis(9)));
        // 35 ms late: three slots are overdue, each keeps its own intended time.
        let late = start + Duration::from_millis(45);
        let mut sent = Vec::new();
        while s.is_due(late) {
            sent.push(s.take() - start);
        }
        assert_eq!(
            sent,
            [10, 20, 30, 40].map(Duration::from_millis).to_vec(),
            "overdue requests keep their intended times"
        );
        assert_eq!(s.next(), start + Duration::from_millis(50));
    }

    #[test]
    fn a_rate_below_one_per_connection_still_works() {
        let start = Instant::now();
        let s = Schedule::new(start, 0.5, 0, 10);
        assert_eq!(s.interval(), Duration::from_secs(20));
    }
}
