//! Memoized comprehension entries: the work of a render follows the change.
//!
//! A `for` in a template may name a memo stamp:
//!
//! ```text
//! @for row in &rows, key = row.id, memo = row.version { <tr>…</tr> }
//! ```
//!
//! Inside [`RenderCache::render`], an entry whose key and stamp equal those of
//! an entry of the previous render at the same `for` is not evaluated again:
//! the new tree shares the old entry's dynamics. The diff engine sees the
//! shared dynamics and skips the entry in O(1), so a change to one row of ten
//! thousand evaluates one row's dynamics, writes one entry into the diff and
//! spends only a key comparison on each other row. Entries live in chunks
//! (8 to 64 entries, by the list's length); a chunk whose entries are all
//! reused in place is shared whole with the previous render, and the diff
//! skips it with one pointer compare. Between two renders of the same `for`,
//! the diff also skips any entry whose key and stamp did not change, without
//! comparing its dynamics, whether or not a cache made the renders. A view
//! renders and diffs as [`RenderCache::render_diff`] does: the lists of the
//! tree its client holds are lent to the render, and a list whose render
//! changed only some of its entries has them put in place in its chunks,
//! nothing copied, and only those entries are diffed.
//!
//! The stamp is a promise: whatever the entry's body reads must be the same
//! whenever key and stamp are. A version counter bumped on every change, a
//! hash of the row, or the row itself (for small rows) all keep it. When
//! the key alone decides what the body shows, as for chat messages that
//! never change once posted, the stamp can be `()`:
//!
//! ```text
//! @for message in &messages, key = message.id, memo = () { <li>{message.text}</li> }
//! ```
//! Without a stamp, `html!` makes one from the values the body reads when
//! it can list them all (see the crate's "Change tracking"), so
//!
//! ```text
//! @for row in &rows { <li id={format!("row-{}", row.id)}>{row.score}</li> }
//! ```
//!
//! evaluates only the rows whose `id` or `score` changed. When it cannot,
//! every entry is evaluated on every render and the diff engine compares
//! the results, which is still correct, only slower.
//!
//! A block of markup may name a stamp too:
//!
//! ```text
//! @memo menu.version { <nav>…</nav> }
//! ```
//!
//! Inside [`RenderCache::render`], while the stamp equals the previous
//! render's at the same place, the block is the previous render's tree and
//! its body is not evaluated; the lists inside it keep their entries for
//! the render in which the stamp changes.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use cinder_runtime::ids::IdMap;

use crate::rendered::{
    chunk_size, Chunk, ChunkBuilder, Comprehension, Dynamic, EntryRef, InPlaceEntries, Key,
    KeyIndex, Rendered, Template,
};
use lent::LentLists;

pub(crate) mod lent;
pub(crate) mod reads;
pub(crate) mod written;

pub use reads::StampValue;
pub(crate) use written::render_html_only;
pub use written::WrittenList;

/// Keeps what one render's memoized `for`s produced, for the next render.
///
/// Hold one per rendered view and render through it:
///
/// ```
/// use cinder::{html, memo::RenderCache};
///
/// struct Row { id: u32, version: u64, name: String }
/// let rows = vec![Row { id: 1, version: 1, name: "a".into() }];
/// let view = |rows: &[Row]| html! {
///     <ul>@for row in rows, key = row.id, memo = row.version { <li>{&row.name}</li> }</ul>
/// };
/// let mut cache = RenderCache::default();
/// let first = cache.render(|| view(&rows));
/// let second = cache.render(|| view(&rows));
/// assert!(cinder::diff::diff(&first, &second).is_empty());
/// ```
#[derive(Default, Debug)]
pub struct RenderCache {
    previous: BySite,
    /// The lists of the tree the client holds, lent to the next render
    /// (see [`RenderCache::lend_lists_of`]).
    lent: LentLists,
}

/// What each `for` or `@memo` site kept, in the order a render made them.
///
/// A site is already a fingerprint of its place and template, so the map
/// spreads it with one multiplication, where the default hasher would
/// spend a keyed hash on every lookup of every render.
type BySite = IdMap<Vec<Kept>>;

/// What a render kept at one site for the next render.
#[derive(Debug)]
enum Kept {
    /// A `for`'s comprehension.
    List(Comprehension),
    /// A `@memo` block's tree, the stamp it was rendered with, and what the
    /// `for`s and blocks inside it kept when it was, kept here alone: a
    /// render that reuses the block keeps them with it, untouched, and one
    /// that renders it again first gives them back to the block's lists,
    /// which then reuse their unchanged entries.
    Block {
        stamp: u64,
        tree: Dynamic,
        inner: Vec<(u64, Kept)>,
    },
}

impl RenderCache {
    /// Runs `render` with the previous render's memoized entries available,
    /// and keeps this render's for the next call.
    pub fn render<R>(&mut self, render: impl FnOnce() -> R) -> R {
        let mut previous = std::mem::take(&mut self.previous);
        // Each site's lists are taken in the order they were made: reversed,
        // the next one is the last, and is moved out rather than cloned.
        // A view that shows no list (most renders of a small view) skips
        // the walks over its empty map, here and after the render.
        if !previous.is_empty() {
            previous.values_mut().for_each(|lists| lists.reverse());
        }
        let scope = Scope::enter(Frame {
            previous,
            recorded: SPARE_RECORDED.take(),
            lent: std::mem::take(&mut self.lent),
        });
        let result = render();
        let Frame {
            mut previous,
            mut recorded,
            lent,
        } = scope.exit();
        self.lent = lent;
        if !previous.is_empty() || !recorded.is_empty() {
            keep_recorded(&mut previous, &mut recorded);
        }
        SPARE_RECORDED.set(recorded);
        self.previous = previous;
        result
    }

    /// Forgets every memoized entry, so the next render evaluates everything.
    pub fn clear(&mut self) {
        self.previous.clear();
        self.lent.clear();
    }

    /// Renders `render` and returns what changed from `shown`, the tree the
    /// client holds, which the new tree then replaces: what a view does on
    /// each event.
    ///
    /// The lists of `shown` are lent to the render, so that, held by the
    /// cache alone, they can be changed where they are: a render that
    /// changes a few entries of a list and nothing else of it puts them in
    /// place of the old ones, and the diff writes those entries without
    /// reading the rest of the list. [`diff::diff`](crate::diff::diff) of
    /// two trees kept apart gives the same diff, with a copy of each
    /// changed entry's chunk.
    ///
    /// ```
    /// use cinder::{diff, html, memo::RenderCache};
    ///
    /// let view = |values: &[u32]| html! { <ul>@for v in values { <li>{v}</li> }</ul> };
    /// let mut values = vec![1, 2, 3];
    /// let mut cache = RenderCache::default();
    /// let mut shown = cache.render(|| view(&values));
    /// values[1] = 20;
    /// let changed = cache.render_diff(&mut shown, || view(&values));
    /// assert_eq!(changed.as_str(), r#"{"0":{"k":{"1":{"0":"20"},"kc":3}}}"#);
    /// assert_eq!(diff::render(&shown), diff::render(&view(&values)));
    /// ```
    pub fn render_diff(
        &mut self,
        shown: &mut Rendered,
        render: impl FnOnce() -> Rendered,
    ) -> crate::diff::Diff {
        self.lend_lists_of(shown);
        let new = self.render(render);
        let diff = crate::diff::diff_lent(shown, &new, &self.lent);
        *shown = new;
        self.end_lending();
        diff
    }

