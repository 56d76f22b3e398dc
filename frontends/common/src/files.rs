//! Mapping a request target to a file under the served root, and rendering directory listings.
//!
//! The rule: no request, however encoded, reads a byte outside the root. The target's path is
//! split into segments *before* percent-decoding, so an encoded `/` (`%2f`) can never create a
//! separator; a decoded segment that is `..`, contains `/` or NUL is refused; and the final path
//! is canonicalized (resolving symlinks) and must still lie under the canonical root.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode};

/// Why a target maps to no file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not an origin-form or absolute-form target: 400.
    BadRequest,
    /// A traversal attempt, a path outside the root, unreadable, or not a regular file: 403.
    Forbidden,
    /// Nothing there: 404.
    NotFound,
}

impl Refusal {
    /// The status code and reason phrase.
    pub fn status(self) -> (u16, &'static str) {
        match self {
            Refusal::BadRequest => (400, "Bad Request"),
            Refusal::Forbidden => (403, "Forbidden"),
            Refusal::NotFound => (404, "Not Found"),
        }
    }
}

/// What a target maps to.
#[derive(Debug)]
pub enum Resolved {
    /// A regular file (possibly a directory's `index.html`).
    File {
        /// Its canonical path.
        path: PathBuf,
        /// Its metadata.
        meta: Metadata,
    },
    /// A directory without `index.html`: list it.
    Directory {
        /// Its canonical path.
        path: PathBuf,
        /// The URL path as requested (still percent-encoded), ending in `/`.
        url_path: String,
    },
    /// A directory asked for without the final `/`: redirect (301) to this location, so that
    /// relative links in its listing resolve.
    Redirect(String),
}

/// The path and query of a request target (origin-form `/p?q`, or absolute-form
/// `http://host/p?q`), both still percent-encoded.
pub fn split_target(target: &[u8]) -> Result<(&[u8], &[u8]), Refusal> {
    let mut t = target;
    if let Some(pos) = t.iter().position(|&b| b == b'#') {
        t = &t[..pos];
    }
    if t.first() != Some(&b'/') {
        // absolute-form: scheme "://" authority path
        let lower: Vec<u8> = t.iter().take(8).map(u8::to_ascii_lowercase).collect();
        let rest = if lower.starts_with(b"http://") {
            &t[7..]
        } else if lower.starts_with(b"https://") {
            &t[8..]
        } else {
            return Err(Refusal::BadRequest);
        };
        t = match rest.iter().position(|&b| b == b'/' || b == b'?') {
            Some(p) if rest[p] == b'/' => &rest[p..],
            _ => b"/",
        };
    }
    match t.iter().position(|&b| b == b'?') {
        Some(q) => Ok((&t[..q], &t[q + 1..])),
        None => Ok((t, b"")),
    }
}

/// The decoded segments of an encoded path (empty and `.` segments dropped), or a refusal for
/// `..`, an encoded `/`, or NUL.
pub fn decode_segments(path: &[u8]) -> Result<Vec<Vec<u8>>, Refusal> {
    let mut out = Vec::new();
    for raw in path.split(|&b| b == b'/') {
        let seg: Vec<u8> = percent_decode(raw).collect();
        if seg.contains(&b'/') || seg.contains(&0) {
            return Err(Refusal::Forbidden);
        }
        match seg.as_slice() {
            b"" | b"." => {}
            b".." => return Err(Refusal::Forbidden),
            _ => out.push(seg),
        }
    }
    Ok(out)
}

#[cfg(unix)]
fn os_str(bytes: &[u8]) -> &OsStr {
    use std::os::unix::ffi::OsStrExt;
    OsStr::from_bytes(bytes)
}

#[cfg(not(unix))]
fn os_str(bytes: &[u8]) -> &OsStr {
    OsStr::new(std::str::from_utf8(bytes).unwrap_or("\u{fffd}"))
}

#[cfg(unix)]
fn os_bytes(s: &OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    s.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(s: &OsStr) -> Vec<u8> {
    s.to_string_lossy().into_owned().into_bytes()
}

fn refusal(e: &io::Error) -> Refusal {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Refusal::NotFound,
        _ => Refusal::Forbidden,
    }
}

