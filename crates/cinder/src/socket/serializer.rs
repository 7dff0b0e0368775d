//! The Phoenix Channels V2 serializer (`vsn=2.0.0`): how frames on the
//! socket map to messages.
//!
//! A text frame is a JSON array `[join_ref, ref, topic, event, payload]`. A
//! binary frame (sent by the client only for upload chunks) carries the same
//! fields as length-prefixed strings followed by raw bytes. Payloads are kept
//! as raw JSON until a handler asks for a type, so routing a message never
//! parses its payload twice.
//!
//! ```
//! use cinder::socket::serializer::{decode_text, encode_reply, Payload, ReplyStatus};
//!
//! let message = decode_text(r#"[null,"5","phoenix","heartbeat",{}]"#).unwrap();
//! assert_eq!((message.topic.as_str(), message.event.as_str()), ("phoenix", "heartbeat"));
//! let reply = encode_reply(None, message.msg_ref.as_deref(), &message.topic, ReplyStatus::Ok, "{}");
//! assert_eq!(reply, r#"[null,"5","phoenix","phx_reply",{"status":"ok","response":{}}]"#);
//! ```

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::escape::json_string;

/// A message from the client.
#[derive(Debug, PartialEq)]
pub struct Inbound {
    /// The join this message belongs to (`null` for the `phoenix` topic).
    pub join_ref: Option<String>,
    /// The message's reference, echoed in the reply.
    pub msg_ref: Option<String>,
    /// The channel topic, such as `lv:phx-…` or `phoenix`.
    pub topic: String,
    /// The event name, such as `phx_join`, `event` or `heartbeat`.
    pub event: String,
    /// The payload.
    pub payload: Payload,
}

/// A message's payload: JSON text, or bytes from a binary frame.
#[derive(Debug)]
pub enum Payload {
    /// Raw JSON, parsed when a handler asks for a type.
    Json(Box<RawValue>),
    /// Bytes of a binary frame (upload chunks).
    Binary(Vec<u8>),
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Payload::Json(a), Payload::Json(b)) => a.get() == b.get(),
            (Payload::Binary(a), Payload::Binary(b)) => a == b,
            _ => false,
        }
    }
}

/// Why a frame could not be read. The connection that sent it is closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A text frame that is not `[join_ref, ref, topic, event, payload]`.
    #[error("a text frame must be a JSON array [join_ref, ref, topic, event, payload]: {0}")]
    Text(String),
    /// A binary frame shorter than its header says, or of an unknown kind.
    #[error("malformed binary frame: {0}")]
    Binary(&'static str),
}

#[derive(Deserialize)]
struct TextFrame(
    Option<String>,
    Option<String>,
    String,
    String,
    Box<RawValue>,
);

/// Reads a text frame.
pub fn decode_text(text: &str) -> Result<Inbound, FrameError> {
    if let Some(inbound) = decode_plain_text(text) {
        return Ok(inbound);
    }
    let TextFrame(join_ref, msg_ref, topic, event, payload) =
        serde_json::from_str(text).map_err(|error| FrameError::Text(error.to_string()))?;
    Ok(Inbound {
        join_ref,
        msg_ref,
        topic,
        event,
        payload: Payload::Json(payload),
    })
}

/// [`decode_text`] of a frame as the client writes them: see
/// [`PlainFrame`]. The payload is checked as JSON as a whole. `None` for
/// any other frame, which the general reader then reads, or refuses with
/// its reason.
fn decode_plain_text(text: &str) -> Option<Inbound> {
    let frame = PlainFrame::read(text)?;
    // The general reader keeps a payload without the spaces around it.
    if frame.payload.trim().len() != frame.payload.len() {
        return None;
    }
    let payload = RawValue::from_string(frame.payload.to_owned()).ok()?;
    Some(Inbound {
        join_ref: frame.join_ref.map(str::to_owned),
        msg_ref: frame.msg_ref.map(str::to_owned),
        topic: frame.topic.to_owned(),
        event: frame.event.to_owned(),
        payload: Payload::Json(payload),
    })
}

/// A text frame read in place, without a JSON reader, as the official
/// client and Cinder write frames: refs, topic and event are strings
/// without escapes or control characters (or `null` refs), with nothing
/// between the fields but commas. The payload is the text between the
/// event and the closing bracket, unchecked.
///
/// ```
/// use cinder::socket::serializer::PlainFrame;
///
/// let frame = PlainFrame::read(r#"["1",null,"lv:phx-A1","diff",{"0":"2"}]"#).unwrap();
/// assert_eq!((frame.join_ref, frame.msg_ref), (Some("1"), None));
/// assert_eq!((frame.topic, frame.event, frame.payload), ("lv:phx-A1", "diff", r#"{"0":"2"}"#));
/// // Escapes or spaces in the head need a JSON reader.
/// assert!(PlainFrame::read(r#"["1", null,"lv:phx-A1","diff",{}]"#).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlainFrame<'a> {
    /// The join reference, if not `null`.
    pub join_ref: Option<&'a str>,
    /// The message reference, if not `null`.
    pub msg_ref: Option<&'a str>,
    /// The topic.
    pub topic: &'a str,
    /// The event.
    pub event: &'a str,
    /// The payload's text, not checked as JSON.
    pub payload: &'a str,
}

