//! Conversions to and from the [`http`] crate's types, which most of the Rust HTTP
//! ecosystem speaks (hyper, reqwest, axum, ureq-proto). Feature `http`, off by default.
//!
//! - Received heads become `http` types: [`RequestHead::to_http`] gives an
//!   `http::Request<()>`, [`ResponseHead::to_http`] an `http::Response<()>`.
//! - `http` messages become what the commands take: [`ResponseFields`] borrows an
//!   `http::Response<B>` and gives the [`Response`] for [`Connection::send_response`];
//!   [`RequestFields`] does the same for [`Connection::send_request`].
//!
//! Every conversion is fallible ([`ConvertError`]): the two sides accept slightly different bytes
//! (a target `http::Uri` refuses, a header value with obs-text it accepts), and the framing fields
//! (`Content-Length`, `Transfer-Encoding`, `Connection`) are the connection's to write.
//!
//! # What the conversion loses
//!
//! An `http::HeaderMap` groups fields by name: it keeps the order of the values of one name, but
//! **not the order of the fields**, nor how duplicates were interleaved with other fields
//! (`A: 1`, `B: 2`, `A: 3` comes back as `a: 1`, `a: 3`, `b: 2`). Names are lowercased. A
//! response's reason phrase is dropped (`http` keeps only the status; the canonical reason is
//! written back), `http::Uri` drops a `#fragment` from a target, and the distinction between a
//! header line folded with obs-fold and one that was not is gone. Order and duplicates are what request-smuggling analysis looks at, so the raw
//! events ([`Event::Request`](super::Event::Request) with its [`Headers`](super::Headers)) stay
//! the primary API; convert when handing a message to code that speaks `http`.
//!
//! # Example: a handler written against `http` types, served by the core
//!
//! ```
//! use portline_core::Time;
//! use portline_core::http::interop::ResponseFields;
//! use portline_core::http::{BodyLength, Config, Connection, Event, Progress, Role};
//!
//! /// Any `http`-speaking handler: it never sees a portline type.
//! fn handler(req: http::Request<()>) -> http::Response<Vec<u8>> {
//!     let body = format!("{} {}\n", req.method(), req.uri().path()).into_bytes();
//!     http::Response::builder()
//!         .status(http::StatusCode::OK)
//!         .header(http::header::CONTENT_TYPE, "text/plain")
//!         .body(body)
//!         .unwrap()
//! }
//!
//! let now = Time::ZERO;
//! let mut conn = Connection::new(Role::Server, Config::default(), now);
//! conn.receive(now, b"GET /hello?x=1 HTTP/1.0\r\nHost: example.org\r\n\r\n");
//! let Ok(Progress::Event(Event::Request(head))) = conn.poll_event() else { panic!() };
//! assert_eq!(conn.poll_event(), Ok(Progress::Event(Event::EndOfMessage)));
//!
//! let request = head.to_http().expect("a valid request head");
//! assert_eq!(request.headers()["host"], "example.org");
//! let response = handler(request);
//!
//! let mut out = Vec::new();
//! let length = BodyLength::Known(response.body().len() as u64);
//! let fields = ResponseFields::new(&response, length).expect("no framing fields set");
//! conn.send_response(now, &fields.response(), &mut out).unwrap();
//! conn.send_data(now, response.body(), &mut out).unwrap();
//! conn.send_end(now).unwrap();
//! assert_eq!(
//!     String::from_utf8(out).unwrap(),
//!     "HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\nContent-Length: 11\r\n\
//!      Connection: close\r\n\r\nGET /hello\n"
//! );
//! ```

use core::fmt;

#[cfg(doc)]
use super::Connection;
use super::{BodyLength, Request, RequestHead, Response, ResponseHead, Version};

