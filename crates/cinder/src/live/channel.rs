//! The `lv:` channel: joining starts the view's process, which mounts the
//! view connected, then serves its events and messages until it stops.

use std::sync::Arc;

use cinder_runtime::{spawn, Context, ExitReason, Message, Recipient};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::oneshot;

use super::form::{decode_form, key_path};
use super::router::{LiveState, SessionToken};
use super::{Event, LiveView, Outgoing, Params, Session, Socket, LIVEVIEW_VERSION};
use crate::diff;
use crate::rendered::Rendered;
use crate::socket::serializer::{Inbound, Payload, ReplyStatus};
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
struct JoinPayload {
    url: Option<String>,
    redirect: Option<String>,
    session: String,
}

impl ChannelRouter for LiveChannels {
    type Connect = Connection;

    fn join(&self, request: JoinRequest<Connection>) -> JoinFuture<'_> {
        Box::pin(async move {
            let Some(id) = request.topic.strip_prefix("lv:") else {
                return Err(JoinRefused::reason("unmatched topic"));
            };
            let Some(session) = request.connect.session.clone() else {
                return Err(JoinRefused::reason("stale"));
            };
            let payload: JoinPayload = serde_json::from_str(request.payload.get())
                .map_err(|_| JoinRefused::reason("stale"))?;
            let token = verify_session(&self.state.session_signer, &payload.session, id)?;
            let route = self
                .state
                .routes
                .get(token.view)
                .ok_or_else(|| JoinRefused::reason("stale"))?;
            let url = payload.redirect.or(payload.url).unwrap_or_default();
            let params = Params::from_query(url.split_once('?').map_or("", |(_, query)| query));
            (route.join)(request, session, params).await
        })
    }
}

fn verify_session(signer: &Signer, token: &str, id: &str) -> Result<SessionToken, JoinRefused> {
    let token: SessionToken = signer
        .verify(token, super::router::SESSION_MAX_AGE)
        .map_err(|_| JoinRefused::reason("stale"))?;
    // A token is only good for the container it was rendered into.
    if token.id != id {
        return Err(JoinRefused::reason("stale"));
    }
    Ok(token)
}

