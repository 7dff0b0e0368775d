//! An event from the client, and its value read only as far as it is asked.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::escape::quote_or_backslash;
use crate::socket::serializer::{bracketed_end, plain_string_len, string_end};

/// An event from the client.
#[derive(Clone)]
pub struct Event {
    /// The text the name and a sent value lie in: for an event the client
    /// sent, its whole frame, shared with the message it came in.
    text: Arc<str>,
    name: Range<usize>,
    kind: Cow<'static, str>,
    value: EventValue,
}

/// The kinds of event the client sends, kept without an allocation each,
/// and in one byte where a message carries the kind of an event read ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KnownKind {
    Click,
    Keyup,
    Keydown,
    Focus,
    Blur,
    Form,
    Hook,
}

impl KnownKind {
    const ALL: [KnownKind; 7] = [
        KnownKind::Click,
        KnownKind::Keyup,
        KnownKind::Keydown,
        KnownKind::Focus,
        KnownKind::Blur,
        KnownKind::Form,
        KnownKind::Hook,
    ];

    /// The kind `kind` names, if it is a known one.
    pub(crate) fn of(kind: &str) -> Option<KnownKind> {
        KnownKind::ALL
            .into_iter()
            .find(|known| known.as_str() == kind)
    }

    /// The kind's name, as the client writes it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KnownKind::Click => "click",
            KnownKind::Keyup => "keyup",
            KnownKind::Keydown => "keydown",
            KnownKind::Focus => "focus",
            KnownKind::Blur => "blur",
            KnownKind::Form => "form",
            KnownKind::Hook => "hook",
        }
    }
}

/// An event's value: made by the server (a decoded form), or the JSON the
/// client sent, read into a [`Value`] the first time a handler asks for it
/// whole. Most handlers ask for one field of a click's value, or nothing:
/// the text answers that, and each event is spared a map and its keys.
#[derive(Clone)]
enum EventValue {
    Made(Value),
    Sent {
        /// Where the JSON lies in the event's text.
        json: Range<usize>,
        read: OnceLock<Value>,
    },
}

impl Event {
    pub(crate) fn new(name: String, kind: &str, value: Value) -> Self {
        let name_len = name.len();
        Event::with_value(name.into(), 0..name_len, kind, EventValue::Made(value))
    }

    /// An event whose value is JSON text the socket has checked, or
    /// `null` when the message had none.
    pub(crate) fn sent(name: &str, kind: &str, json: Option<&str>) -> Self {
        let text: Arc<str> = [name, json.unwrap_or_default()].concat().into();
        let json = json.map(|json| name.len()..name.len() + json.len());
        Event::in_text(text, 0..name.len(), kind, json)
    }

    /// [`Event::sent`] of a name and JSON that lie in `text` (the frame
    /// the client sent), kept there.
    pub(crate) fn in_text(
        text: Arc<str>,
        name: Range<usize>,
        kind: &str,
        json: Option<Range<usize>>,
    ) -> Self {
        let value = match json {
            Some(json) => EventValue::Sent {
                json,
                read: OnceLock::new(),
            },
            None => EventValue::Made(Value::Null),
        };
        Event::with_value(text, name, kind, value)
    }

    fn with_value(text: Arc<str>, name: Range<usize>, kind: &str, value: EventValue) -> Self {
        let kind = match KnownKind::of(kind) {
            Some(known) => Cow::Borrowed(known.as_str()),
            None => Cow::Owned(kind.to_owned()),
        };
        Event {
            text,
            name,
            kind,
            value,
        }
    }

    /// The event's name: the value of `phx-click`, `phx-submit`, and so on.
    pub fn name(&self) -> &str {
        &self.text[self.name.clone()]
    }