    /// Lends the lists of `shown`, the tree the client holds and the next
    /// render through this cache is diffed against, to that render: in
    /// `shown` each becomes an empty list naming the one it was, so that
    /// the cache holds the list alone and the render can change its
    /// entries in place. The diff then reads the lists from
    /// [`lent_lists`](RenderCache::lent_lists), and
    /// [`end_lending`](RenderCache::end_lending) lets them go.
    pub(crate) fn lend_lists_of(&mut self, shown: &mut Rendered) {
        self.lent.lend_from(shown);
    }

    /// The lists lent to the last render, and what it changed in them.
    pub(crate) fn lent_lists(&self) -> &LentLists {
        &self.lent
    }

    /// Lets go of the lists lent to the last render, once diffed.
    pub(crate) fn end_lending(&mut self) {
        self.lent.clear();
    }
}

/// Replaces what `previous` kept with what a render `recorded`, leaving
/// `recorded` empty. What the render did not take is gone from the page.
/// The map and its vectors are kept for this render's lists: a view
/// rendered again and again allocates none of them.
fn keep_recorded(previous: &mut BySite, recorded: &mut Vec<(u64, Kept)>) {
    previous.values_mut().for_each(Vec::clear);
    for (site, kept) in recorded.drain(..) {
        previous.entry(site).or_default().push(kept);
    }
    previous.retain(|_, lists| !lists.is_empty());
}

thread_local! {
    static ACTIVE: RefCell<Option<Frame>> = const { RefCell::new(None) };
    /// The buffer a render records its lists in, kept empty between renders
    /// by whichever render on this thread used it last.
    static SPARE_RECORDED: Cell<Vec<(u64, Kept)>> = const { Cell::new(Vec::new()) };
}

struct Frame {
    /// The previous render's lists not yet taken, each site's in reverse.
    previous: BySite,
    /// This render's lists and blocks and their sites, in the order it made
    /// them.
    recorded: Vec<(u64, Kept)>,
    /// The lists of the tree the client holds, lent to this render.
    lent: LentLists,
}

impl Frame {
    /// What the previous render kept at the next occurrence of `site`.
    fn take(&mut self, site: u64) -> Option<Kept> {
        self.previous.get_mut(&site)?.pop()
    }

    /// Makes what a block's lists and blocks kept, in the order they made
    /// it, the next [`take`](Frame::take) of each of their sites.
    fn give_back(&mut self, inner: Vec<(u64, Kept)>) {
        for (site, kept) in inner.into_iter().rev() {
            self.previous.entry(site).or_default().push(kept);
        }
    }
}

/// One render's frame on this thread. A render inside a render (a component
/// rendered through its own cache) gets its own frame, and the outer frame is
/// put back when it ends, also when it panics.
struct Scope {
    outer: Option<Option<Frame>>,
}

impl Scope {
    fn enter(frame: Frame) -> Scope {
        let outer = ACTIVE.with(|active| active.borrow_mut().replace(frame));
        Scope { outer: Some(outer) }
    }

    /// Ends the render and returns its frame.
    fn exit(mut self) -> Frame {
        let outer = self.outer.take().flatten();
        let frame = ACTIVE.with(|active| std::mem::replace(&mut *active.borrow_mut(), outer));
        frame.expect("a render's frame stays in place until the render ends")
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        if let Some(outer) = self.outer.take() {
            ACTIVE.with(|active| *active.borrow_mut() = outer);
        }
    }
}

/// Whether a [`RenderCache`] is rendering on this thread.
fn in_render_cache() -> bool {
    ACTIVE.with(|active| active.borrow().is_some())
}

/// The previous render's comprehension for the next occurrence of `site`.
fn take_previous(site: u64) -> Option<Comprehension> {
    let kept = ACTIVE.with(|active| active.borrow_mut().as_mut()?.take(site));
    match kept? {
        Kept::List(list) => Some(list),
        Kept::Block { .. } => None,
    }
}

/// Keeps what this render made at `site` for the next, if a cache renders;
/// `kept` makes it only then, from what the render has kept so far.
fn keep(site: u64, kept: impl FnOnce(&mut Vec<(u64, Kept)>) -> Kept) {
    ACTIVE.with(|active| {
        if let Some(frame) = active.borrow_mut().as_mut() {
            let kept = kept(&mut frame.recorded);
            frame.recorded.push((site, kept));
        }
    });
}

/// Runs `f` on the lists lent to the render under way, if a cache renders.
fn with_lent<T>(f: impl FnOnce(&mut LentLists) -> T) -> Option<T> {
    ACTIVE.with(|active| active.borrow_mut().as_mut().map(|frame| f(&mut frame.lent)))
}

fn record(site: u64, list: &Comprehension) {
    keep(site, |_| Kept::List(list.clone()));
}

/// Where a `@memo` block's body began to keep what it renders: how much
/// the render had kept before it.
#[doc(hidden)]
pub struct BlockStart(usize);

/// The tree of a `@memo` block at `site` that the previous render made
/// with the same `stamp`, kept again for the next render with what the
/// block's lists kept. Otherwise the block must be rendered, and its tree
/// passed to [`memo_block_rendered`] with the start returned here; its
/// lists then find what they kept.
#[doc(hidden)]
pub fn memo_block_reused(site: u64, stamp: u64) -> Result<Dynamic, BlockStart> {
    ACTIVE.with(|active| {
        let mut active = active.borrow_mut();
        let Some(frame) = active.as_mut() else {
            return Err(BlockStart(0));
        };
        match frame.take(site) {
            Some(Kept::Block {
                stamp: kept,
                tree,
                inner,
            }) if kept == stamp => {
                let reused = tree.clone();
                frame
                    .recorded
                    .push((site, Kept::Block { stamp, tree, inner }));
                Ok(reused)
            }
            Some(Kept::Block { inner, .. }) => {
                frame.give_back(inner);
                Err(BlockStart(frame.recorded.len()))
            }
            _ => Err(BlockStart(frame.recorded.len())),
        }
    })
}

