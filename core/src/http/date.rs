//! The `Date:` header, rendered from a wall-clock value the caller passes in.

use std::time::SystemTime;

/// Renders an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and caches it for the current second.
#[derive(Debug, Clone, Default)]
pub struct DateCache {
    second: u64,
    text: String,
}

impl DateCache {
    /// An empty cache.
    pub fn new() -> DateCache {
        DateCache::default()
    }

    /// The `Date` value for `now` (a wall-clock time the caller read), rendered again only when
    /// the second changes.
    pub fn render(&mut self, now: SystemTime) -> &str {
        let second = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if self.text.is_empty() || second != self.second {
            self.second = second;
            self.text = httpdate::fmt_http_date(now);
        }
        &self.text
    }
}
