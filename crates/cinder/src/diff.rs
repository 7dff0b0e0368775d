//! The diff engine: what to send so the client's tree matches a new render.
//!
//! The client keeps the last tree it was sent and merges each diff into it
//! (`mergeDiff` in the official client). Given the tree the client holds and
//! the new render, [`diff`] writes the smallest JSON the 1.2 wire format allows:
//!
//! * statics (`"s"`) only where the template at a position changed, so the
//!   client lacks them;
//! * only the dynamics whose value changed, recursing into nested trees that
//!   kept their template;
//! * comprehensions as keyed entries (`"k"`, `"kc"`), an entry that moved as
//!   its old index (with `"km": true`), an entry that moved and changed as
//!   `[old_index, diff]`, an empty comprehension in a full render as `""`;
//! * statics used more than once in one diff shared through `"p"` when that
//!   is shorter than repeating them;
//! * `"r": 1` on every tree whose template is a single element;
//! * text always as JSON strings, since numbers mean component ids.
//!
//! ```
//! use cinder::{diff, html};
//!
//! let view = |count: u32| html! { <p>Count: {count}</p> };
//! let first = diff::render(&view(1));
//! assert_eq!(first.as_str(), r#"{"0":"1","s":["<p>Count: ","</p>"],"r":1}"#);
//! let next = diff::diff(&view(1), &view(2));
//! assert_eq!(next.as_str(), r#"{"0":"2"}"#);
//! ```

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Arc;

use crate::escape::{json_string, json_text};
use crate::memo::lent::{ChangedEntries, LentLists, LentState};
use crate::rendered::{
    Chunk, Comprehension, Dynamic, EntryRef, Key, KeyIndex, Rendered, StreamInsert, StreamList,
    Template,
};

/// One diff, as the JSON text sent to the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diff {
    json: String,
}

impl Diff {
    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.json
    }

    /// The JSON text, owned.
    pub fn into_string(self) -> String {
        self.json
    }

    /// Whether nothing changed (the diff is `{}`).
    pub fn is_empty(&self) -> bool {
        self.json == "{}"
    }

    /// The size of the JSON text in bytes.
    pub fn len(&self) -> usize {
        self.json.len()
    }

    /// The diff parsed as a JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.json).expect("the diff writer produces valid JSON")
    }
}

/// The full tree, as the join reply sends it to a client that holds nothing.
pub fn render(tree: &Rendered) -> Diff {
    Writer::changes(None, tree).finish()
}

/// [`render`] written after the text of `out` (the start of the message
/// that carries it), in its buffer, as [`diff_onto`] writes a diff. `out`
/// should already have room for about as many bytes as the tree's HTML
/// ([`Rendered::html_size_hint`]): its caller, which sized it, has read
/// that estimate, and it is not made again.
pub(crate) fn render_onto(out: String, tree: &Rendered) -> String {
    Writer::written_onto(out.into_bytes(), None, tree, None)
        .finish()
        .into_string()
}

/// The changes that turn `old`, the tree the client holds, into `new`.
pub fn diff(old: &Rendered, new: &Rendered) -> Diff {
    Writer::changes(Some(old), new).finish()
}

/// [`diff`] of an `old` tree whose lists may be
/// [lent](crate::memo::RenderCache::lend_lists_of): `lent` has them.
pub(crate) fn diff_lent(old: &Rendered, new: &Rendered, lent: &LentLists) -> Diff {
    Writer::changes_onto(Vec::new(), Some(old), new, Some(lent)).finish()
}

/// [`diff`] written after the text of `out` (the start of the frame that
/// carries it), in its buffer: no buffer of the diff's own, and no copy of
/// it into the frame. `out` should have room for [`DIFF_CAPACITY`] bytes
/// more; what the diff wrote begins at `out`'s length.
/// `old`'s lists may be [lent](crate::memo::RenderCache::lend_lists_of):
/// `lent` has them.
pub(crate) fn diff_onto(out: String, old: &Rendered, new: &Rendered, lent: &LentLists) -> String {
    Writer::changes_onto(out.into_bytes(), Some(old), new, Some(lent))
        .finish()
        .into_string()
}

