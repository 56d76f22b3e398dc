//! The request every connection sends, written once: `GET /target HTTP/1.1`, `Host`, the `-H`
//! fields, an empty line, as wrk sends it.
//!
//! The core writes HTTP/1.0 requests; `bench` sends HTTP/1.1 ones, as wrk does, so that a
//! server which keeps only HTTP/1.1 connections alive by default (nginx keeps both; others do
//! not) is measured the way wrk measures it. The core still reads every response: each request
//! is also announced to the core's client connection (see [`super::BenchConn`]), which decides the
//! response's framing (HEAD, 204/304, `Connection: close`) from that.

/// The bytes of one request and what the core needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The request target, e.g. `/index.html?x=1`.
    pub target: String,
    /// The whole request, head and empty line (no body).
    pub bytes: Vec<u8>,
}

impl Template {
    /// The request for `method target`, with `Host: host` unless `headers` has its own `Host`
    /// (compared case-insensitively), then `headers` in order.
    pub fn new(method: &str, target: &str, host: &str, headers: &[(String, String)]) -> Template {
        let mut bytes = Vec::with_capacity(64);
        bytes.extend_from_slice(method.as_bytes());
        bytes.push(b' ');
        bytes.extend_from_slice(target.as_bytes());
        bytes.extend_from_slice(b" HTTP/1.1\r\n");
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            bytes.extend_from_slice(b"Host: ");
            bytes.extend_from_slice(host.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        for (name, value) in headers {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
        Template {
            method: method.to_string(),
            target: target.to_string(),
            bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_request_is_what_wrk_sends() {
        let t = Template::new("GET", "/hello.txt", "127.0.0.1:8080", &[]);
        assert_eq!(
            t.bytes,
            b"GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
        );
    }

    #[test]
    fn header_fields_follow_and_a_host_field_replaces_the_default() {
        let h = vec![
            ("Accept".to_string(), "*/*".to_string()),
            ("host".to_string(), "example.org".to_string()),
        ];
        let t = Template::new("HEAD", "/", "127.0.0.1:80", &h);
        assert_eq!(
            t.bytes,
            b"HEAD / HTTP/1.1\r\nAccept: */*\r\nhost: example.org\r\n\r\n"
        );
        assert_eq!(t.method, "HEAD");
    }
}
