//! HTML escaping and the explicit way around it.
//!
//! Everything a template interpolates is escaped unless it is wrapped in
//! [`Raw`]. Text and attribute values share one escaper that replaces the five
//! characters that can end a text node or a quoted attribute value, so a value
//! is safe in either place.

use std::fmt;

use crate::rendered::{extend_padded, Text, TextShape};

/// Appends `text` to `out` with `&`, `<`, `>`, `"` and `'` replaced by
/// character references.
///
/// ```
/// let mut out = String::new();
/// cinder::escape::escape_into(&mut out, "<b>\"hi\" & 'bye'</b>");
/// assert_eq!(out, "&lt;b&gt;&quot;hi&quot; &amp; &#39;bye&#39;&lt;/b&gt;");
/// ```
pub fn escape_into(out: &mut String, text: &str) {
    escape_runs(text, |run| out.push_str(run));
}

/// [`escape_into`] for HTML kept as bytes, such as a page being written.
pub(crate) fn escape_bytes_into(out: &mut Vec<u8>, text: &str) {
    escape_runs(text, |run| out.extend_from_slice(run.as_bytes()));
}

/// Hands `text` to `push` escaped, in runs: the text between the
/// characters to replace, and each one's replacement.
#[inline]
fn escape_runs<'a>(text: &'a str, mut push: impl FnMut(&'a str)) {
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let replacement = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        push(&text[start..i]);
        push(replacement);
        start = i + 1;
    }
    push(&text[start..]);
}

/// Whether [`escape_into`] would change `text`: most text of a page (names,
/// numbers, class lists) needs no escaping and can be copied as it is.
pub(crate) fn needs_escaping(text: &str) -> bool {
    let mut words = text.as_bytes().chunks_exact(8);
    let escape_in_word = words
        .by_ref()
        .any(|word| word_needs_html_escape(to_word(word)));
    escape_in_word || words.remainder().iter().copied().any(needs_html_escape)
}

/// Whether [`escape_into`] replaces `byte`.
fn needs_html_escape(byte: u8) -> bool {
    matches!(byte, b'&' | b'<' | b'>' | b'"' | b'\'')
}

/// Whether any of the eight bytes of `word` is one [`escape_into`] replaces,
/// as [`needs_html_escape`] tells of one byte.
#[inline]
fn word_needs_html_escape(word: u64) -> bool {
    let found = bytes_equal(word, b'&')
        | bytes_equal(word, b'<')
        | bytes_equal(word, b'>')
        | bytes_equal(word, b'"')
        | bytes_equal(word, b'\'');
    found & HIGH_BITS != 0
}

/// The eight bytes of `chunk`, from a slice's `chunks_exact(8)`, as one word.
#[inline]
fn to_word(chunk: &[u8]) -> u64 {
    u64::from_le_bytes(chunk.try_into().expect("chunks of eight bytes"))
}

