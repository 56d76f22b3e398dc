//! Where the body goes: stdout, or `-o FILE` without ever destroying FILE.
//!
//! Nothing is opened before a response head has arrived (curl also creates the file only then).
//! A new body for FILE is written to a temporary file in FILE's own folder and renamed over FILE
//! only when [`Output::commit`] is called after a successful transfer; dropping an [`Output`]
//! without committing deletes the temporary file. So a refused connection, a timeout, a body cut
//! short or a 404 with `-f` leave an existing FILE exactly as it was. Two exceptions:
//! - a resumed download (`-C -` and a 206) appends to FILE in place, as the point of resuming is
//!   to keep every byte received;
//! - an existing FILE that is not a regular file (`/dev/null`, a FIFO) is written directly, as
//!   a rename would replace the device or pipe itself.
//!
//! An existing FILE that this user could not open for writing is refused (exit 14), as curl
//! would be, rather than replaced. Once [`remove_temporary_files_on_signals`] is called (the
//! `get` command does), SIGINT, SIGTERM or SIGHUP during a transfer remove the temporary file
//! before the process exits (with 128 + the signal's number), so an interrupted download leaves
//! neither a changed FILE nor a stray `.part` file.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The buffer between the body and the file or stdout.
const BUFFER: usize = 64 * 1024;

/// How FILE is to be written once a response says what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A whole new body: replace FILE on success.
    Replace,
    /// The rest of a resumed body: append to FILE.
    Append,
}

enum State {
    /// Nothing opened yet.
    Idle,
    /// Writing to a caller's writer (stdout, or a test's buffer).
    Writer(Box<dyn Write + Send>),
    /// Writing beside FILE, to be renamed over it.
    Temp {
        file: BufWriter<tempfile::NamedTempFile>,
        dest: PathBuf,
    },
    /// Writing FILE itself (appending, or a special file).
    Direct(BufWriter<File>),
}

/// The destination of a response body.
pub struct Output {
    path: Option<PathBuf>,
    make_writer: Option<Box<dyn FnOnce() -> Box<dyn Write + Send> + Send>>,
    state: State,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Output {
    /// Standard output (buffered).
    pub fn stdout() -> Output {
        Output::writer(Box::new(BufWriter::with_capacity(BUFFER, io::stdout())))
    }

    /// Any writer (tests use an in-memory one).
    pub fn writer(w: Box<dyn Write + Send>) -> Output {
        Output {
            path: None,
            make_writer: Some(Box::new(move || w)),
            state: State::Idle,
        }
    }

    /// `-o FILE`: nothing is touched until [`Output::begin`] or the first write.
    pub fn file(path: &Path) -> Output {
        Output {
            path: Some(path.to_path_buf()),
            make_writer: None,
            state: State::Idle,
        }
    }

    /// The file's path, for `-o FILE`.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The length of the existing FILE, where a resumed download starts (0 if there is none).
    pub fn existing_len(&self) -> u64 {
        self.path
            .as_deref()
            .and_then(|p| fs::metadata(p).ok())
            .filter(|m| m.is_file())
            .map_or(0, |m| m.len())
    }

    /// Whether anything has been opened.
    pub fn has_begun(&self) -> bool {
        !matches!(self.state, State::Idle)
    }

    /// Open the destination for `mode`, once; later calls keep what was opened.
    pub fn begin(&mut self, mode: Mode) -> io::Result<()> {
        if self.has_begun() {
            return Ok(());
        }
        if let Some(make) = self.make_writer.take() {
            self.state = State::Writer(make());
            return Ok(());
        }
        let Some(path) = self.path.clone() else {
            return Err(io::Error::other("no output to open"));
        };
        // Write through a symbolic link to where it points, as curl does.
        let dest = fs::canonicalize(&path).unwrap_or(path);
        let existing = fs::metadata(&dest).ok();
        self.state = match (&existing, mode) {
            (Some(m), _) if !m.is_file() => State::Direct(BufWriter::with_capacity(
                BUFFER,
                OpenOptions::new().write(true).truncate(true).open(&dest)?,
            )),
            (Some(_), Mode::Append) => State::Direct(BufWriter::with_capacity(
                BUFFER,
                OpenOptions::new().append(true).open(&dest)?,
            )),
            (existing, _) => {
                if existing.is_some() {
                    // Refuse what the user may not write, without touching it.
                    drop(OpenOptions::new().write(true).open(&dest)?);
                }
                let dir = match dest.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                let name = dest
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                // A new file gets the mode `open` would give it (0666 less the umask); an
                // existing one keeps its own.
                let permissions = existing
                    .as_ref()
                    .map(|m| m.permissions())
                    .or_else(default_permissions);
                let prefix = format!(".{name}.");
                let mut builder = tempfile::Builder::new();
                builder.prefix(&prefix).suffix(".part");
                if let Some(p) = permissions {
                    builder.permissions(p);
                }
                let temp = builder.tempfile_in(dir)?;
                interrupted::remember(temp.path());
                State::Temp {
                    file: BufWriter::with_capacity(BUFFER, temp),
                    dest,
                }
            }
        };
        Ok(())
    }

    /// Write body bytes (opening for [`Mode::Replace`] if nothing is open yet).
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if !self.has_begun() {
            self.begin(Mode::Replace)?;
        }
        match &mut self.state {
            State::Idle => Ok(()),
            State::Writer(w) => w.write_all(bytes),
            State::Temp { file, .. } => file.write_all(bytes),
            State::Direct(f) => f.write_all(bytes),
        }
    }

