//! Streams: large or endless collections the server does not keep.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::rendered::{Dynamic, Rendered, StreamInsert, StreamList, Template};

/// Where an item goes and how many the container keeps; see
/// [`Stream::insert_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insert {
    at: i64,
    limit: Option<i64>,
    update_only: bool,
}

impl Default for Insert {
    fn default() -> Self {
        Insert::append()
    }
}

impl Insert {
    /// At the end of the container.
    pub fn append() -> Insert {
        Insert {
            at: -1,
            limit: None,
            update_only: false,
        }
    }

    /// At the start of the container.
    pub fn prepend() -> Insert {
        Insert::at(0)
    }

    /// At `index` among the container's children (`-1` appends). An item
    /// already in the container is updated where it is.
    pub fn at(index: i64) -> Insert {
        Insert {
            at: index,
            ..Insert::append()
        }
    }

    /// After inserting, keep only the first `limit` children (the last
    /// `-limit` when negative): a feed that prepends with `limit(50)` keeps
    /// the 50 newest.
    pub fn limit(mut self, limit: i64) -> Insert {
        self.limit = Some(limit);
        self
    }

    /// Only update the item if the container has it; never add it.
    pub fn update_only(mut self) -> Insert {
        self.update_only = true;
        self
    }
}

/// A large or endless collection the browser keeps and the server does not.
///
/// A [`Stream`] holds only what changed since the last render: items to
/// insert, DOM ids to delete, and whether to start over. Rendering sends
/// them and forgets them; the browser keeps the elements in a container
/// marked `phx-update="stream"`, whose children carry the items' DOM ids.
/// So a feed of a million items costs the view nothing per item.
///
/// ```
/// use cinder::live::{Insert, Stream};
/// use cinder::html;
///
/// struct Song { id: u32, title: String }
///
/// let mut songs = Stream::new(|song: &Song| format!("songs-{}", song.id));
/// songs.insert(Song { id: 1, title: "Intro".into() });
/// songs.insert_with(Song { id: 2, title: "Outro".into() }, Insert::at(0).limit(50));
///
/// let page = html! {
///     <ul id="songs" phx-update="stream">
///         {songs.render(|dom_id, song| html! { <li id={dom_id}>{&song.title}</li> })}
///     </ul>
/// };
/// assert_eq!(
///     page.to_html(),
///     "<ul id=\"songs\" phx-update=\"stream\">\n    <li id=\"songs-1\">Intro</li><li id=\"songs-2\">Outro</li>\n</ul>"
/// );
/// // Rendering sent the items; the stream keeps none of them.
/// assert!(songs.is_empty());
/// ```
///
/// Make one per collection, keep it in the view's struct, and render it
/// inside an element with an `id` and `phx-update="stream"`, giving each
/// item's element the DOM id the stream passes to the render closure.
pub struct Stream<T> {
    reference: Arc<str>,
    dom_id: Box<dyn Fn(&T) -> String + Send + Sync>,
    pending: Mutex<Pending<T>>,
    template: OnceLock<&'static Template>,
}

struct Pending<T> {
    items: Vec<(T, Insert)>,
    deletes: Vec<String>,
    reset: bool,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            items: Vec::new(),
            deletes: Vec::new(),
            reset: false,
        }
    }
}

/// Streams made outside a view are told apart by a process-wide counter;
/// [`Socket::stream`](super::Socket::stream) numbers them per view.
static DETACHED_STREAMS: AtomicU64 = AtomicU64::new(0);

impl<T> Stream<T> {
    /// A stream whose items have the DOM id `dom_id(item)`, such as
    /// `format!("songs-{}", song.id)`. In a view, prefer
    /// [`Socket::stream`](super::Socket::stream), which numbers the view's
    /// streams the way the client expects.
    pub fn new(dom_id: impl Fn(&T) -> String + Send + Sync + 'static) -> Stream<T> {
        let n = DETACHED_STREAMS.fetch_add(1, Ordering::Relaxed);
        Stream::with_reference(format!("s{n}"), dom_id)
    }

