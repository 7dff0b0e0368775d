//! Publish/subscribe by topic, local by default, across nodes through an [`Adapter`].
//!
//! Subscribers are processes, reached through a [`Recipient`]; a subscription
//! vanishes when its process exits. Each subscription names the message type
//! it takes: a broadcast reaches the subscribers of its type on that topic.
//!
//! - [`PubSub::broadcast`] reaches subscribers on every node. Its messages
//!   are `serde` types, because the adapter carries them to other nodes
//!   encoded; on one node nothing is encoded.
//! - [`PubSub::local_broadcast`] stays on this node and takes any `Clone` type.
//! - The `_from` variants skip one process, usually the sender.
//!
//! ```
//! use cinder_runtime::{pubsub::PubSub, spawn, Context, ExitReason, Message, Recipient};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let pubsub = PubSub::new();
//! let reader = spawn(|mut ctx: Context<String>| async move {
//!     match ctx.recv().await {
//!         Message::User(text) => assert_eq!(text, "hello"),
//!         other => panic!("unexpected {other:?}"),
//!     }
//!     ExitReason::Normal
//! });
//! pubsub.subscribe::<String>("room:1", Recipient::new(&reader).unwrap());
//! assert_eq!(pubsub.broadcast("room:1", "hello".to_string()), 1);
//! reader.exited().await;
//! assert_eq!(pubsub.subscriber_count("room:1"), 0);
//! # }
//! ```

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ids::IdMap;
use crate::owners::{self, Owners};
use crate::process::{self, Pid};
use crate::recipient::Recipient;

/// Messages that can cross nodes: [`PubSub::broadcast`] and [`PubSub::subscribe`] take these.
pub trait Broadcast: Clone + Send + Sync + Serialize + DeserializeOwned + 'static {}
impl<T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static> Broadcast for T {}

/// A broadcast leaving this node, handed to the [`Adapter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The topic.
    pub topic: Arc<str>,
    /// The Rust type of the message, which the receiving node uses to find
    /// its subscribers of that type.
    pub type_name: &'static str,
    /// The message encoded as JSON.
    pub payload: Vec<u8>,
}

/// Carries broadcasts between nodes. The default, [`LocalAdapter`], carries
/// nothing: one node. A cross-node adapter (for example on Redis) publishes
/// each [`Outgoing`] message once to the broker, and hands what it receives
/// from other nodes to [`WeakPubSub::deliver_remote`].
pub trait Adapter: Send + Sync + 'static {
    /// Sends a broadcast to the other nodes. Must not block: queue it.
    fn publish(&self, message: Outgoing);

    /// This node gained its first subscriber to `topic`.
    fn topic_added(&self, topic: &str) {
        let _ = topic;
    }

    /// This node lost its last subscriber to `topic`.
    fn topic_removed(&self, topic: &str) {
        let _ = topic;
    }
}

/// The single-node adapter: broadcasts stay on this node.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalAdapter;

impl Adapter for LocalAdapter {
    fn publish(&self, _message: Outgoing) {}
}

type Deliver = Arc<dyn Fn(&dyn Any) -> bool + Send + Sync>;
type Decode = fn(&[u8]) -> Option<Box<dyn Any + Send>>;

struct Subscription {
    pid: Pid,
    deliver: Deliver,
    /// How to decode this subscription's type from another node; `None` for
    /// local-only subscriptions.
    decode: Option<Decode>,
}

struct Inner {
    state: Mutex<State>,
    adapter: RwLock<Arc<dyn Adapter>>,
}

struct State {
    topics: HashMap<Arc<str>, Topic>,
    owners: Owners<Arc<str>>,
}

/// No subscription: the end of a [`Slot`]'s chain.
const NONE: u32 = u32::MAX;

/// A subscription in its topic's list, linked to the previous one of the
/// same subscriber.
struct Slot {
    subscription: Subscription,
    previous_of_pid: u32,
}

/// One topic's subscriptions, by the type of message they take.
///
/// A broadcast looks only at the subscribers of its own type: a room whose
/// topic carries both its messages and its presence diffs, say, sends a
/// diff to the one process that takes diffs, without offering it to every
/// view in the room first.
#[derive(Default)]
struct Topic {
    /// Most topics carry one type or two: a short list searched in order.
    by_type: Vec<Subscribers>,
}

