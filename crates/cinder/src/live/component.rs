//! Stateful components (`LiveComponent`): a piece of a page with its own
//! state and events, living inside its view's process.
//!
//! A view's template places a component with [`live_component`], giving its
//! type, an id unique among components of that type in the view, and its
//! props. The first time the view renders it, the component mounts and gets
//! a [`Cid`]; on later renders it is updated only when its props changed.
//! Events whose `phx-target` is the component (`phx-target={myself}`) go to
//! its [`handle_event`](LiveComponent::handle_event), and only the
//! component renders again. Other code reaches it with
//! [`Socket::send_update`](super::Socket::send_update).
//!
//! A panic in a component's callback is caught: that component alone shows
//! an error in its place, and the rest of the page goes on. It mounts again
//! when its props change or the user clicks its "Retry" button.
//!
//! ```
//! use cinder::live::{live_component, ComponentSocket, Event, LiveComponent};
//! use cinder::{html, Cid, Rendered};
//!
//! struct Toggle {
//!     on: bool,
//! }
//!
//! impl LiveComponent for Toggle {
//!     type Props = String;
//!     type Update = ();
//!
//!     fn mount(_label: &String, _socket: &mut ComponentSocket) -> Self {
//!         Toggle { on: false }
//!     }
//!
//!     async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket) {
//!         if event.name() == "flip" {
//!             self.on = !self.on;
//!         }
//!     }
//!
//!     fn render(&self, label: &String, myself: Cid) -> Rendered {
//!         let state = if self.on { "on" } else { "off" };
//!         html! { <button phx-click="flip" phx-target={myself}>{label}: {state}</button> }
//!     }
//! }
//!
//! // Outside a view (here, a tree rendered on its own) a component mounts,
//! // renders and is dropped, with cid 0; a view gives each its own cid.
//! let page = html! { <div>{live_component::<Toggle>("wifi", "Wi-Fi".to_string())}</div> };
//! assert_eq!(
//!     page.to_html(),
//!     "<div><button phx-click=\"flip\" phx-target=\"0\">Wi-Fi: off</button></div>"
//! );
//! ```

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::Extensions;
use cinder_runtime::Pid;
use serde_json::Value;

use super::{Event, Outgoing};
use crate::diff;
use crate::rendered::{Cid, Dynamic, Rendered};
use crate::{html, IntoDynamic};

/// A stateful component: its own state, events and renders, inside a view.
///
/// Write the callbacks with `async fn` where they are async; the future of
/// [`handle_event`](LiveComponent::handle_event) must be `Send`.
pub trait LiveComponent: Sized + Send + 'static {
    /// What the view's template gives the component on each render. When
    /// they equal the last ones, the component is neither updated nor
    /// rendered again.
    type Props: PartialEq + Send + 'static;

    /// What [`send_update`](super::Socket::send_update) delivers to
    /// [`handle_update`](LiveComponent::handle_update). `()` if nothing.
    type Update: Send + 'static;

    /// Builds the component's state the first time the view renders it.
    fn mount(props: &Self::Props, socket: &mut ComponentSocket) -> Self;

    /// Runs when the view renders the component with props that changed.
    /// The props reach [`render`](LiveComponent::render) anyway; override
    /// this to derive state from them.
    fn update(&mut self, props: &Self::Props, socket: &mut ComponentSocket) {
        let _ = (props, socket);
    }

    /// Handles an event whose target is this component.
    fn handle_event(
        &mut self,
        event: Event,
        socket: &mut ComponentSocket,
    ) -> impl Future<Output = ()> + Send {
        let _ = socket;
        tracing::warn!(
            component = std::any::type_name::<Self>(),
            event = event.name(),
            "unhandled event: implement LiveComponent::handle_event"
        );
        async {}
    }

    /// Handles what [`send_update`](super::Socket::send_update) sent.
    fn handle_update(&mut self, update: Self::Update, socket: &mut ComponentSocket) {
        let _ = (update, socket);
    }

    /// The component's markup. It must be exactly one HTML element (the
    /// client marks it with the component's id); `myself` is the value for
    /// `phx-target` that sends an event to this component.
    fn render(&self, props: &Self::Props, myself: Cid) -> Rendered;
}