/// The full tree of a stateful component. Components never share statics
/// through `"p"`: the client merges a component's tree over another
/// component's (statics reuse, `"s": -cid`), which would mix two `"p"` maps.
pub(crate) fn render_component(tree: &Rendered) -> String {
    Writer::changes(None, tree).inline_statics()
}

/// The changes of a component's tree, or of a new component's tree against
/// the tree of the component whose statics it reuses; `None` when nothing
/// changed. Like [`render_component`], without `"p"`.
pub(crate) fn diff_component(old: &Rendered, new: &Rendered) -> Option<String> {
    let json = Writer::changes(Some(old), new).inline_statics();
    (json != "{}").then_some(json)
}

/// Puts the keys of the JSON object `extra` into the JSON object `json`.
pub(crate) fn splice(json: String, extra: &str) -> String {
    splice_at(json, 0, extra)
}

/// [`splice`] for a JSON object that begins at `start` in `json` and ends
/// it (a diff written after the start of the message that carries it).
pub(crate) fn splice_at(mut json: String, start: usize, extra: &str) -> String {
    json.pop();
    if json.len() > start + 1 {
        json.push(',');
    }
    json.push_str(&extra[1..]);
    json
}

/// The room a diff starts with: an event's change of a few values takes
/// tens of bytes, an item a stream inserts (its dynamics and its
/// template's statics) a few hundred, which then need no growth. The
/// buffer lives only until its frame is written, and only what is written
/// of it is touched.
pub(crate) const DIFF_CAPACITY: usize = 512;

/// Writes a diff as bytes: every piece comes from a `str` or a `Text`, so
/// the whole is checked as UTF-8 once, at the end, instead of piece by piece.
struct Writer<'a> {
    out: Vec<u8>,
    /// Where each template's statics go in `out`, in order: they are
    /// written once every use is known, inline or shared through `"p"`.
    statics: Vec<StaticsAt>,
    /// The lists the old tree lent to the render of the new one.
    lent: Option<&'a LentLists>,
}

/// A template whose statics go at an offset of the first pass's JSON.
#[derive(Clone, Copy)]
struct StaticsAt {
    offset: usize,
    template: &'static Template,
}

