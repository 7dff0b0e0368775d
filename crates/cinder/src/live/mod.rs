//! Live views: the [`LiveView`] trait a page implements, the [`Socket`] it
//! is handed, and [`LiveRouter`], which serves views on an `axum::Router`.
//!
//! A live view is rendered twice, as in Phoenix: once for the HTTP request
//! (the dead render, `socket.connected()` is false) and once more when the
//! browser's client joins over the WebSocket. From then on the view is a
//! process that owns its struct: each event runs
//! [`handle_event`](LiveView::handle_event), the view renders again, and only
//! the difference goes back to the browser. A panic in a handler ends that
//! view's process only; the client rejoins and the view mounts again.
//!
//! ```
//! use cinder::live::{Event, LiveView, MountError, Params, Session, Socket};
//! use cinder::{html, Rendered};
//!
//! struct Counter {
//!     count: i64,
//! }
//!
//! impl LiveView for Counter {
//!     type Info = ();
//!
//!     async fn mount(_params: &Params, _session: &Session, _socket: &mut Socket<Self>) -> Result<Self, MountError> {
//!         Ok(Counter { count: 0 })
//!     }
//!
//!     async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Self>) {
//!         match event.name() {
//!             "inc" => self.count += 1,
//!             "dec" => self.count -= 1,
//!             _ => {}
//!         }
//!     }
//!
//!     fn render(&self) -> Rendered {
//!         html! {
//!             <div>
//!                 <button phx-click="dec">-</button>
//!                 <span id="count">{self.count}</span>
//!                 <button phx-click="inc">+</button>
//!             </div>
//!         }
//!     }
//! }
//! ```

mod assets;
mod async_work;
mod channel;
pub(crate) mod component;
pub(crate) mod event;
mod flash;
mod form;
mod nested;
mod page;
mod router;
mod stream;
mod upload;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::Extensions;

use cinder_runtime::timer::TimerRef;
use cinder_runtime::{ExitReason, Pid, Recipient};
use serde_json::Value;

use crate::Rendered;

pub use async_work::{AsyncError, AsyncValue};
pub use component::{live_component, ComponentSocket, LiveComponent, LiveComponentRef};
pub use event::Event;
pub use flash::{default_layout, Flash, Layout};
pub use form::decode_form;
pub use nested::{live_render, LiveChildRef};
pub use page::{default_root_layout, RootLayout, RootPage};
pub use router::{CheckOrigin, Config, ConfigError, LiveRouter, OnMount};
pub use stream::{Insert, Stream};
pub use upload::{FileInput, ImgPreview, Upload, UploadEntry, UploadError, UploadOptions};

/// The version of the official client this server speaks to.
pub const LIVEVIEW_VERSION: &str = "1.2.12";

/// A page that stays live: its state is the implementing struct.
///
/// Write the callbacks with `async fn`; each must return a `Send` future.
pub trait LiveView: Sized + Send + 'static {
    /// Messages the view takes in [`handle_info`](LiveView::handle_info):
    /// PubSub broadcasts, timers, messages from other processes. `()` if none.
    type Info: Send + 'static;

    /// Builds the view's state from the URL's query parameters and the
    /// cookie session. Runs for the dead render and again once connected.
    fn mount(
        params: &Params,
        session: &Session,
        socket: &mut Socket<Self>,
    ) -> impl Future<Output = Result<Self, MountError>> + Send;

    /// Runs after [`mount`](LiveView::mount), and again each time the URL
    /// changes within this view: a `data-phx-link="patch"` link, the
    /// browser's back and forward buttons, or [`Socket::push_patch`]. Keep
    /// state that lives in the URL (sort order, page, filters) here.
    fn handle_params(
        &mut self,
        params: &Params,
        uri: &str,
        socket: &mut Socket<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (params, uri, socket);
        async {}
    }

    /// Handles a client event: a click, a key, a form change or submit, a
    /// hook's push. The default logs the event as unhandled.
    fn handle_event(
        &mut self,
        event: Event,
        socket: &mut Socket<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = socket;
        tracing::warn!(
            view = std::any::type_name::<Self>(),
            event = event.name(),
            "unhandled event: implement LiveView::handle_event"
        );
        async {}
    }

    /// Handles a message sent to the view's process.
    ///
    /// The view renders after it, and sends the client what changed. When
    /// several such messages are already waiting (a burst of broadcasts),
    /// up to 64 of them are handled one after another, in order, before one
    /// render: the client gets their changes in one diff. The run stops at
    /// a client event, and after a handler that navigates, patches or
    /// starts background work, so that these follow it as they would alone.
    fn handle_info(
        &mut self,
        message: Self::Info,
        socket: &mut Socket<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (message, socket);
        async {}
    }

    /// The view's page, from its current state.
    fn render(&self) -> Rendered;

    /// Runs when the view's process stops cleanly (the page was closed or
    /// navigated away). Not after a panic.
    fn terminate(
        &mut self,
        reason: &ExitReason,
        socket: &mut Socket<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, socket);
        async {}
    }
}