/// Eight times the byte 0x01: a byte repeated over a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of each byte of a word.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// A word whose high bits (masked with [`HIGH_BITS`]) are not all clear
/// exactly when some byte of `word` is `byte`: the lowest such byte's is
/// set, and a borrow from it may set some above; with no such byte, none is.
#[inline]
fn bytes_equal(word: u64, byte: u8) -> u64 {
    let zeroed = word ^ (ONES * u64::from(byte));
    zeroed.wrapping_sub(ONES) & !zeroed
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

/// Where JSON text is written: a `String` (a frame's header), or the bytes
/// of a diff, which are checked as UTF-8 once, when the diff is whole,
/// instead of text by text.
pub(crate) trait JsonOut {
    /// Appends `text` as a JSON string literal.
    fn push_json(&mut self, text: &str);
}

impl JsonOut for String {
    fn push_json(&mut self, text: &str) {
        // A frame's topic, event and refs never need an escape: copied whole.
        if json_escape_at(text.as_bytes()).is_none() {
            self.reserve(text.len() + 2);
            self.push('"');
            self.push_str(text);
            self.push('"');
            return;
        }
        // The rare text with escapes goes through the one escaper, that of
        // bytes; escaping keeps whole characters, so the result is UTF-8.
        let mut literal = Vec::with_capacity(text.len() + 8);
        json_bytes(&mut literal, text.as_bytes());
        self.push_str(std::str::from_utf8(&literal).expect("an escaped string is UTF-8"));
    }
}

impl JsonOut for Vec<u8> {
    fn push_json(&mut self, text: &str) {
        json_bytes(self, text.as_bytes());
    }
}

/// Writes `text` as a JSON string literal (the diff and the socket's
/// frames both write strings this way, without an allocation).
pub(crate) fn json_string(out: &mut impl JsonOut, text: &str) {
    out.push_json(text);
}

/// Writes a dynamic's text as a JSON string literal, from its bytes: an
/// inline text read as a `&str` would be checked as UTF-8 again.
// Always inlined: the loops over a list's texts call it for each.
#[inline(always)]
pub(crate) fn json_text(out: &mut Vec<u8>, text: &Text) {
    match text.inline_shape() {
        Some((TextShape::Digits, len, bytes)) => json_digits(out, len, bytes),
        Some((TextShape::DecimalAttribute, len, bytes)) => json_decimal_attribute(out, len, bytes),
        _ => json_bytes(out, text.as_bytes()),
    }
}

/// Writes an integer's inline text between quotes: nothing in it needs
/// escaping, so its bytes are copied whole, unread, as
/// [`Text::write_to`] copies them.
#[inline]
fn json_digits<const N: usize>(out: &mut Vec<u8>, len: usize, digits: &[u8; N]) {
    let mut literal = [b'"'; 32];
    literal[1..=N].copy_from_slice(digits);
    literal[(len + 1) & 31] = b'"';
    extend_padded(out, &literal, len + 2);
}

/// Writes an integer attribute's inline text, ` name="digits"`, between
/// quotes: when its name holds nothing to escape (attribute names seldom
/// do), name and digits are copied whole and only the two quotes around
/// the digits are escaped.
#[inline]
fn json_decimal_attribute<const N: usize>(out: &mut Vec<u8>, len: usize, bytes: &[u8; N]) {
    // The quote that opens the digits is the last one before the closing
    // quote; the digits and sign before that are at most sixteen bytes.
    let quote = bytes[..len - 1]
        .iter()
        .rposition(|&byte| byte == b'"')
        .unwrap_or(0)
        & 31;
    let mut source = [0u8; 64];
    source[..N].copy_from_slice(bytes);
    // Past its length the text is zeros, which count too: anything more
    // than those and the two quotes is in the name. Counted over 32 bytes,
    // two vectors' worth.
    let counted: &[u8; 32] = source[..32].try_into().expect("32 of 64 bytes");
    if json_escapes_in(counted) != 2 + (32 - len) {
        return json_bytes(out, &bytes[..len]);
    }
    // `"`, the name and `=`, `\"`, the digits, `\"`, `"`; the masks keep
    // every index in the buffer without a check.
    let mut literal = [0u8; 64];
    literal[0] = b'"';
    literal[1..=N].copy_from_slice(bytes);
    literal[quote + 1] = b'\\';
    literal[quote + 2] = b'"';
    literal[quote + 3..quote + 27].copy_from_slice(&source[quote + 1..quote + 25]);
    let written = (len + 4) & 31;
    literal[(written - 3) & 63] = b'\\';
    literal[(written - 2) & 63] = b'"';
    literal[(written - 1) & 63] = b'"';
    // Copied here rather than by `extend_padded`, whose two copies the
    // compiler merges into one call to `memcpy` in this function.
    if out.capacity() - out.len() < 32 {
        out.extend_from_slice(&literal[..written]);
        return;
    }
    let end = out.len() + written;
    out.extend_from_slice(&literal[..32]);
    out.truncate(end);
}

/// Writes UTF-8 `bytes` as a JSON string literal.
// Inlined with its short path into the diff's loops over a list's texts:
// the call cost about a fifth of what writing a short text does.
#[inline]
fn json_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    if !json_bytes_small(out, bytes) {
        json_bytes_long(out, bytes);
    }
}

