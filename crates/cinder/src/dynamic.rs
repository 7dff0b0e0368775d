//! What a template can interpolate, and how each value becomes HTML.
//!
//! `{expr}` in a template needs [`IntoDynamic`]; `name={expr}` needs
//! [`AttrValue`]; `{..expr}` inside a tag needs an iterator of
//! `(name, value)` pairs. Text is escaped on the way in; [`Raw`] opts out.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::escape::{escape_into, is_valid_attr_name, needs_escaping, Raw};
use crate::rendered::{Cid, Comprehension, Dynamic, Rendered, Text};

/// A value that can fill a dynamic slot of a template.
///
/// Text (strings, numbers, `char`) is escaped; strings may be `&str`,
/// `String`, `Cow<str>`, `Box<str>` or `Arc<str>`, so state that shares one
/// string among many views renders it without converting it first.
/// [`Rendered`] nests a template;
/// [`Cid`] references a stateful component; `Option` renders `None` as
/// nothing; [`Raw`] inserts HTML unescaped.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be rendered in a template",
    label = "this value has no HTML form",
    note = "render strings, numbers, `html!` trees, `Option`s of those or `Raw(html)`; format other values first, e.g. `{{value.to_string()}}`"
)]
pub trait IntoDynamic {
    /// Converts the value into a dynamic slot.
    fn into_dynamic(self) -> Dynamic;
}

impl IntoDynamic for Dynamic {
    fn into_dynamic(self) -> Dynamic {
        self
    }
}

impl IntoDynamic for Rendered {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Nested(Box::new(self))
    }
}

impl IntoDynamic for &Rendered {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Nested(Box::new(self.clone()))
    }
}

impl IntoDynamic for Comprehension {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::List(Box::new(self))
    }
}

impl IntoDynamic for Cid {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Component(self)
    }
}

impl IntoDynamic for &Cid {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Component(*self)
    }
}

impl IntoDynamic for &str {
    fn into_dynamic(self) -> Dynamic {
        if needs_escaping(self) {
            Dynamic::Text(Text::build(|out| escape_into(out, self)))
        } else {
            Dynamic::Text(self.into())
        }
    }
}

impl<'a, 'b: 'a, T: ?Sized> IntoDynamic for &'a &'b T
where
    &'b T: IntoDynamic,
{
    fn into_dynamic(self) -> Dynamic {
        (*self).into_dynamic()
    }
}

impl IntoDynamic for &Dynamic {
    fn into_dynamic(self) -> Dynamic {
        self.clone()
    }
}

impl IntoDynamic for &Comprehension {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::List(Box::new(self.clone()))
    }
}

impl IntoDynamic for String {
    fn into_dynamic(self) -> Dynamic {
        self.as_str().into_dynamic()
    }
}

impl IntoDynamic for &String {
    fn into_dynamic(self) -> Dynamic {
        self.as_str().into_dynamic()
    }
}

impl IntoDynamic for Cow<'_, str> {
    fn into_dynamic(self) -> Dynamic {
        self.as_ref().into_dynamic()
    }
}

impl IntoDynamic for &Cow<'_, str> {
    fn into_dynamic(self) -> Dynamic {
        self.as_ref().into_dynamic()
    }
}

/// A string behind a pointer renders as its `str`, in a text slot or as
/// an attribute's value.
macro_rules! owned_str_dynamic {
    ($($t:ty),*) => {$(
        impl IntoDynamic for $t {
            fn into_dynamic(self) -> Dynamic {
                (*self).into_dynamic()
            }
        }

        impl IntoDynamic for &$t {
            fn into_dynamic(self) -> Dynamic {
                (**self).into_dynamic()
            }
        }

        impl AttrValue for $t {
            fn write_attr(&self, name: &str, out: &mut String) {
                (**self).write_attr(name, out);
            }

            fn attr_text(&self, name: &str) -> Text {
                (**self).attr_text(name)
            }
        }
    )*};
}

owned_str_dynamic!(Arc<str>, Box<str>);

impl<T: AsRef<str>> IntoDynamic for Raw<T> {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Text(self.0.as_ref().into())
    }
}

impl<T: AsRef<str>> IntoDynamic for &Raw<T> {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Text(self.0.as_ref().into())
    }
}

impl<T: IntoDynamic> IntoDynamic for Option<T> {
    fn into_dynamic(self) -> Dynamic {
        self.map_or_else(Dynamic::empty, IntoDynamic::into_dynamic)
    }
}

impl<'a, T> IntoDynamic for &'a Option<T>
where
    &'a T: IntoDynamic,
{
    fn into_dynamic(self) -> Dynamic {
        self.as_ref()
            .map_or_else(Dynamic::empty, IntoDynamic::into_dynamic)
    }
}

