//! The text of one dynamic slot, kept inline when it is short.

use std::cell::RefCell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// The longest text kept inside a [`Text`] rather than in a heap block.
const INLINE: usize = 22;

/// Escaped HTML filling one dynamic slot: text, or a whole attribute such
/// as ` class="x"`.
///
/// Most slots of a render are short (a number, a word, one attribute), and
/// a list of rows holds hundreds of them, each kept until the next render
/// so the diff can compare. Text of up to 22 bytes therefore lives inside
/// the slot itself, with no heap block of its own; longer text is one shared
/// `str`, which a copy of the text shares (an entry of a list that moved
/// is copied into its new place on every render). Either way it reads as a
/// `&str`.
///
/// ```
/// use cinder::rendered::Text;
///
/// let short = Text::from("42");
/// assert_eq!(short, "42");
/// assert_eq!(short.len(), 2);
/// let long = Text::from(" class=\"button button-primary\"".to_string());
/// assert!(long.starts_with(" class="));
/// ```
#[derive(Clone, Default)]
pub struct Text(Repr);

/// Appends the first `len` of `padded` to `out`: all of it, then `out` cut
/// back to `len`, when `out` has the room, since one copy of a fixed size
/// costs less than a call to copy a few bytes; near the end of its room,
/// only the `len` bytes, so that `out` does not grow for bytes it drops.
// Always inlined: every text, static and JSON literal of a page or a diff
// goes through it, and the fixed-size copy is only cheap inlined.
#[inline(always)]
pub(crate) fn extend_padded<const N: usize>(out: &mut Vec<u8>, padded: &[u8; N], len: usize) {
    if out.capacity() - out.len() >= N {
        let end = out.len() + len;
        out.extend_from_slice(padded);
        out.truncate(end);
    } else {
        out.extend_from_slice(&padded[..len]);
    }
}

/// What made an inline text, which a JSON writer may know it by.
#[derive(Clone, Copy)]
pub(crate) enum TextShape {
    /// Any text.
    Any,
    /// An integer's digits and sign, which nothing escapes.
    Digits,
    /// An integer attribute, ` name="digits"`, whose only bytes JSON may
    /// escape are its name's and the quotes around its digits.
    DecimalAttribute,
}

#[derive(Clone)]
enum Repr {
    /// Unused bytes are zero, so two inline texts compare as arrays, what
    /// made them aside.
    Inline {
        shape: TextShape,
        len: u8,
        bytes: [u8; INLINE],
    },
    /// Only text longer than `INLINE`: a text that fits is always inline,
    /// so an inline text never equals a heap one.
    Heap(Arc<str>),
    /// A text written once and let go of, kept in the buffer it was
    /// written in (see [`Text::owned_utf8`]); as a heap one, only text
    /// longer than `INLINE`. Its bytes are written from `str`s only, and, as
    /// an inline text's, checked as UTF-8 only when read as a `str`.
    Owned(Box<[u8]>),
}

impl Repr {
    const EMPTY: Repr = Repr::inline(TextShape::Any, 0, [0; INLINE]);

    const fn inline(shape: TextShape, len: u8, bytes: [u8; INLINE]) -> Repr {
        Repr::Inline { shape, len, bytes }
    }
}

impl Default for Repr {
    fn default() -> Self {
        Repr::EMPTY
    }
}