/// Places the component of type `C` with `id` and `props` in a template.
///
/// `id` tells components of the same type apart within one view; the same
/// id on the next render is the same component, with its state.
pub fn live_component<C: LiveComponent>(id: impl Into<String>, props: C::Props) -> Dynamic {
    Dynamic::LiveComponent(LiveComponentRef(Arc::new(Placement {
        kind: TypeId::of::<C>(),
        type_name: std::any::type_name::<C>(),
        id: id.into(),
        props: Mutex::new(Some(Box::new(Props::<C>(props)))),
    })))
}

/// A component placed in a template and not yet given a [`Cid`]; made by
/// [`live_component`].
#[derive(Clone)]
pub struct LiveComponentRef(Arc<Placement>);

struct Placement {
    kind: TypeId,
    type_name: &'static str,
    id: String,
    /// Taken by the view the first time it resolves the placement.
    props: Mutex<Option<Box<dyn ErasedProps>>>,
}

impl LiveComponentRef {
    /// The component's id, as given to [`live_component`].
    pub fn id(&self) -> &str {
        &self.0.id
    }

    fn take_props(&self) -> Option<Box<dyn ErasedProps>> {
        self.0
            .props
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }

    /// The component's markup outside a view (the dead render, or a tree
    /// rendered on its own): mounted, rendered and dropped at once.
    pub(crate) fn render_detached(&self) -> Rendered {
        let guard = self
            .0
            .props
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(props) = guard.as_ref() else {
            return crashed_markup(Cid(0), "the component was already rendered in a view");
        };
        let mut socket = ComponentSocket::detached(Cid(0));
        let rendered = catch(|| {
            let instance = props.mount(&mut socket);
            instance.render(props.as_any(), Cid(0))
        });
        match rendered {
            Ok(mut tree) => {
                if tree.has_live_components() {
                    tree.resolve_components(&mut |nested| {
                        Dynamic::Nested(nested.render_detached())
                    });
                }
                tree
            }
            Err(message) => crashed_markup(Cid(0), &message),
        }
    }
}

impl PartialEq for LiveComponentRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for LiveComponentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveComponentRef")
            .field("type", &self.0.type_name)
            .field("id", &self.0.id)
            .finish()
    }
}

impl IntoDynamic for LiveComponentRef {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::LiveComponent(self)
    }
}

/// A component's handle on its view: events to the page's hooks, the
/// flash, navigation, updates to other components.
pub struct ComponentSocket {
    cid: Cid,
    pid: Option<Pid>,
    state: Arc<Extensions>,
    pub(crate) outgoing: Outgoing,
    /// Flash changes, applied to the view's flash: `(kind, Some(message))`
    /// puts, `(kind, None)` clears.
    pub(crate) flash: Vec<(String, Option<String>)>,
    /// How many streams the component has made, kept across callbacks.
    streams: Arc<AtomicU32>,
}

impl ComponentSocket {
    fn detached(cid: Cid) -> Self {
        ComponentSocket {
            cid,
            pid: None,
            state: Arc::new(Extensions::new()),
            outgoing: Outgoing::default(),
            flash: Vec::new(),
            streams: Arc::default(),
        }
    }

    /// A new [`Stream`](super::Stream) of this component, whose items have
    /// the DOM id `dom_id(item)`. Make it in [`mount`](LiveComponent::mount)
    /// and keep it in the component's struct.
    pub fn stream<T>(
        &mut self,
        dom_id: impl Fn(&T) -> String + Send + Sync + 'static,
    ) -> super::Stream<T> {
        let n = self.streams.fetch_add(1, Ordering::Relaxed);
        super::Stream::with_reference(format!("{}-{n}", self.cid.0), dom_id)
    }

    /// This component's id in the page, for `phx-target`.
    pub fn myself(&self) -> Cid {
        self.cid
    }

    /// Whether the view runs over the WebSocket (false during the dead render).
    pub fn connected(&self) -> bool {
        self.pid.is_some()
    }

    /// The view's process, once connected.
    pub fn pid(&self) -> Option<&Pid> {
        self.pid.as_ref()
    }

