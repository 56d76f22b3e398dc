//! Mapping a request target to a file under the served root, and rendering directory listings.
//!
//! The rule: no request, however encoded, reads a byte outside the root. The target's path is
//! split into segments *before* percent-decoding, so an encoded `/` (`%2f`) can never create a
//! separator; a decoded segment that is `..`, contains `/` or NUL is refused. Then (on Unix)
//! the path is opened relative to a handle on the root opened once at start ([`Root`]),
//! following no symlink: one `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` on Linux 5.6+,
//! else one `openat(O_NOFOLLOW)` per segment. With no `..` and no symlink followed, what opens
//! is beneath the root by construction. Only when that meets a symlink is the path
//! canonicalized (resolving symlinks); the result must lie under the canonical root and is then
//! opened the same way. A file is served from the very handle that was checked (`fstat` on it
//! gives its type, length and date), so per request a file costs open, fstat, read and close
//! (the file server keeps small files for a second: `http_server`'s open-file cache).

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs::{File, Metadata};
use std::io;
#[cfg(unix)]
use std::os::fd::OwnedFd;
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
    /// A regular file (possibly a directory's `index.html`), open for reading.
    File {
        /// Its canonical path.
        path: PathBuf,
        /// The open file: serve from this handle, which is the one that was checked.
        file: File,
        /// Its metadata (of the open handle).
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

/// The decoded segments of an encoded path, normalised (empty and `.` segments dropped, `..`
/// removes the segment before it, as RFC 3986's remove_dot_segments), or a refusal for a `..`
/// that would climb above the root, an encoded `/`, or NUL.
pub fn decode_segments(path: &[u8]) -> Result<Vec<Vec<u8>>, Refusal> {
    let mut joined = Vec::with_capacity(path.len());
    decode_into(path, &mut joined)?;
    Ok(joined
        .split(|&b| b == b'/')
        .skip(1)
        .map(<[u8]>::to_vec)
        .collect())
}

/// Append the decoded segments of an encoded path to `out`, each after a `/`, normalised (empty
/// and `.` segments dropped, `..` removes the segment before it), or refuse a `..` that would
/// climb above the root, an encoded `/`, or NUL. Normalising is lexical, as for any URL: the
/// result is still opened without following a symlink out of the root.
fn decode_into(path: &[u8], out: &mut Vec<u8>) -> Result<(), Refusal> {
    let base = out.len();
    for raw in path.split(|&b| b == b'/') {
        let start = out.len();
        out.push(b'/');
        if raw.contains(&b'%') {
            out.extend(percent_decode(raw));
        } else {
            // Nothing to decode (most paths): one copy, not a byte-by-byte decoder.
            out.extend_from_slice(raw);
        }
        let seg = &out[start + 1..];
        if seg.contains(&b'/') || seg.contains(&0) {
            return Err(Refusal::Forbidden);
        }
        match seg {
            b"" | b"." => out.truncate(start),
            b".." => {
                out.truncate(start);
                if out.len() == base {
                    // Above the root.
                    return Err(Refusal::Forbidden);
                }
                let parent = out[base..].iter().rposition(|&b| b == b'/').unwrap_or(0);
                out.truncate(base + parent);
            }
            _ => {}
        }
    }
    Ok(())
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

/// What a confined open found.
enum Node {
    /// A regular file, open for reading, with the metadata of the open handle.
    File(File, Metadata),
    /// A directory (no handle kept: it is listed by path, or its `index.html` opened).
    Dir,
}

/// How [`walk`] opens a path (tests force the portable way).
#[cfg(unix)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolve {
    /// `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` where the kernel has it (Linux 5.6+,
    /// and not refused by a seccomp filter), else one `openat` per segment.
    Auto,
    /// One `openat(O_NOFOLLOW)` per segment (what `Auto` falls back to; tests ask for it).
    #[cfg(test)]
    PerSegment,
}

/// Set once `openat2` is found missing or refused; from then on every walk is per segment.
#[cfg(any(target_os = "linux", target_os = "android"))]
static NO_OPENAT2: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Open `rel` (segments joined by `/`, none empty, `.` or `..`, so each is one directory
/// entry; empty for `root` itself) beneath the directory `root` with `flags` for the last
/// segment, following no symlink anywhere: a symlink fails with `ELOOP` (or `ENOTDIR` when a
/// directory was expected). With no `..` and no symlink, what opens lies beneath `root` by
/// construction, whatever happens to paths meanwhile: each step is relative to a handle.
#[cfg(unix)]
fn open_nofollow(
    root: &OwnedFd,
    rel: &[u8],
    flags: rustix::fs::OFlags,
    how: Resolve,
) -> Result<OwnedFd, rustix::io::Errno> {
    use rustix::fs::{Mode, openat};
    use rustix::io::Errno;
    let rel = if rel.is_empty() { &b"."[..] } else { rel };
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if how == Resolve::Auto && !NO_OPENAT2.load(std::sync::atomic::Ordering::Relaxed) {
        use rustix::fs::ResolveFlags;
        // One system call for the whole path, the kernel enforcing both rules.
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS;
        match rustix::fs::openat2(root, rel, flags, Mode::empty(), resolve) {
            // Not there (before 5.6), or refused by a seccomp filter: walk instead.
            Err(Errno::NOSYS | Errno::PERM | Errno::INVAL | Errno::TOOBIG) => {
                NO_OPENAT2.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            other => return other,
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = how;
    let (dirs, last) = match rel.iter().rposition(|&b| b == b'/') {
        Some(p) => (&rel[..p], &rel[p + 1..]),
        None => (&b""[..], rel),
    };
    let mut dir: Option<OwnedFd> = None;
    if !dirs.is_empty() {
        for name in dirs.split(|&b| b == b'/') {
            let at = dir.as_ref().unwrap_or(root);
            dir = Some(openat(at, name, SEARCH, Mode::empty())?);
        }
    }
    openat(dir.as_ref().unwrap_or(root), last, flags, Mode::empty())
}

/// Directories on the way are only searched (as a path lookup needs): O_PATH where it exists,
/// so a directory with search but no read permission still works.
#[cfg(any(target_os = "linux", target_os = "android"))]
const SEARCH: rustix::fs::OFlags = rustix::fs::OFlags::PATH
    .union(rustix::fs::OFlags::DIRECTORY)
    .union(rustix::fs::OFlags::NOFOLLOW)
    .union(rustix::fs::OFlags::CLOEXEC);
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
const SEARCH: rustix::fs::OFlags = rustix::fs::OFlags::RDONLY
    .union(rustix::fs::OFlags::DIRECTORY)
    .union(rustix::fs::OFlags::NOFOLLOW)
    .union(rustix::fs::OFlags::CLOEXEC);

/// The walk: open `rel` beneath `root` following no symlink ([`open_nofollow`]), then fstat the
/// handle. An error names the first failing step (`ENOENT`: a name is missing; `ELOOP` or
/// `ENOTDIR`: a symlink, or a file where a directory was expected).
#[cfg(unix)]
fn walk(root: &OwnedFd, rel: &[u8]) -> Result<Node, rustix::io::Errno> {
    walk_with(root, rel, Resolve::Auto)
}

#[cfg(unix)]
fn walk_with(root: &OwnedFd, rel: &[u8], how: Resolve) -> Result<Node, rustix::io::Errno> {
    use rustix::fs::OFlags;
    // A FIFO opened without O_NONBLOCK would block until a writer came; O_NOCTTY keeps a
    // terminal device from becoming the controlling terminal. Neither is read: only regular
    // files are served (nginx opens files the same way, then checks the handle's fstat).
    const FILE: OFlags = OFlags::RDONLY
        .union(OFlags::NOFOLLOW)
        .union(OFlags::NONBLOCK)
        .union(OFlags::NOCTTY)
        .union(OFlags::CLOEXEC);
    let fd = match open_nofollow(root, rel, FILE, how) {
        // A directory that may be searched but not read: its index.html may still be served.
        Err(rustix::io::Errno::ACCESS) => {
            open_nofollow(root, rel, SEARCH, how)?;
            return Ok(Node::Dir);
        }
        other => other?,
    };
    let file = File::from(fd);
    let meta = file
        .metadata()
        .map_err(|e| rustix::io::Errno::from_io_error(&e).unwrap_or(rustix::io::Errno::IO))?;
    if meta.is_file() {
        Ok(Node::File(file, meta))
    } else if meta.is_dir() {
        Ok(Node::Dir)
    } else {
        // FIFOs, sockets, devices: never read (a FIFO would block the reader forever).
        Err(rustix::io::Errno::ACCESS)
    }
}

#[cfg(unix)]
fn path_bytes(p: &Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes()
}

#[cfg(unix)]
fn path_from_bytes(v: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(v))
}

/// The served folder: its canonical path, and (on Unix) a handle on it opened once, at start,
/// that every request's path is opened relative to.
#[derive(Debug)]
pub struct Root {
    path: PathBuf,
    #[cfg(unix)]
    dir: OwnedFd,
    /// Dotfiles are served (`--hidden`); otherwise every segment starting with `.` but
    /// `.well-known` is not found.
    hidden: bool,
}

impl Root {
    /// Canonicalize `path` and open it; it must be a directory.
    pub fn open(path: &Path) -> io::Result<Root> {
        let path = path.canonicalize()?;
        #[cfg(unix)]
        {
            use rustix::fs::{Mode, OFlags};
            let dir = rustix::fs::open(
                &path,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            Ok(Root {
                path,
                dir,
                hidden: false,
            })
        }
        #[cfg(not(unix))]
        {
            if !path.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    "not a directory",
                ));
            }
            Ok(Root {
                path,
                hidden: false,
            })
        }
    }

    /// Serve dotfiles too (`--hidden`), or not (the default: a served folder is often a git
    /// checkout, and `.git/` must not be served). `.well-known/` (RFC 8615) always is.
    pub fn with_hidden(mut self, hidden: bool) -> Root {
        self.hidden = hidden;
        self
    }

    /// Whether dotfiles are served and listed.
    pub fn hidden(&self) -> bool {
        self.hidden
    }

    /// The file `path` + `suffix` (e.g. `a.css` + `.gz`), confined to the root like any request:
    /// open, if it is a regular file.
    pub fn sibling(&self, path: &Path, suffix: &str) -> Option<(File, Metadata)> {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match self.open_confined(PathBuf::from(name)) {
            Ok((_, Node::File(file, meta))) => Some((file, meta)),
            _ => None,
        }
    }

    /// The canonical path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Open `full` (the root's path joined with decoded segments) confined to the root, and
    /// give back the path it was found at, canonical.
    ///
    /// Fast path: the O_NOFOLLOW [`walk`] of the segments: one `openat` per segment plus one
    /// `fstat`, no symlink resolution by path (which costs a `readlink` per component of the
    /// root too). When the walk meets a symlink (or fails other than by a missing name), the
    /// slow path decides: canonicalize, require the result under the root, then walk the
    /// canonical path, again with O_NOFOLLOW, so a symlink swapped in meanwhile is refused.
    fn open_confined(&self, full: PathBuf) -> Result<(PathBuf, Node), Refusal> {
        #[cfg(unix)]
        {
            let rel = rel_bytes(&self.path, &full).ok_or(Refusal::Forbidden)?;
            match walk(&self.dir, rel) {
                Ok(node) => return Ok((full, node)),
                Err(rustix::io::Errno::NOENT) => return Err(Refusal::NotFound),
                Err(_) => {}
            }
            #[cfg(any(target_os = "linux", target_os = "android"))]
            if let Some(found) = self.follow_beneath(rel) {
                return found;
            }
            let canon = full.canonicalize().map_err(|e| refusal(&e))?;
            let rel = rel_bytes(&self.path, &canon).ok_or(Refusal::Forbidden)?;
            match walk(&self.dir, rel) {
                Ok(node) => Ok((canon, node)),
                Err(rustix::io::Errno::NOENT) => Err(Refusal::NotFound),
                Err(_) => Err(Refusal::Forbidden),
            }
        }
        #[cfg(not(unix))]
        {
            let canon = full.canonicalize().map_err(|e| refusal(&e))?;
            if !canon.starts_with(&self.path) {
                return Err(Refusal::Forbidden);
            }
            let meta = std::fs::metadata(&canon).map_err(|e| refusal(&e))?;
            if meta.is_dir() {
                return Ok((canon, Node::Dir));
            }
            if !meta.is_file() {
                return Err(Refusal::Forbidden);
            }
            let file = File::open(&canon).map_err(|e| refusal(&e))?;
            Ok((canon, Node::File(file, meta)))
        }
    }

    /// The symlink path without canonicalizing (which costs a `readlink` per component of the
    /// root and the path): `openat2(RESOLVE_BENEATH)` follows symlinks only while they stay
    /// beneath the root (the kernel refuses an absolute link or a `..` above the root with
    /// `EXDEV`), and `/proc/self/fd` names the file found, which must lie under the root.
    /// `None`: decide by the canonical path instead (absolute links, `EXDEV`, no openat2 or
    /// /proc).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn follow_beneath(&self, rel: &[u8]) -> Option<Result<(PathBuf, Node), Refusal>> {
        use rustix::fs::{Mode, OFlags, ResolveFlags};
        use std::os::fd::AsRawFd;
        if NO_OPENAT2.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        // As the walk opens files, but following the last symlink too.
        const FILE: OFlags = OFlags::RDONLY
            .union(OFlags::NONBLOCK)
            .union(OFlags::NOCTTY)
            .union(OFlags::CLOEXEC);
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        let rel = if rel.is_empty() { &b"."[..] } else { rel };
        let fd = match rustix::fs::openat2(&self.dir, rel, FILE, Mode::empty(), resolve) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Some(Err(Refusal::NotFound)),
            Err(_) => return None,
        };
        let real = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()?;
        if !real.starts_with(&self.path) {
            return None;
        }
        let file = File::from(fd);
        let meta = file.metadata().ok()?;
        Some(if meta.is_file() {
            Ok((real, Node::File(file, meta)))
        } else if meta.is_dir() {
            Ok((real, Node::Dir))
        } else {
            // FIFOs, sockets, devices: never read.
            Err(Refusal::Forbidden)
        })
    }

    /// Map `target` to what to serve: a file is returned open (serve from the handle, which is
    /// what was checked).
    pub fn resolve(&self, target: &[u8]) -> Result<Resolved, Refusal> {
        let (path, query) = split_target(target)?;
        // The root's path and the decoded segments, each after a `/`, in one buffer.
        let mut joined = Vec::with_capacity(self.path.as_os_str().len() + path.len() + 1);
        let prefix = self.join(path, &mut joined)?;
        let has_segments = joined.len() > prefix;
        #[cfg(unix)]
        let full = if has_segments {
            path_from_bytes(joined)
        } else {
            self.path.clone()
        };
        #[cfg(not(unix))]
        let full = {
            let mut full = self.path.clone();
            for seg in joined[prefix..].split(|&b| b == b'/').skip(1) {
                full.push(os_str(seg));
            }
            full
        };
        let canon = if has_segments {
            match self.open_confined(full)? {
                (path, Node::File(file, meta)) => return Ok(Resolved::File { path, file, meta }),
                (path, Node::Dir) => path,
            }
        } else {
            full
        };
        let url_path = String::from_utf8_lossy(path).into_owned();
        if !url_path.ends_with('/') {
            // Rebuilt from the decoded segments (not the raw path), so that `//host` can never
            // become a protocol-relative `Location` that leaves this server.
            let segments = decode_segments(path)?;
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
        match self.open_confined(canon.join("index.html")) {
            Ok((path, Node::File(file, meta))) => Ok(Resolved::File { path, file, meta }),
            _ => Ok(Resolved::Directory {
                path: canon,
                url_path,
            }),
        }
    }
}

impl Root {
    /// Append the root's path and `path`'s decoded segments, each after a `/`, to `joined`
    /// (on Unix; elsewhere only the segments), refusing what [`Root::resolve`] refuses before
    /// it opens anything (a climb above the root, an encoded `/`, NUL, a dotfile without
    /// `--hidden`). Returns where the segments start.
    fn join(&self, path: &[u8], joined: &mut Vec<u8>) -> Result<usize, Refusal> {
        #[cfg(unix)]
        {
            let root = path_bytes(&self.path);
            // Only the root `/` ends in `/`.
            joined.extend_from_slice(root.strip_suffix(b"/").unwrap_or(root));
        }
        let prefix = joined.len();
        self.segments_into(path, joined)?;
        Ok(prefix)
    }

    /// Append `path`'s decoded segments, each after a `/`, to `out`, refusing as
    /// [`Root::join`] does.
    fn segments_into(&self, path: &[u8], out: &mut Vec<u8>) -> Result<(), Refusal> {
        let prefix = out.len();
        decode_into(path, out)?;
        if !self.hidden && out[prefix..].split(|&b| b == b'/').any(is_hidden) {
            return Err(Refusal::NotFound);
        }
        Ok(())
    }

    /// The key under which what `target` resolves to may be cached, written into `key`
    /// (cleared first): the decoded path (without the root's: a cache serves one root), plus
    /// a final `/` when the target's path ends in one (`/dir` redirects where `/dir/` serves
    /// its `index.html`). Every target [`Root::resolve`] maps to a [`Resolved::File`] depends
    /// on nothing else (not the query). `Err`: the refusal `resolve` would give without
    /// opening anything. [`Root::plain_key`] is the same key without the copy, for most
    /// targets.
    pub fn cache_key(&self, target: &[u8], key: &mut Vec<u8>) -> Result<(), Refusal> {
        key.clear();
        let (path, _) = split_target(target)?;
        self.segments_into(path, key)?;
        if path.ends_with(b"/") {
            key.push(b'/');
        }
        Ok(())
    }

    /// The [`Root::cache_key`] of `target` when it is the target's own path, in one look at
    /// each byte and no copy: an origin-form path with nothing to decode (no `%`), no empty,
    /// `.`, `..` or dot-file segment (no `//` nor `/.`) and no NUL, up to its query or
    /// fragment. `None` for every other target: [`Root::cache_key`] then builds the key. Such
    /// a path is also one that [`Root::resolve`] refuses nothing of before it opens the file.
    pub fn plain_key<'t>(&self, target: &'t [u8]) -> Option<&'t [u8]> {
        if target.first() != Some(&b'/') {
            return None;
        }
        let mut prev = b'/';
        for (i, &b) in target.iter().enumerate().skip(1) {
            match b {
                b'?' | b'#' => return Some(&target[..i]),
                b'%' | 0 => return None,
                b'/' | b'.' if prev == b'/' => return None,
                _ => prev = b,
            }
        }
        Some(target)
    }
}