impl Text {
    /// The empty text.
    pub const fn new() -> Text {
        Text(Repr::EMPTY)
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, bytes, .. } => std::str::from_utf8(&bytes[..usize::from(*len)])
                .expect("inline text is copied whole from `str`s"),
            Repr::Heap(text) => text,
            Repr::Owned(bytes) => {
                std::str::from_utf8(bytes).expect("an owned text is written from `str`s")
            }
        }
    }

    /// Whether the text is kept inside the slot, with no heap block.
    #[inline]
    pub(crate) fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline { .. })
    }

    /// An inline text's shape, length and bytes (unused ones zero): what a
    /// JSON writer needs to copy an integer's text without reading it.
    #[inline]
    pub(crate) fn inline_shape(&self) -> Option<(TextShape, usize, &[u8; INLINE])> {
        match &self.0 {
            Repr::Inline { shape, len, bytes } => Some((*shape, usize::from(*len), bytes)),
            Repr::Heap(_) | Repr::Owned(_) => None,
        }
    }

    /// The text's UTF-8 bytes, without the check of [`Text::as_str`]: a
    /// writer of bytes copies them as they are.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes, .. } => &bytes[..usize::from(*len)],
            Repr::Heap(text) => text.as_bytes(),
            Repr::Owned(bytes) => bytes,
        }
    }

    /// Appends the text's bytes to `out`; an inline text with all its room
    /// (see [`extend_padded`]).
    // Always inlined, as the copy it makes is only cheap inlined: left to
    // the compiler, the loops that write a list's entries called it once a
    // text in some builds.
    #[inline(always)]
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        match &self.0 {
            Repr::Inline { len, bytes, .. } => extend_padded(out, bytes, usize::from(*len)),
            Repr::Heap(text) => out.extend_from_slice(text.as_bytes()),
            Repr::Owned(bytes) => out.extend_from_slice(bytes),
        }
    }

    /// The text of `parts` written one after another: inline when they fit,
    /// without a scratch buffer, else in one exact allocation.
    pub(crate) fn concat(parts: &[&str]) -> Text {
        let len: usize = parts.iter().map(|part| part.len()).sum();
        if len <= INLINE {
            let mut bytes = [0; INLINE];
            let mut at = 0;
            for part in parts {
                bytes[at..at + part.len()].copy_from_slice(part.as_bytes());
                at += part.len();
            }
            Text(Repr::inline(TextShape::Any, len as u8, bytes))
        } else {
            match parts {
                [one] => Text(Repr::Heap(Arc::from(*one))),
                // A shared `str` is made from text already whole: written
                // into the scratch buffer first, it takes one allocation.
                _ => Text::build(|out| parts.iter().for_each(|part| out.push_str(part))),
            }
        }
    }

    /// The text `written` holds, in its own buffer, not copied into a
    /// shared one: for a text written once and let go of (a page's first
    /// render writes a list's HTML into one such), which is never shared.
    /// A clone copies it. `written` holds bytes written from `str`s only:
    /// they are checked as UTF-8 when read as a `str`, not here, since the
    /// page writes them out as bytes.
    pub(crate) fn owned_utf8(written: Vec<u8>) -> Text {
        if written.len() <= INLINE {
            let text = std::str::from_utf8(&written).expect("a text is written from `str`s");
            Text::from(text)
        } else {
            Text(Repr::Owned(written.into_boxed_slice()))
        }
    }

    /// Builds a text by writing it into a scratch buffer, so text that fits
    /// inline costs no allocation and longer text exactly one.
    pub(crate) fn build(write: impl FnOnce(&mut String)) -> Text {
        thread_local! {
            static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
        }
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut buffer) => {
                buffer.clear();
                write(&mut buffer);
                let text = Text::from(buffer.as_str());
                if buffer.capacity() > SCRATCH_KEPT {
                    *buffer = String::new();
                }
                text
            }
            // A writer that renders a template itself (a `Display` built on
            // `html!`) finds the scratch buffer taken.
            Err(_) => {
                let mut buffer = String::new();
                write(&mut buffer);
                Text::from(buffer)
            }
        })
    }
}

#[cfg(test)]
impl Text {
    /// How many texts share this one's heap block; 0 for an inline text.
    pub(crate) fn shares(&self) -> usize {
        match &self.0 {
            Repr::Heap(text) => Arc::strong_count(text),
            _ => 0,
        }
    }
}

/// An integer's sign and magnitude: the integers a template writes as
/// decimal text.
pub trait Decimal: Copy {
    /// Whether the value is below zero, and its absolute value.
    fn sign_and_magnitude(self) -> (bool, u128);
}

macro_rules! unsigned_decimal {
    ($($t:ty),*) => {$(
        impl Decimal for $t {
            #[allow(clippy::unnecessary_cast)]
            fn sign_and_magnitude(self) -> (bool, u128) {
                (false, self as u128)
            }
        }
    )*};
}

macro_rules! signed_decimal {
    ($($t:ty),*) => {$(
        impl Decimal for $t {
            #[allow(clippy::unnecessary_cast)]
            fn sign_and_magnitude(self) -> (bool, u128) {
                (self < 0, self.unsigned_abs() as u128)
            }
        }
    )*};
}

