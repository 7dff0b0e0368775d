//! Supervisors: processes that start children, watch them, and restart them
//! by the rules of OTP's `supervisor`.
//!
//! - Children start in order and stop in reverse order.
//! - A child that exits is restarted according to its [`Restart`] policy and
//!   the supervisor's [`Strategy`].
//! - More than `max_restarts` restarts within `max_seconds` (OTP's defaults:
//!   3 in 5 s) and the supervisor stops its children and exits with
//!   `shutdown`, leaving the decision to its own supervisor.
//! - A [`DynamicSupervisor`] starts children on demand, any number of them.
//!
//! ```
//! use cinder_runtime::supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
//! use cinder_runtime::{Context, ExitReason};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let worker = |mut ctx: Context<()>| async move { loop { ctx.recv().await; } };
//! let spec = SupervisorSpec::new(Strategy::OneForOne)
//!     .child(ChildSpec::process("a", worker))
//!     .child(ChildSpec::process("b", worker));
//! let supervisor = Supervisor::start(spec).await.unwrap();
//!
//! let children = supervisor.which_children().await.unwrap();
//! let a = children[0].pid.clone().unwrap();
//! cinder_runtime::exit(&a, ExitReason::error("boom"));
//! a.exited().await;
//!
//! let children = supervisor.which_children().await.unwrap();
//! assert_ne!(children[0].pid.as_ref(), Some(&a), "a was restarted with a new pid");
//! assert_eq!(supervisor.stop().await, ExitReason::Shutdown);
//! # }
//! ```

mod child;
mod dynamic;
mod intensity;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

pub use child::{ChildKind, ChildSpec, Restart, Shutdown, StartFuture, DEFAULT_SHUTDOWN};
pub use dynamic::{DynamicSupervisor, DynamicSupervisorSpec, StartChildError};
pub use intensity::{DEFAULT_MAX_RESTARTS, DEFAULT_MAX_SECONDS};

pub(crate) use child::{begin_shutdown, shutdown_child};
pub(crate) use intensity::Intensity;

use crate::exit::ExitReason;
use crate::gen_server::{
    self, CallError, CallResult, Flow, GenServer, Server, ServerContext, StartError, StartOptions,
};
use crate::process::{Message, Pid};

/// Calls to a supervisor may wait on a child's whole shutdown, so they wait
/// as long as it takes, as in OTP.
pub(crate) const SUPERVISOR_CALL_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Which children restart when one exits and needs restarting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// Only that child.
    #[default]
    OneForOne,
    /// Every child: the others are stopped (in reverse order), then all start again in order.
    OneForAll,
    /// That child and every child started after it.
    RestForOne,
}

/// The configuration of a [`Supervisor`]: strategy, restart intensity, children.
#[derive(Clone, Debug)]
pub struct SupervisorSpec {
    strategy: Strategy,
    max_restarts: u32,
    max_seconds: Duration,
    children: Vec<ChildSpec>,
    name: Option<Arc<str>>,
}

impl SupervisorSpec {
    /// A spec with OTP's default intensity (3 restarts in 5 s) and no children.
    pub fn new(strategy: Strategy) -> Self {
        SupervisorSpec {
            strategy,
            max_restarts: DEFAULT_MAX_RESTARTS,
            max_seconds: DEFAULT_MAX_SECONDS,
            children: Vec::new(),
            name: None,
        }
    }

    /// The most restarts allowed within [`max_seconds`](SupervisorSpec::max_seconds).
    pub fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// The window restarts are counted in.
    pub fn max_seconds(mut self, period: Duration) -> Self {
        self.max_seconds = period;
        self
    }

    /// Adds a child; children start in the order they are added.
    pub fn child(mut self, child: ChildSpec) -> Self {
        self.children.push(child);
        self
    }

    /// Adds children in order.
    pub fn children(mut self, children: impl IntoIterator<Item = ChildSpec>) -> Self {
        self.children.extend(children);
        self
    }

    /// Registers the supervisor under a process-wide name.
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// One child as [`Supervisor::which_children`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildInfo {
    /// The child's id.
    pub id: Arc<str>,
    /// Its pid, or `None` if it is not running (terminated, or a transient
    /// child that exited cleanly).
    pub pid: Option<Pid>,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Its restart policy.
    pub restart: Restart,
}

/// Counts of a supervisor's children.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChildCounts {
    /// Child specs held.
    pub specs: usize,
    /// Children running.
    pub active: usize,
    /// Of the specs, how many are supervisors.
    pub supervisors: usize,
    /// Of the specs, how many are workers.
    pub workers: usize,
}