    pub(crate) fn with_reference(
        reference: String,
        dom_id: impl Fn(&T) -> String + Send + Sync + 'static,
    ) -> Stream<T> {
        Stream {
            reference: reference.into(),
            dom_id: Box::new(dom_id),
            pending: Mutex::new(Pending::default()),
            template: OnceLock::new(),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending<T>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The DOM id of `item`.
    pub fn dom_id(&self, item: &T) -> String {
        (self.dom_id)(item)
    }

    /// Appends `item` (or updates it in place, if the browser has it).
    pub fn insert(&mut self, item: T) -> &mut Self {
        self.insert_with(item, Insert::append())
    }

    /// Inserts `item` where `insert` says.
    pub fn insert_with(&mut self, item: T, insert: Insert) -> &mut Self {
        self.pending().items.push((item, insert));
        self
    }

    /// Appends every item, in order.
    pub fn extend(&mut self, items: impl IntoIterator<Item = T>) -> &mut Self {
        self.extend_with(items, Insert::append())
    }

    /// Inserts every item where `insert` says, in order.
    pub fn extend_with(&mut self, items: impl IntoIterator<Item = T>, insert: Insert) -> &mut Self {
        self.pending()
            .items
            .extend(items.into_iter().map(|item| (item, insert)));
        self
    }

    /// Removes `item`'s element from the browser.
    pub fn delete(&mut self, item: &T) -> &mut Self {
        let id = self.dom_id(item);
        self.delete_by_dom_id(id)
    }

    /// Removes the element with DOM id `id` from the browser.
    pub fn delete_by_dom_id(&mut self, id: impl Into<String>) -> &mut Self {
        self.pending().deletes.push(id.into());
        self
    }

    /// Empties the browser's container, then inserts `items`: a new search
    /// result, a filter changed.
    pub fn reset(&mut self, items: impl IntoIterator<Item = T>) -> &mut Self {
        {
            let mut pending = self.pending();
            *pending = Pending::default();
            pending.reset = true;
        }
        self.extend(items)
    }

    /// Whether nothing waits to be sent.
    pub fn is_empty(&self) -> bool {
        let pending = self.pending();
        pending.items.is_empty() && pending.deletes.is_empty() && !pending.reset
    }

    /// Renders what changed since the last render, each inserted item with
    /// `entry(dom_id, item)`, and forgets it: the items are dropped once
    /// rendered. `entry` must render one `html!` template, whose element has
    /// `id={dom_id}`.
    pub fn render(&self, entry: impl Fn(&str, &T) -> Rendered) -> Dynamic {
        let Pending {
            items,
            deletes,
            reset,
        } = std::mem::take(&mut *self.pending());
        let mut entries = Vec::with_capacity(items.len());
        let mut inserts = Vec::with_capacity(items.len());
        for (item, insert) in items {
            let dom_id = self.dom_id(&item);
            let tree = entry(&dom_id, &item);
            let template = *self.template.get_or_init(|| tree.template());
            if !template.same_as(tree.template()) {
                tracing::error!(
                    stream = %self.reference,
                    "a stream's items must all render the same template; item {dom_id} is left out"
                );
                continue;
            }
            entries.push(tree.into_dynamics());
            inserts.push(StreamInsert {
                dom_id,
                at: insert.at,
                limit: insert.limit,
                update_only: insert.update_only,
            });
        }
        Dynamic::Stream(Box::new(StreamList {
            reference: self.reference.clone(),
            template: self.template.get().copied(),
            entries,
            inserts,
            deletes,
            reset,
        }))
    }
}

impl<T> std::fmt::Debug for Stream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pending = self.pending();
        f.debug_struct("Stream")
            .field("reference", &self.reference)
            .field("pending_inserts", &pending.items.len())
            .field("pending_deletes", &pending.deletes.len())
            .field("reset", &pending.reset)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html;

    struct Item(u32);

    fn items() -> Stream<Item> {
        Stream::with_reference("3".into(), |item: &Item| format!("items-{}", item.0))
    }

    fn rendered(stream: &Stream<Item>) -> StreamList {
        match stream.render(|id, item| html! { <li id={id}>{item.0}</li> }) {
            Dynamic::Stream(list) => *list,
            other => panic!("a stream renders as a stream, not {other:?}"),
        }
    }

    #[test]
    fn a_render_sends_what_changed_once_and_keeps_nothing() {
        let mut stream = items();
        stream.insert(Item(1));
        stream.insert_with(Item(2), Insert::prepend().limit(10));
        stream.delete(&Item(7));
        let first = rendered(&stream);
        assert_eq!(&*first.reference, "3");
        assert_eq!(first.entries.len(), 2);
        assert_eq!(
            first.inserts,
            vec![
                StreamInsert {
                    dom_id: "items-1".into(),
                    at: -1,
                    limit: None,
                    update_only: false
                },
                StreamInsert {
                    dom_id: "items-2".into(),
                    at: 0,
                    limit: Some(10),
                    update_only: false
                },
            ]
        );
        assert_eq!(first.deletes, vec!["items-7".to_string()]);
        assert!(!first.reset);
        assert!(stream.is_empty());
        let second = rendered(&stream);
        assert!(second.is_unchanged());
        // The item template is remembered, so later diffs need no statics.
        assert!(second.template.is_some());
    }

    #[test]
    fn reset_drops_what_was_pending_and_starts_over() {
        let mut stream = items();
        stream.insert(Item(1)).delete_by_dom_id("items-0");
        stream.reset([Item(5), Item(6)]);
        let list = rendered(&stream);
        assert!(list.reset);
        assert!(list.deletes.is_empty());
        let ids: Vec<&str> = list.inserts.iter().map(|i| i.dom_id.as_str()).collect();
        assert_eq!(ids, ["items-5", "items-6"]);
    }

    #[test]
    fn update_only_inserts_are_marked() {
        let mut stream = items();
        stream.insert_with(Item(4), Insert::at(2).update_only());
        let list = rendered(&stream);
        assert_eq!(list.inserts[0].at, 2);
        assert!(list.inserts[0].update_only);
    }
}
