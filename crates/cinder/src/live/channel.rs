//! The `lv:` channel: joining starts the view's process, which mounts the
//! view connected, then serves its events and messages until it stops.

use std::borrow::Cow;
use std::sync::Arc;

use axum::http::Extensions;
use cinder_runtime::gen_server::StartError;
use cinder_runtime::process::Spawn;
use cinder_runtime::supervisor::{ChildSpec, DynamicSupervisor};
use cinder_runtime::{Context, ExitReason, Message, Recipient};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::oneshot;

use super::async_work::{AsyncDone, AsyncTasks};
use super::component::{cids_of, ComponentUpdate, Components, Requests};
use super::event::plain_event;
use super::flash::{Flash, Layout};
use super::form::{decode_form, key_path};
use super::nested::{bare_layout, Children};
use super::router::{
    check_on_mount, LiveState, Route, SessionToken, StaticToken, FLASH_MAX_AGE, SESSION_MAX_AGE,
};
use super::upload::{self, UploadService};
use super::{Event, Leave, LiveView, Outgoing, Params, Patch, Session, Socket, LIVEVIEW_VERSION};
use crate::diff::{self, splice_at};
use crate::memo::RenderCache;
use crate::rendered::{Cid, Rendered, Template};
use crate::socket::serializer::{range_in, Inbound, Payload, ReplyStatus, REPLY_END};
use crate::socket::websocket::page_buffer;
use crate::socket::{
    ChannelMessage, ChannelRouter, JoinFuture, JoinRefused, JoinRequest, Joined, Outbox,
};
use crate::token::Signer;

/// What a view's process receives.
pub(crate) enum ViewMessage<V: LiveView> {
    /// A message from the client, through the socket.
    Channel(ChannelMessage),
    /// A message for `handle_info`.
    Info(V::Info),
    /// A `send_update` from another process to one of the view's components.
    Update(ComponentUpdate),
    /// Background work of the view that finished.
    Async(AsyncDone),
    /// A message from an upload channel.
    Upload(upload::ToView),
}

/// What a connection established before any join.
pub(crate) struct Connection {
    /// The cookie session, when the CSRF token matched it; `None` makes
    /// every join answer `stale`, and the client reload the page.
    pub(crate) session: Option<Session>,
}

/// Routes `lv:` topics to the view named in the join's session token.
pub(crate) struct LiveChannels {
    pub(crate) state: Arc<LiveState>,
}

/// The part of the join payload the server reads.
#[derive(Deserialize)]
struct JoinPayload<'a> {
    #[serde(borrow)]
    url: Option<JsonStr<'a>>,
    #[serde(borrow)]
    redirect: Option<JsonStr<'a>>,
    #[serde(borrow)]
    session: JsonStr<'a>,
    #[serde(rename = "static", borrow)]
    static_token: Option<JsonStr<'a>>,
    #[serde(borrow)]
    flash: Option<JsonStr<'a>>,
    /// Read only for `_mounts`, and only when the join may show the dead
    /// render's flash.
    #[serde(borrow)]
    params: Option<&'a RawValue>,
}

