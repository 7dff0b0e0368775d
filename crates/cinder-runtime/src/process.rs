//! Processes: [`spawn`], [`Pid`], the mailbox [`Context`], links, monitors and exit signals.
//!
//! A process is a tokio task that owns its state and a mailbox. It runs until
//! its body returns, it panics, or a fatal exit signal reaches it at one of its
//! `.await` points. When it ends, every linked process gets an exit signal and
//! every monitor fires, exactly as in Erlang:
//!
//! - An exit signal with a reason other than `normal` kills a linked process,
//!   unless that process traps exits, in which case it receives
//!   [`Message::Exit`] instead.
//! - [`ExitReason::Kill`] sent with [`exit`] cannot be trapped; the target dies
//!   with [`ExitReason::Killed`], which then propagates like any other reason.
//! - A monitor delivers one [`Message::Down`] with the reason; monitoring a
//!   dead pid fires at once with [`ExitReason::NoProc`].
//!
//! ```
//! use cinder_runtime::{spawn, ExitReason, Message};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let echo = spawn(|mut ctx: cinder_runtime::Context<String>| async move {
//!     while let Message::User(text) = ctx.recv().await {
//!         if text == "stop" {
//!             return ExitReason::Normal;
//!         }
//!     }
//!     ExitReason::Normal
//! });
//! echo.send("hello".to_string()).unwrap();
//! echo.send("stop".to_string()).unwrap();
//! assert_eq!(echo.exited().await, ExitReason::Normal);
//! # }
//! ```

use std::any::Any;
use std::fmt;
use std::future::{poll_fn, Future};
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::exit::ExitReason;
use crate::mailbox::Mailbox;
use crate::relations::Relations;
use crate::table;

/// One counter for pids and monitor references: both key the same relation
/// map of a process, so they must never collide.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

tokio::task_local! {
    static CURRENT: Pid;
}

/// The pid of the process whose task is running this code, if any.
///
/// Functions such as [`gen_server::start_link`](crate::gen_server::start_link)
/// use it to link the new process to its caller, as `self()` would in Erlang.
pub fn current() -> Option<Pid> {
    CURRENT.try_with(Pid::clone).ok()
}

/// A message as a process receives it: a typed user message or a system signal.
#[derive(Debug)]
pub enum Message<M> {
    /// A message sent with [`Pid::send`].
    User(M),
    /// An exit signal turned into a message because the process traps exits
    /// (see [`Context::trap_exit`]). `from` is the process that sent it, or
    /// `None` when [`exit`] was called from outside any process.
    Exit {
        /// The sender of the signal (a linked process that died, or the caller of [`exit`]).
        from: Option<Pid>,
        /// Why.
        reason: ExitReason,
    },
    /// A monitored process ended (see [`Context::monitor`]).
    Down {
        /// The monitor that fired.
        monitor: MonitorRef,
        /// The process that ended.
        pid: Pid,
        /// Why it ended.
        reason: ExitReason,
    },
}

/// What a mailbox holds: a user message inline, a system signal boxed, so
/// that a queued message costs little more than the message itself.
pub(crate) enum Envelope<M> {
    User(M),
    Signal(Box<Signal>),
}

impl<M> From<Envelope<M>> for Message<M> {
    fn from(envelope: Envelope<M>) -> Self {
        match envelope {
            Envelope::User(message) => Message::User(message),
            Envelope::Signal(signal) => (*signal).into(),
        }
    }
}

pub(crate) enum Signal {
    Exit {
        from: Option<Pid>,
        reason: ExitReason,
    },
    Down {
        monitor: MonitorRef,
        pid: Pid,
        reason: ExitReason,
    },
}

impl<M> From<Signal> for Message<M> {
    fn from(signal: Signal) -> Self {
        match signal {
            Signal::Exit { from, reason } => Message::Exit { from, reason },
            Signal::Down {
                monitor,
                pid,
                reason,
            } => Message::Down {
                monitor,
                pid,
                reason,
            },
        }
    }
}