impl Topic {
    fn push(&mut self, message_type: MessageType, subscription: Subscription) {
        let of_type =
            |subscribers: &&mut Subscribers| subscribers.message_type.id == message_type.id;
        match self.by_type.iter_mut().find(of_type) {
            Some(subscribers) => subscribers.push(subscription),
            None => {
                let mut subscribers = Subscribers::new(message_type);
                subscribers.push(subscription);
                self.by_type.push(subscribers);
            }
        }
    }

    fn remove(&mut self, pid: &Pid) {
        for subscribers in &mut self.by_type {
            subscribers.remove(pid);
        }
        self.by_type.retain(|subscribers| !subscribers.is_empty());
    }

    /// The subscribers of messages of type `id`.
    fn of_type(&self, id: TypeId) -> Option<&Subscribers> {
        self.by_type
            .iter()
            .find(|subscribers| subscribers.message_type.id == id)
    }

    /// The subscribers of messages whose type is named `name`, which is how
    /// a message from another node names it.
    fn named(&self, name: &str) -> Option<&Subscribers> {
        self.by_type
            .iter()
            .find(|subscribers| subscribers.message_type.name == name)
    }

    fn len(&self) -> usize {
        self.by_type.iter().map(Subscribers::len).sum()
    }

    fn is_empty(&self) -> bool {
        self.by_type.is_empty()
    }
}

/// The type of message a subscription takes.
#[derive(Clone, Copy)]
struct MessageType {
    id: TypeId,
    name: &'static str,
}

impl MessageType {
    fn of<T: 'static>() -> Self {
        MessageType {
            id: TypeId::of::<T>(),
            name: std::any::type_name::<T>(),
        }
    }
}

/// A topic's subscriptions of one message type, in the order they were
/// made.
///
/// A subscriber that leaves is removed in time proportional to its own
/// subscriptions, not to the topic's: each subscriber's latest slot is found
/// by its pid, and its others through the chain of `previous_of_pid`.
/// Removal leaves holes, closed up (in one pass) once they are half the list.
struct Subscribers {
    message_type: MessageType,
    slots: Vec<Option<Slot>>,
    /// The latest slot of each subscriber, by pid id.
    latest: IdMap<u32>,
    live: usize,
}

impl Subscribers {
    fn new(message_type: MessageType) -> Self {
        Subscribers {
            message_type,
            slots: Vec::new(),
            latest: IdMap::default(),
            live: 0,
        }
    }

    fn push(&mut self, subscription: Subscription) {
        let index =
            u32::try_from(self.slots.len()).expect("fewer than 2^32 subscriptions to a topic");
        let previous_of_pid = self
            .latest
            .insert(subscription.pid.id(), index)
            .unwrap_or(NONE);
        self.slots.push(Some(Slot {
            subscription,
            previous_of_pid,
        }));
        self.live += 1;
    }

    fn remove(&mut self, pid: &Pid) {
        let Some(mut index) = self.latest.remove(&pid.id()) else {
            return;
        };
        while index != NONE {
            let slot = self.slots[index as usize].take();
            index = slot.map_or(NONE, |slot| {
                self.live -= 1;
                slot.previous_of_pid
            });
        }
        if self.live * 2 < self.slots.len() {
            self.compact();
        }
    }

    /// Closes the holes, keeping the order, and relinks the chains.
    fn compact(&mut self) {
        self.slots.retain(Option::is_some);
        self.latest.clear();
        for (index, slot) in self.slots.iter_mut().enumerate() {
            let Some(slot) = slot else { continue };
            let index = index as u32;
            slot.previous_of_pid = self
                .latest
                .insert(slot.subscription.pid.id(), index)
                .unwrap_or(NONE);
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Subscription> {
        self.slots.iter().flatten().map(|slot| &slot.subscription)
    }

    fn len(&self) -> usize {
        self.live
    }

    fn is_empty(&self) -> bool {
        self.live == 0
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn adapter(&self) -> Arc<dyn Adapter> {
        self.adapter
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn subscriber_exited(&self, pid: &Pid) {
        let mut emptied = Vec::new();
        {
            let mut state = self.lock();
            for topic in state.owners.take(pid) {
                if remove_subscriptions(&mut state.topics, &topic, pid) {
                    emptied.push(topic);
                }
            }
        }
        let adapter = self.adapter();
        for topic in emptied {
            adapter.topic_removed(&topic);
        }
    }
}

/// Removes `pid`'s subscriptions to `topic`; true if the topic is now empty.
fn remove_subscriptions(topics: &mut HashMap<Arc<str>, Topic>, topic: &str, pid: &Pid) -> bool {
    let Some(list) = topics.get_mut(topic) else {
        return false;
    };
    list.remove(pid);
    if list.is_empty() {
        topics.remove(topic);
        return true;
    }
    false
}

/// A PubSub server: topics, subscribers, and the adapter to other nodes.
/// Cheap to clone; clones share the topics.
#[derive(Clone)]
pub struct PubSub {
    inner: Arc<Inner>,
}

/// A handle to a [`PubSub`] that does not keep it alive, for adapters.
#[derive(Clone)]
pub struct WeakPubSub(Weak<Inner>);

impl Default for PubSub {
    fn default() -> Self {
        PubSub::new()
    }
}

impl PubSub {
    /// A PubSub on this node only (with [`LocalAdapter`]).
    pub fn new() -> Self {
        PubSub {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    topics: HashMap::new(),
                    owners: Owners::new(),
                }),
                adapter: RwLock::new(Arc::new(LocalAdapter)),
            }),
        }
    }