/// Whether a name is a dotfile that is not served without `--hidden`: it starts with `.`, and
/// is not `.well-known` (RFC 8615's folder for ACME challenges and the like).
pub fn is_hidden(name: &[u8]) -> bool {
    name.first() == Some(&b'.') && name != b".well-known"
}

/// `full` relative to `root`, as bytes (empty for the root itself); `None` if `full` is not
/// under `root`.
#[cfg(unix)]
fn rel_bytes<'a>(root: &Path, full: &'a Path) -> Option<&'a [u8]> {
    full.strip_prefix(root).ok().map(path_bytes)
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

/// How a listing is sorted (`?sort=`); folders always come first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// By name, A to Z, ignoring case (the default).
    Name,
    /// Largest first.
    Size,
    /// Newest first.
    Time,
}

impl SortBy {
    /// The `sort` parameter of a query string (`sort=name|size|time`); name otherwise.
    pub fn from_query(query: &[u8]) -> SortBy {
        for pair in query.split(|&b| b == b'&') {
            match pair {
                b"sort=size" => return SortBy::Size,
                b"sort=time" => return SortBy::Time,
                b"sort=name" => return SortBy::Name,
                _ => {}
            }
        }
        SortBy::Name
    }
}

/// One row of a listing.
struct Entry {
    /// The raw name (for the link).
    raw: Vec<u8>,
    /// The name as shown (lossy UTF-8).
    shown: String,
    is_dir: bool,
    size: u64,
    modified: Option<std::time::SystemTime>,
}