/// Why [`Pid::send`] could not deliver a message; the message comes back.
#[derive(thiserror::Error)]
pub enum SendError<M> {
    /// The process has exited.
    #[error("the process is not alive (noproc)")]
    NoProc(M),
    /// The process receives another type of message.
    #[error("the process receives messages of type `{expected}`, not `{sent}`")]
    WrongType {
        /// The message that was not sent.
        message: M,
        /// The type the process receives.
        expected: &'static str,
        /// The type that was sent.
        sent: &'static str,
    },
}

impl<M> SendError<M> {
    /// The message that was not delivered.
    pub fn into_message(self) -> M {
        match self {
            SendError::NoProc(message) | SendError::WrongType { message, .. } => message,
        }
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What a process is doing, as [`ProcessInfo`](crate::introspection::ProcessInfo) reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Runnable or running: it has work or is not waiting on its mailbox.
    Running,
    /// Waiting for a message on an empty mailbox.
    Waiting,
    /// It has exited.
    Exited,
}

const RUNNING: u8 = 0;
const WAITING: u8 = 1;
const EXITED: u8 = 2;

/// A reference to a monitor, returned by [`Context::monitor`] and carried by
/// the [`Message::Down`] it produces.
#[derive(Clone)]
pub struct MonitorRef {
    id: u64,
    target: Pid,
}

impl MonitorRef {
    /// The monitored process.
    pub fn target(&self) -> &Pid {
        &self.target
    }
}

impl PartialEq for MonitorRef {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for MonitorRef {}
impl Hash for MonitorRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}
impl fmt::Debug for MonitorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Reference<{}>", self.id)
    }
}

type DownCallback = Box<dyn FnOnce(&Pid, &ExitReason) + Send>;

enum Watcher {
    Process(Pid),
    Callback(DownCallback),
}

/// What a process knows about its neighbours, keyed by pid id (links) or by
/// monitor id (monitors); ids share one counter so the keys never collide.
enum Relation {
    Link(Pid),
    /// Someone monitors this process.
    WatchedBy(Watcher),
    /// This process monitors `target` (removed from the target when this process ends).
    Watching(Pid),
}

struct State {
    ending: Ending,
    trap_exit: bool,
    driver_waker: Option<Waker>,
    relations: Relations<Relation>,
    name: Option<Arc<str>>,
}

/// How far a process is on its way out. One field rather than two
/// reasons side by side: a fatal signal is pending only until the process
/// exits, so the two never hold a reason at once.
enum Ending {
    /// Running, with no fatal signal waiting.
    Running,
    /// A fatal signal waiting for the driver to end the body.
    Pending(ExitReason),
    /// Why the process exited.
    Exited(ExitReason),
}

impl State {
    fn exit_reason(&self) -> Option<&ExitReason> {
        match &self.ending {
            Ending::Exited(reason) => Some(reason),
            Ending::Running | Ending::Pending(_) => None,
        }
    }

    fn has_exited(&self) -> bool {
        self.exit_reason().is_some()
    }

    /// The pending fatal signal's reason, which the driver ends the body with.
    fn take_pending_exit(&mut self) -> Option<ExitReason> {
        match std::mem::replace(&mut self.ending, Ending::Running) {
            Ending::Pending(reason) => Some(reason),
            other => {
                self.ending = other;
                None
            }
        }
    }
}

/// The untyped part of every process.
pub(crate) struct Core {
    id: u64,
    state: Mutex<State>,
    fatal: AtomicBool,
    status: AtomicU8,
    handled: AtomicU64,
    body_size: AtomicUsize,
}

