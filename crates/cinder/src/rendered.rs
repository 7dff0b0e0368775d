//! The run-time form of a template: statics known at compile time, and the
//! dynamics computed by one render.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use cinder_runtime::hint::prefetch;

use crate::memo::reads::SecretSpread;

pub use crate::live::component::LiveComponentRef;
pub use crate::live::LiveChildRef;
#[doc(hidden)]
pub use text::Decimal;
pub use text::Text;
pub(crate) use text::{extend_padded, write_decimal, TextShape};

mod text;

/// The static parts of one template: `N + 1` strings around `N` dynamics.
///
/// The `html!` macro emits one `static` template per template in the source,
/// with its fingerprint computed at compile time. Two templates with the same
/// fingerprint have the same statics, so the client only ever needs them once.
#[derive(Debug)]
pub struct Template {
    statics: &'static [&'static str],
    fingerprint: u64,
    root: bool,
    /// The statics as a JSON array, written on first need: every diff
    /// that brings the client a new entry or branch carries them.
    statics_json: OnceLock<Box<str>>,
    /// The statics for the HTML writer, made on first need.
    statics_padded: OnceLock<Box<[PaddedStatic]>>,
}

/// How many bytes of a static the HTML writer copies at once.
const PADDED_STATIC: usize = 32;

/// A static as the HTML writer copies it: when it is short, its bytes
/// padded to a fixed size, copied as an inline text is (see
/// [`extend_padded`]): a list of rows writes several statics a row, and a
/// copy of a fixed size costs a few instructions where a call to copy a few
/// bytes costs some twenty.
#[derive(Debug)]
struct PaddedStatic {
    text: &'static str,
    padded: Option<[u8; PADDED_STATIC]>,
}

impl PaddedStatic {
    fn new(text: &'static str) -> Self {
        let padded = (text.len() <= PADDED_STATIC).then(|| {
            let mut padded = [0; PADDED_STATIC];
            padded[..text.len()].copy_from_slice(text.as_bytes());
            padded
        });
        PaddedStatic { text, padded }
    }

    // Always inlined, as `Text::write_to` is.
    #[inline(always)]
    fn write_to(&self, out: &mut Vec<u8>) {
        match &self.padded {
            Some(padded) => extend_padded(out, padded, self.text.len()),
            None => out.extend_from_slice(self.text.as_bytes()),
        }
    }
}

impl Template {
    /// A template from its statics, fingerprint and root flag.
    ///
    /// `root` says the template is exactly one HTML element, which lets the
    /// client apply its per-element optimizations. `statics` must not be empty.
    pub const fn new(statics: &'static [&'static str], fingerprint: u64, root: bool) -> Self {
        Template {
            statics,
            fingerprint,
            root,
            statics_json: OnceLock::new(),
            statics_padded: OnceLock::new(),
        }
    }

    /// Builds a template at run time, fingerprinting it the way the macro does.
    ///
    /// The template is leaked, because statics live for the whole program;
    /// use this for templates made once, not per render.
    ///
    /// ```
    /// let t = cinder::Template::leak(vec!["<p>".into(), "</p>".into()], true);
    /// assert_eq!(t.statics(), ["<p>", "</p>"]);
    /// ```
    pub fn leak(statics: Vec<String>, root: bool) -> &'static Template {
        let statics: Vec<&'static str> = statics
            .into_iter()
            .map(|s| &*Box::leak(s.into_boxed_str()))
            .collect();
        let fingerprint = fingerprint(&statics, root);
        Box::leak(Box::new(Template::new(
            Box::leak(statics.into_boxed_slice()),
            fingerprint,
            root,
        )))
    }

    /// The static strings.
    pub fn statics(&self) -> &'static [&'static str] {
        self.statics
    }

    /// The length of the statics together, in bytes.
    fn statics_len(&self) -> usize {
        self.statics.iter().map(|part| part.len()).sum()
    }

    /// About how long one entry of a list of this template is as HTML: its
    /// statics and a few bytes a dynamic.
    pub(crate) fn entry_html_size_hint(&self) -> usize {
        self.statics_len() + DYNAMIC_SIZE_HINT * self.dynamic_count()
    }

    /// The statics as a JSON array of strings, as a diff's `"s"` holds them.
    pub(crate) fn statics_json(&self) -> &str {
        self.statics_json.get_or_init(|| {
            let mut json = String::from("[");
            for (i, part) in self.statics.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                crate::escape::json_string(&mut json, part);
            }
            json.push(']');
            json.into_boxed_str()
        })
    }

    /// The statics as the HTML writer copies them.
    #[inline]
    fn statics_padded(&self) -> &[PaddedStatic] {
        self.statics_padded.get_or_init(|| {
            self.statics
                .iter()
                .map(|part| PaddedStatic::new(part))
                .collect()
        })
    }

    /// The fingerprint identifying these statics.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Whether the template is a single HTML element.
    pub fn is_root(&self) -> bool {
        self.root
    }

    /// The number of dynamics the template holds.
    pub fn dynamic_count(&self) -> usize {
        self.statics.len().saturating_sub(1)
    }

    pub(crate) fn same_as(&self, other: &Template) -> bool {
        std::ptr::eq(self, other) || self.fingerprint == other.fingerprint
    }
}

/// The fingerprint of a template: FNV-1a over its statics and root flag.
///
/// The `html!` macro computes the same function at compile time.
pub fn fingerprint(statics: &[&str], root: bool) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut feed = |byte: u8| {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    };
    for part in statics {
        for byte in part.bytes() {
            feed(byte);
        }
        // A separator that cannot occur in UTF-8 keeps ["ab", ""] and
        // ["a", "b"] apart.
        feed(0xff);
    }
    feed(u8::from(root));
    hash
}

/// Dynamics that do not fit the template they are paired with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a template with {expected} dynamic slot{} was given {given} dynamics", if *expected == 1 { "" } else { "s" })]
pub struct ShapeError {
    /// The number of dynamic slots the template has.
    pub expected: usize,
    /// The number of dynamics given.
    pub given: usize,
}

fn check_shape(template: &Template, given: usize) -> Result<(), ShapeError> {
    let expected = template.dynamic_count();
    if expected == given {
        Ok(())
    } else {
        Err(ShapeError { expected, given })
    }
}

/// A stateful component's id, rendered by the client from the diff's `"c"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cid(pub u32);

/// The identity of a comprehension entry across renders.
///
/// Keys are hashes of the `key = …` expression of a `for` (or the entry's
/// index when there is none); entries with equal keys are the same entry.
/// The diff stays correct when two keys collide (it diffs against whatever
/// entry the key names), so the hash is chosen for speed: integer keys, the
/// common case, map one to one onto keys and cost one multiplication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key(pub u64);

impl Key {
    /// The key for any hashable value, stable for the life of the program.
    pub fn of<T: Hash + ?Sized>(value: &T) -> Key {
        let mut hasher = KeyHasher(0);
        value.hash(&mut hasher);
        Key(hasher.finish())
    }
}

/// A multiply-rotate hash (the one rustc uses internally): one step per
/// eight bytes, and a bijection on a single integer.
struct KeyHasher(u64);

impl KeyHasher {
    const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::MULTIPLIER);
    }
}

/// Feeds `bytes` to a word hasher's `add`: its words, then its length,
/// which tells `"a"` from `"a\0"` (both pad to the same word).
#[inline]
pub(crate) fn add_bytes(bytes: &[u8], mut add: impl FnMut(u64)) {
    for_each_word(bytes, &mut add);
    add(bytes.len() as u64);
}

/// Calls `add` with `bytes` as little-endian words of eight, the last one
/// padded with zeros.
#[inline]
pub(crate) fn for_each_word(bytes: &[u8], mut add: impl FnMut(u64)) {
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        add(u64::from_le_bytes(word.try_into().expect("eight bytes")));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        add(short_word(rest));
    }
}