    /// Flush what is buffered (stdout is flushed as the transfer goes on, for pipes).
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Idle => Ok(()),
            State::Writer(w) => w.flush(),
            State::Temp { file, .. } => file.flush(),
            State::Direct(f) => f.flush(),
        }
    }

    /// The transfer succeeded: flush, and put a new file in place of FILE.
    pub fn commit(mut self) -> io::Result<()> {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => Ok(()),
            State::Writer(mut w) => w.flush(),
            State::Direct(mut f) => f.flush(),
            State::Temp { file, dest } => {
                let temp = file.into_inner().map_err(|e| e.into_error())?;
                temp.as_file().sync_all()?;
                let path = temp.path().to_path_buf();
                let result = temp.persist(&dest).map(drop).map_err(|e| e.error);
                interrupted::forget(&path);
                result
            }
        }
    }
}

/// Let SIGINT, SIGTERM and SIGHUP remove the temporary files of [`Output`]s being written
/// and end the process with 128 + the signal. For the `get` command only: it takes over those
/// signals for the whole process, so an embedder that handles them itself must not call it.
pub fn remove_temporary_files_on_signals() {
    interrupted::watch_once();
}

impl Drop for Output {
    fn drop(&mut self) {
        if let State::Temp { file, .. } = &self.state {
            // The temporary file deletes itself as it is dropped just after this.
            interrupted::forget(file.get_ref().path());
        }
    }
}

/// The temporary files to remove if a signal ends `get` mid-transfer.
mod interrupted {
    use super::*;

    static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    static WATCHING: OnceLock<()> = OnceLock::new();

    fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
        // Pushes and removals are single Vec operations: a poisoned list is still whole.
        PENDING.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remove `path` if a signal ends the process before [`forget`].
    pub(super) fn remember(path: &Path) {
        pending().push(path.to_path_buf());
    }

    /// Take over SIGINT, SIGTERM and SIGHUP for the rest of the process: remove the pending
    /// files and exit with 128 + the signal.
    pub(super) fn watch_once() {
        WATCHING.get_or_init(watch);
    }

    /// `path` is committed or gone.
    pub(super) fn forget(path: &Path) {
        pending().retain(|p| p != path);
    }

    #[cfg(unix)]
    fn watch() {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("portline-get-signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    for path in pending().drain(..) {
                        let _ = fs::remove_file(path);
                    }
                    std::process::exit(128 + signal);
                }
            });
    }

    #[cfg(not(unix))]
    fn watch() {}
}

#[cfg(unix)]
fn default_permissions() -> Option<Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(Permissions::from_mode(0o666))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<Permissions> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_abandoned_output_leaves_the_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keep.txt");
        fs::write(&path, "precious").unwrap();
        let mut out = Output::file(&path);
        out.write(b"half a resp").unwrap();
        drop(out);
        assert_eq!(fs::read(&path).unwrap(), b"precious");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "the temporary file was not removed");
    }

    #[test]
    fn a_committed_output_replaces_the_file_and_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        let mut out = Output::file(&path);
        out.write(b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"old", "replaced before commit");
        out.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[test]
    fn a_new_file_is_not_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.txt");
        let mut out = Output::file(&path);
        out.write(b"x").unwrap();
        out.commit().unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        // 0666 less the umask: at least the owner can read and write, and it is not 0600
        // unless the umask says so.
        assert_eq!(mode & 0o600, 0o600);
        assert_eq!(mode & 0o111, 0, "not executable");
    }

    #[test]
    fn append_mode_adds_to_the_file_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part.bin");
        fs::write(&path, "0123").unwrap();
        let mut out = Output::file(&path);
        assert_eq!(out.existing_len(), 4);
        out.begin(Mode::Append).unwrap();
        out.write(b"4567").unwrap();
        drop(out);
        assert_eq!(fs::read(&path).unwrap(), b"01234567");
    }

    #[test]
    fn a_file_that_may_not_be_written_is_refused_not_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro.txt");
        fs::write(&path, "keep").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o444)).unwrap();
        // root may write anything: the probe then succeeds, as curl's open would.
        let writable = OpenOptions::new().write(true).open(&path).is_ok();
        let mut out = Output::file(&path);
        let r = out.write(b"new").and_then(|()| out.commit());
        assert_eq!(r.is_ok(), writable, "{r:?}");
        if !writable {
            assert_eq!(fs::read(&path).unwrap(), b"keep");
        }
    }

    #[test]
    fn a_symlink_is_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.txt");
        fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut out = Output::file(&link);
        out.write(b"new").unwrap();
        out.commit().unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn a_special_file_is_written_directly() {
        let mut out = Output::file(Path::new("/dev/null"));
        out.write(b"discarded").unwrap();
        out.commit().unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(
            fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }
}