unsigned_decimal!(u8, u16, u32, u64, u128, usize);
signed_decimal!(i8, i16, i32, i64, i128, isize);

/// Magnitudes below this have at most 15 digits: with a sign, 16 bytes,
/// which [`Text::decimal`] assembles in one `u128`.
const REGISTER_DECIMAL_LIMIT: u64 = 1_000_000_000_000_000;

/// The two ASCII digits of 0 to 99, the tens first in memory.
const DIGIT_PAIRS: [u16; 100] = {
    let mut pairs = [0; 100];
    let mut i = 0;
    while i < 100 {
        pairs[i] = u16::from_le_bytes([b'0' + (i / 10) as u8, b'0' + (i % 10) as u8]);
        i += 1;
    }
    pairs
};

impl Text {
    /// The decimal text of an integer.
    ///
    /// Rows of a list hold many numbers, and a text written a byte at a time
    /// and then moved whole makes the processor wait for the small writes
    /// to land before it can read them back. So the digits are gathered in
    /// a register, lowest first, each shifting the ones before it up, and
    /// reach memory in one write.
    pub(crate) fn decimal(value: impl Decimal) -> Text {
        match register_digits(value) {
            Some((gathered, len)) => {
                let mut bytes = [0; INLINE];
                bytes[..16].copy_from_slice(&gathered.to_le_bytes());
                Text(Repr::inline(TextShape::Digits, len, bytes))
            }
            None => {
                let (negative, magnitude) = value.sign_and_magnitude();
                let mut digits = itoa::Buffer::new();
                let digits = digits.format(magnitude);
                Text::concat(&[if negative { "-" } else { "" }, digits])
            }
        }
    }

    /// The attribute ` name="value"` for a `value` that needs no escaping:
    /// the space, `="` and the closing quote are written as bytes and only
    /// the name and the value are copied, where [`Text::concat`] would copy
    /// each of the five pieces in a call. Inline when it fits; longer, put
    /// together in [`Text::build`]'s buffer, already known to be UTF-8.
    pub(crate) fn plain_attribute(name: &str, value: &str) -> Text {
        let len = name.len() + value.len() + 4;
        if len > INLINE {
            return Text::build(|out| {
                out.push(' ');
                out.push_str(name);
                out.push_str("=\"");
                out.push_str(value);
                out.push('"');
            });
        }
        // The bytes past `len` stay zero, as an inline text's are.
        let mut bytes = [0; INLINE];
        let value_at = write_attribute_name(&mut bytes, name);
        bytes[value_at..len - 1].copy_from_slice(value.as_bytes());
        bytes[len - 1] = b'"';
        Text(Repr::inline(TextShape::Any, len as u8, bytes))
    }

    /// The attribute ` name="…"` of an integer, as [`Text::decimal`] makes
    /// its digits: a list of rows writes one per row (`phx-value-id={id}`).
    pub(crate) fn decimal_attribute(name: &str, value: impl Decimal) -> Text {
        match register_digits(value) {
            Some((gathered, digits)) if name.len() + 4 + usize::from(digits) <= INLINE => {
                // ` name="`, then the 16 bytes of digits in one write (zeros
                // past the last digit), then the closing quote.
                let mut scratch = [0u8; INLINE + 20];
                let at = write_attribute_name(&mut scratch, name);
                scratch[at..at + 16].copy_from_slice(&gathered.to_le_bytes());
                let len = at + usize::from(digits);
                scratch[len] = b'"';
                let mut bytes = [0; INLINE];
                bytes.copy_from_slice(&scratch[..INLINE]);
                Text(Repr::inline(
                    TextShape::DecimalAttribute,
                    (len + 1) as u8,
                    bytes,
                ))
            }
            _ => {
                let digits = Text::decimal(value);
                Text::plain_attribute(name, &digits)
            }
        }
    }
}

/// Writes ` name="` at the start of `out`, which has room for it; returns
/// where the value goes.
#[inline(always)]
fn write_attribute_name(out: &mut [u8], name: &str) -> usize {
    let value_at = name.len() + 3;
    out[0] = b' ';
    out[1..value_at - 2].copy_from_slice(name.as_bytes());
    out[value_at - 2] = b'=';
    out[value_at - 1] = b'"';
    value_at
}

