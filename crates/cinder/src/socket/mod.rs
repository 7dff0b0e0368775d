//! The socket: one WebSocket connection carrying many channels, spoken in
//! the Phoenix Channels V2 protocol that the official client uses.
//!
//! Each connection is a process ([`serve`]). It answers heartbeats and
//! routes every message to the channel of its topic by the message's
//! `join_ref`; channels write their frames to the connection themselves,
//! through their [`Outbox`], without waking the socket. Joining a topic
//! asks a [`ChannelRouter`] for a channel process, which the socket links
//! to itself:
//!
//! - a channel that exits cleanly (`normal`, `shutdown`) is reported to the
//!   client with `phx_close`; one that crashes with `phx_error`, after which
//!   the client rejoins. The socket and its other channels go on.
//! - when the connection closes, the socket exits with `{shutdown, closed}`,
//!   which ends every channel linked to it.
//!
//! Rules the client relies on, from Phoenix's socket: a message carrying a
//! join_ref other than its topic's current one is ignored; joining a joined
//! topic closes the old channel first; at most
//! [`max_channels`](SocketConfig::max_channels) channels per socket; a
//! connection that sends nothing (not even a heartbeat) for
//! [`idle_timeout`](SocketConfig::idle_timeout) is closed; a malformed
//! frame closes the offending connection with a close frame saying why.
//! A payload is read, and so checked as JSON, by its handler: a join whose
//! payload is not JSON gets an error reply, and a channel refuses or
//! ignores a message it cannot read (a live view replies with nothing).
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{response::Response, routing::get, Router};
//! use cinder::socket::websocket::WebSocketUpgrade;
//! use cinder::socket::{serve, ChannelRouter, JoinFuture, JoinRefused, JoinRequest, SocketConfig};
//!
//! struct NoChannels;
//!
//! impl ChannelRouter for NoChannels {
//!     type Connect = ();
//!     fn join(&self, _request: JoinRequest<()>) -> JoinFuture<'_> {
//!         Box::pin(async { Err(JoinRefused::reason("unmatched topic")) })
//!     }
//! }
//!
//! async fn websocket(upgrade: WebSocketUpgrade) -> Response {
//!     upgrade.on_upgrade(|ws| async move {
//!         cinder_runtime::spawn(move |ctx| {
//!             serve(ctx, ws, Arc::new(NoChannels), Arc::new(()), SocketConfig::default())
//!         });
//!     })
//! }
//!
//! let app: Router = Router::new().route("/live/websocket", get(websocket));
//! ```

pub mod serializer;
pub mod websocket;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use cinder_runtime::{Context, ExitReason, Message, Pid, Recipient};
use serde_json::value::RawValue;
use tokio::time::{Instant, Sleep};

use crate::escape::json_string;
use serializer::{
    channel_reply_around, decode_binary, decode_text, encode_channel_frame, encode_channel_reply,
    encode_reply_roomy, start_channel_frame, start_channel_reply, FrameError, Inbound, JsonName,
    Payload, ReplyStatus,
};
use websocket::{Incoming, RoomyText, WebSocket, WebSocketError, WebSocketSender};

/// The topic of the socket's own messages (heartbeats).
const PHOENIX_TOPIC: &str = "phoenix";
/// WebSocket close code for a frame that breaks the protocol (1008, policy violation).
const POLICY_VIOLATION: u16 = 1008;

/// Limits of one socket.
#[derive(Clone, Debug)]
pub struct SocketConfig {
    /// The most channels one socket may join at once (Phoenix: 100).
    pub max_channels: usize,
    /// How long a connection may stay silent before it is closed. The client
    /// sends a heartbeat every 30 s.
    pub idle_timeout: Duration,
    /// The largest message a client may send; a larger one closes its
    /// connection (close code 1009). Upload chunks are 64 KiB by default.
    pub max_message_bytes: usize,
}

