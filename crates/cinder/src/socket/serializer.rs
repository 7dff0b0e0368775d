//! The Phoenix Channels V2 serializer (`vsn=2.0.0`): how frames on the
//! socket map to messages.
//!
//! A text frame is a JSON array `[join_ref, ref, topic, event, payload]`. A
//! binary frame (sent by the client only for upload chunks) carries the same
//! fields as length-prefixed strings followed by raw bytes. A message keeps
//! its strings in one buffer and its payload as the JSON text the client
//! sent: the socket checks only that the frame is an array of five, and the
//! payload's handler reads it, which checks the rest of its JSON, once.
//!
//! ```
//! use cinder::socket::serializer::{decode_text, encode_reply, Payload, ReplyStatus};
//!
//! let message = decode_text(r#"[null,"5","phoenix","heartbeat",{}]"#).unwrap();
//! assert_eq!((message.topic(), message.event()), ("phoenix", "heartbeat"));
//! assert_eq!(message.payload(), Payload::Json("{}"));
//! let reply = encode_reply(None, message.msg_ref(), message.topic(), ReplyStatus::Ok, "{}");
//! assert_eq!(reply, r#"[null,"5","phoenix","phx_reply",{"status":"ok","response":{}}]"#);
//! ```

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::escape::{json_escape_at, json_string, quote_or_backslash};
use crate::live::event::{plain_event, KnownKind, PlainEvent};
use crate::socket::websocket::RoomyText;

/// A message from the client: its strings, kept in one buffer, and its
/// payload.
#[derive(Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The strings the spans below point into. For a text frame the
    /// client writes, the frame itself. Shared: an event keeps its name
    /// and value where they lie in it.
    text: Arc<str>,
    join_ref: Option<Span>,
    msg_ref: Option<Span>,
    topic: Span,
    event: Span,
    body: Body,
}

/// Where a string lies in an [`Inbound`]'s buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

#[derive(Clone, PartialEq, Eq)]
enum Body {
    Json(Span),
    /// An `event` message whose payload the socket read as a
    /// [`PlainEvent`] while checking the frame, so that the channel does
    /// not read it again. The payload is the frame's text between the
    /// event's name and the closing bracket, as [`PlainFrame`] reads it.
    Event(EventFields),
    Binary(Box<[u8]>),
}

/// Where a [`PlainEvent`]'s fields lie in its frame, and its kind. As
/// small as the other bodies, so that a message is no larger for it: every
/// message a process can receive takes the room of the largest in its
/// mailbox, and in the futures that hold it. An empty span stands for no
/// value, [`NO_CID`] for no cid, and the kind is one byte, whose values
/// left over tell the other bodies apart.
#[derive(Clone, Copy, PartialEq, Eq)]
struct EventFields {
    name: Span,
    value: Span,
    cid: u32,
    kind: KnownKind,
}

/// [`EventFields`]' cid when the event has none. An event aimed at the
/// component with this very cid is read by the channel instead.
const NO_CID: u32 = u32::MAX;

