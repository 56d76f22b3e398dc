//! The access log: one line per request on stderr in Common Log Format, as Apache and nginx write
//! it: `127.0.0.1 - - [26/Nov/2026:06:15:53 +0000] "GET / HTTP/1.1" 200 1234`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::IpAddr;
use std::time::SystemTime;

/// The CLF timestamp of `t` in UTC: `26/Nov/2026:06:15:53 +0000`.
pub fn clf_time(t: SystemTime) -> String {
    // httpdate renders the IMF-fixdate `Thu, 26 Nov 2026 06:15:53 GMT`; CLF uses the same
    // fields in another order.
    let imf = httpdate::fmt_http_date(t);
    let mut f = imf.split_whitespace().skip(1);
    match (f.next(), f.next(), f.next(), f.next()) {
        (Some(day), Some(month), Some(year), Some(hms)) => {
            format!("{day}/{month}/{year}:{hms} +0000")
        }
        _ => imf,
    }
}

/// The request line as it goes between the quotes of a log line: bytes outside printable ASCII,
/// `"` and `\` escaped as `\xHH` (as Apache does), so a request cannot forge log lines.
pub fn request_line(method: &str, target: &[u8], version: Option<&str>) -> String {
    let mut s = String::with_capacity(method.len() + target.len() + 10);
    escape_into(&mut s, method.as_bytes());
    s.push(' ');
    escape_into(&mut s, target);
    if let Some(v) = version {
        s.push_str(" HTTP/");
        s.push_str(v);
    }
    s
}

fn escape_into(s: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            s.push(b as char);
        } else {
            let _ = write!(s, "\\x{b:02x}");
        }
    }
}

/// One access-log line (without the newline). `bytes` is the body length sent, `None` for none
/// (written `-`).
pub fn access_line(
    peer: IpAddr,
    when: SystemTime,
    request: &str,
    status: u16,
    bytes: Option<u64>,
) -> String {
    let size = match bytes {
        Some(n) if n > 0 => n.to_string(),
        _ => "-".to_string(),
    };
    format!(
        "{peer} - - [{}] \"{request}\" {status} {size}",
        clf_time(when)
    )
}

/// Write one line to stderr (in one write, so lines from several threads do not interleave).
pub fn emit(line: &str) {
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    let _ = std::io::stderr().lock().write_all(buf.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_a_common_log_format_line() {
        // 2026-11-26T06:15:53Z
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_673_753);
        assert_eq!(clf_time(t), "26/Nov/2026:06:15:53 +0000");
        let line = access_line(
            "127.0.0.1".parse().unwrap(),
            t,
            &request_line("GET", b"/", Some("1.1")),
            200,
            Some(1234),
        );
        assert_eq!(
            line,
            "127.0.0.1 - - [26/Nov/2026:06:15:53 +0000] \"GET / HTTP/1.1\" 200 1234"
        );
    }

    #[test]
    fn escapes_quotes_and_control_bytes() {
        assert_eq!(
            request_line("GET", b"/a\"b\\c\n\xff", None),
            "GET /a\\x22b\\x5cc\\x0a\\xff"
        );
        let line = access_line(
            "::1".parse().unwrap(),
            SystemTime::UNIX_EPOCH,
            "HEAD /x HTTP/1.0",
            304,
            None,
        );
        assert!(line.ends_with("\"HEAD /x HTTP/1.0\" 304 -"), "{line}");
        assert!(line.starts_with("::1 - - [01/Jan/1970:00:00:00 +0000]"));
    }
}
