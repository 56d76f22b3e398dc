//! Limits and leniency options.

use core::time::Duration;

/// Bounds on everything a peer can make the connection hold or wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest head (request or status line plus header fields): 16 KiB, h11's default. Over it: 431.
    pub max_head: usize,
    /// Most header fields: 100, hyper's default. Over it: 431.
    pub max_headers: usize,
    /// Longest request target: 8 KiB. Over it: 414.
    pub max_target: usize,
    /// Largest body accepted: unlimited by default (`u64::MAX`). Over it: 413.
    pub max_body: u64,
    /// The whole head must arrive within this time of its first byte: 10 s. Then: 408.
    pub head_timeout: Duration,
    /// A kept-alive connection with no request in progress is closed after this: 5 s.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head: 16 * 1024,
            max_headers: 100,
            max_target: 8 * 1024,
            max_body: u64::MAX,
            head_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
        }
    }
}

/// Opt-in (or opt-out) deviations from the strict grammar. The default is what docs/HTTP.md decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leniency {
    /// Accept a bare LF as the end of a head line (default: true, as RFC 1945 and RFC 9112 allow;
    /// people type requests by hand with nc). `false` makes it a 400.
    pub bare_lf: bool,
    /// Accept HTTP/0.9 Simple-Requests (default: true, RFC 1945 asks servers to).
    pub http09: bool,
    /// Accept obs-text (bytes >= 0x80, such as raw UTF-8) in a request target (default: false:
    /// RFC 9112 3.2 allows only VCHAR there, as llhttp's strict mode and nginx do). `true` is
    /// for clients that send unencoded UTF-8 paths.
    pub obs_text_target: bool,
}

impl Default for Leniency {
    fn default() -> Leniency {
        Leniency {
            bare_lf: true,
            http09: true,
            obs_text_target: false,
        }
    }
}

/// Everything that configures a connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// Size and time bounds.
    pub limits: Limits,
    /// Grammar options.
    pub leniency: Leniency,
}