impl Core {
    fn new(id: u64, trap_exit: bool) -> Self {
        Core {
            id,
            state: Mutex::new(State {
                ending: Ending::Running,
                trap_exit,
                driver_waker: None,
                relations: Relations::default(),
                name: None,
            }),
            fatal: AtomicBool::new(false),
            status: AtomicU8::new(RUNNING),
            handled: AtomicU64::new(0),
            body_size: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The per-process object behind a [`Pid`], erased over the message type.
pub(crate) trait ProcessCell: Send + Sync + 'static {
    fn core(&self) -> &Core;
    fn as_any(&self) -> &dyn Any;
    fn message_type(&self) -> &'static str;
    fn push_signal(&self, signal: Signal);
    fn close_mailbox(&self);
    fn mailbox_len(&self) -> usize;
    fn mailbox_bytes(&self) -> usize;
    fn cell_bytes(&self) -> usize;
    fn prefetch(&self);
}

pub(crate) struct Cell<M> {
    core: Core,
    mailbox: Mailbox<Envelope<M>>,
}

impl<M: Send + 'static> ProcessCell for Cell<M> {
    fn core(&self) -> &Core {
        &self.core
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn message_type(&self) -> &'static str {
        std::any::type_name::<M>()
    }
    fn push_signal(&self, signal: Signal) {
        // A closed mailbox means the process is gone; the signal has no one to reach.
        let _ = self.mailbox.push(Envelope::Signal(Box::new(signal)));
    }
    fn close_mailbox(&self) {
        drop(self.mailbox.close());
    }
    fn mailbox_len(&self) -> usize {
        self.mailbox.len()
    }
    fn mailbox_bytes(&self) -> usize {
        self.mailbox.capacity() * std::mem::size_of::<Envelope<M>>()
    }
    fn cell_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
    }
    fn prefetch(&self) {
        crate::hint::prefetch(&self.core.fatal);
        self.mailbox.prefetch();
    }
}

/// A process identifier: the handle to send to, link to, monitor or kill a process.
///
/// Cheap to clone (one reference count). Equal pids name the same process.
/// A pid stays valid after its process exits: sends then fail with
/// [`SendError::NoProc`] and monitors fire at once with `noproc`.
#[derive(Clone)]
pub struct Pid(pub(crate) Arc<dyn ProcessCell>);

impl Pid {
    /// A number unique to this process for the life of the program.
    pub fn id(&self) -> u64 {
        self.0.core().id
    }

    /// Asks the processor for what a message to the process and its next
    /// run touch first (its mailbox's lock and its state flags), so that a
    /// message sent soon after finds them in the cache (see
    /// [`hint::prefetch`](crate::hint::prefetch)). Nothing waits for the
    /// lines, so they come while the caller works: a caller that will hand
    /// the process a message once it has read that message (a socket
    /// decoding a client's frame for a channel) then finds the process's
    /// memory there, instead of waiting for it after its own.
    pub fn prefetch(&self) {
        self.0.prefetch();
    }

    /// Whether the process is still running.
    pub fn is_alive(&self) -> bool {
        self.0.core().status.load(Ordering::Acquire) != EXITED
    }

    /// Sends a user message. The process must receive messages of type `M`
    /// (its [`Context<M>`]); the message comes back in the error otherwise.
    ///
    /// Like Erlang's `!`, this never blocks: the mailbox is unbounded.
    pub fn send<M: Send + 'static>(&self, message: M) -> Result<(), SendError<M>> {
        match self.0.as_any().downcast_ref::<Cell<M>>() {
            Some(cell) => cell
                .mailbox
                .push(Envelope::User(message))
                .map_err(|returned| match returned {
                    Envelope::User(message) => SendError::NoProc(message),
                    Envelope::Signal(_) => {
                        unreachable!("the mailbox returns the message it was given")
                    }
                }),
            None => Err(SendError::WrongType {
                message,
                expected: self.0.message_type(),
                sent: std::any::type_name::<M>(),
            }),
        }
    }

    /// Whether this process receives user messages of type `M`.
    pub fn accepts<M: Send + 'static>(&self) -> bool {
        self.0.as_any().is::<Cell<M>>()
    }

    /// Why the process exited, or `None` while it runs.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.0.core().lock().exit_reason().cloned()
    }

    /// Waits until the process has exited and returns its reason.
    ///
    /// Works from anywhere, inside a process or not, without a mailbox: it
    /// installs a one-shot monitor that is removed if the future is dropped.
    pub fn exited(&self) -> Exited {
        let (sender, receiver) = oneshot::channel();
        let monitor = monitor_with(self, move |_, reason| {
            let _ = sender.send(reason.clone());
        });
        Exited {
            receiver,
            monitor: Some(monitor),
        }
    }

    pub(crate) fn core(&self) -> &Core {
        self.0.core()
    }

    pub(crate) fn set_name(&self, name: Option<Arc<str>>) {
        self.core().lock().name = name;
    }

    pub(crate) fn name(&self) -> Option<Arc<str>> {
        self.core().lock().name.clone()
    }

    pub(crate) fn status(&self) -> Status {
        match self.core().status.load(Ordering::Acquire) {
            RUNNING => Status::Running,
            WAITING => Status::Waiting,
            _ => Status::Exited,
        }
    }

    pub(crate) fn messages_handled(&self) -> u64 {
        self.core().handled.load(Ordering::Relaxed)
    }

    pub(crate) fn mailbox_len(&self) -> usize {
        self.0.mailbox_len()
    }

    pub(crate) fn links(&self) -> Vec<Pid> {
        self.core()
            .lock()
            .relations
            .values()
            .filter_map(|relation| match relation {
                Relation::Link(pid) => Some(pid.clone()),
                _ => None,
            })
            .collect()
    }

    /// An estimate of the bytes this process holds: its cell, its task's
    /// future, its mailbox's buffer and its relation table.
    pub(crate) fn memory_estimate(&self) -> usize {
        let relations = self.core().lock().relations.capacity_elsewhere()
            * (std::mem::size_of::<(u64, Relation)>() + 1);
        self.0.cell_bytes()
            + self.core().body_size.load(Ordering::Relaxed)
            + self.0.mailbox_bytes()
            + relations
    }
}

