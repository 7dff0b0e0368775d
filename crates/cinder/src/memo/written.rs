//! Lists that a page's first render writes as HTML while their loops run.
//!
//! A page's dead render is written to HTML once and dropped: nothing diffs
//! it, sends it as JSON or shares its entries with a later render. Inside
//! [`render_html_only`], a `for` writes each entry's HTML as soon as the
//! entry is made, instead of keeping its dynamics for a writer that walks
//! the tree afterwards, so a list of rows costs its HTML and no storage.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::{Arc, OnceLock};

use crate::escape::escape_bytes_into;
use crate::rendered::{
    write_decimal, write_dynamic_html, write_entry_html, ChunkBuilder, Comprehension, Dynamic, Key,
    Rendered, Template, Text,
};

#[cfg(test)]
thread_local! {
    /// How many values `for`s wrote straight as HTML (see [`PlainHtml`]),
    /// and how many they made into dynamics to write.
    static STRAIGHT_VALUES: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// Counts a value a `for` wrote straight, or made into a dynamic.
#[cfg(test)]
fn count_value(straight: bool) {
    let (written, made) = STRAIGHT_VALUES.get();
    STRAIGHT_VALUES.set(match straight {
        true => (written + 1, made),
        false => (written, made + 1),
    });
}

thread_local! {
    /// Whether `for`s rendered outside a [`RenderCache`](super::RenderCache)
    /// write their entries as HTML at once (see [`render_html_only`]).
    static HTML_ONLY: Cell<bool> = const { Cell::new(false) };
}

/// Runs `render`, whose tree will only be written as HTML, never diffed:
/// the `for`s it renders outside a render cache write their entries' HTML
/// while their loops run. The tree writes the same HTML as without; its
/// lists are no longer lists of their entries.
pub(crate) fn render_html_only<R>(render: impl FnOnce() -> R) -> R {
    /// Puts the setting back when the render ends, also when it panics.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            HTML_ONLY.set(self.0);
        }
    }
    let _restore = Restore(HTML_ONLY.replace(true));
    render()
}

/// Whether a `for` starting now writes its entries as HTML.
pub(super) fn html_only() -> bool {
    HTML_ONLY.get()
}

/// A list whose entries are written as HTML as they come. For the `html!`
/// macro.
#[doc(hidden)]
pub struct WrittenList {
    template: &'static Template,
    /// The HTML written since the last piece.
    html: Vec<u8>,
    /// The list so far, in order: runs of written HTML as texts, and what
    /// only the page can write (a component, a child view or a stream)
    /// between them: a whole entry, as a tree, or one value of an entry
    /// written value by value.
    pieces: Vec<Dynamic>,
}

impl WrittenList {
    /// An empty list of entries of `template`, with room for about
    /// `size_hint` of them.
    pub(crate) fn new(template: &'static Template, size_hint: usize) -> Self {
        WrittenList {
            template,
            html: Vec::with_capacity(size_hint * template.entry_html_size_hint()),
            pieces: Vec::new(),
        }
    }

    /// Writes an entry, or keeps it whole when only the page can write it.
    #[inline]
    pub(crate) fn add<D>(&mut self, dynamics: D)
    where
        D: IntoIterator<Item = Dynamic> + AsRef<[Dynamic]>,
    {
        let entry = dynamics.as_ref();
        if entry.iter().all(Dynamic::is_inline_text) {
            write_entry_html(self.template, entry, &mut self.html);
            // Inline texts hold nothing to let go of: forgotten one by one
            // (whatever holds them is still dropped), they cost no call that
            // sets up to drop every kind of dynamic.
            dynamics.into_iter().for_each(std::mem::forget);
        } else if entry.iter().all(Dynamic::writes_alone) {
            write_entry_html(self.template, entry, &mut self.html);
        } else {
            self.keep_whole(dynamics.into_iter().collect());
        }
    }

    /// Where the HTML of the entry being written goes, for a `for` that
    /// writes it there itself, value by value (see [`PlainHtml`]). The
    /// `html!` macro writes only UTF-8 there: statics and the HTML of
    /// integers and strings.
    #[inline]
    pub fn html(&mut self) -> &mut Vec<u8> {
        &mut self.html
    }

