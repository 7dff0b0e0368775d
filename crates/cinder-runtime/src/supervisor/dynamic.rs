//! [`DynamicSupervisor`]: children started on demand, one-for-one, any number of them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{
    begin_shutdown, shutdown_child, subtrees, ChildCounts, ChildInfo, ChildKind, ChildSpec,
    Intensity, SupervisorError, TreeNode, DEFAULT_MAX_RESTARTS, DEFAULT_MAX_SECONDS,
    SUPERVISOR_CALL_TIMEOUT,
};
use crate::exit::ExitReason;
use crate::gen_server::{
    self, CallError, CallResult, Flow, GenServer, Server, ServerContext, StartError, StartOptions,
};
use crate::process::{Message, Pid};

/// The configuration of a [`DynamicSupervisor`].
#[derive(Clone, Debug)]
pub struct DynamicSupervisorSpec {
    max_restarts: u32,
    max_seconds: Duration,
    max_children: Option<usize>,
    name: Option<Arc<str>>,
}

impl Default for DynamicSupervisorSpec {
    fn default() -> Self {
        DynamicSupervisorSpec {
            max_restarts: DEFAULT_MAX_RESTARTS,
            max_seconds: DEFAULT_MAX_SECONDS,
            max_children: None,
            name: None,
        }
    }
}

impl DynamicSupervisorSpec {
    /// OTP's default intensity (3 restarts in 5 s), no child limit.
    pub fn new() -> Self {
        DynamicSupervisorSpec::default()
    }

    /// The most restarts allowed within `max_seconds`.
    pub fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// The window restarts are counted in.
    pub fn max_seconds(mut self, period: Duration) -> Self {
        self.max_seconds = period;
        self
    }

    /// The most children running at once; more starts fail with
    /// [`StartChildError::MaxChildren`].
    pub fn max_children(mut self, max_children: usize) -> Self {
        self.max_children = Some(max_children);
        self
    }

    /// Registers the supervisor under a process-wide name.
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// Why [`DynamicSupervisor::start_child`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartChildError {
    /// The supervisor already runs `max_children` children.
    #[error("the supervisor already runs its maximum number of children")]
    MaxChildren,
    /// The child failed to start.
    #[error("the child failed to start: {0}")]
    Start(StartError),
    /// The supervisor did not answer.
    #[error("the supervisor did not answer: {0}")]
    Call(#[from] CallError),
}

/// A supervisor for children started at run time, each restarted on its own
/// (one-for-one), like Elixir's `DynamicSupervisor`. Children carry no order:
/// on shutdown they are all signalled at once and awaited together.
///
/// ```
/// use cinder_runtime::supervisor::{ChildSpec, DynamicSupervisor, DynamicSupervisorSpec, Restart};
/// use cinder_runtime::{Context, ExitReason};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sup = DynamicSupervisor::start(DynamicSupervisorSpec::new().max_children(2)).await.unwrap();
/// let worker = ChildSpec::process("session", |mut ctx: Context<()>| async move {
///     ctx.recv().await;
///     ExitReason::Normal
/// })
/// .restart(Restart::Temporary);
/// sup.start_child(worker.clone()).await.unwrap();
/// sup.start_child(worker.clone()).await.unwrap();
/// assert!(sup.start_child(worker).await.is_err());
/// assert_eq!(sup.count_children().await.unwrap().active, 2);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct DynamicSupervisor {
    server: Server<DynamicServer>,
}

impl DynamicSupervisor {
    /// Starts a dynamic supervisor, not linked to the caller.
    pub async fn start(spec: DynamicSupervisorSpec) -> Result<DynamicSupervisor, StartError> {
        DynamicSupervisor::start_with(spec, StartOptions::new()).await
    }

    /// Starts a dynamic supervisor linked to the calling process.
    pub async fn start_link(spec: DynamicSupervisorSpec) -> Result<DynamicSupervisor, StartError> {
        DynamicSupervisor::start_with(spec, StartOptions::new().link()).await
    }

    async fn start_with(
        spec: DynamicSupervisorSpec,
        options: StartOptions,
    ) -> Result<DynamicSupervisor, StartError> {
        let options = match &spec.name {
            Some(name) => options.name(name.clone()),
            None => options,
        };
        let server = gen_server::start_with::<DynamicServer>(spec, options).await?;
        Ok(DynamicSupervisor { server })
    }

    /// A child spec that runs a dynamic supervisor under another supervisor.
    pub fn child_spec(id: impl Into<Arc<str>>, spec: DynamicSupervisorSpec) -> ChildSpec {
        ChildSpec::new(id, move || {
            let spec = spec.clone();
            async move {
                DynamicSupervisor::start_link(spec)
                    .await
                    .map(|s| s.pid().clone())
            }
        })
        .supervisor()
    }