impl PartialEq for Pid {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}
impl Eq for Pid {}
impl Hash for Pid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}
impl PartialOrd for Pid {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pid {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id().cmp(&other.id())
    }
}
impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#PID<0.{}.0>", self.id())
    }
}
impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The future returned by [`Pid::exited`].
pub struct Exited {
    receiver: oneshot::Receiver<ExitReason>,
    monitor: Option<MonitorRef>,
}

impl Future for Exited {
    type Output = ExitReason;
    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<ExitReason> {
        Pin::new(&mut self.receiver).poll(cx).map(|result| {
            self.monitor = None;
            result.unwrap_or(ExitReason::NoProc)
        })
    }
}

impl Drop for Exited {
    fn drop(&mut self) {
        if let Some(monitor) = self.monitor.take() {
            demonitor(&monitor);
        }
    }
}

/// The running process's side: its mailbox and the operations that act as `self()`.
///
/// A process body receives its `Context` from [`spawn`] and owns it.
pub struct Context<M> {
    cell: Arc<Cell<M>>,
}

impl<M: Send + 'static> Context<M> {
    /// This process's pid.
    pub fn pid(&self) -> Pid {
        Pid(self.cell.clone())
    }

    /// Waits for the next message.
    pub async fn recv(&mut self) -> Message<M> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Takes the next message, or registers the task to be woken when one
    /// comes: [`recv`](Context::recv) for a hand-written future, which
    /// can wait on the mailbox beside other sources without keeping a
    /// `recv` future of its own.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use cinder_runtime::{spawn, Context, ExitReason, Message};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let (report, received) = tokio::sync::oneshot::channel();
    /// let pid = spawn(|mut ctx: Context<u32>| async move {
    ///     let message = poll_fn(|cx| ctx.poll_recv(cx)).await;
    ///     let _ = report.send(matches!(message, Message::User(7)));
    ///     ExitReason::Normal
    /// });
    /// pid.send(7u32).unwrap();
    /// assert!(received.await.unwrap());
    /// # }
    /// ```
    pub fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Message<M>> {
        let core = &self.cell.core;
        match self.cell.mailbox.poll_pop(cx) {
            Poll::Ready(message) => {
                core.status.store(RUNNING, Ordering::Release);
                core.handled.fetch_add(1, Ordering::Relaxed);
                Poll::Ready(message.into())
            }
            Poll::Pending => {
                core.status.store(WAITING, Ordering::Release);
                Poll::Pending
            }
        }
    }

    /// Waits for the next message at most `timeout`; `None` if none came
    /// (Erlang's `receive ... after`).
    pub async fn recv_timeout(&mut self, timeout: Duration) -> Option<Message<M>> {
        tokio::time::timeout(timeout, self.recv()).await.ok()
    }

    /// Takes the next message if one is queued.
    pub fn try_recv(&mut self) -> Option<Message<M>> {
        let message = self.cell.mailbox.try_pop()?;
        self.cell.core.handled.fetch_add(1, Ordering::Relaxed);
        Some(message.into())
    }

    /// Takes the next message if it is one of the process's own type that
    /// `take` accepts; leaves it first in line otherwise, as it leaves
    /// exit signals and `Down` messages. A process uses it to handle a run
    /// of queued messages together, and the first of any other kind on its
    /// own.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use cinder_runtime::{spawn, Context, ExitReason};
    ///
    /// let (report, sums) = tokio::sync::oneshot::channel();
    /// let summer = spawn(move |mut ctx: Context<i32>| async move {
    ///     let mut sum = 0;
    ///     while let Some(n) = ctx.try_recv_if(|n| *n > 0) {
    ///         sum += n;
    ///     }
    ///     let _ = report.send((sum, ctx.mailbox_len()));
    ///     ExitReason::Normal
    /// });
    /// // Sent before the process first runs: all three are waiting for it.
    /// for n in [1, 2, -3] {
    ///     summer.send(n).unwrap();
    /// }
    /// // 1 and 2 were taken; -3 is still first in line.
    /// assert_eq!(sums.await.unwrap(), (3, 1));
    /// # }
    /// ```
    pub fn try_recv_if(&mut self, take: impl FnOnce(&M) -> bool) -> Option<M> {
        let envelope = self
            .cell
            .mailbox
            .try_pop_if(|envelope| matches!(envelope, Envelope::User(message) if take(message)))?;
        self.cell.core.handled.fetch_add(1, Ordering::Relaxed);
        match envelope {
            Envelope::User(message) => Some(message),
            Envelope::Signal(_) => unreachable!("only a user message is taken"),
        }
    }

    /// The number of messages waiting.
    pub fn mailbox_len(&self) -> usize {
        self.cell.mailbox.len()
    }

    /// Turns exit signals into [`Message::Exit`] messages instead of dying
    /// (`process_flag(trap_exit, true)`). [`ExitReason::Kill`] still kills.
    pub fn trap_exit(&self, trap: bool) {
        self.cell.core.lock().trap_exit = trap;
    }

    /// Links this process with `other`: when either exits, the other gets an
    /// exit signal. Linking to a dead process delivers a `noproc` exit signal
    /// to this process at once, as in Erlang.
    pub fn link(&self, other: &Pid) {
        link(&self.pid(), other);
    }

    /// Removes the link with `other`, if there is one.
    pub fn unlink(&self, other: &Pid) {
        unlink(&self.pid(), other);
    }

    /// Monitors `target`: one [`Message::Down`] arrives when it exits, at once
    /// with [`ExitReason::NoProc`] if it already has.
    pub fn monitor(&self, target: &Pid) -> MonitorRef {
        let me = self.pid();
        let monitor = MonitorRef {
            id: next_id(),
            target: target.clone(),
        };
        // Recorded here first: a target that exits as soon as it is watched
        // removes this entry when it fires, which it cannot do before the
        // entry exists.
        me.core()
            .lock()
            .relations
            .insert(monitor.id, Relation::Watching(target.clone()));
        if !add_watcher(target, monitor.id, Watcher::Process(me.clone())) {
            me.core().lock().relations.remove(&monitor.id);
            me.0.push_signal(Signal::Down {
                monitor: monitor.clone(),
                pid: target.clone(),
                reason: ExitReason::NoProc,
            });
        }
        monitor
    }

    /// Removes a monitor and any [`Message::Down`] it already delivered
    /// (`demonitor(Ref, [flush])`). Returns whether the monitor was still active.
    pub fn demonitor(&self, monitor: &MonitorRef) -> bool {
        self.cell.core.lock().relations.remove(&monitor.id);
        let active = demonitor(monitor);
        self.cell.mailbox.retain(|envelope| match envelope {
            Envelope::Signal(signal) => match &**signal {
                Signal::Down { monitor: m, .. } => m != monitor,
                Signal::Exit { .. } => true,
            },
            Envelope::User(_) => true,
        });
        active
    }

    /// Spawns a process linked to this one; the link exists before the new
    /// process runs, so neither can miss the other's exit (`spawn_link`).
    pub fn spawn_link<N, F, Fut>(&self, body: F) -> Pid
    where
        N: Send + 'static,
        F: FnOnce(Context<N>) -> Fut,
        Fut: Future<Output = ExitReason> + Send + 'static,
    {
        Spawn::new().link(&self.pid()).spawn(body)
    }
}

