//! Loading the services table (`portline_core::services`): the core parses, this reads the file.

use std::fs::File;
use std::io::{self, Read as _};
use std::path::Path;

use portline_core::services::Services;

/// Where the system's table lives.
pub(crate) const SERVICES_PATH: &str = "/etc/services";

/// A services file larger than this is refused rather than read into memory (Debian's is
/// about 13 KiB).
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Read and parse a services file. Invalid UTF-8 is replaced (such lines are then malformed
/// and skipped, or names carry U+FFFD); a file over 16 MiB is an error.
pub(crate) fn load_file(path: &Path) -> io::Result<Services> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "file too large for a services table (over 16 MiB)",
        ));
    }
    Ok(Services::parse(&String::from_utf8_lossy(&bytes)))
}

/// `/etc/services`, or the built-in table when it cannot be read.
pub(crate) fn load_default() -> Services {
    load_file(Path::new(SERVICES_PATH)).unwrap_or_else(|_| Services::builtin())
}
