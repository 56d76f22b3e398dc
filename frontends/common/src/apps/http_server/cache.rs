//! The open-file cache: what a target resolved to (the file's path and metadata) and, for a
//! small file, its bytes, kept for at most [`REVALIDATE`], as nginx's `open_file_cache` with
//! `open_file_cache_valid 1s`. A hit costs no system call: no `openat2`, `fstat`, `read` or
//! `close`, so a small file is answered with the one read of the request and the one write of
//! head and body together.
//!
//! - **Never stale for more than a second.** An entry is used only while `now` is less than
//!   [`REVALIDATE`] after it was filled; then the target is resolved again, exactly as without a
//!   cache (confined to the root, following no symlink out of it), and the entry refilled. A
//!   file changed, removed or replaced on disk is served as it is now from the first request
//!   that comes a second or more after the entry was filled.
//! - **Bounded.** At most [`MAX_ENTRIES`] entries, each holding a file of at most [`MAX_FILE`]
//!   bytes: 16 MiB in all, at worst. Only regular files that [`Root::resolve`] found are
//!   kept; refusals, directories and redirects are resolved every time (nginx caches errors
//!   only with `open_file_cache_errors on`, off by default).
//! - **No descriptor is kept**, unlike nginx's cache: `--max-connections` is derived from the
//!   open-files limit as a socket and a file per connection, and a cache of descriptors would
//!   eat into that. A larger file is opened per request (its open is small beside its transfer).
//! - **Time is an argument.** The caller passes `now`; tests step it instead of sleeping.
//!
//! The cache is shared by the connections of all threads behind one mutex, held for a hash
//! lookup and a reference-count increment.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an entry is used before its target is resolved again: nginx's
/// `open_file_cache_valid` (60 s by default there; 1 s here, so that an edited file shows on
/// the next reload, as without a cache).
pub const REVALIDATE: Duration = Duration::from_secs(1);

/// Most entries (nginx's `open_file_cache` has no default; `max=1000` is its documentation's
/// example).
pub const MAX_ENTRIES: usize = 1024;

/// Largest file whose bytes are kept: head and body then leave in one write. Most of a site's
/// requests (icons, small scripts and style sheets, API-like JSON) are under it.
pub const MAX_FILE: u64 = 16 * 1024;

/// A small regular file as it was when the entry was filled.
#[derive(Debug)]
pub(super) struct Cached {
    /// Its canonical path (for the Content-Type, and precompressed siblings).
    pub path: PathBuf,
    /// Its type, length and validators, rendered once.
    pub facts: super::Facts,
    /// Its bytes: `facts.len` of them.
    pub bytes: Arc<[u8]>,
    /// When it stops being used: [`REVALIDATE`] after it was read (a comparison per lookup,
    /// where the time since the fill was a subtraction of two `timespec`s).
    until: Instant,
}

/// The map's hasher: foldhash, not std's SipHash, which cost about 280 instructions of a
/// small file's answer for a key of a few bytes. foldhash seeds each map at random but makes
/// no claim to resist a flood of chosen colliding keys, and it need not here (HashDoS): a
/// key comes from a request target, but only targets that resolved to an existing regular
/// file under the root are inserted, at most [`MAX_ENTRIES`] of them, so a client cannot
/// fill a bucket with colliding keys of its choosing; a lookup of any other key costs one
/// probe sequence in a map of at most that size.
type Hasher = foldhash::fast::RandomState;

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<Box<[u8]>, Arc<Cached>, Hasher>,
}

/// The cache of a file server: shared by every connection, in every thread.
#[derive(Debug, Default)]
pub(super) struct FileCache {
    entries: Mutex<Entries>,
}

impl FileCache {
    /// The entry under `key` ([`crate::apps::files::Root::cache_key`]) if it was filled less
    /// than [`REVALIDATE`] before `now`.
    pub fn get(&self, key: &[u8], now: Instant) -> Option<Arc<Cached>> {
        let entries = self.entries.lock().ok()?;
        let hit = entries.map.get(key)?;
        fresh(hit, now).then(|| hit.clone())
    }

