//! `services`: getservbyport/getservbyname answers, errors on stderr, every query answered.

use std::path::PathBuf;

use portline_common::cli::tools::services::{self, Args};
use portline_core::services::Services;

fn q(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_issue_example_against_the_builtin_table() {
    let (out, err, ok) =
        services::answer(&Services::builtin(), &q(&["80", "25", "53/udp", "http"]));
    assert_eq!(
        out,
        "80/tcp http\n25/tcp smtp\n53/udp domain\nhttp 80/tcp\n"
    );
    assert!(err.is_empty(), "{err:?}");
    assert!(ok);
}

#[test]
fn the_issue_example_against_etc_services_when_present() {
    let Ok(text) = std::fs::read_to_string("/etc/services") else {
        eprintln!("notice: no /etc/services; the built-in table is tested above");
        return;
    };
    let (out, _, ok) =
        services::answer(&Services::parse(&text), &q(&["80", "25", "53/udp", "http"]));
    assert!(ok, "{out}");
    assert_eq!(
        out,
        "80/tcp http\n25/tcp smtp\n53/udp domain\nhttp 80/tcp\n"
    );
}

#[test]
fn unknown_and_malformed_queries_go_to_stderr_and_the_rest_is_answered() {
    let table = Services::parse("http 80/tcp www\nfoo 9/udp\n");
    let (out, err, ok) = services::answer(
        &table,
        &q(&[
            "65000",
            "80",
            "nosuch/udp",
            "www",
            "9",
            "99999",
            "/tcp",
            "http/",
            "foo/udp",
        ]),
    );
    assert!(!ok);
    assert_eq!(out, "80/tcp http\nwww 80/tcp\nfoo 9/udp\n");
    let want = [
        ("65000/tcp", "port/proto not found"),
        ("nosuch/udp", "service/proto not found"),
        ("9/tcp", "port/proto not found"),
        ("99999", "port number out of range (0-65535)"),
        ("/tcp", "missing port or service name"),
        ("http/", "missing protocol after /"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(q, e)| (q.to_string(), e.to_string()))
        .collect();
    assert_eq!(err, want);
}

fn fixture(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn run_exit_status_with_a_services_file() {
    let file = fixture(
        "tools_services_fixture",
        "# test\nweb 8080/tcp\n\nbroken line\n",
    );
    let args = |qs: &[&str]| Args {
        queries: q(qs),
        file: Some(file.clone()),
    };
    assert_eq!(services::run(&args(&["8080", "web"])), 0);
    // 80 is not in this file: exit 1, though 8080 is still answered.
    assert_eq!(services::run(&args(&["8080", "80"])), 1);
    let missing = Args {
        queries: q(&["80"]),
        file: Some(PathBuf::from("/nonexistent/services")),
    };
    assert_eq!(services::run(&missing), 1);
}