impl ChildCounts {
    fn of<'a>(children: impl Iterator<Item = (ChildKind, bool)> + 'a) -> Self {
        children.fold(ChildCounts::default(), |mut counts, (kind, running)| {
            counts.specs += 1;
            counts.active += usize::from(running);
            match kind {
                ChildKind::Supervisor => counts.supervisors += 1,
                ChildKind::Worker => counts.workers += 1,
            }
            counts
        })
    }
}

/// A node of the supervision tree, as [`Supervisor::tree`] returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeNode {
    /// The child id (the root's is `"root"`).
    pub id: Arc<str>,
    /// The pid, if running.
    pub pid: Option<Pid>,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// For a supervisor, its children in start order.
    pub children: Vec<TreeNode>,
}

/// Why a supervisor request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SupervisorError {
    /// No child has this id.
    #[error("no child with id `{0}`")]
    NotFound(Arc<str>),
    /// The child is running; terminate it first.
    #[error("child `{0}` is running; terminate it first")]
    Running(Arc<str>),
    /// A child with this id exists already.
    #[error("a child with id `{0}` already exists")]
    AlreadyPresent(Arc<str>),
    /// The child failed to start.
    #[error("the child failed to start: {0}")]
    Start(StartError),
    /// The supervisor did not answer.
    #[error("the supervisor did not answer: {0}")]
    Call(#[from] CallError),
}

/// A handle to a running supervisor.
#[derive(Clone, Debug)]
pub struct Supervisor {
    server: Server<SupervisorServer>,
}

impl Supervisor {
    /// Starts a supervisor and its children, not linked to the caller.
    /// Fails if a child fails to start (the others are stopped again).
    pub async fn start(spec: SupervisorSpec) -> Result<Supervisor, StartError> {
        Supervisor::start_with(spec, StartOptions::new()).await
    }

    /// Starts a supervisor linked to the calling process.
    pub async fn start_link(spec: SupervisorSpec) -> Result<Supervisor, StartError> {
        Supervisor::start_with(spec, StartOptions::new().link()).await
    }

    async fn start_with(
        spec: SupervisorSpec,
        options: StartOptions,
    ) -> Result<Supervisor, StartError> {
        let options = match &spec.name {
            Some(name) => options.name(name.clone()),
            None => options,
        };
        let server = gen_server::start_with::<SupervisorServer>(spec, options).await?;
        Ok(Supervisor { server })
    }

    /// A child spec that runs a supervisor with `spec` under another supervisor.
    pub fn child_spec(id: impl Into<Arc<str>>, spec: SupervisorSpec) -> ChildSpec {
        ChildSpec::new(id, move || {
            let spec = spec.clone();
            async move { Supervisor::start_link(spec).await.map(|s| s.pid().clone()) }
        })
        .supervisor()
    }

    /// The handle for `pid` if it is a [`Supervisor`].
    pub fn from_pid(pid: &Pid) -> Option<Supervisor> {
        Server::from_pid(pid).map(|server| Supervisor { server })
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> &Pid {
        self.server.pid()
    }

    async fn request(&self, request: Request) -> Result<Answer, SupervisorError> {
        self.server
            .call_timeout(request, SUPERVISOR_CALL_TIMEOUT)
            .await?
    }

    /// The children in start order.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        match self.request(Request::WhichChildren).await? {
            Answer::Children(children) => Ok(children),
            _ => unreachable!("which_children answers with children"),
        }
    }

    /// Counts of the children.
    pub async fn count_children(&self) -> Result<ChildCounts, SupervisorError> {
        match self.request(Request::CountChildren).await? {
            Answer::Counts(counts) => Ok(counts),
            _ => unreachable!("count_children answers with counts"),
        }
    }

    /// Stops a child; its spec stays, so it can be restarted or deleted.
    pub async fn terminate_child(&self, id: &str) -> Result<(), SupervisorError> {
        self.request(Request::Terminate(id.into())).await.map(drop)
    }

    /// Starts a stopped child again.
    pub async fn restart_child(&self, id: &str) -> Result<Pid, SupervisorError> {
        self.started(Request::Restart(id.into())).await
    }

    /// Adds and starts a new child after the others.
    pub async fn start_child(&self, spec: ChildSpec) -> Result<Pid, SupervisorError> {
        self.started(Request::Start(spec)).await
    }

    async fn started(&self, request: Request) -> Result<Pid, SupervisorError> {
        match self.request(request).await? {
            Answer::Started(pid) => Ok(pid),
            _ => unreachable!("starting a child answers with its pid"),
        }
    }

    /// Removes a stopped child's spec.
    pub async fn delete_child(&self, id: &str) -> Result<(), SupervisorError> {
        self.request(Request::Delete(id.into())).await.map(drop)
    }

    /// Stops the supervisor: its children in reverse start order, each by
    /// its shutdown spec, then itself with `shutdown`. Waits until done.
    pub async fn stop(&self) -> ExitReason {
        self.server.stop(ExitReason::Shutdown).await
    }

    /// The supervision tree below this supervisor, as data.
    pub async fn tree(&self) -> Result<TreeNode, SupervisorError> {
        Ok(TreeNode {
            id: "root".into(),
            pid: Some(self.pid().clone()),
            kind: ChildKind::Supervisor,
            children: subtrees(self.which_children().await?).await,
        })
    }
}