impl Default for SocketConfig {
    fn default() -> Self {
        SocketConfig {
            max_channels: 100,
            idle_timeout: Duration::from_secs(60),
            max_message_bytes: 1024 * 1024,
        }
    }
}

/// A request to join a topic, handed to the [`ChannelRouter`].
pub struct JoinRequest<C> {
    /// The topic, such as `lv:phx-…`.
    pub topic: String,
    /// The join's reference; every frame of this channel carries it.
    pub join_ref: String,
    /// The join payload, checked as JSON: the socket refuses a join whose
    /// payload is not.
    pub payload: Box<RawValue>,
    /// Where the channel sends its frames.
    pub outbox: Outbox,
    /// What the connection established when it was opened (for example the
    /// verified cookie session).
    pub connect: Arc<C>,
}

/// A successful join: the channel's process and the join reply's response.
pub struct Joined {
    /// Where the channel process receives its [`ChannelMessage`]s; its pid
    /// is the process the socket links to.
    pub inbox: Recipient<ChannelMessage>,
    /// The `response` of the ok reply, as JSON text.
    pub response: String,
}

/// A refused join; the `response` of the error reply, as JSON text, such as
/// `{"reason":"unauthorized"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRefused(pub String);

impl JoinRefused {
    /// A refusal with `{"reason": reason}`.
    pub fn reason(reason: &str) -> Self {
        JoinRefused(format!(
            r#"{{"reason":{}}}"#,
            serde_json::Value::from(reason)
        ))
    }
}

/// The future a router's join returns.
pub type JoinFuture<'a> = Pin<Box<dyn Future<Output = Result<Joined, JoinRefused>> + Send + 'a>>;

/// Decides what joining a topic means: which process serves it.
pub trait ChannelRouter: Send + Sync + 'static {
    /// What a connection carries into every join.
    type Connect: Send + Sync + 'static;

    /// Starts the channel for `request.topic`, or refuses it. Unknown topics
    /// should be refused with [`JoinRefused::reason`]`("unmatched topic")`.
    fn join(&self, request: JoinRequest<Self::Connect>) -> JoinFuture<'_>;
}

/// What a channel process receives from its socket.
#[derive(Debug)]
pub enum ChannelMessage {
    /// A message from the client on this channel's topic.
    Event(Inbound),
    /// The client left the topic (`phx_leave`). Reply to `msg_ref`, then exit.
    Leave {
        /// The leave message's reference.
        msg_ref: Option<String>,
    },
}

/// What a socket process receives: frames to write, after those already
/// written. Channels write through their [`Outbox`] instead; this is the
/// way for a process that holds only the socket's pid.
#[derive(Debug)]
pub enum SocketMessage {
    /// A text frame to send.
    Text(String),
    /// A binary frame to send.
    Binary(Vec<u8>),
}

/// A joined channel's topic and join_ref, kept in one allocation: the
/// socket reads both for every message it hands the channel, and the
/// channel writes both into every frame it sends, so they share a cache
/// line. Each is kept twice: as the client sent it, to match messages
/// against, and written as a JSON string, to copy into frames.
#[derive(Clone, Debug)]
struct ChannelName {
    /// The join_ref, the topic, then both as JSON strings.
    text: Arc<str>,
    /// Where the join_ref, the topic and the join_ref's JSON end.
    ends: [u32; 3],
}

impl ChannelName {
    fn new(topic: &str, join_ref: &str) -> ChannelName {
        let mut text = String::with_capacity(2 * (join_ref.len() + topic.len()) + 4);
        let mut ends = [0; 3];
        text.push_str(join_ref);
        ends[0] = text.len();
        text.push_str(topic);
        ends[1] = text.len();
        json_string(&mut text, join_ref);
        ends[2] = text.len();
        json_string(&mut text, topic);
        ChannelName {
            text: text.into(),
            // A topic and a join_ref come from one frame, shorter than
            // 4 GiB.
            ends: ends.map(|end| u32::try_from(end).expect("a frame is shorter than 4 GiB")),
        }
    }

