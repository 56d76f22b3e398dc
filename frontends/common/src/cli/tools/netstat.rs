//! The `netstat` subcommand: this machine's TCP and UDP sockets from `/proc/net`, printed like
//! `netstat -tuna`.
//!
//! The kernel tables are read and decoded by the `procfs` crate. Its address decoding was checked
//! against the kernel's format (each 32-bit word of an address is printed in host byte order, so
//! `::1` is `00000000000000000000000001000000` on a little-endian machine);
//! `tests/tools_netstat.rs` keeps it checked, on fixture text and on a live `[::1]` listener.
//!
//! Without `-l` or `-a` only non-listening sockets are shown, as `netstat` does. Without `-n`
//! ports known to the services table are shown by name; addresses stay numeric (no reverse
//! DNS, which could hang on a broken resolver).

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::net::SocketAddr;

use procfs::net::{TcpNetEntry, TcpState, UdpNetEntry, UdpState};
use procfs::{ExplicitSystemInfo, FromBufReadSI, ProcError};

use portline_core::services::Services;

use super::table;

/// Command-line arguments of `netstat`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Args {
    /// TCP sockets (with neither -t nor -u: both).
    #[arg(short = 't', long = "tcp")]
    pub tcp: bool,
    /// UDP sockets (with neither -t nor -u: both).
    #[arg(short = 'u', long = "udp")]
    pub udp: bool,
    /// Only listening sockets (TCP in LISTEN, unconnected UDP).
    #[arg(short = 'l', long = "listening")]
    pub listening: bool,
    /// All sockets, listening or not (without -l or -a: only non-listening ones).
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Numeric ports (without it, well-known ports are shown by service name).
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,
}

/// The kernel's socket tables this tool reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `/proc/net/tcp`.
    Tcp,
    /// `/proc/net/tcp6`.
    Tcp6,
    /// `/proc/net/udp`.
    Udp,
    /// `/proc/net/udp6`.
    Udp6,
}

impl Table {
    /// The table's name, which is also the `Proto` column.
    pub fn name(self) -> &'static str {
        match self {
            Table::Tcp => "tcp",
            Table::Tcp6 => "tcp6",
            Table::Udp => "udp",
            Table::Udp6 => "udp6",
        }
    }

    /// TCP (either family).
    pub fn is_tcp(self) -> bool {
        matches!(self, Table::Tcp | Table::Tcp6)
    }
}

/// One socket, as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    /// Which table it came from.
    pub table: Table,
    /// Bytes received and not yet read by the application.
    pub recv_q: u32,
    /// Bytes sent and not yet acknowledged (TCP) or queued (UDP).
    pub send_q: u32,
    /// The local address.
    pub local: SocketAddr,
    /// The remote address (`0.0.0.0:0` / `[::]:0` when none).
    pub remote: SocketAddr,
    /// `LISTEN`, `ESTABLISHED`, ... for TCP; `ESTABLISHED` or empty (unconnected) for UDP.
    pub state: &'static str,
    /// TCP in LISTEN, or an unconnected UDP socket.
    pub listening: bool,
}

fn tcp_state(state: &TcpState) -> &'static str {
    match state {
        TcpState::Established => "ESTABLISHED",
        TcpState::SynSent => "SYN_SENT",
        TcpState::SynRecv => "SYN_RECV",
        TcpState::FinWait1 => "FIN_WAIT1",
        TcpState::FinWait2 => "FIN_WAIT2",
        TcpState::TimeWait => "TIME_WAIT",
        TcpState::Close => "CLOSE",
        TcpState::CloseWait => "CLOSE_WAIT",
        TcpState::LastAck => "LAST_ACK",
        TcpState::Listen => "LISTEN",
        TcpState::Closing => "CLOSING",
        TcpState::NewSynRecv => "NEW_SYN_RECV",
    }
}

fn from_tcp(table: Table, e: &TcpNetEntry) -> Socket {
    Socket {
        table,
        recv_q: e.rx_queue,
        send_q: e.tx_queue,
        local: e.local_address,
        remote: e.remote_address,
        state: tcp_state(&e.state),
        listening: e.state == TcpState::Listen,
    }
}

fn from_udp(table: Table, e: &UdpNetEntry) -> Socket {
    let connected = e.state == UdpState::Established;
    Socket {
        table,
        recv_q: e.rx_queue,
        send_q: e.tx_queue,
        local: e.local_address,
        remote: e.remote_address,
        state: if connected { "ESTABLISHED" } else { "" },
        listening: !connected,
    }
}