    /// A value given to [`LiveRouter::state`](super::LiveRouter::state), by its type.
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.state.get::<T>()
    }

    /// Sends an event to the page's hooks and `phx:` window listeners.
    pub fn push_event(&mut self, name: &str, payload: impl serde::Serialize) {
        self.outgoing.push_event(name, payload);
    }

    /// Shows `message` as the view's flash of `kind`.
    pub fn put_flash(&mut self, kind: impl Into<String>, message: impl Into<String>) {
        self.flash.push((kind.into(), Some(message.into())));
    }

    /// Removes the view's flash of `kind`.
    pub fn clear_flash(&mut self, kind: impl Into<String>) {
        self.flash.push((kind.into(), None));
    }

    /// Replies to the hook whose `pushEventTo` this component handles.
    pub fn reply(&mut self, reply: impl serde::Serialize) {
        self.outgoing.reply = serde_json::to_value(reply).ok();
    }

    /// Changes the URL within the view, as [`Socket::push_patch`](super::Socket::push_patch).
    pub fn push_patch(&mut self, to: impl Into<String>) {
        self.outgoing.patch = Some(super::Patch {
            to: to.into(),
            replace: false,
        });
    }

    /// Goes to another live view, as [`Socket::push_navigate`](super::Socket::push_navigate).
    pub fn push_navigate(&mut self, to: impl Into<String>) {
        self.outgoing.leave = Some(super::Leave::Navigate(to.into()));
    }

    /// Loads another page, as [`Socket::redirect`](super::Socket::redirect).
    pub fn redirect(&mut self, to: impl Into<String>) {
        self.outgoing.leave = Some(super::Leave::Redirect(to.into()));
    }

    /// Sends `update` to the component of type `C` with `id` in the same
    /// view, after this callback.
    pub fn send_update<C: LiveComponent>(&mut self, id: impl Into<String>, update: C::Update) {
        self.outgoing
            .updates
            .push(ComponentUpdate::new::<C>(id, update));
    }
}

/// An update for one component, by type and id; made by `send_update`.
pub(crate) struct ComponentUpdate {
    kind: TypeId,
    type_name: &'static str,
    id: String,
    /// In a mutex only so that a socket holding updates is `Sync`, as
    /// handlers that keep `&socket` across an await need.
    update: Mutex<Box<dyn Any + Send>>,
}

impl ComponentUpdate {
    pub(crate) fn new<C: LiveComponent>(id: impl Into<String>, update: C::Update) -> Self {
        ComponentUpdate {
            kind: TypeId::of::<C>(),
            type_name: std::any::type_name::<C>(),
            id: id.into(),
            update: Mutex::new(Box::new(update)),
        }
    }
}

/// The props of one component type, behind a type-erased face.
struct Props<C: LiveComponent>(C::Props);

trait ErasedProps: Send {
    fn as_any(&self) -> &dyn Any;
    fn same_as(&self, other: &dyn ErasedProps) -> bool;
    fn mount(&self, socket: &mut ComponentSocket) -> Box<dyn ErasedComponent>;
}

impl<C: LiveComponent> ErasedProps for Props<C> {
    fn as_any(&self) -> &dyn Any {
        &self.0
    }

    fn same_as(&self, other: &dyn ErasedProps) -> bool {
        other
            .as_any()
            .downcast_ref::<C::Props>()
            .is_some_and(|other| *other == self.0)
    }

    fn mount(&self, socket: &mut ComponentSocket) -> Box<dyn ErasedComponent> {
        Box::new(Instance::<C>(C::mount(&self.0, socket)))
    }
}

type BoxFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

struct Instance<C: LiveComponent>(C);

/// A component's state behind a type-erased face.
trait ErasedComponent: Send {
    fn update(&mut self, props: &dyn Any, socket: &mut ComponentSocket);
    fn handle_update(&mut self, update: Box<dyn Any + Send>, socket: &mut ComponentSocket);
    fn handle_event<'a>(
        &'a mut self,
        event: Event,
        socket: &'a mut ComponentSocket,
    ) -> BoxFuture<'a>;
    fn render(&self, props: &dyn Any, myself: Cid) -> Rendered;
}

impl<C: LiveComponent> ErasedComponent for Instance<C> {
    fn update(&mut self, props: &dyn Any, socket: &mut ComponentSocket) {
        if let Some(props) = props.downcast_ref::<C::Props>() {
            self.0.update(props, socket);
        }
    }

    fn handle_update(&mut self, update: Box<dyn Any + Send>, socket: &mut ComponentSocket) {
        if let Ok(update) = update.downcast::<C::Update>() {
            self.0.handle_update(*update, socket);
        }
    }