/// A message's payload, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload<'a> {
    /// The JSON text the client sent. The socket checks it only as far as
    /// the frame needs (its brackets and strings close), so read it, with
    /// `serde_json::from_str` for example, before using it or writing it
    /// anywhere; a text that does not read is a malformed payload.
    Json(&'a str),
    /// Bytes of a binary frame (upload chunks).
    Binary(&'a [u8]),
}

impl Inbound {
    /// The join this message belongs to (`None` for the `phoenix` topic).
    pub fn join_ref(&self) -> Option<&str> {
        self.join_ref.map(|span| self.get(span))
    }

    /// The message's reference, echoed in the reply.
    pub fn msg_ref(&self) -> Option<&str> {
        self.msg_ref.map(|span| self.get(span))
    }

    /// The channel topic, such as `lv:phx-…` or `phoenix`.
    pub fn topic(&self) -> &str {
        self.get(self.topic)
    }

    /// The event name, such as `phx_join`, `event` or `heartbeat`.
    pub fn event(&self) -> &str {
        self.get(self.event)
    }

    /// The payload.
    pub fn payload(&self) -> Payload<'_> {
        match &self.body {
            Body::Json(span) => Payload::Json(self.get(*span)),
            // After the event's closing quote and comma, before the
            // frame's closing bracket.
            Body::Event(_) => {
                Payload::Json(self.get(span(self.event.end as usize + 2, self.text.len() - 1)))
            }
            Body::Binary(bytes) => Payload::Binary(bytes),
        }
    }

    /// The payload of an `event` message as [`plain_event`] reads it, when
    /// the socket read it so while checking the frame.
    pub(crate) fn plain_event(&self) -> Option<PlainEvent<'_>> {
        let Body::Event(fields) = &self.body else {
            return None;
        };
        Some(PlainEvent {
            kind: fields.kind.as_str(),
            name: self.get(fields.name),
            value: Some(fields.value)
                .filter(|value| value.start != value.end)
                .map(|value| self.get(value)),
            cid: Some(fields.cid).filter(|&cid| cid != NO_CID),
        })
    }

    /// The payload read as JSON: `null` for a binary payload or a text
    /// that does not read, which a handler then treats as one of the wrong
    /// shape.
    pub fn payload_value(&self) -> serde_json::Value {
        match self.payload() {
            Payload::Json(json) => serde_json::from_str(json).unwrap_or_default(),
            Payload::Binary(_) => serde_json::Value::Null,
        }
    }

    fn get(&self, span: Span) -> &str {
        &self.text[span.start as usize..span.end as usize]
    }

    /// The text every string of the message lies in, to keep some of
    /// them without a copy.
    pub(crate) fn shared_text(&self) -> &Arc<str> {
        &self.text
    }
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbound")
            .field("join_ref", &self.join_ref())
            .field("msg_ref", &self.msg_ref())
            .field("topic", &self.topic())
            .field("event", &self.event())
            .field("payload", &self.payload())
            .finish()
    }
}

/// Puts an [`Inbound`]'s strings together, one after another, in one
/// buffer: the frames that are not [`PlainFrame`]s.
struct InboundBuilder {
    text: String,
}

impl InboundBuilder {
    fn with_capacity(capacity: usize) -> Self {
        InboundBuilder {
            text: String::with_capacity(capacity),
        }
    }

    fn push(&mut self, field: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(field);
        span(start, self.text.len())
    }

    fn finish(
        self,
        [join_ref, msg_ref]: [Option<Span>; 2],
        [topic, event]: [Span; 2],
        body: Body,
    ) -> Inbound {
        Inbound {
            text: self.text.into(),
            join_ref,
            msg_ref,
            topic,
            event,
            body,
        }
    }
}

/// The span from `start` to `end`. Frames are read from a WebSocket whose
/// messages are far shorter than 4 GiB, so both fit in a `u32`.
fn span(start: usize, end: usize) -> Span {
    let narrow = |at: usize| u32::try_from(at).expect("a frame is shorter than 4 GiB");
    Span {
        start: narrow(start),
        end: narrow(end),
    }
}

/// Where `field`, a slice of `text`, lies in it: a frame's fields are read
/// in place, and kept as ranges of the frame.
pub(crate) fn range_in(text: &str, field: &str) -> std::ops::Range<usize> {
    let start = field.as_ptr() as usize - text.as_ptr() as usize;
    debug_assert!(start + field.len() <= text.len(), "a slice of the text");
    start..start + field.len()
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

/// A text frame as the general reader reads it: any frame the format
/// allows, with escapes and spaces.
#[derive(Deserialize)]
struct TextFrame<'a>(
    Option<String>,
    Option<String>,
    String,
    String,
    #[serde(borrow)] &'a RawValue,
);

/// The longest text frame read: a message's strings are kept at offsets
/// that fit in 32 bits.
const MAX_TEXT_FRAME: usize = u32::MAX as usize;

/// Reads a text frame.
pub fn decode_text(text: &str) -> Result<Inbound, FrameError> {
    if text.len() > MAX_TEXT_FRAME {
        return Err(FrameError::Text("the frame is longer than 4 GiB".into()));
    }
    if let Some(inbound) = decode_plain_text(text) {
        return Ok(inbound);
    }
    let TextFrame(join_ref, msg_ref, topic, event, payload) =
        serde_json::from_str(text).map_err(|error| FrameError::Text(error.to_string()))?;
    let mut builder = InboundBuilder::with_capacity(text.len());
    let refs = [join_ref, msg_ref].map(|field| field.map(|field| builder.push(&field)));
    let names = [topic, event].map(|field| builder.push(&field));
    let payload = builder.push(payload.get());
    Ok(builder.finish(refs, names, Body::Json(payload)))
}

