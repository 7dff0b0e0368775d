//! HTML escaping and the explicit way around it.
//!
//! Everything a template interpolates is escaped unless it is wrapped in
//! [`Raw`]. Text and attribute values share one escaper that replaces the five
//! characters that can end a text node or a quoted attribute value, so a value
//! is safe in either place.

use std::fmt::Write as _;

use std::fmt;

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
    out.push('"');
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escaped);
        }
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