/// Describes each child, descending into children that are supervisors.
pub(crate) fn subtrees(
    children: Vec<ChildInfo>,
) -> Pin<Box<dyn Future<Output = Vec<TreeNode>> + Send>> {
    Box::pin(async move {
        let mut nodes = Vec::with_capacity(children.len());
        for child in children {
            let grandchildren = match (&child.pid, child.kind) {
                (Some(pid), ChildKind::Supervisor) => match children_of(pid).await {
                    Some(list) => subtrees(list).await,
                    None => Vec::new(),
                },
                _ => Vec::new(),
            };
            nodes.push(TreeNode {
                id: child.id,
                pid: child.pid,
                kind: child.kind,
                children: grandchildren,
            });
        }
        nodes
    })
}

async fn children_of(pid: &Pid) -> Option<Vec<ChildInfo>> {
    if let Some(supervisor) = Supervisor::from_pid(pid) {
        return supervisor.which_children().await.ok();
    }
    if let Some(supervisor) = DynamicSupervisor::from_pid(pid) {
        return supervisor.which_children().await.ok();
    }
    None
}

enum Request {
    WhichChildren,
    CountChildren,
    Terminate(Arc<str>),
    Restart(Arc<str>),
    Start(ChildSpec),
    Delete(Arc<str>),
}

enum Answer {
    Children(Vec<ChildInfo>),
    Counts(ChildCounts),
    Started(Pid),
    Done,
}

struct Child {
    spec: ChildSpec,
    pid: Option<Pid>,
}

impl Child {
    fn info(&self) -> ChildInfo {
        ChildInfo {
            id: self.spec.id.clone(),
            pid: self.pid.clone(),
            kind: self.spec.kind,
            restart: self.spec.restart,
        }
    }
}

/// The supervisor's process state: a [`GenServer`] that traps exits.
struct SupervisorServer {
    strategy: Strategy,
    intensity: Intensity,
    children: Vec<Child>,
}

impl GenServer for SupervisorServer {
    type Args = SupervisorSpec;
    type Call = Request;
    type Reply = Result<Answer, SupervisorError>;
    type Cast = ();
    type Info = ();

    async fn init(spec: SupervisorSpec, ctx: &mut ServerContext<Self>) -> Result<Self, ExitReason> {
        ctx.trap_exit(true);
        let mut server = SupervisorServer {
            strategy: spec.strategy,
            intensity: Intensity::new(spec.max_restarts, spec.max_seconds),
            children: Vec::with_capacity(spec.children.len()),
        };
        let me = ctx.pid();
        for spec in spec.children {
            match spec.start(&me).await {
                Ok(pid) => server.children.push(Child {
                    spec: spec.kept_once_started(),
                    pid: Some(pid),
                }),
                Err(error) => {
                    server.stop_all(&me).await;
                    return Err(ExitReason::shutdown_with(format!(
                        "failed to start child `{}`: {error}",
                        spec.id
                    )));
                }
            }
        }
        Ok(server)
    }

    async fn handle_call(
        &mut self,
        request: Request,
        ctx: &mut ServerContext<Self>,
    ) -> CallResult<Self::Reply> {
        let me = ctx.pid();
        CallResult::Reply(match request {
            Request::WhichChildren => Ok(Answer::Children(
                self.children.iter().map(Child::info).collect(),
            )),
            Request::CountChildren => Ok(Answer::Counts(ChildCounts::of(
                self.children.iter().map(|c| (c.spec.kind, c.pid.is_some())),
            ))),
            Request::Terminate(id) => self.terminate_child(&me, &id).await,
            Request::Restart(id) => self.restart_child(&me, &id).await,
            Request::Start(spec) => self.start_child(&me, spec).await,
            Request::Delete(id) => self.delete_child(&id),
        })
    }

    async fn handle_info(&mut self, message: Message<()>, ctx: &mut ServerContext<Self>) -> Flow {
        match message {
            Message::Exit {
                from: Some(pid),
                reason,
            } => match self.position_of(&pid) {
                Some(index) => self.child_exited(index, reason, &ctx.pid()).await,
                None => Flow::Continue,
            },
            _ => Flow::Continue,
        }
    }

    async fn terminate(&mut self, _reason: &ExitReason, ctx: &mut ServerContext<Self>) {
        self.stop_all(&ctx.pid()).await;
    }
}

impl SupervisorServer {
    fn position_of(&self, pid: &Pid) -> Option<usize> {
        self.children
            .iter()
            .position(|c| c.pid.as_ref() == Some(pid))
    }