/// Why a view refused to mount. The dead render answers with the status;
/// a connected mount answers the join with an error and the client reloads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mount refused ({status}): {message}")]
pub struct MountError {
    /// The HTTP status of the dead render, such as 404 or 403.
    pub status: u16,
    /// Why, for the log and the error page.
    pub message: String,
}

impl MountError {
    /// A refusal with an HTTP status and a message.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        MountError {
            status,
            message: message.into(),
        }
    }
}

/// The query parameters of the page's URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub(crate) fn from_query(query: &str) -> Params {
        Params(serde_urlencoded::from_str(query).unwrap_or_default())
    }
}

/// The cookie session: what the server stored for this browser, signed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Session(pub serde_json::Map<String, Value>);

impl Session {
    /// The value under `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }
}

/// The view's handle on its connection and its process.
pub struct Socket<V: LiveView> {
    pid: Option<Pid>,
    /// What the running callback asked to send. Most callbacks ask nothing,
    /// and between them a view keeps none of it: boxed when first asked,
    /// rather than 168 bytes in every view for its whole life.
    outgoing: Option<Box<Outgoing>>,
    state: Arc<Extensions>,
    flash: Flash,
    next_stream: u32,
    async_requests: async_work::AsyncRequests<V>,
    /// The uploads the view allowed.
    uploads: upload::Uploads,
    _view: std::marker::PhantomData<fn() -> V>,
}

/// What a handler asked to send along with the next diff.
#[derive(Default)]
pub(crate) struct Outgoing {
    /// `push_event`s, in order: `[name, payload]`.
    pub(crate) events: Vec<Value>,
    /// The page title, when set and not yet sent.
    pub(crate) title: Option<String>,
    /// The reply to a hook's `pushEvent`.
    pub(crate) reply: Option<Value>,
    /// A patch to another URL of this view.
    pub(crate) patch: Option<Patch>,
    /// Leaving the view: to another live view, or a full page load.
    pub(crate) leave: Option<Leave>,
    /// `send_update`s to the view's components.
    pub(crate) updates: Vec<component::ComponentUpdate>,
}

impl Outgoing {
    /// Whether a diff carries more than its changes: pushed events, a
    /// title or a hook's reply.
    pub(crate) fn has_extras(&self) -> bool {
        !self.events.is_empty() || self.title.is_some() || self.reply.is_some()
    }

    pub(crate) fn push_event(&mut self, name: &str, payload: impl serde::Serialize) {
        let payload = serde_json::to_value(payload).unwrap_or_else(|error| {
            tracing::error!(name, %error, "push_event payload is not JSON");
            Value::Null
        });
        self.events.push(Value::Array(vec![name.into(), payload]));
    }

    /// Adds what a component asked for: its events after the view's, and
    /// its reply, patch or navigation unless the view asked for its own.
    pub(crate) fn absorb(&mut self, other: Outgoing) {
        self.events.extend(other.events);
        self.updates.extend(other.updates);
        if self.title.is_none() {
            self.title = other.title;
        }
        if self.reply.is_none() {
            self.reply = other.reply;
        }
        if self.patch.is_none() {
            self.patch = other.patch;
        }
        if self.leave.is_none() {
            self.leave = other.leave;
        }
    }
}

/// Where a view goes when it stops: [`Socket::push_navigate`] or [`Socket::redirect`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Leave {
    /// Another live view, mounted on the same socket (`live_redirect`).
    Navigate(String),
    /// A full page load (`redirect`).
    Redirect(String),
}

/// A [`Socket::push_patch`] waiting to be carried out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Patch {
    pub(crate) to: String,
    pub(crate) replace: bool,
}