impl<'a> Writer<'a> {
    /// What turns `old` (nothing, for a first render) into `new`: the whole
    /// tree when the client holds nothing or another template, else only
    /// the dynamics that changed.
    fn changes(old: Option<&Rendered>, new: &Rendered) -> Writer<'a> {
        Writer::changes_onto(Vec::new(), old, new, None)
    }

    /// [`Writer::changes`], written after the bytes `out` holds, the lists
    /// `old` lent to the render of `new` in `lent`.
    fn changes_onto(
        mut out: Vec<u8>,
        old: Option<&Rendered>,
        new: &Rendered,
        lent: Option<&'a LentLists>,
    ) -> Writer<'a> {
        // Most diffs of an event fit in a few bytes. A whole tree takes
        // about as much room as its HTML, which the tree estimates: one
        // allocation instead of a growth through every power of two, each
        // copying what was written so far (a `/rows` join's is 6 KiB).
        let capacity = match old {
            Some(_) => DIFF_CAPACITY,
            None => new.html_size_hint(),
        };
        out.reserve(capacity);
        Writer::written_onto(out, old, new, lent)
    }

    /// [`Writer::changes_onto`] in the room `out` has, without reserving
    /// more first.
    fn written_onto(
        out: Vec<u8>,
        old: Option<&Rendered>,
        new: &Rendered,
        lent: Option<&'a LentLists>,
    ) -> Writer<'a> {
        let mut w = Writer {
            out,
            statics: Vec::new(),
            lent,
        };
        match old {
            Some(old) if old.template().same_as(new.template()) => {
                w.out.push(b'{');
                w.diff_dynamics(old.dynamics(), new.dynamics());
                w.out.push(b'}');
            }
            _ => w.full_tree(new),
        }
        w
    }

    fn key(&mut self, key: usize) {
        let first = matches!(self.out.last(), Some(b'{') | Some(b'[') | None);
        if !first {
            self.out.push(b',');
        }
        self.key_digits(key);
    }

    /// Writes key `i` of an object written whole, its keys in order from 0:
    /// the first follows the object's `{`, every other one a value. Knowing
    /// that spares looking back for where the key goes, and a key below 10
    /// goes out with its comma in one copy.
    #[inline]
    fn key_in_order(&mut self, i: usize) {
        match i {
            0 => self.out.extend_from_slice(b"\"0\":"),
            1..=9 => self
                .out
                .extend_from_slice(&[b',', b'"', b'0' + i as u8, b'"', b':']),
            _ => {
                self.out.push(b',');
                self.key_digits(i);
            }
        }
    }

    /// Writes `"key":`.
    fn key_digits(&mut self, key: usize) {
        // Most keys are a tree's first few dynamics or a short list's
        // indices: written with their quotes as one array of a fixed size,
        // which is copied without a call. The casts take digits below 10.
        match key {
            0..=9 => self
                .out
                .extend_from_slice(&[b'"', b'0' + key as u8, b'"', b':']),
            10..=99 => self.out.extend_from_slice(&[
                b'"',
                b'0' + (key / 10) as u8,
                b'0' + (key % 10) as u8,
                b'"',
                b':',
            ]),
            _ => {
                self.out.push(b'"');
                self.number(key);
                self.out.extend_from_slice(b"\":");
            }
        }
    }

    fn named(&mut self, name: &str) {
        if !matches!(self.out.last(), Some(b'{') | None) {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// Takes back what was written from `len` on, with any statics in it.
    fn truncate(&mut self, len: usize) {
        self.out.truncate(len);
        while self.statics.last().is_some_and(|at| at.offset >= len) {
            self.statics.pop();
        }
    }

    fn number(&mut self, number: impl itoa::Integer) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
    }

    fn statics(&mut self, template: &'static Template) {
        self.named("s");
        self.statics.push(StaticsAt {
            offset: self.out.len(),
            template,
        });
    }

    fn full_tree(&mut self, tree: &Rendered) {
        self.out.push(b'{');
        self.full_dynamics(tree.dynamics());
        self.statics(tree.template());
        if tree.template().is_root() {
            self.named("r");
            self.out.push(b'1');
        }
        self.out.push(b'}');
    }

    fn full_dynamics(&mut self, dynamics: &[Dynamic]) {
        for (i, dynamic) in dynamics.iter().enumerate() {
            self.key_in_order(i);
            self.full_dynamic(dynamic);
        }
    }

    // Texts are most of a join's dynamics: told apart here, inlined into
    // the loops over dynamics, a text is written without the call that
    // sets up for every kind.
    #[inline]
    fn full_dynamic(&mut self, dynamic: &Dynamic) {
        match dynamic {
            Dynamic::Text(text) => json_text(&mut self.out, text),
            other => self.full_structure(other),
        }
    }

    /// Writes a dynamic that is not a text whole.
    #[inline(never)]
    fn full_structure(&mut self, dynamic: &Dynamic) {
        match dynamic {
            Dynamic::Text(text) => json_text(&mut self.out, text),
            Dynamic::Nested(tree) => self.full_tree(tree),
            Dynamic::Memo(tree) => self.full_tree(tree),
            Dynamic::List(list) if list.is_empty() => self.out.extend_from_slice(b"\"\""),
            Dynamic::List(list) => self.full_list(list),
            Dynamic::Component(cid) => {
                self.number(cid.0);
            }
            Dynamic::Stream(stream) => self.stream(stream, true),
            Dynamic::LiveChild(child) => {
                tracing::error!(
                    child = child.id(),
                    "a child view outside a view renders as nothing"
                );
                self.out.extend_from_slice(b"\"\"");
            }
            Dynamic::LiveComponent(live) => {
                // Views resolve components before diffing; a tree diffed
                // on its own renders the component inline.
                self.full_tree(&live.render_detached());
            }
        }
    }

    /// A stream's comprehension: its inserted entries, always whole (the
    /// client keeps no entry of a stream), and the `"stream"` annotation.
    fn stream(&mut self, stream: &StreamList, with_statics: bool) {
        self.out.push(b'{');
        if let (true, Some(template)) = (with_statics, stream.template) {
            self.statics(template);
        }
        self.named("k");
        self.out.push(b'{');
        for (i, entry) in stream.entries.iter().enumerate() {
            self.key_in_order(i);
            self.out.push(b'{');
            self.full_dynamics(entry);
            self.out.push(b'}');
        }
        self.named("kc");
        self.number(stream.entries.len());
        self.out.push(b'}');
        self.named("stream");
        self.out.push(b'[');
        json_string(&mut self.out, &stream.reference);
        self.out.extend_from_slice(b",[");
        for (i, insert) in stream.inserts.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.stream_insert(insert);
        }
        self.out.extend_from_slice(b"],[");
        for (i, id) in stream.deletes.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            json_string(&mut self.out, id);
        }
        self.out.push(b']');
        if stream.reset {
            self.out.extend_from_slice(b",true");
        }
        self.out.extend_from_slice(b"]}");
    }

    fn stream_insert(&mut self, insert: &StreamInsert) {
        self.out.push(b'[');
        json_string(&mut self.out, &insert.dom_id);
        self.out.push(b',');
        self.number(insert.at);
        self.out.push(b',');
        match insert.limit {
            Some(limit) => self.number(limit),
            None => self.out.extend_from_slice(b"null"),
        }
        self.out.extend_from_slice(if insert.update_only {
            b",true]"
        } else {
            b",null]"
        });
    }

    fn full_list(&mut self, list: &Comprehension) {
        self.out.push(b'{');
        self.statics(list.template());
        self.named("k");
        self.out.push(b'{');
        let width = list.width();
        let mut index = 0;
        for chunk in list.chunks() {
            for dynamics in chunk.entry_dynamics(width) {
                self.key_in_order(index);
                self.full_entry(dynamics);
                index += 1;
            }
        }
        self.named("kc");
        self.number(list.len());
        self.out.extend_from_slice(b"}}");
    }

    fn full_entry(&mut self, dynamics: &[Dynamic]) {
        self.out.push(b'{');
        self.full_dynamics(dynamics);
        self.out.push(b'}');
    }

    fn diff_dynamics(&mut self, old: &[Dynamic], new: &[Dynamic]) {
        for (i, (old, new)) in old.iter().zip(new).enumerate() {
            self.diff_dynamic(i, old, new);
        }
    }

    fn diff_dynamic(&mut self, key: usize, old: &Dynamic, new: &Dynamic) {
        match (old, new) {
            (Dynamic::Text(a), Dynamic::Text(b)) if a == b => {}
            (Dynamic::Component(a), Dynamic::Component(b)) if a == b => {}
            // A `@memo` block the render reused: the tree the client holds.
            (Dynamic::Memo(a), Dynamic::Memo(b)) if Arc::ptr_eq(a, b) => {}
            (Dynamic::List(a), Dynamic::List(b)) => self.diff_lists(key, a, b, new),
            (Dynamic::Stream(_), Dynamic::Stream(b)) if b.is_unchanged() => {}
            (Dynamic::Stream(a), Dynamic::Stream(b))
                if a.reference == b.reference
                    && (b.template.is_none()
                        || a.template
                            .is_some_and(|t| b.template.is_some_and(|u| t.same_as(u)))) =>
            {
                // The client already holds the statics.
                self.key(key);
                self.stream(b, false);
            }
            _ => match (old.tree(), new.tree()) {
                (Some(a), Some(b)) if a.template().same_as(b.template()) => {
                    self.diff_trees(key, a, b);
                }
                _ => {
                    self.key(key);
                    self.full_dynamic(new);
                }
            },
        }
    }

    /// Writes what changed from tree `old` to tree `new` of the same
    /// template, the dynamic at `key`: nothing when nothing did.
    fn diff_trees(&mut self, key: usize, old: &Rendered, new: &Rendered) {
        if old.dynamics() == new.dynamics() {
            return;
        }
        let mark = self.out.len();
        self.key(key);
        let open = self.out.len();
        self.out.push(b'{');
        self.diff_dynamics(old.dynamics(), new.dynamics());
        self.close_or_drop(mark, open);
    }

    /// Writes what changed from list `old` to list `new`, the dynamic at
    /// `key`: a list [lent](crate::memo::RenderCache::lend_lists_of) is
    /// looked up first.
    fn diff_lists(
        &mut self,
        key: usize,
        old: &Comprehension,
        new: &Comprehension,
        dynamic: &Dynamic,
    ) {
        if let Some(token) = old.lent_token() {
            return self.diff_lent_list(key, token, new, dynamic);
        }
        if old.template().same_as(new.template()) && !old.is_empty() {
            self.diff_list(key, old, new);
        } else if !(old.is_empty() && new.is_empty()) {
            self.key(key);
            self.full_dynamic(dynamic);
        }
    }

    /// [`Writer::diff_lists`] of the list lent with `token`: the list
    /// itself, if the render left it whole (nothing, if `new` shares its
    /// chunks); only its entries changed in place, if the render changed
    /// them in `new`'s chunks. Anything else (a list changed in place that
    /// a second render before the diff copied and changed again, or that
    /// went to another place of the tree) is written whole.
    fn diff_lent_list(
        &mut self,
        key: usize,
        token: NonZeroUsize,
        new: &Comprehension,
        dynamic: &Dynamic,
    ) {
        match self.lent.and_then(|lent| lent.state(token)) {
            Some(LentState::Whole(old)) if old.shares_chunks_with(new) => {}
            Some(LentState::Whole(old)) => self.diff_lists(key, old, new, dynamic),
            Some(LentState::ChangedInPlace(changes)) if new.token() == token => {
                self.diff_changed_in_place(key, new, changes);
            }
            _ => {
                self.key(key);
                self.full_dynamic(dynamic);
            }
        }
    }

    /// Writes the entries of `new` that `changes` names, each against the
    /// dynamics it had, at its index; nothing if none differs.
    fn diff_changed_in_place(
        &mut self,
        key: usize,
        new: &Comprehension,
        changes: ChangedEntries<'_>,
    ) {
        let opened = self.open_list(key);
        for (i, old) in changes {
            if let Some(entry) = new.get(i).filter(|entry| entry.dynamics() != old) {
                self.diff_entry_in_place(i, old, entry.dynamics());
            }
        }
        self.close_list(opened, new.len(), new.len(), false);
    }

    /// Opens the changes of the list at `key`; returns where they begin
    /// and where the object of its entries opens, for
    /// [`close_list`](Writer::close_list).
    #[inline]
    fn open_list(&mut self, key: usize) -> (usize, usize) {
        let mark = self.out.len();
        self.key(key);
        self.out.extend_from_slice(b"{\"k\":{");
        (mark, self.out.len() - 1)
    }

    /// Closes the changes [opened](Writer::open_list) at `opened` with the
    /// list's length `len` and, if `moved`, the mark that entries moved; or
    /// takes them back when no entry was written and the client's list,
    /// `old_len` long, keeps its length.
    #[inline]
    fn close_list(
        &mut self,
        (mark, open): (usize, usize),
        len: usize,
        old_len: usize,
        moved: bool,
    ) {
        if self.out.len() == open + 1 && len == old_len {
            self.truncate(mark);
            return;
        }
        self.named("kc");
        self.number(len);
        if moved {
            self.out.extend_from_slice(b",\"km\":true");
        }
        self.out.extend_from_slice(b"}}");
    }

    /// Closes the object opened at `open`, or removes everything from `mark`
    /// on when nothing was written into it.
    fn close_or_drop(&mut self, mark: usize, open: usize) -> bool {
        if self.out.len() == open + 1 {
            self.truncate(mark);
            false
        } else {
            self.out.push(b'}');
            true
        }
    }

    fn diff_list(&mut self, key: usize, old: &Comprehension, new: &Comprehension) {
        let opened = self.open_list(key);
        let mut finder = OldEntries::new(old);
        let mut moved = false;
        let width = new.width();
        let size = new.chunk_size();
        let trust_stamps = old.stamps_agree_with(new);
        let chunked_alike = old.chunk_size() == size;
        for (c, chunk) in new.chunks().iter().enumerate() {
            let old_chunk = old.chunks().get(c);
            if old_chunk.is_some_and(|o| Arc::ptr_eq(o, chunk)) {
                // A chunk shared with the old tree holds the same entries at
                // the same indices: nothing in it changed.
                continue;
            }
            // Lists chunked alike hold index `i` at the same offset of the
            // same chunk. Where both chunks hold the same keys, only the
            // entries whose stamps differ can have changed (a render that
            // changed one row rebuilt its chunk around it); elsewhere an
            // entry still at its index, as most are, is found there without
            // working out its chunk again.
            let old_chunk = old_chunk.filter(|_| chunked_alike);
            let restamped = old_chunk
                .filter(|_| trust_stamps)
                .and_then(|o| Some((o, o.restamped_in(chunk)?)));
            if let Some((old_chunk, restamped)) = restamped {
                self.diff_restamped(c * size, old_chunk, chunk, restamped, width);
                continue;
            }
            for (offset, entry) in chunk.entries(width).enumerate() {
                let i = c * size + offset;
                match finder.find(i, old_chunk.map(|o| (o.as_ref(), offset)), entry.key()) {
                    Some((j, old_entry)) => {
                        let unchanged = (trust_stamps && old_entry.memo() == entry.memo())
                            || old_entry.same_dynamics(&entry);
                        moved |= self.diff_entry(i, j, old_entry, entry, unchanged);
                    }
                    None => {
                        self.key(i);
                        self.full_entry(entry.dynamics());
                    }
                }
            }
        }
        self.close_list(opened, new.len(), old.len(), moved);
    }

    /// Writes the entries of `new` marked in `restamped` (see
    /// [`Chunk::restamped_in`]), each held by the client at its index in
    /// `old`, the chunk before it at the same place; `first` is the index of
    /// the chunks' first entry.
    fn diff_restamped(
        &mut self,
        first: usize,
        old: &Chunk,
        new: &Chunk,
        mut restamped: u64,
        width: usize,
    ) {
        while restamped != 0 {
            let offset = restamped.trailing_zeros() as usize;
            restamped &= restamped - 1;
            let (Some(old_entry), Some(entry)) =
                (old.entry(offset, width), new.entry(offset, width))
            else {
                continue;
            };
            let unchanged = old_entry.same_dynamics(&entry);
            let i = first + offset;
            self.diff_entry(i, i, old_entry, entry, unchanged);
        }
    }

    /// Writes entry `i`, which the client holds at index `j` and which is
    /// `unchanged` or not; returns whether that is a move. Knowing first
    /// is cheaper than writing the entry's key and taking it back, which is
    /// what most entries of a list would cost.
    fn diff_entry(
        &mut self,
        i: usize,
        j: usize,
        old: EntryRef<'_>,
        new: EntryRef<'_>,
        unchanged: bool,
    ) -> bool {
        if i == j {
            if !unchanged {
                self.diff_entry_in_place(i, old.dynamics(), new.dynamics());
            }
            return false;
        }
        self.key(i);
        let mark = self.out.len();
        if !unchanged {
            self.out.push(b'[');
            self.number(j);
            self.out.push(b',');
            let open = self.out.len();
            self.out.push(b'{');
            self.diff_dynamics(old.dynamics(), new.dynamics());
            if self.out.len() > open + 1 {
                self.out.extend_from_slice(b"}]");
                return true;
            }
            self.truncate(mark);
        }
        self.number(j);
        true
    }

    /// Writes the changes of entry `i`, which the client holds at the same
    /// index, from dynamics `old` to `new`; nothing if none differs.
    fn diff_entry_in_place(&mut self, i: usize, old: &[Dynamic], new: &[Dynamic]) {
        let mark = self.out.len();
        self.key(i);
        let open = self.out.len();
        self.out.push(b'{');
        self.diff_dynamics(old, new);
        self.close_or_drop(mark, open);
    }

    /// The JSON with every template's statics written where it is used.
    fn inline_statics(self) -> String {
        let Writer {
            mut out, statics, ..
        } = self;
        insert_statics(&mut out, &statics);
        into_text(out)
    }

    fn finish(self) -> Diff {
        let Writer {
            mut out, statics, ..
        } = self;
        // An event's diff usually brings no template: nothing to plan.
        let json = if statics.is_empty() {
            out
        } else {
            let shared = Shared::plan(statics.iter().map(|at| at.template));
            if shared.order.is_empty() {
                insert_statics(&mut out, &statics);
                out
            } else {
                shared.resolve(&out, &statics)
            }
        };
        Diff {
            json: into_text(json),
        }
    }
}