    /// The handle for `pid` if it is a [`DynamicSupervisor`].
    pub fn from_pid(pid: &Pid) -> Option<DynamicSupervisor> {
        Server::from_pid(pid).map(|server| DynamicSupervisor { server })
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> &Pid {
        self.server.pid()
    }

    async fn request(&self, request: Request) -> Result<Answer, CallError> {
        self.server
            .call_timeout(request, SUPERVISOR_CALL_TIMEOUT)
            .await
    }

    /// Starts a child under this supervisor and returns its pid.
    pub async fn start_child(&self, spec: ChildSpec) -> Result<Pid, StartChildError> {
        match self.request(Request::Start(spec)).await? {
            Answer::Started(result) => result,
            _ => unreachable!("start_child answers with a start result"),
        }
    }

    /// Stops a child by pid (with its shutdown spec) and forgets it.
    pub async fn terminate_child(&self, pid: &Pid) -> Result<(), SupervisorError> {
        match self.request(Request::Terminate(pid.clone())).await? {
            Answer::Terminated(true) => Ok(()),
            Answer::Terminated(false) => Err(SupervisorError::NotFound(pid.to_string().into())),
            _ => unreachable!("terminate_child answers whether the child was found"),
        }
    }

    /// The running children, oldest first.
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

    /// Stops every child, then the supervisor, and waits until done.
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

enum Request {
    Start(ChildSpec),
    Terminate(Pid),
    WhichChildren,
    CountChildren,
}

enum Answer {
    Started(Result<Pid, StartChildError>),
    Terminated(bool),
    Children(Vec<ChildInfo>),
    Counts(ChildCounts),
}

struct DynamicServer {
    intensity: Intensity,
    max_children: Option<usize>,
    children: HashMap<Pid, ChildSpec>,
}

impl GenServer for DynamicServer {
    type Args = DynamicSupervisorSpec;
    type Call = Request;
    type Reply = Answer;
    type Cast = ();
    type Info = ();

    async fn init(
        spec: DynamicSupervisorSpec,
        ctx: &mut ServerContext<Self>,
    ) -> Result<Self, ExitReason> {
        ctx.trap_exit(true);
        Ok(DynamicServer {
            intensity: Intensity::new(spec.max_restarts, spec.max_seconds),
            max_children: spec.max_children,
            children: HashMap::new(),
        })
    }

    async fn handle_call(
        &mut self,
        request: Request,
        ctx: &mut ServerContext<Self>,
    ) -> CallResult<Answer> {
        let me = ctx.pid();
        CallResult::Reply(match request {
            Request::Start(spec) => Answer::Started(self.start_child(&me, spec).await),
            Request::Terminate(pid) => Answer::Terminated(match self.children.remove(&pid) {
                Some(spec) => {
                    shutdown_child(&me, &pid, spec.shutdown).await;
                    true
                }
                None => false,
            }),
            Request::WhichChildren => Answer::Children(self.child_infos()),
            Request::CountChildren => Answer::Counts(ChildCounts::of(
                self.children.values().map(|spec| (spec.kind, true)),
            )),
        })
    }

    async fn handle_info(&mut self, message: Message<()>, ctx: &mut ServerContext<Self>) -> Flow {
        let Message::Exit {
            from: Some(pid),
            reason,
        } = message
        else {
            return Flow::Continue;
        };
        match self.children.remove(&pid) {
            Some(spec) => self.child_exited(spec, reason, &ctx.pid()).await,
            None => Flow::Continue,
        }
    }

    async fn terminate(&mut self, _reason: &ExitReason, ctx: &mut ServerContext<Self>) {
        let me = ctx.pid();
        let stopping: Vec<_> = self
            .children
            .drain()
            .map(|(pid, spec)| begin_shutdown(&me, &pid, spec.shutdown))
            .collect();
        for child in stopping {
            child.finish().await;
        }
    }
}

impl DynamicServer {
    async fn start_child(&mut self, me: &Pid, spec: ChildSpec) -> Result<Pid, StartChildError> {
        if self
            .max_children
            .is_some_and(|max| self.children.len() >= max)
        {
            return Err(StartChildError::MaxChildren);
        }
        let pid = spec.start(me).await.map_err(StartChildError::Start)?;
        // A temporary child's spec is kept for what it tells about the
        // child, without what it started from (a session's view, its socket).
        self.children.insert(pid.clone(), spec.kept_once_started());
        Ok(pid)
    }

    fn child_infos(&self) -> Vec<ChildInfo> {
        let mut children: Vec<ChildInfo> = self
            .children
            .iter()
            .map(|(pid, spec)| ChildInfo {
                id: spec.id.clone(),
                pid: Some(pid.clone()),
                kind: spec.kind,
                restart: spec.restart,
            })
            .collect();
        children.sort_by(|a, b| a.pid.cmp(&b.pid));
        children
    }

    async fn child_exited(&mut self, spec: ChildSpec, reason: ExitReason, me: &Pid) -> Flow {
        if !reason.is_clean() {
            tracing::error!(supervisor = %me, child = %spec.id, %reason, "child terminated");
        }
        if !spec.restart.applies_to(&reason) {
            return Flow::Continue;
        }
        loop {
            if !self.intensity.record(Instant::now()) {
                tracing::error!(supervisor = %me, "reached maximum restart intensity; shutting down");
                return Flow::Stop(ExitReason::Shutdown);
            }
            match spec.start(me).await {
                Ok(pid) => {
                    self.children.insert(pid, spec);
                    return Flow::Continue;
                }
                Err(error) => {
                    tracing::error!(supervisor = %me, child = %spec.id, %error, "restart failed")
                }
            }
        }
    }
}