/// Up to seven bytes as one little-endian word, read in at most three
/// loads: a copy of a length known only at run time would call `memcpy`,
/// which costs more than hashing a short key whole.
#[inline]
fn short_word(mut rest: &[u8]) -> u64 {
    let mut word = 0;
    let mut shift = 0;
    if let Some((four, tail)) = rest.split_first_chunk::<4>() {
        word = u64::from(u32::from_le_bytes(*four));
        (rest, shift) = (tail, 32);
    }
    if let Some((two, tail)) = rest.split_first_chunk::<2>() {
        word |= u64::from(u16::from_le_bytes(*two)) << shift;
        (rest, shift) = (tail, shift + 16);
    }
    if let [byte] = rest {
        word |= u64::from(*byte) << shift;
    }
    word
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        add_bytes(bytes, |word| self.add(word));
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// One dynamic slot of a rendered template.
#[derive(Debug)]
pub enum Dynamic {
    /// Already escaped HTML (text, or a whole attribute such as ` class="x"`).
    Text(Text),
    /// A nested template. Boxed, as is a list: every slot is as large as the
    /// largest kind, and text, most slots of most renders, fits in 24 bytes.
    Nested(Box<Rendered>),
    /// A `for` comprehension.
    List(Box<Comprehension>),
    /// A `@memo` block's tree, shared with the render cache that keeps it
    /// for the next render. A render that reuses the block places the same
    /// tree again, which a diff recognizes by its address and skips without
    /// reading it; a copy would be read whole, by the copy and the diff.
    Memo(Arc<Rendered>),
    /// A reference to a stateful component.
    Component(Cid),
    /// A stateful component as a view's template writes it, with its props;
    /// the view gives it a [`Cid`] before diffing (see
    /// [`live_component`](crate::live::live_component)).
    LiveComponent(LiveComponentRef),
    /// A stream's comprehension: the items one render inserts, and what it
    /// deletes (see [`Stream`](crate::live::Stream)).
    /// Boxed: most trees hold none, and every dynamic is as large as the
    /// largest kind.
    Stream(Box<StreamList>),
    /// A live view rendered as a child of the view rendering this tree; the
    /// view replaces it with the child's container (see
    /// [`live_render`](crate::live::live_render)).
    LiveChild(LiveChildRef),
}

impl Clone for Dynamic {
    // A changed row's chunk copies its other rows' dynamics, most of them
    // texts: told apart first, a text is copied without the match over
    // every kind.
    #[inline]
    fn clone(&self) -> Dynamic {
        match self {
            Dynamic::Text(text) => Dynamic::Text(text.clone()),
            other => other.clone_structure(),
        }
    }
}

impl PartialEq for Dynamic {
    fn eq(&self, other: &Dynamic) -> bool {
        // Texts are most of a list's slots, and a list of rows compares all
        // of them on every render: they are told apart here, before the
        // match over every kind, whose set-up would cost more than they do.
        match (self, other) {
            (Dynamic::Text(a), Dynamic::Text(b)) => a == b,
            (Dynamic::Text(_), _) | (_, Dynamic::Text(_)) => false,
            _ => self.same_structure(other),
        }
    }
}

impl Dynamic {
    /// Clones a dynamic that is not a text.
    #[inline(never)]
    fn clone_structure(&self) -> Dynamic {
        match self {
            Dynamic::Text(text) => Dynamic::Text(text.clone()),
            Dynamic::Nested(tree) => Dynamic::Nested(tree.clone()),
            Dynamic::Memo(tree) => Dynamic::Memo(Arc::clone(tree)),
            Dynamic::List(list) => Dynamic::List(list.clone()),
            Dynamic::Component(cid) => Dynamic::Component(*cid),
            Dynamic::LiveComponent(live) => Dynamic::LiveComponent(live.clone()),
            Dynamic::Stream(stream) => Dynamic::Stream(stream.clone()),
            Dynamic::LiveChild(child) => Dynamic::LiveChild(child.clone()),
        }
    }

    /// Compares two dynamics that are not texts.
    #[inline(never)]
    fn same_structure(&self, other: &Dynamic) -> bool {
        if let (Some(a), Some(b)) = (self.tree(), other.tree()) {
            return std::ptr::eq(a, b) || a == b;
        }
        match (self, other) {
            (Dynamic::List(a), Dynamic::List(b)) => a == b,
            (Dynamic::Component(a), Dynamic::Component(b)) => a == b,
            (Dynamic::LiveComponent(a), Dynamic::LiveComponent(b)) => a == b,
            (Dynamic::Stream(a), Dynamic::Stream(b)) => a == b,
            (Dynamic::LiveChild(a), Dynamic::LiveChild(b)) => a == b,
            _ => false,
        }
    }
}

impl Dynamic {
    /// The empty text, what an `if` without `else` renders when false.
    pub fn empty() -> Dynamic {
        Dynamic::Text(Text::new())
    }

    /// The tree of a nested template or of a `@memo` block.
    pub(crate) fn tree(&self) -> Option<&Rendered> {
        match self {
            Dynamic::Nested(tree) => Some(tree),
            Dynamic::Memo(tree) => Some(tree),
            _ => None,
        }
    }

    /// Whether the dynamic's HTML can be written before the page around it
    /// is put together: it holds no component, child view or stream, whose
    /// HTML only the whole page's render writes.
    // A text, most entries' every dynamic, is answered inlined.
    #[inline]
    pub(crate) fn writes_alone(&self) -> bool {
        matches!(self, Dynamic::Text(_)) || self.structure_writes_alone()
    }

    /// Whether the dynamic is a text kept in its slot, which holds nothing
    /// to let go of when dropped.
    #[inline]
    pub(crate) fn is_inline_text(&self) -> bool {
        matches!(self, Dynamic::Text(text) if text.is_inline())
    }

    /// [`writes_alone`](Dynamic::writes_alone) of a dynamic that is not a text.
    #[inline(never)]
    fn structure_writes_alone(&self) -> bool {
        match self {
            Dynamic::Text(_) => true,
            Dynamic::List(list) => list
                .entries()
                .all(|entry| entry.dynamics().iter().all(Dynamic::writes_alone)),
            other => other
                .tree()
                .is_some_and(|tree| tree.dynamics.iter().all(Dynamic::writes_alone)),
        }
    }
}

/// A template together with the dynamics of one render.
#[derive(Clone, Debug)]
pub struct Rendered {
    template: &'static Template,
    /// Boxed rather than a `Vec`: a nested tree is one dynamic slot, and
    /// every slot is as large as the largest kind.
    dynamics: Box<[Dynamic]>,
}

impl PartialEq for Rendered {
    fn eq(&self, other: &Self) -> bool {
        self.template.same_as(other.template) && self.dynamics == other.dynamics
    }
}

impl Rendered {
    /// Brings into the cache the tree's own dynamics: the first of three
    /// steps that bring in what the next render and its diff against this
    /// tree read first, the others [`prefetch_lists`](Self::prefetch_lists)
    /// and [`prefetch_list_chunks`](Self::prefetch_list_chunks).
    ///
    /// A view's previous tree is seldom in the cache when its next event
    /// comes, and its lists' chunks lie three reads deep: the dynamics, each
    /// list's comprehension, its chunks' addresses. Each read waits for the
    /// one before it, so followed in one go the waits add up while the
    /// event waits too. Taken a step at a time, with the event's own work
    /// between the steps, each step's lines arrive while that work runs.
    pub(crate) fn prefetch_dynamics(&self) {
        Chunk::prefetch_dynamics(&self.dynamics);
    }

    /// The second step after [`prefetch_dynamics`](Self::prefetch_dynamics):
    /// brings in the comprehension of each list among the dynamics.
    pub(crate) fn prefetch_lists(&self) {
        for list in self.own_lists() {
            prefetch(list);
        }
    }

    /// The last step after [`prefetch_lists`](Self::prefetch_lists): brings
    /// in the chunks of each list (their stamps and reference counts),
    /// which a render's loop would otherwise reach one after another,
    /// waiting for each in turn.
    pub(crate) fn prefetch_list_chunks(&self) {
        for list in self.own_lists() {
            list.prefetch_chunks();
        }
    }

    /// The lists among the tree's own dynamics, not those of nested trees.
    fn own_lists(&self) -> impl Iterator<Item = &Comprehension> {
        self.dynamics.iter().filter_map(|dynamic| match dynamic {
            Dynamic::List(list) => Some(&**list),
            _ => None,
        })
    }

    /// Lets go of the items of the tree's streams and of the trees nested
    /// in it, once they are sent: the client keeps a stream's items and no
    /// diff reads them again. Kept, they would be let go of when the next
    /// render replaces the tree, from memory gone cold by then. A `@memo`
    /// block's streams stay: the render cache shares its tree.
    pub(crate) fn forget_stream_items(&mut self) {
        for dynamic in self.dynamics.iter_mut() {
            match dynamic {
                Dynamic::Stream(stream) => stream.forget_changes(),
                Dynamic::Nested(tree) => tree.forget_stream_items(),
                _ => {}
            }
        }
    }

    /// Calls `f` with each list of the tree and of the trees nested in it;
    /// not with the lists inside a list's entries, which their entries hold,
    /// nor with those of a `@memo` block, which the render cache shares.
    pub(crate) fn for_each_list_mut(&mut self, f: &mut impl FnMut(&mut Comprehension)) {
        for dynamic in self.dynamics.iter_mut() {
            match dynamic {
                Dynamic::List(list) => f(list),
                Dynamic::Nested(tree) => tree.for_each_list_mut(f),
                _ => {}
            }
        }
    }

    /// Pairs a template with its dynamics.
    ///
    /// # Panics
    /// When the number of dynamics does not match the template, which only a
    /// hand-built tree can get wrong; [`Rendered::try_new`] returns the error.
    pub fn new(template: &'static Template, dynamics: Vec<Dynamic>) -> Rendered {
        match Rendered::try_new(template, dynamics) {
            Ok(tree) => tree,
            Err(err) => panic!("{err}"),
        }
    }

    /// Pairs a template with its dynamics, or says why they do not fit.
    ///
    /// ```
    /// let t = cinder::Template::leak(vec!["<p>".into(), "</p>".into()], true);
    /// let err = cinder::Rendered::try_new(t, vec![]).unwrap_err();
    /// assert_eq!(err.to_string(), "a template with 1 dynamic slot was given 0 dynamics");
    /// ```
    pub fn try_new(
        template: &'static Template,
        dynamics: Vec<Dynamic>,
    ) -> Result<Rendered, ShapeError> {
        check_shape(template, dynamics.len())?;
        Ok(Rendered {
            template,
            dynamics: dynamics.into_boxed_slice(),
        })
    }

    /// The template.
    pub fn template(&self) -> &'static Template {
        self.template
    }

    /// The dynamics, in template order.
    pub fn dynamics(&self) -> &[Dynamic] {
        &self.dynamics
    }

    /// The dynamics, owned.
    pub fn into_dynamics(self) -> Vec<Dynamic> {
        self.dynamics.into_vec()
    }

    /// Renders the whole tree to HTML, as the dead render sends it.
    ///
    /// Component references render as nothing; use [`Rendered::write_html_with`]
    /// to fill them in.
    ///
    /// ```
    /// use cinder::html;
    /// let name = "<world>";
    /// assert_eq!(html! { <p>Hello {name}</p> }.to_html(), "<p>Hello &lt;world&gt;</p>");
    /// ```
    pub fn to_html(&self) -> String {
        let mut out = Vec::with_capacity(self.html_size_hint());
        self.write_html_with(&mut out, &mut |_, _| {});
        String::from_utf8(out).expect("a template writes UTF-8")
    }

    /// Writes the tree's HTML to `out` as UTF-8, calling `component` for
    /// each component reference so the caller can write that component's
    /// HTML. Bytes, not a `String`: a page is hundreds of short texts, and
    /// a `String` would check each of them as UTF-8 again on its way in.
    ///
    /// ```
    /// use cinder::html;
    /// let mut out = Vec::new();
    /// html! { <p>"hi"</p> }.write_html_with(&mut out, &mut |_, _| {});
    /// assert_eq!(out, b"<p>hi</p>");
    /// ```
    pub fn write_html_with(&self, out: &mut Vec<u8>, component: &mut dyn FnMut(Cid, &mut Vec<u8>)) {
        write_parts(self.template, &self.dynamics, out, component);
    }

    /// About how long the HTML is: the statics, those of each list entry
    /// and a few bytes a dynamic, so most pages are written without the
    /// buffer growing.
    pub(crate) fn html_size_hint(&self) -> usize {
        let dynamics: usize = self
            .dynamics
            .iter()
            .map(|dynamic| match dynamic {
                Dynamic::Text(text) => text.as_bytes().len(),
                Dynamic::List(list) => list.len() * list.template().entry_html_size_hint(),
                other => other
                    .tree()
                    .map_or(DYNAMIC_SIZE_HINT, Rendered::html_size_hint),
            })
            .sum();
        self.template.statics_len() + dynamics
    }
}