/// Keeps the tree just rendered for a `@memo` block at `site`, with what
/// its lists kept since `start` (moved into the block: the next render
/// finds them through it), for the next render to reuse while `stamp`
/// stays the same; returns the tree, shared with the cache as a
/// [`Dynamic::Memo`].
#[doc(hidden)]
pub fn memo_block_rendered(site: u64, stamp: u64, start: BlockStart, tree: Dynamic) -> Dynamic {
    let tree = match tree {
        Dynamic::Nested(tree) => Dynamic::Memo(Arc::from(tree)),
        other => other,
    };
    keep(site, |recorded| Kept::Block {
        stamp,
        tree: tree.clone(),
        inner: recorded.split_off(start.0.min(recorded.len())),
    });
    tree
}

/// Builds the comprehension of one `for` as the loop runs.
///
/// Entries reused at the index they had before are not copied at once: the
/// builder only counts them, and when a whole chunk turns out to be reused
/// in place it shares the previous render's chunk; a run in a chunk that
/// changed elsewhere is copied in one go when it ends. So an unchanged run of
/// entries costs a key and stamp comparison each (or, without a stamp, a
/// comparison of the entry's dynamics) and nothing else.
#[doc(hidden)]
pub struct ListBuilder {
    template: &'static Template,
    /// The list's chunks after its `previous_prefix`, allocated only once
    /// the list parts from the previous render's.
    chunks: Vec<Arc<Chunk>>,
    /// The previous render's first chunks, shared whole and in place, that
    /// begin this list and are not yet in `chunks` (then empty): a list
    /// whose chunks are all the previous render's takes no memory of its
    /// own, and is the previous comprehension again.
    previous_prefix: usize,
    /// Entries of the chunk being built, before any pending reuses.
    current: ChunkBuilder,
    /// Entries after those of the chunk being built that equal the previous
    /// render's entries at the same index, not yet copied: a run that is
    /// copied in one go when it ends, or shared whole when it fills a chunk.
    reused_in_place: usize,
    /// Entries the loop is expected to produce, to size chunks.
    size_hint: usize,
    /// Whether the previous render's chunks hold as many entries as this
    /// one's, so that its chunk at a position can be reused in place: a
    /// list whose length crossed a chunk size is chunked differently.
    in_place: bool,
    memo: Option<MemoSite>,
    /// Whether the site has a previous render to reuse entries from: a
    /// first render (a join) checks this and nothing else.
    has_previous: bool,
    /// Whether an entry equal to the previous render's entry at its index
    /// counts as a reuse of it (a `for` without a memo stamp).
    share_equal: bool,
    /// In a render whose tree is only written as HTML (see
    /// [`render_html_only`]), the list written so far; the fields above
    /// then stay empty.
    written: Option<WrittenList>,
    /// The entries so far, of every kind: counted as they come, so that
    /// the index of the next entry (the key of a `for` without one) is one
    /// read.
    entries: usize,
    /// The keys and stamps of the previous render's chunk at the position
    /// being built, copied out of it when the chunk is reached, if they fit:
    /// comparing an entry with the one at its index then reads the builder
    /// alone. `None` where they do not fit, and the chunk is read instead.
    previous_here: Option<InPlaceEntries>,
    /// Whether entries that changed are put in place of the previous
    /// render's, in its chunks.
    changes: InPlaceChanges,
}

/// Whether a [`ListBuilder`] puts changed entries in place of the previous
/// render's entries, in the previous render's chunks: when the previous
/// list was lent to the render (see [`RenderCache::lend_lists_of`]) and is
/// held nowhere else, so that the client's copy is the only other one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InPlaceChanges {
    /// No entry has changed yet.
    Untried,
    /// The previous list cannot be changed in place.
    Refused,
    /// The previous list is the lent list of this number, and the entries
    /// changed so far are in place.
    Making(usize),
}

struct MemoSite {
    site: u64,
    previous: Option<Comprehension>,
    by_key: Option<KeyIndex>,
}

impl ListBuilder {
    /// A comprehension whose entries are always evaluated.
    pub fn new(template: &'static Template, size_hint: usize) -> Self {
        ListBuilder::with(template, size_hint, None, false)
    }

    /// A comprehension that may reuse the previous render's entries at `site`.
    pub fn memoized(template: &'static Template, size_hint: usize, site: u64) -> Self {
        ListBuilder::for_loop(template, size_hint, site, true)
    }

    /// A comprehension whose entries are always evaluated, and which keeps
    /// the previous render's chunks at `site` wherever the new entries
    /// equal them: an unchanged list then costs no allocation, the old
    /// tree's chunks are not freed, and the diff skips them by pointer.
    pub fn shared(template: &'static Template, size_hint: usize, site: u64) -> Self {
        let builder = ListBuilder::for_loop(template, size_hint, site, false);
        ListBuilder {
            share_equal: builder.written.is_none(),
            ..builder
        }
    }

    /// A comprehension whose entries carry the stamp of what their body
    /// reads ([`reuse_read`](ListBuilder::reuse_read)), or, when what it
    /// reads cannot be stamped, are kept as [`shared`](ListBuilder::shared)
    /// ones are.
    pub fn tracked(template: &'static Template, size_hint: usize, site: u64) -> Self {
        ListBuilder::shared(template, size_hint, site)
    }

    /// Adds the previous render's entry for `key` if it was made from the
    /// same reads; returns whether it did. Every entry of a `for` is
    /// stamped or none is, as the types read decide, so the first stamp
    /// turns the list into a stamped one.
    #[inline]
    pub fn reuse_read(&mut self, key: Key, stamp: Option<u64>) -> bool {
        let Some(stamp) = stamp else {
            return false;
        };
        if self.share_equal {
            self.become_stamped();
        }
        self.reuse(key, stamp)
    }

    /// Turns a list that was to keep equal entries into a stamped one, at
    /// its first entry.
    #[cold]
    fn become_stamped(&mut self) {
        self.share_equal = false;
        self.current = ChunkBuilder::new(self.template.dynamic_count(), self.chunk_size(), true);
    }

    /// Adds an evaluated entry with the stamp of its reads, if it has one.
    // Always inlined: it only picks the method to call, and the `for` that
    // calls it for each entry is often too large for the compiler to
    // inline it on its own.
    #[inline(always)]
    pub fn push_read<D>(&mut self, key: Key, stamp: Option<u64>, dynamics: D)
    where
        D: IntoIterator<Item = Dynamic> + AsRef<[Dynamic]>,
    {
        match stamp {
            Some(stamp) => self.push_memo(key, stamp, dynamics),
            None => self.push(key, dynamics),
        }
    }

    /// The builder of a template's `for` at `site`: one that writes its
    /// entries as HTML at once in a render that only writes HTML (outside
    /// a render cache, whose next render would share the entries).
    fn for_loop(template: &'static Template, size_hint: usize, site: u64, stamped: bool) -> Self {
        if written::html_only() && !in_render_cache() {
            return ListBuilder {
                written: Some(WrittenList::new(template, size_hint)),
                ..ListBuilder::empty(template)
            };
        }
        ListBuilder::with(template, size_hint, Some(site), stamped)
    }

