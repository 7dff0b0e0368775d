//! Work a view does in the background: [`Socket::start_async`] and
//! [`Socket::assign_async`], run as tasks under the application's task
//! supervisor, linked to the view (so they stop when it does), their
//! results handed back to the view's process.
//!
//! ```
//! use std::time::Duration;
//! use cinder::live::{AsyncValue, LiveView, MountError, Params, Session, Socket};
//! use cinder::{html, Rendered};
//!
//! struct Profile {
//!     name: AsyncValue<String>,
//! }
//!
//! impl LiveView for Profile {
//!     type Info = ();
//!
//!     async fn mount(_: &Params, _: &Session, socket: &mut Socket<Self>) -> Result<Self, MountError> {
//!         // Runs once connected; the dead render shows "Loading…".
//!         socket.assign_async("name", |view: &mut Profile| &mut view.name, async {
//!             tokio::time::sleep(Duration::from_millis(50)).await;
//!             "Ada".to_string()
//!         });
//!         Ok(Profile { name: AsyncValue::Loading })
//!     }
//!
//!     fn render(&self) -> Rendered {
//!         html! {
//!             @match &self.name {
//!                 AsyncValue::Loading => { <p>"Loading…"</p> }
//!                 AsyncValue::Ok(name) => { <p>"Hello, "{name}</p> }
//!                 AsyncValue::Failed(error) => { <p class="error">{error.to_string()}</p> }
//!             }
//!         }
//!     }
//! }
//! ```

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context as TaskContext, Poll};

use cinder_runtime::{Context, ExitReason, Pid};

use super::channel::ViewMessage;
use super::router::LiveState;
use super::{LiveView, Socket};

/// A value loaded in the background by [`Socket::assign_async`].
#[derive(Clone, Debug, PartialEq)]
pub enum AsyncValue<T> {
    /// Not there yet.
    Loading,
    /// Loaded.
    Ok(T),
    /// The work panicked or was cancelled.
    Failed(AsyncError),
}

impl<T> AsyncValue<T> {
    /// Whether the value is still loading.
    pub fn is_loading(&self) -> bool {
        matches!(self, AsyncValue::Loading)
    }

    /// The value, once loaded.
    pub fn ok(&self) -> Option<&T> {
        match self {
            AsyncValue::Ok(value) => Some(value),
            _ => None,
        }
    }
}

impl<T> From<Result<T, AsyncError>> for AsyncValue<T> {
    fn from(result: Result<T, AsyncError>) -> Self {
        match result {
            Ok(value) => AsyncValue::Ok(value),
            Err(error) => AsyncValue::Failed(error),
        }
    }
}

/// Why background work gave no result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AsyncError {
    /// The work panicked; the message says why.
    #[error("the work panicked: {0}")]
    Panicked(String),
    /// [`Socket::cancel_async`] stopped it.
    #[error("the work was cancelled")]
    Cancelled,
    /// The task could not start (the application is shutting down).
    #[error("the work could not start: {0}")]
    NotStarted(String),
}

type Work = Pin<Box<dyn Future<Output = Box<dyn Any + Send>> + Send>>;
type Done<V> =
    Box<dyn FnOnce(&mut V, Result<Box<dyn Any + Send>, AsyncError>, &mut Socket<V>) + Send>;

/// Work a handler asked for, started by the view's process after it.
pub(crate) struct AsyncStart<V: LiveView> {
    name: String,
    work: Work,
    done: Done<V>,
}

/// What handlers asked of background work, kept in the socket until the
/// view's process acts on it. In a mutex only so that the socket is `Sync`.
///
/// Boxed when a handler first asks: most views never start any work, and
/// between handlers none is waiting.
pub(crate) struct AsyncRequests<V: LiveView>(Mutex<Option<Box<Requested<V>>>>);

struct Requested<V: LiveView> {
    starts: Vec<AsyncStart<V>>,
    cancels: Vec<String>,
}