/// The bytes [`Rendered::html_size_hint`] counts for a dynamic it does not
/// read.
const DYNAMIC_SIZE_HINT: usize = 8;

// Always inlined into the writers of a tree and of a list's entries: a
// call per entry costs about a tenth of what writing a short entry does.
#[inline(always)]
fn write_parts(
    template: &Template,
    dynamics: &[Dynamic],
    out: &mut Vec<u8>,
    component: &mut dyn FnMut(Cid, &mut Vec<u8>),
) {
    for (i, part) in template.statics_padded().iter().enumerate() {
        part.write_to(out);
        if let Some(dynamic) = dynamics.get(i) {
            write_dynamic(dynamic, out, component);
        }
    }
}

/// Writes the HTML of one entry of a list of `template`, whose dynamics
/// all [write alone](Dynamic::writes_alone).
#[inline]
pub(crate) fn write_entry_html(template: &Template, dynamics: &[Dynamic], out: &mut Vec<u8>) {
    // Entries that write alone hold no component to ask for.
    write_parts(template, dynamics, out, &mut |_, _| {});
}

/// Writes the HTML of one dynamic that [writes alone](Dynamic::writes_alone).
pub(crate) fn write_dynamic_html(dynamic: &Dynamic, out: &mut Vec<u8>) {
    write_dynamic(dynamic, out, &mut |_, _| {});
}

// Texts are most of a page's dynamics: told apart here, inlined into the
// loop over a template's parts, a text is written without the call that
// sets up for every kind.
#[inline(always)]
fn write_dynamic(
    dynamic: &Dynamic,
    out: &mut Vec<u8>,
    component: &mut dyn FnMut(Cid, &mut Vec<u8>),
) {
    match dynamic {
        Dynamic::Text(text) => text.write_to(out),
        other => write_structure(other, out, component),
    }
}

/// Writes a dynamic that is not a text.
#[inline(never)]
fn write_structure(
    dynamic: &Dynamic,
    out: &mut Vec<u8>,
    component: &mut dyn FnMut(Cid, &mut Vec<u8>),
) {
    match dynamic {
        Dynamic::Text(text) => text.write_to(out),
        Dynamic::Nested(tree) => tree.write_html_with(out, component),
        Dynamic::Memo(tree) => tree.write_html_with(out, component),
        // Chunk by chunk, without each entry's key and stamp: a page's
        // longest lists are written here, and an iterator over all entries
        // cost some sixty instructions an entry.
        Dynamic::List(list) => {
            let width = list.width();
            for chunk in list.chunks() {
                for dynamics in chunk.entry_dynamics(width) {
                    write_parts(list.template, dynamics, out, component);
                }
            }
        }
        Dynamic::Component(cid) => component(*cid, out),
        Dynamic::LiveComponent(live) => live.render_detached().write_html_with(out, component),
        Dynamic::Stream(stream) => {
            if let Some(template) = stream.template {
                for entry in &stream.entries {
                    write_parts(template, entry, out, component);
                }
            }
        }
        // Only a view can render a child: it has the signing keys.
        Dynamic::LiveChild(_) => {}
    }
}

/// One stream insert as the client applies it: the item's DOM id, where it
/// goes (`-1` appends, `0` prepends, or an index), the limit of children to
/// keep (negative keeps the last ones) and whether it only updates an item
/// already there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamInsert {
    /// The DOM id of the inserted element.
    pub dom_id: String,
    /// Where it goes: `-1` appends, `0` prepends, `n` inserts at index n.
    pub at: i64,
    /// How many children the container keeps: the first n when positive,
    /// the last n when negative.
    pub limit: Option<i64>,
    /// Only update the element if it is present; never insert it.
    pub update_only: bool,
}

/// The comprehension of a stream, for one render: only the items this
/// render inserts, plus the ids it deletes. The server keeps no stream item
/// after sending it; the client keeps the elements.
#[derive(Clone, Debug)]
pub struct StreamList {
    /// The stream's reference, unique in its view: `"0"`, `"1"`, … (or
    /// `"<cid>-<n>"` inside a component).
    pub reference: Arc<str>,
    /// The template of an item, once one has been rendered.
    pub template: Option<&'static Template>,
    /// The dynamics of each inserted item, in the order of `inserts`.
    pub entries: Vec<Vec<Dynamic>>,
    /// Where each entry goes.
    pub inserts: Vec<StreamInsert>,
    /// The DOM ids of the elements to remove.
    pub deletes: Vec<String>,
    /// Whether the client empties the container first.
    pub reset: bool,
}

impl PartialEq for StreamList {
    fn eq(&self, other: &Self) -> bool {
        let same_template = match (self.template, other.template) {
            (Some(a), Some(b)) => a.same_as(b),
            (a, b) => a.is_none() && b.is_none(),
        };
        same_template
            && self.reference == other.reference
            && self.entries == other.entries
            && self.inserts == other.inserts
            && self.deletes == other.deletes
            && self.reset == other.reset
    }
}

impl StreamList {
    /// Whether this render changes nothing in the stream.
    pub fn is_unchanged(&self) -> bool {
        self.inserts.is_empty() && self.deletes.is_empty() && !self.reset
    }

    /// Lets go of what this render changed, keeping the stream's reference
    /// and template: all that a diff reads of the stream the client holds.
    fn forget_changes(&mut self) {
        self.entries = Vec::new();
        self.inserts = Vec::new();
        self.deletes = Vec::new();
        self.reset = false;
    }
}

/// How many component and child view placements exist in the process.
static PLACEMENTS: AtomicUsize = AtomicUsize::new(0);

/// Held by every component or child view placement while it exists, so a
/// view can tell without walking its tree that the tree holds none: most
/// pages place neither, and walking every dynamic of every render to find
/// out cost more than the rest of a small list's diff.
#[derive(Debug)]
pub(crate) struct PlacementCount(());

impl PlacementCount {
    pub(crate) fn new() -> PlacementCount {
        PLACEMENTS.fetch_add(1, Ordering::Relaxed);
        PlacementCount(())
    }
}