    fn join_ref(&self) -> &str {
        &self.text[..self.end(0)]
    }

    fn topic(&self) -> &str {
        &self.text[self.end(0)..self.end(1)]
    }

    /// Brings the name's text, at both ends, into the cache for the reads
    /// that follow: the socket's, routing a frame, and the channel's,
    /// writing its answer.
    fn prefetch(&self) {
        let text = self.text.as_bytes();
        if let (Some(first), Some(last)) = (text.first(), text.last()) {
            cinder_runtime::hint::prefetch(first);
            cinder_runtime::hint::prefetch(last);
        }
    }

    fn json(&self) -> JsonName<'_> {
        JsonName {
            join_ref: &self.text[self.end(1)..self.end(2)],
            topic: &self.text[self.end(2)..],
        }
    }

    fn end(&self, field: usize) -> usize {
        self.ends[field] as usize
    }
}

/// A channel's way to the client: frames stamped with its topic and join_ref.
///
/// The channel writes its frames to the connection itself, from its own
/// task: the socket's process is not woken for them. Frames sent while the
/// socket is still answering the join wait until that answer is out.
#[derive(Clone, Debug)]
pub struct Outbox {
    sender: WebSocketSender,
    name: ChannelName,
}

impl Outbox {
    /// The channel's topic.
    pub fn topic(&self) -> &str {
        self.name.topic()
    }

    /// The channel's join reference.
    pub fn join_ref(&self) -> &str {
        self.name.join_ref()
    }

    /// Pushes `event` with a JSON `payload`. False if the connection is
    /// gone or closing.
    pub fn push(&self, event: &str, payload: &str) -> bool {
        self.send(encode_channel_frame(self.name.json(), None, event, payload))
    }

    /// Replies to the message `msg_ref` with a JSON `response`. False if
    /// the connection is gone or closing.
    pub fn reply(&self, msg_ref: Option<&str>, status: ReplyStatus, response: &str) -> bool {
        self.reply_parts(msg_ref, status, &[response])
    }

    /// Replies with a response made of `parts` of JSON text, written into
    /// the frame without putting them together first.
    pub(crate) fn reply_parts(
        &self,
        msg_ref: Option<&str>,
        status: ReplyStatus,
        response: &[&str],
    ) -> bool {
        self.send(encode_channel_reply(
            self.name.json(),
            msg_ref,
            status,
            response,
        ))
    }

    /// A reply to `msg_ref` up to its response, with room for `room` bytes
    /// of it: the caller writes the response and
    /// [`REPLY_END`](serializer::REPLY_END), then [sends](Outbox::send) it.
    pub(crate) fn start_reply(
        &self,
        msg_ref: Option<&str>,
        status: ReplyStatus,
        room: usize,
    ) -> RoomyText {
        start_channel_reply(self.name.json(), msg_ref, status, room)
    }

    /// A push of `event` up to its payload, with room for `room` bytes of
    /// it: the caller writes the payload and `]`, then
    /// [sends](Outbox::send) it.
    pub(crate) fn start_push(&self, event: &str, room: usize) -> RoomyText {
        start_channel_frame(self.name.json(), None, event, room)
    }

    /// Brings what a frame of the channel reads into the cache: the lock
    /// of the frames on their way out and the channel's name. A frame
    /// read from the client brings them on its way (the socket asks for
    /// them as it reads it); a message from elsewhere, a broadcast's, finds
    /// them cold, and the view asks for them before its render.
    pub(crate) fn prefetch(&self) {
        self.sender.prefetch();
        self.name.prefetch();
    }

    /// The step after [`prefetch`](Outbox::prefetch), once its lines have
    /// come: brings in the connection's socket, which the frame's write
    /// reads.
    pub(crate) fn prefetch_socket(&self) {
        self.sender.prefetch_socket();
    }

    /// Sends a frame begun with [`start_reply`](Outbox::start_reply) or
    /// [`start_push`](Outbox::start_push). False if the connection is gone
    /// or closing.
    pub(crate) fn send(&self, frame: RoomyText) -> bool {
        self.sender.send_roomy_text(frame)
    }
}