    fn handle_event<'a>(
        &'a mut self,
        event: Event,
        socket: &'a mut ComponentSocket,
    ) -> BoxFuture<'a> {
        Box::pin(self.0.handle_event(event, socket))
    }

    fn render(&self, props: &dyn Any, myself: Cid) -> Rendered {
        let props = props
            .downcast_ref::<C::Props>()
            .expect("a component's props are stored with its type");
        self.0.render(props, myself)
    }
}

/// Runs `f`, turning a panic into its message.
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| panic_message(&*payload))
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-text payload".to_string())
}

/// What a crashed component shows in its place: one element, as every
/// component's markup must be, with a button that mounts it again.
fn crashed_markup(myself: Cid, message: &str) -> Rendered {
    html! {
        <div class="cinder-crashed" role="alert" data-crash={message}>
            <p>This part of the page crashed.</p>
            <button phx-click="lv:remount" phx-target={myself}>Retry</button>
        </div>
    }
}

/// The built-in event of a crashed component's "Retry" button.
pub(crate) const REMOUNT_EVENT: &str = "lv:remount";

/// One component of a view.
struct Slot {
    kind: TypeId,
    type_name: &'static str,
    id: String,
    props: Box<dyn ErasedProps>,
    /// `None` after a crash, until the component mounts again.
    instance: Option<Box<dyn ErasedComponent>>,
    crash: Option<String>,
    /// The tree the client holds; `None` before the first send, and after
    /// the client removed the component's element and it came back.
    sent: Option<Rendered>,
    /// The tree rendered since the last send.
    fresh: Option<Rendered>,
    /// The client removed the element (`cids_will_destroy`).
    marked: bool,
    streams: Arc<AtomicU32>,
}

/// The stateful components of one view: their states, cids, and the trees
/// the client holds.
pub(crate) struct Components {
    next_cid: u32,
    cids: HashMap<(TypeId, String), Cid>,
    slots: BTreeMap<Cid, Slot>,
    /// Cids rendered since the last send, in the order they were rendered.
    dirty: Vec<Cid>,
    pid: Option<Pid>,
    state: Arc<Extensions>,
}

/// What components' callbacks asked of the view, gathered for it to apply.
#[derive(Default)]
pub(crate) struct Requests {
    pub(crate) outgoing: Vec<Outgoing>,
    pub(crate) flash: Vec<(String, Option<String>)>,
}

/// How deep components may nest in one another before the view takes the
/// tree to be recursive.
const MAX_DEPTH: usize = 64;

impl Components {
    pub(crate) fn new(pid: Option<Pid>, state: Arc<Extensions>) -> Self {
        Components {
            next_cid: 1,
            cids: HashMap::new(),
            slots: BTreeMap::new(),
            dirty: Vec::new(),
            pid,
            state,
        }
    }

    fn socket(&self, cid: Cid) -> ComponentSocket {
        let streams = self
            .slots
            .get(&cid)
            .map_or_else(Default::default, |slot| slot.streams.clone());
        ComponentSocket {
            cid,
            pid: self.pid.clone(),
            state: self.state.clone(),
            outgoing: Outgoing::default(),
            flash: Vec::new(),
            streams,
        }
    }

    /// Gives every component placed in `tree` its cid, mounting new ones and
    /// updating those whose props changed, then renders each of them (and
    /// the components their markup places).
    pub(crate) fn resolve(&mut self, tree: &mut Rendered, requests: &mut Requests) {
        let mut queue = VecDeque::new();
        self.resolve_placements(tree, &mut queue, &mut HashSet::new(), requests);
        self.render_queue(queue, requests);
    }

    fn resolve_placements(
        &mut self,
        tree: &mut Rendered,
        queue: &mut VecDeque<(Cid, usize)>,
        seen: &mut HashSet<Cid>,
        requests: &mut Requests,
    ) {
        if !tree.has_live_components() {
            return;
        }
        tree.resolve_components(&mut |placement| {
            let cid = self.place(placement, requests);
            if seen.insert(cid) {
                if let Some(cid) = cid_to_render(cid, self) {
                    queue.push_back((cid, 0));
                }
            } else {
                tracing::error!(
                    component = placement.0.type_name,
                    id = %placement.0.id,
                    "two components of the same type have the same id in one render; give each a unique id"
                );
            }
            Dynamic::Component(cid)
        });
    }