    /// Keep `file` (just resolved, with `meta` from its handle) under `key` if it is small
    /// enough, reading its bytes with one positioned read (the handle's position is left where
    /// it was, so the caller may still serve from it). `None` if it is not kept: too large,
    /// not whole (it changed while being read), or the cache is full of fresh entries.
    pub fn fill(
        &self,
        key: &[u8],
        now: Instant,
        path: &Path,
        file: &File,
        meta: &Metadata,
    ) -> Option<Arc<Cached>> {
        if meta.len() > MAX_FILE {
            return None;
        }
        let len = usize::try_from(meta.len()).ok()?;
        // One byte more than promised: a file that grew since its fstat is not kept.
        let mut bytes = vec![0; len + 1];
        let mut got = 0;
        while got < bytes.len() {
            match read_at(file, &mut bytes[got..], got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
        if got != len {
            return None;
        }
        bytes.truncate(len);
        let cached = Arc::new(Cached {
            path: path.to_path_buf(),
            facts: super::Facts::of(path, meta),
            bytes: Arc::from(bytes),
            until: now + REVALIDATE,
        });
        let mut entries = self.entries.lock().ok()?;
        if entries.map.len() >= MAX_ENTRIES && !entries.map.contains_key(key) {
            // Make room from the entries that would be resolved again anyway.
            entries.map.retain(|_, c| fresh(c, now));
            if entries.map.len() >= MAX_ENTRIES {
                return Some(cached);
            }
        }
        entries.map.insert(Box::from(key), cached.clone());
        Some(cached)
    }

    /// How many entries are held (fresh or not).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.map.len())
    }
}

/// Whether `c` may still be used at `now`. A `now` earlier than the fill (a clock passed in
/// out of order) counts as fresh: it is within the second.
fn fresh(c: &Cached, now: Instant) -> bool {
    now < c.until
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached_file(dir: &Path, name: &str, content: &[u8]) -> (PathBuf, File, Metadata) {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        let file = File::open(&path).unwrap();
        let meta = file.metadata().unwrap();
        (path, file, meta)
    }

    #[test]
    fn an_entry_is_used_for_less_than_the_revalidation_interval() {
        let dir = tempfile::tempdir().unwrap();
        let (path, file, meta) = cached_file(dir.path(), "a.txt", b"hello");
        let cache = FileCache::default();
        let t0 = Instant::now();
        let kept = cache.fill(b"k", t0, &path, &file, &meta).unwrap();
        assert_eq!(&kept.bytes[..], b"hello");
        assert!(cache.get(b"k", t0).is_some());
        assert!(
            cache
                .get(b"k", t0 + REVALIDATE - Duration::from_millis(1))
                .is_some()
        );
        assert!(cache.get(b"k", t0 + REVALIDATE).is_none());
        assert!(cache.get(b"other", t0).is_none());
    }

    #[test]
    fn large_files_and_files_that_changed_while_read_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![b'x'; MAX_FILE as usize + 1];
        let (path, file, meta) = cached_file(dir.path(), "big", &big);
        let cache = FileCache::default();
        let t0 = Instant::now();
        assert!(cache.fill(b"big", t0, &path, &file, &meta).is_none());
        let (path, file, meta) = cached_file(dir.path(), "edge", &big[1..]);
        assert!(cache.fill(b"edge", t0, &path, &file, &meta).is_some());
        // Grown after its fstat.
        let (path, file, meta) = cached_file(dir.path(), "grows", b"abc");
        std::fs::write(&path, b"abcdef").unwrap();
        assert!(cache.fill(b"grows", t0, &path, &file, &meta).is_none());
        // Shrunk after its fstat.
        let (path, file, meta) = cached_file(dir.path(), "shrinks", b"abcdef");
        std::fs::write(&path, b"abc").unwrap();
        assert!(cache.fill(b"shrinks", t0, &path, &file, &meta).is_none());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_cache_holds_at_most_max_entries_and_makes_room_from_stale_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (path, file, meta) = cached_file(dir.path(), "a", b"a");
        let cache = FileCache::default();
        let t0 = Instant::now();
        for i in 0..MAX_ENTRIES + 10 {
            let key = format!("k{i}");
            // Past the bound the answer is still given, only not kept.
            assert!(
                cache
                    .fill(key.as_bytes(), t0, &path, &file, &meta)
                    .is_some()
            );
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        assert!(
            cache
                .get(format!("k{}", MAX_ENTRIES).as_bytes(), t0)
                .is_none()
        );
        // A second later every entry is stale: the next fill sweeps them.
        let t1 = t0 + REVALIDATE;
        assert!(cache.fill(b"new", t1, &path, &file, &meta).is_some());
        assert_eq!(cache.len(), 1);
        assert!(cache.get(b"new", t1).is_some());
    }

    /// A file server's answers to `GET target` on a fresh connection at `now`: (status line,
    /// body).
    mod served {
        use super::super::super::{FileServer, FileServerOptions};
        use crate::driver::session::Session;
        use std::path::Path;
        use std::time::Instant;

        pub fn server(root: &Path) -> FileServer {
            let mut opts = FileServerOptions::new(root.to_path_buf());
            opts.quiet = true;
            FileServer::new(opts).unwrap()
        }

        pub fn get(
            server: &FileServer,
            now: Instant,
            target: &str,
            fields: &str,
        ) -> (String, Vec<u8>) {
            let mut s = server.http_session(now, "127.0.0.1:5000".parse().unwrap());
            s.receive(
                now,
                format!("GET {target} HTTP/1.0\r\n{fields}\r\n").as_bytes(),
            );
            let mut all = Vec::new();
            loop {
                let mut out = Vec::new();
                s.poll_transmit(now, &mut out, 64 * 1024);
                if out.is_empty() {
                    break;
                }
                all.extend_from_slice(&out);
            }
            let at = all
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .expect("a head");
            let status =
                String::from_utf8_lossy(&all[..all.iter().position(|&b| b == b'\r').unwrap()])
                    .into_owned();
            (status, all[at + 4..].to_vec())
        }
    }

    /// Within the second the cached bytes are served (the disk is not read: a change does not
    /// show yet); from the second on, what is on disk now, whether the file was rewritten in
    /// place, replaced by a rename, or removed.
    #[test]
    fn a_changed_replaced_or_removed_file_is_served_fresh_after_the_interval() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.txt"), "one").unwrap();
        std::fs::write(root.join("b.txt"), "bee").unwrap();
        std::fs::write(root.join("c.txt"), "sea").unwrap();
        let server = served::server(root);
        // Sessions hand the core times since the process's clock origin: start after it.
        let t0 = crate::driver::clock::origin() + Duration::from_millis(1);
        for name in ["/a.txt", "/b.txt", "/c.txt"] {
            assert_eq!(served::get(&server, t0, name, "").0, "HTTP/1.0 200 OK");
        }
        std::fs::write(root.join("a.txt"), "two").unwrap();
        std::fs::write(root.join("b.new"), "BEE!").unwrap();
        std::fs::rename(root.join("b.new"), root.join("b.txt")).unwrap();
        std::fs::remove_file(root.join("c.txt")).unwrap();

        let within = t0 + REVALIDATE - Duration::from_millis(1);
        assert_eq!(served::get(&server, within, "/a.txt", "").1, b"one");
        assert_eq!(served::get(&server, within, "/b.txt", "").1, b"bee");
        assert_eq!(served::get(&server, within, "/c.txt", "").1, b"sea");

        let after = t0 + REVALIDATE;
        assert_eq!(served::get(&server, after, "/a.txt", "").1, b"two");
        assert_eq!(served::get(&server, after, "/b.txt", "").1, b"BEE!");
        assert_eq!(
            served::get(&server, after, "/c.txt", "").0,
            "HTTP/1.0 404 Not Found"
        );
        // And the refilled entries are served from then on.
        std::fs::write(root.join("a.txt"), "three").unwrap();
        assert_eq!(served::get(&server, after, "/a.txt", "").1, b"two");
    }

