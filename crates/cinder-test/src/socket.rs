//! One WebSocket to the app, as one browser tab opens it: Phoenix Channels
//! V2 frames, a reader that applies every diff to the view it is for as it
//! arrives, and replies handed to whoever waits for them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

use crate::error::{Error, Result};
use crate::tree::{self, ClientTree};
use crate::{dom, Redirect, RedirectKind};

/// The `<title>` of the page, whose prefix and suffix the client keeps.
#[derive(Debug, Clone, Default)]
pub(crate) struct TitleTag {
    pub(crate) prefix: String,
    pub(crate) suffix: String,
    pub(crate) default: Option<String>,
}

/// What the client holds for one joined view.
pub(crate) struct ViewState {
    pub(crate) id: String,
    pub(crate) join_ref: String,
    /// The path (with query) the view shows.
    pub(crate) path: String,
    pub(crate) session: String,
    pub(crate) static_token: Option<String>,
    pub(crate) tree: Option<ClientTree>,
    pub(crate) dom: Vec<dom::Node>,
    pub(crate) title_tag: TitleTag,
    pub(crate) title: Option<String>,
    pub(crate) events: VecDeque<(String, Value)>,
    pub(crate) patches: VecDeque<String>,
    pub(crate) redirect: Option<Redirect>,
    pub(crate) crashed: Option<String>,
    pub(crate) closed: bool,
    pub(crate) broken: Option<String>,
    /// Diffs pushed by the server (not replies), counted.
    pub(crate) pushed: u64,
    /// Fields the user has focused or submitted: (form id or selector, name).
    pub(crate) used_fields: HashSet<(String, String)>,
    pub(crate) mounts: u32,
    /// Every diff received, the join's rendered tree first.
    pub(crate) received: Vec<Value>,
    /// Components whose roots the last diffs removed from the page, not
    /// yet reported to the server.
    removed: Vec<u64>,
    /// `cids_will_destroy` / `cids_destroyed` round trips under way.
    pub(crate) destroying: usize,
    /// The cids the server confirmed destroyed, in order.
    pub(crate) destroyed: Vec<u64>,
    /// Child views whose containers the last diffs removed from the page.
    removed_children: Vec<String>,
    /// This child view's container left its parent's page, so the client
    /// left its channel.
    pub(crate) left_page: bool,
}

impl ViewState {
    pub(crate) fn new(
        id: String,
        path: String,
        session: String,
        static_token: Option<String>,
    ) -> Self {
        ViewState {
            id,
            join_ref: String::new(),
            path,
            session,
            static_token,
            tree: None,
            dom: Vec::new(),
            title_tag: TitleTag::default(),
            title: None,
            events: VecDeque::new(),
            patches: VecDeque::new(),
            redirect: None,
            crashed: None,
            closed: false,
            broken: None,
            pushed: 0,
            used_fields: HashSet::new(),
            mounts: 0,
            received: Vec::new(),
            removed: Vec::new(),
            destroying: 0,
            destroyed: Vec::new(),
            removed_children: Vec::new(),
            left_page: false,
        }
    }

    /// The error that stops any further step on this view, if any.
    pub(crate) fn failure(&self) -> Option<Error> {
        if let Some(broken) = &self.broken {
            return Some(Error::BadDiff(broken.clone()));
        }
        if self.left_page {
            return Some(Error::ChildRemoved {
                id: self.id.clone(),
            });
        }
        if let Some(reason) = &self.crashed {
            return Some(Error::Crashed {
                reason: reason.clone(),
            });
        }
        if let Some(redirect) = &self.redirect {
            return Some(Error::Redirected(redirect.clone()));
        }
        if self.closed {
            return Some(Error::Closed { after: None });
        }
        None
    }

    pub(crate) fn html(&self) -> String {
        dom::serialize(&self.dom)
    }

    fn joined(&mut self, rendered: Value) {
        self.crashed = None;
        self.closed = false;
        self.broken = None;
        self.tree = None;
        self.dom.clear();
        self.received.clear();
        self.apply(rendered, false);
        // As the client, no component is reported destroyed on a join.
        self.removed.clear();
        self.removed_children.clear();
        self.left_page = false;
        self.mounts += 1;
    }

