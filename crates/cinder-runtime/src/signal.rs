//! Graceful shutdown on SIGTERM or Ctrl-C, for binaries.
//!
//! ```no_run
//! use cinder_runtime::supervisor::{Strategy, Supervisor, SupervisorSpec};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let root = Supervisor::start(SupervisorSpec::new(Strategy::OneForOne)).await.unwrap();
//!     let reason = cinder_runtime::signal::stop_on_signal(&root).await?;
//!     println!("stopped: {reason}");
//!     Ok(())
//! }
//! ```

use std::future::Future;
use std::io;

use crate::exit::ExitReason;
use crate::supervisor::Supervisor;

/// Starts listening for SIGTERM and Ctrl-C (SIGINT) now, and returns a future
/// that completes when either arrives. Listening starts before this returns,
/// so no signal sent afterwards is missed.
pub fn shutdown_signal() -> io::Result<impl Future<Output = ()> + Send> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Waits for SIGTERM or Ctrl-C, then stops `root`: every child in reverse
/// start order, each within its shutdown spec, all the way down the tree.
/// Returns the root's exit reason.
pub async fn stop_on_signal(root: &Supervisor) -> io::Result<ExitReason> {
    shutdown_signal()?.await;
    tracing::info!("shutdown signal received; stopping the supervision tree");
    Ok(root.stop().await)
}