/// [`decode_text`] of a frame as the client writes them: see
/// [`PlainFrame`]. Its payload must be an `event` message that
/// [`plain_event`] reads, or an object or array that
/// [`closes_where_it_ends`] says is whole; the frame is kept as it is, its
/// fields where they lie in it. `None` for any other frame, which the
/// general reader then reads, or refuses with its reason.
fn decode_plain_text(text: &str) -> Option<Inbound> {
    let frame = PlainFrame::read(text)?;
    let at = |field: &str| {
        let at = range_in(text, field);
        span(at.start, at.end)
    };
    // An event's payload read whole as one object is one value: its
    // reading checks the frame, and is kept for the channel.
    let body = match plain_event_of(&frame) {
        Some((event, kind)) => Body::Event(EventFields {
            name: at(event.name),
            value: event.value.map_or(span(0, 0), at),
            cid: event.cid.unwrap_or(NO_CID),
            kind,
        }),
        None if closes_where_it_ends(frame.payload) => Body::Json(at(frame.payload)),
        None => return None,
    };
    Some(Inbound {
        join_ref: frame.join_ref.map(at),
        msg_ref: frame.msg_ref.map(at),
        topic: at(frame.topic),
        event: at(frame.event),
        body,
        text: text.into(),
    })
}

/// The payload of a frame's `event` message read by [`plain_event`], and
/// its kind, when it is an object from its first byte to its last, as the
/// client writes it, of a known kind; `None` for any other frame, whose
/// payload the socket then checks.
fn plain_event_of<'a>(frame: &PlainFrame<'a>) -> Option<(PlainEvent<'a>, KnownKind)> {
    let payload = frame.payload.as_bytes();
    let object = payload.first() == Some(&b'{') && payload.last() == Some(&b'}');
    let event = (frame.event == "event" && object).then(|| plain_event(frame.payload))??;
    // A value is never empty text, and the one cid kept apart is read by
    // the channel.
    let kind = KnownKind::of(event.kind).filter(|_| event.cid != Some(NO_CID))?;
    Some((event, kind))
}

/// Whether `json` is one object or array whose brackets pair up and whose
/// strings close, with nothing after it: what makes a plain frame an
/// array of five. The rest of its JSON (literals, numbers, commas, colons,
/// escapes) is checked by whoever reads it. `false` also for nesting deeper
/// than 64, which the general reader then reads.
fn closes_where_it_ends(json: &str) -> bool {
    bracketed_end(json.as_bytes()) == Some(json.len())
}