    /// Writes a value of the entry being written that was made into a
    /// dynamic: its HTML, or when only the page can write it (a component,
    /// a child view, a stream), the dynamic itself as a piece in its
    /// place, between the runs written before and after it.
    pub fn write_dynamic(&mut self, dynamic: Dynamic) {
        #[cfg(test)]
        count_value(false);
        if dynamic.writes_alone() {
            write_dynamic_html(&dynamic, &mut self.html);
        } else {
            self.keep(dynamic);
        }
    }

    /// Keeps an entry as a tree, after the run written before it.
    #[cold]
    fn keep_whole(&mut self, dynamics: Vec<Dynamic>) {
        let entry = Rendered::new(self.template, dynamics);
        self.keep(Dynamic::Nested(Box::new(entry)));
    }

    /// Keeps `piece`, which only the page can write, after the run written
    /// before it.
    fn keep(&mut self, piece: Dynamic) {
        self.end_run();
        self.pieces.push(piece);
    }

    /// Turns the entries written since the last piece into a piece.
    fn end_run(&mut self) {
        if self.html.is_empty() {
            return;
        }
        // Written once into the page and let go of: kept where it was
        // written rather than copied into a shared text, and not checked
        // as UTF-8, as the page writes it out as bytes. The template
        // writes only UTF-8 there, from its statics and texts.
        let html = std::mem::take(&mut self.html);
        self.pieces.push(Dynamic::Text(Text::owned_utf8(html)));
    }

    /// The finished list, as the dynamic slot of its `for`: one text when
    /// every entry was written, else a list of the pieces in order.
    pub(crate) fn finish(mut self) -> Dynamic {
        self.end_run();
        match self.pieces.len() {
            0 => Dynamic::empty(),
            1 if matches!(self.pieces[0], Dynamic::Text(_)) => self.pieces.remove(0),
            _ => Dynamic::List(Box::new(pieces_list(self.pieces))),
        }
    }
}

/// A list holding each of `pieces` as an entry of its own.
fn pieces_list(pieces: Vec<Dynamic>) -> Comprehension {
    let mut chunk = ChunkBuilder::new(1, pieces.len(), false);
    chunk.reserve(pieces.len());
    for (index, piece) in pieces.into_iter().enumerate() {
        chunk.push(Key(index as u64), None, [piece]);
    }
    Comprehension::from_chunks(piece_template(), vec![Arc::new(chunk.finish())], None)
}

/// The template of a piece: nothing around its one dynamic.
fn piece_template() -> &'static Template {
    static PIECE: OnceLock<&'static Template> = OnceLock::new();
    PIECE.get_or_init(|| Template::leak(vec![String::new(), String::new()], false))
}

/// A value whose HTML a `for` in a page's first render writes straight
/// into the page, without making a dynamic of it first: integers and
/// strings, escaped as [`IntoDynamic`](crate::IntoDynamic) escapes them.
///
/// A `for` whose entry interpolates only values writes, in a page's first
/// render, each value that is one of these (as the `html!` macro sees its
/// type) straight after the static before it, and makes any other into a
/// dynamic to write. Both write the same HTML.
pub trait PlainHtml {
    /// Appends the value's HTML to `out`.
    fn write_html(&self, out: &mut Vec<u8>);
}

impl PlainHtml for str {
    fn write_html(&self, out: &mut Vec<u8>) {
        escape_bytes_into(out, self);
    }
}

/// Strings, written as `str`.
macro_rules! plain_text {
    ($($t:ty),*) => {$(
        impl PlainHtml for $t {
            fn write_html(&self, out: &mut Vec<u8>) {
                str::write_html(self, out);
            }
        }
    )*};
}

plain_text!(String, Cow<'_, str>, Arc<str>, Box<str>);

/// Integers, written as their digits.
macro_rules! plain_integer {
    ($($t:ty),*) => {$(
        impl PlainHtml for $t {
            #[inline]
            fn write_html(&self, out: &mut Vec<u8>) {
                write_decimal(out, *self);
            }
        }
    )*};
}

plain_integer!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

impl<T: PlainHtml + ?Sized> PlainHtml for &T {
    #[inline]
    fn write_html(&self, out: &mut Vec<u8>) {
        (**self).write_html(out);
    }
}

/// A value the `html!` macro asks about: method lookup on `&&Plain(&value)`
/// finds [`WritesPlain`] when the value's type is [`PlainHtml`], and
/// [`NotPlain`] otherwise, so the question is answered as the code is
/// compiled.
pub struct Plain<'a, T: ?Sized>(pub &'a T);