/// A JSON string, borrowed from the text it was read from unless it holds
/// escapes (serde's `Cow<str>` is always owned inside an `Option`).
#[derive(Debug, PartialEq)]
struct JsonStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for JsonStr<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a str>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = JsonStr<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<JsonStr<'a>, E> {
                Ok(JsonStr(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<JsonStr<'a>, E> {
                Ok(JsonStr(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E>(self, text: String) -> Result<JsonStr<'a>, E> {
                Ok(JsonStr(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(Visit(std::marker::PhantomData))
    }
}

impl std::ops::Deref for JsonStr<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl JoinPayload<'_> {
    /// How many times the client has joined this view before (`_mounts`),
    /// 0 when it does not say.
    fn earlier_mounts(&self) -> u64 {
        #[derive(Deserialize)]
        struct Mounts {
            #[serde(rename = "_mounts")]
            mounts: Option<Value>,
        }
        // Only an object says: a struct would also be read from an array.
        self.params
            .filter(|params| params.get().starts_with('{'))
            .and_then(|params| serde_json::from_str::<Mounts>(params.get()).ok())
            .and_then(|params| params.mounts?.as_u64())
            .unwrap_or(0)
    }
}

impl ChannelRouter for LiveChannels {
    type Connect = Connection;

    fn join(&self, request: JoinRequest<Connection>) -> JoinFuture<'_> {
        Box::pin(async move {
            if request.topic.starts_with("lvu:") {
                return upload::join(self.state.uploads.clone(), request).await;
            }
            let Some(id) = request.topic.strip_prefix("lv:") else {
                return Err(JoinRefused::reason("unmatched topic"));
            };
            let Some(session) = request.connect.session.clone() else {
                return Err(JoinRefused::reason("stale"));
            };
            let payload: JoinPayload = serde_json::from_str(request.payload.get())
                .map_err(|_| JoinRefused::reason("stale"))?;
            let token = verify_session(&self.state.session_signer, &payload.session, id)?;
            if let Some(kind) = &token.child {
                return self
                    .join_child(request, kind, token.session.unwrap_or_default())
                    .await;
            }
            let rendered = self
                .state
                .routes
                .get(token.view)
                .ok_or_else(|| JoinRefused::reason("stale"))?;
            let flash = self.initial_flash(&payload, id);
            let navigated = payload.redirect.is_some();
            let url = payload
                .redirect
                .or(payload.url)
                .map(|url| url.0)
                .unwrap_or_default();
            let (path, query) = path_and_query(&url);
            let route = if navigated {
                self.navigation_target(rendered, path)?
            } else {
                rendered
            };
            let supervisor = self.state.views().await.map_err(|error| {
                tracing::error!(%error, "the view supervisor could not start");
                JoinRefused::reason("join crashed")
            })?;

            let start = Start {
                session,
                params: Params::from_query(query),
                uri: relative_uri(path, query),
                route: route.path.clone(),
                view: route.view.clone(),
                container_id: id.to_string(),
                main: true,
                live_session: route.live_session.clone(),
                supervisor: supervisor.clone(),
                live: self.state.clone(),
                state: self.state.app_state.clone(),
                layout: self.state.layout,
                flash,
                uploads: self.state.uploads.clone(),
            };
            if let Err(refused) = check_on_mount(route, &start.session, &start.params) {
                tracing::info!(route = %route.path, %refused, "on_mount refused a connected mount");
                return Err(JoinRefused::reason("unauthorized"));
            }
            (route.join)(request, start).await
        })
    }
}

impl LiveChannels {
    /// Joins a child or sticky view: the type its token names, mounted with
    /// the session the token carries and no URL.
    async fn join_child(
        &self,
        request: JoinRequest<Connection>,
        kind: &str,
        session: serde_json::Map<String, Value>,
    ) -> Result<Joined, JoinRefused> {
        let Some(route) = self.state.children.get(kind) else {
            // Signed by a node that has rendered this child; this one has
            // not yet. The client reloads the page.
            tracing::info!(
                child = kind,
                "a child view this node has not rendered yet; the page reloads"
            );
            return Err(JoinRefused::reason("stale"));
        };
        let supervisor = self.state.views().await.map_err(|error| {
            tracing::error!(%error, "the view supervisor could not start");
            JoinRefused::reason("join crashed")
        })?;
        let id = request
            .topic
            .strip_prefix("lv:")
            .unwrap_or_default()
            .to_string();
        let start = Start {
            session: Session(session),
            params: Params::default(),
            uri: String::new(),
            route: route.path.clone(),
            view: route.view.clone(),
            container_id: id,
            main: false,
            live_session: route.live_session.clone(),
            supervisor: supervisor.clone(),
            live: self.state.clone(),
            state: self.state.app_state.clone(),
            layout: bare_layout,
            flash: Flash::default(),
            uploads: self.state.uploads.clone(),
        };
        (route.join)(request, start).await
    }

    /// The flash the joining view starts with: carried by a live redirect,
    /// or the one the dead render showed, on the page's first join only (the
    /// client counts its joins in `_mounts`; a rejoin after a crash or a
    /// reconnect must not show it again).
    fn initial_flash(&self, payload: &JoinPayload, id: &str) -> Flash {
        if let Some(token) = &payload.flash {
            return self
                .state
                .flash_signer
                .verify(token, FLASH_MAX_AGE)
                .unwrap_or_default();
        }
        if payload.earlier_mounts() != 0 {
            return Flash::default();
        }
        payload
            .static_token
            .as_deref()
            .and_then(|token| {
                self.state
                    .static_signer
                    .verify::<StaticToken>(token, SESSION_MAX_AGE)
                    .ok()
            })
            .filter(|token| token.id == id)
            .map(|token| token.flash)
            .unwrap_or_default()
    }

    /// The view a live redirect goes to: one at `path` in the same live
    /// session as the page's view, or `unauthorized` (the client then loads
    /// the page over HTTP).
    fn navigation_target(&self, from: &Route, path: &str) -> Result<&Route, JoinRefused> {
        self.state
            .routes
            .iter()
            .find(|route| &*route.path == path)
            .filter(|route| route.live_session == from.live_session)
            .ok_or_else(|| JoinRefused::reason("unauthorized"))
    }
}

fn verify_session(signer: &Signer, token: &str, id: &str) -> Result<SessionToken, JoinRefused> {
    let token: SessionToken = signer
        .verify(token, SESSION_MAX_AGE)
        .map_err(|_| JoinRefused::reason("stale"))?;
    // A token is only good for the container it was rendered into.
    if token.id != id {
        return Err(JoinRefused::reason("stale"));
    }
    Ok(token)
}

/// What a view's process starts from.
pub(crate) struct Start {
    pub(crate) session: Session,
    pub(crate) params: Params,
    /// The page's path and query, such as `/table?page=2`.
    pub(crate) uri: String,
    /// The route the view is served on; patches must stay on it.
    pub(crate) route: Arc<str>,
    /// The view's type name, its process's id under the views' supervisor.
    pub(crate) view: Arc<str>,
    /// The id of the view's container (its topic is `lv:<id>`).
    pub(crate) container_id: String,
    /// Whether the view is the page's main view (not a child or sticky).
    pub(crate) main: bool,
    /// The live session of the view's route.
    pub(crate) live_session: Arc<str>,
    /// The supervisor the view's process starts under.
    pub(crate) supervisor: DynamicSupervisor,
    /// The router's state, where the supervisor of background work is.
    pub(crate) live: Arc<LiveState>,
    /// The application's state, for [`Socket::state`].
    pub(crate) state: Arc<Extensions>,
    /// What wraps the view's render.
    pub(crate) layout: Layout,
    /// The flash to show from the start.
    pub(crate) flash: Flash,
    /// Signs upload tokens and finds their views.
    pub(crate) uploads: Arc<UploadService>,
}

/// Splits a URL (absolute, as the client sends it, or a bare path) into
/// its path and query.
pub(crate) fn path_and_query(url: &str) -> (&str, &str) {
    let without_origin = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |slash| &rest[slash..]),
        None => url,
    };
    let without_fragment = without_origin.split('#').next().unwrap_or_default();
    without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""))
}

fn relative_uri(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// Starts the process of a view of type `V` and waits for its connected mount.
pub(crate) fn join_view<V: LiveView>(
    request: JoinRequest<Connection>,
    start: Start,
) -> JoinFuture<'static> {
    Box::pin(async move {
        let (ready, mounted) = oneshot::channel();
        let outbox = request.outbox;
        let supervisor = start.supervisor.clone();
        let spec = ChildSpec::once(start.view.clone(), move || async move {
            let parent = cinder_runtime::current().ok_or(StartError::NoCaller)?;
            let mount = Box::new(Mount {
                outbox,
                start,
                ready,
            });
            Ok(Spawn::new()
                .link(&parent)
                .trap_exit(true)
                .spawn(move |ctx: Context<ViewMessage<V>>| run_view::<V>(ctx, mount)))
        });
        let pid = supervisor.start_child(spec).await.map_err(|error| {
            tracing::error!(%error, "a view process could not start");
            JoinRefused::reason("join crashed")
        })?;
        match mounted.await {
            Ok(Ok(response)) => Ok(Joined {
                inbox: Recipient::mapped(&pid, ViewMessage::<V>::Channel)
                    .expect("a view's process receives ViewMessage"),
                response,
            }),
            Ok(Err(refused)) => Err(refused),
            Err(_) => {
                let reason = pid.exited().await;
                tracing::error!(view = std::any::type_name::<V>(), %reason, "mount crashed");
                Err(JoinRefused::reason("join crashed"))
            }
        }
    })
}