impl Drop for PlacementCount {
    fn drop(&mut self) {
        PLACEMENTS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether any placement exists at all; when none does, no tree holds one.
fn placements_exist() -> bool {
    PLACEMENTS.load(Ordering::Relaxed) > 0
}

impl Rendered {
    /// Whether the tree holds a component its view has not resolved yet.
    pub(crate) fn has_live_components(&self) -> bool {
        placements_exist() && self.contains(is_live_component)
    }

    /// Whether the tree holds a child view its view has not resolved yet.
    pub(crate) fn has_children(&self) -> bool {
        placements_exist() && self.contains(is_live_child)
    }

    fn contains(&self, what: impl Fn(&Dynamic) -> bool + Copy) -> bool {
        self.dynamics.iter().any(|dynamic| dynamic.contains(what))
    }

    /// Replaces every unresolved component in the tree, depth first in
    /// template order, with what `resolve` returns for it. Shared entries of
    /// comprehensions are copied only where they hold one.
    pub(crate) fn resolve_components(
        &mut self,
        resolve: &mut dyn FnMut(&LiveComponentRef) -> Dynamic,
    ) {
        resolve_all(
            &mut self.dynamics,
            is_live_component,
            &mut |dynamic| match dynamic {
                Dynamic::LiveComponent(live) => resolve(live),
                other => other.clone(),
            },
        );
    }

    /// The child views placed in the tree, in template order; the tree is
    /// only read, so no shared entry is copied.
    pub(crate) fn children(&self) -> Vec<LiveChildRef> {
        let mut found = Vec::new();
        for dynamic in &self.dynamics {
            dynamic.visit(is_live_child, &mut |child| {
                if let Dynamic::LiveChild(child) = child {
                    found.push(child.clone());
                }
            });
        }
        found
    }

    /// Replaces every child view in the tree with what `resolve` returns.
    pub(crate) fn resolve_children(&mut self, resolve: &mut dyn FnMut(&LiveChildRef) -> Dynamic) {
        resolve_all(
            &mut self.dynamics,
            is_live_child,
            &mut |dynamic| match dynamic {
                Dynamic::LiveChild(child) => resolve(child),
                other => other.clone(),
            },
        );
    }
}

fn is_live_component(dynamic: &Dynamic) -> bool {
    matches!(dynamic, Dynamic::LiveComponent(_))
}

fn is_live_child(dynamic: &Dynamic) -> bool {
    matches!(dynamic, Dynamic::LiveChild(_))
}

impl Dynamic {
    /// Calls `found` with every dynamic under this one, this one included,
    /// for which `what` holds.
    fn visit(&self, what: fn(&Dynamic) -> bool, found: &mut dyn FnMut(&Dynamic)) {
        if what(self) {
            found(self);
            return;
        }
        let mut all = |dynamics: &[Dynamic]| {
            for dynamic in dynamics {
                dynamic.visit(what, found);
            }
        };
        match self {
            Dynamic::List(list) => list.chunks.iter().for_each(|chunk| all(&chunk.dynamics)),
            Dynamic::Stream(stream) => stream.entries.iter().for_each(|entry| all(entry)),
            other => {
                if let Some(tree) = other.tree() {
                    all(&tree.dynamics);
                }
            }
        }
    }

    /// Generic rather than a function pointer: every render of a view asks
    /// this of every dynamic, so the test should inline to a tag compare.
    fn contains(&self, what: impl Fn(&Dynamic) -> bool + Copy) -> bool {
        if what(self) {
            return true;
        }
        match self {
            Dynamic::List(list) => list
                .chunks
                .iter()
                .any(|chunk| chunk.dynamics.iter().any(|d| d.contains(what))),
            Dynamic::Stream(stream) => stream
                .entries
                .iter()
                .any(|entry| entry.iter().any(|d| d.contains(what))),
            other => other.tree().is_some_and(|tree| tree.contains(what)),
        }
    }
}

fn resolve_all(
    dynamics: &mut [Dynamic],
    what: fn(&Dynamic) -> bool,
    resolve: &mut dyn FnMut(&Dynamic) -> Dynamic,
) {
    for dynamic in dynamics {
        if !dynamic.contains(what) {
            continue;
        }
        if what(dynamic) {
            let resolved = resolve(dynamic);
            *dynamic = resolved;
            continue;
        }
        match dynamic {
            Dynamic::Nested(tree) => resolve_all(&mut tree.dynamics, what, resolve),
            // The cache's copy keeps what the block placed, as a reused
            // block's must: each render resolves it again.
            Dynamic::Memo(tree) => resolve_all(&mut Arc::make_mut(tree).dynamics, what, resolve),
            Dynamic::List(list) => {
                for chunk in Arc::make_mut(&mut list.chunks) {
                    if chunk.dynamics.iter().any(|d| d.contains(what)) {
                        resolve_all(&mut Arc::make_mut(chunk).dynamics, what, resolve);
                    }
                }
            }
            Dynamic::Stream(stream) => {
                for entry in &mut stream.entries {
                    resolve_all(entry, what, resolve);
                }
            }
            _ => {}
        }
    }
}

/// Each key of a list and the index of its first entry.
pub(crate) type KeyIndex = HashMap<Key, usize, SecretSpread>;

/// How many entries share one allocation in a [`Comprehension`] of
/// `entries` entries.
///
/// Entries are kept in chunks so that a render which reuses a whole run of
/// unchanged entries shares the chunk (one reference count) instead of every
/// entry, and the diff skips a shared chunk with one pointer comparison. A
/// change copies and compares the chunk around it, so a short list gets
/// small chunks; a long one gets larger chunks, so that a render which
/// changes nothing walks fewer of them. A changed entry costs about three
/// times what a chunk costs a render that keeps it, so each size is near
/// the square root of a third of its lists' lengths. A list rendered
/// outside a render cache, which no render shares, is one chunk.
pub(crate) fn chunk_size(entries: usize) -> usize {
    match entries {
        0..=128 => 8,
        129..=256 => 16,
        257..=4096 => 32,
        _ => 64,
    }
}

/// The result of a `for`: one template and, per entry, its key and dynamics.
#[derive(Clone, Debug)]
pub struct Comprehension {
    template: &'static Template,
    /// Every chunk holds the first chunk's [`size`](Chunk) of entries
    /// except the last, which is never empty. Shared, so the render cache
    /// keeps the list without copying it; the length is derived from it, to
    /// keep a dynamic slot small.
    chunks: Arc<[Arc<Chunk>]>,
    /// Whether its entries carry stamps, or whether it stands for a lent
    /// list; one field, to keep the list small.
    origin: ListOrigin,
}

/// Where a [`Comprehension`]'s entries come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListOrigin {
    /// Entries without memo stamps.
    Unstamped,
    /// The `for` at this site, whose entries carry memo stamps: two entries
    /// of one site with the same key and stamp show the same, which is what
    /// lets a render reuse an entry, and the diff skip one without
    /// comparing its dynamics.
    StampedAt(u64),
    /// No entries of its own: in the tree a client holds, while the render
    /// that follows it borrows its lists, it stands for the list whose
    /// [token](Comprehension::token) this is, which the render may change in
    /// place (see
    /// [`RenderCache::render_diff`](crate::memo::RenderCache::render_diff)).
    Lent(NonZeroUsize),
}

impl ListOrigin {
    /// The origin of a list stamped at `stamp_site`, if its entries are.
    fn of(stamp_site: Option<u64>) -> ListOrigin {
        stamp_site.map_or(ListOrigin::Unstamped, ListOrigin::StampedAt)
    }
}

impl PartialEq for Comprehension {
    fn eq(&self, other: &Self) -> bool {
        // A lent list stands for a list that is elsewhere: what it holds
        // is only known from there.
        self.lent_token().is_none()
            && other.lent_token().is_none()
            && self.template.same_as(other.template)
            && self.len() == other.len()
            && self.same_entries_as(other)
    }
}

impl Comprehension {
    /// Whether two lists of one template and length hold the same entries.
    ///
    /// A chunk both lists share holds the same entries at the same indices,
    /// so only the chunks they do not share are read: a render that changed
    /// one row of a list shares every other chunk with the render before,
    /// and comparing the two (as the diff of a template holding the list
    /// does first) reads one chunk instead of every row.
    fn same_entries_as(&self, other: &Comprehension) -> bool {
        if Arc::ptr_eq(&self.chunks, &other.chunks) {
            return true;
        }
        // Of equal lengths, lists chunked alike have as many chunks, each
        // as long as its counterpart.
        if self.chunk_size() != other.chunk_size() {
            return self.entries().eq(other.entries());
        }
        let width = self.width();
        self.chunks
            .iter()
            .zip(other.chunks.iter())
            .all(|(mine, theirs)| {
                Arc::ptr_eq(mine, theirs) || mine.entries(width).eq(theirs.entries(width))
            })
    }

    /// A comprehension over `entries`, each holding the dynamics of `template`.
    ///
    /// # Panics
    /// When an entry's dynamics do not match the template;
    /// [`Comprehension::try_new`] returns the error.
    pub fn new(template: &'static Template, entries: Vec<Entry>) -> Comprehension {
        match Comprehension::try_new(template, entries) {
            Ok(list) => list,
            Err(err) => panic!("{err}"),
        }
    }

    /// A comprehension over `entries`, or why an entry does not fit `template`.
    ///
    /// ```
    /// use cinder::{Comprehension, Dynamic, Entry, Key, Template};
    ///
    /// let item = Template::leak(vec!["<li>".into(), "</li>".into()], true);
    /// let list = Comprehension::try_new(
    ///     item,
    ///     vec![Entry::new(Key(1), vec![Dynamic::Text("a".into())])],
    /// )
    /// .unwrap();
    /// assert_eq!(list.get(0).unwrap().dynamics(), [Dynamic::Text("a".into())]);
    /// ```
    pub fn try_new(
        template: &'static Template,
        entries: Vec<Entry>,
    ) -> Result<Comprehension, ShapeError> {
        for entry in &entries {
            check_shape(template, entry.dynamics.len())?;
        }
        let mut list = crate::memo::ListBuilder::new(template, entries.len());
        for entry in entries {
            list.push(entry.key, entry.dynamics);
        }
        Ok(list.into_comprehension())
    }

    pub(crate) fn from_chunks(
        template: &'static Template,
        chunks: Vec<Arc<Chunk>>,
        stamp_site: Option<u64>,
    ) -> Self {
        Comprehension {
            template,
            chunks: chunks.into(),
            origin: ListOrigin::of(stamp_site),
        }
    }

    /// A comprehension of `template` over this one's chunks, shared: a
    /// render whose list turned out the same as the previous one's.
    pub(crate) fn sharing_chunks(
        &self,
        template: &'static Template,
        stamp_site: Option<u64>,
    ) -> Self {
        Comprehension {
            template,
            chunks: self.chunks.clone(),
            origin: ListOrigin::of(stamp_site),
        }
    }

    /// Whether `other` holds this list's chunks: the same entries, with
    /// the same template.
    pub(crate) fn shares_chunks_with(&self, other: &Comprehension) -> bool {
        Arc::ptr_eq(&self.chunks, &other.chunks) && self.template.same_as(other.template)
    }

    /// What tells this list's chunks apart from those of every other list
    /// alive: where they are kept. Never zero.
    pub(crate) fn token(&self) -> NonZeroUsize {
        let at = Arc::as_ptr(&self.chunks).cast::<()>().addr();
        NonZeroUsize::new(at).expect("an allocation is never at address zero")
    }

    /// Lends the list: it becomes an empty list that names the one it was
    /// by its [token](Comprehension::token), and the list is returned.
    pub(crate) fn lend(&mut self) -> Comprehension {
        let lent = Comprehension {
            template: self.template,
            chunks: NO_CHUNKS.with(Arc::clone),
            origin: ListOrigin::Lent(self.token()),
        };
        std::mem::replace(self, lent)
    }

    /// The token of the list this one stands for, when it was
    /// [lent](Comprehension::lend).
    pub(crate) fn lent_token(&self) -> Option<NonZeroUsize> {
        match self.origin {
            ListOrigin::Lent(token) => Some(token),
            _ => None,
        }
    }

    /// The chunk at `position`, to change in place: only while nothing
    /// else holds it or the list's chunks.
    pub(crate) fn chunk_mut(&mut self, position: usize) -> Option<&mut Chunk> {
        Arc::get_mut(Arc::get_mut(&mut self.chunks)?.get_mut(position)?)
    }

    /// Whether the chunk at `position` can be changed in place once the
    /// list's chunks are held by `holders` lists (this one among them).
    pub(crate) fn chunk_is_only_here(&self, position: usize, holders: usize) -> bool {
        Arc::strong_count(&self.chunks) == holders
            && self
                .chunks
                .get(position)
                .is_some_and(|chunk| Arc::strong_count(chunk) == 1)
    }

    /// Where each key's first entry is: how a list finds the entries that
    /// moved.
    pub(crate) fn index_by_key(&self) -> KeyIndex {
        let mut index = KeyIndex::with_capacity_and_hasher(self.len(), SecretSpread::default());
        for (i, entry) in self.entries().enumerate() {
            index.entry(entry.key()).or_insert(i);
        }
        index
    }

    /// Whether an entry of `self` and an entry of `other` with the same key
    /// and memo stamp show the same: both lists come from one stamped `for`.
    pub(crate) fn stamps_agree_with(&self, other: &Comprehension) -> bool {
        matches!(self.origin, ListOrigin::StampedAt(_)) && self.origin == other.origin
    }