/// Canonicalize `path` and check that it lies under `root` (itself canonical).
fn confine(root: &Path, path: &Path) -> Result<(PathBuf, Metadata), Refusal> {
    let canon = path.canonicalize().map_err(|e| refusal(&e))?;
    if !canon.starts_with(root) {
        return Err(Refusal::Forbidden);
    }
    let meta = std::fs::metadata(&canon).map_err(|e| refusal(&e))?;
    Ok((canon, meta))
}

/// Map `target` to what to serve under `root`, which must be canonical
/// (`Path::canonicalize`).
pub fn resolve(root: &Path, target: &[u8]) -> Result<Resolved, Refusal> {
    let (path, query) = split_target(target)?;
    let segments = decode_segments(path)?;
    let mut joined = root.to_path_buf();
    for seg in &segments {
        joined.push(os_str(seg));
    }
    let (canon, meta) = confine(root, &joined)?;
    if meta.is_dir() {
        let url_path = String::from_utf8_lossy(path).into_owned();
        if !url_path.ends_with('/') {
            let mut location = url_path;
            location.push('/');
            if !query.is_empty() {
                location.push('?');
                location.push_str(&String::from_utf8_lossy(query));
            }
            return Ok(Resolved::Redirect(location));
        }
        match confine(root, &canon.join("index.html")) {
            Ok((path, meta)) if meta.is_file() => return Ok(Resolved::File { path, meta }),
            _ => {}
        }
        return Ok(Resolved::Directory {
            path: canon,
            url_path,
        });
    }
    if !meta.is_file() {
        // FIFOs, sockets, devices: never opened (a FIFO would block the reader forever).
        return Err(Refusal::Forbidden);
    }
    Ok(Resolved::File { path: canon, meta })
}

/// Characters percent-encoded in a listing's links: all but the RFC 3986 unreserved set.
const LINK: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `s` with `&`, `<`, `>`, `"` and `'` escaped for HTML text and attributes.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Most entries a listing shows; the rest are counted, not listed (bounds the page's size).
pub const MAX_LISTING: usize = 10_000;

/// An HTML page listing `dir`, whose URL path is `url_path` (percent-encoded, ending in `/`):
/// one link per entry, sorted by name, directories with a trailing `/`.
pub fn listing(dir: &Path, url_path: &str) -> io::Result<Vec<u8>> {
    let mut entries: Vec<(Vec<u8>, String, bool)> = Vec::new();
    let mut omitted = 0usize;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entries.len() >= MAX_LISTING {
            omitted += 1;
            continue;
        }
        let name = entry.file_name();
        // file_type() does not follow symlinks; metadata() does, so a link to a directory
        // gets its `/` (and a dangling link is shown as a file).
        let is_dir = std::fs::metadata(entry.path())
            .map(|m| m.is_dir())
            .unwrap_or(false);
        entries.push((os_bytes(&name), name.to_string_lossy().into_owned(), is_dir));
    }
    entries.sort();
    let title = html_escape(&percent_decode(url_path.as_bytes()).decode_utf8_lossy());
    let mut page = String::with_capacity(256 + entries.len() * 64);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Index of {title}</title>\n</head>\n<body>\n<h1>Index of {title}</h1>\n<hr>\n<ul>\n"
    );
    if url_path != "/" {
        page.push_str("<li><a href=\"../\">../</a></li>\n");
    }
    for (raw, shown, is_dir) in &entries {
        let slash = if *is_dir { "/" } else { "" };
        let href: String = percent_encoding::percent_encode(raw, LINK).collect();
        let _ = writeln!(
            page,
            "<li><a href=\"{href}{slash}\">{}{slash}</a></li>",
            html_escape(shown)
        );
    }
    page.push_str("</ul>\n");
    if omitted > 0 {
        let _ = writeln!(page, "<p>{omitted} more entries not shown</p>");
    }
    page.push_str("<hr>\n</body>\n</html>\n");
    Ok(page.into_bytes())
}