/// A view's state inside its process, with the tree the client holds.
struct Running<V: LiveView> {
    view: V,
    socket: Socket<V>,
    components: Components,
    children: Children,
    container_id: String,
    /// For the page's main view, when its live session has sticky views:
    /// the session they mount with, and the live session. Boxed: few
    /// views have them.
    sticky: Option<Box<(Session, Arc<str>)>>,
    async_tasks: AsyncTasks<V>,
    live: Arc<LiveState>,
    outbox: Outbox,
    tree: Rendered,
    /// The lists of the last render, which the next one shares unchanged
    /// entries with (and takes memoized ones from).
    render_cache: RenderCache,
    route: Arc<str>,
    layout: Layout,
}

/// How many queued messages for `handle_info` a view handles before it
/// renders: a view flooded with messages still sends the client a diff for
/// every this many.
const INFOS_PER_RENDER: usize = 64;

/// How many patches a handler may chain (a patch's `handle_params` may patch
/// again) before the view is taken to be looping.
const MAX_PATCHES: usize = 20;

/// What a view's process mounts with, boxed: a process's future keeps its
/// arguments for its whole life, and these are only needed to mount.
struct Mount {
    outbox: Outbox,
    start: Start,
    ready: oneshot::Sender<Result<String, JoinRefused>>,
}

impl Mount {
    /// The mount, out of its box, and the box freed now: moved out with
    /// `*`, a box's memory is freed only when its binding goes out of
    /// scope, which in a view's process is when the view ends.
    fn unbox(self: Box<Self>) -> Mount {
        *self
    }
}

async fn run_view<V: LiveView>(mut ctx: Context<ViewMessage<V>>, mount: Box<Mount>) -> ExitReason {
    // The view traps exits from its start (see `join_view`): the socket
    // closing or its supervisor stopping ends it through `terminate`.
    // Mounting runs in a future of its own, boxed, so that what only the
    // mount needs is freed before the view settles in to serve. The view
    // is bound straight from it: a variable for the mount's result would
    // keep a second view's worth of room in this future.
    let Mount {
        outbox,
        start,
        ready,
    } = mount.unbox();
    let Some(mut running) = Box::pin(mount_view::<V>(&ctx, outbox, start, ready)).await else {
        return ExitReason::Normal;
    };
    let reason = running.serve(&mut ctx).await;
    // A link carries a crash to the tasks, but not a normal exit.
    running.async_tasks.stop_all(&ctx);
    running.view.terminate(&reason, &mut running.socket).await;
    reason
}

/// Mounts the view connected and answers the join; `None` when the view
/// refused, left, or the client is gone.
async fn mount_view<V: LiveView>(
    ctx: &Context<ViewMessage<V>>,
    outbox: Outbox,
    start: Start,
    ready: oneshot::Sender<Result<String, JoinRefused>>,
) -> Option<Running<V>> {
    let has_sticky = start.live.stickies(&start.live_session).next().is_some();
    let sticky = (start.main && has_sticky)
        .then(|| Box::new((start.session.clone(), start.live_session.clone())));
    let mut socket = Socket::for_process(ctx.pid(), start.state.clone());
    socket.set_flash(start.flash.clone());
    socket.uploads.connect(start.uploads.clone());
    let mut view = match V::mount(&start.params, &start.session, &mut socket).await {
        Ok(view) => view,
        Err(error) => {
            tracing::info!(view = std::any::type_name::<V>(), %error, "connected mount refused");
            let _ = ready.send(Err(JoinRefused::reason("stale")));
            return None;
        }
    };
    view.handle_params(&start.params, &start.uri, &mut socket)
        .await;
    let mut running = Running {
        view,
        socket,
        components: Components::new(Some(ctx.pid()), start.state.clone()),
        async_tasks: AsyncTasks::default(),
        children: Children::default(),
        container_id: start.container_id,
        sticky,
        live: start.live,
        outbox,
        tree: Rendered::new(&NOTHING_SENT, Vec::new()),
        render_cache: RenderCache::default(),
        route: start.route,
        layout: start.layout,
    };
    if let Some(leave) = running.socket.take_leave() {
        let _ = ready.send(Err(JoinRefused(running.leave_json(&leave))));
        return None;
    }
    let patched = running.apply_patches().await;
    if running.socket.asked_for_async_work() {
        running.act_on_async(ctx).await;
    }
    let tree = running.render();
    // The render is written in the response's buffer, after its key.
    let response = diff::render_onto(join_response_start(&tree), &tree);
    running.hold_shown(tree);
    let response = running.with_component_changes(response, RENDERED_KEY.len());
    let extras = running.socket.take_outgoing();
    let mut response = with_extras(response, RENDERED_KEY.len(), extras);
    end_join_response(&mut response, patched.as_ref());
    ready.send(Ok(response)).ok()?;
    Some(running)
}

