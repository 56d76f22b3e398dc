//! The report: a summary like wrk's on stdout, or one JSON object (`--json`) for scripts.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::stats::{Failure, STATUS_CLASSES, Stats};

/// The percentiles every report gives, as `(label, percentile)`.
pub const PERCENTILES: [(&str, f64); 4] =
    [("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p999", 99.9)];

/// The finer spectrum `--latency` adds (wrk2's "detailed percentile spectrum", shortened).
pub const SPECTRUM: [f64; 9] = [50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 99.999, 100.0];

/// What the run was, for the report's header and the JSON.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// The URL as given.
    pub url: String,
    /// `-c`.
    pub connections: usize,
    /// `-t`.
    pub threads: usize,
    /// `-R`, if given.
    pub rate: Option<f64>,
    /// `--pipeline`.
    pub pipeline: usize,
    /// How long the run really took (from the first connect to the last socket closed).
    pub elapsed: Duration,
}

/// The numbers of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Complete responses.
    pub requests: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Responses per second of `elapsed`.
    pub requests_per_sec: f64,
    /// Bytes read per second.
    pub bytes_per_sec: f64,
    /// Mean latency, µs (0 with no response).
    pub mean_us: f64,
    /// Standard deviation of the latency, µs.
    pub stdev_us: f64,
    /// [`PERCENTILES`] in order, µs.
    pub percentiles_us: [u64; 4],
    /// The largest latency, µs.
    pub max_us: u64,
}

impl Summary {
    /// The numbers of `stats` gathered over `elapsed`.
    pub fn new(stats: &Stats, elapsed: Duration) -> Summary {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let h = &stats.latency;
        let requests = stats.responses();
        let empty = h.is_empty();
        Summary {
            requests,
            bytes: stats.bytes,
            requests_per_sec: requests as f64 / secs,
            bytes_per_sec: stats.bytes as f64 / secs,
            mean_us: if empty { 0.0 } else { h.mean() },
            stdev_us: if empty { 0.0 } else { h.stdev() },
            percentiles_us: PERCENTILES.map(|(_, p)| h.value_at_percentile(p)),
            max_us: h.max(),
        }
    }
}

/// A latency in the unit that reads best: `850.00us`, `12.34ms`, `1.50s` (wrk's format).
pub fn latency(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.2}us")
    } else if us < 1_000_000.0 {
        format!("{:.2}ms", us / 1000.0)
    } else {
        format!("{:.2}s", us / 1_000_000.0)
    }
}

/// A byte count in binary units: `512.00B`, `1.50KB`, `24.10MB` (wrk's format).
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.2}{}", UNITS[unit])
}

/// The text report. `detail` (`--latency`) adds the percentile spectrum.
pub fn text(info: &RunInfo, stats: &Stats, detail: bool) -> String {
    let s = Summary::new(stats, info.elapsed);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Running {:.1}s test @ {}",
        info.elapsed.as_secs_f64(),
        info.url
    );
    let _ = write!(
        o,
        "  {} threads and {} connections",
        info.threads, info.connections
    );
    if let Some(r) = info.rate {
        let _ = write!(o, ", {r} requests/s");
    }
    if info.pipeline > 1 {
        let _ = write!(o, ", pipeline {}", info.pipeline);
    }
    o.push('\n');
    let _ = writeln!(
        o,
        "  Latency   mean {}   stdev {}   max {}",
        latency(s.mean_us),
        latency(s.stdev_us),
        latency(s.max_us as f64)
    );
    let _ = write!(o, "  Latency  ");
    for ((label, _), v) in PERCENTILES.iter().zip(s.percentiles_us) {
        let label = if *label == "p999" { "p99.9" } else { label };
        let _ = write!(o, " {label} {}", latency(v as f64));
    }
    let _ = writeln!(o, "  max {}", latency(s.max_us as f64));
    if detail {
        let _ = writeln!(o, "  Latency distribution");
        for p in SPECTRUM {
            let v = stats.latency.value_at_percentile(p);
            let _ = writeln!(o, "    {:>8}%  {}", format!("{p}"), latency(v as f64));
        }
    }
    let _ = writeln!(
        o,
        "  {} requests in {:.2}s, {} read",
        s.requests,
        info.elapsed.as_secs_f64(),
        bytes(s.bytes as f64)
    );
    let _ = write!(o, "  Status:");
    for (class, n) in STATUS_CLASSES.iter().zip(stats.status) {
        if n > 0 || *class == "2xx" {
            let _ = write!(o, " {class} {n}");
        }
    }
    o.push('\n');
    let _ = write!(o, "  Errors:");
    for (i, f) in Failure::ALL.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(o, "{sep} {} {}", f.name(), stats.errors_of(*f));
    }
    o.push('\n');
    let _ = writeln!(o, "Requests/sec: {:>12.2}", s.requests_per_sec);
    let _ = writeln!(o, "Transfer/sec: {:>12}", bytes(s.bytes_per_sec));
    o
}