    /// Ranges, HEAD-like validators and the query are answered from a cached file as from
    /// the disk; a directory with and without its slash is not confused.
    #[test]
    fn cached_files_answer_ranges_and_validators_and_keep_targets_apart() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.txt"), "0123456789").unwrap();
        std::fs::create_dir(root.join("d")).unwrap();
        std::fs::write(root.join("d/index.html"), "index").unwrap();
        let server = served::server(root);
        let t0 = Instant::now();
        assert_eq!(served::get(&server, t0, "/a.txt", "").1, b"0123456789");
        let (status, body) = served::get(&server, t0, "/a.txt?x=1", "Range: bytes=2-4\r\n");
        assert_eq!(
            (status.as_str(), &body[..]),
            ("HTTP/1.0 206 Partial Content", &b"234"[..])
        );
        let (status, body) = served::get(&server, t0, "/a.txt", "Range: bytes=-1\r\n");
        assert_eq!(
            (status.as_str(), &body[..]),
            ("HTTP/1.0 206 Partial Content", &b"9"[..])
        );
        assert_eq!(
            served::get(&server, t0, "/a.txt", "Range: bytes=10-\r\n").0,
            "HTTP/1.0 416 Range Not Satisfiable"
        );
        assert_eq!(served::get(&server, t0, "/d/", "").1, b"index");
        assert_eq!(
            served::get(&server, t0, "/d", "").0,
            "HTTP/1.0 301 Moved Permanently"
        );
        assert_eq!(served::get(&server, t0, "/d/", "").1, b"index");
        assert_eq!(server.shared.cache.len(), 2, "a.txt and d/index.html");
    }
}