/// Appends an integer's decimal text to `out`, as [`Text::decimal`] makes
/// it: the digits gathered in a register reach `out` in one fixed-size copy.
#[inline]
pub(crate) fn write_decimal(out: &mut Vec<u8>, value: impl Decimal) {
    match register_digits(value) {
        Some((gathered, len)) => extend_padded(out, &gathered.to_le_bytes(), usize::from(len)),
        None => out.extend_from_slice(Text::decimal(value).as_bytes()),
    }
}

/// An integer's digits (and sign) gathered in a register, with their count;
/// `None` from [`REGISTER_DECIMAL_LIMIT`] on, where they may not fit.
fn register_digits(value: impl Decimal) -> Option<(u128, u8)> {
    let (negative, magnitude) = value.sign_and_magnitude();
    let magnitude = u64::try_from(magnitude)
        .ok()
        .filter(|&magnitude| magnitude < REGISTER_DECIMAL_LIMIT)?;
    Some(gather_digits(negative, magnitude))
}

/// Gathers digits lowest first, each step shifting the ones before it up:
/// the first byte in memory is the highest digit.
fn gather_digits(negative: bool, mut magnitude: u64) -> (u128, u8) {
    let mut gathered: u128 = 0;
    let mut len = 0;
    while magnitude >= 100 {
        let pair = DIGIT_PAIRS[(magnitude % 100) as usize];
        gathered = (gathered << 16) | u128::from(pair);
        magnitude /= 100;
        len += 2;
    }
    if magnitude >= 10 {
        gathered = (gathered << 16) | u128::from(DIGIT_PAIRS[magnitude as usize]);
        len += 2;
    } else {
        gathered = (gathered << 8) | u128::from(b'0' + magnitude as u8);
        len += 1;
    }
    if negative {
        gathered = (gathered << 8) | u128::from(b'-');
        len += 1;
    }
    (gathered, len)
}

