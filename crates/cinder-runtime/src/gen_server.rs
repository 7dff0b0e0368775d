//! Generic servers: the [`GenServer`] trait, [`start`] / [`start_link`], and
//! the typed [`Server`] handle for [`call`](Server::call) and [`cast`](Server::cast).
//!
//! A server is a process that owns a value of your type and handles one
//! message at a time, as `GenServer` does in Elixir:
//!
//! ```
//! use cinder_runtime::gen_server::{self, CallResult, Flow, GenServer, ServerContext};
//! use cinder_runtime::ExitReason;
//!
//! struct Counter(u64);
//!
//! enum Call { Get }
//! enum Cast { Add(u64) }
//!
//! impl GenServer for Counter {
//!     type Args = u64;
//!     type Call = Call;
//!     type Reply = u64;
//!     type Cast = Cast;
//!     type Info = ();
//!
//!     async fn init(start: u64, _ctx: &mut ServerContext<Self>) -> Result<Self, ExitReason> {
//!         Ok(Counter(start))
//!     }
//!
//!     async fn handle_call(&mut self, call: Call, _ctx: &mut ServerContext<Self>) -> CallResult<u64> {
//!         match call {
//!             Call::Get => CallResult::Reply(self.0),
//!         }
//!     }
//!
//!     async fn handle_cast(&mut self, cast: Cast, _ctx: &mut ServerContext<Self>) -> Flow {
//!         let Cast::Add(n) = cast;
//!         self.0 += n;
//!         Flow::Continue
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let counter = gen_server::start::<Counter>(40).await.unwrap();
//! counter.cast(Cast::Add(2)).unwrap();
//! assert_eq!(counter.call(Call::Get).await.unwrap(), 42);
//! # }
//! ```
//!
//! A panic in any callback ends the server with [`ExitReason::Panic`]; a
//! pending caller gets [`CallError::Exited`] and [`GenServer::terminate`] runs
//! first, as in OTP.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::exit::ExitReason;
use crate::process::{self, guarded, Context, Message, MonitorRef, Pid, Spawn};
use crate::recipient::Recipient;
use crate::registry;
use crate::timer::{self, TimerRef};

/// The default timeout of [`Server::call`], as in Elixir: five seconds.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// What a server does after a cast or an info message.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep running (`{:noreply, state}`).
    Continue,
    /// Stop with this reason; [`GenServer::terminate`] runs first (`{:stop, reason, state}`).
    Stop(ExitReason),
}

/// What a server does after a call.
#[derive(Debug, PartialEq, Eq)]
pub enum CallResult<R> {
    /// Reply to the caller and keep running (`{:reply, reply, state}`).
    Reply(R),
    /// Do not reply now. Take the caller with [`ServerContext::defer_reply`]
    /// to reply later, or the caller times out (`{:noreply, state}`).
    NoReply,
    /// Stop with `reason`, replying first if `reply` is given (`{:stop, reason, reply, state}`).
    Stop {
        /// Why the server stops.
        reason: ExitReason,
        /// The reply to send before stopping, if any.
        reply: Option<R>,
    },
}

/// A process that owns its state and serves calls, casts and messages one at a time.
///
/// Write the callbacks with `async fn`; each must return a `Send` future. The
/// defaults follow OTP: an unexpected call or cast stops the server with an
/// error, an unexpected info message is logged and ignored, and `terminate`
/// does nothing.
pub trait GenServer: Sized + Send + 'static {
    /// What [`init`](GenServer::init) receives.
    type Args: Send + 'static;
    /// The requests of [`Server::call`].
    type Call: Send + 'static;
    /// The replies to calls.
    type Reply: Send + 'static;
    /// The messages of [`Server::cast`].
    type Cast: Send + 'static;
    /// Plain messages: [`Server::send`], timers, PubSub.
    type Info: Send + 'static;

    /// Builds the state. Runs in the new process; the starter waits for it.
    /// An `Err` makes [`start`] fail with [`StartError::Init`].
    fn init(
        args: Self::Args,
        ctx: &mut ServerContext<Self>,
    ) -> impl Future<Output = Result<Self, ExitReason>> + Send;

    /// Handles a request that expects a reply.
    fn handle_call(
        &mut self,
        request: Self::Call,
        ctx: &mut ServerContext<Self>,
    ) -> impl Future<Output = CallResult<Self::Reply>> + Send {
        let _ = (request, ctx);
        async {
            CallResult::Stop {
                reason: unexpected::<Self>("call"),
                reply: None,
            }
        }
    }

    /// Handles a request that expects no reply.
    fn handle_cast(
        &mut self,
        message: Self::Cast,
        ctx: &mut ServerContext<Self>,
    ) -> impl Future<Output = Flow> + Send {
        let _ = (message, ctx);
        async { Flow::Stop(unexpected::<Self>("cast")) }
    }

    /// Handles plain messages and, when trapping exits, exit signals and
    /// monitor notifications. An exit signal from the parent never reaches
    /// here: it stops the server (after `terminate`), as in OTP.
    fn handle_info(
        &mut self,
        message: Message<Self::Info>,
        ctx: &mut ServerContext<Self>,
    ) -> impl Future<Output = Flow> + Send {
        if let Message::User(_) = message {
            tracing::warn!(
                server = std::any::type_name::<Self>(),
                pid = %ctx.pid(),
                "unhandled info message"
            );
        }
        async { Flow::Continue }
    }

    /// Runs once when the server stops: after a callback asked to stop, after
    /// a panic in a callback, or when a trapped exit signal from the parent
    /// arrives. It does not run when the process is killed untrapped.
    fn terminate(
        &mut self,
        reason: &ExitReason,
        ctx: &mut ServerContext<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, ctx);
        async {}
    }
}

