//! HTML escaping and the explicit way around it.
//!
//! Everything a template interpolates is escaped unless it is wrapped in
//! [`Raw`]. Text and attribute values share one escaper that replaces the five
//! characters that can end a text node or a quoted attribute value, so a value
//! is safe in either place.

use std::fmt::Write as _;

use std::fmt;

use crate::rendered::Text;

/// Appends `text` to `out` with `&`, `<`, `>`, `"` and `'` replaced by
/// character references.
///
/// ```
/// let mut out = String::new();
/// cinder::escape::escape_into(&mut out, "<b>\"hi\" & 'bye'</b>");
/// assert_eq!(out, "&lt;b&gt;&quot;hi&quot; &amp; &#39;bye&#39;&lt;/b&gt;");
/// ```
pub fn escape_into(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, byte) in bytes.iter().enumerate() {
        let replacement = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(replacement);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// Whether [`escape_into`] would change `text`: most text of a page (names,
/// numbers, class lists) needs no escaping and can be copied as it is.
pub(crate) fn needs_escaping(text: &str) -> bool {
    text.bytes()
        .any(|byte| matches!(byte, b'&' | b'<' | b'>' | b'"' | b'\''))
}

/// Returns `text` escaped for use in HTML text or a quoted attribute value.
///
/// ```
/// assert_eq!(cinder::escape::escape("a < b"), "a &lt; b");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Whether `name` can be written as an attribute name without changing the
/// meaning of the tag around it.
///
/// Names are limited to ASCII letters, digits and `-`, `_`, `:`, `.`, `@`,
/// which covers `phx-*`, `data-*`, `aria-*`, namespaced and framework
/// attribute names, and must start with a letter, `_`, `:` or `@`.
///
/// ```
/// assert!(cinder::escape::is_valid_attr_name("phx-value-id"));
/// assert!(!cinder::escape::is_valid_attr_name("onclick=alert(1)"));
/// assert!(!cinder::escape::is_valid_attr_name("x\" onload=\"y"));
/// ```
pub fn is_valid_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let first_ok = first.is_ascii_alphabetic() || matches!(first, '_' | ':' | '@');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.' | '@'))
}

/// HTML that is inserted as it is, without escaping.
///
/// This is the one way to bypass escaping in a template; use it only for
/// markup you produced or sanitized yourself.
///
/// ```
/// use cinder::{html, Raw};
/// let icon = "<svg></svg>";
/// let page = html! { <span>{Raw(icon)}</span> };
/// assert_eq!(page.to_html(), "<span><svg></svg></span>");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Raw<T>(pub T);

impl<T: fmt::Display> fmt::Display for Raw<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Writes `text` as a JSON string literal (the diff and the socket's
/// frames both write strings this way, without an allocation).
pub(crate) fn json_string(out: &mut String, text: &str) {
    if text.len() > SHORT_JSON {
        return json_string_long(out, text);
    }
    json_string_short(out, text.as_bytes());
}

/// Writes a dynamic's text as a JSON string literal; inline text is read
/// as bytes, without the UTF-8 check its `&str` would cost.
pub(crate) fn json_text(out: &mut String, text: &Text) {
    match text.inline_bytes() {
        Some(bytes) => json_string_short(out, bytes),
        None => json_string(out, text),
    }
}

/// [`json_string`] for short UTF-8 `bytes`. A diff is mostly short texts,
/// many with quotes (` id="row-1"`): pushing their ASCII bytes one by one
/// costs less than a copy per piece between escapes.
fn json_string_short(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push('"');
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte.is_ascii() {
            push_json_ascii(out, byte);
            i += 1;
        } else {
            // A run of other characters ends before an ASCII byte, which is
            // always a character boundary, so the run is whole characters.
            let end = bytes[i..]
                .iter()
                .position(u8::is_ascii)
                .map_or(bytes.len(), |run| i + run);
            out.push_str(std::str::from_utf8(&bytes[i..end]).expect("text is UTF-8"));
            i = end;
        }
    }
    out.push('"');
}

/// Pushes one ASCII byte of a JSON string, escaped if it must be.
#[inline]
fn push_json_ascii(out: &mut String, byte: u8) {
    match JSON_ESCAPES[usize::from(byte)] {
        0 => out.push(char::from(byte)),
        b'u' => {
            let _ = write!(out, "\\u{byte:04x}");
        }
        short => {
            out.push('\\');
            out.push(char::from(short));
        }
    }
}

/// The longest text [`json_string`] writes byte by byte.
const SHORT_JSON: usize = 64;

/// For each byte, how JSON escapes it: 0 not at all, `u` as `\u00XX`, any
/// other as a backslash and that character.
static JSON_ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// [`json_string`] for long texts: copied in pieces between escapes.
fn json_string_long(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, &byte) in text.as_bytes().iter().enumerate() {
        let escape = JSON_ESCAPES[usize::from(byte)];
        if escape == 0 {
            continue;
        }
        out.push_str(&text[start..i]);
        push_json_ascii(out, byte);
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_control_characters() {
        let mut out = String::new();
        json_string(&mut out, "a\"b\\c\n\u{0}\u{1f}é");
        assert_eq!(out, r#""a\"b\\c\n\u0000\u001fé""#);
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\n\u{0}\u{1f}é");
    }

    /// Short texts are written byte by byte, long ones in pieces, a
    /// dynamic's text (inline or not) as its string: all give
    /// a JSON string that reads back as the text, at every length around
    /// the switch, with every byte that needs an escape, and with runs of
    /// characters beyond ASCII.
    #[test]
    fn json_strings_read_back_at_every_length() {
        let mut pieces: Vec<String> = (0u8..0x20)
            .map(|byte| char::from(byte).to_string())
            .collect();
        pieces.extend(["a", "é", "\"", "\\", "✓", "\u{7f}", "/"].map(String::from));
        for length in 0..=SHORT_JSON + 2 {
            for (n, piece) in pieces.iter().enumerate() {
                let mixed: String = (0..length)
                    .map(|i| pieces[(i + n) % pieces.len()].as_str())
                    .collect();
                for text in [mixed, piece.repeat(length)] {
                    let mut out = String::from("[");
                    json_string(&mut out, &text);
                    let literal = &out[1..];
                    assert!(!literal.bytes().any(|byte| byte < 0x20), "{literal:?}");
                    let read: String = serde_json::from_str(literal).unwrap();
                    assert_eq!(read, text);
                    let mut from_text = String::from("[");
                    json_text(&mut from_text, &Text::from(text.as_str()));
                    assert_eq!(from_text, out, "{text:?}");
                }
            }
        }
    }

    #[test]
    fn leaves_plain_text_alone() {
        assert_eq!(escape("plain text ✓"), "plain text ✓");
    }

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(escape("&<>\"'"), "&amp;&lt;&gt;&quot;&#39;");
    }

    #[test]
    fn rejects_names_that_break_out_of_a_tag() {
        for bad in [
            "", "a b", "a>b", "a/b", "a=b", "\"a", "a'", "1a", "-a", "a\nb",
        ] {
            assert!(!is_valid_attr_name(bad), "{bad:?} was accepted");
        }
    }
}