    /// Replaces the adapter. The new adapter is told of every topic that
    /// already has subscribers.
    pub fn set_adapter(&self, adapter: Arc<dyn Adapter>) {
        for topic in self.topics() {
            adapter.topic_added(&topic);
        }
        *self
            .inner
            .adapter
            .write()
            .unwrap_or_else(|p| p.into_inner()) = adapter;
    }

    /// A weak handle for an adapter to deliver incoming messages with.
    pub fn downgrade(&self) -> WeakPubSub {
        WeakPubSub(Arc::downgrade(&self.inner))
    }

    /// Subscribes `recipient` to `topic` for broadcasts of type `T` from any node.
    pub fn subscribe<T: Broadcast>(&self, topic: &str, recipient: Recipient<T>) {
        self.add(topic, recipient, Some(decode_json::<T>));
    }

    /// Subscribes `recipient` to `topic` for this node's
    /// [`local_broadcast`](PubSub::local_broadcast)s of type `T`, which need
    /// not be serializable.
    pub fn subscribe_local<T: Clone + Send + Sync + 'static>(
        &self,
        topic: &str,
        recipient: Recipient<T>,
    ) {
        self.add(topic, recipient, None);
    }

    fn add<T: Clone + Send + 'static>(
        &self,
        topic: &str,
        recipient: Recipient<T>,
        decode: Option<Decode>,
    ) {
        let pid = recipient.pid().clone();
        let deliver: Deliver = Arc::new(move |message: &dyn Any| {
            message
                .downcast_ref::<T>()
                .is_some_and(|message| recipient.send(message.clone()))
        });
        let (needs_monitor, first) = {
            let mut state = self.inner.lock();
            let topic: Arc<str> = match state.topics.get_key_value(topic) {
                Some((existing, _)) => existing.clone(),
                None => topic.into(),
            };
            let list = state.topics.entry(topic.clone()).or_default();
            let first = list.is_empty();
            list.push(
                MessageType::of::<T>(),
                Subscription {
                    pid: pid.clone(),
                    deliver,
                    decode,
                },
            );
            (state.owners.add(&pid, topic), first)
        };
        if first {
            self.inner.adapter().topic_added(topic);
        }
        if needs_monitor {
            let monitor = owners::watch(&pid, &self.inner, Inner::subscriber_exited);
            if let Some(unneeded) = self.inner.lock().owners.set_monitor(&pid, monitor) {
                process::demonitor(&unneeded);
            }
        }
    }

    /// Removes every subscription of `pid` to `topic`.
    pub fn unsubscribe(&self, topic: &str, pid: &Pid) {
        let (emptied, monitor) = {
            let mut state = self.inner.lock();
            let emptied = remove_subscriptions(&mut state.topics, topic, pid);
            let monitor = state.owners.remove_all(pid, &Arc::from(topic));
            (emptied, monitor)
        };
        if let Some(monitor) = monitor {
            process::demonitor(&monitor);
        }
        if emptied {
            self.inner.adapter().topic_removed(topic);
        }
    }

    /// Sends `message` to every subscriber of its type on `topic`, on every
    /// node. Returns how many subscribers on this node received it.
    pub fn broadcast<T: Broadcast>(&self, topic: &str, message: T) -> usize {
        self.publish(topic, &message);
        self.fan_out(topic, &message, None)
    }

    /// Like [`broadcast`](PubSub::broadcast), skipping `from` on this node
    /// (`broadcast_from`).
    pub fn broadcast_from<T: Broadcast>(&self, from: &Pid, topic: &str, message: T) -> usize {
        self.publish(topic, &message);
        self.fan_out(topic, &message, Some(from))
    }

    /// Sends `message` to this node's subscribers of its type on `topic` only.
    pub fn local_broadcast<T: Clone + Send + Sync + 'static>(
        &self,
        topic: &str,
        message: T,
    ) -> usize {
        self.fan_out(topic, &message, None)
    }

    /// Like [`local_broadcast`](PubSub::local_broadcast), skipping `from`.
    pub fn local_broadcast_from<T: Clone + Send + Sync + 'static>(
        &self,
        from: &Pid,
        topic: &str,
        message: T,
    ) -> usize {
        self.fan_out(topic, &message, Some(from))
    }

    /// The number of subscriptions to `topic` on this node.
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.inner.lock().topics.get(topic).map_or(0, Topic::len)
    }

    /// The topics with subscribers on this node.
    pub fn topics(&self) -> Vec<Arc<str>> {
        self.inner.lock().topics.keys().cloned().collect()
    }

    fn publish<T: Broadcast>(&self, topic: &str, message: &T) {
        match serde_json::to_vec(message) {
            Ok(payload) => self.inner.adapter().publish(Outgoing {
                topic: topic.into(),
                type_name: std::any::type_name::<T>(),
                payload,
            }),
            Err(error) => tracing::error!(
                topic,
                message_type = std::any::type_name::<T>(),
                %error,
                "a broadcast could not be encoded for other nodes; delivered on this node only"
            ),
        }
    }

    fn fan_out<T: Send + Sync + 'static>(
        &self,
        topic: &str,
        message: &T,
        skip: Option<&Pid>,
    ) -> usize {
        let state = self.inner.lock();
        let Some(list) = state
            .topics
            .get(topic)
            .and_then(|topic| topic.of_type(TypeId::of::<T>()))
        else {
            return 0;
        };
        // Each send finds its process's mailbox out of the cache when a
        // topic has many subscribers: the processes a few sends ahead are
        // asked for now, so that they come while the sends before them run.
        let mut ahead = list.iter().skip(PREFETCH_AHEAD);
        let mut delivered = 0;
        for subscription in list.iter() {
            if let Some(later) = ahead.next() {
                later.pid.prefetch();
            }
            if Some(&subscription.pid) != skip && (subscription.deliver)(message) {
                delivered += 1;
            }
        }
        delivered
    }
}

