//! # cinder-runtime
//!
//! Erlang/OTP's process model on tokio: the layer under Cinder's live views,
//! usable on its own.
//!
//! - **Processes** ([`spawn`], [`Pid`], [`Context`]): a task that owns its
//!   state and a mailbox of typed messages plus system signals. A panic ends
//!   that process only, with [`ExitReason::Panic`].
//! - **Exit signals, links and monitors** with Erlang's rules: an abnormal
//!   exit travels along links and kills unless the receiver traps exits;
//!   `normal` does not travel; [`ExitReason::Kill`] cannot be trapped;
//!   monitors deliver one [`Message::Down`].
//! - **[`gen_server`]**: the GenServer pattern as a trait, with `call`
//!   (with a timeout), `cast` and plain messages.
//! - **[`supervisor`]**: `one_for_one`, `one_for_all` and `rest_for_one`
//!   supervisors with restart intensity, ordered start and shutdown, nested
//!   trees, and dynamic supervisors; **[`task`]** supervisors for async work.
//! - **[`registry`]** (unique and duplicate keys), **[`pubsub`]** (with an
//!   adapter for other nodes), **[`presence`]** (who is on a topic, on every
//!   node), **[`timer`]**s, **[`introspection`]**, and graceful shutdown on a
//!   **[`signal`]**.
//!
//! ## A first process
//!
//! ```
//! use cinder_runtime::{spawn, Context, ExitReason, Message};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // A process that crashes on its first message.
//! let fragile = spawn(|mut ctx: Context<u32>| async move {
//!     if let Message::User(n) = ctx.recv().await {
//!         assert!(n < 10, "too big: {n}");
//!     }
//!     ExitReason::Normal
//! });
//!
//! // Another one that traps exits and is linked to it.
//! let watcher = spawn(move |mut ctx: Context<()>| async move {
//!     ctx.trap_exit(true);
//!     ctx.link(&fragile);
//!     fragile.send(99u32).unwrap();
//!     match ctx.recv().await {
//!         Message::Exit { reason: ExitReason::Panic(message), .. } => {
//!             assert_eq!(&*message, "too big: 99");
//!         }
//!         other => panic!("expected an exit message, got {other:?}"),
//!     }
//!     ExitReason::Normal
//! });
//! assert_eq!(watcher.exited().await, ExitReason::Normal);
//! # }
//! ```
//!
//! ## Cancellation
//!
//! A process is a future: a fatal exit signal ends it at its next `.await`,
//! dropping its state. Code that never awaits cannot be interrupted; keep
//! long computations in [`task`]s or yield now and then.
//!
//! All functions that start processes must run inside a tokio runtime.

pub mod exit;
pub mod gen_server;
pub mod hint;
pub mod ids;
pub mod introspection;
mod mailbox;
mod owners;
pub mod presence;
pub mod process;
pub mod pubsub;
pub mod recipient;
pub mod registry;
mod relations;
pub mod signal;
pub mod supervisor;
mod table;
pub mod task;
pub mod timer;

pub use exit::ExitReason;
pub use process::{current, exit, spawn, Context, Message, MonitorRef, Pid, SendError};
pub use recipient::Recipient;
