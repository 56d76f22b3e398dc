//! Time as a value the caller passes in.
//!
//! The core never reads a clock. Every input that can start or fire a timer takes a [`Time`]:
//! a point on a monotonic clock whose origin the caller chooses. A frontend keeps one
//! `std::time::Instant` as its origin and passes `Time::from(origin.elapsed())`; a test starts at
//! [`Time::ZERO`] and advances by hand, so timeouts fire without waiting.

use core::ops::{Add, AddAssign};
use core::time::Duration;

/// A point in time: the duration since an origin chosen by the caller.
///
/// ```
/// use portline_core::Time;
/// use std::time::Duration;
/// let t = Time::ZERO + Duration::from_secs(5);
/// assert_eq!(t.saturating_duration_since(Time::ZERO), Duration::from_secs(5));
/// assert!(t > Time::ZERO);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(Duration);

impl Time {
    /// The caller's origin.
    pub const ZERO: Time = Time(Duration::ZERO);

    /// The time `since_origin` after the origin.
    pub const fn from_duration(since_origin: Duration) -> Time {
        Time(since_origin)
    }

    /// How long after the origin this time is.
    pub const fn as_duration(self) -> Duration {
        self.0
    }

    /// `self - earlier`, or zero when `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Time) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl From<Duration> for Time {
    fn from(d: Duration) -> Time {
        Time(d)
    }
}

impl Add<Duration> for Time {
    type Output = Time;
    fn add(self, d: Duration) -> Time {
        Time(self.0.saturating_add(d))
    }
}

impl AddAssign<Duration> for Time {
    fn add_assign(&mut self, d: Duration) {
        self.0 = self.0.saturating_add(d);
    }
}