    /// A builder that holds nothing and takes no memory.
    fn empty(template: &'static Template) -> Self {
        ListBuilder {
            template,
            chunks: Vec::new(),
            previous_prefix: 0,
            current: ChunkBuilder::new(template.dynamic_count(), 1, false),
            reused_in_place: 0,
            size_hint: 0,
            in_place: false,
            has_previous: false,
            memo: None,
            share_equal: false,
            written: None,
            entries: 0,
            previous_here: None,
            changes: InPlaceChanges::Untried,
        }
    }

    /// A builder at `site` (if any), its entries stamped or not. Its first
    /// chunk takes memory only once an entry is not a reuse.
    fn with(
        template: &'static Template,
        size_hint: usize,
        site: Option<u64>,
        stamped: bool,
    ) -> Self {
        let memo = site.map(|site| MemoSite {
            site,
            previous: take_previous(site).filter(|p| p.template().same_as(template)),
            by_key: None,
        });
        let previous = memo.as_ref().and_then(|m| m.previous.as_ref());
        if let Some(previous) = previous {
            previous.prefetch_chunks();
        }
        let size_hint = size_hint.max(previous.map_or(0, Comprehension::len));
        let chunk_size = if in_render_cache() {
            chunk_size(size_hint)
        } else {
            // Nothing keeps a list rendered outside a cache (a template
            // rendered on its own) to share its chunks with the next
            // render, so the whole list goes in one: one allocation instead
            // of one per few entries.
            chunk_size(size_hint).max(size_hint)
        };
        let mut builder = ListBuilder {
            current: ChunkBuilder::new(template.dynamic_count(), chunk_size, stamped),
            size_hint,
            in_place: previous.is_some_and(|p| p.chunk_size() == chunk_size),
            has_previous: previous.is_some(),
            memo,
            ..ListBuilder::empty(template)
        };
        builder.reach_position();
        builder
    }

    /// Copies out the keys and stamps of the previous render's chunk at
    /// the position the next chunk takes, if the list is chunked as it was.
    fn reach_position(&mut self) {
        self.previous_here = if self.in_place {
            previous_chunk_at(&self.memo, self.position()).and_then(|c| c.in_place_entries())
        } else {
            None
        };
    }

    /// How many chunks the list has so far: the index of the one being built.
    #[inline]
    fn position(&self) -> usize {
        self.previous_prefix + self.chunks.len()
    }

    /// How many entries each chunk holds.
    fn chunk_size(&self) -> usize {
        self.current.size()
    }

    /// The key of the next entry when the `for` names none: its index.
    #[inline]
    pub fn next_index_key(&self) -> Key {
        Key(self.entries as u64)
    }

    /// Whether the list writes its entries' HTML as they come: in a page's
    /// first render, outside a render cache.
    #[inline]
    pub fn writes_html(&self) -> bool {
        self.written.is_some()
    }

    /// The list being written, when the list
    /// [writes its entries' HTML](ListBuilder::writes_html): a `for` whose
    /// entry interpolates only values writes the entry there itself, value
    /// by value, then [counts it](ListBuilder::end_written_entry). For the
    /// `html!` macro.
    #[inline]
    pub fn written_list(&mut self) -> Option<&mut WrittenList> {
        self.written.as_mut()
    }

    /// Counts an entry written into the [written list](ListBuilder::written_list)
    /// as one of the list's.
    #[inline]
    pub fn end_written_entry(&mut self) {
        self.entries += 1;
    }

    /// Adds an evaluated entry.
    pub fn push<D>(&mut self, key: Key, dynamics: D)
    where
        D: IntoIterator<Item = Dynamic> + AsRef<[Dynamic]>,
    {
        if let Some(written) = &mut self.written {
            self.entries += 1;
            return written.add(dynamics);
        }
        if self.share_equal && self.reuse_equal(key, dynamics.as_ref()) {
            return;
        }
        self.add(key, None, dynamics);
    }

    /// Adds an evaluated entry with its memo stamp.
    pub fn push_memo<D>(&mut self, key: Key, memo: u64, dynamics: D)
    where
        D: IntoIterator<Item = Dynamic> + AsRef<[Dynamic]>,
    {
        if let Some(written) = &mut self.written {
            self.entries += 1;
            return written.add(dynamics);
        }
        self.add(key, Some(memo), dynamics);
    }

    fn add(&mut self, key: Key, memo: Option<u64>, dynamics: impl IntoIterator<Item = Dynamic>) {
        if self.can_change_in_place(key, memo.is_some()) {
            return self.change_in_place(memo, dynamics);
        }
        if let InPlaceChanges::Making(_) = self.changes {
            self.settle_changes();
        }
        if self.current.is_empty() {
            self.start_chunk();
        }
        if self.reused_in_place > 0 {
            self.copy_reused();
        }
        self.current.push(key, memo, dynamics);
        self.entries += 1;
        if self.current.len() == self.chunk_size() {
            self.seal();
        }
    }

    /// Whether the entry coming, with `key` and stamped or not, can take
    /// the place of the previous render's entry at its index, in its
    /// chunk: while the list is still the previous one, entry for entry.
    #[inline]
    fn can_change_in_place(&mut self, key: Key, stamped: bool) -> bool {
        self.in_place
            && self.chunks.is_empty()
            && self.current.is_empty()
            && self.changes != InPlaceChanges::Refused
            && self.may_change_in_place(key, stamped)
    }

    /// [`can_change_in_place`](ListBuilder::can_change_in_place), once the
    /// list is known to be the previous one so far: the previous entry at
    /// the index must have the same key and be stamped alike, and its chunk
    /// must be held by the previous list alone. The first time, the
    /// previous list is taken from those lent to the render.
    #[inline(never)]
    fn may_change_in_place(&mut self, key: Key, stamped: bool) -> bool {
        let position = self.position();
        let Some(previous) = previous_list(&self.memo) else {
            return false;
        };
        let fits = previous
            .chunks()
            .get(position)
            .is_some_and(|chunk| chunk.entry_fits(self.reused_in_place, key, stamped));
        if !fits {
            return false;
        }
        if let InPlaceChanges::Making(_) = self.changes {
            return previous.chunk_is_only_here(position, 1);
        }
        // Held by the lent list too, until it is taken.
        if !previous.chunk_is_only_here(position, 2) {
            return false;
        }
        let token = previous.token();
        self.changes = match with_lent(|lent| lent.take_for_change(token)).flatten() {
            Some(number) => InPlaceChanges::Making(number),
            None => InPlaceChanges::Refused,
        };
        self.changes != InPlaceChanges::Refused
    }