    /// The template every entry renders with.
    pub fn template(&self) -> &'static Template {
        self.template
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        match self.chunks.split_last() {
            Some((last, full)) => full.len() * self.chunk_size() + last.len(),
            None => 0,
        }
    }

    /// How many entries each chunk but the last holds.
    pub(crate) fn chunk_size(&self) -> usize {
        self.chunks.first().map_or(1, |chunk| chunk.size)
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The entry at `index`.
    pub fn get(&self, index: usize) -> Option<EntryRef<'_>> {
        let size = self.chunk_size();
        self.chunks
            .get(index / size)?
            .entry(index % size, self.width())
    }

    /// The entries, in order.
    pub fn entries(&self) -> impl Iterator<Item = EntryRef<'_>> {
        let width = self.width();
        self.chunks
            .iter()
            .flat_map(move |chunk| chunk.entries(width))
    }

    /// How many dynamics each entry has.
    pub(crate) fn width(&self) -> usize {
        self.template.dynamic_count()
    }

    pub(crate) fn chunks(&self) -> &[Arc<Chunk>] {
        &self.chunks
    }

    /// Brings the first chunks into the cache, so that a render comparing
    /// its entries with their stamps, and sharing the chunks, finds them
    /// there.
    ///
    /// A session's previous render is seldom in the cache when its next
    /// event comes, and the render's loop reaches each chunk's stamps only
    /// after the entries before it: waiting for memory once per chunk, in
    /// turn. Asked for here, all at once, the lines come together.
    pub(crate) fn prefetch_chunks(&self) {
        for chunk in self.chunks.iter().take(PREFETCHED_CHUNKS) {
            chunk.prefetch();
        }
    }
}

thread_local! {
    /// The chunks of a lent list: none, shared, so that lending a list
    /// allocates nothing.
    static NO_CHUNKS: Arc<[Arc<Chunk>]> = Arc::new([]);
}

/// How many chunks [`Comprehension::prefetch_chunks`] asks for: enough for the
/// lists most pages show whole, few enough to stay in the cache.
const PREFETCHED_CHUNKS: usize = 64;

/// The size of the processor's cache line on the machines Cinder runs on
/// (x86-64, most ARM cores): reading ahead, one read per line is enough.
const CACHE_LINE_BYTES: usize = 64;

/// Up to `size` consecutive entries of a comprehension, their dynamics
/// stored one entry after another: a row costs its dynamics and its key,
/// with no allocation of its own.
#[derive(Clone, Debug)]
// In this order: the stamps and keys, which a render compares for every
// entry, come right after the reference count. The stamps come first so
// that, the chunk starting on a 16-byte boundary as allocators place it,
// no cache line lies wholly inside them (see `Chunk::prefetch`).
#[repr(C)]
pub(crate) struct Chunk {
    stamps: Stamps,
    keys: Keys,
    /// How many entries a full chunk of its list holds (see [`chunk_size`]).
    size: usize,
    dynamics: Box<[Dynamic]>,
}

impl Drop for Chunk {
    // A list's texts are most of what a render lets go of (the chunk a
    // changed row replaced, the tree a closed page leaves), and an inline
    // text holds nothing to release: it is let go after a test, where
    // dropping it would cost a call that sets up for every kind. Every
    // other dynamic is dropped as usual, at the end of its turn.
    fn drop(&mut self) {
        for dynamic in std::mem::take(&mut self.dynamics).into_vec() {
            if dynamic.is_inline_text() {
                std::mem::forget(dynamic);
            }
        }
    }
}

/// How many stamps a chunk keeps in itself: those of a chunk of the lists
/// most pages show (see [`chunk_size`]).
const INLINE_STAMPS: usize = 8;

/// The memo stamps of a chunk's entries, one per entry when its `for` has
/// them.
///
/// Up to [`INLINE_STAMPS`] are kept in the chunk itself rather than in an
/// allocation of their own: a session's previous render is seldom in the
/// cache when its next event comes, and each chunk's stamps are read for
/// every render of the list, so they are one cache line fewer to wait for
/// per chunk, and one allocation fewer per chunk made.
#[derive(Clone, Debug)]
enum Stamps {
    Absent,
    /// The first entries' stamps; the chunk's length says how many.
    Inline([u64; INLINE_STAMPS]),
    Boxed(Box<[u64]>),
}

/// The keys of a chunk's entries. A chunk builder lists its keys only
/// once they stop following one another, so equal keys are kept alike.
#[derive(Clone, Debug, PartialEq)]
enum Keys {
    /// `first`, `first + 1`, …: a `for` without `key =` numbers its entries
    /// by index, and such a chunk stores no key at all.
    Consecutive { first: u64, len: usize },
    /// Any other keys, one per entry.
    Listed(Box<[Key]>),
}

impl Keys {
    fn len(&self) -> usize {
        match self {
            Keys::Consecutive { len, .. } => *len,
            Keys::Listed(keys) => keys.len(),
        }
    }

    fn get(&self, index: usize) -> Option<Key> {
        match self {
            Keys::Consecutive { first, len } => {
                (index < *len).then(|| Key(first.wrapping_add(index as u64)))
            }
            Keys::Listed(keys) => keys.get(index).copied(),
        }
    }
}

impl Chunk {
    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Entry `index`, for entries of `width` dynamics.
    pub(crate) fn entry(&self, index: usize, width: usize) -> Option<EntryRef<'_>> {
        let key = self.keys.get(index)?;
        Some(EntryRef {
            key,
            memo: self.stamp(index),
            dynamics: self.dynamics_of(index, width),
        })
    }

    /// The dynamics of entry `index`, for entries of `width`.
    #[inline]
    fn dynamics_of(&self, index: usize, width: usize) -> &[Dynamic] {
        &self.dynamics[index * width..(index + 1) * width]
    }

    /// The stamp of entry `index`, for an index the chunk's keys hold: an
    /// inline stamp is read without the chunk's length (past it, zero).
    #[inline]
    fn stamp(&self, index: usize) -> Option<u64> {
        match &self.stamps {
            Stamps::Inline(stamps) => stamps.get(index).copied(),
            Stamps::Boxed(stamps) => stamps.get(index).copied(),
            Stamps::Absent => None,
        }
    }

    /// Every entry's stamp, when the entries are stamped.
    #[inline]
    fn stamps(&self) -> Option<&[u64]> {
        match &self.stamps {
            Stamps::Absent => None,
            Stamps::Inline(stamps) => Some(&stamps[..self.len()]),
            Stamps::Boxed(stamps) => Some(stamps),
        }
    }

    /// Asks for every cache line of `dynamics` at once, so that cloning
    /// them finds them in the cache, where the clones would wait for each
    /// line in turn.
    fn prefetch_dynamics(dynamics: &[Dynamic]) {
        let per_line = (CACHE_LINE_BYTES / std::mem::size_of::<Dynamic>()).max(1);
        dynamics.iter().step_by(per_line).for_each(prefetch);
        if let Some(last) = dynamics.last() {
            prefetch(last);
        }
    }

    /// Asks for every cache line the chunk spans, by the start of each of
    /// its fields: none holds a whole line that no other field starts in
    /// (see the order of its fields). The reference count, just before
    /// the chunk, shares its first line but for one chunk in four.
    fn prefetch(&self) {
        prefetch(&self.stamps);
        prefetch(&self.keys);
        prefetch(&self.size);
        prefetch(&self.dynamics);
    }

    /// Which entries of `new` carry a stamp other than the entry at their
    /// index here, as bits from the lowest, when both chunks hold the same
    /// keys in the same order and stamp their entries: for a chunk of a later
    /// render of the same `for` at this one's place, those are the only
    /// entries that can differ. `None` for any other pair of chunks.
    pub(crate) fn restamped_in(&self, new: &Chunk) -> Option<u64> {
        if self.len() > u64::BITS as usize || self.keys != new.keys {
            return None;
        }
        let (old, new) = (self.stamps()?, new.stamps()?);
        Some(
            old.iter()
                .zip(new)
                .enumerate()
                .filter(|(_, (old, new))| old != new)
                .fold(0, |restamped, (index, _)| restamped | 1 << index),
        )
    }

    /// The keys and stamps of the entries, copied out, when the chunk keeps
    /// its stamps in itself and its keys follow one another: those of the
    /// lists most pages show.
    #[inline]
    pub(crate) fn in_place_entries(&self) -> Option<InPlaceEntries> {
        match (&self.keys, &self.stamps) {
            (Keys::Consecutive { first, len }, Stamps::Inline(stamps)) => Some(InPlaceEntries {
                first_key: *first,
                len: *len,
                stamps: *stamps,
            }),
            _ => None,
        }
    }

    /// Whether the entry at `index` has `key` and the memo stamp `memo`:
    /// what a stamped `for` asks of each previous entry, without making a
    /// view of its dynamics.
    #[inline]
    pub(crate) fn entry_is(&self, index: usize, key: Key, memo: u64) -> bool {
        // The key, `None` past the chunk's length, tells apart an inline
        // stamp read there.
        self.stamp(index) == Some(memo) && self.has_key(index, key)
    }

    /// Whether entry `index` has `key`.
    #[inline]
    pub(crate) fn has_key(&self, index: usize, key: Key) -> bool {
        self.keys.get(index) == Some(key)
    }

    /// Whether entry `index` has `key` and is stamped if `stamped`: an
    /// entry a later render of its `for` can put in its place.
    #[inline]
    pub(crate) fn entry_fits(&self, index: usize, key: Key, stamped: bool) -> bool {
        self.has_key(index, key) && matches!(self.stamps, Stamps::Absent) != stamped
    }

    /// Puts `dynamics` and `stamp` in place of entry `index`'s (for entries
    /// of `width`), whose dynamics are added to `old`; returns its stamp.
    pub(crate) fn replace_entry(
        &mut self,
        index: usize,
        width: usize,
        stamp: Option<u64>,
        dynamics: impl IntoIterator<Item = Dynamic>,
        old: &mut Vec<Dynamic>,
    ) -> Option<u64> {
        let slots = &mut self.dynamics[index * width..(index + 1) * width];
        for (slot, new) in slots.iter_mut().zip(dynamics) {
            old.push(std::mem::replace(slot, new));
        }
        let was = self.stamp(index);
        if let Some(stamp) = stamp {
            match &mut self.stamps {
                Stamps::Inline(stamps) => stamps[index] = stamp,
                Stamps::Boxed(stamps) => stamps[index] = stamp,
                Stamps::Absent => {}
            }
        }
        was
    }

    /// The entries, for entries of `width` dynamics.
    pub(crate) fn entries(&self, width: usize) -> impl Iterator<Item = EntryRef<'_>> {
        (0..self.len()).filter_map(move |index| self.entry(index, width))
    }

    /// Each entry's dynamics, for entries of `width`, without their keys
    /// and stamps: what a list written whole reads of it.
    pub(crate) fn entry_dynamics(&self, width: usize) -> impl Iterator<Item = &[Dynamic]> {
        (0..self.len()).map(move |index| self.dynamics_of(index, width))
    }
}