fn unexpected<G>(kind: &str) -> ExitReason {
    ExitReason::error(format!(
        "{} received a {kind} but does not implement handle_{kind}",
        std::any::type_name::<G>()
    ))
}

/// The mailbox type of a [`GenServer`] process.
pub enum ServerMessage<G: GenServer> {
    /// A call with the channel for its reply.
    Call(G::Call, oneshot::Sender<G::Reply>),
    /// A cast.
    Cast(G::Cast),
    /// A plain message.
    Info(G::Info),
    /// A request to stop with a reason (see [`Server::stop`]).
    Stop(ExitReason),
}

/// The server's side of its process: `self()`, links, monitors, timers, replies.
pub struct ServerContext<G: GenServer> {
    process: Context<ServerMessage<G>>,
    parent: Option<Pid>,
    caller: Option<oneshot::Sender<G::Reply>>,
}

impl<G: GenServer> ServerContext<G> {
    /// This server's pid.
    pub fn pid(&self) -> Pid {
        self.process.pid()
    }

    /// A typed handle to this server.
    pub fn server(&self) -> Server<G> {
        Server::unchecked(self.pid())
    }

    /// The process that started this server with [`start_link`], if any.
    pub fn parent(&self) -> Option<&Pid> {
        self.parent.as_ref()
    }

    /// See [`Context::trap_exit`].
    pub fn trap_exit(&self, trap: bool) {
        self.process.trap_exit(trap);
    }

    /// See [`Context::link`].
    pub fn link(&self, other: &Pid) {
        self.process.link(other);
    }

    /// See [`Context::unlink`].
    pub fn unlink(&self, other: &Pid) {
        self.process.unlink(other);
    }

    /// See [`Context::monitor`].
    pub fn monitor(&self, target: &Pid) -> MonitorRef {
        self.process.monitor(target)
    }

    /// See [`Context::demonitor`].
    pub fn demonitor(&self, monitor: &MonitorRef) -> bool {
        self.process.demonitor(monitor)
    }

    /// Takes the current caller so the reply can be sent later, from this
    /// callback's return or from anywhere else. Only inside
    /// [`GenServer::handle_call`]; `None` elsewhere or when already taken.
    pub fn defer_reply(&mut self) -> Option<ReplyTo<G::Reply>> {
        self.caller.take().map(ReplyTo)
    }

    /// Sends `message` to this server's `handle_info` after `delay`.
    pub fn send_after(&self, message: G::Info, delay: Duration) -> TimerRef {
        timer::schedule(&self.pid(), ServerMessage::<G>::Info(message), delay)
    }

    /// Sends a clone of `message` to this server's `handle_info` every `period`.
    pub fn send_interval(&self, message: G::Info, period: Duration) -> TimerRef
    where
        G::Info: Clone + Sync,
    {
        timer::interval_with(&self.pid(), period, move || {
            ServerMessage::<G>::Info(message.clone())
        })
    }

    /// The number of messages waiting in this server's mailbox.
    pub fn mailbox_len(&self) -> usize {
        self.process.mailbox_len()
    }
}

/// A deferred reply to a caller (see [`ServerContext::defer_reply`]).
pub struct ReplyTo<R>(oneshot::Sender<R>);

impl<R> ReplyTo<R> {
    /// Sends the reply; false if the caller gave up (timed out or exited).
    pub fn reply(self, reply: R) -> bool {
        self.0.send(reply).is_ok()
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The server is not alive.
    #[error("the server is not alive (noproc)")]
    NoProc,
    /// No reply came within the timeout. The server may still be working on it.
    #[error("the server did not reply within the timeout")]
    Timeout,
    /// The server exited before replying.
    #[error("the server exited before replying: {0}")]
    Exited(ExitReason),
    /// A server called itself, which can never be answered.
    #[error("a server cannot call itself: it would wait for its own reply forever")]
    CallingSelf,
}

/// Why a server did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// `init` returned an error, panicked, or the process was killed while in it.
    #[error("init failed: {0}")]
    Init(ExitReason),
    /// The requested name is taken.
    #[error("the name is already registered to {0}")]
    AlreadyRegistered(Pid),
    /// [`start_link`] was called outside any process, so there is nothing to link to.
    #[error("start_link was called outside a process; use start, or call it from a process")]
    NoCaller,
}