    /// The cid of a placement, mounting or updating its component.
    fn place(&mut self, placement: &LiveComponentRef, requests: &mut Requests) -> Cid {
        let key = (placement.0.kind, placement.0.id.clone());
        let props = placement.take_props();
        if let Some(&cid) = self.cids.get(&key) {
            if let Some(props) = props {
                self.update(cid, props, requests);
            }
            if let Some(slot) = self.slots.get_mut(&cid) {
                if slot.marked {
                    // The client dropped the element and must get it whole.
                    slot.marked = false;
                    slot.sent = None;
                    self.mark_dirty(cid);
                }
            }
            return cid;
        }
        let cid = Cid(self.next_cid);
        self.next_cid += 1;
        let Some(props) = props else {
            tracing::error!(
                component = placement.0.type_name,
                "a component placement was rendered twice; call live_component in render"
            );
            return cid;
        };
        let mut socket = self.socket(cid);
        let socket_streams = socket.streams.clone();
        let mounted = catch(|| props.mount(&mut socket));
        let (instance, crash) = match mounted {
            Ok(instance) => (Some(instance), None),
            Err(message) => (
                None,
                Some(log_crash(placement.0.type_name, "mount", &message)),
            ),
        };
        requests.take(socket);
        self.cids.insert(key.clone(), cid);
        self.slots.insert(
            cid,
            Slot {
                kind: key.0,
                type_name: placement.0.type_name,
                id: key.1,
                props,
                instance,
                crash,
                sent: None,
                fresh: None,
                marked: false,
                streams: socket_streams,
            },
        );
        self.mark_dirty(cid);
        cid
    }

    fn update(&mut self, cid: Cid, props: Box<dyn ErasedProps>, requests: &mut Requests) {
        let mut socket = self.socket(cid);
        let Some(slot) = self.slots.get_mut(&cid) else {
            return;
        };
        if slot.props.same_as(&*props) && slot.crash.is_none() {
            return;
        }
        slot.props = props;
        match slot.instance.as_mut() {
            Some(instance) => {
                let props = slot.props.as_any();
                if let Err(message) = catch(|| instance.update(props, &mut socket)) {
                    slot.crash = Some(log_crash(slot.type_name, "update", &message));
                    slot.instance = None;
                }
            }
            None => remount(slot, &mut socket),
        }
        requests.take(socket);
        self.mark_dirty(cid);
    }

    fn mark_dirty(&mut self, cid: Cid) {
        if let Some(slot) = self.slots.get_mut(&cid) {
            slot.fresh = None;
        }
        if !self.dirty.contains(&cid) {
            self.dirty.push(cid);
        }
    }

    /// Renders the components waiting in `queue`, and those their markup
    /// places, breadth first.
    fn render_queue(&mut self, mut queue: VecDeque<(Cid, usize)>, requests: &mut Requests) {
        let mut seen = HashSet::new();
        while let Some((cid, depth)) = queue.pop_front() {
            if depth > MAX_DEPTH {
                tracing::error!(
                    "components nest more than {MAX_DEPTH} deep; is a component placing itself?"
                );
                continue;
            }
            let Some(mut tree) = self.render_one(cid) else {
                continue;
            };
            let mut nested = VecDeque::new();
            self.resolve_placements(&mut tree, &mut nested, &mut seen, requests);
            queue.extend(nested.into_iter().map(|(cid, _)| (cid, depth + 1)));
            if let Some(slot) = self.slots.get_mut(&cid) {
                slot.fresh = Some(tree);
            }
        }
    }

    /// Renders one component, or its crash markup.
    fn render_one(&mut self, cid: Cid) -> Option<Rendered> {
        let slot = self.slots.get_mut(&cid)?;
        if let Some(instance) = slot.instance.as_ref() {
            let props = slot.props.as_any();
            match catch(|| instance.render(props, cid)) {
                Ok(tree) if tree.template().is_root() => return Some(tree),
                Ok(_) => {
                    let message = "its markup is not exactly one HTML element; wrap it in one";
                    slot.crash = Some(log_crash(slot.type_name, "render", message));
                }
                Err(message) => {
                    slot.crash = Some(log_crash(slot.type_name, "render", &message));
                }
            }
            slot.instance = None;
        }
        let message = slot.crash.as_deref().unwrap_or("the component crashed");
        Some(crashed_markup(cid, message))
    }