/// Integers: their digits need no escaping, and are written without the
/// formatting machinery (a render of a list writes many of them).
macro_rules! integer_dynamic {
    ($($t:ty),*) => {$(
        impl IntoDynamic for $t {
            fn into_dynamic(self) -> Dynamic {
                Dynamic::Text(Text::decimal(self))
            }
        }
        impl IntoDynamic for &$t {
            fn into_dynamic(self) -> Dynamic {
                (*self).into_dynamic()
            }
        }
        impl AttrValue for $t {
            fn write_attr(&self, name: &str, out: &mut String) {
                let mut digits = itoa::Buffer::new();
                let digits = digits.format(*self);
                out.reserve(name.len() + digits.len() + 4);
                out.push(' ');
                out.push_str(name);
                out.push_str("=\"");
                out.push_str(digits);
                out.push('"');
            }

            fn attr_text(&self, name: &str) -> Text {
                Text::decimal_attribute(name, *self)
            }
        }
    )*};
}

integer_dynamic!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

/// Plain values whose `Display` output needs no escaping.
macro_rules! display_dynamic {
    ($($t:ty),*) => {$(
        impl IntoDynamic for $t {
            fn into_dynamic(self) -> Dynamic {
                Dynamic::Text(Text::build(|out| {
                    let _ = write!(out, "{self}");
                }))
            }
        }
        impl IntoDynamic for &$t {
            fn into_dynamic(self) -> Dynamic {
                (*self).into_dynamic()
            }
        }
        impl AttrValue for $t {
            fn write_attr(&self, name: &str, out: &mut String) {
                let _ = write!(out, " {name}=\"{self}\"");
            }
        }
    )*};
}

display_dynamic!(f32, f64);

impl IntoDynamic for char {
    fn into_dynamic(self) -> Dynamic {
        self.encode_utf8(&mut [0; 4]).into_dynamic()
    }
}

impl IntoDynamic for &char {
    fn into_dynamic(self) -> Dynamic {
        (*self).into_dynamic()
    }
}

/// A value for a dynamic attribute, `name={value}`.
///
/// Text is escaped and quoted. `true` writes the bare name and `false` or
/// `None` leave the attribute out, which is how boolean attributes such as
/// `disabled` are toggled.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an attribute value",
    note = "attribute values are strings, numbers, `bool` (present or absent) or `Option`s of those"
)]
pub trait AttrValue {
    /// Writes ` name="value"` (or nothing) to `out`; `name` is already valid.
    fn write_attr(&self, name: &str, out: &mut String);

    /// The attribute as the text of its dynamic slot: what
    /// [`write_attr`](AttrValue::write_attr) writes. Numbers, plain strings
    /// and booleans override it to make the text directly, without a
    /// buffer in between; a list of rows makes one per row.
    fn attr_text(&self, name: &str) -> Text {
        Text::build(|out| self.write_attr(name, out))
    }
}

impl AttrValue for str {
    fn write_attr(&self, name: &str, out: &mut String) {
        // Room for the usual case, text that needs no escaping.
        out.reserve(name.len() + self.len() + 4);
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape_into(out, self);
        out.push('"');
    }

    fn attr_text(&self, name: &str) -> Text {
        if needs_escaping(self) {
            Text::build(|out| self.write_attr(name, out))
        } else {
            Text::plain_attribute(name, self)
        }
    }
}

impl AttrValue for String {
    fn write_attr(&self, name: &str, out: &mut String) {
        self.as_str().write_attr(name, out);
    }

    fn attr_text(&self, name: &str) -> Text {
        self.as_str().attr_text(name)
    }
}

impl AttrValue for Cow<'_, str> {
    fn write_attr(&self, name: &str, out: &mut String) {
        self.as_ref().write_attr(name, out);
    }

    fn attr_text(&self, name: &str) -> Text {
        self.as_ref().attr_text(name)
    }
}

impl AttrValue for bool {
    fn write_attr(&self, name: &str, out: &mut String) {
        if *self {
            out.push(' ');
            out.push_str(name);
        }
    }

    fn attr_text(&self, name: &str) -> Text {
        if *self {
            Text::concat(&[" ", name])
        } else {
            Text::new()
        }
    }
}

impl AttrValue for char {
    fn write_attr(&self, name: &str, out: &mut String) {
        self.encode_utf8(&mut [0; 4]).write_attr(name, out);
    }
}

impl AttrValue for Cid {
    fn write_attr(&self, name: &str, out: &mut String) {
        self.0.write_attr(name, out);
    }
}

impl<T: AsRef<str>> AttrValue for Raw<T> {
    fn write_attr(&self, name: &str, out: &mut String) {
        let _ = write!(out, " {name}=\"{}\"", self.0.as_ref());
    }
}

impl<T: AttrValue> AttrValue for Option<T> {
    fn write_attr(&self, name: &str, out: &mut String) {
        if let Some(value) = self {
            value.write_attr(name, out);
        }
    }

    fn attr_text(&self, name: &str) -> Text {
        self.as_ref()
            .map_or_else(Text::new, |value| value.attr_text(name))
    }
}