    /// What produced it: `"click"`, `"keyup"`, `"keydown"`, `"focus"`,
    /// `"blur"`, `"form"` or `"hook"`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The event's value as the client sent it: for a click, an object of
    /// the element's `phx-value-*` attributes (and `value`); for a key
    /// event, it also has `key`.
    pub fn value(&self) -> &Value {
        match &self.value {
            EventValue::Made(value) => value,
            EventValue::Sent { json, read } => read.get_or_init(|| {
                // The socket checked the text as JSON, within the same
                // nesting limit as this reading's.
                serde_json::from_str(&self.text[json.clone()]).unwrap_or(Value::Null)
            }),
        }
    }

    /// One string field of the value, such as a `phx-value-id`.
    ///
    /// ```
    /// # use cinder::live::Event;
    /// # fn example(event: &Event) {
    /// let id: Option<u32> = event.get("id").and_then(|id| id.parse().ok());
    /// # }
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        if let EventValue::Sent { json, read } = &self.value {
            if read.get().is_none() {
                if let Some(field) = string_field(&self.text[json.clone()], name) {
                    return field;
                }
            }
        }
        self.value().get(name).and_then(Value::as_str)
    }

    /// The value decoded into a type of yours; for a form, its fields
    /// (`user[name]` nests as `{"user": {"name": …}}`).
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(self.value())
    }

    /// For a form change, the path of the field that changed, such as
    /// `["user", "name"]` for `user[name]`.
    pub fn target(&self) -> Option<Vec<&str>> {
        let path = self.value().get("_target")?.as_array()?;
        path.iter().map(Value::as_str).collect()
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        self.name() == other.name() && self.kind == other.kind && self.value() == other.value()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.name())
            .field("kind", &self.kind)
            .field("value", self.value())
            .finish()
    }
}

/// The string field `name` of the JSON object `json`, read from the text:
/// `Some(None)` when the object has no such field or it is not a string,
/// `None` when the text alone cannot tell (the field's string, or a key,
/// holds an escape). `json` must be valid JSON. As when the object is read
/// into a map, the last of several fields named alike counts.
fn string_field<'a>(json: &'a str, name: &str) -> Option<Option<&'a str>> {
    let mut cursor = Cursor::new(json);
    if !cursor.eat(b'{') {
        return Some(None);
    }
    let mut found = None;
    if cursor.eat(b'}') {
        return Some(found);
    }
    loop {
        let (key, key_escaped) = cursor.string()?;
        if key_escaped {
            return None;
        }
        cursor.eat(b':');
        if key == name {
            found = match cursor.peek() {
                Some(b'"') => match cursor.string()? {
                    (_, true) => return None,
                    (text, false) => Some(text),
                },
                _ => {
                    cursor.skip_value()?;
                    None
                }
            };
        } else {
            cursor.skip_value()?;
        }
        if !cursor.eat(b',') {
            return Some(found);
        }
    }
}

/// An `event` message as the client writes those of clicks, keys and hooks:
/// `{"type": …, "event": …, "value": …}` and, aimed at a component,
/// `"cid": …`, each once; strings without escapes. Read in place, without a
/// map or a JSON reader.
#[derive(Debug, PartialEq)]
pub(crate) struct PlainEvent<'a> {
    pub(crate) kind: &'a str,
    pub(crate) name: &'a str,
    /// The value's JSON text, checked; `None` when it is absent or `null`.
    pub(crate) value: Option<&'a str>,
    pub(crate) cid: Option<u32>,
}

/// Reads `json` as a [`PlainEvent`], checking it as strictly as a JSON
/// reader would. `None` for any other message (a form's, one with `meta`
/// or `uploads`, a string with an escape, a repeated field, an object
/// nested deeper than [`PLAIN_DEPTH`], or text that is not JSON): the
/// general reader then reads it, or refuses it with its reason.
pub(crate) fn plain_event(json: &str) -> Option<PlainEvent<'_>> {
    in_client_order(json).or_else(|| in_any_order(json))
}