impl<'a> PlainFrame<'a> {
    /// Reads `text`; `None` for a frame of any other shape.
    pub fn read(text: &'a str) -> Option<PlainFrame<'a>> {
        let mut head = text.strip_prefix('[')?;
        let join_ref = plain_optional_field(&mut head)?;
        let msg_ref = plain_optional_field(&mut head)?;
        let topic = plain_field(&mut head)?;
        let event = plain_field(&mut head)?;
        let payload = head.strip_suffix(']')?;
        Some(PlainFrame {
            join_ref,
            msg_ref,
            topic,
            event,
            payload,
        })
    }
}

/// A field of the head that may be `null`, and the comma after it.
fn plain_optional_field<'a>(head: &mut &'a str) -> Option<Option<&'a str>> {
    if let Some(rest) = head.strip_prefix("null,") {
        *head = rest;
        return Some(None);
    }
    plain_field(head).map(Some)
}

/// A string field of the head without escapes or control characters, and
/// the comma after it.
fn plain_field<'a>(head: &mut &'a str) -> Option<&'a str> {
    let rest = head.strip_prefix('"')?;
    let end = rest
        .bytes()
        .position(|byte| byte == b'"' || byte == b'\\' || byte < 0x20)?;
    let (field, after) = rest.split_at(end);
    *head = after.strip_prefix("\",")?;
    Some(field)
}

/// The kind byte of a client push in a binary frame.
const PUSH: u8 = 0;
const REPLY: u8 = 1;
const BROADCAST: u8 = 2;

/// Reads a binary frame: `0 | join_ref_len | ref_len | topic_len | event_len |
/// join_ref | ref | topic | event | data`.
pub fn decode_binary(bytes: &[u8]) -> Result<Inbound, FrameError> {
    let (&kind, rest) = bytes
        .split_first()
        .ok_or(FrameError::Binary("empty frame"))?;
    if kind != PUSH {
        return Err(FrameError::Binary("clients may only send pushes"));
    }
    let lengths = rest
        .get(..4)
        .ok_or(FrameError::Binary("header too short"))?;
    let mut rest = &rest[4..];
    let mut field = |length: u8| -> Result<String, FrameError> {
        let length = usize::from(length);
        let text = rest
            .get(..length)
            .ok_or(FrameError::Binary("field longer than the frame"))?;
        rest = &rest[length..];
        String::from_utf8(text.to_vec()).map_err(|_| FrameError::Binary("field is not UTF-8"))
    };
    let join_ref = field(lengths[0])?;
    let msg_ref = field(lengths[1])?;
    let topic = field(lengths[2])?;
    let event = field(lengths[3])?;
    Ok(Inbound {
        join_ref: Some(join_ref).filter(|r| !r.is_empty()),
        msg_ref: Some(msg_ref).filter(|r| !r.is_empty()),
        topic,
        event,
        payload: Payload::Binary(rest.to_vec()),
    })
}

/// The status of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyStatus {
    /// `"ok"`.
    Ok,
    /// `"error"`.
    Error,
}

impl ReplyStatus {
    fn as_str(self) -> &'static str {
        match self {
            ReplyStatus::Ok => "ok",
            ReplyStatus::Error => "error",
        }
    }
}

/// A reply: `[join_ref, ref, topic, "phx_reply", {"status": …, "response": …}]`.
/// `response` must be JSON text.
pub fn encode_reply(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    status: ReplyStatus,
    response: &str,
) -> String {
    encode_reply_parts(join_ref, msg_ref, topic, status, &[response])
}

