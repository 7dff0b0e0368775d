//! Tasks: async work run as supervised processes, awaited or not.
//!
//! A [`TaskSupervisor`] runs futures as temporary children of a
//! [`DynamicSupervisor`], like Elixir's `Task.Supervisor`:
//!
//! - [`async_nolink`](TaskSupervisor::async_nolink): the caller can await the
//!   result; a crash of the task is reported as [`TaskError::Exited`] and
//!   does not touch the caller.
//! - [`async_link`](TaskSupervisor::async_link): also linked to the caller,
//!   so each takes the other down on a crash (and the task ends with its caller).
//! - [`start_child`](TaskSupervisor::start_child): fire and forget.
//!
//! ```
//! use cinder_runtime::task::{TaskError, TaskSupervisor};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let tasks = TaskSupervisor::start().await.unwrap();
//! let sum = tasks.async_nolink(async { 1 + 2 }).await.unwrap();
//! assert_eq!(sum.await, Ok(3));
//!
//! let crash = tasks.async_nolink(async { panic!("bad input") }).await.unwrap();
//! assert!(matches!(crash.await, Err(TaskError::Exited(_))));
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use tokio::sync::oneshot;

use crate::exit::ExitReason;
use crate::gen_server::StartError;
use crate::process::{self, Context, Exited, Pid, Spawn};
use crate::supervisor::{ChildSpec, DynamicSupervisor, DynamicSupervisorSpec, StartChildError};

/// Why a task gave no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The task exited without a result: it panicked, was killed or shut down.
    #[error("the task exited without a result: {0}")]
    Exited(ExitReason),
    /// The task could not be started.
    #[error("the task could not start: {0}")]
    Start(#[from] StartChildError),
    /// [`TaskSupervisor::async_link`] was called outside a process.
    #[error("async_link links the task to its caller, so it must be called from a process")]
    NoCaller,
}

/// A supervisor for tasks. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TaskSupervisor {
    supervisor: DynamicSupervisor,
}

impl TaskSupervisor {
    /// Starts a task supervisor, not linked to the caller.
    pub async fn start() -> Result<TaskSupervisor, StartError> {
        Ok(TaskSupervisor {
            supervisor: DynamicSupervisor::start(DynamicSupervisorSpec::new()).await?,
        })
    }

    /// Wraps an already running dynamic supervisor (for example one started
    /// from a child spec under an application's tree).
    pub fn from_supervisor(supervisor: DynamicSupervisor) -> TaskSupervisor {
        TaskSupervisor { supervisor }
    }

    /// The underlying dynamic supervisor.
    pub fn supervisor(&self) -> &DynamicSupervisor {
        &self.supervisor
    }

    /// Runs `future` under the supervisor; await the returned [`Task`] for its output.
    pub async fn async_nolink<F, T>(&self, future: F) -> Result<Task<T>, TaskError>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let (sender, result) = oneshot::channel();
        let pid = self.run(future, Some(sender), None).await?;
        Ok(Task::new(pid, result))
    }

    /// Like [`async_nolink`](TaskSupervisor::async_nolink), and links the task
    /// to the calling process before it runs.
    pub async fn async_link<F, T>(&self, future: F) -> Result<Task<T>, TaskError>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let caller = process::current().ok_or(TaskError::NoCaller)?;
        let (sender, result) = oneshot::channel();
        let pid = self.run(future, Some(sender), Some(caller)).await?;
        Ok(Task::new(pid, result))
    }

    /// Runs `future` under the supervisor without keeping its result.
    pub async fn start_child<F>(&self, future: F) -> Result<Pid, TaskError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.run(future, None, None).await
    }

    async fn run<F>(
        &self,
        future: F,
        result: Option<oneshot::Sender<F::Output>>,
        caller: Option<Pid>,
    ) -> Result<Pid, TaskError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let spec = ChildSpec::once("task", move || async move {
            let supervisor = process::current().ok_or(StartError::NoCaller)?;
            let pid = spawn_task(&supervisor, future, result);
            if let Some(caller) = caller {
                process::link(&caller, &pid);
            }
            Ok(pid)
        });
        Ok(self.supervisor.start_child(spec).await?)
    }
}

fn spawn_task<F>(supervisor: &Pid, future: F, result: Option<oneshot::Sender<F::Output>>) -> Pid
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Spawn::new()
        .link(supervisor)
        .spawn(move |_ctx: Context<()>| async move {
            let output = future.await;
            if let Some(result) = result {
                let _ = result.send(output);
            }
            ExitReason::Normal
        })
}

/// A running task; `.await` it for the output (Elixir's `Task.await`), or
/// wrap it in `tokio::time::timeout` to wait a bounded time (`Task.yield`).
pub struct Task<T> {
    pid: Pid,
    result: oneshot::Receiver<T>,
    exited: Option<Exited>,
}

impl<T> Task<T> {
    fn new(pid: Pid, result: oneshot::Receiver<T>) -> Self {
        Task {
            pid,
            result,
            exited: None,
        }
    }

    /// The task's pid.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// Kills the task (`Task.shutdown(task, :brutal_kill)`), returning its
    /// output if it had already finished.
    pub async fn shutdown(mut self) -> Option<T> {
        let exited = self.pid.exited();
        process::exit(&self.pid, ExitReason::Kill);
        exited.await;
        self.result.try_recv().ok()
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.exited.is_none() {
            match Pin::new(&mut this.result).poll(cx) {
                Poll::Ready(Ok(output)) => return Poll::Ready(Ok(output)),
                Poll::Ready(Err(_)) => this.exited = Some(this.pid.exited()),
                Poll::Pending => return Poll::Pending,
            }
        }
        let exited = this.exited.as_mut().expect("set above");
        Pin::new(exited)
            .poll(cx)
            .map(|reason| Err(TaskError::Exited(reason)))
    }
}