/// `n` bytes in binary units, as `ls -lh` and miniserve show them: `512 B`, `1.5 KiB`,
/// `23 MiB`.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// `2026-11-30 21:07` (UTC, to the minute).
fn short_time(t: std::time::SystemTime) -> String {
    if t < std::time::UNIX_EPOCH {
        return String::new();
    }
    let full = humantime::format_rfc3339_seconds(t).to_string();
    // 2026-11-30T21:07:53Z
    match (full.get(..10), full.get(11..16)) {
        (Some(day), Some(hm)) => format!("{day} {hm}"),
        _ => String::new(),
    }
}

/// The listing's style sheet: a readable table on a phone and a desktop, light or dark as the
/// reader's system is. No script anywhere.
const LISTING_CSS: &str = "\
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#656d76;--line:#d0d7de;--hover:#f6f8fa;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#8d96a0;--line:#30363d;--hover:#161b22;--link:#4493f8}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:60rem;padding:1rem;font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.25rem;font-weight:600;margin:.5rem 0 1rem;overflow-wrap:anywhere}
table{width:100%;border-collapse:collapse}
th,td{padding:.45rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;white-space:nowrap}
th a{color:var(--fg)}
td.name{overflow-wrap:anywhere;word-break:break-word}
td.size,td.time,th.size,th.time{white-space:nowrap;color:var(--muted);font-variant-numeric:tabular-nums}
td.size,th.size{text-align:right}
tr:hover td{background:var(--hover)}
a{color:var(--link);text-decoration:none}
a:hover{text-decoration:underline}
.dir a{font-weight:600}
footer{color:var(--muted);font-size:.85rem;margin-top:1rem}
@media (max-width:32rem){body{padding:.5rem;font-size:15px}td.time{font-size:.8rem}th,td{padding:.5rem .3rem}}
";