/// The answer for a [`PlainHtml`] value: written straight into the page.
pub trait WritesPlain {
    /// Whether the value is written straight into the page: here, yes.
    fn plain(&self) -> bool;
    /// Appends the value's HTML to `out`.
    fn write_plain(&self, out: &mut Vec<u8>);
}

impl<T: PlainHtml + ?Sized> WritesPlain for &Plain<'_, T> {
    #[inline(always)]
    fn plain(&self) -> bool {
        true
    }

    #[inline(always)]
    fn write_plain(&self, out: &mut Vec<u8>) {
        #[cfg(test)]
        count_value(true);
        self.0.write_html(out);
    }
}

/// The answer for any other value: made into a dynamic first.
pub trait NotPlain {
    /// Whether the value is written straight into the page: here, no.
    fn plain(&self) -> bool;
    /// Never called: the macro writes a value itself only when
    /// [`plain`](NotPlain::plain) says so.
    fn write_plain(&self, out: &mut Vec<u8>);
}

impl<T: ?Sized> NotPlain for Plain<'_, T> {
    #[inline(always)]
    fn plain(&self) -> bool {
        false
    }

    fn write_plain(&self, _: &mut Vec<u8>) {
        unreachable!("a value that is not plain HTML is made into a dynamic")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memo::{ListBuilder, RenderCache};
    use crate::rendered::Cid;
    use crate::{html, Text};

    struct Row {
        id: u32,
        name: &'static str,
        tags: Vec<&'static str>,
    }

    fn rows() -> Vec<Row> {
        (0..40)
            .map(|id| Row {
                id,
                name: ["a <b>", "c & \"d\"", "e"][id as usize % 3],
                tags: vec!["x"; id as usize % 4],
            })
            .collect()
    }

    /// A page with a list in each kind of `for` the macro writes: read
    /// (stamped from what it reads), memoized and keyed, and plain; rows
    /// with a branch, an attribute and a list of their own.
    fn page(rows: &[Row]) -> Rendered {
        let version = |row: &Row| u64::from(row.id);
        html! {
            <ul>
                @for row in rows {
                    <li id={format!("row-{}", row.id)} data-i={row.id}>{row.name}
                        @if row.id % 2 == 0 { <b>"even"</b> }
                        @for tag in &row.tags { <i>{*tag}</i> }
                    </li>
                }
            </ul>
            <ol>
                @for row in rows, key = row.id, memo = version(row) { <li>{row.id}</li> }
            </ol>
            <p>@for n in (0..3).map(|n| n * 2) { {n}"," }</p>
        }
    }

    #[test]
    fn a_list_written_at_once_writes_the_html_of_its_entries() {
        let rows = rows();
        let tree = page(&rows);
        let written = render_html_only(|| page(&rows));
        assert_eq!(written.to_html(), tree.to_html());
        // Each list is one text: its entries are not kept.
        assert!(written
            .dynamics()
            .iter()
            .all(|dynamic| matches!(dynamic, Dynamic::Text(_))));
        assert!(tree
            .dynamics()
            .iter()
            .all(|dynamic| matches!(dynamic, Dynamic::List(_))));
    }

    #[test]
    fn an_empty_list_written_at_once_is_an_empty_text() {
        let written = render_html_only(|| page(&[]));
        assert_eq!(written.to_html(), page(&[]).to_html());
        assert_eq!(written.dynamics()[0], Dynamic::empty());
    }

    /// Pushes `n` entries, a component at each index in `components`.
    fn list_with_components(n: u32, components: &[u32]) -> Dynamic {
        let item = Template::leak(vec!["<li>".into(), "</li>".into()], true);
        let mut list = ListBuilder::shared(item, n as usize, 99);
        for i in 0..n {
            let dynamic = if components.contains(&i) {
                Dynamic::Component(Cid(i))
            } else {
                Dynamic::Text(Text::from(i.to_string()))
            };
            list.push(list.next_index_key(), [dynamic]);
        }
        list.finish()
    }

    /// A tree's HTML with each component written as its id in brackets.
    fn html_with_components(dynamic: Dynamic) -> String {
        let page = Template::leak(vec!["<ul>".into(), "</ul>".into()], true);
        let mut out = Vec::new();
        Rendered::new(page, vec![dynamic]).write_html_with(&mut out, &mut |cid, out| {
            out.extend_from_slice(format!("[{}]", cid.0).as_bytes());
        });
        String::from_utf8(out).unwrap()
    }

    /// What each piece of a written list with components is: a run of
    /// written HTML, a whole entry, or a component.
    fn piece_kinds(list: &Dynamic) -> Vec<&'static str> {
        let Dynamic::List(pieces) = list else {
            panic!("a list with components is kept as a list of pieces");
        };
        pieces
            .entries()
            .map(|piece| match &piece.dynamics()[0] {
                Dynamic::Text(_) => "run",
                Dynamic::Nested(_) => "entry",
                Dynamic::Component(_) => "component",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn entries_only_the_page_can_write_are_kept_whole_in_their_place() {
        let components = [0, 3, 4, 9];
        let written = render_html_only(|| list_with_components(10, &components));
        assert_eq!(
            html_with_components(list_with_components(10, &components)),
            "<ul><li>[0]</li><li>1</li><li>2</li><li>[3]</li><li>[4]</li>\
             <li>5</li><li>6</li><li>7</li><li>8</li><li>[9]</li></ul>"
        );
        // The components' entries whole, the runs between them as texts.
        assert_eq!(
            piece_kinds(&written),
            ["entry", "run", "entry", "entry", "run", "entry"]
        );
        assert_eq!(
            html_with_components(written),
            html_with_components(list_with_components(10, &components))
        );
    }

    #[test]
    fn inside_a_render_cache_a_list_keeps_its_entries() {
        let rows = rows();
        let cached = render_html_only(|| RenderCache::default().render(|| page(&rows)));
        let Dynamic::List(list) = &cached.dynamics()[0] else {
            panic!("a cached render's list is a list");
        };
        assert_eq!(list.len(), rows.len());
        assert_eq!(cached.to_html(), page(&rows).to_html());
    }

    /// What `render` returns, with how many values its `for`s wrote
    /// straight as HTML and how many they made into dynamics to write.
    fn straight_values<R>(render: impl FnOnce() -> R) -> (R, (usize, usize)) {
        let (straight, made) = STRAIGHT_VALUES.get();
        let rendered = render();
        let (straight_after, made_after) = STRAIGHT_VALUES.get();
        (rendered, (straight_after - straight, made_after - made))
    }

    /// `render`'s HTML, having checked that its dead render writes the
    /// same, and how many values the dead render wrote straight and made.
    fn html_and_straight_values(render: impl Fn() -> Rendered) -> (String, (usize, usize)) {
        let html = render().to_html();
        let (written, values) = straight_values(|| render_html_only(&render));
        assert_eq!(written.to_html(), html);
        (html, values)
    }

    struct Item {
        id: u64,
        signed: i32,
        name: &'static str,
        owned: String,
    }

    fn items() -> Vec<Item> {
        let names = ["plain", "a <b> & \"c\" 'd'", "", "é ü"];
        (0..8)
            .map(|i| Item {
                id: i * 1_000_003,
                signed: -(i as i32) * 7,
                name: names[i as usize % names.len()],
                owned: format!("<{i}>"),
            })
            .collect()
    }

    /// Lists whose entries interpolate only integers and strings, in every
    /// place a value can go: text, a `format!` attribute's arguments, an
    /// attribute's value; of every `for` kind; and one with no values.
    fn plain_lists(items: &[Item]) -> Rendered {
        let huge = [u128::MAX, 0, 10_u128.pow(16), 999_999_999_999_999];
        let negative = [i128::MIN, -1, -(10_i128.pow(15))];
        html! {
            <ul>
                @for item in items {
                    <li id={format!("item-{}-{}", item.id, item.name)} data-n={item.signed} title={item.name}>
                        {item.id}" "{item.signed}" "{item.name}" "{&item.owned}" "{item.owned.as_str()}
                    </li>
                }
            </ul>
            <ol>@for item in items, key = item.id { <li data-s={&item.owned}>{item.id + 1}</li> }</ol>
            <ol>@for item in items, key = item.id, memo = item.id { <li>{std::borrow::Cow::from(item.name)}</li> }</ol>
            <p>@for n in huge { {n}"," }@for n in negative { {n}";" }@for n in 0..3_u8 { {n} }</p>
            <p>@for s in ["x", "<y>"] { {std::sync::Arc::<str>::from(s)}{Box::<str>::from(s)} }</p>
            <p>@for _ in 0..2 { <br> }</p>
        }
    }

    #[test]
    fn integers_and_strings_are_written_straight_as_their_tree_writes() {
        let items = items();
        let (html, values) = html_and_straight_values(|| plain_lists(&items));
        // Every value of every entry: 8 items of 9, 2 and 1 values; 4 + 3 +
        // 3 numbers; 2 pairs of strings.
        assert_eq!(values, (8 * (9 + 2 + 1) + 10 + 4, 0));
        assert!(html.contains(
            r#"<li id="item-1000003-a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;" data-n="-7" title="a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;">"#
        ));
        assert!(html.contains("340282366920938463463374607431768211455,"));
        // Outside a page's first render nothing is written straight.
        assert_eq!(straight_values(|| plain_lists(&items)).1, (0, 0));
    }

    /// Lists whose entries interpolate values that are not plain integers
    /// or strings, which are made into dynamics and written, some beside
    /// plain ones.
    fn other_lists(items: &[Item]) -> Rendered {
        html! {
            <ul>
                @for item in items {
                    <li hidden={item.id % 2 == 0} data-x={(item.id > 3).then_some(item.id)}>
                        {item.id as f64 / 2.0}{crate::Raw("<b>raw</b>")}{(item.signed < -7).then_some(item.name)}
                    </li>
                }
            </ul>
            <p>@for item in items { {item.id}{html! { <i>{item.name}</i> }} }</p>
            <p>@for c in ['a', '<'] { {c}"," }</p>
        }
    }

    #[test]
    fn a_value_of_any_other_type_is_made_and_written() {
        let items = items();
        let (html, values) = html_and_straight_values(|| other_lists(&items));
        // 8 items of 5 values and of 1 beside a plain one; 2 characters.
        assert_eq!(values, (8, 8 * (5 + 1) + 2));
        assert!(html.contains(r#"<li hidden>"#));
        assert!(html.contains(r#"<li data-x="1000003">"#));
        assert!(html.contains("<b>raw</b>"));
    }

    /// A list whose entries hold a component here and there, made by a
    /// value of the entry rather than by the template.
    fn list_with_component_values(n: u32, components: &[u32]) -> Rendered {
        let value = |i: u32| match components.contains(&i) {
            true => Dynamic::Component(Cid(i)),
            false => Dynamic::empty(),
        };
        html! { <ul>@for i in 0..n { <li data-i={i}>{value(i)}</li> }</ul> }
    }

    #[test]
    fn a_value_only_the_page_can_write_is_kept_in_its_place() {
        let components = [0, 3, 9];
        let tree = list_with_component_values(10, &components);
        let (written, values) =
            straight_values(|| render_html_only(|| list_with_component_values(10, &components)));
        assert_eq!(values, (10, 10));
        let [list] = written.dynamics() else {
            panic!("one list");
        };
        assert_eq!(
            piece_kinds(list),
            [
                "run",
                "component",
                "run",
                "component",
                "run",
                "component",
                "run"
            ]
        );
        let tree_html = html_with_components(Dynamic::Nested(Box::new(tree)));
        assert_eq!(
            html_with_components(Dynamic::Nested(Box::new(written))),
            tree_html
        );
        assert!(tree_html.starts_with(r#"<ul><ul><li data-i="0">[0]</li><li data-i="1"></li>"#));
    }

    /// An entry's values are each made or written before the next is
    /// evaluated, as when they were made into an array: one may move what
    /// an earlier one borrowed.
    #[test]
    fn a_value_may_move_what_an_earlier_value_borrowed() {
        let page = |names: Vec<String>| {
            html! { <ul>@for name in names { <li title={name}>{name + "!"}</li> }</ul> }
        };
        let names = || vec!["a".to_string(), "<b>".to_string()];
        let html = page(names()).to_html();
        assert_eq!(
            html,
            r#"<ul><li title="a">a!</li><li title="&lt;b&gt;">&lt;b&gt;!</li></ul>"#
        );
        assert_eq!(render_html_only(|| page(names())).to_html(), html);
    }

    #[test]
    fn the_setting_ends_with_its_render_also_when_it_panics() {
        assert!(!html_only());
        render_html_only(|| {
            assert!(html_only());
            render_html_only(|| assert!(html_only()));
            assert!(
                html_only(),
                "an inner render leaves the outer one's setting"
            );
        });
        assert!(!html_only());
        let panicked = std::panic::catch_unwind(|| render_html_only(|| panic!("in a view")));
        assert!(panicked.is_err());
        assert!(!html_only());
    }
}