struct Channel {
    name: ChannelName,
    inbox: Recipient<ChannelMessage>,
}

/// One connection's state, inside its process.
struct Socket<R: ChannelRouter> {
    router: Arc<R>,
    connect: Arc<R::Connect>,
    config: SocketConfig,
    /// The joined channels. A page has one per live view on it (usually
    /// one or two); a short vector searched in order costs less memory per
    /// connection than maps by topic and by pid.
    channels: Vec<Channel>,
    /// Frames the socket itself answers with (join replies, errors,
    /// closes), written right after the message that caused them. A join's
    /// reply must reach the client before the first update of the channel
    /// it started: that channel's sender is held until the reply is queued.
    own_frames: Vec<RoomyText>,
    /// Channels a join of their topic replaced after they had exited on
    /// their own: their exit signals were sent before the socket unlinked
    /// them, and are still to come. Until then, one such signal must not
    /// pass for the socket's supervisor shutting it down.
    replaced: Vec<Pid>,
}

/// How many replaced channels the socket remembers until their exit
/// signals arrive; far more than a client ever leaves waiting.
const MAX_REPLACED: usize = 16;

/// Why the socket loop stopped.
enum Stop {
    Closed,
    BadFrame(FrameError),
    BadWebSocket(WebSocketError),
    Idle,
    Exit(ExitReason),
}

/// Serves one WebSocket connection in the calling process until it closes.
/// The body of the connection's process: spawn it with
/// [`cinder_runtime::spawn`] on `Context<SocketMessage>`.
// Written as a function returning an `async` block on purpose; see the body.
#[allow(clippy::manual_async_fn)]
pub fn serve<R: ChannelRouter>(
    mut ctx: Context<SocketMessage>,
    mut ws: WebSocket,
    router: Arc<R>,
    connect: Arc<R::Connect>,
    config: SocketConfig,
) -> impl Future<Output = ExitReason> + Send {
    // An `async` block rather than an `async fn`: a block uses what it
    // captures in place, where a function's future would hold each argument
    // twice for the connection's whole life.
    async move {
        ctx.trap_exit(true);
        ws.set_max_message_bytes(config.max_message_bytes);
        let mut socket = Socket {
            router,
            connect,
            config,
            channels: Vec::new(),
            own_frames: Vec::new(),
            replaced: Vec::new(),
        };
        // The exit reason reaches every linked channel; `{shutdown, closed}` ends them.
        match socket.run(&mut ctx, &mut ws).await {
            Stop::Closed => {
                ws.close(1000, "").await;
                ExitReason::shutdown_with("closed")
            }
            Stop::Idle => {
                ws.close(1000, "no heartbeat").await;
                ExitReason::shutdown_with("closed")
            }
            Stop::BadFrame(error) => {
                tracing::warn!(%error, "closing a connection that sent a malformed frame");
                ws.close(POLICY_VIOLATION, &error.to_string()).await;
                ExitReason::shutdown_with("closed")
            }
            Stop::BadWebSocket(error) => {
                tracing::warn!(%error, "closing a connection that broke the WebSocket protocol");
                ws.close(error.close_code(), &error.to_string()).await;
                ExitReason::shutdown_with("closed")
            }
            Stop::Exit(reason) => reason,
        }
    }
}

/// The most frames written from the mailbox before the socket flushes them
/// and looks at the network again.
const WRITE_BATCH: usize = 64;

/// What woke the socket.
enum Woken<F> {
    /// A frame from the network, or `None`: the idle timer fired.
    Network(Option<F>),
    /// A message in the mailbox: a frame to write, or a signal.
    Mailbox(Message<SocketMessage>),
}