/// A reply whose response is the JSON text `response` holds in parts, put
/// together in the frame itself.
pub(crate) fn encode_reply_parts(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    status: ReplyStatus,
    response: &[&str],
) -> String {
    let len: usize = response.iter().map(|part| part.len()).sum();
    let mut frame = header(join_ref, msg_ref, topic, "phx_reply", 32 + len);
    frame.push_str(r#"{"status":""#);
    frame.push_str(status.as_str());
    frame.push_str(r#"","response":"#);
    for part in response {
        frame.push_str(part);
    }
    frame.push_str("}]");
    frame
}

/// A server push: `[join_ref, null, topic, event, payload]`. `payload` must be JSON text.
pub fn encode_push(join_ref: Option<&str>, topic: &str, event: &str, payload: &str) -> String {
    encode(join_ref, None, topic, event, payload)
}

/// Any message: `[join_ref, ref, topic, event, payload]`. `payload` must be JSON text.
/// (`phx_close` and `phx_error` carry the join_ref as their ref too.)
pub fn encode(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    event: &str,
    payload: &str,
) -> String {
    let mut frame = header(join_ref, msg_ref, topic, event, payload.len());
    frame.push_str(payload);
    frame.push(']');
    frame
}

/// `[join_ref, ref, topic, event,` with room for `extra` more bytes.
fn header(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    event: &str,
    extra: usize,
) -> String {
    let mut frame = String::with_capacity(32 + topic.len() + event.len() + extra);
    frame.push('[');
    push_optional(&mut frame, join_ref);
    frame.push(',');
    push_optional(&mut frame, msg_ref);
    frame.push(',');
    json_string(&mut frame, topic);
    frame.push(',');
    json_string(&mut frame, event);
    frame.push(',');
    frame
}

/// A binary server push: `0 | join_ref_len | topic_len | event_len | join_ref | topic | event | data`.
///
/// # Panics
/// If a field is longer than 255 bytes, which the format cannot express.
pub fn encode_binary_push(
    join_ref: Option<&str>,
    topic: &str,
    event: &str,
    data: &[u8],
) -> Vec<u8> {
    binary(PUSH, &[join_ref.unwrap_or(""), topic, event], data)
}

/// A binary reply: `1 | join_ref_len | ref_len | topic_len | status_len | join_ref | ref | topic | status | data`.
///
/// # Panics
/// If a field is longer than 255 bytes.
pub fn encode_binary_reply(
    join_ref: Option<&str>,
    msg_ref: &str,
    topic: &str,
    status: ReplyStatus,
    data: &[u8],
) -> Vec<u8> {
    binary(
        REPLY,
        &[join_ref.unwrap_or(""), msg_ref, topic, status.as_str()],
        data,
    )
}

/// A binary broadcast: `2 | topic_len | event_len | topic | event | data`.
///
/// # Panics
/// If a field is longer than 255 bytes.
pub fn encode_binary_broadcast(topic: &str, event: &str, data: &[u8]) -> Vec<u8> {
    binary(BROADCAST, &[topic, event], data)
}

fn binary(kind: u8, fields: &[&str], data: &[u8]) -> Vec<u8> {
    let header: usize = fields.iter().map(|f| f.len()).sum();
    let mut frame = Vec::with_capacity(1 + fields.len() + header + data.len());
    frame.push(kind);
    for field in fields {
        frame.push(u8::try_from(field.len()).expect("binary frame fields are at most 255 bytes"));
    }
    for field in fields {
        frame.extend_from_slice(field.as_bytes());
    }
    frame.extend_from_slice(data);
    frame
}

fn push_optional(frame: &mut String, value: Option<&str>) {
    match value {
        Some(value) => json_string(frame, value),
        None => frame.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Payload {
        Payload::Json(RawValue::from_string(json.to_string()).unwrap())
    }

    #[test]
    fn a_join_decodes_with_its_payload_untouched() {
        let frame = r#"["3","3","lv:phx-GBs","phx_join",{"url":"http://localhost/","params":{"_mounts":0}}]"#;
        assert_eq!(
            decode_text(frame).unwrap(),
            Inbound {
                join_ref: Some("3".into()),
                msg_ref: Some("3".into()),
                topic: "lv:phx-GBs".into(),
                event: "phx_join".into(),
                payload: raw(r#"{"url":"http://localhost/","params":{"_mounts":0}}"#),
            }
        );
    }

    /// Frames with escapes, spaces or `null`s in their head are read by
    /// the general reader; every frame reads the same either way.
    #[test]
    fn frames_read_alike_with_or_without_escapes() {
        let frames = [
            r#"["3","3","lv:phx-GBs","event",{"type":"click","event":"inc","value":{}}]"#,
            r#"[null,"5","phoenix","heartbeat",{}]"#,
            r#"[null,null,"phoenix","heartbeat",{}]"#,
            r#"["3","4","lv:x","event", {} ]"#,
            r#"[ "3" , "4" , "lv:x" , "event" , { "a" : [1, 2] } ]"#,
            r#"["3","4","lv:\u0078","ev\"ent",{}]"#,
            r#"["3","4","lv:x","event","text"]"#,
            r#"["3","4","lv:x","event",null]"#,
        ];
        for frame in frames {
            let TextFrame(join_ref, msg_ref, topic, event, payload) =
                serde_json::from_str(frame).unwrap();
            let read = decode_text(frame).unwrap();
            assert_eq!(read.join_ref, join_ref, "{frame}");
            assert_eq!(read.msg_ref, msg_ref, "{frame}");
            assert_eq!(read.topic, topic, "{frame}");
            assert_eq!(read.event, event, "{frame}");
            assert_eq!(read.payload, Payload::Json(payload), "{frame}");
        }
        assert!(decode_plain_text(frames[0]).is_some());
        assert!(decode_plain_text(frames[5]).is_none());
    }

    /// A head that looks plain but whose payload is not JSON, or which has
    /// more fields, is refused as the general reader refuses it.
    #[test]
    fn plain_frames_with_bad_payloads_are_refused() {
        for frame in [
            r#"["3","4","lv:x","event",{]"#,
            r#"["3","4","lv:x","event",{}],[]"#,
            r#"["3","4","lv:x","event",{},{}]"#,
            r#"["3","4","lv:x","event",]"#,
            "[\"3\",\"4\",\"lv:\u{1}\",\"event\",{}]",
        ] {
            assert!(
                matches!(decode_text(frame), Err(FrameError::Text(_))),
                "{frame}"
            );
        }
    }

    #[test]
    fn malformed_text_frames_say_what_is_expected() {
        for frame in [
            "",
            "{}",
            "[1,2,3]",
            r#"[null,null,"t","e"]"#,
            r#"[null,null,5,"e",{}]"#,
            "[null,null,\"t\",\"e\",{}",
        ] {
            let error = decode_text(frame).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("[join_ref, ref, topic, event, payload]"),
                "{frame}: {error}"
            );
        }
    }

    #[test]
    fn replies_and_pushes_match_the_client_format() {
        let (join_ref, msg_ref, topic) = (Some("3"), Some("4"), "lv:phx-GBs");
        let parts = [r#"{"diff":"#, r#"{"3":"1"}"#, "}"];
        let whole = encode_reply(join_ref, msg_ref, topic, ReplyStatus::Ok, &parts.concat());
        assert_eq!(
            whole,
            r#"["3","4","lv:phx-GBs","phx_reply",{"status":"ok","response":{"diff":{"3":"1"}}}]"#
        );
        let in_parts = encode_reply_parts(join_ref, msg_ref, topic, ReplyStatus::Ok, &parts);
        assert_eq!(in_parts, whole);
        assert_eq!(
            encode_reply(
                Some("3"),
                Some("3"),
                "lv:x",
                ReplyStatus::Error,
                r#"{"reason":"stale"}"#
            ),
            r#"["3","3","lv:x","phx_reply",{"status":"error","response":{"reason":"stale"}}]"#
        );
        assert_eq!(
            encode_push(Some("3"), "lv:phx-GBs", "diff", r#"{"3":"2"}"#),
            r#"["3",null,"lv:phx-GBs","diff",{"3":"2"}]"#
        );
        assert_eq!(
            encode_push(None, "t\"q", "e", "{}"),
            r#"[null,null,"t\"q","e",{}]"#
        );
    }

    #[test]
    fn a_binary_chunk_decodes() {
        let mut frame = vec![0, 2, 2, 7, 5];
        frame.extend_from_slice(b"1213lvu:abcchunk");
        frame.extend_from_slice(&[0xff, 0x00, 0x7f]);
        assert_eq!(
            decode_binary(&frame).unwrap(),
            Inbound {
                join_ref: Some("12".into()),
                msg_ref: Some("13".into()),
                topic: "lvu:abc".into(),
                event: "chunk".into(),
                payload: Payload::Binary(vec![0xff, 0x00, 0x7f]),
            }
        );
    }

    #[test]
    fn malformed_binary_frames_are_refused() {
        let cases: [&[u8]; 5] = [
            &[],
            &[1, 0, 0, 0, 0],
            &[0, 1, 1],
            &[0, 5, 0, 0, 0, b'a'],
            &[0, 1, 0, 0, 0, 0xff],
        ];
        for frame in cases {
            assert!(decode_binary(frame).is_err(), "{frame:?}");
        }
    }

    #[test]
    fn binary_server_frames_follow_the_header_layout() {
        assert_eq!(
            encode_binary_push(Some("1"), "t", "e", &[9]),
            [0, 1, 1, 1, b'1', b't', b'e', 9]
        );
        assert_eq!(
            encode_binary_reply(Some("1"), "2", "t", ReplyStatus::Ok, &[9]),
            [1, 1, 1, 1, 2, b'1', b'2', b't', b'o', b'k', 9]
        );
        assert_eq!(
            encode_binary_broadcast("t", "e", &[]),
            [2, 1, 1, b't', b'e']
        );
    }
}