    /// Merges a diff and patches the page with it.
    pub(crate) fn apply(&mut self, diff: Value, pushed: bool) {
        if self.broken.is_some() {
            return;
        }
        self.received.push(diff.clone());
        let extracted = tree::extract(diff);
        if let Some(title) = extracted.title {
            self.title = Some(title);
        }
        for event in extracted.events {
            if let (Some(Value::String(name)), Some(payload)) = (event.get(0), event.get(1)) {
                self.events.push_back((name.clone(), payload.clone()));
            }
        }
        if let Err(error) = self.merge(extracted.diff) {
            self.broken = Some(error);
        }
        if pushed {
            self.pushed += 1;
        }
    }

    fn merge(&mut self, diff: Value) -> std::result::Result<(), String> {
        let before = dom::component_cids(&self.dom);
        let children_before = dom::child_views(&self.dom, &self.id);
        let tree = match &mut self.tree {
            Some(tree) => {
                tree.merge(diff).map_err(|error| error.to_string())?;
                tree
            }
            None => self
                .tree
                .insert(ClientTree::new(self.id.clone(), diff).map_err(|error| error.to_string())?),
        };
        let rendering = tree.render().map_err(|error| error.to_string())?;
        let fresh = dom::parse(&rendering.html);
        self.dom = dom::patch(&self.dom, fresh, &rendering.streams)?;
        let children_after = dom::child_views(&self.dom, &self.id);
        for child in children_before {
            if !children_after.contains(&child) && !self.removed_children.contains(&child) {
                self.removed_children.push(child);
            }
        }
        let after = dom::component_cids(&self.dom);
        for cid in before {
            if !after.contains(&cid) && !self.removed.contains(&cid) {
                self.removed.push(cid);
            }
        }
        Ok(())
    }

    /// The page title as the client sets it (`dom.ts` `putTitle`).
    pub(crate) fn page_title(&self) -> Option<String> {
        let title = self.title.as_ref()?;
        let shown = if title.is_empty() {
            self.title_tag.default.clone().unwrap_or_default()
        } else {
            title.clone()
        };
        Some(format!(
            "{}{shown}{}",
            self.title_tag.prefix, self.title_tag.suffix
        ))
    }
}

struct Pending {
    topic: String,
    event: String,
    reply: oneshot::Sender<Result<Value>>,
}

#[derive(Default)]
pub(crate) struct SocketState {
    pub(crate) views: HashMap<String, ViewState>,
    pending: HashMap<String, Pending>,
    closed: Option<String>,
}

pub(crate) struct Shared {
    state: Mutex<SocketState>,
    pub(crate) changed: Notify,
    out: mpsc::UnboundedSender<Frame>,
    next_ref: AtomicU64,
    next_file_ref: AtomicU64,
    /// Components a diff removed from a view's page: `(topic, cids)`.
    destroy: mpsc::UnboundedSender<(String, Vec<u64>)>,
}

impl Shared {
    pub(crate) fn make_ref(&self) -> String {
        self.next_ref.fetch_add(1, Ordering::Relaxed).to_string()
    }