/// Whichever of `network` and the mailbox of `ctx` is ready first. They
/// are polled in turns, each first at every other poll, so that neither
/// keeps the other waiting: neither a client that floods its socket with
/// frames nor a process that floods it with messages. A plain function over
/// `poll_fn`: the socket's future holds it for the connection's whole life,
/// and an `async fn` would keep its arguments twice.
fn next_of<'a, F>(
    mut network: impl Future<Output = Option<F>> + Unpin + 'a,
    ctx: &'a mut Context<SocketMessage>,
    network_first: &'a mut bool,
) -> impl Future<Output = Woken<F>> + 'a {
    poll_fn(move |cx| {
        *network_first = !*network_first;
        if *network_first {
            if let Poll::Ready(heard) = Pin::new(&mut network).poll(cx) {
                return Poll::Ready(Woken::Network(heard));
            }
            ctx.poll_recv(cx).map(Woken::Mailbox)
        } else {
            if let Poll::Ready(message) = ctx.poll_recv(cx) {
                return Poll::Ready(Woken::Mailbox(message));
            }
            Pin::new(&mut network).poll(cx).map(Woken::Network)
        }
    })
}

/// Polls `timer` once, which registers it to wake this task when it fires.
///
/// The socket's loop then only looks whether it fired ([`frame_or_timer`]),
/// one load, where polling the timer as a branch of its own would cost a
/// timer poll and a waker's registration at every wake-up of the
/// connection: each frame in, each frame out.
async fn arm(mut timer: Pin<&mut Sleep>) {
    // Unconstrained: a task out of its budget would be told to yield
    // before the timer is even registered, and then never be woken by it.
    let poll_once = poll_fn(|cx| {
        let _ = timer.as_mut().poll(cx);
        Poll::Ready(())
    });
    tokio::task::unconstrained(poll_once).await;
}

