//! Cinder: server-rendered pages kept live over a WebSocket, in the manner of
//! Phoenix LiveView, spoken to by the official `phoenix_live_view` client.
//!
//! This crate holds templates at run time, the diff engine, and the pieces
//! of the LiveView protocol below the views:
//!
//! * [`html!`] turns HTML with embedded Rust into a [`Rendered`] tree, its
//!   static parts fixed at compile time and fingerprinted, its dynamic parts
//!   computed by each render and escaped by default;
//! * [`Rendered::to_html`] is the dead render, the whole page as HTML;
//! * [`diff::render`] and [`diff::diff`] write the LiveView 1.2 JSON that
//!   brings the client from the tree it holds to the new one;
//! * [`memo::RenderCache`] lets unchanged `for` entries skip evaluation, so a
//!   render's work follows the size of the change, not of the page;
//! * [`live`] serves pages as live views on an `axum::Router`, with the
//!   rest of LiveView's toolkit: stateful components
//!   ([`live::LiveComponent`]), streams ([`live::Stream`]), uploads
//!   ([`live::Upload`]), background work ([`live::AsyncValue`]), nested and
//!   sticky views ([`live::live_render`], [`live::LiveRouter::sticky`]);
//! * [`serve()`] runs an application over HTTP/1.1, as `axum::serve` does,
//!   set up for live pages (no HTTP/2 sniffing, Nagle's algorithm off);
//! * [`socket`] serves one WebSocket connection as a process speaking the
//!   Phoenix Channels V2 protocol, with a channel process per joined topic;
//! * [`JS`] writes the client's JS commands (show, hide, transitions,
//!   pushes with values, focus) from Rust, as attribute values of bindings;
//! * [`token`] signs what the server hands the browser and gets back;
//!   [`csrf`] guards the socket connection with masked per-session tokens.
//!
//! ```
//! use cinder::{diff, html};
//!
//! let todo = |items: &[&str]| html! {
//!     <ul id="todo">
//!         @for item in items { <li>{item}</li> }
//!     </ul>
//! };
//! let before = todo(&["milk"]);
//! let after = todo(&["milk", "<eggs>"]);
//! assert_eq!(
//!     after.to_html(),
//!     "<ul id=\"todo\">\n    <li>milk</li><li>&lt;eggs&gt;</li>\n</ul>"
//! );
//! assert_eq!(
//!     diff::diff(&before, &after).as_str(),
//!     r#"{"0":{"k":{"1":{"0":"&lt;eggs&gt;"},"kc":2}}}"#
//! );
//! ```
//!
//! # The template language
//!
//! * Elements and attributes are written as in HTML; names may contain `-`,
//!   `:`, `.` and `@` (`phx-click`, `phx-value-id`, `data-role`, `aria-label`).
//!   `<br>` and the other void elements need no closing tag.
//! * Text is written bare, as in HTML, or as a string literal when it holds
//!   characters Rust cannot tokenize (an unpaired quote) or that the template
//!   reads as syntax (`<`, `{`, `@`). Whitespace comes out as written, with
//!   indentation counted from the template's first token and the whitespace
//!   before its first and after its last token left out. Bare text is rebuilt
//!   from Rust tokens, so tabs and trailing spaces are not kept: inside
//!   `<pre>` and `<textarea>`, write text as string literals, which come out
//!   exactly (escaped).
//! * `{expr}` inserts a value ([`IntoDynamic`]): text is escaped, an
//!   `html!` tree nests, [`Raw`] inserts HTML as it is. A place expression
//!   such as `{row.name}` is borrowed, anything else is taken by value.
//! * `name="text"` is a static attribute, `name` alone a boolean one,
//!   `name={expr}` a dynamic one ([`dynamic::AttrValue`]: `false` and `None`
//!   leave it out), and `{..expr}` inside a tag adds a list of
//!   `(name, value)` pairs.
//! * `@if cond { … } else if cond { … } else { … }`,
//!   `@match expr { pattern => { … } }` and
//!   `@for pattern in iter, key = expr, memo = expr { … }` (both `key` and
//!   `memo` optional) hold markup in their blocks. `@memo stamp { … }`
//!   holds markup rendered again only when `stamp` changes (see below).
//! * `<Name attr=…>children<:slot>…</:slot></Name>` renders a
//!   [`Component`].
//! * `{cid}` with a [`Cid`] places a stateful component.
//!
//! # Change tracking
//!
//! Each template's statics exist once, as a `static`; a render builds only
//! the dynamics. The diff engine compares the new dynamics with those the
//! client holds, position by position, and keyed entries by key, so the
//! bytes sent follow the change. The evaluation follows it too when `for`
//! loops carry a memo stamp and the view renders through a
//! [`memo::RenderCache`]: unchanged entries are shared with the previous
//! render instead of being computed, and the diff skips shared entries
//! without looking into them. Entries are stored in chunks (8 entries in a
//! list of up to 128, up to 64 in longer ones), so a run of unchanged
//! entries is shared, and skipped by the diff, a whole chunk at a time. With 10,000 rows and one changed,
//! a render evaluates one row, compares 10,000 keys and stamps, and the diff
//! holds one entry.
//!
//! A `for` without a memo stamp gets one from what its body reads: the
//! macro lists the places the body reads (`row.id`, `row.score`, outer
//! names such as `selected`, and `format!` arguments) and stamps each entry
//! with a keyed hash of their values, so an entry whose reads did not
//! change is reused. This needs every value read to be an integer, `bool`,
//! `char`, or an option, tuple, slice or vector of them, or a type that
//! implements [`memo::StampValue`] (a string is copied about as fast as it
//! is hashed, so a body reading one is evaluated as before), and the body
//! to be made of places, literals, operators, `format!` and calls through a
//! path (`helpers::label(row.kind)`, taken to depend on their arguments
//! only). Anything else (a closure, a block, another macro, a component, a
//! call through a bare name) leaves the `for` as it was: every entry
//! evaluated and compared.
//!
//! A part of a page that changes rarely can say when it does with
//! `@memo stamp { … }`: inside a [`memo::RenderCache`], while `stamp` (any
//! `Hash` value, such as a version counter) equals the previous render's,
//! the block is the previous render's tree, its body is not evaluated, and
//! the diff sends nothing for it. As with a `for`'s memo, the stamp is a
//! promise that the body shows the same whenever the stamp is the same.
//! It pays where the body is costly to evaluate (function components, lists
//! without stamps, formatted text); a short list whose entries carry stamps
//! costs about as little without it.
//!
//! ```
//! use cinder::{diff, html, memo::RenderCache, Rendered};
//!
//! struct Menu { version: u64, items: Vec<String> }
//! let page = |menu: &Menu, clicks: u32| -> Rendered {
//!     html! {
//!         <p>{clicks}</p>
//!         @memo menu.version {
//!             <nav>@for item in &menu.items { <a>{item.to_uppercase()}</a> }</nav>
//!         }
//!     }
//! };
//! let menu = Menu { version: 1, items: vec!["home".into(), "about".into()] };
//! let mut cache = RenderCache::default();
//! let first = cache.render(|| page(&menu, 0));
//! let second = cache.render(|| page(&menu, 1));
//! assert_eq!(diff::diff(&first, &second).as_str(), r#"{"0":"1"}"#);
//! ```