/// [`plain_event`] of a message whose fields come in the order the client
/// writes them (`type`, `event`, then `value` and `cid` when sent), with
/// nothing between them: each field's name is compared with the one
/// expected next, quotes and colon included, instead of read as a string
/// and then looked up. `None` for any other message, which
/// [`in_any_order`] then reads.
fn in_client_order(json: &str) -> Option<PlainEvent<'_>> {
    let mut cursor = Cursor::new(json);
    cursor.literal(r#"{"type":"#)?;
    let kind = cursor.plain_string()?;
    if kind == "form" {
        return None;
    }
    cursor.literal(r#","event":"#)?;
    let name = cursor.plain_string()?;
    let value = match cursor.literal(r#","value":"#) {
        Some(()) => Some(cursor.checked_value(PLAIN_DEPTH)?),
        None => None,
    };
    let cid = match cursor.literal(r#","cid":"#) {
        Some(()) => Some(plain_u32(cursor.checked_value(PLAIN_DEPTH)?)?),
        None => None,
    };
    cursor.literal("}")?;
    (cursor.at == json.len()).then_some(PlainEvent {
        kind,
        name,
        value: value.filter(|value| *value != "null"),
        cid,
    })
}

/// [`plain_event`] of a message whose fields come in any order, with
/// whitespace anywhere JSON allows it.
fn in_any_order(json: &str) -> Option<PlainEvent<'_>> {
    let mut cursor = Cursor::new(json);
    let (mut kind, mut name, mut value, mut cid) = (None, None, None, None);
    if !cursor.eat(b'{') {
        return None;
    }
    loop {
        let key = cursor.plain_string()?;
        if !cursor.eat(b':') {
            return None;
        }
        let field = match key {
            "type" => &mut kind,
            "event" => &mut name,
            "value" => &mut value,
            "cid" => &mut cid,
            _ => return None,
        };
        if field.is_some() {
            return None;
        }
        let text = match key {
            "type" | "event" => cursor.plain_string()?,
            _ => cursor.checked_value(PLAIN_DEPTH)?,
        };
        // A form's value is decoded by the general reader: no need to
        // check the rest first.
        if key == "type" && text == "form" {
            return None;
        }
        *field = Some(text);
        if !cursor.eat(b',') {
            break;
        }
    }
    if !cursor.eat(b'}') || cursor.peek().is_some() {
        return None;
    }
    let cid = match cid {
        Some(digits) => Some(plain_u32(digits)?),
        None => None,
    };
    Some(PlainEvent {
        kind: kind?,
        name: name?,
        value: value.filter(|value| *value != "null"),
        cid,
    })
}

/// The deepest nesting of a value [`plain_event`] reads; deeper values go
/// to the general reader, which has its own limit.
const PLAIN_DEPTH: u32 = 32;

/// A checked JSON number that is an integer fitting a `u32`. The checker
/// has refused leading zeros already; only a sign, a fraction or an
/// exponent is left to turn away.
fn plain_u32(number: &str) -> Option<u32> {
    if number.bytes().all(|byte| byte.is_ascii_digit()) {
        number.parse().ok()
    } else {
        None
    }
}