/// Writes each template's statics into `out` at its offset, in the buffer
/// the diff was written in: most diffs bring one template or none, and
/// their statics then cost a move of what follows them rather than a second
/// buffer and a copy of the whole. Each byte moves at most once, from the
/// last insertion to the first.
fn insert_statics(out: &mut Vec<u8>, statics: &[StaticsAt]) {
    let Some(first) = statics.first() else {
        return;
    };
    let inline: usize = statics
        .iter()
        .map(|at| at.template.statics_json().len())
        .sum();
    let written = out.len();
    out.resize(written + inline, 0);
    // `end` bounds the bytes not yet moved; `to` is where they end once moved.
    let mut end = written;
    let mut to = written + inline;
    for at in statics.iter().rev() {
        let after = end - at.offset;
        out.copy_within(at.offset..end, to - after);
        to -= after;
        let json = at.template.statics_json().as_bytes();
        out[to - json.len()..to].copy_from_slice(json);
        to -= json.len();
        end = at.offset;
    }
    debug_assert_eq!(
        to, first.offset,
        "every byte before the first statics stays"
    );
}

/// The written JSON as text, checked as UTF-8 once for the whole diff.
fn into_text(json: Vec<u8>) -> String {
    String::from_utf8(json).expect("a diff is written from strings and texts")
}