/// The scratch buffer [`Text::build`] keeps between calls; a larger one,
/// grown by a long text, is given back.
const SCRATCH_KEPT: usize = 4096;

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::concat(&[text])
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        if text.len() <= INLINE {
            Text::from(text.as_str())
        } else {
            Text(Repr::Heap(Arc::from(text)))
        }
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        match text.0 {
            Repr::Heap(text) => text.as_ref().into(),
            Repr::Owned(bytes) => {
                String::from_utf8(bytes.into_vec()).expect("an owned text is written from `str`s")
            }
            inline => Text(inline).as_str().to_owned(),
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        match (&self.0, &other.0) {
            // What made a text does not change what it is: the same digits
            // from a `str` are the same text.
            (
                Repr::Inline {
                    len: a, bytes: x, ..
                },
                Repr::Inline {
                    len: b, bytes: y, ..
                },
            ) => a == b && x == y,
            (Repr::Heap(a), Repr::Heap(b)) => Arc::ptr_eq(a, b) || a == b,
            // Only texts too long to keep inline are kept elsewhere; equal
            // bytes are equal text, without reading either as a `str`.
            (Repr::Inline { .. }, _) | (_, Repr::Inline { .. }) => false,
            _ => self.as_bytes() == other.as_bytes(),
        }
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_three_words() {
        assert_eq!(std::mem::size_of::<Text>(), 24);
    }

    #[test]
    fn an_owned_text_keeps_its_buffer_and_is_the_text_it_holds() {
        let html = "<li>row</li>".repeat(10);
        let written = html.as_bytes().to_vec();
        let at = written.as_ptr();
        let text = Text::owned_utf8(written);
        assert_eq!(text.as_str(), html);
        assert_eq!(text.as_bytes().as_ptr(), at, "no copy");
        assert!(!text.is_inline());
        assert_eq!(text, Text::from(html.as_str()));
        assert_eq!(Text::from(html.as_str()), text);
        assert_eq!(text.clone(), text);
        let mut out = Vec::new();
        text.write_to(&mut out);
        assert_eq!(out, html.as_bytes());
        assert_eq!(String::from(text), html);
        let short = Text::owned_utf8(b"<b>1</b>".to_vec());
        assert!(short.is_inline(), "short texts stay inline, as every other");
        assert_eq!(short, Text::from("<b>1</b>"));
    }

    #[test]
    fn every_length_round_trips_and_compares() {
        let source = "0123456789abcdefghijklmnopqrstuvwxyzé";
        for end in (0..=source.len()).filter(|&end| source.is_char_boundary(end)) {
            let piece = &source[..end];
            let text = Text::from(piece);
            assert_eq!(text.as_str(), piece);
            assert_eq!(text, Text::from(piece.to_string()));
            assert_eq!(String::from(text.clone()), piece);
            assert_ne!(text, Text::from(format!("{piece}!")));
            assert_eq!(text.as_bytes(), piece.as_bytes());
            for room in [0, 64] {
                let mut written = Vec::with_capacity(1 + room);
                written.push(b'<');
                text.write_to(&mut written);
                assert_eq!(written, [b"<", piece.as_bytes()].concat());
            }
            let inline = end <= INLINE;
            assert_eq!(matches!(text.0, Repr::Inline { .. }), inline);
        }
    }

    #[test]
    fn concatenated_parts_read_back_whole() {
        assert_eq!(Text::concat(&[]), "");
        assert_eq!(Text::concat(&[" id=\"", "42", "\""]), " id=\"42\"");
        let long = Text::concat(&[" phx-value-identifier=\"", "1234567890", "\""]);
        assert_eq!(long, " phx-value-identifier=\"1234567890\"");
        assert_eq!(long, Text::from(long.as_str().to_string()));
        assert_eq!(Text::concat(&["é", "日本"]), "é日本");
    }

    /// A plain attribute is the text its five pieces make, inline or not,
    /// at every length of its name and value around the inline limit.
    #[test]
    fn a_plain_attribute_is_its_pieces_put_together() {
        let source = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEé";
        let pieces = (0..=source.len()).filter(|&end| source.is_char_boundary(end));
        for name_end in pieces.clone().skip(1) {
            for value_end in pieces.clone() {
                let (name, value) = (&source[..name_end], &source[..value_end]);
                let made = Text::plain_attribute(name, value);
                let expected = Text::concat(&[" ", name, "=\"", value, "\""]);
                assert_eq!(made, expected, "{name} {value}");
                assert_eq!(made.as_str(), format!(" {name}=\"{value}\""));
                assert_eq!(made.is_inline(), expected.is_inline(), "{name} {value}");
            }
        }
    }

    #[test]
    fn decimals_read_as_their_digits() {
        let limit = i128::from(REGISTER_DECIMAL_LIMIT);
        let values = [
            0,
            1,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            65_535,
            limit - 1,
            limit,
        ];
        let extremes = [
            i128::from(u64::MAX),
            i128::from(i64::MIN),
            i128::MIN,
            i128::MAX,
        ];
        for value in values.into_iter().flat_map(|v| [v, -v]).chain(extremes) {
            let expected = value.to_string();
            assert_eq!(Text::decimal(value), expected.as_str(), "{value}");
            assert_eq!(Text::decimal(value), Text::from(expected), "{value}");
            let register = value.unsigned_abs() < REGISTER_DECIMAL_LIMIT.into();
            let text = Text::decimal(value);
            let digits = matches!(text.inline_shape(), Some((TextShape::Digits, ..)));
            assert_eq!(digits, register, "{value}");
        }
        assert_eq!(Text::decimal(u64::MAX), u64::MAX.to_string().as_str());
        assert_eq!(Text::decimal(u128::MAX), u128::MAX.to_string().as_str());
        assert_eq!(Text::decimal(i8::MIN), "-128");
        let attribute = Text::decimal_attribute("phx-value-i", -42);
        assert_eq!(attribute, Text::from(" phx-value-i=\"-42\""));
        let long = Text::decimal_attribute("phx-value-i", u128::MAX);
        assert_eq!(long.as_str(), format!(" phx-value-i=\"{}\"", u128::MAX));
        assert!(matches!(
            attribute.inline_shape(),
            Some((TextShape::DecimalAttribute, ..))
        ));
        assert_eq!(Text::decimal(7u8), "7");
    }

    #[test]
    fn built_text_matches_written_text() {
        let short = Text::build(|out| out.push_str("<b>"));
        assert_eq!(short, "<b>");
        let long = Text::build(|out| out.push_str(&"x".repeat(5000)));
        assert_eq!(long.len(), 5000);
        let nested = Text::build(|out| {
            let inner = Text::build(|inner| inner.push_str("inner"));
            out.push_str(&inner);
        });
        assert_eq!(nested, "inner");
    }
}