/// Where the object or array that `bytes` starts with ends: the index just
/// past its closing bracket, when its brackets pair up and its strings close
/// within 64 levels of nesting; `None` otherwise.
pub(crate) fn bracketed_end(bytes: &[u8]) -> Option<usize> {
    if !matches!(bytes.first(), Some(b'{' | b'[')) {
        return None;
    }
    // One bit per open bracket, innermost lowest: 1 for `{`, 0 for `[`.
    let mut open: u64 = 0;
    let mut depth = 0u32;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => at = string_end(bytes, at + 1)?,
            byte @ (b'{' | b'[') => {
                if depth == 64 {
                    return None;
                }
                open = open << 1 | u64::from(byte == b'{');
                depth += 1;
            }
            byte @ (b'}' | b']') => {
                // `depth` is at least one here: the text starts with a
                // bracket, and the scan ends when its pair closes it.
                if (open & 1 == 1) != (byte == b'}') {
                    return None;
                }
                open >>= 1;
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// Where the string whose text starts at `from` ends: the index of its
/// closing quote, past any escaped character.
pub(crate) fn string_end(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let stop = from + quote_or_backslash(&bytes[from..])?;
        if bytes[stop] == b'"' {
            return Some(stop);
        }
        from = stop + 2;
        if from > bytes.len() {
            return None;
        }
    }
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
    let (field, after) = rest.split_at(plain_string_len(rest.as_bytes())?);
    *head = after.strip_prefix("\",")?;
    Some(field)
}

/// The length of a string's text, whose opening quote is read, up to its
/// closing quote: when it holds neither an escape nor a control character,
/// as the names and refs a client writes do; `None` otherwise.
pub(crate) fn plain_string_len(text: &[u8]) -> Option<usize> {
    let end = json_escape_at(text)?;
    (text[end] == b'"').then_some(end)
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
    let mut builder = InboundBuilder::with_capacity(lengths.iter().map(|&l| usize::from(l)).sum());
    let mut fields = [span(0, 0); 4];
    for (field, &length) in fields.iter_mut().zip(lengths) {
        let length = usize::from(length);
        let text = rest
            .get(..length)
            .ok_or(FrameError::Binary("field longer than the frame"))?;
        rest = &rest[length..];
        let text =
            std::str::from_utf8(text).map_err(|_| FrameError::Binary("field is not UTF-8"))?;
        *field = builder.push(text);
    }
    let [join_ref, msg_ref, topic, event] = fields;
    // An empty ref is an absent one.
    let refs = [join_ref, msg_ref].map(|field| Some(field).filter(|span| span.start < span.end));
    Ok(builder.finish(refs, [topic, event], Body::Binary(rest.into())))
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

    /// A reply's payload up to its response, `{"status":"ok","response":`,
    /// written as one piece.
    fn payload_head(self) -> &'static str {
        match self {
            ReplyStatus::Ok => r#"{"status":"ok","response":"#,
            ReplyStatus::Error => r#"{"status":"error","response":"#,
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
    push_reply_payload(&mut frame, status, response);
    frame
}

/// [`encode_reply_parts`] for a channel, whose join_ref and topic are
/// kept written as JSON strings (see [`JsonName`]): they are copied, not
/// escaped again for each reply.
pub(crate) fn encode_channel_reply(
    name: JsonName<'_>,
    msg_ref: Option<&str>,
    status: ReplyStatus,
    response: &[&str],
) -> RoomyText {
    let len: usize = response.iter().map(|part| part.len()).sum();
    let mut frame = start_channel_reply(name, msg_ref, status, len);
    push_response(frame.text(), response);
    frame
}

/// A channel's reply up to its response, `[join_ref, ref, topic,
/// "phx_reply", {"status": status, "response": `, with room for `room`
/// bytes of response: the caller writes the response, then [`REPLY_END`].
pub(crate) fn start_channel_reply(
    name: JsonName<'_>,
    msg_ref: Option<&str>,
    status: ReplyStatus,
    room: usize,
) -> RoomyText {
    // The event and the payload around the response: 43 bytes at most.
    let mut frame = name.start_frame(msg_ref, 44 + room);
    push_reply_head(frame.text(), status);
    frame
}

/// Writes a reply's event and its payload up to the response:
/// `"phx_reply", {"status": status, "response": `.
fn push_reply_head(text: &mut String, status: ReplyStatus) {
    text.push_str(r#""phx_reply","#);
    text.push_str(status.payload_head());
}

/// What closes a reply after its response: the payload's object and the
/// frame's array.
pub(crate) const REPLY_END: &str = "}]";

/// A channel's message up to its payload, `[join_ref, ref, topic, event, `,
/// with room for `room` bytes of payload: the caller writes the payload,
/// then `]`.
pub(crate) fn start_channel_frame(
    name: JsonName<'_>,
    msg_ref: Option<&str>,
    event: &str,
    room: usize,
) -> RoomyText {
    let mut frame = name.start_frame(msg_ref, 8 + event.len() + room);
    let text = frame.text();
    json_string(text, event);
    text.push(',');
    frame
}

/// [`encode`] for a channel: see [`encode_channel_reply`].
pub(crate) fn encode_channel_frame(
    name: JsonName<'_>,
    msg_ref: Option<&str>,
    event: &str,
    payload: &str,
) -> RoomyText {
    let mut frame = start_channel_frame(name, msg_ref, event, payload.len());
    let text = frame.text();
    text.push_str(payload);
    text.push(']');
    frame
}

/// `{"status": status, "response": response}]`: the rest of a reply.
fn push_reply_payload(frame: &mut String, status: ReplyStatus, response: &[&str]) {
    frame.push_str(status.payload_head());
    push_response(frame, response);
}

/// A reply's `response`, from its parts, and what closes the reply.
fn push_response(frame: &mut String, response: &[&str]) {
    for part in response {
        frame.push_str(part);
    }
    frame.push_str(REPLY_END);
}

/// A channel's join_ref and topic, each written as a JSON string with its
/// quotes, as every frame the channel sends starts with them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonName<'a> {
    pub(crate) join_ref: &'a str,
    pub(crate) topic: &'a str,
}

impl JsonName<'_> {
    /// `[join_ref, msg_ref, topic,` with room for `extra` more bytes, and
    /// for the frame's header in front.
    fn start_frame(self, msg_ref: Option<&str>, extra: usize) -> RoomyText {
        let refs = self.join_ref.len() + msg_ref.map_or(4, str::len);
        let mut frame = RoomyText::with_capacity(8 + refs + self.topic.len() + extra);
        self.push_start(frame.text(), msg_ref);
        frame
    }

    /// Writes `[join_ref, msg_ref, topic,`.
    fn push_start(self, text: &mut String, msg_ref: Option<&str>) {
        text.push('[');
        text.push_str(self.join_ref);
        text.push(',');
        push_optional(text, msg_ref);
        text.push(',');
        text.push_str(self.topic);
        text.push(',');
    }
}

/// A channel's reply around `response`, built in the response's own
/// buffer (see [`RoomyText::around`]): a join's response is a page's whole
/// render, which is not copied into a frame of its own.
pub(crate) fn channel_reply_around(
    name: JsonName<'_>,
    msg_ref: Option<&str>,
    status: ReplyStatus,
    response: String,
) -> RoomyText {
    let write_start = |text: &mut String| {
        name.push_start(text, msg_ref);
        push_reply_head(text, status);
    };
    RoomyText::around(write_start, response, REPLY_END)
}

/// [`encode_reply`] behind room for the frame's header, in a buffer the
/// socket's previous frame may have left.
pub(crate) fn encode_reply_roomy(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    status: ReplyStatus,
    response: &str,
) -> RoomyText {
    let mut frame = RoomyText::with_capacity(64 + topic.len() + response.len());
    let text = frame.text();
    push_header(text, join_ref, msg_ref, topic, "phx_reply");
    push_reply_payload(text, status, &[response]);
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
    push_header(&mut frame, join_ref, msg_ref, topic, event);
    frame
}

/// Writes `[join_ref, ref, topic, event,`.
fn push_header(
    frame: &mut String,
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    event: &str,
) {
    frame.push('[');
    push_optional(frame, join_ref);
    frame.push(',');
    push_optional(frame, msg_ref);
    frame.push(',');
    json_string(frame, topic);
    frame.push(',');
    json_string(frame, event);
    frame.push(',');
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
    use crate::test_json::generated;

    /// What a message says, field by field.
    fn parts(inbound: &Inbound) -> (Option<&str>, Option<&str>, &str, &str, Payload<'_>) {
        (
            inbound.join_ref(),
            inbound.msg_ref(),
            inbound.topic(),
            inbound.event(),
            inbound.payload(),
        )
    }

    #[test]
    fn a_join_decodes_with_its_payload_untouched() {
        let frame = r#"["3","3","lv:phx-GBs","phx_join",{"url":"http://localhost/","params":{"_mounts":0}}]"#;
        assert_eq!(
            parts(&decode_text(frame).unwrap()),
            (
                Some("3"),
                Some("3"),
                "lv:phx-GBs",
                "phx_join",
                Payload::Json(r#"{"url":"http://localhost/","params":{"_mounts":0}}"#),
            )
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
            let expected = (
                join_ref.as_deref(),
                msg_ref.as_deref(),
                topic.as_str(),
                event.as_str(),
                Payload::Json(payload.get()),
            );
            assert_eq!(parts(&decode_text(frame).unwrap()), expected, "{frame}");
        }
        assert!(decode_plain_text(frames[0]).is_some());
        assert!(decode_plain_text(frames[5]).is_none());
    }

    /// A head that looks plain but whose payload does not close where it
    /// ends, or which has more fields, is refused as the general reader
    /// refuses it.
    #[test]
    fn plain_frames_with_bad_payloads_are_refused() {
        for frame in [
            r#"["3","4","lv:x","event",{]"#,
            r#"["3","4","lv:x","event",[}]"#,
            r#"["3","4","lv:x","event",{"a":"}]"#,
            r#"["3","4","lv:x","event",{"a":"\"}]"#,
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

    /// An event read ahead makes a message no larger: every process's
    /// mailbox keeps room for one.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_message_is_ten_words() {
        assert_eq!(std::mem::size_of::<Inbound>(), 80);
    }

    /// An event the client writes is read once, by the socket, and the
    /// channel finds what its own reading of the payload would give; any
    /// other event (of a kind the client does not send, a form's, one with
    /// an escape), and a frame whose event is not an object alone, keeps
    /// its payload for the channel to read, or is refused as before.
    #[test]
    fn a_clients_event_is_read_once_as_its_channel_would_read_it() {
        let read_once = [
            r#"{"type":"click","event":"bump","value":{"i":"42"}}"#,
            r#"{"type":"click","event":"inc","value":{}}"#,
            r#"{"type":"hook","event":"go"}"#,
            r#"{"type":"keyup","event":"k","value":null,"cid":3}"#,
            r#"{ "event" : "e", "type" : "hook", "value" : [1, {"a": [true]}] }"#,
            r#"{"type":"click","event":"x","value":"","cid":4294967294}"#,
        ];
        let read_by_the_channel = [
            r#"{"type":"viewport","event":"x"}"#,
            r#"{"type":"form","event":"save","value":"a=1"}"#,
            r#"{"type":"click","event":"b\u0075mp"}"#,
            r#"{"type":"click","event":"x","meta":{}}"#,
            r#"{"type":"click","event":"x","cid":4294967295}"#,
            r#"{"type":"click","event":"x"} "#,
            r#"[{"type":"click","event":"x"}]"#,
        ];
        for (payload, once) in read_once
            .iter()
            .map(|payload| (payload, true))
            .chain(read_by_the_channel.iter().map(|payload| (payload, false)))
        {
            let frame = format!(r#"["3","4","lv:x","event",{payload}]"#);
            let read = decode_text(&frame).unwrap();
            // The general reader leaves out the spaces around a payload.
            assert_eq!(read.payload(), Payload::Json(payload.trim()), "{frame}");
            let expected = plain_event(payload);
            match read.plain_event() {
                Some(fields) => {
                    assert!(once, "{frame}");
                    assert_eq!(Some(fields), expected, "{frame}");
                }
                None => assert!(!once, "{frame}"),
            }
        }
        // Only an `event` message is read so.
        let reply = decode_text(r#"["3","4","lv:x","other",{"type":"click","event":"x"}]"#);
        assert_eq!(reply.unwrap().plain_event(), None);
        for frame in [
            r#"["3","4","lv:x","event",{"type":"click","event":"x"},{"a":1}]"#,
            r#"["3","4","lv:x","event",{"type":"click","event":"x"}}]"#,
            r#"["3","4","lv:x","event",{"type":"click","event":"x"]"#,
        ] {
            assert!(
                matches!(decode_text(frame), Err(FrameError::Text(_))),
                "{frame}"
            );
        }
    }

    /// The socket checks a plain frame's payload only as far as the frame
    /// needs: its brackets and strings. Its handler's reading checks the
    /// rest, and refuses what is not JSON.
    #[test]
    fn a_plain_frame_keeps_its_payload_for_its_handler_to_read() {
        for payload in [
            r#"{"a":"}],[{\"","b":["{",[]]}"#,
            r#"{"a" 1}"#,
            r#"{"a":tru}"#,
            r#"[1,,2]"#,
        ] {
            let frame = format!(r#"["3","4","lv:x","event",{payload}]"#);
            let read = decode_text(&frame).unwrap();
            assert_eq!(read.payload(), Payload::Json(payload), "{frame}");
            let readable = serde_json::from_str::<serde_json::Value>(payload).is_ok();
            assert_eq!(readable, payload.starts_with(r#"{"a":"}"#), "{payload}");
        }
    }

    /// Nesting deeper than the plain reader tracks goes to the general
    /// reader, which reads it whole.
    #[test]
    fn deeply_nested_payloads_are_read_whole() {
        let payload = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let frame = format!(r#"["3","4","lv:x","event",{payload}]"#);
        assert!(decode_plain_text(&frame).is_none());
        assert_eq!(
            decode_text(&frame).unwrap().payload(),
            Payload::Json(&payload)
        );
    }

    /// Every JSON object or array is whole for the plain reader, so a
    /// client's frame never needs the general one: checked for every text
    /// of up to five characters from the ones that matter to it.
    #[test]
    fn every_json_object_or_array_closes_where_it_ends() {
        const ALPHABET: &[u8] = br#"{}[]"\a1,:"#;
        let mut texts = vec![Vec::new()];
        for _ in 0..5 {
            let longer: Vec<Vec<u8>> = texts
                .iter()
                .filter(|text| text.len() == texts.last().map_or(0, Vec::len))
                .flat_map(|text| {
                    ALPHABET.iter().map(move |&byte| {
                        let mut longer = text.clone();
                        longer.push(byte);
                        longer
                    })
                })
                .collect();
            texts.extend(longer);
        }
        let mut json = 0;
        for text in &texts {
            let text = std::str::from_utf8(text).unwrap();
            let is_json = matches!(text.as_bytes().first(), Some(b'{' | b'['))
                && serde_json::from_str::<serde_json::Value>(text).is_ok();
            if is_json {
                json += 1;
                assert!(closes_where_it_ends(text), "{text}");
            }
            if closes_where_it_ends(text) {
                let frame = format!(r#"["1","2","t","e",{text}]"#);
                assert_eq!(decode_text(&frame).unwrap().payload(), Payload::Json(text));
            }
        }
        assert!(json > 10, "only {json} JSON texts");
    }

    /// The same for longer JSON: objects and arrays of strings full of
    /// brackets, quotes and backslashes, nested, with and without spaces.
    #[test]
    fn generated_json_closes_where_it_ends() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2_000 {
            let value = generated(&mut seed, 0);
            for text in [
                value.to_string(),
                serde_json::to_string_pretty(&value).unwrap(),
            ] {
                assert!(closes_where_it_ends(&text), "{text}");
            }
        }
    }

    /// The eight-at-a-time search finds what a byte-by-byte one finds, at
    /// every position and length, next to bytes that differ from `"` and
    /// `\\` by one bit or have the high bit set.
    #[test]
    fn quotes_and_backslashes_are_found_where_they_are() {
        let fillers = [b'a', b'#', b'!', 0xa2, 0xdc, 0x5d, 0x00, 0xff];
        for len in 0..40 {
            for filler in fillers {
                for target in [None, Some(b'"'), Some(b'\\')] {
                    for at in 0..len.max(1) {
                        let mut bytes = vec![filler; len];
                        if let (Some(target), true) = (target, at < len) {
                            bytes[at] = target;
                        }
                        let expected = bytes.iter().position(|&b| b == b'"' || b == b'\\');
                        assert_eq!(quote_or_backslash(&bytes), expected, "{bytes:?}");
                    }
                }
            }
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
    fn a_channel_s_frames_match_those_written_from_its_name() {
        let names = [("3", "lv:phx-GBs"), ("", "t\"q\\"), ("\n", "lv:été")];
        for (join_ref, topic) in names {
            let [join_ref_json, topic_json] = [join_ref, topic].map(|field| {
                let mut json = String::new();
                json_string(&mut json, field);
                json
            });
            let name = JsonName {
                join_ref: &join_ref_json,
                topic: &topic_json,
            };
            for msg_ref in [Some("4"), Some("a\"b"), None] {
                let parts = [r#"{"diff":"#, r#"{"3":"1"}"#, "}"];
                for status in [ReplyStatus::Ok, ReplyStatus::Error] {
                    let whole = encode_reply_parts(Some(join_ref), msg_ref, topic, status, &parts);
                    assert_eq!(
                        encode_channel_reply(name, msg_ref, status, &parts).message(),
                        whole
                    );
                    let response = parts.concat();
                    assert_eq!(
                        channel_reply_around(name, msg_ref, status, response.clone()).message(),
                        whole
                    );
                    assert_eq!(
                        encode_reply_roomy(Some(join_ref), msg_ref, topic, status, &response)
                            .message(),
                        whole
                    );
                }
            }
            for event in ["diff", "redirect", "e\"x"] {
                let frame = encode_channel_frame(name, None, event, r#"{"3":"2"}"#);
                let push = encode_push(Some(join_ref), topic, event, r#"{"3":"2"}"#);
                assert_eq!(frame.message(), push);
            }
        }
    }

    #[test]
    fn a_binary_chunk_decodes() {
        let mut frame = vec![0, 2, 2, 7, 5];
        frame.extend_from_slice(b"1213lvu:abcchunk");
        frame.extend_from_slice(&[0xff, 0x00, 0x7f]);
        assert_eq!(
            parts(&decode_binary(&frame).unwrap()),
            (
                Some("12"),
                Some("13"),
                "lvu:abc",
                "chunk",
                Payload::Binary(&[0xff, 0x00, 0x7f]),
            )
        );
        let no_refs = [0, 0, 0, 1, 1, b't', b'e'];
        assert_eq!(
            parts(&decode_binary(&no_refs).unwrap()),
            (None, None, "t", "e", Payload::Binary(&[]))
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