impl<T: AttrValue + ?Sized> AttrValue for &T {
    fn write_attr(&self, name: &str, out: &mut String) {
        (**self).write_attr(name, out);
    }

    fn attr_text(&self, name: &str) -> Text {
        (**self).attr_text(name)
    }
}

/// One `(name, value)` pair of a dynamic attribute list, `{..attrs}`.
pub trait AttrPair {
    /// Writes the attribute to `out`, or nothing when the name is not a
    /// valid attribute name (see [`is_valid_attr_name`]): such a name could
    /// end the tag, so it is dropped and logged rather than escaped.
    fn write_pair(&self, out: &mut String);
}

impl<K: AsRef<str>, V: AttrValue> AttrPair for (K, V) {
    fn write_pair(&self, out: &mut String) {
        let name = self.0.as_ref();
        if is_valid_attr_name(name) {
            self.1.write_attr(name, out);
        } else {
            tracing::warn!(
                name,
                "dropped an attribute whose name is not a valid attribute name"
            );
        }
    }
}

impl<P: AttrPair> AttrPair for &P {
    fn write_pair(&self, out: &mut String) {
        (**self).write_pair(out);
    }
}

/// Renders a dynamic attribute list to the text of one dynamic slot.
pub fn attr_list<I>(attrs: I) -> Dynamic
where
    I: IntoIterator,
    I::Item: AttrPair,
{
    Dynamic::Text(Text::build(|out| {
        for pair in attrs {
            pair.write_pair(out);
        }
    }))
}

/// Renders one dynamic attribute, `name={value}`, to the text of a slot.
pub fn attr<V: AttrValue>(name: &str, value: V) -> Dynamic {
    Dynamic::Text(value.attr_text(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `write_attr` writes, to compare `attr_text` with.
    fn written(value: &dyn AttrValue, name: &str) -> String {
        let mut out = String::new();
        value.write_attr(name, &mut out);
        out
    }

    #[test]
    fn an_attribute_text_is_what_write_attr_writes() {
        let long = "a value long enough to need a heap block".to_string();
        let values: Vec<Box<dyn AttrValue>> = vec![
            Box::new(42u32),
            Box::new(-7i64),
            Box::new(u128::MAX),
            Box::new("plain"),
            Box::new("<needs> \"escaping\" & 'quotes'"),
            Box::new(long.clone()),
            Box::new(Cow::Borrowed("cow")),
            Box::new(Arc::<str>::from("shared <text>")),
            Box::new(Box::<str>::from("boxed & owned")),
            Box::new(true),
            Box::new(false),
            Box::new(Some(3u8)),
            Box::new(None::<u8>),
            Box::new('"'),
            Box::new(Raw("<b>")),
            Box::new(1.5f64),
        ];
        for name in ["i", "phx-value-identifier"] {
            for value in &values {
                let text = value.attr_text(name);
                assert_eq!(text.as_str(), written(value.as_ref(), name));
            }
        }
        assert_eq!(7u16.attr_text("phx-value-i"), " phx-value-i=\"7\"");
        assert_eq!(false.attr_text("disabled"), "");
    }

    #[test]
    fn an_integer_attribute_is_written_whole_at_every_length() {
        let numbers: [i128; 9] = [
            0,
            7,
            -7,
            42,
            123_456,
            999_999_999_999_999,
            1_000_000_000_000_000,
            i128::from(i64::MIN),
            i128::MAX,
        ];
        // Names from one byte to long enough that no attribute fits inline,
        // so every total length around the inline limit is written.
        let names: Vec<String> = (1..=20).map(|n| "x".repeat(n)).collect();
        for name in &names {
            for number in numbers {
                let text = number.attr_text(name);
                assert_eq!(text.as_str(), written(&number, name), "{name} {number}");
                assert_eq!(text, Text::from(written(&number, name)), "{name} {number}");
            }
            for number in [0u8, 9, 255] {
                assert_eq!(number.attr_text(name).as_str(), written(&number, name));
            }
        }
    }

    #[test]
    fn shared_and_boxed_strings_render_as_their_text() {
        for text in [
            "plain",
            "a < b & 'c'",
            "long enough for a heap block of its own",
        ] {
            let expected = text.into_dynamic();
            let shared: Arc<str> = text.into();
            let boxed: Box<str> = text.into();
            assert_eq!((&shared).into_dynamic(), expected);
            assert_eq!(shared.into_dynamic(), expected);
            assert_eq!((&boxed).into_dynamic(), expected);
            assert_eq!(boxed.into_dynamic(), expected);
        }
    }

    #[test]
    fn text_that_needs_no_escaping_is_kept_as_it_is() {
        assert_eq!("Row 7".into_dynamic(), Dynamic::Text("Row 7".into()));
        assert_eq!(
            "a < b & 'c'".into_dynamic(),
            Dynamic::Text("a &lt; b &amp; &#39;c&#39;".into())
        );
    }
}