impl<V: LiveView> Default for AsyncRequests<V> {
    fn default() -> Self {
        AsyncRequests(Mutex::new(None))
    }
}

impl<V: LiveView> AsyncRequests<V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Box<Requested<V>>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a request, making room for requests on the first.
    fn request(&self, add: impl FnOnce(&mut Requested<V>)) {
        let mut requested = self.lock();
        add(requested.get_or_insert_with(|| {
            Box::new(Requested {
                starts: Vec::new(),
                cancels: Vec::new(),
            })
        }));
    }

    /// The requests made since the last call, taken.
    fn take(&self) -> Option<Box<Requested<V>>> {
        self.lock().take()
    }

    /// Whether no handler asked to start or cancel work.
    pub(crate) fn is_empty(&self) -> bool {
        self.lock().is_none()
    }
}

impl<V: LiveView> Socket<V> {
    /// Runs `work` in the background, then `done(view, result, socket)` in
    /// the view's process, after which the view renders again. A second
    /// `start_async` with the same `name` replaces the first, whose result
    /// is dropped. The work stops when the view does. Before the view is
    /// connected (the dead render) nothing runs.
    pub fn start_async<T, F, D>(&mut self, name: impl Into<String>, work: F, done: D)
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
        D: FnOnce(&mut V, Result<T, AsyncError>, &mut Socket<V>) + Send + 'static,
    {
        if !self.connected() {
            return;
        }
        let work: Work = Box::pin(async move { Box::new(work.await) as Box<dyn Any + Send> });
        let done: Done<V> = Box::new(move |view, result, socket| {
            let result = result.map(|value| {
                *value
                    .downcast::<T>()
                    .expect("an async result comes back with its own type")
            });
            done(view, result, socket);
        });
        let start = AsyncStart {
            name: name.into(),
            work,
            done,
        };
        self.async_requests
            .request(|requested| requested.starts.push(start));
    }

    /// Loads a field of the view in the background: `field` picks it (set
    /// it to [`AsyncValue::Loading`] in `mount`), `work` computes it, and
    /// the view renders again with [`AsyncValue::Ok`], or
    /// [`AsyncValue::Failed`] if the work panicked or was cancelled.
    pub fn assign_async<T, F>(
        &mut self,
        name: impl Into<String>,
        field: fn(&mut V) -> &mut AsyncValue<T>,
        work: F,
    ) where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        self.start_async(name, work, move |view, result, _socket| {
            *field(view) = AsyncValue::from(result);
        });
    }

    /// Stops the background work `name`; its `done` runs with
    /// [`AsyncError::Cancelled`].
    pub fn cancel_async(&mut self, name: impl Into<String>) {
        let name = name.into();
        self.async_requests
            .request(|requested| requested.cancels.push(name));
    }
}

/// The background work of one view's process.
pub(crate) struct AsyncTasks<V: LiveView> {
    /// The tasks running by name; boxed when the first starts, as most
    /// views never start one.
    // The box is for the map's own 48 bytes, which every view would keep.
    #[allow(clippy::box_collection)]
    running: Option<Box<HashMap<String, Running<V>>>>,
    generation: u64,
}

struct Running<V: LiveView> {
    generation: u64,
    pid: Pid,
    done: Done<V>,
}

/// A finished piece of background work, as the view's process receives it.
pub(crate) struct AsyncDone {
    name: String,
    generation: u64,
    result: Result<Box<dyn Any + Send>, AsyncError>,
}

impl<V: LiveView> Default for AsyncTasks<V> {
    fn default() -> Self {
        AsyncTasks {
            running: None,
            generation: 0,
        }
    }
}

