//! Time as a value the caller passes in.
//!
//! The core never reads a clock. Every input that can start or fire a timer takes a [`Time`]:
//! a point on a monotonic clock whose origin the caller chooses. A frontend keeps one
//! `std::time::Instant` as its origin and passes `Time::from(origin.elapsed())`; a test starts at
//! [`Time::ZERO`] and advances by hand, so timeouts fire without waiting.

use core::ops::{Add, AddAssign};
use core::time::Duration;

/// A point in time: the duration since an origin chosen by the caller, in nanoseconds (one
/// `u64`, which every input and command stores: a `Duration` was two words). It saturates
/// about 584 years after the origin: a later time, or a deadline past it, is that instant.
///
/// ```
/// use portline_core::Time;
/// use std::time::Duration;
/// let t = Time::ZERO + Duration::from_secs(5);
/// assert_eq!(t.saturating_duration_since(Time::ZERO), Duration::from_secs(5));
/// assert!(t > Time::ZERO);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(u64);

/// `d` in nanoseconds, at most `u64::MAX` (about 584 years).
const fn nanos(d: Duration) -> u64 {
    let n = d.as_nanos();
    if n > u64::MAX as u128 {
        u64::MAX
    } else {
        n as u64
    }
}

impl Time {
    /// The caller's origin.
    pub const ZERO: Time = Time(0);

    /// The time `since_origin` after the origin.
    pub const fn from_duration(since_origin: Duration) -> Time {
        Time(nanos(since_origin))
    }

    /// How long after the origin this time is.
    pub const fn as_duration(self) -> Duration {
        Duration::from_nanos(self.0)
    }

    /// `self - earlier`, or zero when `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Time) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl From<Duration> for Time {
    fn from(d: Duration) -> Time {
        Time::from_duration(d)
    }
}

impl Add<Duration> for Time {
    type Output = Time;
    fn add(self, d: Duration) -> Time {
        Time(self.0.saturating_add(nanos(d)))
    }
}

impl AddAssign<Duration> for Time {
    fn add_assign(&mut self, d: Duration) {
        self.0 = self.0.saturating_add(nanos(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanoseconds_saturating_584_years_after_the_origin() {
        let t = Time::from_duration(Duration::new(3, 5));
        assert_eq!(t.as_duration(), Duration::new(3, 5));
        assert_eq!(
            (t + Duration::from_nanos(7)).as_duration(),
            Duration::new(3, 12)
        );
        let last = Time::from_duration(Duration::MAX);
        assert_eq!(last.as_duration(), Duration::from_nanos(u64::MAX));
        assert_eq!(t + Duration::MAX, last);
        assert_eq!(last + Duration::from_secs(1), last);
        assert!(t < last);
        assert_eq!(t.saturating_duration_since(last), Duration::ZERO);
    }
}
