//! What is running: process counts, per-process details, for dashboards and debugging.
//!
//! The supervision tree as data comes from
//! [`Supervisor::tree`](crate::supervisor::Supervisor::tree).
//!
//! ```
//! use cinder_runtime::{introspection, spawn, Context, ExitReason};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let pid = spawn(|mut ctx: Context<u32>| async move {
//!     ctx.recv().await;
//!     ExitReason::Normal
//! });
//! cinder_runtime::registry::register("introspected", &pid).unwrap();
//! let info = introspection::process_info(&pid).unwrap();
//! assert_eq!(info.name.as_deref(), Some("introspected"));
//! assert!(introspection::process_count() >= 1);
//! # }
//! ```

use std::sync::Arc;

use crate::process::{Pid, Status};
use crate::table;

/// A snapshot of one process.
#[derive(Clone, Debug)]
pub struct ProcessInfo {
    /// The process.
    pub pid: Pid,
    /// Its process-wide registered name, if any.
    pub name: Option<Arc<str>>,
    /// Running, waiting for a message, or exited.
    pub status: Status,
    /// Messages waiting in its mailbox.
    pub mailbox_len: usize,
    /// Messages it has taken from its mailbox so far.
    pub messages_handled: u64,
    /// An estimate of the bytes it holds: its control block, its task's
    /// future, its mailbox buffer and its links and monitors. Heap data the
    /// process's own state points to is not counted.
    pub memory: usize,
    /// The processes linked to it.
    pub links: Vec<Pid>,
}

/// The number of live processes.
pub fn process_count() -> usize {
    table::count()
}

/// Every live process, oldest first.
pub fn processes() -> Vec<Pid> {
    table::all()
}

/// A snapshot of `pid`, or `None` if it has exited.
pub fn process_info(pid: &Pid) -> Option<ProcessInfo> {
    if !pid.is_alive() {
        return None;
    }
    Some(ProcessInfo {
        pid: pid.clone(),
        name: pid.name(),
        status: pid.status(),
        mailbox_len: pid.mailbox_len(),
        messages_handled: pid.messages_handled(),
        memory: pid.memory_estimate(),
        links: pid.links(),
    })
}