/// The JSON report: one object (see docs/CLI.md for its fields).
pub fn json(info: &RunInfo, stats: &Stats, detail: bool) -> Value {
    let s = Summary::new(stats, info.elapsed);
    let mut latency = json!({
        "mean": s.mean_us,
        "stdev": s.stdev_us,
        "max": s.max_us,
    });
    for ((label, _), v) in PERCENTILES.iter().zip(s.percentiles_us) {
        latency[*label] = json!(v);
    }
    let status: serde_json::Map<String, Value> = STATUS_CLASSES
        .iter()
        .zip(stats.status)
        .map(|(c, n)| (c.to_string(), json!(n)))
        .collect();
    let errors: serde_json::Map<String, Value> = Failure::ALL
        .iter()
        .map(|f| (f.name().to_string(), json!(stats.errors_of(*f))))
        .collect();
    let mut v = json!({
        "url": info.url,
        "connections": info.connections,
        "threads": info.threads,
        "rate": info.rate,
        "pipeline": info.pipeline,
        "duration_secs": info.elapsed.as_secs_f64(),
        "requests": s.requests,
        "bytes": s.bytes,
        "requests_per_sec": s.requests_per_sec,
        "bytes_per_sec": s.bytes_per_sec,
        "latency_us": latency,
        "status": status,
        "errors": errors,
    });
    if detail {
        v["latency_distribution"] = SPECTRUM
            .iter()
            .map(|p| json!({"percentile": p, "latency_us": stats.latency.value_at_percentile(*p)}))
            .collect();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (RunInfo, Stats) {
        let mut stats = Stats::new();
        // 1..=1000 µs, once each: p50 = 500, p90 = 900, p99 = 990, p99.9 = 999, max = 1000.
        for us in 1..=1000 {
            stats.record(200, Duration::from_micros(us));
        }
        stats.record(404, Duration::from_micros(1));
        stats.fail(Failure::Timeout);
        stats.bytes = 2048 * 1001;
        let info = RunInfo {
            url: "http://127.0.0.1:8080/".into(),
            connections: 10,
            threads: 2,
            rate: None,
            pipeline: 1,
            elapsed: Duration::from_secs(2),
        };
        (info, stats)
    }

    #[test]
    fn the_summary_divides_by_the_elapsed_time_and_reads_the_histogram() {
        let (info, stats) = sample();
        let s = Summary::new(&stats, info.elapsed);
        assert_eq!(s.requests, 1001);
        assert_eq!(s.requests_per_sec, 500.5);
        assert_eq!(s.bytes_per_sec, 2048.0 * 1001.0 / 2.0);
        assert_eq!(s.percentiles_us, [500, 900, 990, 999]);
        assert_eq!(s.max_us, 1000);
        assert!((s.mean_us - 500.999).abs() < 1.0, "{}", s.mean_us);
        assert!((s.stdev_us - 288.8).abs() < 1.0, "{}", s.stdev_us);
    }

    #[test]
    fn an_empty_run_reports_zeros_not_nan() {
        let stats = Stats::new();
        let s = Summary::new(&stats, Duration::from_secs(1));
        assert_eq!(
            (s.requests, s.mean_us, s.stdev_us, s.max_us),
            (0, 0.0, 0.0, 0)
        );
        let (info, _) = sample();
        let v = json(&info, &stats, false);
        assert_eq!(v["latency_us"]["mean"], 0.0);
    }

    #[test]
    fn the_json_object_has_the_documented_fields() {
        let (info, stats) = sample();
        let text = json(&info, &stats, true).to_string();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["requests"], 1001);
        assert_eq!(v["requests_per_sec"], 500.5);
        assert!(v["bytes_per_sec"].as_f64().unwrap() > 0.0);
        for (key, want) in [
            ("p50", 500),
            ("p90", 900),
            ("p99", 990),
            ("p999", 999),
            ("max", 1000),
        ] {
            assert_eq!(v["latency_us"][key], want, "{key}");
        }
        let status = v["status"].as_object().unwrap();
        assert_eq!(status.len(), 6);
        assert_eq!(v["status"]["2xx"], 1000);
        assert_eq!(v["status"]["4xx"], 1);
        let errors = v["errors"].as_object().unwrap();
        let kinds: Vec<&str> = errors.keys().map(String::as_str).collect();
        for k in ["connect", "read", "write", "timeout", "parse"] {
            assert!(kinds.contains(&k), "{k} in {kinds:?}");
        }
        assert_eq!(v["errors"]["timeout"], 1);
        assert_eq!(
            v["latency_distribution"].as_array().unwrap().len(),
            SPECTRUM.len()
        );
        assert!(v["rate"].is_null());
    }

    #[test]
    fn the_text_report_reads_like_wrk() {
        let (info, stats) = sample();
        let t = text(&info, &stats, false);
        assert!(
            t.starts_with(
                "Running 2.0s test @ http://127.0.0.1:8080/\n  2 threads and 10 connections\n"
            ),
            "{t}"
        );
        assert!(
            t.contains("p50 500.00us p90 900.00us p99 990.00us p99.9 999.00us  max 1.00ms"),
            "{t}"
        );
        assert!(t.contains("  1001 requests in 2.00s, 1.96MB read\n"), "{t}");
        assert!(t.contains("  Status: 2xx 1000 4xx 1\n"), "{t}");
        assert!(
            t.contains("  Errors: connect 0, read 0, write 0, timeout 1, parse 0\n"),
            "{t}"
        );
        assert!(t.contains("Requests/sec:       500.50\n"), "{t}");
        assert!(t.contains("Transfer/sec:    1001.00KB\n"), "{t}");
        assert!(!t.contains("distribution"));
        assert!(text(&info, &stats, true).contains("Latency distribution\n"));
    }

    #[test]
    fn units_scale_like_wrk() {
        assert_eq!(latency(850.0), "850.00us");
        assert_eq!(latency(12_340.0), "12.34ms");
        assert_eq!(latency(1_500_000.0), "1.50s");
        assert_eq!(bytes(512.0), "512.00B");
        assert_eq!(bytes(1536.0), "1.50KB");
        assert_eq!(bytes(3.0 * 1024.0 * 1024.0), "3.00MB");
    }
}