    /// Puts an entry of `dynamics` stamped `memo` in place of the previous
    /// render's entry at its index, which
    /// [`can_change_in_place`](ListBuilder::can_change_in_place) allowed, and
    /// counts it as reused there.
    fn change_in_place(&mut self, memo: Option<u64>, dynamics: impl IntoIterator<Item = Dynamic>) {
        let InPlaceChanges::Making(number) = self.changes else {
            unreachable!("an entry is changed in place once the previous list is taken");
        };
        let (position, offset, index) = (self.position(), self.reused_in_place, self.entries);
        let width = self.template.dynamic_count();
        let chunk = self
            .memo
            .as_mut()
            .and_then(|site| site.previous.as_mut())
            .and_then(|previous| previous.chunk_mut(position))
            .expect("a chunk changed in place is held by the previous list alone");
        with_lent(|lent| {
            lent.change(number, index, |old| {
                chunk.replace_entry(offset, width, memo, dynamics, old)
            })
        });
        self.count_reused_in_place();
    }

    /// Puts back the entries changed in place into the previous render's
    /// list, which is the list the client holds again, and lends it back:
    /// the list parts from the previous one after all, and the diff
    /// compares the two. The chunks passed so far that had entries changed,
    /// and the run of entries reused in the chunk being built, are copied
    /// first, with the changes.
    #[cold]
    fn settle_changes(&mut self) {
        let InPlaceChanges::Making(number) =
            std::mem::replace(&mut self.changes, InPlaceChanges::Refused)
        else {
            return;
        };
        if self.reused_in_place > 0 {
            if self.current.is_empty() {
                self.start_chunk();
            }
            self.copy_reused();
        }
        let (position, size) = (self.position(), self.chunk_size());
        let width = self.template.dynamic_count();
        let mut copied: Vec<(usize, Arc<Chunk>)> = Vec::new();
        // The render's entries that the old ones replace, let go one entry
        // at a time from one buffer.
        let mut replaced = Vec::new();
        let previous = self
            .memo
            .as_mut()
            .and_then(|site| site.previous.as_mut())
            .expect("entries are changed in place in a previous list");
        with_lent(|lent| {
            lent.give_back(number, previous, |list, index, stamp, old| {
                let at = index / size;
                if at < position && copied.iter().all(|(done, _)| *done != at) {
                    copied.push((at, Arc::new(Chunk::clone(&list.chunks()[at]))));
                }
                list.chunk_mut(at)
                    .expect("a chunk changed in place is held by the previous list alone")
                    .replace_entry(index % size, width, stamp, old, &mut replaced);
                replaced.clear();
            });
        });
        if self.previous_prefix > 0 {
            self.own_chunks();
            for (at, chunk) in copied {
                self.chunks[at] = chunk;
            }
        }
    }

    /// Whether the list, as built so far, is the previous render's list
    /// whole, chunk for chunk.
    fn is_previous_list_again(&self) -> bool {
        let previous = previous_chunks(&self.memo);
        self.chunks.is_empty()
            && self.current.is_empty()
            && match self.reused_in_place {
                0 => self.previous_prefix == previous.len(),
                reused => {
                    self.previous_prefix + 1 == previous.len()
                        && previous[self.previous_prefix].len() == reused
                }
            }
    }

    /// Makes room for the rest of the chunk begun with the next entry,
    /// taken only now: a chunk reused whole never needs it.
    #[inline(never)]
    fn start_chunk(&mut self) {
        let room = self
            .size_hint
            .saturating_sub(self.position() * self.chunk_size());
        self.current.reserve(room.clamp(1, self.chunk_size()));
    }

    /// Ends the chunk being built and starts the next one.
    fn seal(&mut self) {
        let next = self.current.next();
        let chunk = std::mem::replace(&mut self.current, next);
        if self.chunks.is_empty() {
            self.own_chunks();
        }
        self.chunks.push(Arc::new(chunk.finish()));
        self.reach_position();
    }

    /// Gives the list a chunk list of its own, beginning with the previous
    /// render's chunks it has shared so far: its first chunk that is not one
    /// of them is coming.
    #[cold]
    fn own_chunks(&mut self) {
        let count = self
            .size_hint
            .div_ceil(self.chunk_size())
            .max(self.previous_prefix + 1);
        let mut chunks = Vec::with_capacity(count);
        chunks.extend_from_slice(&previous_chunks(&self.memo)[..self.previous_prefix]);
        self.chunks = chunks;
        self.previous_prefix = 0;
    }

    /// Adds the previous render's chunk at the list's position, shared whole.
    #[inline]
    fn push_previous_chunk(&mut self) {
        if self.chunks.is_empty() {
            self.previous_prefix += 1;
        } else {
            let chunk = self
                .previous_chunk()
                .expect("in-place reuses come from a previous chunk");
            self.chunks.push(chunk);
        }
    }

    /// Copies the pending in-place reuses into the chunk being built, in
    /// one go.
    #[inline(never)]
    fn copy_reused(&mut self) {
        // Borrowed field by field: the old chunk is read while the chunk
        // being built takes its copy.
        let chunk = previous_chunk_at(&self.memo, self.position())
            .expect("in-place reuses come from a previous chunk");
        let from = self.current.len();
        self.current.extend_from(chunk, from, self.reused_in_place);
        self.reused_in_place = 0;
    }

    /// The previous render's chunk at the position of the chunk being built.
    fn previous_chunk(&self) -> Option<Arc<Chunk>> {
        previous_chunk_at(&self.memo, self.position()).cloned()
    }

    /// Adds the previous render's entry for `key` if its stamp is `memo`;
    /// returns whether it did, so the caller knows to evaluate otherwise.
    // Inlined into the template's loop: most entries of a list that changed
    // little are reused in place, in a few instructions, and only the rest
    // pay for a call.
    #[inline]
    pub fn reuse(&mut self, key: Key, memo: u64) -> bool {
        self.has_previous && (self.reuse_in_place(key, memo) || self.reuse_moved(key, memo))
    }

    /// [`reuse`](ListBuilder::reuse) of an entry that is not the previous
    /// render's at its index: none when that entry has `key`, whose stamp
    /// then differs (the entry changed, as a bumped row has), without the
    /// search by key that would find the same entry.
    #[inline(never)]
    fn reuse_moved(&mut self, key: Key, memo: u64) -> bool {
        !self.key_in_place(key) && self.reuse_found(key, memo)
    }

    /// Whether the previous render's entry at this index, in the list
    /// chunked as this one, has `key`.
    fn key_in_place(&self, key: Key) -> bool {
        self.previous_at_index(
            |previous, index| previous.has_key(index, key),
            |chunk, index| chunk.has_key(index, key),
        )
    }

