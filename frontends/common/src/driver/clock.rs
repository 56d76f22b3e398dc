//! The process-wide clock origin: the core takes [`Time`] (a duration since an origin the caller
//! chooses); frontends and sessions speak `std::time::Instant`. This module converts between them.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Instant;

use portline_core::Time;

static ORIGIN: OnceLock<Instant> = OnceLock::new();

/// The origin of every [`Time`] this process hands to the core: fixed on first use.
pub fn origin() -> Instant {
    *ORIGIN.get_or_init(Instant::now)
}

thread_local! {
    /// The last conversion of this thread: a driver hands one `now` per turn to every call
    /// into a session, and each converts it (about five times per request in a file server).
    static LAST: Cell<Option<(Instant, Time)>> = const { Cell::new(None) };
}

/// `now` as a core [`Time`] (instants before the origin map to [`Time::ZERO`]).
pub fn to_time(now: Instant) -> Time {
    LAST.with(|last| match last.get() {
        Some((at, t)) if at == now => t,
        _ => {
            let t = Time::from(now.saturating_duration_since(origin()));
            last.set(Some((now, t)));
            t
        }
    })
}

/// A core [`Time`] back as an `Instant`.
pub fn to_instant(t: Time) -> Instant {
    origin() + t.as_duration()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn round_trip() {
        let o = origin();
        let later = o + Duration::from_millis(1500);
        assert_eq!(to_time(later).as_duration(), Duration::from_millis(1500));
        // Asked again (the thread's last conversion), and for another instant after it.
        assert_eq!(to_time(later).as_duration(), Duration::from_millis(1500));
        assert_eq!(
            to_time(o + Duration::from_millis(7)).as_duration(),
            Duration::from_millis(7)
        );
        assert_eq!(to_time(later).as_duration(), Duration::from_millis(1500));
        assert_eq!(to_instant(to_time(later)), later);
        // An instant before the origin saturates to zero instead of panicking.
        if let Some(before) = o.checked_sub(Duration::from_secs(1)) {
            assert_eq!(to_time(before), Time::ZERO);
        }
    }
}