extern crate self as cinder;

pub mod component;
pub mod csrf;
pub mod diff;
pub mod dynamic;
pub mod escape;
pub mod js;
pub mod live;
pub mod memo;
mod random;
pub mod rendered;
pub mod serve;
pub mod socket;
#[cfg(test)]
mod test_json;
pub mod token;

pub use cinder_macros::html;
pub use component::Component;
pub use diff::Diff;
pub use dynamic::IntoDynamic;
pub use escape::Raw;
pub use js::JS;
pub use rendered::{
    Cid, Comprehension, Dynamic, Entry, EntryRef, Key, Rendered, ShapeError, Template, Text,
};
pub use serve::serve;

/// What the `html!` macro expands to; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::dynamic::{attr, attr_list};
    pub use crate::memo::reads::{FedRead, Read, ReadStamp, StampSeed, UnfedRead};
    pub use crate::memo::written::{NotPlain, Plain, PlainHtml, WritesPlain};
    pub use crate::memo::{memo_block_rendered, memo_block_reused, BlockStart, ListBuilder};

    use crate::dynamic::IntoDynamic;
    use crate::rendered::{Dynamic, Key};

    /// Converts an interpolated value, with the trait named in errors.
    pub fn dynamic<T: IntoDynamic>(value: T) -> Dynamic {
        value.into_dynamic()
    }

    /// The key of a `for` entry.
    pub fn key<T: std::hash::Hash + ?Sized>(value: &T) -> Key {
        Key::of(value)
    }

    /// The memo stamp of a `for` entry.
    pub fn memo<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
        Key::of(value).0
    }

    /// One argument of a `format!` attribute value, written escaped for the
    /// attribute's double quotes by [`AttrInteger`] or [`AttrDisplay`].
    pub struct AttrText<'a, T: ?Sized>(pub &'a T);

    /// Writes an integer argument's digits straight into its text: a list
    /// of rows formats one per row, and digits need no escaping.
    pub trait AttrInteger {
        /// The argument's text.
        fn attr_text(&self) -> Dynamic;
    }

    impl<T: crate::rendered::Decimal> AttrInteger for &AttrText<'_, T> {
        fn attr_text(&self) -> Dynamic {
            Dynamic::Text(crate::rendered::Text::decimal(*self.0))
        }
    }

    /// Writes any other argument through `Display`, escaping as it goes.
    pub trait AttrDisplay {
        /// The argument's text.
        fn attr_text(&self) -> Dynamic;
    }

    impl<T: std::fmt::Display + ?Sized> AttrDisplay for AttrText<'_, T> {
        fn attr_text(&self) -> Dynamic {
            use std::fmt::Write as _;
            /// Escapes what is written through it, straight into the text.
            struct Escaping<'a>(&'a mut String);
            impl std::fmt::Write for Escaping<'_> {
                fn write_str(&mut self, text: &str) -> std::fmt::Result {
                    crate::escape::escape_into(self.0, text);
                    Ok(())
                }
            }
            Dynamic::Text(crate::rendered::Text::build(|out| {
                let _ = write!(Escaping(out), "{}", self.0);
            }))
        }
    }

    /// Renders a function component.
    pub fn component<C: crate::Component>(component: C) -> Dynamic {
        Dynamic::Nested(Box::new(component.render()))
    }
}