    /// Asks of the previous render's entry at this index, in the list
    /// chunked as this one, what `copied` asks of the keys and stamps
    /// copied out of its chunk, or where they were not, what `in_chunk`
    /// asks of the chunk; each is given the entry's index in its chunk.
    /// False when the list is chunked otherwise.
    #[inline]
    fn previous_at_index(
        &self,
        copied: impl FnOnce(&InPlaceEntries, usize) -> bool,
        in_chunk: impl FnOnce(&Chunk, usize) -> bool,
    ) -> bool {
        let index = self.current.len() + self.reused_in_place;
        match &self.previous_here {
            Some(previous) => copied(previous, index),
            None => {
                self.in_place
                    && previous_chunk_at(&self.memo, self.position())
                        .is_some_and(|chunk| in_chunk(chunk, index))
            }
        }
    }

    /// [`reuse`](ListBuilder::reuse) of an entry looked for by its key: one
    /// that moved, or any entry of a list whose chunks are not in place.
    #[inline(never)]
    fn reuse_found(&mut self, key: Key, memo: u64) -> bool {
        let index = self.entries;
        let Some(site) = self.memo.as_mut() else {
            return false;
        };
        let Some((chunk, offset)) = site.find(index, key) else {
            return false;
        };
        // The chunk is held apart from the builder, so the entry's dynamics
        // are cloned straight into the chunk being built.
        let old = chunk
            .entry(offset, self.template.dynamic_count())
            .filter(|old| old.memo() == Some(memo));
        let Some(old) = old else {
            return false;
        };
        if let InPlaceChanges::Making(_) = self.changes {
            // The list parts from the previous one here, whose changes in
            // place are put back first: its chunks must be held by nothing
            // else by then.
            let dynamics = old.dynamics().to_vec();
            drop(chunk);
            self.add(key, Some(memo), dynamics);
            return true;
        }
        self.add(key, Some(memo), old.dynamics().iter().cloned());
        true
    }

    // This and the two it calls run once per entry of a stamped list:
    // inlined, an unchanged row of 100 costs 24 instructions fewer.
    #[inline]
    fn reuse_in_place(&mut self, key: Key, memo: u64) -> bool {
        let same = self.previous_at_index(
            |previous, index| previous.entry_is(index, key, memo),
            |chunk, index| chunk.entry_is(index, key, memo),
        );
        if same {
            self.count_reused_in_place();
        }
        same
    }

    /// Counts the previous render's entry at this index as reused if it has
    /// `key` and `dynamics` and nothing new precedes it in its chunk;
    /// returns whether it did. Elsewhere the new entry is kept: it is equal,
    /// and already made.
    fn reuse_equal(&mut self, key: Key, dynamics: &[Dynamic]) -> bool {
        let same = self
            .previous_in_place()
            .is_some_and(|old| old.key() == key && old.dynamics() == dynamics);
        if same {
            self.count_reused_in_place();
        }
        same
    }

    /// The previous render's entry at this index, while the chunk being
    /// built holds nothing new.
    #[inline]
    fn previous_in_place(&self) -> Option<EntryRef<'_>> {
        if !self.in_place || !self.current.is_empty() {
            return None;
        }
        previous_chunk_at(&self.memo, self.position())?
            .entry(self.reused_in_place, self.template.dynamic_count())
    }

    /// Counts one more entry reused in place, ending the chunk when it is
    /// full.
    #[inline]
    fn count_reused_in_place(&mut self) {
        self.reused_in_place += 1;
        self.entries += 1;
        if self.current.len() + self.reused_in_place == self.chunk_size() {
            self.end_chunk_reused_in_place();
        }
    }

    /// Ends a chunk whose last entries are reused in place: the previous
    /// render's chunk is shared when all of it is reused, and copied from
    /// otherwise.
    fn end_chunk_reused_in_place(&mut self) {
        if self.current.is_empty() {
            self.push_previous_chunk();
            self.reused_in_place = 0;
            self.reach_position();
        } else {
            self.copy_reused();
            self.seal();
        }
    }

    /// The finished comprehension, as the dynamic slot of its `for`.
    pub fn finish(mut self) -> Dynamic {
        match self.written.take() {
            Some(written) => written.finish(),
            None => Dynamic::List(Box::new(self.into_comprehension())),
        }
    }

    /// The finished comprehension.
    pub(crate) fn into_comprehension(mut self) -> Comprehension {
        if matches!(self.changes, InPlaceChanges::Making(_)) && !self.is_previous_list_again() {
            self.settle_changes();
        }
        if self.reused_in_place > 0 {
            let whole = self.current.is_empty()
                && previous_chunk_at(&self.memo, self.position())
                    .is_some_and(|chunk| chunk.len() == self.reused_in_place);
            if whole {
                self.push_previous_chunk();
                self.reused_in_place = 0;
            } else {
                self.copy_reused();
            }
        }
        if !self.current.is_empty() {
            self.seal();
        }
        let stamp_site = self
            .memo
            .as_ref()
            .filter(|_| self.current.is_stamped())
            .map(|site| site.site);
        let list = match self.previous_prefix {
            0 => Comprehension::from_chunks(self.template, self.chunks, stamp_site),
            prefix => {
                let previous = previous_list(&self.memo)
                    .expect("a shared prefix comes from a previous render");
                if prefix == previous.chunks().len() {
                    previous.sharing_chunks(self.template, stamp_site)
                } else {
                    let chunks = previous.chunks()[..prefix].to_vec();
                    Comprehension::from_chunks(self.template, chunks, stamp_site)
                }
            }
        };
        if let Some(site) = &self.memo {
            record(site.site, &list);
        }
        list
    }
}

/// The previous render's chunk at `position` of the list at `site`.
#[inline]
fn previous_chunk_at(site: &Option<MemoSite>, position: usize) -> Option<&Arc<Chunk>> {
    previous_chunks(site).get(position)
}

/// The previous render's chunks of the list at `site`; none without one.
fn previous_chunks(site: &Option<MemoSite>) -> &[Arc<Chunk>] {
    previous_list(site).map_or(&[], Comprehension::chunks)
}

/// The previous render's list at `site`, if it had one.
fn previous_list(site: &Option<MemoSite>) -> Option<&Comprehension> {
    site.as_ref()?.previous.as_ref()
}

