//! Timers: [`send_after`] and [`send_interval`], cancellable through a [`TimerRef`].
//!
//! A timer holds the target's pid, not a strong claim on its life: when the
//! target has exited, the message is dropped and an interval stops.
//!
//! ```
//! use std::time::Duration;
//! use cinder_runtime::{spawn, timer, Context, ExitReason, Message};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let pid = spawn(|mut ctx: Context<&'static str>| async move {
//!     assert!(matches!(ctx.recv().await, Message::User("tick")));
//!     ExitReason::Normal
//! });
//! let pending = timer::send_after(&pid, "never", Duration::from_secs(60)).unwrap();
//! assert!(pending.cancel());
//! timer::send_after(&pid, "tick", Duration::from_millis(1)).unwrap();
//! pid.exited().await;
//! # }
//! ```

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::AbortHandle;

use crate::process::{Pid, SendError};

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;

/// A running timer. Dropping it does not cancel it (as in Erlang); call
/// [`cancel`](TimerRef::cancel).
#[derive(Debug)]
pub struct TimerRef {
    state: Arc<AtomicU8>,
    task: AbortHandle,
}

impl TimerRef {
    /// Cancels the timer. True if it was still pending: a one-shot timer that
    /// had not fired, or an interval that was still running.
    pub fn cancel(&self) -> bool {
        let was_pending = self
            .state
            .compare_exchange(PENDING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        self.task.abort();
        was_pending
    }

    /// Whether the timer will still send a message.
    pub fn is_active(&self) -> bool {
        self.state.load(Ordering::Acquire) == PENDING
    }
}

/// Sends `message` to `pid` after `delay` (Erlang's `erlang:send_after/3`).
///
/// Fails at once, giving the message back, if the process has exited or
/// receives another message type.
pub fn send_after<M: Send + 'static>(
    pid: &Pid,
    message: M,
    delay: Duration,
) -> Result<TimerRef, SendError<M>> {
    check::<M, M>(pid, message).map(|message| schedule(pid, message, delay))
}

/// Sends a clone of `message` to `pid` every `period`, the first after one
/// period (`:timer.send_interval/3`), until cancelled or the process exits.
pub fn send_interval<M: Clone + Send + Sync + 'static>(
    pid: &Pid,
    message: M,
    period: Duration,
) -> Result<TimerRef, SendError<M>> {
    check::<M, M>(pid, message).map(|message| interval_with(pid, period, move || message.clone()))
}

/// Sends `make()` to `pid` every `period`, the first after one period,
/// until cancelled or the process exits: for messages that are built fresh
/// each time rather than cloned.
pub fn send_interval_with<M: Send + 'static>(
    pid: &Pid,
    period: Duration,
    make: impl Fn() -> M + Send + 'static,
) -> Result<TimerRef, SendError<()>> {
    check::<M, ()>(pid, ())?;
    Ok(interval_with(pid, period, make))
}

/// Whether `pid` can take messages of type `M`; `carried` comes back in the error.
fn check<M: Send + 'static, C>(pid: &Pid, carried: C) -> Result<C, SendError<C>> {
    if !pid.accepts::<M>() {
        return Err(SendError::WrongType {
            message: carried,
            expected: pid.0.message_type(),
            sent: std::any::type_name::<M>(),
        });
    }
    if !pid.is_alive() {
        return Err(SendError::NoProc(carried));
    }
    Ok(carried)
}

pub(crate) fn schedule<M: Send + 'static>(pid: &Pid, message: M, delay: Duration) -> TimerRef {
    let state = Arc::new(AtomicU8::new(PENDING));
    let fired = state.clone();
    let target = pid.clone();
    let task = tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        if fired
            .compare_exchange(PENDING, FIRED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let _ = target.send(message);
        }
    });
    TimerRef {
        state,
        task: task.abort_handle(),
    }
}

pub(crate) fn interval_with<M: Send + 'static>(
    pid: &Pid,
    period: Duration,
    make: impl Fn() -> M + Send + 'static,
) -> TimerRef {
    let state = Arc::new(AtomicU8::new(PENDING));
    let running = state.clone();
    let target = pid.clone();
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if running.load(Ordering::Acquire) != PENDING || target.send(make()).is_err() {
                running.store(FIRED, Ordering::Release);
                return;
            }
        }
    });
    TimerRef {
        state,
        task: task.abort_handle(),
    }
}