impl<V: LiveView> Socket<V> {
    pub(crate) fn disconnected(state: Arc<Extensions>) -> Self {
        Socket {
            pid: None,
            outgoing: None,
            state,
            flash: Flash::default(),
            next_stream: 0,
            async_requests: Default::default(),
            uploads: upload::Uploads::default(),
            _view: std::marker::PhantomData,
        }
    }

    pub(crate) fn for_process(pid: Pid, state: Arc<Extensions>) -> Self {
        Socket {
            pid: Some(pid),
            ..Socket::disconnected(state)
        }
    }

    /// The flash messages the page shows now.
    pub fn flash(&self) -> &Flash {
        &self.flash
    }

    /// Shows `message` as the flash of `kind` (`"info"`, `"error"`, …). It
    /// is also carried to the next page by [`push_navigate`](Socket::push_navigate)
    /// and [`redirect`](Socket::redirect).
    pub fn put_flash(&mut self, kind: impl Into<String>, message: impl Into<String>) {
        self.flash.put(kind.into(), message.into());
    }

    /// Removes the flash of `kind`.
    pub fn clear_flash(&mut self, kind: &str) {
        self.flash.remove(kind);
    }

    pub(crate) fn set_flash(&mut self, flash: Flash) {
        self.flash = flash;
    }

