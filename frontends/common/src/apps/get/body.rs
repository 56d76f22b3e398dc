//! Request bodies (`-d`, `-d @FILE`, `-d @-`, `-T FILE`), streamed from where they are.
//!
//! HTTP/1.0 needs a `Content-Length` before the body, so the length must be known first: a
//! regular file has one; stdin (or a pipe, a FIFO) is first copied into an unnamed temporary
//! file, never into memory. The same bytes can then be sent again after a 307 or 308 redirect.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Where a request body comes from.
#[derive(Debug, Default)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// Bytes given on the command line (`-d TEXT`).
    Bytes(Vec<u8>),
    /// A file of a known length (`-d @FILE`, `-T FILE`, or stdin spooled to a temporary file).
    File {
        /// The open file.
        file: File,
        /// Its length, sent as `Content-Length`.
        len: u64,
    },
}

/// What the command line says to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The text itself.
    Text(String),
    /// The content of this file.
    File(PathBuf),
    /// Standard input.
    Stdin,
}

impl Source {
    /// `-d` syntax, as curl's: `@-` is stdin, `@FILE` a file, anything else the text itself.
    pub fn from_data_arg(arg: &str) -> Source {
        match arg.strip_prefix('@') {
            Some("-") => Source::Stdin,
            Some(path) => Source::File(PathBuf::from(path)),
            None => Source::Text(arg.to_string()),
        }
    }

    /// `-T` syntax: `-` is stdin, anything else a file.
    pub fn from_upload_arg(arg: &Path) -> Source {
        if arg == Path::new("-") {
            Source::Stdin
        } else {
            Source::File(arg.to_path_buf())
        }
    }
}

impl Body {
    /// Open the body `source` names. A regular file is sent from where it is; stdin and other
    /// streams are spooled to an unnamed temporary file first, to learn their length.
    pub fn open(source: &Source) -> io::Result<Body> {
        match source {
            Source::Text(t) => Ok(Body::Bytes(t.as_bytes().to_vec())),
            Source::Stdin => spool(io::stdin().lock()),
            Source::File(path) => {
                let file = File::open(path)?;
                let meta = file.metadata()?;
                if meta.is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "is a directory",
                    ));
                }
                if meta.is_file() {
                    Ok(Body::File {
                        file,
                        len: meta.len(),
                    })
                } else {
                    spool(file)
                }
            }
        }
    }

    /// The length sent as `Content-Length`.
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Bytes(b) => b.len() as u64,
            Body::File { len, .. } => *len,
        }
    }

    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A reader over the whole body, from its first byte (again after a redirect).
    pub fn reader(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Body::Empty => Box::new(io::empty()),
            Body::Bytes(b) => Box::new(io::Cursor::new(b.clone())),
            Body::File { file, len } => {
                let mut f = file.try_clone()?;
                f.seek(SeekFrom::Start(0))?;
                Box::new(f.take(*len))
            }
        })
    }
}

/// Copy `input` into an unnamed temporary file (removed by the system when closed).
fn spool(mut input: impl Read) -> io::Result<Body> {
    let mut file = tempfile::tempfile()?;
    let len = io::copy(&mut input, &mut file)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(Body::File { file, len })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_arguments_read_like_curls() {
        assert_eq!(Source::from_data_arg("@-"), Source::Stdin);
        assert_eq!(
            Source::from_data_arg("@a b.json"),
            Source::File("a b.json".into())
        );
        assert_eq!(Source::from_data_arg("x=1"), Source::Text("x=1".into()));
        assert_eq!(Source::from_upload_arg(Path::new("-")), Source::Stdin);
    }

    #[test]
    fn a_file_body_is_read_again_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.bin");
        std::fs::write(&path, b"0123456789").unwrap();
        let body = Body::open(&Source::File(path)).unwrap();
        assert_eq!(body.len(), 10);
        for _ in 0..2 {
            let mut s = Vec::new();
            body.reader().unwrap().read_to_end(&mut s).unwrap();
            assert_eq!(s, b"0123456789");
        }
    }

    #[test]
    fn a_stream_is_spooled_to_learn_its_length() {
        let body = spool(&b"streamed"[..]).unwrap();
        assert!(matches!(body, Body::File { len: 8, .. }));
        let mut s = Vec::new();
        body.reader().unwrap().read_to_end(&mut s).unwrap();
        assert_eq!(s, b"streamed");
    }

    #[test]
    fn a_missing_file_or_a_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Body::open(&Source::File(dir.path().join("nope"))).is_err());
        assert!(Body::open(&Source::File(dir.path().into())).is_err());
    }
}