impl<V: LiveView> Running<V> {
    async fn serve(&mut self, ctx: &mut Context<ViewMessage<V>>) -> ExitReason {
        loop {
            match ctx.recv().await {
                Message::User(ViewMessage::Channel(ChannelMessage::Event(inbound))) => {
                    self.tree.prefetch_dynamics();
                    // Boxed: handling an event takes several times the room
                    // of anything else a view waits on, and an idle view's
                    // future would otherwise keep that room between events.
                    if !Box::pin(self.channel_event(inbound)).await {
                        return ExitReason::Normal;
                    }
                }
                Message::User(ViewMessage::Channel(ChannelMessage::Leave { msg_ref })) => {
                    self.outbox.reply(msg_ref.as_deref(), ReplyStatus::Ok, "{}");
                    return ExitReason::Normal;
                }
                Message::User(ViewMessage::Info(message)) => {
                    // A broadcast reaches a view whose memory has gone cold:
                    // what the diff and the frame read first is asked for
                    // now, and arrives while the handler runs; the socket,
                    // reached through the outbox's lock, once that has come.
                    self.tree.prefetch_dynamics();
                    self.outbox.prefetch();
                    self.handle_infos(ctx, message).await;
                    self.outbox.prefetch_socket();
                    if !self.after_info(Render::View).await {
                        return ExitReason::Normal;
                    }
                }
                Message::User(ViewMessage::Update(update)) => {
                    self.socket.queue_update(update);
                    if !self.after_info(Render::Components).await {
                        return ExitReason::Normal;
                    }
                }
                Message::User(ViewMessage::Async(done)) => {
                    if self
                        .async_tasks
                        .finish(done, &mut self.view, &mut self.socket)
                        && !self.after_info(Render::View).await
                    {
                        return ExitReason::Normal;
                    }
                }
                Message::User(ViewMessage::Upload(message)) => {
                    if self.socket.uploads.handle(message, ctx) {
                        self.push_diff();
                    }
                }
                // A linked helper that finished normally is no reason to stop.
                Message::Exit {
                    reason: ExitReason::Normal,
                    ..
                } => {}
                Message::Exit { reason, .. } => return reason,
                Message::Down { pid, .. } => {
                    if self.socket.uploads.channel_down(&pid) {
                        self.push_diff();
                    }
                }
            }
            if self.socket.asked_for_async_work()
                && self.act_on_async(ctx).await
                && !self.after_info(Render::View).await
            {
                return ExitReason::Normal;
            }
        }
    }

    /// Handles `first` and the messages for `handle_info` queued right
    /// behind it, up to [`INFOS_PER_RENDER`] in all, so that one render and
    /// one diff follow them together: a view that falls behind a burst of
    /// broadcasts catches up with one render instead of one per message.
    /// The run stops early at any other message, which keeps its place, and
    /// once a handler asks to leave, patch or start background work, which
    /// must follow it before anything else is handled.
    async fn handle_infos(&mut self, ctx: &mut Context<ViewMessage<V>>, first: V::Info) {
        self.view.handle_info(first, &mut self.socket).await;
        for _ in 1..INFOS_PER_RENDER {
            if self.socket.asked_to_act() {
                return;
            }
            let Some(ViewMessage::Info(next)) =
                ctx.try_recv_if(|message| matches!(message, ViewMessage::Info(_)))
            else {
                return;
            };
            self.view.handle_info(next, &mut self.socket).await;
        }
    }

    /// Handles a message of the client on the view's channel; returns
    /// `false` when the view leaves.
    async fn channel_event(&mut self, inbound: Inbound) -> bool {
        match inbound.event() {
            "event" => return self.event(inbound).await,
            "live_patch" => self.live_patch(inbound).await,
            "cids_will_destroy" => {
                self.components
                    .mark_removed(&cids_of(&inbound.payload_value()));
                self.outbox.reply(inbound.msg_ref(), ReplyStatus::Ok, "{}");
            }
            "cids_destroyed" => {
                let destroyed = self.components.destroy(&cids_of(&inbound.payload_value()));
                let cids: Vec<u32> = destroyed.iter().map(|cid| cid.0).collect();
                let reply = serde_json::json!({ "cids": cids }).to_string();
                self.outbox
                    .reply(inbound.msg_ref(), ReplyStatus::Ok, &reply);
            }
            "allow_upload" | "progress" => {
                let response = self.socket.uploads.client_message(&inbound);
                let diff = self.rerender();
                let response = upload::with_diff(response, diff);
                self.outbox
                    .reply(inbound.msg_ref(), ReplyStatus::Ok, &response);
            }
            _ => {
                tracing::warn!(event = %inbound.event(), "ignoring an unknown message on a view's channel");
                self.outbox.reply(inbound.msg_ref(), ReplyStatus::Ok, "{}");
            }
        }
        true
    }

    /// Starts and cancels the background work the last callback asked for.
    /// Returns whether a cancelled task's callback changed the view.
    ///
    /// Most callbacks ask for none: the caller looks first
    /// (`Socket::asked_for_async_work`), as for patches.
    async fn act_on_async(&mut self, ctx: &Context<ViewMessage<V>>) -> bool {
        // Boxed: starting tasks takes a large future, which would otherwise
        // sit in every view's process for its whole life.
        Box::pin(
            self.async_tasks
                .act(&mut self.view, &mut self.socket, ctx, &self.live),
        )
        .await
    }

    /// Handles an `event`; returns `false` when the view leaves.
    async fn event(&mut self, inbound: Inbound) -> bool {
        let msg_ref = inbound.msg_ref();
        let Some(DecodedEvent {
            event,
            target,
            uploads,
        }) = decode_event(&inbound)
        else {
            tracing::warn!(event = %inbound.event(), "ignoring a malformed event payload");
            self.outbox.reply(msg_ref, ReplyStatus::Ok, "{}");
            return true;
        };
        if let Some(uploads) = uploads {
            self.socket.uploads.register_described(&uploads);
        }
        let from_hook = event.kind() == "hook";
        let mut render = Render::View;
        if let Some(cid) = target {
            // Boxed: a component event is a large future most views never run.
            render = Box::pin(self.component_event(cid, event)).await;
        } else {
            // The view renders next: its tree's lists are asked for a step
            // at a time, around the handler's work.
            self.tree.prefetch_lists();
            self.view_event(event).await;
            self.tree.prefetch_list_chunks();
        }
        if !from_hook {
            // Only a hook's pushEvent has a callback to receive a reply.
            self.socket.drop_reply();
        }
        if let Some(leave) = self.socket.take_leave() {
            self.push_pending_events();
            self.outbox
                .reply(msg_ref, ReplyStatus::Ok, &self.leave_json(&leave));
            return false;
        }
        if self.socket.asked_for_patch() && self.push_patches().await {
            render = Render::View;
        }
        self.reply_with_diff(msg_ref, render);
        true
    }