/// How many subscriptions ahead of its send a broadcast asks for a
/// subscriber's process (see [`Pid::prefetch`]): far enough that it has
/// come when the send comes, near enough that it is still in the cache
/// then.
const PREFETCH_AHEAD: usize = 8;

impl WeakPubSub {
    /// Delivers a message that came from another node to this node's
    /// subscribers of `type_name` on `topic`. The payload is decoded once per
    /// subscribed type. Returns how many subscribers received it, or `None`
    /// if the PubSub is gone.
    pub fn deliver_remote(&self, topic: &str, type_name: &str, payload: &[u8]) -> Option<usize> {
        let inner = self.0.upgrade()?;
        let state = inner.lock();
        let Some(list) = state
            .topics
            .get(topic)
            .and_then(|topic| topic.named(type_name))
        else {
            return Some(0);
        };
        let mut decoded: Option<Box<dyn Any + Send>> = None;
        let mut delivered = 0;
        for subscription in list.iter() {
            let Some(decode) = subscription.decode else {
                continue;
            };
            if decoded.is_none() {
                decoded = decode(payload);
                if decoded.is_none() {
                    tracing::warn!(
                        topic,
                        type_name,
                        "a message from another node could not be decoded"
                    );
                    return Some(0);
                }
            }
            if let Some(message) = &decoded {
                if (subscription.deliver)(message.as_ref()) {
                    delivered += 1;
                }
            }
        }
        Some(delivered)
    }
}

fn decode_json<T: Broadcast>(payload: &[u8]) -> Option<Box<dyn Any + Send>> {
    serde_json::from_slice::<T>(payload)
        .ok()
        .map(|message| Box::new(message) as Box<dyn Any + Send>)
}