    /// Renders every component marked dirty and not rendered yet.
    pub(crate) fn render_dirty(&mut self, requests: &mut Requests) {
        let queue = self
            .dirty
            .iter()
            .filter(|cid| self.slots.get(cid).is_some_and(|slot| slot.fresh.is_none()))
            .map(|&cid| (cid, 0))
            .collect();
        self.render_queue(queue, requests);
    }

    /// Runs the event on the component `cid`. Returns `false` when there is
    /// no such component (it was removed).
    pub(crate) async fn handle_event(
        &mut self,
        cid: Cid,
        event: Event,
        requests: &mut Requests,
    ) -> bool {
        let mut socket = self.socket(cid);
        let Some(slot) = self.slots.get_mut(&cid) else {
            return false;
        };
        if event.name() == REMOUNT_EVENT {
            if slot.instance.is_none() {
                remount(slot, &mut socket);
            }
        } else if let Some(instance) = slot.instance.as_mut() {
            let handled = futures_catch(instance.handle_event(event, &mut socket)).await;
            if let Err(message) = handled {
                slot.crash = Some(log_crash(slot.type_name, "handle_event", &message));
                slot.instance = None;
            }
        }
        requests.take(socket);
        self.mark_dirty(cid);
        true
    }

    /// Delivers `send_update`s; unknown targets are logged.
    pub(crate) fn deliver(&mut self, updates: Vec<ComponentUpdate>, requests: &mut Requests) {
        for update in updates {
            let Some(&cid) = self.cids.get(&(update.kind, update.id.clone())) else {
                tracing::warn!(
                    component = update.type_name,
                    id = %update.id,
                    "send_update to a component that is not on the page"
                );
                continue;
            };
            let mut socket = self.socket(cid);
            let Some(slot) = self.slots.get_mut(&cid) else {
                continue;
            };
            if let Some(instance) = slot.instance.as_mut() {
                let payload = update
                    .update
                    .into_inner()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if let Err(message) = catch(|| instance.handle_update(payload, &mut socket)) {
                    slot.crash = Some(log_crash(slot.type_name, "handle_update", &message));
                    slot.instance = None;
                }
            }
            requests.take(socket);
            self.mark_dirty(cid);
        }
    }

