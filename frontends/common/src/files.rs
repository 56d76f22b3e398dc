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
            // Rebuilt from the decoded segments (not the raw path), so that `//host` can never
            // become a protocol-relative `Location` that leaves this server.
            let mut location = String::with_capacity(path.len() + 2);
            for seg in &segments {
                location.push('/');
                location.extend(percent_encoding::percent_encode(seg, LINK));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A root with `a.txt`, `dir/b.txt`, `dir/index.html` absent, `site/index.html`, and a
    /// secret file next to (outside) the root.
    fn tree() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("dir")).unwrap();
        std::fs::create_dir_all(root.join("site")).unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::fs::write(root.join("dir/b.txt"), "b").unwrap();
        std::fs::write(root.join("site/index.html"), "<p>site</p>").unwrap();
        std::fs::write(root.join("sp ace&<x>.txt"), "s").unwrap();
        std::fs::write(tmp.path().join("secret.txt"), "secret").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(tmp.path().join("secret.txt"), root.join("out-link"))
                .unwrap();
            std::os::unix::fs::symlink(tmp.path(), root.join("out-dir")).unwrap();
            std::os::unix::fs::symlink(root.join("a.txt"), root.join("in-link")).unwrap();
        }
        let root = root.canonicalize().unwrap();
        (tmp, root)
    }

    fn file_name(r: &Result<Resolved, Refusal>) -> Option<String> {
        match r {
            Ok(Resolved::File { path, .. }) => {
                Some(path.file_name().unwrap().to_string_lossy().into_owned())
            }
            _ => None,
        }
    }

    #[test]
    fn maps_plain_targets() {
        let (_tmp, root) = tree();
        let cases: &[(&[u8], &str)] = &[
            (b"/a.txt", "a.txt"),
            (b"/a.txt?x=1", "a.txt"),
            (b"/a.txt#frag", "a.txt"),
            (b"//a.txt", "a.txt"),
            (b"/./a.txt", "a.txt"),
            (b"/dir/b.txt", "b.txt"),
            (b"/%64ir/%62.txt", "b.txt"),
            (b"/site/", "index.html"),
            (b"/sp%20ace%26%3Cx%3E.txt", "sp ace&<x>.txt"),
            (b"http://example.com/a.txt", "a.txt"),
            (b"HTTP://example.com/dir/b.txt?q", "b.txt"),
        ];
        for (target, want) in cases {
            let got = resolve(&root, target);
            assert_eq!(
                file_name(&got).as_deref(),
                Some(*want),
                "{}: {got:?}",
                String::from_utf8_lossy(target)
            );
        }
        #[cfg(unix)]
        assert_eq!(
            file_name(&resolve(&root, b"/in-link")).as_deref(),
            Some("a.txt")
        );
    }

    #[test]
    fn no_encoding_reaches_outside_the_root() {
        let (_tmp, root) = tree();
        let attempts: &[&[u8]] = &[
            b"/../secret.txt",
            b"/dir/../../secret.txt",
            b"/%2e%2e/secret.txt",
            b"/%2E%2E/secret.txt",
            b"/.%2e/secret.txt",
            b"/%2e./secret.txt",
            b"/..%2fsecret.txt",
            b"/..%2Fsecret.txt",
            b"/dir%2f..%2f..%2fsecret.txt",
            b"/%2fetc%2fpasswd",
            b"/..",
            b"/dir/..",
            b"/a.txt%00",
            b"/a.txt%00.html",
            b"/%00",
            b"/%252e%252e/secret.txt",
            b"/out-link",
            b"/out-dir/secret.txt",
            b"/out-dir/",
            b"http://x/../secret.txt",
            b"/..\\secret.txt",
            b"/%2e%2e%5csecret.txt",
        ];
        for target in attempts {
            let got = resolve(&root, target);
            let outside = match &got {
                Ok(Resolved::File { path, .. }) | Ok(Resolved::Directory { path, .. }) => {
                    !path.starts_with(&root)
                }
                _ => false,
            };
            assert!(
                !outside,
                "{} escaped: {got:?}",
                String::from_utf8_lossy(target)
            );
            assert!(
                matches!(got, Err(Refusal::Forbidden | Refusal::NotFound)),
                "{}: {got:?}",
                String::from_utf8_lossy(target)
            );
        }
    }

    #[test]
    fn traversal_segments_are_forbidden_not_missing() {
        let (_tmp, root) = tree();
        for target in [&b"/../secret.txt"[..], b"/%2e%2e/x", b"/a%2fb", b"/a%00"] {
            assert!(matches!(resolve(&root, target), Err(Refusal::Forbidden)));
        }
        assert!(matches!(
            resolve(&root, b"/nothing-here"),
            Err(Refusal::NotFound)
        ));
        assert!(matches!(
            resolve(&root, b"/a.txt/below"),
            Err(Refusal::NotFound)
        ));
        assert!(matches!(resolve(&root, b"*"), Err(Refusal::BadRequest)));
        assert!(matches!(
            resolve(&root, b"ftp://x/a.txt"),
            Err(Refusal::BadRequest)
        ));
    }

    #[test]
    fn directories_redirect_then_list() {
        let (_tmp, root) = tree();
        match resolve(&root, b"/dir?x=1") {
            Ok(Resolved::Redirect(loc)) => assert_eq!(loc, "/dir/?x=1"),
            other => panic!("{other:?}"),
        }
        // Never a protocol-relative location (`//host/`), whatever the request's slashes.
        std::fs::create_dir(root.join("evil.example")).unwrap();
        for target in [
            &b"//evil.example"[..],
            b"///evil.example",
            b"/./evil.example",
        ] {
            match resolve(&root, target) {
                Ok(Resolved::Redirect(loc)) => assert_eq!(loc, "/evil.example/"),
                other => panic!("{other:?}"),
            }
        }
        match resolve(&root, b"/dir/") {
            Ok(Resolved::Directory { path, url_path }) => {
                assert_eq!(path, root.join("dir"));
                assert_eq!(url_path, "/dir/");
            }
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_forbidden() {
        let (_tmp, root) = tree();
        std::os::unix::fs::symlink("/dev/null", root.join("null")).unwrap();
        // /dev/null is outside the root anyway; a FIFO inside it is the real case.
        let status = std::process::Command::new("mkfifo")
            .arg(root.join("fifo"))
            .status();
        if matches!(status, Ok(s) if s.success()) {
            assert!(matches!(resolve(&root, b"/fifo"), Err(Refusal::Forbidden)));
        }
        assert!(matches!(resolve(&root, b"/null"), Err(Refusal::Forbidden)));
    }

    #[test]
    fn listing_links_are_encoded_and_names_escaped() {
        let (_tmp, root) = tree();
        let page = String::from_utf8(listing(&root, "/").unwrap()).unwrap();
        assert!(page.contains("<title>Index of /</title>"), "{page}");
        assert!(
            page.contains("<a href=\"sp%20ace%26%3Cx%3E.txt\">sp ace&amp;&lt;x&gt;.txt</a>"),
            "{page}"
        );
        assert!(page.contains("<a href=\"dir/\">dir/</a>"), "{page}");
        assert!(page.contains("<a href=\"a.txt\">a.txt</a>"), "{page}");
        assert!(!page.contains("href=\"../\""), "no parent link at the root");
        // Sorted by name.
        let a = page.find("a.txt").unwrap();
        let d = page.find("dir/").unwrap();
        assert!(a < d);
        let sub = String::from_utf8(listing(&root.join("dir"), "/dir/").unwrap()).unwrap();
        assert!(sub.contains("<a href=\"../\">../</a>"));
        assert!(sub.contains("<a href=\"b.txt\">b.txt</a>"));
        assert!(sub.contains("Index of /dir/"));
    }

    #[test]
    fn html_escape_covers_the_five() {
        assert_eq!(
            html_escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