/// An HTML page listing `dir`, whose URL path is `url_path` (percent-encoded, ending in `/`):
/// a table of name, size and modification time, the parent folder first (except at the
/// root), then folders, then files, sorted by the `sort` parameter of `query`. Dotfiles are
/// left out unless `hidden` (`.well-known` is always shown). Every name is escaped for HTML
/// and percent-encoded in its link.
pub fn listing(dir: &Path, url_path: &str, query: &[u8], hidden: bool) -> io::Result<Vec<u8>> {
    let sort = SortBy::from_query(query);
    let mut entries: Vec<Entry> = Vec::new();
    let mut omitted = 0usize;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let raw = os_bytes(&name);
        if !hidden && is_hidden(&raw) {
            continue;
        }
        if entries.len() >= MAX_LISTING {
            omitted += 1;
            continue;
        }
        // metadata() follows symlinks (file_type() does not), so a link to a directory is
        // shown as one; a dangling link is shown as an empty file.
        let meta = std::fs::metadata(entry.path()).ok();
        entries.push(Entry {
            raw,
            shown: name.to_string_lossy().into_owned(),
            is_dir: meta.as_ref().is_some_and(|m| m.is_dir()),
            size: meta.as_ref().map_or(0, |m| m.len()),
            modified: meta.and_then(|m| m.modified().ok()),
        });
    }
    entries.sort_by(|a, b| {
        let by_name = || {
            a.shown
                .to_lowercase()
                .cmp(&b.shown.to_lowercase())
                .then_with(|| a.raw.cmp(&b.raw))
        };
        b.is_dir.cmp(&a.is_dir).then_with(|| match sort {
            SortBy::Name => by_name(),
            SortBy::Size => b.size.cmp(&a.size).then_with(by_name),
            SortBy::Time => b.modified.cmp(&a.modified).then_with(by_name),
        })
    });
    let title = html_escape(&percent_decode(url_path.as_bytes()).decode_utf8_lossy());
    let mut page = String::with_capacity(2048 + entries.len() * 160);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>Index of {title}</title>\n<style>\n{LISTING_CSS}</style>\n</head>\n<body>\n\
         <h1>Index of {title}</h1>\n<table>\n<thead><tr>"
    );
    for (key, label, class) in [
        (SortBy::Name, "Name", "name"),
        (SortBy::Size, "Size", "size"),
        (SortBy::Time, "Modified", "time"),
    ] {
        let (aria, mark) = match (key == sort, key) {
            (false, _) => ("", ""),
            (true, SortBy::Name) => (" aria-sort=\"ascending\"", " \u{25b4}"),
            (true, _) => (" aria-sort=\"descending\"", " \u{25be}"),
        };
        let _ = write!(
            page,
            "<th class=\"{class}\"{aria}><a href=\"?sort={class}\">{label}{mark}</a></th>"
        );
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    if url_path != "/" {
        page.push_str(
            "<tr class=\"dir\"><td class=\"name\"><a href=\"../\">../</a></td>\
             <td class=\"size\"></td><td class=\"time\"></td></tr>\n",
        );
    }
    for e in &entries {
        let slash = if e.is_dir { "/" } else { "" };
        let href: String = percent_encoding::percent_encode(&e.raw, LINK).collect();
        let size = if e.is_dir {
            String::from("\u{2014}")
        } else {
            human_size(e.size)
        };
        let time = e.modified.map(short_time).unwrap_or_default();
        let _ = writeln!(
            page,
            "<tr{}><td class=\"name\"><a href=\"{href}{slash}\">{}{slash}</a></td>\
             <td class=\"size\">{size}</td><td class=\"time\">{time}</td></tr>",
            if e.is_dir { " class=\"dir\"" } else { "" },
            html_escape(&e.shown)
        );
    }
    page.push_str("</tbody>\n</table>\n");
    let folders = entries.iter().filter(|e| e.is_dir).count();
    let _ = write!(
        page,
        "<footer>{folders} folder{}, {} file{}",
        if folders == 1 { "" } else { "s" },
        entries.len() - folders,
        if entries.len() - folders == 1 {
            ""
        } else {
            "s"
        }
    );
    if omitted > 0 {
        let _ = write!(page, "; {omitted} more entries not shown");
    }
    page.push_str("</footer>\n</body>\n</html>\n");
    Ok(page.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolve against a root opened for this one call.
    fn resolve(root: &Path, target: &[u8]) -> Result<Resolved, Refusal> {
        Root::open(root).unwrap().resolve(target)
    }

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

    proptest::proptest! {
        /// A target's plain key, when it has one, is the key built for it, with and without
        /// `--hidden`.
        #[test]
        fn plain_keys_are_the_built_keys(
            target in proptest::collection::vec(
                proptest::sample::select(b"/.%2fa?#\0Wx".to_vec()), 0..12),
            hidden: bool,
        ) {
            let (_tmp, root) = tree();
            let root = Root::open(&root).unwrap().with_hidden(hidden);
            if let Some(plain) = root.plain_key(&target) {
                let mut built = Vec::new();
                proptest::prop_assert_eq!(root.cache_key(&target, &mut built), Ok(()));
                proptest::prop_assert_eq!(plain, &built[..]);
            }
        }
    }

    #[test]
    fn plain_keys() {
        let (_tmp, root) = tree();
        let root = Root::open(&root).unwrap();
        let cases: &[(&[u8], Option<&[u8]>)] = &[
            (b"/", Some(b"/")),
            (b"/a.txt", Some(b"/a.txt")),
            (b"/a.txt?x=1", Some(b"/a.txt")),
            (b"/dir/b.txt#f", Some(b"/dir/b.txt")),
            (b"/site/", Some(b"/site/")),
            (b"/?q", Some(b"/")),
            (b"//a.txt", None),
            (b"/./a.txt", None),
            (b"/dir/../a.txt", None),
            (b"/.hidden", None),
            (b"/%61.txt", None),
            (b"http://example.com/a.txt", None),
            (b"*", None),
        ];
        for (target, want) in cases {
            assert_eq!(root.plain_key(target), *want, "{}", target.escape_ascii());
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
            b"/dir/../..",
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
    fn dot_segments_inside_the_root_are_normalised() {
        let (_tmp, root) = tree();
        for target in [
            &b"/dir/../a.txt"[..],
            b"/./a.txt",
            b"/dir/./../a.txt",
            b"/dir/%2e%2e/a.txt",
            b"//dir//..//a.txt",
            b"/a.txt/../a.txt",
        ] {
            assert_eq!(
                file_name(&resolve(&root, target)).as_deref(),
                Some("a.txt"),
                "{}",
                String::from_utf8_lossy(target)
            );
        }
        match resolve(&root, b"/dir/..") {
            Ok(Resolved::Redirect(loc)) => assert_eq!(loc, "/"),
            other => panic!("/dir/.. should redirect to the root: {other:?}"),
        }
        assert_eq!(
            decode_segments(b"/x/y/../../z").unwrap(),
            vec![b"z".to_vec()]
        );
        assert!(matches!(
            decode_segments(b"/x/../../z"),
            Err(Refusal::Forbidden)
        ));
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

    /// The served bytes, read from the handle `resolve` returned.
    fn contents(r: Result<Resolved, Refusal>) -> Result<String, String> {
        match r {
            Ok(Resolved::File { mut file, .. }) => {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut file, &mut s).unwrap();
                Ok(s)
            }
            other => Err(format!("{other:?}")),
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_inside_the_root_are_followed_on_the_slow_path() {
        use std::os::unix::fs::symlink;
        let (_tmp, root) = tree();
        symlink("dir", root.join("rel-dir")).unwrap();
        symlink("../a.txt", root.join("dir/up-link")).unwrap();
        symlink(".", root.join("self")).unwrap();
        symlink("b.txt", root.join("dir/index.html")).unwrap();
        symlink("nowhere", root.join("dangling")).unwrap();
        let cases: &[(&[u8], &str, &str)] = &[
            (b"/rel-dir/b.txt", "b", "dir/b.txt"),
            (b"/dir/up-link", "a", "a.txt"),
            (b"/self/self/a.txt", "a", "a.txt"),
            (b"/in-link", "a", "a.txt"),
            (b"/dir/", "b", "dir/b.txt"),
            (b"/rel-dir/", "b", "dir/b.txt"),
        ];
        for (target, body, canonical) in cases {
            let got = resolve(&root, target);
            if let Ok(Resolved::File { path, .. }) = &got {
                assert_eq!(path, &root.join(canonical), "{}", target.escape_ascii());
            }
            assert_eq!(
                contents(got).as_deref(),
                Ok(*body),
                "{}",
                target.escape_ascii()
            );
        }
        assert!(matches!(
            resolve(&root, b"/dangling"),
            Err(Refusal::NotFound)
        ));
        // Relative links that leave the root are refused however they climb; one that leaves
        // and comes back (`../root/a.txt`) is judged by its canonical path, as before.
        symlink("../secret.txt", root.join("rel-out")).unwrap();
        symlink("../../secret.txt", root.join("dir/rel-out")).unwrap();
        symlink("..", root.join("dir/parent")).unwrap();
        symlink("../root/a.txt", root.join("round-trip")).unwrap();
        for target in [
            &b"/rel-out"[..],
            b"/dir/rel-out",
            b"/rel-dir/rel-out",
            b"/dir/parent/rel-out",
        ] {
            let got = resolve(&root, target);
            assert!(
                matches!(got, Err(Refusal::Forbidden)),
                "{}: {got:?}",
                target.escape_ascii()
            );
        }
        assert_eq!(
            contents(resolve(&root, b"/dir/parent/a.txt")).as_deref(),
            Ok("a")
        );
        assert_eq!(contents(resolve(&root, b"/round-trip")).as_deref(), Ok("a"));
        assert!(matches!(
            resolve(&root, b"/self/"),
            Ok(Resolved::Directory { path, .. }) if path == root
        ));
    }

    #[test]
    fn files_come_back_open_on_the_checked_file() {
        let (_tmp, root) = tree();
        assert_eq!(contents(resolve(&root, b"/a.txt")).as_deref(), Ok("a"));
        assert_eq!(
            contents(resolve(&root, b"/%64ir//./b.txt")).as_deref(),
            Ok("b")
        );
        assert_eq!(
            contents(resolve(&root, b"/site/")).as_deref(),
            Ok("<p>site</p>")
        );
        // Deep paths walk one directory at a time.
        let deep = root.join("d1/d2/d3");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("f.txt"), "deep").unwrap();
        assert_eq!(
            contents(resolve(&root, b"/d1/d2/d3/f.txt")).as_deref(),
            Ok("deep")
        );
        assert!(matches!(
            resolve(&root, b"/d1/d2/nothing/f.txt"),
            Err(Refusal::NotFound)
        ));
        assert!(matches!(
            resolve(&root, b"/d1/d2/d3/f.txt/x"),
            Err(Refusal::NotFound)
        ));
    }

    /// The walk itself never follows a symlink, wherever it is on the path, whether the kernel
    /// resolves the path (openat2) or the walk goes one segment at a time; the slow path relies
    /// on that to refuse a link swapped in after canonicalization.
    #[cfg(unix)]
    #[test]
    fn the_walk_follows_no_symlink() {
        let (_tmp, root) = tree();
        std::os::unix::fs::symlink("dir", root.join("rel-dir")).unwrap();
        std::fs::create_dir_all(root.join("d1/d2")).unwrap();
        std::fs::write(root.join("d1/d2/f.txt"), "f").unwrap();
        let handle = Root::open(&root).unwrap();
        for how in [Resolve::Auto, Resolve::PerSegment] {
            for rel in [
                &b"in-link"[..],
                b"out-link",
                b"out-dir/secret.txt",
                b"out-dir",
                b"rel-dir/b.txt",
                b"rel-dir",
            ] {
                assert!(
                    walk_with(&handle.dir, rel, how).is_err(),
                    "{how:?}: {} was followed",
                    rel.escape_ascii()
                );
            }
            for rel in [&b"dir/b.txt"[..], b"d1/d2/f.txt", b"a.txt"] {
                assert!(
                    matches!(walk_with(&handle.dir, rel, how), Ok(Node::File(..))),
                    "{how:?}: {}",
                    rel.escape_ascii()
                );
            }
            assert!(matches!(walk_with(&handle.dir, b"", how), Ok(Node::Dir)));
            assert!(matches!(
                walk_with(&handle.dir, b"d1/d2", how),
                Ok(Node::Dir)
            ));
            for rel in [&b"nothing"[..], b"d1/nothing/f.txt"] {
                assert_eq!(
                    walk_with(&handle.dir, rel, how).err(),
                    Some(rustix::io::Errno::NOENT),
                    "{how:?}"
                );
            }
        }
    }

    /// A root of `/` (whose canonical path is the one that ends in `/`) joins without `//`.
    #[cfg(unix)]
    #[test]
    fn the_filesystem_root_can_be_served() {
        let (_tmp, root) = tree();
        let target = format!("{}/a.txt", root.display());
        // Temporary folders are dotfiles (`/tmp/.tmpXXXX`).
        let slash = Root::open(Path::new("/")).unwrap().with_hidden(true);
        match slash.resolve(target.as_bytes()) {
            Ok(Resolved::File { path, .. }) => assert_eq!(path, root.join("a.txt")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            slash.resolve(b"/"),
            Ok(Resolved::Directory { path, .. }) if path == Path::new("/")
        ));
    }

    /// A directory with search but no read permission (mode 0311) still serves its index.html
    /// (opening it for reading fails; it is searched instead). Root reads anything, so as root
    /// this only checks that nothing else changed.
    #[cfg(unix)]
    #[test]
    fn search_only_directories_serve_their_index() {
        use std::os::unix::fs::PermissionsExt;
        let (_tmp, root) = tree();
        let dir = root.join("search-only");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "index").unwrap();
        std::fs::write(dir.join("f.txt"), "f").unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o311)).unwrap();
        if std::fs::read_dir(&dir).is_ok() {
            eprintln!("note: running as root, permissions are not enforced");
        }
        assert_eq!(
            contents(resolve(&root, b"/search-only/")).as_deref(),
            Ok("index")
        );
        assert_eq!(
            contents(resolve(&root, b"/search-only/f.txt")).as_deref(),
            Ok("f")
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_root_must_be_a_directory() {
        let (_tmp, root) = tree();
        assert!(Root::open(&root.join("a.txt")).is_err());
        assert!(Root::open(&root.join("nothing")).is_err());
    }

    /// The text of the `name` cells, in order.
    fn listed_names(page: &str) -> Vec<String> {
        page.split("<td class=\"name\"><a href=\"")
            .skip(1)
            .map(|cell| {
                let text = &cell[cell.find('>').unwrap() + 1..];
                text[..text.find("</a>").unwrap()].to_string()
            })
            .collect()
    }

    #[test]
    fn listing_links_are_encoded_and_names_escaped() {
        let (_tmp, root) = tree();
        let page = String::from_utf8(listing(&root, "/", b"", false).unwrap()).unwrap();
        assert!(page.contains("<title>Index of /</title>"), "{page}");
        assert!(
            page.contains("<a href=\"sp%20ace%26%3Cx%3E.txt\">sp ace&amp;&lt;x&gt;.txt</a>"),
            "{page}"
        );
        assert!(page.contains("<a href=\"dir/\">dir/</a>"), "{page}");
        assert!(page.contains("<a href=\"a.txt\">a.txt</a>"), "{page}");
        assert!(!page.contains("href=\"../\""), "no parent link at the root");
        assert!(!page.contains("<script"), "no JavaScript");
        assert!(page.contains("name=\"viewport\""), "readable on a phone");
        assert!(page.contains("prefers-color-scheme:dark"), "dark mode");
        // Folders first, then files by name, ignoring case.
        let names = listed_names(&page);
        let dirs: Vec<_> = names.iter().take_while(|n| n.ends_with('/')).collect();
        assert!(
            dirs.len() >= 2 && names[..dirs.len()].is_sorted(),
            "{names:?}"
        );
        assert!(names.iter().position(|n| n == "a.txt") > names.iter().position(|n| n == "site/"));
        let sub =
            String::from_utf8(listing(&root.join("dir"), "/dir/", b"", false).unwrap()).unwrap();
        assert!(sub.contains("<a href=\"../\">../</a>"));
        assert!(sub.contains("<a href=\"b.txt\">b.txt</a>"));
        assert!(sub.contains("Index of /dir/"));
        // A name that is markup stays text, in the title too.
        let evil = "<img src=x onerror=alert(1)>";
        std::fs::create_dir(root.join("dir").join(evil)).unwrap();
        let sub =
            String::from_utf8(listing(&root.join("dir"), "/dir/%3Cb%3E/", b"", false).unwrap())
                .unwrap();
        assert!(!sub.contains("<img") && !sub.contains("<b>"), "{sub}");
        assert!(sub.contains("Index of /dir/&lt;b&gt;/"), "{sub}");
    }

    #[test]
    fn listings_sort_by_name_size_or_time_with_folders_first() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let t = |secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        for (name, len, secs) in [
            ("b.txt", 10, 3_000),
            ("A.txt", 3000, 1_000),
            ("c.txt", 500, 2_000),
        ] {
            let f = File::create(dir.join(name)).unwrap();
            f.set_len(len).unwrap();
            f.set_modified(t(secs)).unwrap();
        }
        std::fs::create_dir(dir.join("z-folder")).unwrap();
        let names = |q: &[u8]| {
            listed_names(&String::from_utf8(listing(dir, "/x/", q, false).unwrap()).unwrap())
        };
        assert_eq!(names(b""), ["../", "z-folder/", "A.txt", "b.txt", "c.txt"]);
        assert_eq!(
            names(b"sort=name"),
            ["../", "z-folder/", "A.txt", "b.txt", "c.txt"]
        );
        assert_eq!(
            names(b"sort=size"),
            ["../", "z-folder/", "A.txt", "c.txt", "b.txt"]
        );
        assert_eq!(
            names(b"x=1&sort=time"),
            ["../", "z-folder/", "b.txt", "c.txt", "A.txt"]
        );
        assert_eq!(names(b"sort=bogus"), names(b""));
        let page = String::from_utf8(listing(dir, "/x/", b"sort=size", false).unwrap()).unwrap();
        assert!(page.contains("<td class=\"size\">2.9 KiB</td>"), "{page}");
        assert!(
            page.contains("<td class=\"time\">1970-01-01 00:50</td>"),
            "{page}"
        );
        assert!(
            page.contains("class=\"size\" aria-sort=\"descending\""),
            "{page}"
        );
        for sort in ["name", "size", "time"] {
            assert!(page.contains(&format!("href=\"?sort={sort}\"")), "{page}");
        }
    }

    #[test]
    fn human_sizes() {
        for (n, want) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (10 * 1024, "10 KiB"),
            (5 << 20, "5.0 MiB"),
            (3 << 30, "3.0 GiB"),
            (u64::MAX, "16 EiB"),
        ] {
            assert_eq!(human_size(n), want, "{n}");
        }
    }

    #[test]
    fn dotfiles_are_hidden_but_well_known_is_not() {
        let (_tmp, root) = tree();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "secret").unwrap();
        std::fs::write(root.join(".env"), "secret").unwrap();
        std::fs::create_dir_all(root.join(".well-known/acme-challenge")).unwrap();
        std::fs::write(root.join(".well-known/acme-challenge/t"), "token").unwrap();
        std::fs::create_dir_all(root.join("dir/.cache")).unwrap();
        std::fs::write(root.join("dir/.cache/x"), "x").unwrap();
        let plain = Root::open(&root).unwrap();
        for target in [
            &b"/.git/config"[..],
            b"/.env",
            b"/.git/",
            b"/.git",
            b"/dir/.cache/x",
            b"/%2egit/config",
        ] {
            assert!(
                matches!(plain.resolve(target), Err(Refusal::NotFound)),
                "{}",
                target.escape_ascii()
            );
        }
        assert_eq!(
            contents(plain.resolve(b"/.well-known/acme-challenge/t")).as_deref(),
            Ok("token")
        );
        let page = String::from_utf8(listing(&root, "/", b"", false).unwrap()).unwrap();
        assert!(!page.contains(".git") && !page.contains(".env"), "{page}");
        assert!(page.contains(".well-known/"), "{page}");

        let hidden = Root::open(&root).unwrap().with_hidden(true);
        assert_eq!(
            contents(hidden.resolve(b"/.git/config")).as_deref(),
            Ok("secret")
        );
        assert_eq!(contents(hidden.resolve(b"/.env")).as_deref(), Ok("secret"));
        let page = String::from_utf8(listing(&root, "/", b"", true).unwrap()).unwrap();
        assert!(page.contains(".git/") && page.contains(".env"), "{page}");
    }

    #[test]
    fn siblings_are_confined_regular_files() {
        let (tmp, root) = tree();
        std::fs::write(root.join("a.txt.gz"), "gz").unwrap();
        std::fs::create_dir(root.join("a.txt.br")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(tmp.path().join("secret.txt"), root.join("a.txt.zst")).unwrap();
        let handle = Root::open(&root).unwrap();
        let a = root.join("a.txt");
        let mut gz = handle.sibling(&a, ".gz").expect("a.txt.gz").0;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut gz, &mut text).unwrap();
        assert_eq!(text, "gz");
        assert!(handle.sibling(&a, ".br").is_none(), "a directory");
        assert!(
            handle.sibling(&a, ".zst").is_none(),
            "a link out of the root"
        );
        assert!(handle.sibling(&a, ".xz").is_none(), "missing");
    }

    #[test]
    fn html_escape_covers_the_five() {
        assert_eq!(
            html_escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