/// Options for starting a process; [`spawn`] is `Spawn::new().spawn(body)`.
///
/// ```
/// use cinder_runtime::{process::Spawn, Context, ExitReason, Message};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let pid = Spawn::new().trap_exit(true).spawn(|mut ctx: Context<()>| async move {
///     // Trapping from the first instruction: no window where a signal kills it.
///     match ctx.recv().await {
///         Message::Exit { .. } => ExitReason::Normal,
///         _ => ExitReason::error("expected an exit message"),
///     }
/// });
/// cinder_runtime::exit(&pid, ExitReason::Shutdown);
/// assert_eq!(pid.exited().await, ExitReason::Normal);
/// # }
/// ```
#[derive(Default)]
pub struct Spawn {
    link: Option<Pid>,
    trap_exit: bool,
}

impl Spawn {
    /// Default options: not linked, not trapping exits.
    pub fn new() -> Self {
        Spawn::default()
    }

    /// Links the new process to `pid` before it runs.
    pub fn link(mut self, pid: &Pid) -> Self {
        self.link = Some(pid.clone());
        self
    }

    /// Starts the process already trapping exits.
    pub fn trap_exit(mut self, trap: bool) -> Self {
        self.trap_exit = trap;
        self
    }

    /// Starts the process on the current tokio runtime.
    ///
    /// # Panics
    /// When called outside a tokio runtime, like `tokio::spawn`.
    pub fn spawn<M, F, Fut>(self, body: F) -> Pid
    where
        M: Send + 'static,
        F: FnOnce(Context<M>) -> Fut,
        Fut: Future<Output = ExitReason> + Send + 'static,
    {
        let cell = Arc::new(Cell::<M> {
            core: Core::new(next_id(), self.trap_exit),
            mailbox: Mailbox::new(),
        });
        let pid = Pid(cell.clone());
        if let Some(parent) = &self.link {
            link(parent, &pid);
        }
        table::insert(&pid);
        let future = body(Context { cell });
        pid.core()
            .body_size
            .store(std::mem::size_of_val(&future), Ordering::Relaxed);
        tokio::spawn(CURRENT.scope(pid.clone(), drive(Box::pin(future))));
        pid
    }
}