/// Reads through JSON text: the methods that skip assume it is valid, the
/// ones that check ([`plain_string`](Cursor::plain_string),
/// [`checked_value`](Cursor::checked_value)) assume nothing.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, at: 0 }
    }

    /// The next byte that is not whitespace.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        loop {
            let byte = *bytes.get(self.at)?;
            // Every byte above the space is not whitespace: one comparison
            // for the text the client writes, which has none.
            if byte > b' ' || !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(byte);
            }
            self.at += 1;
        }
    }

    /// Steps over `byte` if it comes next.
    #[inline]
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        if next {
            self.at += 1;
        }
        next
    }

    /// The string that comes next, between its quotes as written, and
    /// whether it holds an escape.
    fn string(&mut self) -> Option<(&'a str, bool)> {
        if !self.eat(b'"') {
            return None;
        }
        let bytes = self.text.as_bytes();
        let start = self.at;
        let first = start + quote_or_backslash(&bytes[start..])?;
        let escaped = bytes[first] == b'\\';
        let end = if escaped {
            string_end(bytes, first)?
        } else {
            first
        };
        self.at = end + 1;
        Some((self.text.get(start..end)?, escaped))
    }

    /// Steps over the value that comes next, whatever it is.
    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => self.skip_nested(),
            _ => {
                // A number, `true`, `false` or `null`: it ends where the
                // object or array around it goes on.
                let bytes = self.text.as_bytes();
                while bytes
                    .get(self.at)
                    .is_some_and(|byte| !matches!(byte, b',' | b'}' | b']'))
                {
                    self.at += 1;
                }
                Some(())
            }
        }
    }

    /// Steps over an object or array, its strings included; `None` past
    /// the depth the frame reader scans to.
    fn skip_nested(&mut self) -> Option<()> {
        self.at += bracketed_end(&self.text.as_bytes()[self.at..])?;
        Some(())
    }

    /// The string that comes next, between its quotes, if it is JSON and
    /// holds neither an escape nor a control character.
    fn plain_string(&mut self) -> Option<&'a str> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.at;
        let end = start + plain_string_len(&self.text.as_bytes()[start..])?;
        self.at = end + 1;
        self.text.get(start..end)
    }

    /// The JSON value that comes next, as written, if it is one that
    /// nests at most `depth` deep and whose strings are plain (see
    /// [`plain_string`](Cursor::plain_string)).
    fn checked_value(&mut self, depth: u32) -> Option<&'a str> {
        let first = self.peek()?;
        let start = self.at;
        match first {
            b'"' => {
                self.plain_string()?;
            }
            b'{' => self.checked_items(depth, b'}', true)?,
            b'[' => self.checked_items(depth, b']', false)?,
            b't' => self.literal("true")?,
            b'f' => self.literal("false")?,
            b'n' => self.literal("null")?,
            _ => self.number()?,
        }
        self.text.get(start..self.at)
    }

    /// An object's members or an array's items, from its opening bracket
    /// to `close`, each checked.
    fn checked_items(&mut self, depth: u32, close: u8, object: bool) -> Option<()> {
        let inner = depth.checked_sub(1)?;
        self.at += 1;
        if self.eat(close) {
            return Some(());
        }
        loop {
            if object {
                self.plain_string()?;
                if !self.eat(b':') {
                    return None;
                }
            }
            self.checked_value(inner)?;
            if self.eat(close) {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let rest = &self.text.as_bytes()[self.at..];
        rest.starts_with(word.as_bytes()).then(|| {
            self.at += word.len();
        })
    }

    /// A number as JSON writes them: `-`, an integer without leading
    /// zeros, then a fraction and an exponent, each optional.
    fn number(&mut self) -> Option<()> {
        self.eat_byte(b'-');
        if !self.eat_byte(b'0') && self.digits() == 0 {
            return None;
        }
        if self.eat_byte(b'.') && self.digits() == 0 {
            return None;
        }
        if self.eat_byte(b'e') || self.eat_byte(b'E') {
            if !self.eat_byte(b'+') {
                self.eat_byte(b'-');
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    /// Steps over `byte` if it is the very next one, whitespace or not.
    fn eat_byte(&mut self, byte: u8) -> bool {
        let next = self.text.as_bytes().get(self.at) == Some(&byte);
        if next {
            self.at += 1;
        }
        next
    }

    /// Steps over decimal digits; how many.
    fn digits(&mut self) -> usize {
        let count = self.text.as_bytes()[self.at..]
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        self.at += count;
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_json::{generated, next, tricky_text};
    use serde_json::value::RawValue;

    fn sent(json: &str) -> Event {
        let raw: Box<RawValue> = serde_json::from_str(json).expect("valid JSON");
        Event::sent("go", "click", Some(raw.get()))
    }

    #[test]
    fn an_event_keeps_its_kind_known_or_not() {
        for known in KnownKind::ALL {
            assert_eq!(KnownKind::of(known.as_str()), Some(known));
        }
        let known = KnownKind::ALL.map(KnownKind::as_str);
        for kind in known.into_iter().chain(["viewport", ""]) {
            let event = Event::new("save".into(), kind, Value::Null);
            assert_eq!((event.name(), event.kind()), ("save", kind));
        }
        let known = Event::new("save".into(), "click", Value::Null);
        assert!(matches!(known.kind, Cow::Borrowed(_)));
    }

    /// Every way a field can be written reads as the map would read it.
    #[test]
    fn a_field_read_from_the_text_is_the_field_of_the_value() {
        let objects = [
            r#"{}"#,
            r#" { } "#,
            r#"{"i":"5","value":""}"#,
            r#"{ "i" : "5" , "value" : "" }"#,
            r#"{"value":"","i":"42"}"#,
            r#"{"i":5}"#,
            r#"{"i":null,"j":"x"}"#,
            r#"{"i":true}"#,
            r#"{"i":-1.5e3,"k":"v"}"#,
            r#"{"i":"a\"b"}"#,
            r#"{"i":"\u00e9"}"#,
            r#"{"i":"é ✓"}"#,
            r#"{"\u0069":"escaped key"}"#,
            r#"{"i":"first","i":"last"}"#,
            r#"{"i":"first","i":7}"#,
            r#"{"a":{"i":"inner"},"b":["i","}"],"i":"outer"}"#,
            r#"{"a":[[],{},"]\"",{"x":[1,{"y":"}"}]}],"i":"after"}"#,
            r#"{"a":"{\"i\":\"no\"}"}"#,
            r#"{"ii":"no","":"empty key"}"#,
            r#"[{"i":"in an array"}]"#,
            r#""i""#,
            r#"3"#,
            r#"null"#,
        ];
        for json in objects {
            let value: Value = serde_json::from_str(json).expect("valid JSON");
            for name in ["i", "value", "", "k", "a"] {
                let expected = value.get(name).and_then(Value::as_str);
                assert_eq!(sent(json).get(name), expected, "{json} {name:?}");
                if let Some(from_text) = string_field(json, name) {
                    assert_eq!(from_text, expected, "read from the text: {json} {name:?}");
                }
            }
            assert_eq!(sent(json).value(), &value);
        }
    }

    /// The same for generated objects: keys that repeat or hold escapes,
    /// values of every kind, nested, with strings full of brackets and
    /// quotes, written with and without spaces.
    #[test]
    fn generated_objects_read_as_their_values() {
        const KEYS: [&str; 5] = ["i", "value", "", "i\"", "é"];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..2_000 {
            let fields: Vec<String> = (0..next(&mut seed) % 5)
                .map(|_| {
                    let key = KEYS[(next(&mut seed) % KEYS.len() as u64) as usize];
                    let value = match next(&mut seed) % 3 {
                        0 => Value::String(tricky_text(&mut seed)),
                        _ => generated(&mut seed, 1),
                    };
                    format!("{}: {value}", Value::from(key))
                })
                .collect();
            for json in [
                format!("{{{}}}", fields.join(",")),
                format!("{{ {} }}", fields.join(" ,\n ")),
            ] {
                let value: Value = serde_json::from_str(&json).expect("valid JSON");
                for name in KEYS {
                    let expected = value.get(name).and_then(Value::as_str);
                    assert_eq!(sent(&json).get(name), expected, "{json} {name:?}");
                    if let Some(from_text) = string_field(&json, name) {
                        assert_eq!(from_text, expected, "read from the text: {json} {name:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_plain_field_is_read_from_the_text_and_an_escaped_one_is_not() {
        assert_eq!(string_field(r#"{"i":"5"}"#, "i"), Some(Some("5")));
        assert_eq!(string_field(r#"{"i":5}"#, "i"), Some(None));
        assert_eq!(string_field(r#"{"i":"a\nb"}"#, "i"), None);
        assert_eq!(string_field(r#"{"\u0069":"5"}"#, "i"), None);
        assert_eq!(sent(r#"{"i":"a\nb"}"#).get("i"), Some("a\nb"));
    }

    #[test]
    fn events_are_equal_by_what_they_hold_however_it_was_made() {
        let made = Event::new("go".into(), "click", serde_json::json!({"i": "5"}));
        assert_eq!(sent(r#"{ "i": "5" }"#), made);
        assert_ne!(sent(r#"{"i":"6"}"#), made);
        assert_eq!(format!("{:?}", sent(r#"{"i":"5"}"#)), format!("{made:?}"));
    }

    #[test]
    fn a_value_decodes_into_a_type() {
        #[derive(serde::Deserialize, PartialEq, Debug)]
        struct Bump {
            i: String,
        }
        assert_eq!(
            sent(r#"{"i":"5","value":""}"#).decode::<Bump>().unwrap(),
            Bump { i: "5".into() }
        );
    }

    /// What the general reader makes of an `event` message, in the plain
    /// reader's terms: `None` when it refuses the text as JSON.
    fn read_in_general(json: &str) -> Option<(Value, Value, Value, Value)> {
        let message: Value = serde_json::from_str(json).ok()?;
        let field = |name: &str| message.get(name).cloned().unwrap_or(Value::Null);
        Some((field("type"), field("event"), field("value"), field("cid")))
    }

    /// A plain reading agrees with the general reader on every field.
    fn assert_reads_alike(json: &str, plain: &PlainEvent<'_>) {
        let (kind, name, value, cid) =
            read_in_general(json).unwrap_or_else(|| panic!("read in place but not JSON: {json}"));
        assert_eq!(Value::from(plain.kind), kind, "{json}");
        assert_eq!(Value::from(plain.name), name, "{json}");
        let plain_value = plain.value.map_or(Value::Null, |text| {
            serde_json::from_str(text).expect("a checked value reads")
        });
        assert_eq!(plain_value, value, "{json}");
        assert_eq!(plain.cid.map_or(Value::Null, Value::from), cid, "{json}");
    }

    /// The messages the official client sends for clicks, keys and hooks
    /// are read in place.
    #[test]
    fn an_event_as_the_client_writes_it_is_read_in_place() {
        let messages = [
            r#"{"type":"click","event":"bump","value":{"i":"1","value":""}}"#,
            r#"{"type":"click","event":"inc","value":{"value":""}}"#,
            r#"{"type":"keyup","event":"search","value":{"key":"a","value":"ab"}}"#,
            r#"{"type":"hook","event":"moved","value":{"x":-1.5e-3,"y":[1,2,{"z":null}],"ok":true,"no":false}}"#,
            r#"{"type":"click","event":"pick","value":{"id":"7"},"cid":3}"#,
            r#"{"type":"click","event":"pick","value":{},"cid":0}"#,
            r#"{"type":"hook","event":"ping","value":null}"#,
            r#"{"type":"hook","event":"ping"}"#,
            r#"{"event":"ping","type":"hook","value":"é ✓","cid":4294967295}"#,
            r#" { "type" : "click" , "event" : "go" , "value" : { "a" : [ 1 , 2 ] } } "#,
        ];
        for json in messages {
            let plain = plain_event(json).unwrap_or_else(|| panic!("not read in place: {json}"));
            assert_reads_alike(json, &plain);
        }
        // The first eight are in the client's own order, read without
        // looking their fields' names up.
        for json in &messages[..8] {
            assert_eq!(in_client_order(json), in_any_order(json), "{json}");
            assert!(in_client_order(json).is_some(), "{json}");
        }
        for json in &messages[8..] {
            assert_eq!(in_client_order(json), None, "{json}");
        }
        let plain = plain_event(messages[0]).expect("read in place");
        assert_eq!(
            plain,
            PlainEvent {
                kind: "click",
                name: "bump",
                value: Some(r#"{"i":"1","value":""}"#),
                cid: None
            }
        );
        assert_eq!(plain_event(messages[6]).expect("read in place").value, None);
    }

    /// Forms, escapes, repeated or unknown fields, odd cids and text that
    /// is not JSON are left to the general reader.
    #[test]
    fn other_messages_are_left_to_the_general_reader() {
        let whole = [
            r#"{"type":"form","event":"save","value":"a=1"}"#,
            r#"{"type":"click","event":"go","value":{},"meta":{}}"#,
            r#"{"type":"form","event":"v","value":"","uploads":{}}"#,
            r#"{"type":"click","event":"g\u006f","value":{}}"#,
            r#"{"type":"click","event":"go","event":"again"}"#,
            r#"{"type":"click","event":"go","extra":1}"#,
            r#"{"type":1,"event":"go"}"#,
            r#"{"event":"go"}"#,
            r#"{"type":"click"}"#,
            r#"{"type":"click","event":"go"} x"#,
            r#"{"type":"click","event":"go",}"#,
            r#"["type","click"]"#,
            "",
        ];
        let cids = ["-1", "1.0", "01", "4294967296", "null", r#""1""#];
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        let values = [
            r#"{"i":"a\"b"}"#,
            "{\"i\":\"a\u{1}b\"}",
            "01",
            "1.",
            "-",
            "1e",
            "+1",
            ".5",
            "tru",
            "[1,]",
            r#"{"a":1,}"#,
            "{,}",
            r#"{"a"}"#,
            "[1 2]",
            r#"{"a":1 "b":2}"#,
            r#"{"a":1]"#,
            "",
            &deep,
        ];
        let messages = whole
            .map(String::from)
            .into_iter()
            .chain(cids.map(|cid| format!(r#"{{"type":"click","event":"go","cid":{cid}}}"#)))
            .chain(
                values.map(|value| format!(r#"{{"type":"click","event":"go","value":{value}}}"#)),
            );
        for json in messages {
            assert_eq!(plain_event(&json), None, "{json}");
        }
    }

    /// Generated messages, and each of them with one byte added, removed
    /// or changed: whatever is read in place reads alike in general, and
    /// every well-formed message of the plain shape is read in place.
    #[test]
    fn generated_messages_read_in_place_as_in_general() {
        const KINDS: [&str; 4] = ["click", "keyup", "hook", "form"];
        const NOISE: [u8; 14] = *b",:{}[]\"0-.e 1\x01";
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut read_in_place = 0;
        for _ in 0..3_000 {
            let kind = KINDS[(next(&mut seed) % KINDS.len() as u64) as usize];
            let value = generated(&mut seed, 1);
            let mut fields = vec![
                format!(r#""type":"{kind}""#),
                format!(r#""event":"e{}""#, next(&mut seed) % 100),
            ];
            match next(&mut seed) % 3 {
                0 => {}
                _ => fields.push(format!(r#""value":{value}"#)),
            }
            if next(&mut seed) % 4 == 0 {
                fields.push(format!(r#""cid":{}"#, next(&mut seed) % 50));
            }
            let rotation = (next(&mut seed) % fields.len() as u64) as usize;
            fields.rotate_left(rotation);
            let json = format!("{{{}}}", fields.join(","));
            let plain_shape = kind != "form" && !json.contains('\\');
            if rotation == 0 && plain_shape {
                let in_order = in_client_order(&json);
                assert!(in_order.is_some(), "in the client's order: {json}");
                assert_eq!(in_order, in_any_order(&json), "{json}");
            }
            match plain_event(&json) {
                Some(plain) => {
                    assert_reads_alike(&json, &plain);
                    read_in_place += 1;
                }
                None => assert!(!plain_shape, "well-formed but not read in place: {json}"),
            }
            let mut bytes = json.clone().into_bytes();
            let at = (next(&mut seed) % bytes.len() as u64) as usize;
            let noise = NOISE[(next(&mut seed) % NOISE.len() as u64) as usize];
            match next(&mut seed) % 3 {
                0 => bytes.insert(at, noise),
                1 => {
                    bytes.remove(at);
                }
                _ => bytes[at] = noise,
            }
            let Ok(changed) = String::from_utf8(bytes) else {
                continue;
            };
            if let Some(plain) = plain_event(&changed) {
                assert_reads_alike(&changed, &plain);
            }
            if let Some(in_order) = in_client_order(&changed) {
                assert_eq!(Some(in_order), in_any_order(&changed), "{changed}");
            }
        }
        assert!(read_in_place > 1_000, "only {read_in_place} read in place");
    }
}