/// [`json_bytes`] for a text [`json_bytes_small`] does not write. Bytes
/// beyond ASCII never need an escape, so the text is copied in runs
/// between escapes, each found eight bytes at a time ([`json_escape_at`]).
#[inline(never)]
fn json_bytes_long(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 8);
    out.push(b'"');
    let mut copied = 0;
    while let Some(run) = json_escape_at(&bytes[copied..]) {
        let at = copied + run;
        out.extend_from_slice(&bytes[copied..at]);
        out.extend_from_slice(json_escape(bytes[at]).as_slice());
        copied = at + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

/// The high bit of each byte of `word` that needs an escape in a JSON
/// string (a control character, `"` or `\`), exact for the lowest such byte
/// (a borrow only carries upward); none if no byte does. The test for
/// "some byte is below n" (n ≤ 128) is exact for the word as a whole, as
/// [`bytes_equal`]'s is; a byte from 0x80 up is never taken for one.
#[inline]
fn json_escape_bits(word: u64) -> u64 {
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    (below_space | bytes_equal(word, b'"') | bytes_equal(word, b'\\')) & HIGH_BITS
}

/// Where the first byte of `bytes` that a JSON string cannot hold as it is
/// (a control character, `"` or `\`) lies, if one does. Eight bytes are
/// looked at in one step: a frame's topic, refs and event names, and the
/// strings of an event's payload, are read this way.
pub(crate) fn json_escape_at(bytes: &[u8]) -> Option<usize> {
    first_marked(bytes, json_escape_bits, needs_json_escape)
}

/// Where the first `"` or `\` of `bytes` lies, if one does, found eight
/// bytes at a time: a join's payload is mostly long strings (its tokens).
pub(crate) fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    first_marked(
        bytes,
        |word| (bytes_equal(word, b'"') | bytes_equal(word, b'\\')) & HIGH_BITS,
        |byte| matches!(byte, b'"' | b'\\'),
    )
}