/// Starts a process running `body` and returns its pid.
///
/// The body receives the process's [`Context`] and returns its exit reason.
/// A panic in the body ends this process only, with [`ExitReason::Panic`].
pub fn spawn<M, F, Fut>(body: F) -> Pid
where
    M: Send + 'static,
    F: FnOnce(Context<M>) -> Fut,
    Fut: Future<Output = ExitReason> + Send + 'static,
{
    Spawn::new().spawn(body)
}

/// Runs a process body until it returns, panics or is killed, then ends the process.
///
/// The body comes boxed: an `async fn`'s argument is kept twice in its
/// future (the argument and the local it is moved into), and a body inline
/// in the task would be stored once for `drive`'s argument and again pinned
/// inside it. Boxed, the body's state machine exists once, and a process
/// costs its body plus a small task.
async fn drive<Fut>(mut body: Pin<Box<Fut>>)
where
    Fut: Future<Output = ExitReason>,
{
    let pid = current().expect("a process body runs inside its own task scope");
    let reason = {
        let core = pid.core();
        let mut registered: Option<Waker> = None;
        poll_fn(|cx| {
            if !registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                registered = Some(cx.waker().clone());
                core.lock().driver_waker = registered.clone();
            }
            if core.fatal.load(Ordering::Acquire) {
                if let Some(reason) = core.lock().take_pending_exit() {
                    return Poll::Ready(reason);
                }
            }
            match catch_unwind(AssertUnwindSafe(|| body.as_mut().poll(cx))) {
                Ok(poll) => poll,
                Err(payload) => Poll::Ready(ExitReason::from_panic(payload.as_ref())),
            }
        })
        .await
    };
    // The body (and with it the process's state) is dropped here, before
    // anyone learns of the exit, so a restarted successor never overlaps it.
    drop(body);
    finish(&pid, reason);
}

