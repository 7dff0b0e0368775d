//! Child specifications and the shutdown protocol supervisors follow.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::exit::ExitReason;
use crate::gen_server::{self, GenServer, StartError};
use crate::process::{self, Context, Exited, Pid, Spawn};

/// When a supervisor restarts a child that exited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Restart {
    /// Always.
    #[default]
    Permanent,
    /// Only after an abnormal exit: not after `normal`, `shutdown` or
    /// `{shutdown, _}` (see [`ExitReason::is_clean`]).
    Transient,
    /// Never; the child is forgotten when it exits.
    Temporary,
}

impl Restart {
    pub(crate) fn applies_to(self, reason: &ExitReason) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => !reason.is_clean(),
            Restart::Temporary => false,
        }
    }
}

/// How a supervisor stops a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// Kill it at once with [`ExitReason::Kill`].
    BrutalKill,
    /// Send [`ExitReason::Shutdown`], wait this long for it to exit, then kill it.
    Timeout(Duration),
    /// Send [`ExitReason::Shutdown`] and wait as long as it takes (the default for supervisors).
    Infinity,
}

/// Whether a child is a worker or a supervisor (which shapes the defaults and
/// the [supervision tree](crate::supervisor::Supervisor::tree)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildKind {
    /// A worker; default shutdown is a 5 s timeout.
    Worker,
    /// A supervisor; default shutdown is infinity, so it can stop its own children.
    Supervisor,
}

/// The future a child's start function returns.
pub type StartFuture = Pin<Box<dyn Future<Output = Result<Pid, StartError>> + Send>>;

type StartFn = Arc<dyn Fn() -> StartFuture + Send + Sync>;

/// How to start, restart and stop one child.
///
/// The start function runs inside the supervisor's process and must link the
/// new process to it, which [`gen_server::start_link`] and
/// [`Context::spawn_link`] do.
///
/// ```
/// use std::time::Duration;
/// use cinder_runtime::supervisor::{ChildSpec, Restart, Shutdown};
/// use cinder_runtime::Context;
///
/// let spec = ChildSpec::process("ticker", |mut ctx: Context<()>| async move {
///     loop { ctx.recv().await; }
/// })
/// .restart(Restart::Transient)
/// .shutdown(Shutdown::Timeout(Duration::from_secs(1)));
/// assert_eq!(spec.id(), "ticker");
/// ```
#[derive(Clone)]
pub struct ChildSpec {
    pub(crate) id: Arc<str>,
    start: StartFn,
    pub(crate) restart: Restart,
    pub(crate) shutdown: Shutdown,
    pub(crate) kind: ChildKind,
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("kind", &self.kind)
            .finish()
    }
}

/// The default shutdown timeout of a worker, as in OTP.
pub const DEFAULT_SHUTDOWN: Duration = Duration::from_secs(5);