/// Where the first byte of `bytes` lies that `marks` marks in its word (the
/// high bit of each such byte, exact for the lowest) and `is_marked` tells
/// of one byte alone, for the bytes after the last whole word.
#[inline]
fn first_marked(
    bytes: &[u8],
    marks: impl Fn(u64) -> u64,
    is_marked: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in words.by_ref() {
        let found = marks(to_word(word));
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = words.remainder();
    rest.iter()
        .position(|&byte| is_marked(byte))
        .map(|place| at + place)
}

/// The longest text [`json_bytes_small`] writes: as long as a dynamic's
/// inline text, which most texts of a diff are.
const SMALL_JSON: usize = 22;

/// [`json_bytes`] for a text of up to [`SMALL_JSON`] bytes without control
/// characters, such as `42` or ` phx-value-id="1"`; returns `false`, having
/// written nothing, for any other. The literal is escaped into a buffer on
/// the stack and appended whole, then cut to its length: one copy of a
/// fixed size instead of a copy per run between escapes, each a call.
#[inline]
fn json_bytes_small(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    if bytes.len() > SMALL_JSON {
        return false;
    }
    // Each byte takes at most two (`\"`), so the literal takes at most 46
    // of the 64 bytes: masking an index with 63 never changes it, and lets
    // the loop go without bounds checks.
    let mut literal = [0u8; 64];
    literal[0] = b'"';
    let mut len = 1;
    for &byte in bytes {
        match JSON_ESCAPES[usize::from(byte)] {
            0 => {
                literal[len & 63] = byte;
                len += 1;
            }
            b'u' => return false,
            short => {
                literal[len & 63] = b'\\';
                literal[(len + 1) & 63] = short;
                len += 2;
            }
        }
    }
    literal[len & 63] = b'"';
    extend_padded(out, &literal, (len & 63) + 1);
    true
}

/// How many of `bytes` JSON escapes (as [`JSON_ESCAPES`] has them): a sum
/// over a buffer of a fixed size, which the compiler makes of a few vector
/// instructions.
#[inline]
fn json_escapes_in<const N: usize>(bytes: &[u8; N]) -> usize {
    let escapes = bytes.iter().fold(0u8, |escapes, &byte| {
        escapes.wrapping_add(u8::from((byte < 0x20) | (byte == b'"') | (byte == b'\\')))
    });
    usize::from(escapes)
}

#[inline]
fn needs_json_escape(byte: u8) -> bool {
    JSON_ESCAPES[usize::from(byte)] != 0
}

/// The escape of one byte in a JSON string: `\"`, `\n`, … or `\u00XX`.
struct JsonEscape {
    bytes: [u8; 6],
    len: usize,
}

impl JsonEscape {
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[inline]
fn json_escape(byte: u8) -> JsonEscape {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match JSON_ESCAPES[usize::from(byte)] {
        b'u' => JsonEscape {
            bytes: [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ],
            len: 6,
        },
        short => JsonEscape {
            bytes: [b'\\', short, 0, 0, 0, 0],
            len: 2,
        },
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `word_test` holds for a word exactly when `byte_test`
    /// holds for one of its bytes: every byte, at every place of a word of
    /// each filler (ASCII, and bytes beyond it, whose borrows the test must
    /// not take for a match).
    fn assert_word_test_matches_byte_test(word_test: fn(u64) -> bool, byte_test: fn(u8) -> bool) {
        for filler in [b'a', b' ', b'#', b'%', b'=', b']', 0x7f, 0x80, 0xc3, 0xff] {
            assert!(!byte_test(filler));
            assert!(!word_test(u64::from_le_bytes([filler; 8])));
            for place in 0..8 {
                for byte in 0..=255u8 {
                    let mut word = [filler; 8];
                    word[place] = byte;
                    assert_eq!(
                        word_test(u64::from_le_bytes(word)),
                        byte_test(byte),
                        "{byte:#04x} at {place} among {filler:#04x}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_word_needs_a_json_escape_exactly_when_one_of_its_bytes_does() {
        assert_word_test_matches_byte_test(|word| json_escape_bits(word) != 0, needs_json_escape);
    }

    /// The first byte to escape is found wherever it is, whatever follows
    /// it, in texts of every length around a word's.
    #[test]
    fn the_first_byte_needing_a_json_escape_is_found_at_every_place() {
        for filler in [b'a', b' ', 0x7f, 0xc3, 0xff] {
            for length in 0..40 {
                let plain = vec![filler; length];
                assert_eq!(json_escape_at(&plain), None);
                for place in 0..length {
                    for byte in (0..=255u8).filter(|&byte| needs_json_escape(byte)) {
                        let mut text = plain.clone();
                        text[place] = byte;
                        // Later bytes to escape must not be taken for it.
                        text[place + 1..].fill(b'"');
                        assert_eq!(
                            json_escape_at(&text),
                            Some(place),
                            "{byte:#04x} at {place} of {length} among {filler:#04x}"
                        );
                    }
                }
            }
        }
    }

    /// And a text of any length needs HTML escaping when any of its bytes
    /// does, wherever it is.
    #[test]
    fn a_word_needs_html_escaping_exactly_when_one_of_its_bytes_does() {
        assert_word_test_matches_byte_test(word_needs_html_escape, needs_html_escape);
        for length in 0..40 {
            for place in 0..length {
                for special in ["&", "<", ">", "\"", "'"] {
                    let mut text = "é".repeat(length / 2) + &"x".repeat(length % 2);
                    assert!(!needs_escaping(&text), "{text:?}");
                    let at = text
                        .char_indices()
                        .nth(place / 2)
                        .map_or(text.len(), |(i, _)| i);
                    text.insert_str(at, special);
                    assert!(needs_escaping(&text), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn json_strings_escape_control_characters() {
        let mut out = String::new();
        json_string(&mut out, "a\"b\\c\n\u{0}\u{1f}é");
        assert_eq!(out, r#""a\"b\\c\n\u0000\u001fé""#);
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\n\u{0}\u{1f}é");
    }

    /// Into a `String` or into bytes, from a `str` or from a dynamic's text
    /// (inline or not), small texts and longer: all give the same JSON string,
    /// which reads back as the text, at every length around the switch, with
    /// every byte that needs an escape, and with runs of characters beyond
    /// ASCII.
    #[test]
    fn json_strings_read_back_at_every_length() {
        let mut pieces: Vec<String> = (0u8..0x20)
            .map(|byte| char::from(byte).to_string())
            .collect();
        pieces.extend(["a", "é", "\"", "\\", "✓", "\u{7f}", "/"].map(String::from));
        for length in 0..=SMALL_JSON * 3 {
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
                    // Bytes with no room to spare, and with room.
                    for room in [0, 256] {
                        let mut bytes = Vec::with_capacity(1 + room);
                        bytes.push(b'[');
                        json_string(&mut bytes, &text);
                        assert_eq!(bytes, out.as_bytes(), "{text:?}");
                        let mut from_text = Vec::with_capacity(1 + room);
                        from_text.push(b'[');
                        json_text(&mut from_text, &Text::from(text.as_str()));
                        assert_eq!(from_text, out.as_bytes(), "{text:?}");
                    }
                }
            }
        }
    }

    /// An integer's text is written unread: the same JSON as its digits
    /// from a `str`, at every length it can have inline, with and without
    /// room to spare.
    #[test]
    fn integer_texts_are_json_strings_of_their_digits() {
        let mut values = vec![0i64, -1, 7, -7, i64::MIN, i64::MAX];
        values.extend((1..=18).flat_map(|digits| {
            let all_nines = 10i64.pow(digits) - 1;
            [all_nines, -all_nines, all_nines / 9 * 4]
        }));
        for value in values {
            let text = Text::decimal(value);
            let expected = format!("[\"{value}\"");
            for room in [0, 1, 23, 24, 256] {
                let mut out = Vec::with_capacity(1 + room);
                out.push(b'[');
                json_text(&mut out, &text);
                assert_eq!(String::from_utf8(out).unwrap(), expected, "{value}");
            }
        }
    }

    /// An integer attribute's text is written with only its quotes read:
    /// the same JSON as `serde_json` writes for its text, for names and
    /// values of every length that fits inline, names JSON must escape
    /// (written the usual way), and every room in the buffer.
    #[test]
    fn integer_attribute_texts_are_json_strings_of_their_text() {
        let usual = Text::decimal_attribute("phx-value-i", 7);
        assert!(matches!(
            usual.inline_shape(),
            Some((TextShape::DecimalAttribute, ..))
        ));
        let mut values = vec![0i64, -1, 7, -7, i64::MIN, i64::MAX];
        values.extend((1..=18).flat_map(|digits| {
            let all_nines = 10i64.pow(digits) - 1;
            [all_nines, -all_nines]
        }));
        let names = [
            "i",
            "id",
            "phx-value-i",
            "data-quite-long",
            "a\\b",
            "\"q",
            "\n",
        ];
        for name in names {
            for &value in &values {
                let text = Text::decimal_attribute(name, value);
                let expected = format!("[{}", serde_json::to_string(text.as_str()).unwrap());
                for room in [0, 1, 25, 31, 32, 256] {
                    let mut out = Vec::with_capacity(1 + room);
                    out.push(b'[');
                    json_text(&mut out, &text);
                    let written = String::from_utf8(out).unwrap();
                    assert_eq!(written, expected, "{name} {value} {room}");
                }
            }
        }
    }

    /// Every byte that needs an escape, at every place of every short
    /// length, amid bytes one bit away from `"` and `\\` and bytes around
    /// 0x20, is escaped as `serde_json` escapes it.
    #[test]
    fn short_json_strings_escape_at_every_place() {
        let fillers = ["a", "#", "!", "]", "^", " ", "\u{7f}", "é"];
        let specials = ["\"", "\\", "\u{0}", "\u{1f}", "\n", "\u{1}"];
        for len in 1..=SMALL_JSON {
            for filler in fillers {
                for special in specials {
                    for at in 0..len {
                        let mut chars: Vec<&str> = vec![filler; len];
                        chars[at] = special;
                        let text: String = chars.concat();
                        let mut out = Vec::new();
                        json_bytes(&mut out, text.as_bytes());
                        let expected = serde_json::to_string(&text).unwrap();
                        assert_eq!(String::from_utf8(out).unwrap(), expected, "{text:?}");
                    }
                }
                let plain = filler.repeat(len);
                let mut out = Vec::new();
                json_bytes(&mut out, plain.as_bytes());
                assert_eq!(out, serde_json::to_string(&plain).unwrap().as_bytes());
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