/// Starts the process of a view of type `V` and waits for its connected mount.
pub(crate) fn join_view<V: LiveView>(
    request: JoinRequest<Connection>,
    session: Session,
    params: Params,
) -> JoinFuture<'static> {
    Box::pin(async move {
        let (ready, mounted) = oneshot::channel();
        let outbox = request.outbox;
        let pid = spawn(move |ctx: Context<ViewMessage<V>>| {
            run_view::<V>(ctx, outbox, session, params, ready)
        });
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
    outbox: Outbox,
    tree: Rendered,
}

async fn run_view<V: LiveView>(
    mut ctx: Context<ViewMessage<V>>,
    outbox: Outbox,
    session: Session,
    params: Params,
    ready: oneshot::Sender<Result<String, JoinRefused>>,
) -> ExitReason {
    // Exit signals (the socket closing) end the view through `terminate`.
    ctx.trap_exit(true);
    let mut socket = Socket::for_process(ctx.pid());
    let view = match V::mount(&params, &session, &mut socket).await {
        Ok(view) => view,
        Err(error) => {
            tracing::info!(view = std::any::type_name::<V>(), %error, "connected mount refused");
            let _ = ready.send(Err(JoinRefused::reason("stale")));
            return ExitReason::Normal;
        }
    };
    let tree = view.render();
    let extras = socket.take_outgoing();
    let response = format!(
        r#"{{"rendered":{},"liveview_version":"{LIVEVIEW_VERSION}"}}"#,
        with_extras(diff::render(&tree).into_string(), extras)
    );
    if ready.send(Ok(response)).is_err() {
        return ExitReason::Normal;
    }
    let mut running = Running {
        view,
        socket,
        outbox,
        tree,
    };
    let reason = running.serve(&mut ctx).await;
    running.view.terminate(&reason, &mut running.socket).await;
    reason
}

impl<V: LiveView> Running<V> {
    async fn serve(&mut self, ctx: &mut Context<ViewMessage<V>>) -> ExitReason {
        loop {
            match ctx.recv().await {
                Message::User(ViewMessage::Channel(ChannelMessage::Event(inbound))) => {
                    self.event(inbound).await
                }
                Message::User(ViewMessage::Channel(ChannelMessage::Leave { msg_ref })) => {
                    self.outbox.reply(msg_ref.as_deref(), ReplyStatus::Ok, "{}");
                    return ExitReason::Normal;
                }
                Message::User(ViewMessage::Info(message)) => {
                    self.view.handle_info(message, &mut self.socket).await;
                    if let Some(diff) = self.rerender() {
                        self.outbox.push("diff", &diff);
                    }
                }
                // A linked helper that finished normally is no reason to stop.
                Message::Exit {
                    reason: ExitReason::Normal,
                    ..
                } => {}
                Message::Exit { reason, .. } => return reason,
                Message::Down { .. } => {}
            }
        }
    }

    async fn event(&mut self, inbound: Inbound) {
        let msg_ref = inbound.msg_ref.as_deref();
        let Some(event) = decode_event(&inbound) else {
            tracing::warn!(event = %inbound.event, "ignoring a malformed event payload");
            self.outbox.reply(msg_ref, ReplyStatus::Ok, "{}");
            return;
        };
        let from_hook = event.kind() == "hook";
        if event.name().starts_with("lv:") {
            tracing::warn!(event = event.name(), "ignoring an unknown built-in event");
        } else {
            self.view.handle_event(event, &mut self.socket).await;
        }
        if !from_hook {
            // Only a hook's pushEvent has a callback to receive a reply.
            self.socket.outgoing.reply = None;
        }
        match self.rerender() {
            Some(diff) => {
                let response = format!(r#"{{"diff":{diff}}}"#);
                self.outbox.reply(msg_ref, ReplyStatus::Ok, &response);
            }
            None => {
                self.outbox.reply(msg_ref, ReplyStatus::Ok, "{}");
            }
        }
    }

    /// Renders again. Returns the diff against what the client holds, with
    /// the handler's events, title and reply, if there is anything to send.
    fn rerender(&mut self) -> Option<String> {
        let tree = self.view.render();
        let diff = diff::diff(&self.tree, &tree);
        self.tree = tree;
        let extras = self.socket.take_outgoing();
        let empty = diff.is_empty()
            && extras.events.is_empty()
            && extras.title.is_none()
            && extras.reply.is_none();
        (!empty).then(|| with_extras(diff.into_string(), extras))
    }
}

/// Adds the diff's extra keys: `"e"` (pushed events), `"t"` (the title)
/// and `"r"` (a hook's reply).
fn with_extras(mut diff: String, extras: Outgoing) -> String {
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
    if keys.is_empty() {
        return diff;
    }
    if keys.contains_key("r") {
        diff = without_root_flag(diff);
    }
    let extra = Value::Object(keys).to_string();
    // Both are JSON objects: splice the extra keys into the diff's braces.
    diff.pop();
    if diff.len() > 1 {
        diff.push(',');
    }
    diff.push_str(&extra[1..]);
    diff
}

/// At the top of a diff the client reads `"r"` as the hook reply, so a
/// full render's root flag (`"r":1`) must give way to a real reply.
fn without_root_flag(diff: String) -> String {
    match serde_json::from_str::<serde_json::Map<String, Value>>(&diff) {
        Ok(mut map) => match map.remove("r") {
            Some(_) => Value::Object(map).to_string(),
            None => diff,
        },
        Err(_) => diff,
    }
}

/// Reads an `event` message: `{"type": …, "event": …, "value": …}`. A
/// form's value arrives URL-encoded: it is decoded like Phoenix does (nested
/// `user[name]` fields), merged with the event's `meta`, and its `_target`
/// becomes the path of the field that changed (`["user", "name"]`).
fn decode_event(inbound: &Inbound) -> Option<Event> {
    #[derive(Deserialize)]
    struct Wire {
        #[serde(rename = "type")]
        kind: String,
        event: String,
        #[serde(default)]
        value: Value,
        #[serde(default)]
        meta: serde_json::Map<String, Value>,
    }
    let Payload::Json(json) = &inbound.payload else {
        return None;
    };
    let wire: Wire = serde_json::from_str(json.get()).ok()?;
    let value = match wire.value {
        Value::String(encoded) if wire.kind == "form" => form_value(&encoded, wire.meta),
        value => value,
    };
    Some(Event::new(wire.event, wire.kind, value))
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
