//! The line mode of the inspector: run a [`Codec`] over raw bytes.

use super::InspectEvent;
use crate::line::{Codec, Config, LineEvent};

/// Runs a line [`Codec`] over `input`, fed `chunk` bytes at a time (0 means all at once), then
/// end of stream, and returns what it reported: [`InspectEvent::Line`],
/// [`InspectEvent::TooLong`], [`InspectEvent::Eof`] last, and in telnet mode
/// [`InspectEvent::Reply`] for each refusal the codec would send (`IAC WONT x`, `IAC DONT x`).
///
/// The result does not depend on `chunk`. Lines and too-long reports come out of the codec in
/// an order that no split can change. Replies are tied to input positions: each read is also cut
/// after every LF byte, and the replies gathered so far are reported just before the next line
/// (or the end), so a reply appears before the line in which its command was sent.
///
/// ```
/// use portline_core::inspect::{InspectEvent, line_events};
/// use portline_core::line::{Config, TelnetMode};
///
/// let config = Config { max_line: 3, telnet: TelnetMode::Auto };
/// let events = line_events(b"ok\r\ntoolong\n\xff\xfd\x01x\nend", 2, &config);
/// let json: Vec<String> = events.iter().map(InspectEvent::to_json_line).collect();
/// assert_eq!(json, [
///     r#"{"event":"line","text":"ok"}"#,
///     r#"{"event":"too_long","dropped":4}"#,
///     r#"{"event":"reply","hex":"fffc01"}"#,
///     r#"{"event":"line","text":"x"}"#,
///     r#"{"event":"eof","unterminated":"end"}"#,
/// ]);
/// ```
pub fn line_events(input: &[u8], chunk: usize, config: &Config) -> Vec<InspectEvent> {
    let mut codec = Codec::new(*config);
    let mut events = Vec::new();
    let mut replies = Vec::new();
    let step = if chunk == 0 {
        input.len().max(1)
    } else {
        chunk
    };
    for piece in input.chunks(step) {
        for part in piece.split_inclusive(|b| *b == b'\n') {
            codec.receive(part);
            codec.poll_transmit(&mut replies);
            drain(&mut codec, &mut replies, &mut events);
        }
    }
    codec.receive_eof();
    drain(&mut codec, &mut replies, &mut events);
    events
}

/// Move the codec's events to `events`, reporting the pending replies before each line and the
/// end.
fn drain(codec: &mut Codec, replies: &mut Vec<u8>, events: &mut Vec<InspectEvent>) {
    while let Some(event) = codec.poll_event() {
        match event {
            LineEvent::TooLong { dropped } => events.push(InspectEvent::TooLong { dropped }),
            LineEvent::Line(line) => {
                flush(replies, events);
                events.push(InspectEvent::Line(line.to_vec()));
            }
            LineEvent::Eof { unterminated } => {
                flush(replies, events);
                events.push(InspectEvent::Eof {
                    unterminated: unterminated.map(|l| l.to_vec()),
                });
            }
        }
    }
}

/// One [`InspectEvent::Reply`] per three-byte refusal.
fn flush(replies: &mut Vec<u8>, events: &mut Vec<InspectEvent>) {
    for reply in replies.chunks(3) {
        events.push(InspectEvent::Reply(reply.to_vec()));
    }
    replies.clear();
}