    /// A value given to [`LiveRouter::state`], by its type: the
    /// application's PubSub, a database pool, settings.
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.state.get::<T>()
    }

    pub(crate) fn take_outgoing(&mut self) -> Outgoing {
        self.outgoing
            .take()
            .map_or_else(Outgoing::default, |outgoing| *outgoing)
    }

    /// What the callbacks asked to send along with the next diff (events,
    /// a title, a hook's reply), taken; `None` when they asked for none,
    /// as most do, without making an empty [`Outgoing`] to say so.
    pub(crate) fn take_extras(&mut self) -> Option<Box<Outgoing>> {
        self.outgoing
            .take()
            .filter(|outgoing| outgoing.has_extras())
    }

    /// What the running callback asked to send, made when it first asks.
    fn outgoing_mut(&mut self) -> &mut Outgoing {
        self.outgoing.get_or_insert_with(Box::default)
    }

    /// One part of what the running callback asked to send, taken; its
    /// empty value when the callback asked nothing.
    fn take_part<T: Default>(&mut self, part: impl FnOnce(&mut Outgoing) -> &mut T) -> T {
        self.outgoing
            .as_deref_mut()
            .map_or_else(T::default, |outgoing| std::mem::take(part(outgoing)))
    }

    /// The navigation the running callback asked for, taken.
    pub(crate) fn take_leave(&mut self) -> Option<Leave> {
        self.take_part(|outgoing| &mut outgoing.leave)
    }

    /// Whether the callbacks so far asked for what must follow them before
    /// another message is handled: leaving the view, a patch (and its
    /// `handle_params`), or background work to start or cancel.
    pub(crate) fn asked_to_act(&self) -> bool {
        self.outgoing
            .as_deref()
            .is_some_and(|outgoing| outgoing.leave.is_some() || outgoing.patch.is_some())
            || self.asked_for_async_work()
    }

    /// Whether a callback asked for anything not yet taken: a message to
    /// send, a patch, a navigation or an update of a component.
    pub(crate) fn asked_for_anything(&self) -> bool {
        self.outgoing.is_some()
    }

    /// Whether a callback asked for a patch not yet carried out.
    pub(crate) fn asked_for_patch(&self) -> bool {
        self.outgoing
            .as_deref()
            .is_some_and(|outgoing| outgoing.patch.is_some())
    }

    /// Whether a callback asked to start or cancel background work.
    pub(crate) fn asked_for_async_work(&self) -> bool {
        !self.async_requests.is_empty()
    }

    /// The patch the running callback asked for, taken.
    pub(crate) fn take_patch(&mut self) -> Option<Patch> {
        self.take_part(|outgoing| &mut outgoing.patch)
    }

    /// The events pushed so far, taken.
    pub(crate) fn take_events(&mut self) -> Vec<Value> {
        self.take_part(|outgoing| &mut outgoing.events)
    }

    /// The `send_update`s waiting, taken.
    pub(crate) fn take_updates(&mut self) -> Vec<component::ComponentUpdate> {
        self.take_part(|outgoing| &mut outgoing.updates)
    }

    /// Drops a reply, which only a hook's `pushEvent` can receive.
    pub(crate) fn drop_reply(&mut self) {
        self.take_part(|outgoing| &mut outgoing.reply);
    }

    /// Adds what a component asked to send.
    pub(crate) fn absorb(&mut self, outgoing: Outgoing) {
        self.outgoing_mut().absorb(outgoing);
    }

    /// Queues a `send_update` that arrived in the view's mailbox.
    pub(crate) fn queue_update(&mut self, update: component::ComponentUpdate) {
        self.outgoing_mut().updates.push(update);
    }

    /// Sends an event to the page's JS hooks (`this.handleEvent(name, …)`)
    /// and to `phx:`-prefixed window listeners, with the next update.
    pub fn push_event(&mut self, name: &str, payload: impl serde::Serialize) {
        self.outgoing_mut().push_event(name, payload);
    }

    /// A new [`Stream`] of this view, whose items have the DOM id
    /// `dom_id(item)`. Make it in [`mount`](LiveView::mount) and keep it in
    /// the view's struct.
    pub fn stream<T>(
        &mut self,
        dom_id: impl Fn(&T) -> String + Send + Sync + 'static,
    ) -> Stream<T> {
        let reference = self.next_stream.to_string();
        self.next_stream += 1;
        Stream::with_reference(reference, dom_id)
    }

    /// Sends `update` to the [`LiveComponent`] of type `C` with `id` on this
    /// view's page, after the running callback; it arrives in
    /// [`handle_update`](LiveComponent::handle_update).
    pub fn send_update<C: LiveComponent>(&mut self, id: impl Into<String>, update: C::Update) {
        self.queue_update(component::ComponentUpdate::new::<C>(id, update));
    }

    /// A [`Recipient`] through which any process sends updates to the
    /// component of type `C` with `id` on this view's page; `None` before
    /// the view is connected.
    pub fn update_recipient<C: LiveComponent>(
        &self,
        id: impl Into<String>,
    ) -> Option<Recipient<C::Update>> {
        let pid = self.pid.as_ref()?;
        let id = id.into();
        Recipient::mapped(pid, move |update: C::Update| {
            channel::ViewMessage::<V>::Update(component::ComponentUpdate::new::<C>(
                id.clone(),
                update,
            ))
        })
        .ok()
    }

    /// Sets the page's `<title>`, in the dead render and, once connected,
    /// with the next update.
    pub fn set_title(&mut self, title: impl Into<String>) {
        self.outgoing_mut().title = Some(title.into());
    }

    /// Changes the URL to `to` (a path with its query, such as
    /// `/table?page=2`) without leaving the view: the browser's history gets
    /// a new entry and [`handle_params`](LiveView::handle_params) runs with
    /// the new parameters. `to` must be a URL of this same view.
    pub fn push_patch(&mut self, to: impl Into<String>) {
        self.outgoing_mut().patch = Some(Patch {
            to: to.into(),
            replace: false,
        });
    }

    /// Like [`push_patch`](Socket::push_patch), replacing the current history
    /// entry instead of adding one.
    pub fn replace_patch(&mut self, to: impl Into<String>) {
        self.outgoing_mut().patch = Some(Patch {
            to: to.into(),
            replace: true,
        });
    }

    /// Goes to another live view of the same live session without a page
    /// load: this view stops, and the client mounts the view at `to` on the
    /// same connection. Outside the live session the client loads the page.
    pub fn push_navigate(&mut self, to: impl Into<String>) {
        self.outgoing_mut().leave = Some(Leave::Navigate(to.into()));
    }

    /// Loads the page at `to` in the browser (any URL); this view stops.
    pub fn redirect(&mut self, to: impl Into<String>) {
        self.outgoing_mut().leave = Some(Leave::Redirect(to.into()));
    }

    /// Replies to the hook whose `pushEvent` is being handled: its callback
    /// receives `reply`. Outside a hook event the reply is dropped.
    pub fn reply(&mut self, reply: impl serde::Serialize) {
        self.outgoing_mut().reply = serde_json::to_value(reply).ok();
    }

    /// Whether the view runs over the WebSocket (false during the dead render).
    pub fn connected(&self) -> bool {
        self.pid.is_some()
    }

    /// The view's process, once connected.
    pub fn pid(&self) -> Option<&Pid> {
        self.pid.as_ref()
    }

    /// A [`Recipient`] that delivers `T` to [`handle_info`](LiveView::handle_info),
    /// for PubSub subscriptions; `None` before the view is connected.
    pub fn recipient<T>(&self) -> Option<Recipient<T>>
    where
        T: Into<V::Info> + Send + 'static,
    {
        let pid = self.pid.as_ref()?;
        Recipient::mapped(pid, |message: T| {
            channel::ViewMessage::<V>::Info(message.into())
        })
        .ok()
    }

    /// Sends `message` to [`handle_info`](LiveView::handle_info) after
    /// `delay`; `None` before the view is connected.
    pub fn send_after(&self, message: V::Info, delay: Duration) -> Option<TimerRef> {
        let pid = self.pid.as_ref()?;
        cinder_runtime::timer::send_after(pid, channel::ViewMessage::<V>::Info(message), delay).ok()
    }

    /// Allows uploads of files under `name` (the file input's name), with
    /// the rules of `options`. Keep the returned [`Upload`] in the view's
    /// struct: render its [`FileInput`] and its entries, and consume its
    /// files on submit (see the [`upload`](Upload) docs). Allowing a name
    /// again replaces the earlier upload and cancels its files.
    pub fn allow_upload(&mut self, name: &str, options: UploadOptions) -> Upload {
        let view = self.pid.as_ref().and_then(|pid| {
            let recipient = Recipient::mapped(pid, channel::ViewMessage::<V>::Upload).ok()?;
            Some((pid, recipient))
        });
        self.uploads.allow(name, options, view)
    }

    /// Sends a clone of `message` to [`handle_info`](LiveView::handle_info)
    /// every `period`; `None` before the view is connected.
    pub fn send_interval(&self, message: V::Info, period: Duration) -> Option<TimerRef>
    where
        V::Info: Clone + Sync,
    {
        let pid = self.pid.as_ref()?;
        cinder_runtime::timer::send_interval_with(pid, period, move || {
            channel::ViewMessage::<V>::Info(message.clone())
        })
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Plain;

    impl LiveView for Plain {
        type Info = ();

        async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> {
            Ok(Plain)
        }

        fn render(&self) -> Rendered {
            crate::html! { <p>"plain"</p> }
        }
    }

    #[test]
    fn what_few_views_use_takes_no_room_until_used() {
        // Every connected view keeps these for its whole life. What a
        // callback asks to send, background work, uploads and components
        // are boxed when first used: inline, they took 168, 56 + 56, 48 and
        // 128 bytes.
        let socket = std::mem::size_of::<Socket<Plain>>();
        assert!(socket <= 96, "{socket}");
        let components = std::mem::size_of::<component::Components>();
        assert!(components <= 32, "{components}");
        let tasks = std::mem::size_of::<async_work::AsyncTasks<Plain>>();
        assert!(tasks <= 16, "{tasks}");
        assert!(std::mem::size_of::<nested::Children>() <= 8);
    }

    #[test]
    fn a_socket_takes_what_callbacks_send_and_keeps_nothing_after() {
        let mut socket = Socket::<Plain>::disconnected(Arc::new(Extensions::default()));
        assert!(socket.outgoing.is_none());
        assert!(socket.take_leave().is_none() && socket.take_events().is_empty());
        socket.push_event("saved", serde_json::json!({"id": 1}));
        socket.set_title("Saved");
        socket.push_navigate("/next");
        assert!(matches!(socket.take_leave(), Some(Leave::Navigate(to)) if to == "/next"));
        let outgoing = socket.take_outgoing();
        assert_eq!(outgoing.title.as_deref(), Some("Saved"));
        assert_eq!(outgoing.events.len(), 1);
        assert!(socket.outgoing.is_none());
    }

    #[test]
    fn extras_are_only_what_goes_along_with_a_diff() {
        let mut socket = Socket::<Plain>::disconnected(Arc::new(Extensions::default()));
        assert!(!socket.asked_for_patch() && !socket.asked_for_async_work());
        assert!(socket.take_extras().is_none());

        // A patch alone is no extra of the diff; taking the extras clears it
        // with the rest, as the diff is the last thing a callback's requests
        // reach.
        socket.push_patch("/rows?page=2");
        assert!(socket.asked_for_patch());
        assert!(socket.take_extras().is_none());
        assert!(!socket.asked_for_patch() && socket.outgoing.is_none());

        socket.set_title("Rows");
        socket.push_event("saved", serde_json::json!({}));
        let extras = socket.take_extras().expect("a title and an event");
        assert_eq!(extras.title.as_deref(), Some("Rows"));
        assert_eq!(extras.events.len(), 1);
        assert!(socket.take_extras().is_none());
    }
}
