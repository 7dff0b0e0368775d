//! Lists that a page's first render writes as HTML while their loops run.
//!
//! A page's dead render is written to HTML once and dropped: nothing diffs
//! it, sends it as JSON or shares its entries with a later render. Inside
//! [`render_html_only`], a `for` writes each entry's HTML as soon as the
//! entry is made, instead of keeping its dynamics for a writer that walks
//! the tree afterwards, so a list of rows costs its HTML and no storage.

use std::cell::Cell;
use std::sync::{Arc, OnceLock};

use crate::rendered::{
    write_entry_html, ChunkBuilder, Comprehension, Dynamic, Key, Rendered, Template,
};

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

/// A list whose entries are written as HTML as they come.
pub(crate) struct WrittenList {
    template: &'static Template,
    /// The HTML of the entries written since the last one kept whole.
    html: Vec<u8>,
    /// The list so far, in order: runs of written entries as texts, and as
    /// trees the entries only the page can write (they hold a component, a
    /// child view or a stream).
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

    /// Keeps an entry as a tree, after the run written before it.
    #[cold]
    fn keep_whole(&mut self, dynamics: Vec<Dynamic>) {
        self.end_run();
        let entry = Rendered::new(self.template, dynamics);
        self.pieces.push(Dynamic::Nested(Box::new(entry)));
    }

    /// Turns the entries written since the last piece into a piece.
    fn end_run(&mut self) {
        if self.html.is_empty() {
            return;
        }
        let html = String::from_utf8(std::mem::take(&mut self.html))
            .expect("a template writes UTF-8 from its statics and texts");
        self.pieces.push(Dynamic::Text(html.into()));
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

    #[test]
    fn entries_only_the_page_can_write_are_kept_whole_in_their_place() {
        let components = [0, 3, 4, 9];
        let written = render_html_only(|| list_with_components(10, &components));
        assert_eq!(
            html_with_components(list_with_components(10, &components)),
            "<ul><li>[0]</li><li>1</li><li>2</li><li>[3]</li><li>[4]</li>\
             <li>5</li><li>6</li><li>7</li><li>8</li><li>[9]</li></ul>"
        );
        let Dynamic::List(pieces) = &written else {
            panic!("a list with components is kept as a list of pieces");
        };
        // The components' entries whole, the runs between them as texts.
        let kinds: Vec<&str> = pieces
            .entries()
            .map(|piece| match &piece.dynamics()[0] {
                Dynamic::Text(_) => "run",
                Dynamic::Nested(_) => "entry",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["entry", "run", "entry", "entry", "run", "entry"]);
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
