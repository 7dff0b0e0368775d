//! An event from the client, and its value read only as far as it is asked.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::socket::serializer::{bracketed_end, quote_or_backslash, string_end};

/// An event from the client.
#[derive(Clone)]
pub struct Event {
    name: String,
    kind: Cow<'static, str>,
    value: EventValue,
}

/// The kinds of event the client sends, kept without an allocation each.
const EVENT_KINDS: [&str; 7] = ["click", "keyup", "keydown", "focus", "blur", "form", "hook"];

/// An event's value: made by the server (a decoded form), or the JSON the
/// client sent, read into a [`Value`] the first time a handler asks for it
/// whole. Most handlers ask for one field of a click's value, or nothing:
/// the text answers that, and each event is spared a map and its keys.
#[derive(Clone)]
enum EventValue {
    Made(Value),
    Sent {
        json: Box<str>,
        read: OnceLock<Value>,
    },
}

impl Event {
    pub(crate) fn new(name: String, kind: &str, value: Value) -> Self {
        Event::with_value(name, kind, EventValue::Made(value))
    }

    /// An event whose value is JSON text the socket has checked.
    pub(crate) fn sent(name: String, kind: &str, value: &RawValue) -> Self {
        let value = EventValue::Sent {
            json: value.get().into(),
            read: OnceLock::new(),
        };
        Event::with_value(name, kind, value)
    }

    fn with_value(name: String, kind: &str, value: EventValue) -> Self {
        let kind = match EVENT_KINDS.iter().find(|known| **known == kind) {
            Some(known) => Cow::Borrowed(*known),
            None => Cow::Owned(kind.to_owned()),
        };
        Event { name, kind, value }
    }

    /// The event's name: the value of `phx-click`, `phx-submit`, and so on.
    pub fn name(&self) -> &str {
        &self.name
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
                serde_json::from_str(json).unwrap_or(Value::Null)
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
                if let Some(field) = string_field(json, name) {
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
        self.name == other.name && self.kind == other.kind && self.value() == other.value()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.name)
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

/// Reads through JSON text known to be valid.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, at: 0 }
    }

    fn skip_whitespace(&mut self) {
        let bytes = self.text.as_bytes();
        while bytes
            .get(self.at)
            .is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace.
    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.text.as_bytes().get(self.at).copied()
    }

    /// Steps over `byte` if it comes next.
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_json::{generated, next, tricky_text};

    fn sent(json: &str) -> Event {
        let raw: Box<RawValue> = serde_json::from_str(json).expect("valid JSON");
        Event::sent("go".into(), "click", &raw)
    }

    #[test]
    fn an_event_keeps_its_kind_known_or_not() {
        for kind in EVENT_KINDS.into_iter().chain(["viewport", ""]) {
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
}