impl ChildSpec {
    /// A worker started by `start`, which must return the pid of a process
    /// linked to the caller.
    pub fn new<F, Fut>(id: impl Into<Arc<str>>, start: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Pid, StartError>> + Send + 'static,
    {
        ChildSpec {
            id: id.into(),
            start: Arc::new(move || Box::pin(start())),
            restart: Restart::Permanent,
            shutdown: Shutdown::Timeout(DEFAULT_SHUTDOWN),
            kind: ChildKind::Worker,
        }
    }

    /// A [`Temporary`](Restart::Temporary) child that can start only once,
    /// from a start function that is consumed: for children made for one
    /// occasion (a task, a page's view) whose start owns its inputs.
    pub fn once<F, Fut>(id: impl Into<Arc<str>>, start: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Pid, StartError>> + Send + 'static,
    {
        // Not boxed: once the child has started, its supervisor keeps the
        // spec without this function (see `kept_once_started`), so the
        // room for what the function owned is let go with it.
        let slot = std::sync::Mutex::new(Some(start));
        ChildSpec::new(id, move || {
            let start = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            async move {
                match start {
                    Some(start) => start().await,
                    // A temporary child is never restarted, so this is a
                    // second start by hand, which has nothing left to run.
                    None => Err(StartError::Init(ExitReason::error(
                        "a one-shot child cannot start twice",
                    ))),
                }
            }
        })
        .restart(Restart::Temporary)
    }

    /// A [`GenServer`] worker started with [`gen_server::start_link`]; each
    /// (re)start gets a clone of `args`.
    pub fn gen_server<G>(id: impl Into<Arc<str>>, args: G::Args) -> Self
    where
        G: GenServer,
        G::Args: Clone + Sync,
    {
        ChildSpec::new(id, move || {
            let args = args.clone();
            async move {
                gen_server::start_link::<G>(args)
                    .await
                    .map(|server| server.pid().clone())
            }
        })
    }

    /// A plain process worker running `body`, spawned linked to the supervisor.
    pub fn process<M, F, Fut>(id: impl Into<Arc<str>>, body: F) -> Self
    where
        M: Send + 'static,
        F: Fn(Context<M>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = ExitReason> + Send + 'static,
    {
        ChildSpec::new(id, move || {
            let body = body.clone();
            async move {
                let parent = process::current().ok_or(StartError::NoCaller)?;
                Ok(Spawn::new().link(&parent).spawn(body))
            }
        })
    }

    /// Sets the restart policy (default [`Restart::Permanent`]).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets how the child is stopped (default a 5 s timeout for workers).
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Marks the child as a supervisor (and makes its shutdown infinity).
    pub fn supervisor(mut self) -> Self {
        self.kind = ChildKind::Supervisor;
        self.shutdown = Shutdown::Infinity;
        self
    }

    /// The child's id, unique within its supervisor.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The spec without its start function, which a spent one answers
    /// with an error: for a temporary child once it has started, whose
    /// supervisor never starts it again but keeps its spec for as long as
    /// it runs, and would otherwise keep whatever its start owned.
    pub(crate) fn spent(self) -> ChildSpec {
        static SPENT: OnceLock<StartFn> = OnceLock::new();
        let start = SPENT.get_or_init(|| {
            Arc::new(|| {
                Box::pin(async {
                    Err(StartError::Init(ExitReason::error(
                        "a temporary child that has started cannot start again",
                    )))
                })
            })
        });
        ChildSpec {
            start: start.clone(),
            ..self
        }
    }

    /// The spec a supervisor keeps for a child that has started: a
    /// [`Temporary`](Restart::Temporary) child is never started again, so
    /// its spec is kept [spent](ChildSpec::spent); any other as it is, for
    /// restarts.
    pub(crate) fn kept_once_started(self) -> ChildSpec {
        if self.restart == Restart::Temporary {
            self.spent()
        } else {
            self
        }
    }

    /// Starts the child from inside its supervisor's process and makes sure
    /// it is linked to the supervisor.
    pub(crate) async fn start(&self, supervisor: &Pid) -> Result<Pid, StartError> {
        let pid = (self.start)().await?;
        process::link(supervisor, &pid);
        Ok(pid)
    }
}

/// A child being stopped: signalled, not yet confirmed gone.
pub(crate) struct Stopping {
    pid: Pid,
    shutdown: Shutdown,
    exited: Exited,
    since: Instant,
}

/// Starts stopping `child` the OTP way: unlink it (so its exit is not taken
/// for a crash), monitor it, then send `shutdown` or `kill`.
pub(crate) fn begin_shutdown(supervisor: &Pid, child: &Pid, shutdown: Shutdown) -> Stopping {
    process::unlink(supervisor, child);
    let exited = child.exited();
    let signal = match shutdown {
        Shutdown::BrutalKill => ExitReason::Kill,
        Shutdown::Timeout(_) | Shutdown::Infinity => ExitReason::Shutdown,
    };
    process::exit(child, signal);
    Stopping {
        pid: child.clone(),
        shutdown,
        exited,
        since: Instant::now(),
    }
}

impl Stopping {
    /// Waits for the child to exit, killing it when its timeout runs out.
    pub(crate) async fn finish(mut self) -> ExitReason {
        if let Shutdown::Timeout(limit) = self.shutdown {
            match tokio::time::timeout_at(self.since + limit, &mut self.exited).await {
                Ok(reason) => return reason,
                Err(_) => {
                    tracing::warn!(pid = %self.pid, "child did not shut down in time; killing it");
                    process::exit(&self.pid, ExitReason::Kill);
                }
            }
        }
        self.exited.await
    }
}

/// Stops one child and waits until it has exited.
pub(crate) async fn shutdown_child(
    supervisor: &Pid,
    child: &Pid,
    shutdown: Shutdown,
) -> ExitReason {
    begin_shutdown(supervisor, child, shutdown).finish().await
}