impl<V: LiveView> AsyncTasks<V> {
    /// Acts on what the last handler asked: cancels, then starts. Returns
    /// whether a cancelled task's `done` ran (the view must render again).
    pub(crate) async fn act(
        &mut self,
        view: &mut V,
        socket: &mut Socket<V>,
        ctx: &Context<ViewMessage<V>>,
        live: &LiveState,
    ) -> bool {
        let Some(requested) = socket.async_requests.take() else {
            return false;
        };
        let Requested { starts, cancels } = *requested;
        let mut changed = false;
        for name in cancels {
            if let Some(running) = self.stop(&name, ctx, cancelled()) {
                (running.done)(view, Err(AsyncError::Cancelled), socket);
                changed = true;
            }
        }
        if starts.is_empty() {
            return changed;
        }
        // Started with the first piece of work any view asks for.
        let tasks = match live.tasks().await {
            Ok(tasks) => tasks,
            Err(error) => {
                for start in starts {
                    (start.done)(view, Err(AsyncError::NotStarted(error.to_string())), socket);
                }
                return true;
            }
        };
        for start in starts {
            self.stop(&start.name, ctx, cancelled());
            self.generation += 1;
            let generation = self.generation;
            let name = start.name.clone();
            let view_pid = ctx.pid();
            let work = start.work;
            let task = tasks
                .async_link(async move {
                    let result = CatchUnwind(work).await.map_err(AsyncError::Panicked);
                    let _ = view_pid.send(ViewMessage::<V>::Async(AsyncDone {
                        name,
                        generation,
                        result,
                    }));
                })
                .await;
            match task {
                Ok(task) => {
                    self.running.get_or_insert_with(Box::default).insert(
                        start.name,
                        Running {
                            generation,
                            pid: task.pid().clone(),
                            done: start.done,
                        },
                    );
                }
                Err(error) => {
                    (start.done)(view, Err(AsyncError::NotStarted(error.to_string())), socket);
                    changed = true;
                }
            }
        }
        changed
    }

    /// Stops every task, as the view stops.
    pub(crate) fn stop_all(&mut self, ctx: &Context<ViewMessage<V>>) {
        let names: Vec<String> = self
            .running
            .iter()
            .flat_map(|running| running.keys().cloned())
            .collect();
        for name in names {
            self.stop(&name, ctx, ExitReason::Shutdown);
        }
    }

    /// Stops the task `name`, if running, with `reason`, and returns it.
    ///
    /// A shutdown, not a kill: the task's end is expected, so its
    /// supervisor does not report it as a failure.
    fn stop(
        &mut self,
        name: &str,
        ctx: &Context<ViewMessage<V>>,
        reason: ExitReason,
    ) -> Option<Running<V>> {
        let running = self.running.as_mut()?.remove(name)?;
        // Unlinked first: its death is no reason for the view to stop.
        ctx.unlink(&running.pid);
        cinder_runtime::exit(&running.pid, reason);
        Some(running)
    }

    /// Runs the `done` of a finished task, unless it was replaced or
    /// cancelled since. Returns whether it ran.
    pub(crate) fn finish(
        &mut self,
        finished: AsyncDone,
        view: &mut V,
        socket: &mut Socket<V>,
    ) -> bool {
        let Some(tasks) = self.running.as_mut() else {
            return false;
        };
        let current = tasks
            .get(&finished.name)
            .is_some_and(|running| running.generation == finished.generation);
        if !current {
            return false;
        }
        let running = tasks.remove(&finished.name).expect("checked above");
        (running.done)(view, finished.result, socket);
        true
    }
}

/// Awaits a future, turning a panic into its message.
pub(crate) struct CatchUnwind<F>(pub(crate) F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let future = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *future).poll(cx))) {
            Ok(poll) => poll.map(Ok),
            Err(payload) => Poll::Ready(Err(super::component::panic_message(&*payload))),
        }
    }
}

/// Why a cancelled or replaced task stops: a shutdown with a reason, as a
/// view that cancels expects the task to end.
fn cancelled() -> ExitReason {
    ExitReason::shutdown_with("cancel")
}