    /// The `"c"` map of the next diff (`None` if no component changed), and
    /// from then on the trees the client holds.
    pub(crate) fn take_changes(&mut self) -> Option<String> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut entries = Vec::new();
        for &cid in &dirty {
            let Some(slot) = self.slots.get(&cid) else {
                continue;
            };
            let Some(fresh) = slot.fresh.as_ref() else {
                continue;
            };
            let json = match slot.sent.as_ref() {
                Some(sent) => diff::diff_component(sent, fresh),
                None => Some(self.new_component_json(cid, fresh, &dirty)),
            };
            if let Some(json) = json {
                entries.push((cid, json));
            }
        }
        for cid in dirty {
            if let Some(slot) = self.slots.get_mut(&cid) {
                if let Some(fresh) = slot.fresh.take() {
                    slot.sent = Some(fresh);
                }
            }
        }
        if entries.is_empty() {
            return None;
        }
        let mut json = String::from("{");
        for (i, (cid, tree)) in entries.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&format!("\"{}\":{tree}", cid.0));
        }
        json.push('}');
        Some(json)
    }

    /// A component the client does not hold: its tree over that of another
    /// component with the same template when there is one (`"s": -cid` for
    /// one the client holds, `"s": cid` for one earlier in the same diff),
    /// otherwise whole.
    fn new_component_json(&self, cid: Cid, fresh: &Rendered, dirty: &[Cid]) -> String {
        let template = fresh.template();
        let held = self.slots.iter().find(|(other, slot)| {
            **other != cid
                && !slot.marked
                && slot
                    .sent
                    .as_ref()
                    .is_some_and(|sent| sent.template().same_as(template))
        });
        if let Some((other, slot)) = held {
            let base = slot.sent.as_ref().expect("found by its sent tree");
            return with_static_ref(diff::diff_component(base, fresh), -i64::from(other.0));
        }
        let earlier = dirty
            .iter()
            .take_while(|other| **other != cid)
            .find(|other| {
                self.slots.get(other).is_some_and(|slot| {
                    slot.sent.is_none()
                        && slot
                            .fresh
                            .as_ref()
                            .is_some_and(|tree| tree.template().same_as(template))
                })
            });
        if let Some(other) = earlier {
            let base = self.slots[other]
                .fresh
                .as_ref()
                .expect("found by its fresh tree");
            return with_static_ref(diff::diff_component(base, fresh), i64::from(other.0));
        }
        diff::render_component(fresh)
    }

    /// The HTML of `tree`, with the markup of the components it places (the
    /// dead render).
    pub(crate) fn html(&self, tree: &Rendered) -> String {
        let mut out = String::new();
        self.write_html(tree, &mut out, 0);
        out
    }

    fn write_html(&self, tree: &Rendered, out: &mut String, depth: usize) {
        tree.write_html_with(out, &mut |cid, out| {
            let slot = self.slots.get(&cid);
            if let Some(component) = slot.and_then(|slot| slot.fresh.as_ref()) {
                if depth < MAX_DEPTH {
                    self.write_html(component, out, depth + 1);
                }
            }
        });
    }

    /// The client is about to replace its whole tree (the root template
    /// changed), which drops every component it holds: send them all again,
    /// whole.
    pub(crate) fn resend_all(&mut self) {
        let cids: Vec<Cid> = self
            .slots
            .iter_mut()
            .filter(|(_, slot)| !slot.marked)
            .map(|(cid, slot)| {
                slot.sent = None;
                *cid
            })
            .collect();
        for cid in cids {
            if !self.dirty.contains(&cid) {
                self.dirty.push(cid);
            }
        }
    }

    /// `cids_will_destroy`: the client removed these components' elements.
    pub(crate) fn mark_removed(&mut self, cids: &[Cid]) {
        for cid in cids {
            if let Some(slot) = self.slots.get_mut(cid) {
                slot.marked = true;
            }
        }
    }

    /// `cids_destroyed`: frees the components still removed; returns them.
    pub(crate) fn destroy(&mut self, cids: &[Cid]) -> Vec<Cid> {
        let mut destroyed = Vec::new();
        for cid in cids {
            if self.slots.get(cid).is_some_and(|slot| slot.marked) {
                let slot = self.slots.remove(cid).expect("checked above");
                self.cids.remove(&(slot.kind, slot.id));
                self.dirty.retain(|other| other != cid);
                destroyed.push(*cid);
            }
        }
        destroyed
    }
}

fn cid_to_render(cid: Cid, components: &Components) -> Option<Cid> {
    components
        .slots
        .get(&cid)
        .filter(|slot| slot.fresh.is_none() && components.dirty.contains(&cid))
        .map(|_| cid)
}

fn remount(slot: &mut Slot, socket: &mut ComponentSocket) {
    match catch(|| slot.props.mount(socket)) {
        Ok(instance) => {
            slot.instance = Some(instance);
            slot.crash = None;
        }
        Err(message) => slot.crash = Some(log_crash(slot.type_name, "mount", &message)),
    }
}

fn log_crash(component: &str, callback: &str, message: &str) -> String {
    tracing::error!(
        component,
        callback,
        message,
        "a component crashed; it shows an error until it mounts again"
    );
    message.to_string()
}

/// Splices `"s": reference` into a component's JSON object.
fn with_static_ref(json: Option<String>, reference: i64) -> String {
    let mut json = json.unwrap_or_else(|| "{}".to_string());
    json.pop();
    if json.len() > 1 {
        json.push(',');
    }
    json.push_str(&format!("\"s\":{reference}}}"));
    json
}

/// Awaits `future`, turning a panic into its message.
async fn futures_catch(future: BoxFuture<'_>) -> Result<(), String> {
    super::async_work::CatchUnwind(future).await
}

impl Requests {
    fn take(&mut self, socket: ComponentSocket) {
        self.outgoing.push(socket.outgoing);
        self.flash.extend(socket.flash);
    }
}

/// The cids of a `cids_will_destroy` or `cids_destroyed` payload.
pub(crate) fn cids_of(payload: &Value) -> Vec<Cid> {
    payload
        .get("cids")
        .and_then(Value::as_array)
        .map(|cids| {
            cids.iter()
                .filter_map(Value::as_u64)
                .filter_map(|cid| u32::try_from(cid).ok())
                .map(Cid)
                .collect()
        })
        .unwrap_or_default()
}
