//! A process's mailbox: an unbounded FIFO of user messages and system signals.
//!
//! A mutex around room for one message, a `VecDeque` for more, and the
//! waiting task's waker. An empty mailbox allocates nothing, which keeps
//! idle processes small; one lock per send and per receive keeps it fast
//! enough that the scheduler, not the queue, is the cost of a message.
//!
//! A message that comes to an empty mailbox is kept beside the lock rather
//! than in the queue's allocation. Most processes hold one message at a time
//! (a request, then its answer), and with many processes their mailboxes are
//! seldom in the processor's cache when a message comes: a message written
//! beside the lock costs the lock's cache lines alone, where one written
//! into the queue's buffer waited for that buffer too.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

pub(crate) struct Mailbox<T> {
    inner: Mutex<Inner<T>>,
}

// In this order: what a send and a receive touch comes right after the lock.
#[repr(C)]
struct Inner<T> {
    closed: bool,
    waker: Option<Waker>,
    /// A message that came to an empty mailbox. Older than any in `rest`:
    /// a message goes here only when `rest` is empty.
    first: Option<T>,
    /// The other messages, oldest first. Once it holds any, messages keep
    /// coming here until it is empty again, so a backlog is read from the
    /// queue alone, without moving each message into `first`.
    rest: VecDeque<T>,
}

impl<T> Inner<T> {
    fn front(&self) -> Option<&T> {
        self.first.as_ref().or_else(|| self.rest.front())
    }

    fn pop_front(&mut self) -> Option<T> {
        self.first.take().or_else(|| self.rest.pop_front())
    }

    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }
}

impl<T> Mailbox<T> {
    pub(crate) fn new() -> Self {
        Mailbox {
            inner: Mutex::new(Inner {
                closed: false,
                waker: None,
                first: None,
                rest: VecDeque::new(),
            }),
        }
    }

    /// Brings the lock, the line that a push and a pop take first, into
    /// the cache (see [`Pid::prefetch`](crate::Pid::prefetch)).
    pub(crate) fn prefetch(&self) {
        crate::hint::prefetch(&self.inner);
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
            if inner.first.is_none() && inner.rest.is_empty() {
                inner.first = Some(message);
            } else {
                inner.rest.push_back(message);
            }
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
        match inner.pop_front() {
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
        self.lock().pop_front()
    }

    /// Takes the oldest message if `take` accepts it; leaves it first in
    /// line otherwise.
    pub(crate) fn try_pop_if(&self, take: impl FnOnce(&T) -> bool) -> Option<T> {
        let mut inner = self.lock();
        if take(inner.front()?) {
            inner.pop_front()
        } else {
            None
        }
    }

    /// Keeps only the messages for which `keep` returns true.
    pub(crate) fn retain(&self, mut keep: impl FnMut(&T) -> bool) {
        let mut inner = self.lock();
        let Inner { first, rest, .. } = &mut *inner;
        if rest.is_empty() {
            if first.as_ref().is_some_and(|message| !keep(message)) {
                *first = None;
            }
            return;
        }
        if let Some(message) = first.take() {
            rest.push_front(message);
        }
        rest.retain(keep);
    }

    /// Closes the mailbox and hands back what was still queued, so the caller
    /// drops it outside the lock.
    pub(crate) fn close(&self) -> VecDeque<T> {
        let mut inner = self.lock();
        inner.closed = true;
        inner.waker = None;
        let mut queued = std::mem::take(&mut inner.rest);
        if let Some(message) = inner.first.take() {
            queued.push_front(message);
        }
        queued
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// How many messages the queue's own allocation has room for; the room
    /// beside the lock is part of the mailbox itself.
    pub(crate) fn capacity(&self) -> usize {
        self.lock().rest.capacity()
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
    fn messages_leave_in_the_order_they_came_whichever_room_they_took() {
        let mailbox = Mailbox::new();
        let mut expected = Vec::new();
        let mut received = Vec::new();
        // Bursts of every length up to five, each partly received before
        // the next, so messages come to an empty mailbox, to one holding a
        // message beside its lock, and to one whose queue is in use, with
        // and without a message beside the lock.
        let mut next = 0;
        for burst in 1..=5 {
            for _ in 0..burst {
                mailbox.push(next).unwrap();
                expected.push(next);
                next += 1;
            }
            for _ in 0..burst / 2 {
                received.extend(mailbox.try_pop());
            }
            assert_eq!(mailbox.len(), expected.len() - received.len());
        }
        while let Some(message) = mailbox.try_pop() {
            received.push(message);
        }
        assert_eq!(received, expected);
        assert_eq!(mailbox.len(), 0);
    }

    #[test]
    fn a_mailbox_that_holds_one_message_at_a_time_allocates_nothing() {
        let mailbox = Mailbox::new();
        for message in 0..100 {
            mailbox.push(message).unwrap();
            assert_eq!(mailbox.try_pop(), Some(message));
        }
        assert_eq!(mailbox.capacity(), 0);
        // A second message waiting takes the queue's allocation.
        mailbox.push(1).unwrap();
        mailbox.push(2).unwrap();
        assert!(mailbox.capacity() > 0);
    }

    #[test]
    fn retaining_keeps_the_order_of_what_is_kept() {
        let mailbox = Mailbox::new();
        for message in 1..=6 {
            mailbox.push(message).unwrap();
        }
        mailbox.retain(|message| message % 2 == 0);
        assert_eq!(mailbox.len(), 3);
        assert_eq!(mailbox.try_pop_if(|&m| m == 4), None, "2 is first");
        let kept: Vec<i32> = std::iter::from_fn(|| mailbox.try_pop()).collect();
        assert_eq!(kept, [2, 4, 6]);
        mailbox.push(7).unwrap();
        mailbox.retain(|_| false);
        assert_eq!((mailbox.len(), mailbox.try_pop()), (0, None));
        let lone = Mailbox::new();
        lone.push(8).unwrap();
        lone.retain(|message| message % 2 == 0);
        assert_eq!(lone.capacity(), 0, "a lone message is kept where it is");
        assert_eq!(lone.try_pop(), Some(8));
    }

    #[test]
    fn a_closed_mailbox_refuses_messages_and_returns_what_was_queued() {
        let mailbox = Mailbox::new();
        mailbox.push("a").unwrap();
        mailbox.push("b").unwrap();
        let left = mailbox.close();
        assert_eq!(left, ["a", "b"]);
        assert_eq!(mailbox.push("b"), Err("b"));
        assert_eq!(mailbox.len(), 0);
    }
}
