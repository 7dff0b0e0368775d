//! Exit reasons: why a process ended, with Erlang's vocabulary.

use std::fmt;
use std::sync::Arc;

/// Why a process exited, or the reason carried by an exit signal.
///
/// The variants mirror Erlang's conventions:
///
/// | Cinder | Erlang | propagates through links? |
/// | --- | --- | --- |
/// | [`Normal`](ExitReason::Normal) | `normal` | no (a trapping process gets a message) |
/// | [`Shutdown`](ExitReason::Shutdown) | `shutdown` | yes |
/// | [`ShutdownWith`](ExitReason::ShutdownWith) | `{shutdown, Term}` | yes |
/// | [`Kill`](ExitReason::Kill) | `kill` (as a signal) | arrives as `killed` |
/// | [`Killed`](ExitReason::Killed) | `killed` | yes |
/// | [`NoProc`](ExitReason::NoProc) | `noproc` | yes |
/// | [`Panic`](ExitReason::Panic) | a crash | yes |
/// | [`Error`](ExitReason::Error) | any other term | yes |
///
/// Supervisors treat `Normal`, `Shutdown` and `ShutdownWith` as clean exits: a
/// [`Transient`](crate::supervisor::Restart::Transient) child that exits with
/// one of them is not restarted (see [`ExitReason::is_clean`]).
///
/// ```
/// use cinder_runtime::ExitReason;
///
/// assert!(ExitReason::Normal.is_clean());
/// assert!(ExitReason::shutdown_with("reconfigured").is_clean());
/// assert!(!ExitReason::error("disk full").is_clean());
/// assert_eq!(ExitReason::error("disk full").to_string(), "error: disk full");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExitReason {
    /// The process finished its work.
    Normal,
    /// The process was asked to stop, usually by its supervisor.
    Shutdown,
    /// Like [`Shutdown`](ExitReason::Shutdown), with a value saying why.
    ShutdownWith(Arc<str>),
    /// The untrappable kill signal. Sent with [`exit`](fn@crate::exit); the target
    /// always dies, with reason [`Killed`](ExitReason::Killed).
    Kill,
    /// The process was killed with [`Kill`](ExitReason::Kill).
    Killed,
    /// The process did not exist (for example when monitoring a dead pid).
    NoProc,
    /// The process panicked; the value is the panic message.
    Panic(Arc<str>),
    /// The process failed with an error of its own.
    Error(Arc<str>),
}

impl ExitReason {
    /// An [`Error`](ExitReason::Error) reason with the given message.
    pub fn error(message: impl fmt::Display) -> Self {
        ExitReason::Error(message.to_string().into())
    }

    /// A [`ShutdownWith`](ExitReason::ShutdownWith) reason with the given value.
    pub fn shutdown_with(value: impl fmt::Display) -> Self {
        ExitReason::ShutdownWith(value.to_string().into())
    }

    /// Whether this is a clean exit: `normal`, `shutdown` or `{shutdown, _}`.
    ///
    /// Clean exits are not logged as errors and do not restart
    /// [`Transient`](crate::supervisor::Restart::Transient) children.
    pub fn is_clean(&self) -> bool {
        matches!(
            self,
            ExitReason::Normal | ExitReason::Shutdown | ExitReason::ShutdownWith(_)
        )
    }

    pub(crate) fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = if let Some(text) = payload.downcast_ref::<&'static str>() {
            (*text).to_owned()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "a value that is not a string".to_owned()
        };
        ExitReason::Panic(message.into())
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::ShutdownWith(value) => write!(f, "{{shutdown, {value}}}"),
            ExitReason::Kill => f.write_str("kill"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::NoProc => f.write_str("noproc"),
            ExitReason::Panic(message) => write!(f, "panic: {message}"),
            ExitReason::Error(message) => write!(f, "error: {message}"),
        }
    }
}

/// A process body that returns `()` exits normally.
impl From<()> for ExitReason {
    fn from((): ()) -> Self {
        ExitReason::Normal
    }
}

/// A process body that returns `Ok(())` exits normally; `Err(e)` becomes
/// [`ExitReason::Error`] with the error's message.
impl<E: fmt::Display> From<Result<(), E>> for ExitReason {
    fn from(result: Result<(), E>) -> Self {
        match result {
            Ok(()) => ExitReason::Normal,
            Err(error) => ExitReason::error(error),
        }
    }
}
