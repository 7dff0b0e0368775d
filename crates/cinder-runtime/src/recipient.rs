//! [`Recipient`]: where messages of one type go, whatever the receiving process's mailbox type.

use std::fmt;
use std::sync::Arc;

use crate::process::Pid;

/// A typed destination for messages of type `T`: a process plus the
/// conversion from `T` into what its mailbox receives.
///
/// PubSub subscriptions and other services that deliver one type to many
/// kinds of processes take a `Recipient`. Build one with [`Recipient::new`]
/// for a process whose mailbox receives `T` as is, with
/// [`Recipient::mapped`] to wrap `T` in the process's own message type, or
/// with [`Server::recipient`](crate::gen_server::Server::recipient) for a
/// GenServer's `handle_info`.
///
/// ```
/// use cinder_runtime::{spawn, Context, ExitReason, Recipient};
///
/// enum Inbox { Chat(String), Tick }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let pid = spawn(|mut ctx: Context<Inbox>| async move {
///     ctx.recv().await;
///     ExitReason::Normal
/// });
/// let chat: Recipient<String> = Recipient::mapped(&pid, Inbox::Chat).unwrap();
/// assert!(chat.send("hi".to_string()));
/// assert!(Recipient::<String>::new(&pid).is_err());
/// # }
/// ```
pub struct Recipient<T> {
    pid: Pid,
    /// Converts a message and sends it to the pid it is handed, the
    /// recipient's own: a conversion that captures nothing (an enum
    /// variant, a function) is then called without reading the memory it
    /// is kept in, which a send to a process that sleeps finds cold.
    deliver: Arc<Deliver<T>>,
}

/// Sends a `T` to the process it is given, converted to its message type.
type Deliver<T> = dyn Fn(&Pid, T) -> bool + Send + Sync;

impl<T> Clone for Recipient<T> {
    fn clone(&self) -> Self {
        Recipient {
            pid: self.pid.clone(),
            deliver: self.deliver.clone(),
        }
    }
}

impl<T> fmt::Debug for Recipient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient<{}>({})", std::any::type_name::<T>(), self.pid)
    }
}

/// The process does not receive the message type a [`Recipient`] would send it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pid} receives messages of type `{expected}`, not `{given}`")]
pub struct WrongMessageType {
    /// The process.
    pub pid: Pid,
    /// The type its mailbox receives.
    pub expected: &'static str,
    /// The type that was offered.
    pub given: &'static str,
}

impl<T: Send + 'static> Recipient<T> {
    /// A recipient for a process whose mailbox receives `T`.
    pub fn new(pid: &Pid) -> Result<Self, WrongMessageType> {
        Recipient::mapped(pid, |message: T| message)
    }

    /// A recipient that converts each `T` with `map` into the process's message type `M`.
    pub fn mapped<M: Send + 'static>(
        pid: &Pid,
        map: impl Fn(T) -> M + Send + Sync + 'static,
    ) -> Result<Self, WrongMessageType> {
        if !pid.accepts::<M>() {
            return Err(WrongMessageType {
                pid: pid.clone(),
                expected: pid.0.message_type(),
                given: std::any::type_name::<M>(),
            });
        }
        Ok(Recipient {
            pid: pid.clone(),
            deliver: Arc::new(move |pid: &Pid, message| pid.send(map(message)).is_ok()),
        })
    }

    /// The receiving process.
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    /// Delivers a message; false if the process has exited.
    pub fn send(&self, message: T) -> bool {
        (self.deliver)(&self.pid, message)
    }
}