/// Runs `future`, turning a panic inside it into [`ExitReason::Panic`].
pub(crate) async fn guarded<F: Future>(future: F) -> Result<F::Output, ExitReason> {
    let mut future = pin!(future);
    poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(poll) => poll.map(Ok),
            Err(payload) => Poll::Ready(Err(ExitReason::from_panic(payload.as_ref()))),
        },
    )
    .await
}

/// Ends a process: records the reason, drops its mailbox, then tells linked
/// processes (first) and monitors (second) why.
fn finish(pid: &Pid, reason: ExitReason) {
    let core = pid.core();
    let relations = {
        let mut state = core.lock();
        state.ending = Ending::Exited(reason.clone());
        state.driver_waker = None;
        std::mem::take(&mut state.relations)
    };
    core.status.store(EXITED, Ordering::Release);
    pid.0.close_mailbox();
    table::remove(pid);
    if !reason.is_clean() && reason != ExitReason::Killed {
        tracing::debug!(pid = %pid, reason = %reason, "process exited");
    }
    let mut watchers = Vec::new();
    for (key, relation) in relations {
        match relation {
            Relation::Link(other) => {
                let still_linked = matches!(
                    other.core().lock().relations.remove(&core.id),
                    Some(Relation::Link(_))
                );
                if still_linked {
                    deliver_exit(&other, Some(pid.clone()), reason.clone(), true);
                }
            }
            Relation::WatchedBy(watcher) => watchers.push((key, watcher)),
            Relation::Watching(target) => {
                target.core().lock().relations.remove(&key);
            }
        }
    }
    for (key, watcher) in watchers {
        fire_monitor(pid, key, watcher, &reason);
    }
}

fn fire_monitor(pid: &Pid, key: u64, watcher: Watcher, reason: &ExitReason) {
    match watcher {
        Watcher::Process(watcher) => {
            watcher.core().lock().relations.remove(&key);
            watcher.0.push_signal(Signal::Down {
                monitor: MonitorRef {
                    id: key,
                    target: pid.clone(),
                },
                pid: pid.clone(),
                reason: reason.clone(),
            });
        }
        Watcher::Callback(callback) => callback(pid, reason),
    }
}

