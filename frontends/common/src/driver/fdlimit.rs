//! The open-files limit and the connection limit derived from it.
//!
//! A server's real ceiling is its file descriptors: one per connection, one more per file it is
//! streaming, plus a few of its own. So at start the soft `RLIMIT_NOFILE` is raised to the hard
//! limit, as nginx's `worker_rlimit_nofile` and Go's runtime (since 1.19) do, and the default
//! `--max-connections` is what then fits with a reserve left over.

/// Descriptors kept back for the process itself: listeners, epoll, the root handle, stdio,
/// the resolver, a log file.
pub const RESERVE: u64 = 64;

/// The fewest connections the derived default allows, however low the limit.
pub const MIN_CONNECTIONS: usize = 16;

/// The most connections the derived default allows, however high the limit: the thread-per-
/// connection runtime and the kernel's thread limit (`threads-max`, about 190,000 on a 24 GiB
/// machine) keep a higher default from being real.
pub const MAX_DEFAULT_CONNECTIONS: usize = 65_536;

/// Raise the soft open-files limit to the hard limit; returns the soft limit now in force
/// (`u64::MAX` when unlimited). Failure to raise leaves the limit as it was.
pub fn raise_open_files_limit() -> u64 {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.current != limit.maximum {
            limit.current = limit.maximum;
            let _ = setrlimit(Resource::Nofile, limit);
        }
        getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
    }
    #[cfg(not(unix))]
    {
        u64::MAX
    }
}

/// The default connection limit for an open-files limit of `nofile`: each connection may hold
/// its socket and one open file, after [`RESERVE`]; clamped to
/// [`MIN_CONNECTIONS`]..=[`MAX_DEFAULT_CONNECTIONS`].
pub fn default_max_connections(nofile: u64) -> usize {
    let fit = nofile.saturating_sub(RESERVE) / 2;
    usize::try_from(fit)
        .unwrap_or(usize::MAX)
        .clamp(MIN_CONNECTIONS, MAX_DEFAULT_CONNECTIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_leaves_a_reserve_and_a_file_per_connection() {
        assert_eq!(default_max_connections(1024), 480);
        assert_eq!(default_max_connections(20_000), 9_968);
        assert_eq!(default_max_connections(10), MIN_CONNECTIONS);
        assert_eq!(default_max_connections(u64::MAX), MAX_DEFAULT_CONNECTIONS);
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        #[cfg(unix)]
        let before = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(u64::MAX);
        let now = raise_open_files_limit();
        #[cfg(unix)]
        assert!(now >= before);
        assert!(now > 0);
    }
}