    /// Runs an event on the view: its own, or a built-in one.
    async fn view_event(&mut self, event: Event) {
        if event.name() == "lv:clear-flash" {
            match event.get("key") {
                Some(kind) => self.socket.clear_flash(kind),
                None => self.socket.set_flash(Flash::default()),
            }
        } else if event.name().starts_with("lv:") {
            tracing::warn!(event = event.name(), "ignoring an unknown built-in event");
        } else {
            self.view.handle_event(event, &mut self.socket).await;
        }
    }

    /// Runs an event on the component `cid`. Returns what must render
    /// again: the component alone, or the view too when the component
    /// changed the view's flash.
    async fn component_event(&mut self, cid: Cid, event: Event) -> Render {
        let mut requests = Requests::default();
        if !self
            .components
            .handle_event(cid, event, &mut requests)
            .await
        {
            tracing::warn!(
                cid = cid.0,
                "ignoring an event for a component that is not on the page"
            );
            return Render::Components;
        }
        if self.apply(requests) {
            Render::View
        } else {
            Render::Components
        }
    }

    /// Applies what components asked of the view; returns whether the
    /// view's flash changed.
    fn apply(&mut self, requests: Requests) -> bool {
        if requests.is_empty() {
            return false;
        }
        for outgoing in requests.outgoing {
            self.socket.absorb(outgoing);
        }
        let flash_changed = !requests.flash.is_empty();
        for (kind, message) in requests.flash {
            match message {
                Some(message) => self.socket.put_flash(kind, message),
                None => self.socket.clear_flash(&kind),
            }
        }
        flash_changed
    }

    /// Pushes what changed, if anything did.
    fn push_diff(&mut self) {
        self.send_rerender(Render::View, DiffFrame::Push);
    }

    /// Events pushed by a handler that then left go out first, on their own.
    fn push_pending_events(&mut self) {
        let events = self.socket.take_events();
        if !events.is_empty() {
            let diff = serde_json::json!({ "e": events }).to_string();
            self.outbox.push("diff", &diff);
        }
    }

    /// After `handle_info` or an update for a component: leave if asked
    /// to, otherwise send what changed. Returns `false` when the view leaves.
    async fn after_info(&mut self, mut render: Render) -> bool {
        if let Some(leave) = self.socket.take_leave() {
            self.push_pending_events();
            let (event, target) = self.leave_target(&leave);
            self.outbox.push(event, &target.to_string());
            return false;
        }
        if self.socket.asked_for_patch() && self.push_patches().await {
            render = Render::View;
        }
        self.send_rerender(render, DiffFrame::Push);
        true
    }