/// The keys and stamps of a chunk's entries, copied out of it (see
/// [`Chunk::in_place_entries`]): a loop comparing its entries one by one
/// with them reads a few words of its own, where the chunk's would take a
/// look at how the chunk keeps them for each entry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InPlaceEntries {
    first_key: u64,
    len: usize,
    stamps: [u64; INLINE_STAMPS],
}

impl InPlaceEntries {
    /// Whether the entry at `index` has `key` and the memo stamp `memo`,
    /// as [`Chunk::entry_is`] answers.
    #[inline]
    pub(crate) fn entry_is(&self, index: usize, key: Key, memo: u64) -> bool {
        self.stamps.get(index) == Some(&memo) && self.has_key(index, key)
    }

    /// Whether the entry at `index` has `key`, as [`Chunk::has_key`] answers.
    #[inline]
    pub(crate) fn has_key(&self, index: usize, key: Key) -> bool {
        index < self.len && self.first_key.wrapping_add(index as u64) == key.0
    }
}

/// Builds one [`Chunk`] entry by entry.
pub(crate) struct ChunkBuilder {
    width: usize,
    size: usize,
    /// The first key and the number of entries.
    first: u64,
    len: usize,
    /// Every entry's key, once one of them does not follow the one before;
    /// empty while they are consecutive.
    keys: Vec<Key>,
    stamps: StampBuffer,
    dynamics: Vec<Dynamic>,
}

/// A chunk's stamps as its entries are added: in place when the chunk
/// keeps them in itself.
enum StampBuffer {
    Absent,
    Inline([u64; INLINE_STAMPS]),
    Listed(Vec<u64>),
}

impl StampBuffer {
    /// Room for the stamps of a chunk of up to `size` entries, if `stamped`.
    fn new(size: usize, stamped: bool) -> StampBuffer {
        match (stamped, size <= INLINE_STAMPS) {
            (false, _) => StampBuffer::Absent,
            (true, true) => StampBuffer::Inline([0; INLINE_STAMPS]),
            (true, false) => StampBuffer::Listed(Vec::new()),
        }
    }

    /// Sets the stamp of entry `at`, the entries before it set.
    #[inline]
    fn push(&mut self, at: usize, stamp: u64) {
        match self {
            StampBuffer::Absent => {}
            StampBuffer::Inline(inline) => inline[at] = stamp,
            StampBuffer::Listed(listed) => listed.push(stamp),
        }
    }

    /// Sets the stamps from entry `at` on, the entries before it set.
    fn put(&mut self, at: usize, stamps: &[u64]) {
        match self {
            StampBuffer::Absent => {}
            StampBuffer::Inline(inline) => inline[at..at + stamps.len()].copy_from_slice(stamps),
            StampBuffer::Listed(listed) => listed.extend_from_slice(stamps),
        }
    }

    /// Adds `count` entries copied from a chunk without stamps: stamped
    /// zero, as an entry pushed without a stamp is.
    fn put_unstamped(&mut self, count: usize) {
        // An inline buffer is zeroed already.
        if let StampBuffer::Listed(listed) = self {
            listed.resize(listed.len() + count, 0);
        }
    }

    fn finish(self) -> Stamps {
        match self {
            StampBuffer::Absent => Stamps::Absent,
            StampBuffer::Inline(inline) => Stamps::Inline(inline),
            StampBuffer::Listed(listed) => Stamps::Boxed(listed.into_boxed_slice()),
        }
    }
}

impl ChunkBuilder {
    /// An empty chunk of up to `size` entries of `width` dynamics, taking
    /// no memory until [`reserve`](ChunkBuilder::reserve); `memoized` when
    /// each entry carries a memo stamp.
    pub(crate) fn new(width: usize, size: usize, memoized: bool) -> ChunkBuilder {
        ChunkBuilder {
            width,
            size,
            first: 0,
            len: 0,
            keys: Vec::new(),
            stamps: StampBuffer::new(size, memoized),
            dynamics: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether each entry carries a memo stamp.
    pub(crate) fn is_stamped(&self) -> bool {
        !matches!(self.stamps, StampBuffer::Absent)
    }

    /// How many entries the chunk holds when full.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// An empty builder for the chunk after this one: the same width, size
    /// and stamping.
    pub(crate) fn next(&self) -> ChunkBuilder {
        ChunkBuilder::new(self.width, self.size, self.is_stamped())
    }

    /// Makes room for `entries` more entries.
    pub(crate) fn reserve(&mut self, entries: usize) {
        if let StampBuffer::Listed(stamps) = &mut self.stamps {
            stamps.reserve_exact(entries);
        }
        self.dynamics.reserve_exact(entries * self.width);
    }

    /// Adds an entry; its dynamics are moved in.
    // Inlined into each caller, a fixed-size array of dynamics is moved
    // in without a loop.
    #[inline]
    pub(crate) fn push(
        &mut self,
        key: Key,
        memo: Option<u64>,
        dynamics: impl IntoIterator<Item = Dynamic>,
    ) {
        self.stamps.push(self.len, memo.unwrap_or_default());
        self.push_key(key);
        self.dynamics.extend(dynamics);
    }

    /// Adds `count` entries of `chunk` from its entry `from` on, their
    /// dynamics cloned in one go.
    pub(crate) fn extend_from(&mut self, chunk: &Chunk, from: usize, count: usize) {
        let entries = from..from + count;
        match chunk.stamps() {
            Some(old) => self.stamps.put(self.len, &old[entries.clone()]),
            None => self.stamps.put_unstamped(count),
        }
        for index in entries {
            self.push_key(chunk.keys.get(index).expect("the entries are in the chunk"));
        }
        let dynamics = &chunk.dynamics[from * self.width..(from + count) * self.width];
        Chunk::prefetch_dynamics(dynamics);
        self.dynamics.extend_from_slice(dynamics);
    }

    #[inline]
    fn push_key(&mut self, key: Key) {
        if self.len == 0 {
            self.first = key.0;
        } else if !self.keys.is_empty() {
            self.keys.push(key);
        } else if key.0 != self.first.wrapping_add(self.len as u64) {
            self.list_keys(key);
        }
        self.len += 1;
    }

    /// Lists the keys of the entries so far, which followed one another,
    /// and then `key`, which does not follow the last.
    #[cold]
    #[inline(never)]
    fn list_keys(&mut self, key: Key) {
        let first = self.first;
        // As many as the chunk has room for, as `reserve` sized it.
        let room = self.dynamics.capacity() / self.width.max(1);
        self.keys.reserve_exact(room.max(self.len + 1));
        self.keys
            .extend((0..self.len as u64).map(|i| Key(first.wrapping_add(i))));
        self.keys.push(key);
    }

    pub(crate) fn finish(self) -> Chunk {
        let keys = if self.keys.is_empty() {
            Keys::Consecutive {
                first: self.first,
                len: self.len,
            }
        } else {
            Keys::Listed(self.keys.into_boxed_slice())
        };
        Chunk {
            size: self.size,
            keys,
            stamps: self.stamps.finish(),
            dynamics: self.dynamics.into_boxed_slice(),
        }
    }
}

/// One entry of a comprehension being built by hand: its key and dynamics
/// (see [`Comprehension::new`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    key: Key,
    dynamics: Vec<Dynamic>,
}

impl Entry {
    /// An entry with its key and dynamics.
    pub fn new(key: Key, dynamics: Vec<Dynamic>) -> Entry {
        Entry { key, dynamics }
    }
}

/// One entry of a [`Comprehension`], as read from it.
#[derive(Clone, Copy, Debug)]
pub struct EntryRef<'a> {
    key: Key,
    memo: Option<u64>,
    dynamics: &'a [Dynamic],
}

impl PartialEq for EntryRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.same_dynamics(other)
    }
}

impl<'a> EntryRef<'a> {
    /// The entry's key.
    pub fn key(&self) -> Key {
        self.key
    }

    /// The memo stamp the entry was rendered with, if its `for` has one.
    pub fn memo(&self) -> Option<u64> {
        self.memo
    }

