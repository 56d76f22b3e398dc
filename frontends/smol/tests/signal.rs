//! SIGTERM stops a server of the binary's runtime (`SmolRuntime::new`), which returns Ok.
//! Alone in its own test binary: it sends the signal to its own process.

mod support;

use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use portline_common::Runtime;
use portline_smol::SmolRuntime;
use support::{EchoFactory, PATIENCE, Stats, options, round_trip};

#[test]
fn sigterm_stops_the_server_gracefully() {
    let stats = Arc::new(Stats::default());
    let factory = Arc::new(EchoFactory {
        idle: None,
        stats: stats.clone(),
    });
    let (ready_tx, ready_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        let runtime = SmolRuntime::new();
        let result =
            runtime.serve_tcp(&options(10, Duration::from_secs(2)), factory, &mut |addr| {
                ready_tx.send(addr).unwrap()
            });
        done_tx.send(result).unwrap();
    });
    let addr = ready_rx.recv_timeout(PATIENCE).unwrap();
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    assert_eq!(round_trip(&mut client, b"before\n"), b"before\n");

    // The handlers are installed before the ready call, so this cannot kill the process.
    signal_hook::low_level::raise(signal_hook::consts::SIGTERM).unwrap();
    let result = done_rx
        .recv_timeout(PATIENCE)
        .expect("the server returns after SIGTERM");
    result.expect("and returns Ok");
    assert_eq!(stats.open(), 0);
}