    fn index_of(&self, id: &str) -> Result<usize, SupervisorError> {
        self.children
            .iter()
            .position(|c| &*c.spec.id == id)
            .ok_or_else(|| SupervisorError::NotFound(id.into()))
    }

    /// Stops every running child, last started first.
    async fn stop_all(&mut self, me: &Pid) {
        for child in self.children.iter_mut().rev() {
            if let Some(pid) = child.pid.take() {
                shutdown_child(me, &pid, child.spec.shutdown).await;
            }
        }
    }

    async fn child_exited(&mut self, index: usize, reason: ExitReason, me: &Pid) -> Flow {
        self.children[index].pid = None;
        let spec = &self.children[index].spec;
        if !reason.is_clean() {
            tracing::error!(supervisor = %me, child = %spec.id, %reason, "child terminated");
        }
        if !spec.restart.applies_to(&reason) {
            if spec.restart == Restart::Temporary {
                self.children.remove(index);
            }
            return Flow::Continue;
        }
        if !self.intensity.record(Instant::now()) {
            tracing::error!(supervisor = %me, "reached maximum restart intensity; shutting down");
            return Flow::Stop(ExitReason::Shutdown);
        }
        let affected = match self.strategy {
            Strategy::OneForOne => index..index + 1,
            Strategy::OneForAll => 0..self.children.len(),
            Strategy::RestForOne => index..self.children.len(),
        };
        let ids = self.stop_siblings(affected, me).await;
        self.start_in_order(ids, me).await
    }

    /// Stops the running children in `range` (last first), forgets the
    /// temporary ones, and returns the ids to start again, in order.
    async fn stop_siblings(&mut self, range: std::ops::Range<usize>, me: &Pid) -> Vec<Arc<str>> {
        for child in self.children[range.clone()].iter_mut().rev() {
            if let Some(pid) = child.pid.take() {
                shutdown_child(me, &pid, child.spec.shutdown).await;
            }
        }
        let ids: Vec<Arc<str>> = self.children[range]
            .iter()
            .filter(|c| c.spec.restart != Restart::Temporary)
            .map(|c| c.spec.id.clone())
            .collect();
        self.children
            .retain(|c| c.spec.restart != Restart::Temporary || c.pid.is_some());
        ids
    }

    /// Starts the children named by `ids` in order. A start that fails
    /// counts as another restart and is tried again, until it succeeds or
    /// the intensity runs out.
    async fn start_in_order(&mut self, ids: Vec<Arc<str>>, me: &Pid) -> Flow {
        for id in ids {
            let Ok(index) = self.index_of(&id) else {
                continue;
            };
            loop {
                match self.children[index].spec.start(me).await {
                    Ok(pid) => {
                        self.children[index].pid = Some(pid);
                        break;
                    }
                    Err(error) => {
                        tracing::error!(supervisor = %me, child = %id, %error, "restart failed");
                        if !self.intensity.record(Instant::now()) {
                            return Flow::Stop(ExitReason::Shutdown);
                        }
                    }
                }
            }
        }
        Flow::Continue
    }

    async fn terminate_child(&mut self, me: &Pid, id: &str) -> Result<Answer, SupervisorError> {
        let index = self.index_of(id)?;
        if let Some(pid) = self.children[index].pid.take() {
            shutdown_child(me, &pid, self.children[index].spec.shutdown).await;
        }
        if self.children[index].spec.restart == Restart::Temporary {
            self.children.remove(index);
        }
        Ok(Answer::Done)
    }

    async fn restart_child(&mut self, me: &Pid, id: &str) -> Result<Answer, SupervisorError> {
        let index = self.index_of(id)?;
        if self.children[index].pid.is_some() {
            return Err(SupervisorError::Running(id.into()));
        }
        let pid = self.children[index]
            .spec
            .start(me)
            .await
            .map_err(SupervisorError::Start)?;
        self.children[index].pid = Some(pid.clone());
        Ok(Answer::Started(pid))
    }

    async fn start_child(&mut self, me: &Pid, spec: ChildSpec) -> Result<Answer, SupervisorError> {
        if self.index_of(&spec.id).is_ok() {
            return Err(SupervisorError::AlreadyPresent(spec.id.clone()));
        }
        let pid = spec.start(me).await.map_err(SupervisorError::Start)?;
        self.children.push(Child {
            spec: spec.kept_once_started(),
            pid: Some(pid.clone()),
        });
        Ok(Answer::Started(pid))
    }

    fn delete_child(&mut self, id: &str) -> Result<Answer, SupervisorError> {
        let index = self.index_of(id)?;
        if self.children[index].pid.is_some() {
            return Err(SupervisorError::Running(id.into()));
        }
        self.children.remove(index);
        Ok(Answer::Done)
    }
}