/// The next frame, or `None` once an [armed](arm) timer has fired: the
/// timer woke the task when it fired, so looking at it costs one load. A
/// frame that has arrived comes first, so a connection is never taken for
/// silent while a frame of its waits to be read.
///
/// `prefetch` runs before each look at the network: see
/// [`Socket::prefetch_for_frame`].
fn frame_or_timer<'a, F>(
    mut frame: F,
    timer: &'a Sleep,
    prefetch: impl Fn() + 'a,
) -> impl Future<Output = Option<F::Output>> + 'a
where
    F: Future + Unpin + 'a,
{
    poll_fn(move |cx| {
        prefetch();
        match Pin::new(&mut frame).poll(cx) {
            Poll::Ready(frame) => Poll::Ready(Some(frame)),
            Poll::Pending if timer.is_elapsed() => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
}

/// Decodes a client message where it lies in the read buffer.
fn decode(message: Incoming<'_>) -> Result<Inbound, FrameError> {
    match message {
        Incoming::Text(text) => decode_text(text),
        Incoming::Binary(bytes) => decode_binary(bytes),
    }
}

impl<R: ChannelRouter> Socket<R> {
    async fn run(&mut self, ctx: &mut Context<SocketMessage>, ws: &mut WebSocket) -> Stop {
        // One timer for the connection's life: each frame only notes the
        // time, and the timer, when it fires, moves on to the deadline that
        // time sets (instead of a new timer per frame).
        let mut last_heard = Instant::now();
        let idle = tokio::time::sleep_until(last_heard + self.config.idle_timeout);
        tokio::pin!(idle);
        arm(idle.as_mut()).await;
        let outgoing = ws.sender();
        let mut network_first = false;
        loop {
            let woken = {
                let channels = &self.channels;
                let prefetch = || Socket::<R>::prefetch_for_frame(channels, &outgoing);
                let network = frame_or_timer(ws.recv(decode), &idle, prefetch);
                next_of(network, ctx, &mut network_first).await
            };
            match woken {
                Woken::Network(heard) => {
                    let Some(frame) = heard else {
                        let deadline = last_heard + self.config.idle_timeout;
                        if deadline <= Instant::now() {
                            return Stop::Idle;
                        }
                        idle.as_mut().reset(deadline);
                        arm(idle.as_mut()).await;
                        continue;
                    };
                    last_heard = Instant::now();
                    // A join is rare: its state is boxed, and nothing else
                    // is kept across it, or every connection's future would
                    // hold that room for its whole life.
                    let joined = {
                        let joining = match self.take_frame(frame) {
                            Ok(join) => join.map(|join| Box::pin(self.join(join, ctx, ws))),
                            Err(stop) => return stop,
                        };
                        match joining {
                            Some(joining) => {
                                joining.await;
                                true
                            }
                            None => false,
                        }
                    };
                    // A message handed to its channel leaves nothing to
                    // write here: the channel writes its answer itself.
                    let fed = self.write_own_frames(ws);
                    if (fed || joined) && ws.flush().await.is_err() {
                        return Stop::Closed;
                    }
                }
                Woken::Mailbox(message) => {
                    // Every frame already waiting goes out with this one,
                    // in one write.
                    let mut stop = self.on_message(message, ws);
                    for _ in 1..WRITE_BATCH {
                        if stop.is_some() {
                            break;
                        }
                        let Some(message) = ctx.try_recv() else { break };
                        stop = self.on_message(message, ws);
                    }
                    if let Some(stop) = stop {
                        return stop;
                    }
                    if ws.flush().await.is_err() {
                        return Stop::Closed;
                    }
                }
            }
        }
    }

    /// Queues a frame from a channel for writing, or handles a signal;
    /// `Some` when the socket must stop.
    fn on_message(&mut self, message: Message<SocketMessage>, ws: &mut WebSocket) -> Option<Stop> {
        match message {
            Message::User(SocketMessage::Text(frame)) => ws.feed_text_owned(frame),
            Message::User(SocketMessage::Binary(frame)) => ws.feed_binary_owned(frame),
            Message::Exit {
                from: Some(pid),
                reason,
            } if self.channel_of(&pid).is_some() => {
                // A channel that ended before the socket linked to it (a view
                // that navigated away on a message waiting at its mount) sends
                // `noproc`; how it really ended is its own exit reason.
                let reason = match reason {
                    ExitReason::NoProc => pid.exit_reason().unwrap_or(reason),
                    reason => reason,
                };
                self.remove_channel(&pid, &reason);
                self.write_own_frames(ws);
            }
            Message::Exit {
                from: Some(pid), ..
            } if self.forget_replaced(&pid) => {}
            // An exit signal from anyone else (the socket's supervisor
            // shutting down) ends the socket.
            Message::Exit { reason, .. } => return Some(Stop::Exit(reason)),
            Message::Down { .. } => {}
        }
        None
    }

    /// Queues the socket's own frames for writing; false if there were none.
    fn write_own_frames(&mut self, ws: &mut WebSocket) -> bool {
        if self.own_frames.is_empty() {
            return false;
        }
        // Taken, not drained: the socket's own frames come seldom, and an
        // idle connection keeps no room for them.
        for frame in std::mem::take(&mut self.own_frames) {
            ws.feed_roomy_text(frame);
        }
        true
    }

    /// Takes in what the WebSocket read: handles the message, except a
    /// join, which it hands back to be made, or says why the socket stops.
    fn take_frame(
        &mut self,
        frame: Result<Option<Result<Inbound, FrameError>>, WebSocketError>,
    ) -> Result<Option<Inbound>, Stop> {
        match frame {
            Ok(Some(Ok(inbound))) => Ok(self.handle(inbound)),
            Ok(Some(Err(error))) => Err(Stop::BadFrame(error)),
            Ok(None) | Err(WebSocketError::Io(_)) => Err(Stop::Closed),
            Err(error) => Err(Stop::BadWebSocket(error)),
        }
    }

    /// Handles a client message, except a join, which it hands back to be
    /// made.
    fn handle(&mut self, inbound: Inbound) -> Option<Inbound> {
        if inbound.topic() == PHOENIX_TOPIC {
            if inbound.event() == "heartbeat" {
                self.reply_raw(
                    None,
                    inbound.msg_ref(),
                    PHOENIX_TOPIC,
                    ReplyStatus::Ok,
                    "{}",
                );
            }
            return None;
        }
        match inbound.event() {
            "phx_join" => return Some(inbound),
            "phx_leave" => self.forward(inbound, true),
            _ => self.forward(inbound, false),
        }
        None
    }

    async fn join(&mut self, inbound: Inbound, ctx: &Context<SocketMessage>, ws: &mut WebSocket) {
        let topic = inbound.topic().to_owned();
        let msg_ref = inbound.msg_ref().map(str::to_owned);
        let Some(join_ref) = inbound.join_ref().or(inbound.msg_ref()) else {
            return self.reply_raw(
                None,
                None,
                &topic,
                ReplyStatus::Error,
                r#"{"reason":"join without a join_ref"}"#,
            );
        };
        let join_ref = join_ref.to_owned();
        // The payload is read here, whole, so a router is handed checked JSON.
        let payload = match inbound.payload() {
            Payload::Json(json) => RawValue::from_string(json.to_owned()).ok(),
            Payload::Binary(_) => None,
        };
        let Some(payload) = payload else {
            return self.reply_raw(
                Some(&join_ref),
                msg_ref.as_deref(),
                &topic,
                ReplyStatus::Error,
                r#"{"reason":"a join takes a JSON payload"}"#,
            );
        };
        // Nothing of the frame is kept across the join's await.
        drop(inbound);
        if let Some(old) = self.channel(&topic) {
            let old_pid = old.inbox.pid().clone();
            ctx.unlink(&old_pid);
            if !old_pid.is_alive() {
                // It exited before the unlink: its exit signal is on its way.
                self.remember_replaced(old_pid.clone());
            }
            cinder_runtime::exit(&old_pid, ExitReason::Shutdown);
            self.remove_channel(&old_pid, &ExitReason::Shutdown);
        }
        if self.channels.len() >= self.config.max_channels {
            let refused = JoinRefused::reason("too many channels joined");
            return self.reply_raw(
                Some(&join_ref),
                msg_ref.as_deref(),
                &topic,
                ReplyStatus::Error,
                &refused.0,
            );
        }
        let name = ChannelName::new(&topic, &join_ref);
        // What the channel sends before its join's reply is out waits for it.
        let sender = ws.held_sender();
        let request = JoinRequest {
            topic,
            join_ref,
            payload,
            outbox: Outbox {
                sender: sender.clone(),
                name: name.clone(),
            },
            connect: self.connect.clone(),
        };
        let (status, response) = match self.router.join(request).await {
            Ok(Joined { inbox, response }) => {
                ctx.link(inbox.pid());
                // Most connections join one channel, for their whole life:
                // room for one, not the four a first push makes.
                if self.channels.capacity() == 0 {
                    self.channels.reserve_exact(1);
                }
                self.channels.push(Channel {
                    name: name.clone(),
                    inbox,
                });
                (ReplyStatus::Ok, response)
            }
            Err(JoinRefused(response)) => (ReplyStatus::Error, response),
        };
        // The reply is built around the response, a page's whole render
        // when the join is a view's, in the response's own buffer.
        let reply = channel_reply_around(name.json(), msg_ref.as_deref(), status, response);
        self.own_frames.push(reply);
        self.write_own_frames(ws);
        match status {
            ReplyStatus::Ok => ws.release(&sender),
            ReplyStatus::Error => ws.discard_held(&sender),
        }
    }

    /// Awaits the exit signal of a replaced channel, forgetting the oldest
    /// one awaited when there are too many.
    fn remember_replaced(&mut self, pid: Pid) {
        if self.replaced.len() == MAX_REPLACED {
            self.replaced.remove(0);
        }
        self.replaced.push(pid);
    }

    /// Whether `pid` is a replaced channel whose exit signal was awaited;
    /// it no longer is.
    fn forget_replaced(&mut self, pid: &Pid) -> bool {
        let Some(index) = self.replaced.iter().position(|replaced| replaced == pid) else {
            return false;
        };
        self.replaced.swap_remove(index);
        true
    }

    /// Brings into the cache what a frame for the first channel will
    /// touch beyond the socket (the channel's entry, its process's mailbox
    /// and flags, and the lock of the frames on their way out, which the
    /// channel's answer takes), before the frame is read: nothing waits
    /// for them, so they come while the frame is read and decoded, where
    /// each would otherwise stall the event in turn. A connection's frames
    /// are nearly all for its one channel; a frame for another only loses
    /// the few requests.
    fn prefetch_for_frame(channels: &[Channel], outgoing: &WebSocketSender) {
        if let Some(channel) = channels.first() {
            channel.name.prefetch();
            channel.inbox.pid().prefetch();
            outgoing.prefetch();
        }
    }

    /// The channel joined on `topic`.
    fn channel(&self, topic: &str) -> Option<&Channel> {
        self.channels
            .iter()
            .find(|channel| channel.name.topic() == topic)
    }

    /// Where in `channels` the channel run by `pid` is.
    fn channel_of(&self, pid: &Pid) -> Option<usize> {
        self.channels
            .iter()
            .position(|channel| channel.inbox.pid() == pid)
    }

    /// Hands a message to its topic's channel, if the join_ref is current.
    fn forward(&mut self, inbound: Inbound, leave: bool) {
        let Some(channel) = self.channel(inbound.topic()) else {
            let refused = JoinRefused::reason("unmatched topic");
            return self.reply_raw(
                inbound.join_ref(),
                inbound.msg_ref(),
                inbound.topic(),
                ReplyStatus::Error,
                &refused.0,
            );
        };
        if inbound.join_ref() != Some(channel.name.join_ref()) {
            tracing::debug!(topic = %inbound.topic(), "ignoring a message for an earlier join");
            return;
        }
        let message = if leave {
            ChannelMessage::Leave {
                msg_ref: inbound.msg_ref().map(str::to_owned),
            }
        } else {
            ChannelMessage::Event(inbound)
        };
        // A channel that already exited is reported through its exit signal.
        channel.inbox.send(message);
    }

    /// A channel ended: `phx_close` if it ended cleanly, `phx_error` if it crashed.
    fn remove_channel(&mut self, pid: &Pid, reason: &ExitReason) {
        let Some(index) = self.channel_of(pid) else {
            return;
        };
        let channel = self.channels.swap_remove(index);
        let topic = channel.name.topic();
        let (event, payload) = if reason.is_clean() {
            ("phx_close", "{}")
        } else {
            tracing::error!(%topic, %reason, "channel crashed");
            ("phx_error", r#"{"reason":"channel_crash"}"#)
        };
        // `phx_close` and `phx_error` carry the join_ref as their ref too.
        let join_ref = Some(channel.name.join_ref());
        let frame = encode_channel_frame(channel.name.json(), join_ref, event, payload);
        self.own_frames.push(frame);
    }

    fn reply_raw(
        &mut self,
        join_ref: Option<&str>,
        msg_ref: Option<&str>,
        topic: &str,
        status: ReplyStatus,
        response: &str,
    ) {
        let frame = encode_reply_roomy(join_ref, msg_ref, topic, status, response);
        self.own_frames.push(frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_name_gives_back_its_topic_and_join_ref_as_sent_and_as_json() {
        let names = [
            ("lv:phx-F1", "4"),
            ("room:été", "12"),
            ("t", ""),
            ("", "9"),
            ("a\"b\\c\n", "\u{1}"),
        ];
        for (topic, join_ref) in names {
            let name = ChannelName::new(topic, join_ref);
            assert_eq!((name.topic(), name.join_ref()), (topic, join_ref));
            let json = name.json();
            let read = |json: &str| serde_json::from_str::<String>(json).unwrap();
            assert_eq!(
                (read(json.topic), read(json.join_ref)),
                (topic.into(), join_ref.into())
            );
        }
    }
}