/// A typed handle to a running [`GenServer`]. Cheap to clone.
pub struct Server<G> {
    pid: Pid,
    _server: PhantomData<fn() -> G>,
}

impl<G> Clone for Server<G> {
    fn clone(&self) -> Self {
        Server {
            pid: self.pid.clone(),
            _server: PhantomData,
        }
    }
}

impl<G> fmt::Debug for Server<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Server<{}>({})", std::any::type_name::<G>(), self.pid)
    }
}

impl<G: GenServer> Server<G> {
    fn unchecked(pid: Pid) -> Self {
        Server {
            pid,
            _server: PhantomData,
        }
    }

    /// The handle for `pid` if it is a server of type `G`.
    pub fn from_pid(pid: &Pid) -> Option<Self> {
        pid.accepts::<ServerMessage<G>>()
            .then(|| Server::unchecked(pid.clone()))
    }

    /// The server's pid.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// Calls the server and waits at most [`DEFAULT_CALL_TIMEOUT`] for the reply.
    pub async fn call(&self, request: G::Call) -> Result<G::Reply, CallError> {
        self.call_timeout(request, DEFAULT_CALL_TIMEOUT).await
    }

    /// Calls the server and waits at most `timeout` for the reply.
    pub async fn call_timeout(
        &self,
        request: G::Call,
        timeout: Duration,
    ) -> Result<G::Reply, CallError> {
        if process::current().as_ref() == Some(&self.pid) {
            return Err(CallError::CallingSelf);
        }
        let deadline = Instant::now() + timeout;
        let (sender, receiver) = oneshot::channel();
        self.pid
            .send(ServerMessage::<G>::Call(request, sender))
            .map_err(|_| CallError::NoProc)?;
        match tokio::time::timeout_at(deadline, receiver).await {
            Ok(Ok(reply)) => Ok(reply),
            // The reply channel was dropped: either the server is exiting
            // (report why) or it chose never to reply (time out).
            Ok(Err(_)) => match tokio::time::timeout_at(deadline, self.pid.exited()).await {
                Ok(reason) => Err(CallError::Exited(reason)),
                Err(_) => Err(CallError::Timeout),
            },
            Err(_) => Err(CallError::Timeout),
        }
    }

    /// Sends a cast; returns at once.
    pub fn cast(&self, message: G::Cast) -> Result<(), CallError> {
        self.pid
            .send(ServerMessage::<G>::Cast(message))
            .map_err(|_| CallError::NoProc)
    }

    /// Sends a plain message to `handle_info`.
    pub fn send(&self, message: G::Info) -> Result<(), CallError> {
        self.pid
            .send(ServerMessage::<G>::Info(message))
            .map_err(|_| CallError::NoProc)
    }

    /// A [`Recipient`] delivering `T` to this server's `handle_info`, for
    /// [`PubSub`](crate::pubsub::PubSub) subscriptions and timers.
    pub fn recipient<T>(&self) -> Recipient<T>
    where
        T: Into<G::Info> + Send + 'static,
    {
        Recipient::mapped(&self.pid, |message: T| {
            ServerMessage::<G>::Info(message.into())
        })
        .expect("a server's pid receives its own ServerMessage type")
    }

    /// Asks the server to stop with `reason` (running `terminate`) and waits
    /// until it has exited. Returns the reason it exited with.
    pub async fn stop(&self, reason: ExitReason) -> ExitReason {
        let exited = self.pid.exited();
        let _ = self.pid.send(ServerMessage::<G>::Stop(reason));
        exited.await
    }
}

/// Options for [`start_with`].
#[derive(Default, Clone, Debug)]
pub struct StartOptions {
    link: bool,
    name: Option<Arc<str>>,
}

impl StartOptions {
    /// No link, no name.
    pub fn new() -> Self {
        StartOptions::default()
    }

    /// Links the server to the calling process (see [`start_link`]).
    pub fn link(mut self) -> Self {
        self.link = true;
        self
    }

