//! `-w/--write-out FORMAT`: curl's variables, printed to stdout after the transfer (also after
//! a failure, with `http_code` 0 when no response came, as curl does).
//!
//! `%{name}` is a variable, `%%` a percent sign, and `\n`, `\r`, `\t`, `\\` the usual escapes.
//! Times are seconds with six decimals, counted from the start of `get` (so over every
//! redirect, like curl's). `%{json}` prints every variable as one JSON object.

use std::fmt::Write as _;
use std::time::Duration;

/// The variables `-w` knows, in the order `%{json}` lists them.
pub const VARIABLES: &[&str] = &[
    "exitcode",
    "http_code",
    "num_redirects",
    "size_download",
    "time_connect",
    "time_starttransfer",
    "time_total",
    "url_effective",
];

/// What `-w` reports about one `get`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// The last response's status (0 if none came).
    pub http_code: u16,
    /// Body bytes of the last response as received (before `--compressed` decoding).
    pub size_download: u64,
    /// From the start until everything ended.
    pub time_total: Duration,
    /// From the start until the last connection was established (0 if none was).
    pub time_connect: Duration,
    /// From the start until the first byte of the last response (0 if none came).
    pub time_starttransfer: Duration,
    /// The last URL requested.
    pub url_effective: String,
    /// How many redirects were followed.
    pub num_redirects: u32,
    /// The exit status of `get`.
    pub exitcode: i32,
}

/// Check a `-w` format: every `%{name}` must be known (a usage error otherwise).
pub fn check_format(format: &str) -> Result<String, String> {
    let mut rest = format;
    while let Some(at) = rest.find("%{") {
        let after = &rest[at + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("`%{{` without its `}}` in {format:?}"))?;
        let name = &after[..end];
        if name != "json" && !VARIABLES.contains(&name) {
            return Err(format!(
                "unknown variable %{{{name}}} (known: json, {})",
                VARIABLES.join(", ")
            ));
        }
        rest = &after[end + 1..];
    }
    Ok(format.to_string())
}

fn secs(d: Duration) -> String {
    format!("{:.6}", d.as_secs_f64())
}

impl Report {
    /// One variable as `-w` prints it, or `None` if unknown.
    pub fn variable(&self, name: &str) -> Option<String> {
        Some(match name {
            "exitcode" => self.exitcode.to_string(),
            "http_code" => format!("{:03}", self.http_code),
            "num_redirects" => self.num_redirects.to_string(),
            "size_download" => self.size_download.to_string(),
            "time_connect" => secs(self.time_connect),
            "time_starttransfer" => secs(self.time_starttransfer),
            "time_total" => secs(self.time_total),
            "url_effective" => self.url_effective.clone(),
            "json" => self.json(),
            _ => return None,
        })
    }

    /// Every variable as one JSON object (numbers as numbers, as curl's `%{json}`).
    pub fn json(&self) -> String {
        let mut map = serde_json::Map::new();
        for name in VARIABLES {
            let value = match *name {
                "exitcode" => self.exitcode.into(),
                "http_code" => self.http_code.into(),
                "num_redirects" => self.num_redirects.into(),
                "size_download" => self.size_download.into(),
                "time_connect" => self.time_connect.as_secs_f64().into(),
                "time_starttransfer" => self.time_starttransfer.as_secs_f64().into(),
                "time_total" => self.time_total.as_secs_f64().into(),
                _ => self.url_effective.clone().into(),
            };
            map.insert((*name).to_string(), value);
        }
        serde_json::Value::Object(map).to_string()
    }

    /// Expand `format` (already checked by [`check_format`]).
    pub fn render(&self, format: &str) -> String {
        let mut out = String::new();
        let mut chars = format.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '%' if format[i..].starts_with("%{") => {
                    let after = &format[i + 2..];
                    match after.find('}') {
                        Some(end) => {
                            let name = &after[..end];
                            if let Some(v) = self.variable(name) {
                                out.push_str(&v);
                            }
                            // Skip the name and the brace.
                            let stop = i + 2 + end;
                            while chars.peek().is_some_and(|(j, _)| *j <= stop) {
                                chars.next();
                            }
                        }
                        None => out.push(c),
                    }
                }
                '%' if format[i..].starts_with("%%") => {
                    out.push('%');
                    chars.next();
                }
                '\\' => match chars.peek().map(|(_, c)| *c) {
                    Some('n') => {
                        out.push('\n');
                        chars.next();
                    }
                    Some('r') => {
                        out.push('\r');
                        chars.next();
                    }
                    Some('t') => {
                        out.push('\t');
                        chars.next();
                    }
                    Some('\\') => {
                        out.push('\\');
                        chars.next();
                    }
                    _ => out.push('\\'),
                },
                c => {
                    let _ = out.write_char(c);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            http_code: 200,
            size_download: 1234,
            time_total: Duration::from_millis(1500),
            time_connect: Duration::from_micros(250),
            time_starttransfer: Duration::from_millis(20),
            url_effective: "http://x/\"q\"".into(),
            num_redirects: 2,
            exitcode: 0,
        }
    }

    #[test]
    fn variables_and_escapes_expand_like_curls() {
        let r = sample();
        assert_eq!(
            r.render("%{http_code} %{size_download}B %{num_redirects}\\n"),
            "200 1234B 2\n"
        );
        assert_eq!(
            r.render("%{time_total} %{time_connect} %{time_starttransfer}"),
            "1.500000 0.000250 0.020000"
        );
        assert_eq!(
            r.render("100%% %{url_effective}\\t!"),
            "100% http://x/\"q\"\t!"
        );
        let none = Report::default();
        assert_eq!(none.render("%{http_code}"), "000");
    }

    #[test]
    fn json_holds_every_variable_with_its_type() {
        let v: serde_json::Value = serde_json::from_str(&sample().render("%{json}")).unwrap();
        for name in VARIABLES {
            assert!(v.get(name).is_some(), "{name} missing in {v}");
        }
        assert_eq!(v["http_code"], 200);
        assert_eq!(v["time_total"], 1.5);
        assert_eq!(v["url_effective"], "http://x/\"q\"");
    }

    #[test]
    fn unknown_variables_are_usage_errors() {
        assert!(check_format("%{http_code} %{json}").is_ok());
        assert!(check_format("%{nope}").is_err());
        assert!(check_format("%{http_code").is_err());
    }
}