/// Why a conversion to or from the `http` crate's types failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConvertError {
    /// The method is not one `http::Method` accepts.
    Method,
    /// The request target is not one `http::Uri` accepts.
    Target,
    /// A field name `http::HeaderName` refuses (with the name, lossy UTF-8).
    HeaderName(String),
    /// A field value `http::HeaderValue` refuses (with the field's name).
    HeaderValue(String),
    /// The status code is outside what `http::StatusCode` accepts (100..=999).
    Status(u16),
    /// An `http` message sets a field the connection writes itself (`Connection`,
    /// `Transfer-Encoding`), or a `Content-Length` that disagrees with the body length given.
    Framing(&'static str),
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConvertError::Method => f.write_str("the method is not a valid http::Method"),
            ConvertError::Target => f.write_str("the request target is not a valid http::Uri"),
            ConvertError::HeaderName(n) => write!(f, "`{n}` is not a valid http::HeaderName"),
            ConvertError::HeaderValue(n) => {
                write!(f, "the value of `{n}` is not a valid http::HeaderValue")
            }
            ConvertError::Status(s) => write!(f, "status {s} is not a valid http::StatusCode"),
            ConvertError::Framing(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ConvertError {}

fn version_to_http(v: Version) -> ::http::Version {
    match v {
        Version::Http09 => ::http::Version::HTTP_09,
        Version::Http10 => ::http::Version::HTTP_10,
        Version::Http11 => ::http::Version::HTTP_11,
    }
}

fn headers_to_http(headers: &super::Headers) -> Result<::http::HeaderMap, ConvertError> {
    let mut map = ::http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers.iter() {
        let lossy = || String::from_utf8_lossy(name).into_owned();
        let name =
            ::http::HeaderName::from_bytes(name).map_err(|_| ConvertError::HeaderName(lossy()))?;
        let value = ::http::HeaderValue::from_bytes(value)
            .map_err(|_| ConvertError::HeaderValue(lossy()))?;
        map.append(name, value);
    }
    Ok(map)
}

impl RequestHead {
    /// This head as an `http::Request<()>`: method, target (as the `Uri`, sharing its bytes),
    /// version and fields. Loses the order of the fields (see the [module](self) docs).
    pub fn to_http(&self) -> Result<::http::Request<()>, ConvertError> {
        let mut request = ::http::Request::new(());
        *request.method_mut() =
            ::http::Method::from_bytes(&self.method).map_err(|_| ConvertError::Method)?;
        *request.uri_mut() = ::http::Uri::from_maybe_shared(self.target.clone())
            .map_err(|_| ConvertError::Target)?;
        *request.version_mut() = version_to_http(self.version);
        *request.headers_mut() = headers_to_http(&self.headers)?;
        Ok(request)
    }
}

impl ResponseHead {
    /// This head as an `http::Response<()>`: status, version and fields. Loses the reason
    /// phrase and the order of the fields (see the [module](self) docs).
    pub fn to_http(&self) -> Result<::http::Response<()>, ConvertError> {
        let mut response = ::http::Response::new(());
        *response.status_mut() = ::http::StatusCode::from_u16(self.status)
            .map_err(|_| ConvertError::Status(self.status))?;
        *response.version_mut() = version_to_http(self.version);
        *response.headers_mut() = headers_to_http(&self.headers)?;
        Ok(response)
    }
}

/// The fields of an `http` message as the commands take them: `Content-Length` checked against
/// `body` and left for the connection to write; `Connection` and `Transfer-Encoding` refused.
fn fields(map: &::http::HeaderMap, body: BodyLength) -> Result<Vec<(&str, &[u8])>, ConvertError> {
    let mut out = Vec::with_capacity(map.len());
    for (name, value) in map {
        if name == ::http::header::CONTENT_LENGTH {
            let declared = core::str::from_utf8(value.as_bytes())
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok());
            if BodyLength::Known(declared.unwrap_or(u64::MAX)) != body {
                return Err(ConvertError::Framing(
                    "Content-Length disagrees with the body length given",
                ));
            }
        } else if name == ::http::header::CONNECTION || name == ::http::header::TRANSFER_ENCODING {
            return Err(ConvertError::Framing(
                "Connection and Transfer-Encoding are written by the connection",
            ));
        } else {
            out.push((name.as_str(), value.as_bytes()));
        }
    }
    Ok(out)
}

/// What [`Connection::send_response`] takes, borrowed from an `http::Response<B>` (the body is
/// not touched: send it with `send_data`).
///
/// The status comes with its canonical reason phrase; the `http` version is ignored (the
/// connection answers in HTTP/1.0). Fields keep the map's order (grouped by name, names in
/// lowercase).
#[derive(Debug, Clone)]
pub struct ResponseFields<'a> {
    status: u16,
    reason: &'static str,
    headers: Vec<(&'a str, &'a [u8])>,
    body: BodyLength,
}

impl<'a> ResponseFields<'a> {
    /// Borrow `response`'s head; `body` is the length of the body you will send.
    ///
    /// Fails with [`ConvertError::Framing`] when the map sets `Connection` or
    /// `Transfer-Encoding`, or a `Content-Length` other than a `Known` `body`.
    pub fn new<B>(
        response: &'a ::http::Response<B>,
        body: BodyLength,
    ) -> Result<ResponseFields<'a>, ConvertError> {
        let status = response.status();
        Ok(ResponseFields {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or(""),
            headers: fields(response.headers(), body)?,
            body,
        })
    }

    /// The [`Response`] to pass to [`Connection::send_response`].
    pub fn response(&self) -> Response<'_> {
        Response {
            status: self.status,
            reason: self.reason,
            headers: &self.headers,
            body: self.body,
        }
    }
}

/// What [`Connection::send_request`] takes, borrowed from an `http::Request<B>` (the body is
/// not touched: send it with `send_data`).
///
/// The target is the URI's path and query (origin form, `/` when empty); for `CONNECT`, the
/// URI's authority (authority form). A `Host` field is added
/// from the URI's authority when the map has none. The `http` version is ignored (the
/// connection writes HTTP/1.0).
#[derive(Debug, Clone)]
pub struct RequestFields<'a> {
    method: &'a str,
    target: &'a str,
    headers: Vec<(&'a str, &'a [u8])>,
    body: BodyLength,
    keep_alive: bool,
}

impl<'a> RequestFields<'a> {
    /// Borrow `request`'s head; `body` is the length of the body you will send (`Known(0)` for
    /// none), `keep_alive` asks the server to keep the connection.
    ///
    /// Fails with [`ConvertError::Framing`] when the map sets `Connection` or
    /// `Transfer-Encoding`, or a `Content-Length` other than a `Known` `body`.
    pub fn new<B>(
        request: &'a ::http::Request<B>,
        body: BodyLength,
        keep_alive: bool,
    ) -> Result<RequestFields<'a>, ConvertError> {
        let uri = request.uri();
        let target = if request.method() == ::http::Method::CONNECT {
            uri.authority()
                .map(|a| a.as_str())
                .ok_or(ConvertError::Target)?
        } else {
            uri.path_and_query().map_or("/", |pq| pq.as_str())
        };
        let mut headers = fields(request.headers(), body)?;
        if !request.headers().contains_key(::http::header::HOST) {
            if let Some(authority) = uri.authority() {
                headers.insert(0, ("Host", authority.as_str().as_bytes()));
            }
        }
        Ok(RequestFields {
            method: request.method().as_str(),
            target,
            headers,
            body,
            keep_alive,
        })
    }

    /// The [`Request`] to pass to [`Connection::send_request`].
    pub fn request(&self) -> Request<'_> {
        Request {
            method: self.method,
            target: self.target,
            headers: &self.headers,
            body: self.body,
            keep_alive: self.keep_alive,
        }
    }
}