/// Decode the text of one `/proc/net/{tcp,tcp6,udp,udp6}` file (header line included) as this
/// machine's kernel wrote it. Pure: used by tests on fixture text.
pub fn parse_table(table: Table, text: &str) -> Result<Vec<Socket>, String> {
    let info = ExplicitSystemInfo {
        boot_time_secs: 0,
        ticks_per_second: 100,
        page_size: 4096,
        is_little_endian: cfg!(target_endian = "little"),
    };
    let err = |e: ProcError| format!("/proc/net/{}: {e}", table.name());
    if table.is_tcp() {
        let entries =
            procfs::net::TcpNetEntries::from_buf_read(text.as_bytes(), &info).map_err(err)?;
        Ok(entries.0.iter().map(|e| from_tcp(table, e)).collect())
    } else {
        let entries =
            procfs::net::UdpNetEntries::from_buf_read(text.as_bytes(), &info).map_err(err)?;
        Ok(entries.0.iter().map(|e| from_udp(table, e)).collect())
    }
}

/// Read one kernel table. A missing `tcp6`/`udp6` (IPv6 disabled) is an empty table.
fn read_table(table: Table) -> Result<Vec<Socket>, String> {
    let result = match table {
        Table::Tcp => procfs::net::tcp().map(|v| v.iter().map(|e| from_tcp(table, e)).collect()),
        Table::Tcp6 => procfs::net::tcp6().map(|v| v.iter().map(|e| from_tcp(table, e)).collect()),
        Table::Udp => procfs::net::udp().map(|v| v.iter().map(|e| from_udp(table, e)).collect()),
        Table::Udp6 => procfs::net::udp6().map(|v| v.iter().map(|e| from_udp(table, e)).collect()),
    };
    match result {
        Ok(v) => Ok(v),
        Err(ProcError::NotFound(_)) if matches!(table, Table::Tcp6 | Table::Udp6) => Ok(Vec::new()),
        Err(e) => Err(format!("/proc/net/{}: {e}", table.name())),
    }
}

/// Which sockets `args` selects, in kernel order: tcp, tcp6, udp, udp6.
pub fn select(args: &Args, sockets: Vec<Socket>) -> Vec<Socket> {
    let (tcp, udp) = if args.tcp || args.udp {
        (args.tcp, args.udp)
    } else {
        (true, true)
    };
    sockets
        .into_iter()
        .filter(|s| if s.table.is_tcp() { tcp } else { udp })
        .filter(|s| args.all || s.listening == args.listening)
        .collect()
}

/// `ADDR:PORT` as netstat prints it: IPv6 without brackets, port 0 as `*`, and (unless numeric)
/// a port known to the services table by its name.
fn endpoint(addr: SocketAddr, table: Table, names: Option<&Services>) -> String {
    let port = match addr.port() {
        0 => "*".to_string(),
        p => {
            let proto = if table.is_tcp() { "tcp" } else { "udp" };
            match names.map(|t| t.by_port(p, proto)) {
                Some(Ok(entry)) => entry.name.clone(),
                _ => p.to_string(),
            }
        }
    };
    format!("{}:{port}", addr.ip())
}

/// The header and one line per socket, like `netstat -tuna`; with `names`, known ports by name.
pub fn render(sockets: &[Socket], names: Option<&Services>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<5} {:>6} {:>6} {:<23} {:<23} State",
        "Proto", "Recv-Q", "Send-Q", "Local Address", "Foreign Address"
    );
    for s in sockets {
        let line = format!(
            "{:<5} {:>6} {:>6} {:<23} {:<23} {}",
            s.table.name(),
            s.recv_q,
            s.send_q,
            endpoint(s.local, s.table, names),
            endpoint(s.remote, s.table, names),
            s.state
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// Read every kernel table, select what `args` asks for and render it: the text `run` prints.
pub fn report(args: &Args) -> Result<String, String> {
    let mut sockets = Vec::new();
    for table in [Table::Tcp, Table::Tcp6, Table::Udp, Table::Udp6] {
        sockets.extend(read_table(table)?);
    }
    let names = (!args.numeric).then(table::load_default);
    Ok(render(&select(args, sockets), names.as_ref()))
}

/// Run `netstat`; returns the process exit status.
pub fn run(args: &Args) -> i32 {
    let text = match report(args) {
        Ok(text) => text,
        Err(e) => {
            crate::cli::message::error("", e);
            return 1;
        }
    };
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => 0,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            crate::cli::message::error("stdout", e);
            1
        }
    }
}
