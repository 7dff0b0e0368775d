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
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::Extensions;
use cinder_runtime::Pid;

use super::{Event, Outgoing};
use crate::rendered::{Cid, Dynamic, PlacementCount, Rendered};
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
        _count: PlacementCount::new(),
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
    _count: PlacementCount,
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
                        Dynamic::Nested(Box::new(nested.render_detached()))
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

mod registry;

pub(crate) use registry::{cids_of, Components, Requests};
