//! `-L/--location`: which responses are followed, with which method, and which request fields
//! may go to the next host.

use portline_core::addr::HttpUrl;

/// How many redirects `-L` follows by default. Python requests' `DEFAULT_REDIRECT_LIMIT` is
/// 30 (curl's tool allows 50, wget 20, Firefox and Chromium 20).
pub const MAX_REDIRS: u32 = 30;

/// The statuses `-L` follows (with a `Location`): 301, 302, 303, 307, 308. Like curl, never
/// 304 (a cache answer) nor 300 and 305.
pub fn is_followed(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The method of the request after a `status` redirect, and whether the body is sent again.
///
/// 301, 302 and 303 switch to GET without a body (HEAD stays HEAD), as browsers do (curl only
/// switches a POST on 301 and 302); 307 and 308 keep the method and the body (RFC 9110
/// §15.4.8, §15.4.9).
pub fn next_method(status: u16, method: &str) -> (String, bool) {
    match status {
        307 | 308 => (method.to_string(), true),
        _ if method.eq_ignore_ascii_case("HEAD") => (method.to_string(), false),
        _ => ("GET".to_string(), false),
    }
}

/// The fields that describe a body, dropped with it.
pub const BODY_FIELDS: &[&str] = &["content-type", "content-length", "content-encoding"];

/// The fields never sent to another origin after a redirect: credentials (curl drops
/// `Authorization` and `Cookie` on a change of host, port or scheme since 7.83, CVE-2022-27776),
/// and `Host`, which must name the new host.
pub const CREDENTIAL_FIELDS: &[&str] = &["authorization", "cookie", "proxy-authorization", "host"];

/// Whether two URLs have the same origin (RFC 6454: scheme, host and port).
pub fn same_origin(a: &HttpUrl, b: &HttpUrl) -> bool {
    a.scheme == b.scheme && a.host == b.host && a.port == b.port
}

/// The URL text of `url`: `http://HOST[:PORT]/TARGET` or `https://...`.
pub fn url_text(url: &HttpUrl) -> String {
    let scheme = match url.scheme {
        portline_core::addr::Scheme::Http => "http",
        portline_core::addr::Scheme::Https => "https",
    };
    format!("{scheme}://{}{}", url.host_header(), url.target)
}

/// Resolve a `Location` value against the URL it came from (RFC 9110 §10.2.2: it may be
/// relative), with the WHATWG parser.
pub fn resolve(base: &str, location: &str) -> Result<String, String> {
    let base = url::Url::parse(base).map_err(|e| format!("{base}: {e}"))?;
    base.join(location.trim())
        .map(String::from)
        .map_err(|e| format!("Location {location:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_after_each_redirect() {
        let cases = [
            (301, "POST", "GET", false),
            (302, "POST", "GET", false),
            (303, "PUT", "GET", false),
            (303, "HEAD", "HEAD", false),
            (302, "GET", "GET", false),
            (307, "POST", "POST", true),
            (308, "PUT", "PUT", true),
        ];
        for (status, from, to, body) in cases {
            assert_eq!(
                next_method(status, from),
                (to.to_string(), body),
                "{status} {from}"
            );
        }
    }

    #[test]
    fn only_real_redirects_are_followed() {
        for s in [301, 302, 303, 307, 308] {
            assert!(is_followed(s));
        }
        for s in [300, 304, 305, 306, 200, 404] {
            assert!(!is_followed(s));
        }
    }

    #[test]
    fn locations_resolve_against_the_request_url() {
        let base = "http://a.example:8080/dir/page?x=1";
        let cases = [
            ("/abs", "http://a.example:8080/abs"),
            ("rel", "http://a.example:8080/dir/rel"),
            ("../up?y=2", "http://a.example:8080/up?y=2"),
            ("//b.example/p", "http://b.example/p"),
            ("http://c.example/", "http://c.example/"),
            ("?only=query", "http://a.example:8080/dir/page?only=query"),
        ];
        for (loc, want) in cases {
            assert_eq!(resolve(base, loc).unwrap(), want, "{loc}");
        }
    }

    #[test]
    fn origins_differ_by_host_or_port() {
        let u = |s| HttpUrl::parse(s).unwrap();
        assert!(same_origin(&u("http://a/x"), &u("http://a:80/y")));
        assert!(!same_origin(&u("http://a/x"), &u("http://b/x")));
        assert!(!same_origin(&u("http://a/x"), &u("http://a:81/x")));
        assert_eq!(url_text(&u("http://[::1]:81/p?q")), "http://[::1]:81/p?q");
    }
}