    /// The entry's dynamics.
    pub fn dynamics(&self) -> &'a [Dynamic] {
        self.dynamics
    }

    /// Same dynamics, answered at once when both are the same entry of a
    /// shared chunk.
    pub(crate) fn same_dynamics(&self, other: &EntryRef<'_>) -> bool {
        std::ptr::eq(self.dynamics, other.dynamics) || self.dynamics == other.dynamics
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk of `size` entries holding `keys`, each stamped ten times its
    /// key when `memoized`.
    fn chunk_of(keys: &[u64], size: usize, memoized: bool) -> Chunk {
        let mut builder = ChunkBuilder::new(1, size, memoized);
        builder.reserve(keys.len());
        for &key in keys {
            let memo = memoized.then_some(key * 10);
            builder.push(Key(key), memo, [Dynamic::Text(key.to_string().into())]);
        }
        builder.finish()
    }

    /// A page with a stream at its root and one in a nested tree, each
    /// with `items` inserted and `deleted` removed.
    fn page_with_streams(items: &[&str], deleted: &[&str], reset: bool) -> Rendered {
        let item = Template::leak(vec!["<li>".into(), "</li>".into()], false);
        let inner = Template::leak(vec!["<ol>".into(), "</ol>".into()], false);
        let page = Template::leak(vec!["<ul>".into(), "</ul>".into(), "".into()], true);
        let stream = |reference: &str| {
            Dynamic::Stream(Box::new(StreamList {
                reference: reference.into(),
                template: Some(item),
                entries: items
                    .iter()
                    .map(|text| vec![Dynamic::Text((*text).into())])
                    .collect(),
                inserts: items
                    .iter()
                    .map(|text| StreamInsert {
                        dom_id: format!("{reference}-{text}"),
                        at: -1,
                        limit: None,
                        update_only: false,
                    })
                    .collect(),
                deletes: deleted.iter().map(|id| id.to_string()).collect(),
                reset,
            }))
        };
        let nested = Rendered::new(inner, vec![stream("1")]);
        Rendered::new(page, vec![stream("0"), Dynamic::Nested(Box::new(nested))])
    }

    /// The tree a view keeps once it has sent a render lets go of its
    /// streams' items, and every diff from it is the diff from the tree
    /// that kept them.
    #[test]
    fn a_tree_without_its_stream_items_diffs_as_the_tree_with_them() {
        let first = page_with_streams(&["a", "b"], &[], false);
        let mut kept = first.clone();
        kept.forget_stream_items();
        let Dynamic::Stream(stream) = &kept.dynamics()[0] else {
            panic!("the root's stream")
        };
        assert!(stream.entries.is_empty() && stream.is_unchanged());
        assert_eq!(&*stream.reference, "0");
        let nexts = [
            page_with_streams(&[], &[], false),
            page_with_streams(&["c"], &[], false),
            page_with_streams(&["a"], &[], false),
            page_with_streams(&[], &["0-a"], false),
            page_with_streams(&["d"], &[], true),
        ];
        for next in &nexts {
            assert_eq!(
                crate::diff::diff(&kept, next).as_str(),
                crate::diff::diff(&first, next).as_str()
            );
        }
        let inserted = crate::diff::diff(&kept, &nexts[1]);
        assert!(
            inserted.as_str().contains(r#"["0",[["0-c",-1"#),
            "{inserted:?}"
        );
        assert!(
            inserted.as_str().contains(r#"["1",[["1-c",-1"#),
            "{inserted:?}"
        );
    }

    /// Asking for a tree's lines leaves the tree as it was, whatever its
    /// lists hold: no entry, one chunk, a partial chunk, and more chunks
    /// than are asked for, with entries of no dynamics too (a render's
    /// stamped chunks are asked for by every render through a cache).
    #[test]
    fn prefetching_a_tree_changes_nothing_about_it() {
        let row = Template::leak(vec!["<li>".into(), "</li>".into()], false);
        let bare = Template::leak(vec!["<hr>".into()], false);
        let page = Template::leak(
            vec!["<ul>".into(), "</ul><ol>".into(), "</ol>".into()],
            false,
        );
        for len in [0, 1, 7, 8, 9, 100, 8 * PREFETCHED_CHUNKS as u64 + 3] {
            let entries = |width| {
                (0..len)
                    .map(|i| {
                        let dynamics = vec![Dynamic::Text(i.to_string().into()); width];
                        Entry::new(Key(i), dynamics)
                    })
                    .collect()
            };
            let tree = Rendered::new(
                page,
                vec![
                    Dynamic::List(Box::new(Comprehension::new(row, entries(1)))),
                    Dynamic::List(Box::new(Comprehension::new(bare, entries(0)))),
                ],
            );
            let copy = tree.clone();
            tree.prefetch_dynamics();
            tree.prefetch_lists();
            tree.prefetch_list_chunks();
            assert!(tree == copy, "{len}");
            assert!(crate::diff::diff(&copy, &tree).is_empty(), "{len}");
            let mut html = Vec::new();
            tree.write_html_with(&mut html, &mut |_, _| {});
            let items: String = (0..len).map(|i| format!("<li>{i}</li>")).collect();
            let rules = "<hr>".repeat(len as usize);
            let expected = format!("<ul>{items}</ul><ol>{rules}</ol>");
            assert_eq!(String::from_utf8(html).unwrap(), expected, "{len}");
        }
    }

    /// Statics shorter than, as long as and longer than what the writer
    /// copies at once are written whole, between dynamics, whatever room
    /// the output has, in a page and in each entry of a list.
    #[test]
    fn statics_of_every_length_are_written_whole() {
        let statics: Vec<String> = [0, 1, 31, 32, 33, 100]
            .iter()
            .map(|&len| {
                (0..len)
                    .map(|i| char::from(b'a' + (i % 26) as u8))
                    .collect()
            })
            .collect();
        let template = Template::leak(statics.clone(), false);
        let dynamics: Vec<Dynamic> = (0..statics.len() - 1)
            .map(|i| Dynamic::Text(Text::from(format!("<{i}>"))))
            .collect();
        let mut expected = String::new();
        for (i, part) in statics.iter().enumerate() {
            expected.push_str(part);
            if i + 1 < statics.len() {
                expected.push_str(&format!("<{i}>"));
            }
        }
        let page = Rendered::new(template, dynamics.clone());
        let entries = (0..3)
            .map(|i| Entry::new(Key::of(&i), dynamics.clone()))
            .collect();
        let list = Comprehension::new(template, entries);
        let wrapper = Template::leak(vec!["[".into(), "]".into()], false);
        let listed = Rendered::new(wrapper, vec![Dynamic::List(Box::new(list))]);
        for room in [0, 1, 31, 32, 33, 64, 1000] {
            let mut out = Vec::with_capacity(room);
            page.write_html_with(&mut out, &mut |_, _| {});
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{room}");
            let mut out = Vec::with_capacity(room);
            listed.write_html_with(&mut out, &mut |_, _| {});
            let thrice = format!("[{}]", expected.repeat(3));
            assert_eq!(String::from_utf8(out).unwrap(), thrice, "{room}");
        }
    }

    /// A chunk let go releases what its dynamics hold, texts on the heap
    /// and nested trees alike, beside the inline texts it lets go unread.
    #[test]
    fn a_dropped_chunk_releases_what_its_dynamics_hold() {
        let long = Text::from("a text too long to be kept in its slot".to_string());
        let bold = Template::leak(vec!["<b>".into(), "</b>".into()], false);
        let mut builder = ChunkBuilder::new(3, 8, false);
        builder.reserve(3);
        for key in 0..3 {
            let nested = Rendered::new(bold, vec![Dynamic::Text(long.clone())]);
            let dynamics = [
                Dynamic::Text(long.clone()),
                Dynamic::Text("42".into()),
                Dynamic::Nested(Box::new(nested)),
            ];
            builder.push(Key(key), None, dynamics);
        }
        let chunk = builder.finish();
        assert_eq!(long.shares(), 7);
        drop(chunk);
        assert_eq!(long.shares(), 1);
    }

    /// `entry_is` answers what `entry` would, for consecutive and listed
    /// keys, stamps kept in the chunk or apart, and never for a chunk
    /// without stamps or past its end.
    #[test]
    fn an_entry_is_its_key_and_stamp() {
        for size in [INLINE_STAMPS, 2 * INLINE_STAMPS] {
            for keys in [&[3, 4, 5][..], &[9, 1, 7]] {
                let stamped = chunk_of(keys, size, true);
                let unstamped = chunk_of(keys, size, false);
                for (index, &key) in keys.iter().enumerate() {
                    assert!(
                        stamped.entry_is(index, Key(key), key * 10),
                        "{size} {keys:?} {index}"
                    );
                    let entry = stamped.entry(index, 1).unwrap();
                    assert_eq!((entry.key(), entry.memo()), (Key(key), Some(key * 10)));
                    assert!(!stamped.entry_is(index, Key(key), key * 10 + 1));
                    assert!(!stamped.entry_is(index, Key(key + 1), key * 10));
                    assert!(!unstamped.entry_is(index, Key(key), key * 10));
                    assert_eq!(unstamped.entry(index, 1).unwrap().memo(), None);
                }
                assert!(!stamped.entry_is(keys.len(), Key(0), 0));
            }
        }
    }

    /// The keys and stamps copied out of a chunk answer as the chunk does,
    /// past its entries too, and are copied only from a chunk that keeps
    /// its stamps in itself and whose keys follow one another.
    #[test]
    fn entries_copied_out_answer_as_their_chunk() {
        for size in [INLINE_STAMPS, 2 * INLINE_STAMPS] {
            for keys in [&[3, 4, 5][..], &[9, 1, 7]] {
                let chunk = chunk_of(keys, size, true);
                let copied = chunk.in_place_entries();
                // Copied out only where the chunk keeps its stamps in
                // itself and its keys follow one another.
                let fits = size == INLINE_STAMPS && keys == [3, 4, 5];
                assert_eq!(copied.is_some(), fits, "{size} {keys:?}");
                let Some(copied) = copied else { continue };
                // Past the entries, the stamps kept inline are zero: an
                // entry keyed as the next would be, stamped zero, is not one.
                for index in 0..=INLINE_STAMPS {
                    let key = 3 + index as u64;
                    assert_eq!(
                        copied.entry_is(index, Key(key), 10 * key),
                        index < keys.len()
                    );
                    for (key, memo) in [(key, 10 * key), (key, 0), (0, 0)] {
                        assert_eq!(
                            copied.entry_is(index, Key(key), memo),
                            chunk.entry_is(index, Key(key), memo),
                            "{index} {key} {memo}"
                        );
                    }
                }
            }
        }
    }

    /// Entries copied from a chunk keep their keys and stamps at their new
    /// places, between entries pushed before and after them.
    #[test]
    fn copied_entries_keep_their_stamps() {
        for size in [INLINE_STAMPS, 2 * INLINE_STAMPS] {
            let old = chunk_of(&[1, 2, 3, 4, 5, 6, 7, 8], size, true);
            let mut builder = ChunkBuilder::new(1, size, true);
            builder.reserve(size);
            builder.push(Key(1), Some(11), [Dynamic::Text("new".into())]);
            builder.extend_from(&old, 1, 6);
            builder.push(Key(8), Some(81), [Dynamic::Text("new".into())]);
            let chunk = builder.finish();
            let stamps: Vec<_> = chunk.entries(1).map(|entry| entry.memo()).collect();
            let expected = [11, 20, 30, 40, 50, 60, 70, 81].map(Some);
            assert_eq!(stamps, expected, "{size}");
            assert!(chunk.entry_is(3, Key(4), 40));
        }
    }

    #[test]
    fn a_chunk_stores_keys_only_when_they_are_not_consecutive() {
        let build = |keys: &[u64]| {
            let mut builder = ChunkBuilder::new(1, 16, false);
            builder.reserve(keys.len());
            for &key in keys {
                builder.push(Key(key), None, [Dynamic::Text(key.to_string().into())]);
            }
            builder.finish()
        };
        let read = |chunk: &Chunk| -> Vec<(u64, Dynamic)> {
            chunk
                .entries(1)
                .map(|entry| (entry.key().0, entry.dynamics()[0].clone()))
                .collect()
        };
        for keys in [
            &[][..],
            &[7],
            &[3, 4, 5, 6],
            &[3, 4, 9, 10],
            &[9, 1],
            &[u64::MAX, 0],
        ] {
            let chunk = build(keys);
            let expected: Vec<(u64, Dynamic)> = keys
                .iter()
                .map(|&key| (key, Dynamic::Text(key.to_string().into())))
                .collect();
            assert_eq!(read(&chunk), expected, "keys {keys:?}");
            assert_eq!(chunk.len(), keys.len());
            assert!(chunk.entry(keys.len(), 1).is_none());
        }
        assert!(matches!(
            build(&[3, 4, 5]).keys,
            Keys::Consecutive { first: 3, len: 3 }
        ));
        assert!(matches!(build(&[3, 4, 9]).keys, Keys::Listed(_)));
    }

    #[test]
    fn a_dynamic_stays_small() {
        // Each dynamic slot of every render has this size: /rows holds 400,
        // kept from one render to the next. Text fills it; the other kinds
        // fit beside the tag of text's own representation.
        assert!(
            std::mem::size_of::<Dynamic>() <= 24,
            "{}",
            std::mem::size_of::<Dynamic>()
        );
    }

    #[test]
    fn integer_keys_never_collide() {
        let keys: std::collections::HashSet<Key> = (0u32..100_000).map(|n| Key::of(&n)).collect();
        assert_eq!(keys.len(), 100_000);
        assert_ne!(Key::of("ab"), Key::of("ba"));
    }

    #[test]
    fn string_keys_differing_in_padding_do_not_collide() {
        assert_ne!(Key::of("a"), Key::of("a\0"));
        assert_ne!(
            Key::of(b"abcdefgh".as_slice()),
            Key::of(b"abcdefgh\0".as_slice())
        );
        assert_ne!(Key::of(""), Key::of("\0"));
    }

    #[test]
    fn words_are_the_bytes_little_endian_and_zero_padded() {
        let bytes: Vec<u8> = (1..=24).collect();
        for len in 0..=bytes.len() {
            let mut words = Vec::new();
            for_each_word(&bytes[..len], |word| words.push(word));
            let expected: Vec<u64> = bytes[..len]
                .chunks(8)
                .map(|chunk| {
                    let mut word = [0; 8];
                    word[..chunk.len()].copy_from_slice(chunk);
                    u64::from_le_bytes(word)
                })
                .collect();
            assert_eq!(words, expected, "{len} bytes");
        }
    }

    #[test]
    fn fingerprint_separates_parts() {
        assert_ne!(
            fingerprint(&["ab", ""], false),
            fingerprint(&["a", "b"], false)
        );
        assert_ne!(fingerprint(&["a"], false), fingerprint(&["a"], true));
    }

    #[test]
    fn dead_render_interleaves_statics_and_dynamics() {
        let row = Template::leak(vec!["<li>".into(), "</li>".into()], true);
        let page = Template::leak(vec!["<ul>".into(), "</ul>".into()], true);
        let list = Comprehension::new(
            row,
            vec![
                Entry::new(Key(1), vec![Dynamic::Text("a".into())]),
                Entry::new(Key(2), vec![Dynamic::Text("b".into())]),
            ],
        );
        let tree = Rendered::new(page, vec![Dynamic::List(Box::new(list))]);
        assert_eq!(tree.to_html(), "<ul><li>a</li><li>b</li></ul>");
    }

    /// Lists chunked alike compare chunk by chunk, a chunk both share
    /// counting as equal unread and any other entry by entry; lists chunked
    /// differently compare entry by entry. Either way, equal entries make
    /// equal lists and one changed entry an unequal one.
    #[test]
    fn lists_are_equal_in_their_entries_however_they_share_chunks() {
        let row = Template::leak(vec!["<li>".into(), "</li>".into()], false);
        let chunk = |keys: std::ops::Range<u64>, size: usize, text: &dyn Fn(u64) -> String| {
            let mut builder = ChunkBuilder::new(1, size, false);
            builder.reserve(keys.clone().count());
            for key in keys {
                builder.push(Key(key), None, [Dynamic::Text(text(key).into())]);
            }
            Arc::new(builder.finish())
        };
        let plain = |key: u64| key.to_string();
        let bumped = |key: u64| match key {
            13 => "bumped".to_string(),
            key => key.to_string(),
        };
        let list = |chunks: Vec<Arc<Chunk>>| Comprehension::from_chunks(row, chunks, None);
        let eights = [
            chunk(0..8, 8, &plain),
            chunk(8..16, 8, &plain),
            chunk(16..20, 8, &plain),
        ];
        let original = list(eights.to_vec());
        let with_middle =
            |middle: Arc<Chunk>| list(vec![eights[0].clone(), middle, eights[2].clone()]);
        let fours = |text: &dyn Fn(u64) -> String| {
            list((0..5).map(|c| chunk(c * 4..c * 4 + 4, 4, text)).collect())
        };

        assert_eq!(original, list(eights.to_vec()));
        assert_eq!(original, with_middle(chunk(8..16, 8, &plain)));
        assert_ne!(original, with_middle(chunk(8..16, 8, &bumped)));
        assert_ne!(with_middle(chunk(8..16, 8, &bumped)), original);
        assert_eq!(original, fours(&plain));
        assert_eq!(fours(&plain), original);
        assert_ne!(original, fours(&bumped));
        assert_ne!(fours(&bumped), original);
        assert_ne!(original, list(eights[..2].to_vec()));
    }

    #[test]
    fn a_chunk_names_the_entries_restamped_in_its_successor() {
        let chunk = |keys: &[u64], stamps: Option<&[u64]>| {
            let mut builder = ChunkBuilder::new(1, 8, stamps.is_some());
            for (i, key) in keys.iter().enumerate() {
                let stamp = stamps.map(|stamps| stamps[i]);
                builder.push(Key(*key), stamp, [Dynamic::Text(key.to_string().into())]);
            }
            builder.finish()
        };
        let old = chunk(&[8, 9, 10, 11], Some(&[1, 1, 1, 1]));
        assert_eq!(old.restamped_in(&old), Some(0));
        let new = chunk(&[8, 9, 10, 11], Some(&[1, 2, 1, 3]));
        assert_eq!(old.restamped_in(&new), Some(0b1010));
        // Keys listed one by one are compared as such.
        let listed = chunk(&[40, 7, 19], Some(&[1, 1, 1]));
        let relisted = chunk(&[40, 7, 19], Some(&[5, 1, 1]));
        assert_eq!(listed.restamped_in(&relisted), Some(0b1));
        // Other keys, another length or no stamps: no answer, the diff
        // then compares entry by entry.
        assert_eq!(
            old.restamped_in(&chunk(&[8, 9, 10, 12], Some(&[1; 4]))),
            None
        );
        assert_eq!(old.restamped_in(&chunk(&[8, 9, 10], Some(&[1; 3]))), None);
        assert_eq!(
            listed.restamped_in(&chunk(&[40, 19, 7], Some(&[1; 3]))),
            None
        );
        let unstamped = chunk(&[8, 9, 10, 11], None);
        assert_eq!(old.restamped_in(&unstamped), None);
        assert_eq!(unstamped.restamped_in(&unstamped), None);
    }

    #[test]
    fn dynamics_are_equal_only_in_kind_and_content() {
        let row = Template::leak(vec!["<li>".into(), "</li>".into()], true);
        let text = |s: &str| Dynamic::Text(s.into());
        let nested = |s: &str| Dynamic::Nested(Box::new(Rendered::new(row, vec![text(s)])));
        let list = |s: &str| {
            Dynamic::List(Box::new(Comprehension::new(
                row,
                vec![Entry::new(Key(1), vec![text(s)])],
            )))
        };
        let kinds = [
            text("1"),
            nested("1"),
            list("1"),
            Dynamic::Component(Cid(1)),
        ];
        for (i, a) in kinds.iter().enumerate() {
            for (j, b) in kinds.iter().enumerate() {
                assert_eq!(a == b, i == j, "{a:?} == {b:?}");
            }
        }
        assert_eq!(text("1"), text("1"));
        assert_ne!(text("1"), text("2"));
        assert_eq!(nested("1"), nested("1"));
        assert_ne!(nested("1"), nested("2"));
        assert_eq!(list("1"), list("1"));
        assert_ne!(list("1"), list("2"));
        assert_ne!(Dynamic::Component(Cid(1)), Dynamic::Component(Cid(2)));
    }

    #[test]
    fn components_are_written_by_the_caller() {
        let page = Template::leak(vec!["<div>".into(), "</div>".into()], true);
        let tree = Rendered::new(page, vec![Dynamic::Component(Cid(3))]);
        let mut out = Vec::new();
        tree.write_html_with(&mut out, &mut |cid, out| {
            out.extend_from_slice(format!("[{}]", cid.0).as_bytes())
        });
        assert_eq!(out, b"<div>[3]</div>");
    }
}