    /// Registers the server under `name` in the global name registry
    /// (see [`registry::whereis`]) before `init` runs.
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// Starts a server not linked to anyone and waits for its `init`.
pub async fn start<G: GenServer>(args: G::Args) -> Result<Server<G>, StartError> {
    start_with::<G>(args, StartOptions::new()).await
}

/// Starts a server linked to the calling process (its parent) and waits for
/// its `init`. If `init` fails the link is removed first, so the caller gets
/// the error as a value and is not killed by it.
pub async fn start_link<G: GenServer>(args: G::Args) -> Result<Server<G>, StartError> {
    start_with::<G>(args, StartOptions::new().link()).await
}

/// Starts a server with [`StartOptions`] and waits for its `init`.
pub async fn start_with<G: GenServer>(
    args: G::Args,
    options: StartOptions,
) -> Result<Server<G>, StartError> {
    let parent = match options.link {
        true => Some(process::current().ok_or(StartError::NoCaller)?),
        false => None,
    };
    let (started, outcome) = oneshot::channel();
    let spawn = match &parent {
        Some(parent) => Spawn::new().link(parent),
        None => Spawn::new(),
    };
    let pid = spawn.spawn(move |process: Context<ServerMessage<G>>| {
        let ctx = ServerContext {
            process,
            parent,
            caller: None,
        };
        run::<G>(ctx, args, options.name, started)
    });
    match outcome.await {
        Ok(Ok(())) => Ok(Server::unchecked(pid)),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(StartError::Init(pid.exited().await)),
    }
}

async fn run<G: GenServer>(
    mut ctx: ServerContext<G>,
    args: G::Args,
    name: Option<Arc<str>>,
    started: oneshot::Sender<Result<(), StartError>>,
) -> ExitReason {
    let mut state = match init::<G>(&mut ctx, args, name).await {
        Ok(state) => state,
        Err((error, reason)) => {
            if let Some(parent) = ctx.parent.clone() {
                ctx.unlink(&parent);
            }
            let _ = started.send(Err(error));
            return reason;
        }
    };
    let _ = started.send(Ok(()));
    let reason = loop {
        let message = ctx.process.recv().await;
        match dispatch(&mut state, message, &mut ctx).await {
            Ok(Flow::Continue) => {}
            Ok(Flow::Stop(reason)) => break reason,
            Err(panic) => break panic,
        }
    };
    if let Err(panic) = guarded(state.terminate(&reason, &mut ctx)).await {
        tracing::error!(pid = %ctx.pid(), %panic, "terminate panicked");
    }
    reason
}

async fn init<G: GenServer>(
    ctx: &mut ServerContext<G>,
    args: G::Args,
    name: Option<Arc<str>>,
) -> Result<G, (StartError, ExitReason)> {
    if let Some(name) = name {
        if let Err(existing) = registry::register(name, &ctx.pid()) {
            return Err((StartError::AlreadyRegistered(existing), ExitReason::Normal));
        }
    }
    match guarded(G::init(args, ctx)).await {
        Ok(Ok(state)) => Ok(state),
        Ok(Err(reason)) | Err(reason) => Err((StartError::Init(reason.clone()), reason)),
    }
}

/// Runs the callback for one message. `Err` carries a panic's exit reason.
async fn dispatch<G: GenServer>(
    state: &mut G,
    message: Message<ServerMessage<G>>,
    ctx: &mut ServerContext<G>,
) -> Result<Flow, ExitReason> {
    match message {
        Message::User(ServerMessage::Call(request, caller)) => {
            ctx.caller = Some(caller);
            let result = guarded(state.handle_call(request, ctx)).await?;
            let caller = ctx.caller.take();
            Ok(match result {
                CallResult::Reply(reply) => {
                    reply_if_waiting(caller, reply);
                    Flow::Continue
                }
                CallResult::NoReply => Flow::Continue,
                CallResult::Stop { reason, reply } => {
                    if let Some(reply) = reply {
                        reply_if_waiting(caller, reply);
                    }
                    Flow::Stop(reason)
                }
            })
        }
        Message::User(ServerMessage::Cast(message)) => {
            guarded(state.handle_cast(message, ctx)).await
        }
        Message::User(ServerMessage::Info(message)) => {
            guarded(state.handle_info(Message::User(message), ctx)).await
        }
        Message::User(ServerMessage::Stop(reason)) => Ok(Flow::Stop(reason)),
        Message::Exit {
            from: Some(from),
            reason,
        } if ctx.parent.as_ref() == Some(&from) => Ok(Flow::Stop(reason)),
        Message::Exit { from, reason } => {
            guarded(state.handle_info(Message::Exit { from, reason }, ctx)).await
        }
        Message::Down {
            monitor,
            pid,
            reason,
        } => {
            let message = Message::Down {
                monitor,
                pid,
                reason,
            };
            guarded(state.handle_info(message, ctx)).await
        }
    }
}

fn reply_if_waiting<R>(caller: Option<oneshot::Sender<R>>, reply: R) {
    match caller {
        Some(caller) => {
            let _ = caller.send(reply);
        }
        None => tracing::warn!(
            "handle_call returned a reply after defer_reply took the caller; the reply is dropped"
        ),
    }
}