/// Delivers an exit signal with Erlang's rules (see the module docs).
fn deliver_exit(target: &Pid, from: Option<Pid>, reason: ExitReason, via_link: bool) {
    let core = target.core();
    let mut state = core.lock();
    if state.has_exited() {
        return;
    }
    let fatal = if reason == ExitReason::Kill && !via_link {
        ExitReason::Killed
    } else if state.trap_exit {
        drop(state);
        target.0.push_signal(Signal::Exit { from, reason });
        return;
    } else if reason == ExitReason::Normal {
        // `normal` only ends a process that sends it to itself.
        if from.as_ref() != Some(target) {
            return;
        }
        ExitReason::Normal
    } else {
        reason
    };
    if matches!(state.ending, Ending::Running) {
        state.ending = Ending::Pending(fatal);
    }
    // Raised under the lock: the driver registers its waker under it and
    // reads the flag after, so either it sees the flag or the waker is
    // already here to be woken. Raised after the unlock, a driver polled
    // for the first time in between would see neither and never wake.
    core.fatal.store(true, Ordering::Release);
    let waker = state.driver_waker.clone();
    drop(state);
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Sends an exit signal to `pid` (Erlang's `exit/2`), on behalf of the
/// current process if there is one.
///
/// - [`ExitReason::Kill`] always kills; the process exits with `killed`.
/// - A process that traps exits receives [`Message::Exit`] for any other reason.
/// - Otherwise `normal` is ignored and every other reason ends the process
///   with that reason.
pub fn exit(pid: &Pid, reason: ExitReason) {
    deliver_exit(pid, current(), reason, false);
}

pub(crate) fn link(a: &Pid, b: &Pid) {
    if a == b {
        return;
    }
    let (first, second) = if a.id() < b.id() { (a, b) } else { (b, a) };
    let mut first_state = first.core().lock();
    let mut second_state = second.core().lock();
    let dead = if first_state.has_exited() {
        Some((first, second))
    } else if second_state.has_exited() {
        Some((second, first))
    } else {
        None
    };
    match dead {
        None => {
            first_state
                .relations
                .insert(second.id(), Relation::Link(second.clone()));
            second_state
                .relations
                .insert(first.id(), Relation::Link(first.clone()));
        }
        Some((dead, alive)) => {
            drop(first_state);
            drop(second_state);
            deliver_exit(alive, Some(dead.clone()), ExitReason::NoProc, true);
        }
    }
}

pub(crate) fn unlink(a: &Pid, b: &Pid) {
    a.core().lock().relations.remove(&b.id());
    b.core().lock().relations.remove(&a.id());
}

/// Registers a watcher on `target`; false if the target has already exited.
fn add_watcher(target: &Pid, id: u64, watcher: Watcher) -> bool {
    let mut state = target.core().lock();
    if state.has_exited() {
        return false;
    }
    state.relations.insert(id, Relation::WatchedBy(watcher));
    true
}

/// Monitors `target` with a callback instead of a mailbox, for runtime
/// services (registries, PubSub, [`Pid::exited`]) that are not processes.
/// The callback runs in the exiting process's task, or at once if the
/// target has already exited; either way it gets the real exit reason.
pub(crate) fn monitor_with(
    target: &Pid,
    callback: impl FnOnce(&Pid, &ExitReason) + Send + 'static,
) -> MonitorRef {
    let id = next_id();
    let mut state = target.core().lock();
    if let Some(reason) = state.exit_reason().cloned() {
        drop(state);
        callback(target, &reason);
    } else {
        state.relations.insert(
            id,
            Relation::WatchedBy(Watcher::Callback(Box::new(callback))),
        );
    }
    MonitorRef {
        id,
        target: target.clone(),
    }
}

/// Removes a monitor from its target; true if it had not fired yet.
pub(crate) fn demonitor(monitor: &MonitorRef) -> bool {
    let removed = monitor.target.core().lock().relations.remove(&monitor.id);
    matches!(removed, Some(Relation::WatchedBy(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A monitor whose target exits while it is being set up must leave no
    /// entry behind in the watcher: a long-lived process that monitors many
    /// short-lived ones would otherwise keep every one of them allocated.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_monitor_that_fired_leaves_nothing_in_the_watcher() {
        const TARGETS: usize = 5_000;
        let (report, relations_left) = tokio::sync::oneshot::channel();
        // The killer is a thread of its own, so exits land while the
        // watcher is in the middle of `monitor`, on the other worker.
        let (doom, doomed) = std::sync::mpsc::channel::<Pid>();
        std::thread::spawn(move || {
            for target in doomed {
                exit(&target, ExitReason::Shutdown);
            }
        });
        spawn(move |mut ctx: Context<()>| async move {
            for _ in 0..TARGETS {
                let target = spawn(|mut ctx: Context<()>| async move {
                    loop {
                        ctx.recv().await;
                    }
                });
                // Polled once, the target is woken by its exit and ends on
                // whichever worker is free.
                tokio::task::yield_now().await;
                doom.send(target.clone()).expect("the killer runs");
                ctx.monitor(&target);
            }
            let mut downs = 0;
            while downs < TARGETS {
                if let Message::Down { .. } = ctx.recv().await {
                    downs += 1;
                }
            }
            let _ = report.send(ctx.pid().core().lock().relations.len());
            ExitReason::Normal
        });
        let left = tokio::time::timeout(std::time::Duration::from_secs(30), relations_left)
            .await
            .expect("every Down arrives")
            .expect("the watcher reports");
        assert_eq!(left, 0);
    }

    #[test]
    fn a_pending_exit_is_taken_once_and_an_exit_is_kept() {
        let mut state = Core::new(1, false).state.into_inner().unwrap();
        assert_eq!(state.take_pending_exit(), None);
        state.ending = Ending::Pending(ExitReason::Killed);
        assert!(!state.has_exited());
        assert_eq!(state.exit_reason(), None);
        assert_eq!(state.take_pending_exit(), Some(ExitReason::Killed));
        assert_eq!(state.take_pending_exit(), None);
        state.ending = Ending::Exited(ExitReason::Normal);
        assert_eq!(state.take_pending_exit(), None);
        assert!(state.has_exited());
        assert_eq!(state.exit_reason(), Some(&ExitReason::Normal));
    }
}