    /// The client followed a patch link or went back or forward: if the URL
    /// is this view's, `handle_params`; otherwise the client must navigate.
    async fn live_patch(&mut self, inbound: Inbound) {
        let msg_ref = inbound.msg_ref();
        let payload = inbound.payload_value();
        let Some(url) = payload.get("url").and_then(Value::as_str) else {
            self.outbox.reply(msg_ref, ReplyStatus::Ok, "{}");
            return;
        };
        let (path, query) = path_and_query(url);
        if path != &*self.route {
            self.outbox
                .reply(msg_ref, ReplyStatus::Ok, r#"{"link_redirect":true}"#);
            return;
        }
        let params = Params::from_query(query);
        self.view
            .handle_params(&params, &relative_uri(path, query), &mut self.socket)
            .await;
        self.push_patches().await;
        self.reply_with_diff(msg_ref, Render::View);
    }

    /// Carries out the patches the last handler asked for, and tells the
    /// client the URL to show. Returns whether there was one.
    ///
    /// Most callbacks ask for no patch: the caller looks first
    /// (`Socket::asked_for_patch`), so that their event or message does
    /// not run through the `handle_params` machinery's code to learn it.
    async fn push_patches(&mut self) -> bool {
        match self.apply_patches().await {
            Some(patch) => {
                self.outbox.push("live_patch", &patch_json(&patch));
                true
            }
            None => false,
        }
    }

    /// Runs `handle_params` for each patch asked for (a patch may lead to
    /// another); returns the last, whose URL the client must show.
    async fn apply_patches(&mut self) -> Option<Patch> {
        let mut last = None;
        for _ in 0..MAX_PATCHES {
            let Some(patch) = self.socket.take_patch() else {
                return last;
            };
            let (path, query) = path_and_query(&patch.to);
            if path != &*self.route {
                tracing::error!(
                    to = %patch.to,
                    route = %self.route,
                    "push_patch to a URL of another view is ignored; use a link or navigation instead"
                );
                return last;
            }
            let params = Params::from_query(query);
            self.view
                .handle_params(&params, &relative_uri(path, query), &mut self.socket)
                .await;
            last = Some(patch);
        }
        tracing::error!(route = %self.route, "more than {MAX_PATCHES} patches in a row; the view seems to loop");
        last
    }

    fn reply_with_diff(&mut self, msg_ref: Option<&str>, render: Render) {
        self.send_rerender(render, DiffFrame::Reply(msg_ref));
    }

    /// Renders again what `render` says and sends what changed: pushed as
    /// a `diff`, or as the reply to a message (`{}` when nothing changed).
    ///
    /// The usual render, of a view without components whose callback asked
    /// for nothing to go along, has nothing to add to its diff: the diff is
    /// written straight into its frame, after the frame's start.
    fn send_rerender(&mut self, render: Render, to: DiffFrame<'_>) {
        let diff = match render {
            Render::View => {
                let tree = self.render();
                if !self.components.any() && !self.socket.asked_for_anything() {
                    return self.send_diff_of(tree, to);
                }
                self.diff_against(tree)
            }
            Render::Components => "{}".to_string(),
        };
        let diff = self.with_changes_and_extras(diff);
        self.send_diff(diff, to);
    }

    /// Sends the diff from the tree the client holds to `tree`, written in
    /// the frame, and keeps `tree` as the one the client holds.
    fn send_diff_of(&mut self, tree: Rendered, to: DiffFrame<'_>) {
        let mut frame = match to {
            DiffFrame::Reply(msg_ref) => self.outbox.start_reply(
                msg_ref,
                ReplyStatus::Ok,
                DIFF_KEY.len() + diff::DIFF_CAPACITY,
            ),
            DiffFrame::Push => self.outbox.start_push("diff", diff::DIFF_CAPACITY),
        };
        let response_at = frame.text().len();
        if let DiffFrame::Reply(_) = to {
            frame.text().push_str(DIFF_KEY);
        }
        let diff_at = frame.text().len();
        let (old, lent) = (&self.tree, self.render_cache.lent_lists());
        frame.append_with(|text| diff::diff_onto(text, old, &tree, lent));
        self.hold_shown(tree);
        let changed = &frame.text()[diff_at..] != "{}";
        let text = frame.text();
        match to {
            DiffFrame::Push if !changed => return,
            DiffFrame::Push => text.push(']'),
            DiffFrame::Reply(_) => {
                if changed {
                    text.push('}');
                } else {
                    text.truncate(response_at);
                    text.push_str("{}");
                }
                text.push_str(REPLY_END);
            }
        }
        self.outbox.send(frame);
    }

    /// Sends `diff`, made apart from its frame (see [`Running::send_rerender`]).
    fn send_diff(&self, diff: Option<String>, to: DiffFrame<'_>) {
        match (to, diff) {
            (DiffFrame::Reply(msg_ref), Some(diff)) => {
                self.outbox
                    .reply_parts(msg_ref, ReplyStatus::Ok, &[DIFF_KEY, &diff, "}"]);
            }
            (DiffFrame::Reply(msg_ref), None) => {
                self.outbox.reply(msg_ref, ReplyStatus::Ok, "{}");
            }
            (DiffFrame::Push, Some(diff)) => {
                self.outbox.push("diff", &diff);
            }
            (DiffFrame::Push, None) => {}
        }
    }

    /// Renders the view in its layout, and the components it places.
    fn render(&mut self) -> Rendered {
        let mut tree = self.render_with_children();
        if !tree.has_live_components() {
            return tree;
        }
        let mut requests = Requests::default();
        self.components.resolve(&mut tree, &mut requests);
        if self.apply(requests) {
            // A component mounting or updating changed the flash, which the
            // layout shows.
            tree = self.render_with_children();
            let mut requests = Requests::default();
            self.components.resolve(&mut tree, &mut requests);
            self.apply(requests);
        }
        tree
    }

    /// Renders the view in its layout, with the containers of its children.
    /// The lists of the tree the client holds are lent to the render, which
    /// changes their entries in place where it can; the diff against that
    /// tree reads them from the render cache.
    fn render_with_children(&mut self) -> Rendered {
        self.render_cache.lend_lists_of(&mut self.tree);
        let mut tree = self
            .render_cache
            .render(|| (self.layout)(self.socket.flash(), self.view.render()));
        self.children
            .resolve(&mut tree, &self.live, &self.container_id);
        if let Some((session, live_session)) = self.sticky.as_deref() {
            tree = self
                .children
                .add_sticky(tree, &self.live, session, live_session);
        }
        tree
    }

    /// Adds the `"c"` map of the components that changed to `diff`, which
    /// begins at `start` in its text: after delivering the `send_update`s
    /// waiting, so they render once.
    fn with_component_changes(&mut self, diff: String, start: usize) -> String {
        for _ in 0..MAX_UPDATE_ROUNDS {
            let updates = self.socket.take_updates();
            if updates.is_empty() {
                break;
            }
            let mut requests = Requests::default();
            self.components.deliver(updates, &mut requests);
            self.apply(requests);
        }
        if !self.components.any() {
            return diff;
        }
        let mut requests = Requests::default();
        self.components.render_dirty(&mut requests);
        self.apply(requests);
        match self.components.take_changes() {
            Some(changes) => splice_at(diff, start, &format!(r#"{{"c":{changes}}}"#)),
            None => diff,
        }
    }

    /// Where a leaving view sends the client, with its flash: the event
    /// name for a push and its payload.
    fn leave_target(&self, leave: &Leave) -> (&'static str, Value) {
        let flash = self.socket.flash();
        let flash = (!flash.is_empty()).then(|| self.live.flash_signer.sign(flash));
        let mut target = match leave {
            Leave::Navigate(to) => serde_json::json!({"to": to, "kind": "push"}),
            Leave::Redirect(to) => serde_json::json!({ "to": to }),
        };
        if let Some(flash) = flash {
            target["flash"] = Value::String(flash);
        }
        match leave {
            Leave::Navigate(_) => ("live_redirect", target),
            Leave::Redirect(_) => ("redirect", target),
        }
    }

    /// The reply (or join error) of a view that leaves.
    fn leave_json(&self, leave: &Leave) -> String {
        let (kind, target) = self.leave_target(leave);
        let mut reply = serde_json::Map::new();
        reply.insert(kind.to_string(), target);
        Value::Object(reply).to_string()
    }

    /// Renders the view again. Returns the diff against what the client
    /// holds, with the handler's events, title and reply, if there is
    /// anything to send.
    fn rerender(&mut self) -> Option<String> {
        let tree = self.render();
        let diff = self.diff_against(tree);
        self.with_changes_and_extras(diff)
    }

    /// The diff from the tree the client holds to `tree`, which the client
    /// holds from then on.
    fn diff_against(&mut self, tree: Rendered) -> String {
        if !self.tree.template().same_as(tree.template()) {
            self.components.resend_all();
        }
        let diff = diff::diff_lent(&self.tree, &tree, self.render_cache.lent_lists());
        self.hold_shown(tree);
        diff.into_string()
    }

    /// Keeps `tree`, once diffed, as the tree the client holds, without
    /// its streams' items, and lets go of the lists the old one lent to its
    /// render.
    #[inline]
    fn hold_shown(&mut self, tree: Rendered) {
        self.tree = tree;
        self.tree.forget_stream_items();
        self.render_cache.end_lending();
    }

    /// `diff` with the changes of components and the callbacks' extras;
    /// `None` when there is nothing to send.
    fn with_changes_and_extras(&mut self, diff: String) -> Option<String> {
        let diff = self.with_component_changes(diff, 0);
        match self.socket.take_extras() {
            Some(extras) => Some(with_extras(diff, 0, *extras)),
            None => (diff != "{}").then_some(diff),
        }
    }
}

/// What a reply's response holds before its diff: `{"diff":`, closed
/// by `}` after it.
const DIFF_KEY: &str = r#"{"diff":"#;

/// The frame a diff goes in.
#[derive(Clone, Copy)]
enum DiffFrame<'a> {
    /// The reply to the client's message of this ref.
    Reply(Option<&'a str>),
    /// A `diff` push of the server's own.
    Push,
}

/// What renders again after a callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Render {
    /// The view, and the components whose props changed or that handled
    /// something.
    View,
    /// Only the components that handled something.
    Components,
}

/// How many rounds of `send_update`s (an update whose handler sends
/// another) run before one render.
const MAX_UPDATE_ROUNDS: usize = 16;

/// The tree a view starts from before its first render is sent.
static NOTHING_SENT: Template = Template::new(&[""], 0, false);

fn patch_json(patch: &Patch) -> String {
    let kind = if patch.replace { "replace" } else { "push" };
    serde_json::json!({"to": patch.to, "kind": kind}).to_string()
}

/// What the join reply's response holds before its render.
const RENDERED_KEY: &str = r#"{"rendered":"#;

/// The room the join reply's response keeps after its render, for what
/// [`end_join_response`] writes there (but a long patch's URL).
const JOIN_RESPONSE_END_ROOM: usize = 64;

/// The room the join reply's response keeps for the reply's frame, which
/// the socket writes around it in the same buffer: its start (refs, topic,
/// status and the WebSocket header) and its end.
const JOIN_REPLY_FRAME_ROOM: usize = 128;

/// The join reply's response up to its render, in one buffer with room for
/// the whole and for the reply's frame around it: the render takes about as
/// many bytes as its HTML, which the tree estimates, and a page's worth is
/// not copied into a second buffer.
fn join_response_start(tree: &Rendered) -> String {
    let mut response = page_buffer(
        RENDERED_KEY.len() + tree.html_size_hint() + JOIN_RESPONSE_END_ROOM + JOIN_REPLY_FRAME_ROOM,
    );
    response.push_str(RENDERED_KEY);
    response
}

/// Ends the join reply's response after its render: the client's version
/// and the patch the view made while it mounted, if it made one.
fn end_join_response(response: &mut String, patched: Option<&Patch>) {
    response.push_str(r#","liveview_version":""#);
    response.push_str(LIVEVIEW_VERSION);
    response.push('"');
    if let Some(patch) = patched {
        response.push_str(r#","live_patch":"#);
        response.push_str(&patch_json(patch));
    }
    response.push('}');
}

/// Adds the extra keys of a diff that begins at `start` in its text: `"e"`
/// (pushed events), `"t"` (the title) and `"r"` (a hook's reply).
fn with_extras(mut diff: String, start: usize, extras: Outgoing) -> String {
    if !extras.has_extras() {
        return diff;
    }
    let mut keys = serde_json::Map::new();
    if !extras.events.is_empty() {
        keys.insert("e".into(), Value::Array(extras.events));
    }
    if let Some(title) = extras.title {
        keys.insert("t".into(), Value::String(title));
    }
    if let Some(reply) = extras.reply {
        keys.insert("r".into(), reply);
    }
    if keys.contains_key("r") {
        without_root_flag(&mut diff, start);
    }
    splice_at(diff, start, &Value::Object(keys).to_string())
}

/// At the top of a diff the client reads `"r"` as the hook reply, so a
/// full render's root flag (`"r":1`) must give way to a real reply. The
/// diff begins at `start` in `text`.
fn without_root_flag(text: &mut String, start: usize) {
    let Ok(mut map) = serde_json::from_str::<serde_json::Map<String, Value>>(&text[start..]) else {
        return;
    };
    if map.remove("r").is_some() {
        text.truncate(start);
        text.push_str(&Value::Object(map).to_string());
    }
}

/// Reads an `event` message: `{"type": …, "event": …, "value": …}`. A
/// form's value arrives URL-encoded: it is decoded like Phoenix does (nested
/// `user[name]` fields), merged with the event's `meta`, and its `_target`
/// becomes the path of the field that changed (`["user", "name"]`). A form
/// change also carries the files picked in its file inputs (`uploads`).
fn decode_event(inbound: &Inbound) -> Option<DecodedEvent> {
    #[derive(Deserialize)]
    struct Wire<'a> {
        #[serde(rename = "type", borrow)]
        kind: Cow<'a, str>,
        event: String,
        #[serde(default, borrow)]
        value: Option<&'a RawValue>,
        #[serde(default)]
        meta: serde_json::Map<String, Value>,
        cid: Option<u32>,
        #[serde(default)]
        uploads: Option<Value>,
    }
    let Payload::Json(json) = inbound.payload() else {
        return None;
    };
    // The socket reads a client's event as it checks its frame; one made
    // otherwise is read here.
    if let Some(plain) = inbound.plain_event().or_else(|| plain_event(json)) {
        // The name and value are slices of the frame: kept where they lie.
        let text = inbound.shared_text();
        let at = |field: &str| range_in(text, field);
        let event = Event::in_text(
            text.clone(),
            at(plain.name),
            plain.kind,
            plain.value.map(at),
        );
        return Some(DecodedEvent {
            event,
            target: plain.cid.map(Cid),
            uploads: None,
        });
    }
    let wire: Wire<'_> = serde_json::from_str(json).ok()?;
    let event = match wire.value {
        // A form's fields arrive URL-encoded, as one string.
        Some(value) if wire.kind == "form" => {
            let value = match serde_json::from_str(value.get()).ok()? {
                Value::String(encoded) => form_value(&encoded, wire.meta),
                value => value,
            };
            Event::new(wire.event, &wire.kind, value)
        }
        value => Event::sent(&wire.event, &wire.kind, value.map(RawValue::get)),
    };
    Some(DecodedEvent {
        event,
        target: wire.cid.map(Cid),
        uploads: wire.uploads,
    })
}

/// An `event` message, read.
struct DecodedEvent {
    event: Event,
    /// The component the event targets (`phx-target`).
    target: Option<Cid>,
    /// The files picked in a form's file inputs.
    uploads: Option<Value>,
}

fn form_value(encoded: &str, meta: serde_json::Map<String, Value>) -> Value {
    let mut value = decode_form(encoded);
    if let Value::Object(fields) = &mut value {
        for (name, meta_value) in meta {
            let meta_value = match (name.as_str(), meta_value) {
                ("_target", Value::String(target)) => {
                    Value::Array(key_path(&target).into_iter().map(Value::from).collect())
                }
                (_, other) => other,
            };
            fields.insert(name, meta_value);
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(json: &str) -> JoinPayload<'_> {
        serde_json::from_str(json).expect("a join payload")
    }

    #[test]
    fn a_join_response_holds_its_render_its_extras_and_its_patch_in_one_json_object() {
        let tree = crate::html! { <p>{"a"}</p> };
        let render = diff::render_onto(join_response_start(&tree), &tree);
        let extras = Outgoing {
            events: vec![serde_json::json!(["ping", {"n": 1}])],
            title: Some("T".to_string()),
            reply: Some(serde_json::json!({"ok": true})),
            ..Outgoing::default()
        };
        let mut response = with_extras(render, RENDERED_KEY.len(), extras);
        let patch = Patch {
            to: "/a?b=1".to_string(),
            replace: true,
        };
        end_join_response(&mut response, Some(&patch));
        let response: Value = serde_json::from_str(&response).expect("the response is JSON");
        assert_eq!(
            response,
            serde_json::json!({
                "rendered": {
                    "0": "a",
                    "s": ["<p>", "</p>"],
                    "e": [["ping", {"n": 1}]],
                    "t": "T",
                    "r": {"ok": true},
                },
                "liveview_version": LIVEVIEW_VERSION,
                "live_patch": {"to": "/a?b=1", "kind": "replace"},
            }),
            "the hook's reply takes the place of the root flag"
        );
    }

    #[test]
    fn a_join_response_without_extras_or_patch_is_its_render_and_version() {
        let tree = crate::html! { <p>"static"</p> };
        let start = join_response_start(&tree);
        let capacity = start.capacity();
        let mut response = with_extras(
            diff::render_onto(start, &tree),
            RENDERED_KEY.len(),
            Outgoing::default(),
        );
        end_join_response(&mut response, None);
        assert_eq!(
            response,
            format!(
                r#"{{"rendered":{{"s":["<p>static</p>"],"r":1}},"liveview_version":"{LIVEVIEW_VERSION}"}}"#
            )
        );
        assert_eq!(
            response.capacity(),
            capacity,
            "written in the buffer it started with"
        );
    }

    #[test]
    fn extras_spliced_into_an_empty_diff_after_a_start_take_no_comma() {
        let extras = Outgoing {
            title: Some("T".to_string()),
            ..Outgoing::default()
        };
        assert_eq!(
            with_extras("[1,{}".to_string(), 3, extras),
            r#"[1,{"t":"T"}"#
        );
    }

    #[test]
    fn a_join_payload_is_read_in_place_and_its_escapes_decoded() {
        let read = payload(
            r#"{"url":"http://localhost/a?b=1","session":"s.t\"x","static":null,"params":{"_csrf_token":"c","_mounts":0}}"#,
        );
        assert!(matches!(
            &read.url,
            Some(JsonStr(Cow::Borrowed("http://localhost/a?b=1")))
        ));
        assert!(matches!(&read.session, JsonStr(Cow::Owned(session)) if session == "s.t\"x"));
        assert_eq!(
            (read.redirect, read.static_token, read.flash),
            (None, None, None)
        );
    }

    fn decoded(frame: &str) -> (Inbound, Event) {
        let inbound = crate::socket::serializer::decode_text(frame).expect("a frame");
        let event = decode_event(&inbound).expect("an event").event;
        (inbound, event)
    }

    #[test]
    fn a_plain_event_keeps_its_name_and_value_in_its_frame() {
        let (inbound, event) = decoded(
            r#"["4","5","lv:phx-A","event",{"type":"click","event":"bump","value":{"i":"42"}}]"#,
        );
        assert_eq!(
            (event.name(), event.kind(), event.get("i")),
            ("bump", "click", Some("42"))
        );
        let frame = inbound.shared_text().as_bytes().as_ptr_range();
        assert!(
            frame.contains(&event.name().as_ptr()),
            "the name is not copied"
        );
        // An escaped name goes through the general reader, and reads the same.
        let (_, escaped) = decoded(
            r#"["4","5","lv:phx-A","event",{"type":"click","event":"b\u0075mp","value":{"i":"42"}}]"#,
        );
        assert_eq!(escaped, event);
        let (_, without_value) =
            decoded(r#"["4","5","lv:phx-A","event",{"type":"hook","event":"go"}]"#);
        assert_eq!(without_value.value(), &Value::Null);
    }

    #[test]
    fn earlier_mounts_are_read_from_the_params_and_are_zero_when_unsaid() {
        let mounts = |params: &str| {
            payload(&format!(r#"{{"session":"s","params":{params}}}"#)).earlier_mounts()
        };
        assert_eq!(mounts(r#"{"_mounts":2,"_csrf_token":"c"}"#), 2);
        assert_eq!(mounts(r#"{"_mounts":0}"#), 0);
        // Anything else counts as a first join, as a missing field does.
        for params in [
            r#"{}"#,
            "null",
            "[1]",
            r#"{"_mounts":"2"}"#,
            r#"{"_mounts":-1}"#,
        ] {
            assert_eq!(mounts(params), 0, "{params}");
        }
        assert_eq!(payload(r#"{"session":"s"}"#).earlier_mounts(), 0);
    }
}
