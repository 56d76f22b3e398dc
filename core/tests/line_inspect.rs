//! The line mode of the inspector (the `parse line` tool): its JSON lines, and that they do not
//! depend on how the input is chunked.

use portline_core::inspect::{InspectEvent, line_events};
use portline_core::line::{Config, TelnetMode};
use proptest::prelude::*;

fn json(input: &[u8], chunk: usize, max_line: usize, telnet: TelnetMode) -> Vec<String> {
    line_events(input, chunk, &Config { max_line, telnet })
        .iter()
        .map(InspectEvent::to_json_line)
        .collect()
}

#[test]
fn json_lines() {
    let cases: &[(&[u8], usize, TelnetMode, &[&str])] = &[
        (
            b"a\r\nb \"q\"\tc\n",
            16,
            TelnetMode::Off,
            &[
                r#"{"event":"line","text":"a"}"#,
                r#"{"event":"line","text":"b \"q\"\tc"}"#,
                r#"{"event":"eof","unterminated":null}"#,
            ],
        ),
        (
            b"0123456789\nshort\nlast",
            5,
            TelnetMode::Off,
            &[
                r#"{"event":"too_long","dropped":6}"#,
                r#"{"event":"line","text":"short"}"#,
                r#"{"event":"eof","unterminated":"last"}"#,
            ],
        ),
        (
            b"",
            5,
            TelnetMode::Off,
            &[r#"{"event":"eof","unterminated":null}"#],
        ),
        (
            b"\xff\xfd\x01\xff\xfb\x03hi\r\n\xff\xfd\x18",
            16,
            TelnetMode::On,
            &[
                r#"{"event":"reply","hex":"fffc01"}"#,
                r#"{"event":"reply","hex":"fffe03"}"#,
                r#"{"event":"line","text":"hi"}"#,
                r#"{"event":"reply","hex":"fffc18"}"#,
                r#"{"event":"eof","unterminated":null}"#,
            ],
        ),
        (
            // Without telnet the same bytes are data (lossy UTF-8 in the JSON).
            b"\xff\xfd\x01\n",
            16,
            TelnetMode::Off,
            &[
                "{\"event\":\"line\",\"text\":\"\u{fffd}\u{fffd}\\u0001\"}",
                r#"{"event":"eof","unterminated":null}"#,
            ],
        ),
    ];
    for (input, max_line, telnet, want) in cases {
        for chunk in [0, 1, 2, 3, 7] {
            assert_eq!(
                json(input, chunk, *max_line, *telnet),
                *want,
                "{input:?} chunk {chunk}"
            );
        }
    }
}

/// Bytes biased towards LF, CR, NUL and telnet commands.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => b'a'..=b'e',
        2 => Just(b'\n'),
        1 => Just(b'\r'),
        1 => Just(0u8),
        2 => Just(0xffu8),
        2 => 0xf0u8..=0xfe,
        1 => any::<u8>(),
    ];
    proptest::collection::vec(byte, 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn output_does_not_depend_on_chunk(
        input in stream(),
        chunk in 1usize..40,
        max_line in 0usize..20,
        mode in 0u8..3,
    ) {
        let telnet = [TelnetMode::Off, TelnetMode::Auto, TelnetMode::On][usize::from(mode)];
        let whole = json(&input, 0, max_line, telnet);
        prop_assert_eq!(json(&input, chunk, max_line, telnet), whole.clone());
        prop_assert_eq!(json(&input, 1, max_line, telnet), whole.clone());
        let eof = r#"{"event":"eof""#;
        prop_assert!(whole.last().unwrap().starts_with(eof), "last is not eof");
        for line in &whole {
            prop_assert!(serde_json::from_str::<serde_json::Value>(line).is_ok(), "{}", line);
        }
    }
}
