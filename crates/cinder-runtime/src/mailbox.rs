//! A process's mailbox: an unbounded FIFO of user messages and system signals.
//!
//! A mutex around a `VecDeque` and the waiting task's waker. An empty mailbox
//! allocates nothing, which keeps idle processes small; one lock per send and
//! per receive keeps it fast enough that the scheduler, not the queue, is the
//! cost of a message.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

pub(crate) struct Mailbox<T> {
    inner: Mutex<Inner<T>>,
}

struct Inner<T> {
    queue: VecDeque<T>,
    waker: Option<Waker>,
    closed: bool,
}

impl<T> Mailbox<T> {
    pub(crate) fn new() -> Self {
        Mailbox {
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                waker: None,
                closed: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // A panic never happens while the lock is held, but a poisoned queue is
        // still a consistent queue.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends a message; gives it back if the mailbox is closed (the owner exited).
    pub(crate) fn push(&self, message: T) -> Result<(), T> {
        let waker = {
            let mut inner = self.lock();
            if inner.closed {
                return Err(message);
            }
            inner.queue.push_back(message);
            inner.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Takes the oldest message, or registers the task to be woken by the next push.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<T> {
        let mut inner = self.lock();
        match inner.queue.pop_front() {
            Some(message) => Poll::Ready(message),
            None => {
                if !inner
                    .waker
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
                {
                    inner.waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }

    pub(crate) fn try_pop(&self) -> Option<T> {
        self.lock().queue.pop_front()
    }

    /// Takes the oldest message if `take` accepts it; leaves it first in
    /// line otherwise.
    pub(crate) fn try_pop_if(&self, take: impl FnOnce(&T) -> bool) -> Option<T> {
        let mut inner = self.lock();
        if take(inner.queue.front()?) {
            inner.queue.pop_front()
        } else {
            None
        }
    }

    /// Keeps only the messages for which `keep` returns true.
    pub(crate) fn retain(&self, keep: impl FnMut(&T) -> bool) {
        self.lock().queue.retain(keep);
    }

    /// Closes the mailbox and hands back what was still queued, so the caller
    /// drops it outside the lock.
    pub(crate) fn close(&self) -> VecDeque<T> {
        let mut inner = self.lock();
        inner.closed = true;
        inner.waker = None;
        std::mem::take(&mut inner.queue)
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().queue.len()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.lock().queue.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct CountWakes(std::sync::atomic::AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn delivers_in_order_and_wakes_a_waiting_receiver() {
        let mailbox = Mailbox::new();
        let counter = Arc::new(CountWakes(0.into()));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(mailbox.poll_pop(&mut cx).is_pending());
        mailbox.push(1).unwrap();
        mailbox.push(2).unwrap();
        assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(mailbox.poll_pop(&mut cx), Poll::Ready(1));
        assert_eq!(mailbox.try_pop(), Some(2));
        assert_eq!(mailbox.try_pop(), None);
    }

    #[test]
    fn a_conditional_pop_takes_only_an_accepted_oldest_message() {
        let mailbox = Mailbox::new();
        assert_eq!(mailbox.try_pop_if(|_: &i32| true), None);
        mailbox.push(1).unwrap();
        mailbox.push(2).unwrap();
        assert_eq!(mailbox.try_pop_if(|&m| m == 2), None, "2 is not first");
        assert_eq!(mailbox.try_pop_if(|&m| m == 1), Some(1));
        assert_eq!(mailbox.try_pop_if(|&m| m == 2), Some(2));
        assert_eq!(mailbox.len(), 0);
    }

    #[test]
    fn a_closed_mailbox_refuses_messages_and_returns_what_was_queued() {
        let mailbox = Mailbox::new();
        mailbox.push("a").unwrap();
        let left = mailbox.close();
        assert_eq!(left, ["a"]);
        assert_eq!(mailbox.push("b"), Err("b"));
        assert_eq!(mailbox.len(), 0);
    }
}