    /// The next upload entry's ref, unique on the page.
    pub(crate) fn next_file_ref(&self) -> u64 {
        self.next_file_ref.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a message and returns the receiver of its reply.
    fn send(
        &self,
        join_ref: Option<&str>,
        msg_ref: String,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> Result<oneshot::Receiver<Result<Value>>> {
        let (reply, receiver) = oneshot::channel();
        {
            let mut state = self.lock();
            if let Some(why) = &state.closed {
                return Err(Error::Connection(why.clone()));
            }
            state.pending.insert(
                msg_ref.clone(),
                Pending {
                    topic: topic.to_string(),
                    event: event.to_string(),
                    reply,
                },
            );
        }
        let frame = json!([join_ref, msg_ref, topic, event, payload]);
        self.out
            .send(Frame::Text(frame.to_string().into()))
            .map_err(|_| Error::Connection("the socket is closed".into()))?;
        Ok(receiver)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SocketState> {
        // A panic while the lock was held left a consistent map behind:
        // every change to it is one statement.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A WebSocket to the app and the tasks that drive it.
pub(crate) struct Socket {
    pub(crate) shared: Arc<Shared>,
    tasks: [JoinHandle<()>; 3],
    pub(crate) address: SocketAddr,
    pub(crate) csrf: String,
}

impl Drop for Socket {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Socket {
    /// Opens `/live/websocket` with the page's CSRF token and cookies.
    pub(crate) async fn connect(address: SocketAddr, cookie: &str, csrf: &str) -> Result<Socket> {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("_csrf_token", csrf)
            .append_pair("vsn", "2.0.0")
            .finish();
        let url = format!("ws://{address}/live/websocket?{query}");
        let mut request = url
            .into_client_request()
            .map_err(|error| Error::Connection(error.to_string()))?;
        if !cookie.is_empty() {
            let value = cookie.parse().map_err(|_| {
                Error::Connection(format!("the cookies are not a header: {cookie}"))
            })?;
            request.headers_mut().insert("cookie", value);
        }
        let (stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|error| Error::Connection(format!("opening /live/websocket: {error}")))?;
        let (mut sink, mut stream) = stream.split();
        let (out, mut outgoing) = mpsc::unbounded_channel::<Frame>();
        let (destroy, destroyed) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            state: Mutex::new(SocketState::default()),
            changed: Notify::new(),
            out,
            next_ref: AtomicU64::new(1),
            next_file_ref: AtomicU64::new(0),
            destroy,
        });
        let writer = tokio::spawn(async move {
            while let Some(frame) = outgoing.recv().await {
                if sink.send(frame).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let reader_shared = shared.clone();
        let reader = tokio::spawn(async move {
            let mut why = "the server closed the socket".to_string();
            while let Some(frame) = stream.next().await {
                match frame {
                    Ok(Frame::Text(text)) => match serde_json::from_str::<Value>(&text) {
                        Ok(message) => handle(&reader_shared, message),
                        Err(error) => {
                            why = format!(
                                "the server sent a frame that is not JSON ({error}): {text}"
                            );
                            break;
                        }
                    },
                    Ok(Frame::Close(_)) => break,
                    Ok(_) => {}
                    Err(error) => {
                        why = format!("the socket failed: {error}");
                        break;
                    }
                }
            }
            let mut state = reader_shared.lock();
            state.closed = Some(why.clone());
            for (_, pending) in state.pending.drain() {
                let _ = pending.reply.send(Err(Error::Connection(why.clone())));
            }
            drop(state);
            reader_shared.changed.notify_waiters();
        });
        let destroyer = tokio::spawn(destroy_components(shared.clone(), destroyed));
        Ok(Socket {
            shared,
            tasks: [reader, writer, destroyer],
            address,
            csrf: csrf.to_string(),
        })
    }

    pub(crate) fn make_ref(&self) -> String {
        self.shared.make_ref()
    }

    /// Sends a binary push (`chunk` of an upload) and returns its reply.
    pub(crate) fn send_binary(
        &self,
        join_ref: &str,
        topic: &str,
        event: &str,
        data: &[u8],
    ) -> Result<(String, oneshot::Receiver<Result<Value>>)> {
        let msg_ref = self.make_ref();
        let fields = [join_ref, msg_ref.as_str(), topic, event];
        if fields.iter().any(|field| field.len() > 255) {
            return Err(Error::Upload(format!(
                "the topic `{topic}` is too long for a binary frame (255 bytes at most)"
            )));
        }
        let (reply, receiver) = oneshot::channel();
        self.shared.lock().pending.insert(
            msg_ref.clone(),
            Pending {
                topic: topic.to_string(),
                event: event.to_string(),
                reply,
            },
        );
        let mut frame = vec![0u8];
        frame.extend(fields.iter().map(|field| field.len() as u8));
        for field in fields {
            frame.extend_from_slice(field.as_bytes());
        }
        frame.extend_from_slice(data);
        self.shared
            .out
            .send(Frame::Binary(frame.into()))
            .map_err(|_| Error::Connection("the socket is closed".into()))?;
        Ok((msg_ref, receiver))
    }

    /// Joins `topic`; the view's state must be registered first for a live
    /// view (`lv:`) topic. Returns the reply's response.
    pub(crate) async fn join(
        &self,
        topic: &str,
        payload: Value,
        timeout: Duration,
    ) -> Result<(String, Value)> {
        let join_ref = self.make_ref();
        if let Some(view) = self.shared.lock().views.get_mut(topic) {
            view.join_ref = join_ref.clone();
        }
        let receiver = self.shared.send(
            Some(&join_ref),
            join_ref.clone(),
            topic,
            "phx_join",
            payload,
        )?;
        let response = wait(receiver, timeout, &format!("reply to the join of {topic}")).await?;
        Ok((join_ref, response))
    }

    /// Pushes `event` on a joined topic and waits for the reply.
    pub(crate) async fn push(
        &self,
        topic: &str,
        join_ref: &str,
        event: &str,
        payload: Value,
        timeout: Duration,
    ) -> Result<Value> {
        let receiver = self
            .shared
            .send(Some(join_ref), self.make_ref(), topic, event, payload)?;
        wait(receiver, timeout, &format!("reply to `{event}` on {topic}")).await
    }
}

pub(crate) async fn wait(
    receiver: oneshot::Receiver<Result<Value>>,
    timeout: Duration,
    what: &str,
) -> Result<Value> {
    match tokio::time::timeout(timeout, receiver).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(Error::Connection("the socket stopped".into())),
        Err(_) => Err(Error::Timeout {
            what: what.to_string(),
            timeout,
        }),
    }
}

/// The redirect a reply or push carries: where to, and the signed flash.
pub(crate) fn redirect_of(kind: RedirectKind, target: &Value) -> Redirect {
    Redirect {
        kind,
        to: target
            .get("to")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        flash: target
            .get("flash")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

/// Takes one frame from the server: `[join_ref, ref, topic, event, payload]`.
fn handle(shared: &Shared, message: Value) {
    let (Some(topic), Some(event)) = (
        message.get(2).and_then(Value::as_str),
        message.get(3).and_then(Value::as_str),
    ) else {
        return;
    };
    let join_ref = message.get(0).and_then(Value::as_str);
    let msg_ref = message.get(1).and_then(Value::as_str);
    let payload = message.get(4).cloned().unwrap_or(Value::Null);
    let mut state = shared.lock();
    let mut leaving = Vec::new();
    if event == "phx_reply" {
        let Some(pending) = msg_ref.and_then(|msg_ref| state.pending.remove(msg_ref)) else {
            return;
        };
        let ok = payload.get("status").and_then(Value::as_str) == Some("ok");
        let response = payload.get("response").cloned().unwrap_or(Value::Null);
        let result = if pending.event == "phx_join" {
            if let Some(view) = state.views.get_mut(topic) {
                if ok && join_ref == Some(view.join_ref.as_str()) {
                    view.joined(response.get("rendered").cloned().unwrap_or(json!({})));
                    if let Some(patch) = response.get("live_patch") {
                        if let Some(to) = patch.get("to").and_then(Value::as_str) {
                            view.path = to.to_string();
                        }
                    }
                }
            }
            if ok {
                Ok(response)
            } else {
                Err(Error::Refused {
                    event: "phx_join".into(),
                    response: response.to_string(),
                })
            }
        } else if ok {
            if let Some(view) = state.views.get_mut(&pending.topic) {
                if join_ref.is_none_or(|join_ref| join_ref == view.join_ref) {
                    if let Some(diff) = response.get("diff") {
                        view.apply(diff.clone(), false);
                        report_removed(&shared.destroy, &pending.topic, view);
                        leaving = std::mem::take(&mut view.removed_children);
                    }
                    if let Some(target) = response.get("redirect") {
                        view.redirect = Some(redirect_of(RedirectKind::Redirect, target));
                    }
                    if let Some(target) = response.get("live_redirect") {
                        view.redirect = Some(redirect_of(RedirectKind::Live, target));
                    }
                    if let Some(to) = response
                        .get("live_patch")
                        .and_then(|patch| patch.get("to"))
                        .and_then(Value::as_str)
                    {
                        view.path = to.to_string();
                        view.patches.push_back(to.to_string());
                    }
                }
            }
            Ok(response)
        } else {
            Err(Error::Refused {
                event: pending.event.clone(),
                response: response.to_string(),
            })
        };
        let _ = pending.reply.send(result);
    } else if let Some(view) = state.views.get_mut(topic) {
        if join_ref.is_some_and(|join_ref| join_ref != view.join_ref) {
            return;
        }
        match event {
            "diff" => {
                view.apply(payload, true);
                report_removed(&shared.destroy, topic, view);
                leaving = std::mem::take(&mut view.removed_children);
            }
            "live_patch" => {
                if let Some(to) = payload.get("to").and_then(Value::as_str) {
                    view.path = to.to_string();
                    view.patches.push_back(to.to_string());
                }
            }
            "redirect" => view.redirect = Some(redirect_of(RedirectKind::Redirect, &payload)),
            "live_redirect" => view.redirect = Some(redirect_of(RedirectKind::Live, &payload)),
            "phx_error" => {
                let reason = payload
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("no reason given")
                    .to_string();
                view.crashed = Some(reason.clone());
                let topic = topic.to_string();
                fail_pending(&mut state, &topic, || Error::Crashed {
                    reason: reason.clone(),
                });
            }
            "phx_close" => {
                view.closed = true;
                let topic = topic.to_string();
                fail_pending(&mut state, &topic, || Error::Closed { after: None });
            }
            _ => {}
        }
    } else if event == "phx_error" || event == "phx_close" {
        let topic = topic.to_string();
        fail_pending(&mut state, &topic, || {
            Error::Upload(format!("the server ended the channel {topic} ({event})"))
        });
    }
    // Child views whose containers left the page: the client destroys
    // them and leaves their channels.
    let mut leaves = Vec::new();
    for id in leaving {
        let topic = format!("lv:{id}");
        if let Some(child) = state.views.get_mut(&topic) {
            if !child.left_page && child.tree.is_some() {
                child.left_page = true;
                leaves.push((topic.clone(), child.join_ref.clone()));
                fail_pending(&mut state, &topic, || Error::ChildRemoved {
                    id: id.clone(),
                });
            }
        }
    }
    drop(state);
    for (topic, join_ref) in leaves {
        let _ = shared.send(
            Some(&join_ref),
            shared.make_ref(),
            &topic,
            "phx_leave",
            json!({}),
        );
    }
    shared.changed.notify_waiters();
}

/// Hands the components a diff removed from `view`'s page to the task that
/// tells the server, as the client does after each patch.
fn report_removed(
    destroy: &mpsc::UnboundedSender<(String, Vec<u64>)>,
    topic: &str,
    view: &mut ViewState,
) {
    if view.removed.is_empty() {
        return;
    }
    let removed = std::mem::take(&mut view.removed);
    if destroy.send((topic.to_string(), removed)).is_ok() {
        view.destroying += 1;
    }
}

/// How long the client's side of destroying components waits for each
/// reply; a view that does not answer fails the step waiting on it first.
const DESTROY_PATIENCE: Duration = Duration::from_secs(60);

/// Tells the server about components removed from the page, as the
/// client's `maybePushComponentsDestroyed` does: `cids_will_destroy` with
/// the cids gone, then `cids_destroyed` with those still gone once it
/// replied, and the client forgets the cids the server lists.
async fn destroy_components(
    shared: Arc<Shared>,
    mut removed: mpsc::UnboundedReceiver<(String, Vec<u64>)>,
) {
    while let Some((topic, cids)) = removed.recv().await {
        destroy(&shared, &topic, cids).await;
        if let Some(view) = shared.lock().views.get_mut(&topic) {
            view.destroying = view.destroying.saturating_sub(1);
        }
        shared.changed.notify_waiters();
    }
}

async fn destroy(shared: &Shared, topic: &str, cids: Vec<u64>) {
    // The cids whose roots are still not on the page, and the join they
    // belong to; none if the view left.
    let still_gone = |cids: &[u64]| {
        let state = shared.lock();
        let view = state.views.get(topic)?;
        let shown = dom::component_cids(&view.dom);
        let gone: Vec<u64> = cids
            .iter()
            .copied()
            .filter(|cid| !shown.contains(cid))
            .collect();
        Some((view.join_ref.clone(), gone))
    };
    let Some((join_ref, gone)) = still_gone(&cids) else {
        return;
    };
    if gone.is_empty() {
        return;
    }
    let ask = |event: &str, cids: &[u64]| {
        shared.send(
            Some(&join_ref),
            shared.make_ref(),
            topic,
            event,
            json!({ "cids": cids }),
        )
    };
    let Ok(receiver) = ask("cids_will_destroy", &gone) else {
        return;
    };
    if wait(receiver, DESTROY_PATIENCE, "reply to cids_will_destroy")
        .await
        .is_err()
    {
        return;
    }
    let Some((_, gone)) = still_gone(&gone) else {
        return;
    };
    if gone.is_empty() {
        return;
    }
    let Ok(receiver) = ask("cids_destroyed", &gone) else {
        return;
    };
    let Ok(response) = wait(receiver, DESTROY_PATIENCE, "reply to cids_destroyed").await else {
        return;
    };
    let destroyed: Vec<u64> = response
        .get("cids")
        .and_then(Value::as_array)
        .map(|cids| cids.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    if let Some(view) = shared.lock().views.get_mut(topic) {
        if let Some(tree) = &mut view.tree {
            tree.prune_cids(&destroyed);
        }
        view.destroyed.extend(destroyed);
    }
}

fn fail_pending(state: &mut SocketState, topic: &str, error: impl Fn() -> Error) {
    let refs: Vec<String> = state
        .pending
        .iter()
        .filter(|(_, pending)| pending.topic == topic && pending.event != "phx_join")
        .map(|(msg_ref, _)| msg_ref.clone())
        .collect();
    for msg_ref in refs {
        if let Some(pending) = state.pending.remove(&msg_ref) {
            let _ = pending.reply.send(Err(error()));
        }
    }
}