/// Finds where the client holds an entry: at the same index when the key
/// matches there (the common case, no hashing), else through an index of the
/// old keys built on first need.
struct OldEntries<'a> {
    old: &'a Comprehension,
    by_key: Option<KeyIndex>,
}

impl<'a> OldEntries<'a> {
    fn new(old: &'a Comprehension) -> Self {
        OldEntries { old, by_key: None }
    }

    /// The entry for `key`, looked for first at index `i`: in `here`, the
    /// old chunk and offset that hold index `i` when the caller knows them
    /// (lists chunked alike), without working out its chunk again.
    fn find(
        &mut self,
        i: usize,
        here: Option<(&'a Chunk, usize)>,
        key: Key,
    ) -> Option<(usize, EntryRef<'a>)> {
        let old = self.old;
        let at_index = match here {
            Some((chunk, offset)) => chunk.entry(offset, old.width()),
            None => old.get(i),
        };
        if let Some(entry) = at_index.filter(|e| e.key() == key) {
            return Some((i, entry));
        }
        let by_key = self.by_key.get_or_insert_with(|| old.index_by_key());
        let j = *by_key.get(&key)?;
        old.get(j).map(|entry| (j, entry))
    }
}

/// Which statics of one diff go into `"p"`, and under which index.
#[derive(Default)]
struct Shared {
    index: HashMap<u64, usize>,
    order: Vec<&'static Template>,
}

impl Shared {
    fn plan(statics: impl ExactSizeIterator<Item = &'static Template>) -> Shared {
        let mut shared = Shared::default();
        // A template used once is never shared; most diffs bring one.
        if statics.len() < 2 {
            return shared;
        }
        let mut uses: HashMap<u64, (usize, &'static Template)> = HashMap::new();
        let mut first_seen = Vec::new();
        for template in statics {
            let slot = uses.entry(template.fingerprint()).or_insert_with(|| {
                first_seen.push(template);
                (0, template)
            });
            slot.0 += 1;
        }
        for template in first_seen {
            let count = uses[&template.fingerprint()].0;
            if shared.saves_bytes(template, count) {
                shared
                    .index
                    .insert(template.fingerprint(), shared.order.len());
                shared.order.push(template);
            }
        }
        shared
    }

    /// Inline costs `count * len`; shared costs one copy in `"p"` plus its
    /// key, and a short index at every use.
    fn saves_bytes(&self, template: &Template, count: usize) -> bool {
        if count < 2 {
            return false;
        }
        let len = template.statics_json().len();
        let index_len = decimal_len(self.order.len());
        let shared = len + index_len + 4 + count * index_len;
        shared < len * count
    }

    fn resolve(&self, out: &[u8], statics: &[StaticsAt]) -> Vec<u8> {
        let inline: usize = statics
            .iter()
            .map(|at| at.template.statics_json().len())
            .sum();
        let mut json = Vec::with_capacity(out.len() + inline + 64);
        let mut digits = itoa::Buffer::new();
        let mut written = 0;
        for at in statics {
            json.extend_from_slice(&out[written..at.offset]);
            written = at.offset;
            match self.index.get(&at.template.fingerprint()) {
                Some(&shared) => json.extend_from_slice(digits.format(shared).as_bytes()),
                None => json.extend_from_slice(at.template.statics_json().as_bytes()),
            }
        }
        json.extend_from_slice(&out[written..]);
        if !self.order.is_empty() {
            json.pop();
            json.extend_from_slice(b",\"p\":{");
            for (i, template) in self.order.iter().enumerate() {
                if i > 0 {
                    json.push(b',');
                }
                json.push(b'"');
                json.extend_from_slice(digits.format(i).as_bytes());
                json.extend_from_slice(b"\":");
                json.extend_from_slice(template.statics_json().as_bytes());
            }
            json.extend_from_slice(b"}}");
        }
        json
    }
}

fn decimal_len(n: usize) -> usize {
    n.checked_ilog10().unwrap_or(0) as usize + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statics_written_in_place_match_statics_written_into_a_new_buffer() {
        let one = Template::leak(vec!["<a>".into(), "</a>".into()], true);
        let two = Template::leak(vec!["<b>".into()], true);
        let out = br#"{"0":{"0":"x","s":},"1":{"s":},"2":{"s":}}"#.to_vec();
        let at = |needle: &str, template| StaticsAt {
            offset: out
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap()
                + needle.len(),
            template,
        };
        let cases = [
            vec![],
            vec![at(r#""x","s":"#, one)],
            vec![at(r#""x","s":"#, one), at(r#""1":{"s":"#, two)],
            vec![
                at(r#""x","s":"#, one),
                at(r#""1":{"s":"#, two),
                at(r#""2":{"s":"#, one),
            ],
        ];
        for statics in cases {
            let mut in_place = out.clone();
            insert_statics(&mut in_place, &statics);
            let copied = if statics.is_empty() {
                out.clone()
            } else {
                Shared::default().resolve(&out, &statics)
            };
            assert_eq!(
                String::from_utf8(in_place).unwrap(),
                String::from_utf8(copied).unwrap()
            );
        }
        let mut all = out.clone();
        insert_statics(
            &mut all,
            &[
                at(r#""x","s":"#, one),
                at(r#""1":{"s":"#, two),
                at(r#""2":{"s":"#, one),
            ],
        );
        assert_eq!(
            String::from_utf8(all).unwrap(),
            r#"{"0":{"0":"x","s":["<a>","</a>"]},"1":{"s":["<b>"]},"2":{"s":["<a>","</a>"]}}"#
        );
    }

    #[test]
    fn decimal_lengths() {
        assert_eq!(decimal_len(0), 1);
        assert_eq!(decimal_len(9), 1);
        assert_eq!(decimal_len(10), 2);
    }
}
