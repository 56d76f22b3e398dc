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
    /// A kept-alive connection with no request in progress is closed after this: 5 s, Apache's
    /// `KeepAliveTimeout`.
    pub idle_timeout: Duration,
    /// A new connection that has not sent its first byte is closed after this: 20 s, the first
    /// stage of Apache's `mod_reqtimeout` (`header=20-40`), the module written against
    /// slowloris (nginx's `client_header_timeout` is 60 s, hyper's `header_read_timeout` 30 s).
    /// Longer than the idle timeout of a kept-alive connection, whose client has already been
    /// answered, and short enough that connections that say nothing do not pile up.
    pub first_byte_timeout: Duration,
    /// The longest wait between two reads while a request body is received: 60 s, nginx's
    /// `client_body_timeout` ("set only for a period between two successive read operations,
    /// not for the transmission of the whole request body"). Then: 408, as nginx answers.
    pub body_timeout: Duration,
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
            first_byte_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(60),
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