impl MemoSite {
    /// The previous render's chunk holding the entry for `key`, and the
    /// entry's place in it; looked for at `index` first.
    fn find(&mut self, index: usize, key: Key) -> Option<(Arc<Chunk>, usize)> {
        let previous = self.previous.as_ref()?;
        let at_index = previous.get(index).is_some_and(|e| e.key() == key);
        let j = if at_index {
            index
        } else {
            let by_key = self.by_key.get_or_insert_with(|| previous.index_by_key());
            *by_key.get(&key)?
        };
        let size = previous.chunk_size();
        let chunk = previous.chunks().get(j / size)?;
        Some((chunk.clone(), j % size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rendered::Template;

    fn list(template: &'static Template, versions: &[u64], evaluated: &mut usize) -> Dynamic {
        let mut builder = ListBuilder::memoized(template, versions.len(), 7);
        for (id, version) in versions.iter().enumerate() {
            let key = Key::of(&id);
            if !builder.reuse(key, *version) {
                *evaluated += 1;
                builder.push_memo(key, *version, [Dynamic::Text(version.to_string().into())]);
            }
        }
        builder.finish()
    }

    /// [`list`] rendered through `cache`.
    fn render_list(
        cache: &mut RenderCache,
        template: &'static Template,
        versions: &[u64],
        evaluated: &mut usize,
    ) -> Comprehension {
        let Dynamic::List(list) = cache.render(|| list(template, versions, evaluated)) else {
            unreachable!()
        };
        *list
    }

    #[test]
    fn whole_chunks_are_shared_and_changed_ones_rebuilt() {
        let template = Template::leak(vec!["<i>".into(), "</i>".into()], true);
        let mut cache = RenderCache::default();
        let size = chunk_size(100);
        let mut versions = vec![0; size * 3 + 5];
        let mut evaluated = 0;
        let first = render_list(&mut cache, template, &versions, &mut evaluated);
        assert_eq!(evaluated, versions.len());

        versions[size + 3] = 1;
        evaluated = 0;
        let second = render_list(&mut cache, template, &versions, &mut evaluated);
        assert_eq!(evaluated, 1);
        let shared = shared_chunks(&first, &second, 4);
        assert_eq!(shared, [true, false, true, true]);
        assert_entries_show(&second, &versions);
    }

    #[test]
    fn an_unchanged_list_is_the_previous_one_and_a_shorter_one_shares_its_start() {
        let template = Template::leak(vec!["<q>".into(), "</q>".into()], true);
        let mut cache = RenderCache::default();
        let size = chunk_size(100);
        let mut versions = vec![0; size * 3];
        let mut evaluated = 0;
        let first = render_list(&mut cache, template, &versions, &mut evaluated);

        evaluated = 0;
        let same = render_list(&mut cache, template, &versions, &mut evaluated);
        assert_eq!(evaluated, 0);
        assert!(
            std::ptr::eq(first.chunks(), same.chunks()),
            "an unchanged list shares the previous list's chunks whole"
        );
        assert_entries_show(&same, &versions);

        // Its last chunk changed: the first two are still the previous ones.
        versions[size * 3 - 1] = 1;
        let last_changed = render_list(&mut cache, template, &versions, &mut evaluated);
        assert_eq!(evaluated, 1);
        let shared = shared_chunks(&same, &last_changed, 3);
        assert_eq!(shared, [true, true, false]);
        assert_entries_show(&last_changed, &versions);

        // One chunk shorter: the two chunks left are the previous ones.
        versions.truncate(size * 2);
        evaluated = 0;
        let shorter = render_list(&mut cache, template, &versions, &mut evaluated);
        assert_eq!(evaluated, 0);
        assert_eq!(shorter.chunks().len(), 2);
        assert_eq!(shared_chunks(&last_changed, &shorter, 2), [true, true]);
        assert_entries_show(&shorter, &versions);
    }

    #[test]
    fn a_list_rendered_outside_a_cache_is_one_chunk() {
        let template = Template::leak(vec!["<u>".into(), "</u>".into()], true);
        let versions: Vec<u64> = (0..100).collect();
        let mut evaluated = 0;
        let Dynamic::List(outside) = list(template, &versions, &mut evaluated) else {
            unreachable!()
        };
        assert_eq!(outside.chunks().len(), 1);
        assert_entries_show(&outside, &versions);

        // Through a cache, the next render shares its chunks: they are small.
        let inside = render_list(
            &mut RenderCache::default(),
            template,
            &versions,
            &mut evaluated,
        );
        assert_eq!(
            inside.chunks().len(),
            versions.len().div_ceil(chunk_size(versions.len()))
        );
        assert_entries_show(&inside, &versions);
    }

    /// Whether each of the first `count` chunks of `new` is the one of
    /// `old` at its place, shared.
    fn shared_chunks(old: &Comprehension, new: &Comprehension, count: usize) -> Vec<bool> {
        (0..count)
            .map(|c| Arc::ptr_eq(&old.chunks()[c], &new.chunks()[c]))
            .collect()
    }

    /// Asserts that `list`, made by [`list`], has an entry for each of
    /// `versions` in order, with its key and its text.
    fn assert_entries_show(list: &Comprehension, versions: &[u64]) {
        let texts: Vec<_> = list.entries().map(|e| e.dynamics().to_vec()).collect();
        let expected: Vec<_> = versions
            .iter()
            .map(|v| vec![Dynamic::Text(v.to_string().into())])
            .collect();
        assert_eq!(texts, expected);
        let keys: Vec<_> = list.entries().map(|e| e.key()).collect();
        let expected: Vec<_> = (0..versions.len()).map(|id| Key::of(&id)).collect();
        assert_eq!(keys, expected, "every entry keeps its key in place");
    }

    #[test]
    fn entries_around_changes_inside_a_chunk_are_kept_in_place() {
        let template = Template::leak(vec!["<b>".into(), "</b>".into()], true);
        let mut cache = RenderCache::default();
        let size = chunk_size(100);
        let mut versions = vec![0; size * 2 + 5];
        let mut evaluated = 0;
        render_list(&mut cache, template, &versions, &mut evaluated);

        // Two changes in the first chunk, the last entry of the second and
        // of the (partial) third: the runs of unchanged entries between and
        // after them are copied from the previous render.
        for changed in [2, size - 5, size * 2 - 1, size * 2 + 4] {
            versions[changed] = 1;
        }
        evaluated = 0;
        let changed = render_list(&mut cache, template, &versions, &mut evaluated);
        assert_eq!(evaluated, 4);
        assert_entries_show(&changed, &versions);

        // Every copied entry kept its stamp: nothing is evaluated again, and
        // every chunk is shared.
        evaluated = 0;
        let unchanged = render_list(&mut cache, template, &versions, &mut evaluated);
        assert_eq!(evaluated, 0);
        assert_eq!(unchanged.chunks().len(), 3);
        for (old, new) in changed.chunks().iter().zip(unchanged.chunks()) {
            assert!(Arc::ptr_eq(old, new));
        }

        // An entry added at the end of the partial chunk: the entries
        // before it in that chunk are copied, the full chunks shared.
        versions.push(7);
        evaluated = 0;
        let grown = render_list(&mut cache, template, &versions, &mut evaluated);
        assert_eq!(evaluated, 1);
        let shared = shared_chunks(&unchanged, &grown, 3);
        assert_eq!(shared, [true, true, false]);
        assert_entries_show(&grown, &versions);
    }

    /// A list numbered by index, as a plain `for` numbers its entries, each
    /// stamped with its version.
    fn indexed_list(
        template: &'static Template,
        versions: &[u64],
        evaluated: &mut Vec<usize>,
    ) -> Dynamic {
        let mut builder = ListBuilder::tracked(template, versions.len(), 11);
        for (index, version) in versions.iter().enumerate() {
            let key = builder.next_index_key();
            if !builder.reuse_read(key, Some(*version)) {
                evaluated.push(index);
                let text = Dynamic::Text(version.to_string().into());
                builder.push_read(key, Some(*version), [text]);
            }
        }
        builder.finish()
    }

    /// Renders of a list numbered by index, its entries changed, added and
    /// removed at random: each shows every entry, evaluates exactly the
    /// entries whose stamp is new at their index, and shares every chunk
    /// in which nothing changed, unless the list's chunks changed size.
    #[test]
    fn an_indexed_list_reuses_exactly_its_unchanged_entries() {
        let template = Template::leak(vec!["<p>".into(), "</p>".into()], true);
        let mut cache = RenderCache::default();
        let mut random = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |below: u64| {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            random % below
        };
        // Around 128 entries, where the list's chunks change size.
        let mut versions: Vec<u64> = (0..120).collect();
        let mut previous: Option<(Vec<u64>, Comprehension)> = None;
        let mut chunk_sizes = std::collections::BTreeSet::new();
        for round in 0..300 {
            // Growing past 128 entries for half the rounds, then shrinking.
            let growing = round < 150;
            match next(10) {
                0..=2 if growing && versions.len() < 140 => versions.push(1000 + round),
                0 | 1 if !growing && !versions.is_empty() => {
                    versions.pop();
                }
                2 | 3 if !versions.is_empty() => {
                    versions.remove(next(versions.len() as u64) as usize);
                }
                _ if !versions.is_empty() => {
                    for _ in 0..=next(3) {
                        let changed = next(versions.len() as u64) as usize;
                        versions[changed] += 1;
                    }
                }
                _ => versions.push(round),
            }
            let mut evaluated = Vec::new();
            let Dynamic::List(list) =
                cache.render(|| indexed_list(template, &versions, &mut evaluated))
            else {
                unreachable!()
            };
            assert_entries_show_at_indices(&list, &versions);
            if let Some((old_versions, old_list)) = &previous {
                let same_chunking = old_list.chunk_size() == list.chunk_size();
                // Chunked anew, an entry is still found by its key.
                let expected: Vec<usize> = (0..versions.len())
                    .filter(|&i| old_versions.get(i) != Some(&versions[i]))
                    .collect();
                assert_eq!(evaluated, expected, "round {round}");
                let size = list.chunk_size();
                for (position, chunk) in list.chunks().iter().enumerate() {
                    let range = position * size..(position * size + chunk.len());
                    let kept = same_chunking
                        && old_list
                            .chunks()
                            .get(position)
                            .is_some_and(|old| old.len() == chunk.len())
                        && old_versions.get(range.clone()) == Some(&versions[range]);
                    let shared = old_list
                        .chunks()
                        .get(position)
                        .is_some_and(|old| Arc::ptr_eq(old, chunk));
                    assert_eq!(shared, kept, "round {round}, chunk {position}");
                }
            }
            chunk_sizes.insert(list.chunk_size());
            previous = Some((versions.clone(), *list));
        }
        assert_eq!(
            chunk_sizes.len(),
            2,
            "the list crossed a chunk size: {chunk_sizes:?}"
        );
    }

    /// A list whose keys follow one another, as ids often do, and whose
    /// stamps are all alike, as those of a `for` with `memo = ()` are: once
    /// an entry is removed, each later entry's key differs from the key at
    /// its index before, and is found where it was.
    #[test]
    fn an_entry_in_place_is_reused_only_under_its_own_key() {
        let template = Template::leak(vec!["<s>".into(), "</s>".into()], true);
        let render = |cache: &mut RenderCache, ids: &[u64]| {
            let Dynamic::List(list) = cache.render(|| {
                let mut builder = ListBuilder::memoized(template, ids.len(), 13);
                for &id in ids {
                    if !builder.reuse(Key(id), 0) {
                        builder.push_memo(Key(id), 0, [Dynamic::Text(id.to_string().into())]);
                    }
                }
                builder.finish()
            }) else {
                unreachable!()
            };
            list
        };
        let mut cache = RenderCache::default();
        let mut ids: Vec<u64> = (1..=20).collect();
        render(&mut cache, &ids);
        ids.remove(4);
        let list = render(&mut cache, &ids);
        let shown: Vec<_> = list
            .entries()
            .map(|e| (e.key(), e.dynamics().to_vec()))
            .collect();
        let expected: Vec<_> = ids
            .iter()
            .map(|&id| (Key(id), vec![Dynamic::Text(id.to_string().into())]))
            .collect();
        assert_eq!(shown, expected);
    }

    /// Asserts that `list`, made by [`indexed_list`], shows `versions` in
    /// order, each entry keyed by its index and stamped with its version.
    fn assert_entries_show_at_indices(list: &Comprehension, versions: &[u64]) {
        let entries: Vec<_> = list
            .entries()
            .map(|e| (e.key(), e.memo(), e.dynamics().to_vec()))
            .collect();
        let expected: Vec<_> = versions
            .iter()
            .enumerate()
            .map(|(i, v)| {
                (
                    Key(i as u64),
                    Some(*v),
                    vec![Dynamic::Text(v.to_string().into())],
                )
            })
            .collect();
        assert_eq!(entries, expected);
    }

    #[test]
    fn a_list_left_out_of_a_render_is_evaluated_again_when_it_returns() {
        let template = Template::leak(vec!["<u>".into(), "</u>".into()], true);
        let mut cache = RenderCache::default();
        let mut evaluated = 0;
        for _ in 0..3 {
            cache.render(|| list(template, &[1, 2], &mut evaluated));
        }
        assert_eq!(evaluated, 2, "reused while rendered every time");
        cache.render(Dynamic::empty);
        cache.render(|| list(template, &[1, 2], &mut evaluated));
        assert_eq!(evaluated, 4);
        cache.render(|| list(template, &[1, 2], &mut evaluated));
        assert_eq!(evaluated, 4);
    }

    #[test]
    fn a_panicking_render_leaves_no_frame_behind() {
        let template = Template::leak(vec!["<b>".into(), "</b>".into()], true);
        let mut cache = RenderCache::default();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cache.render(|| -> Dynamic { panic!("render failed") })
        }));
        assert!(outcome.is_err());
        assert!(ACTIVE.with(|active| active.borrow().is_none()));
        let mut evaluated = 0;
        cache.render(|| list(template, &[1, 2], &mut evaluated));
        assert_eq!(evaluated, 2);
    }
}
