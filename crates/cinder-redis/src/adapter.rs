//! The Redis adapter: a publisher task and a subscriber task per node.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cinder_runtime::pubsub::{Adapter, Outgoing, PubSub, WeakPubSub};
use futures_util::StreamExt;
use tokio::sync::{mpsc, Notify};

use crate::envelope;

/// How long a connection attempt may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The first retry delay after a lost connection; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The most queued broadcasts sent to Redis in one pipeline.
const PUBLISH_BATCH: usize = 256;

/// Settings of a [`RedisAdapter`].
#[derive(Clone, Debug)]
pub struct RedisConfig {
    url: String,
    node: String,
    namespace: String,
    buffer: usize,
}

impl RedisConfig {
    /// Settings for the Redis server at `url` (for example
    /// `redis://127.0.0.1:6379`), with a random node name, the namespace
    /// `cinder` and room for 10,000 outgoing messages.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            node: format!("node-{:016x}", random_u64()),
            namespace: "cinder".into(),
            buffer: 10_000,
        }
    }

    /// This node's name, unique among the nodes of a namespace.
    pub fn node(mut self, node: impl Into<String>) -> Self {
        self.node = node.into();
        self
    }

    /// Nodes of one namespace exchange broadcasts; other namespaces on the
    /// same Redis are not heard.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// How many broadcasts may wait for the broker. When Redis is slow or
    /// gone and this many wait, newer broadcasts are dropped for other nodes
    /// (and counted) instead of growing memory; this node still gets them.
    pub fn buffer(mut self, messages: usize) -> Self {
        self.buffer = messages.max(1);
        self
    }
}

/// Why the adapter could not start.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// The URL is not a Redis URL.
    #[error("`{url}` is not a valid Redis URL (expected redis://host:port): {source}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What the client said.
        source: redis::RedisError,
    },
}

/// Counters of an adapter, for dashboards and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RedisStats {
    /// Broadcasts sent to the broker.
    pub published: u64,
    /// Broadcasts not sent to other nodes because the buffer was full.
    pub dropped: u64,
    /// Broadcasts received from other nodes.
    pub received: u64,
    /// Connections (re)established after a failure or loss.
    pub reconnects: u64,
    /// Whether the subscriber is subscribed right now.
    pub subscribed: bool,
    /// Whether the publisher holds a connection right now.
    pub publishing: bool,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    dropped: AtomicU64,
    received: AtomicU64,
    reconnects: AtomicU64,
    subscribed: AtomicBool,
    publishing: AtomicBool,
    changed: Notify,
}

impl Counters {
    fn set(&self, flag: &AtomicBool, value: bool) {
        if flag.swap(value, Ordering::AcqRel) != value {
            self.changed.notify_waiters();
        }
    }
}

/// A PubSub adapter that carries broadcasts between nodes through Redis.
///
/// Each broadcast is published once, as one Redis message, on the
/// namespace's channel; every node receives it once and delivers it to its own
/// subscribers. A node skips its own messages, which the PubSub already
/// delivered locally. The format is described in [`envelope`].
///
/// The adapter never blocks a broadcast. Its connections are made in the
/// background and remade after a failure, with a growing delay (up to 5 s),
/// resubscribing each time; meanwhile local delivery goes on and outgoing
/// messages wait in a bounded buffer. Messages published by other nodes
/// while this node is disconnected are not replayed (Redis PubSub keeps no
/// history).
#[derive(Clone)]
pub struct RedisAdapter {
    shared: Arc<Shared>,
}

struct Shared {
    node: String,
    outgoing: mpsc::Sender<Vec<u8>>,
    counters: Arc<Counters>,
}

impl RedisAdapter {
    /// Connects `pubsub` to the other nodes through Redis and installs itself
    /// as its adapter. Returns at once; the connections are made in the
    /// background (see [`wait_ready`](RedisAdapter::wait_ready)). Must be
    /// called inside a tokio runtime.
    pub fn start(pubsub: &PubSub, config: RedisConfig) -> Result<RedisAdapter, RedisError> {
        let client =
            redis::Client::open(config.url.as_str()).map_err(|source| RedisError::InvalidUrl {
                url: config.url.clone(),
                source,
            })?;
        let channel = format!("cinder:{}", config.namespace);
        let counters = Arc::new(Counters::default());
        let (outgoing, queue) = mpsc::channel(config.buffer);
        let link = Link {
            client,
            url: config.url,
            channel,
            counters: counters.clone(),
        };
        tokio::spawn(link.clone().publish_loop(queue));
        tokio::spawn(link.subscribe_loop(pubsub.downgrade(), config.node.clone()));
        let adapter = RedisAdapter {
            shared: Arc::new(Shared {
                node: config.node,
                outgoing,
                counters,
            }),
        };
        pubsub.set_adapter(Arc::new(adapter.clone()));
        Ok(adapter)
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.shared.node
    }

    /// The adapter's counters.
    pub fn stats(&self) -> RedisStats {
        let c = &self.shared.counters;
        RedisStats {
            published: c.published.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            received: c.received.load(Ordering::Relaxed),
            reconnects: c.reconnects.load(Ordering::Relaxed),
            subscribed: c.subscribed.load(Ordering::Acquire),
            publishing: c.publishing.load(Ordering::Acquire),
        }
    }

    /// Waits until both connections are up, at most `timeout`. True if they are.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let counters = &self.shared.counters;
        let ready = || {
            counters.subscribed.load(Ordering::Acquire)
                && counters.publishing.load(Ordering::Acquire)
        };
        tokio::time::timeout(timeout, async {
            loop {
                let changed = counters.changed.notified();
                if ready() {
                    return;
                }
                changed.await;
            }
        })
        .await
        .is_ok()
    }
}

impl Adapter for RedisAdapter {
    fn publish(&self, message: Outgoing) {
        let encoded = match envelope::encode(
            &self.shared.node,
            &message.topic,
            message.type_name,
            &message.payload,
        ) {
            Ok(encoded) => encoded,
            Err(error) => {
                tracing::error!(topic = %message.topic, %error, "a broadcast could not be encoded for Redis");
                return;
            }
        };
        if self.shared.outgoing.try_send(encoded).is_err() {
            let dropped = self.shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
            if dropped % 1_000 == 0 {
                tracing::warn!(
                    topic = %message.topic,
                    dropped = dropped + 1,
                    "the Redis buffer is full; broadcasts reach this node only until Redis catches up"
                );
            }
        }
    }
}

/// What both background tasks need to reach Redis.
#[derive(Clone)]
struct Link {
    client: redis::Client,
    url: String,
    channel: String,
    counters: Arc<Counters>,
}

/// Retry delays after failures, and the logging of them: the first failure
/// of a streak and every tenth after it, so a long outage does not flood the log.
struct Retry {
    failures: u32,
}

impl Retry {
    async fn failed(&mut self, what: &str, url: &str, error: &(dyn std::fmt::Display + Sync)) {
        if self.failures % 10 == 0 {
            tracing::error!(
                url,
                %error,
                failures = self.failures + 1,
                "Redis {what} failed; broadcasts reach this node only until it is back"
            );
        }
        let delay = FIRST_BACKOFF
            .saturating_mul(1 << self.failures.min(6))
            .min(MAX_BACKOFF);
        self.failures += 1;
        tokio::time::sleep(delay).await;
    }

    /// A connection was made; true if it follows failures.
    fn succeeded(&mut self) -> bool {
        std::mem::replace(&mut self.failures, 0) > 0
    }
}

impl Link {
    /// Publishes what waits in `queue`: every message waiting at once goes
    /// out in one pipeline (at most [`PUBLISH_BATCH`]), so throughput is not
    /// bound by one round trip to Redis per message. A batch whose pipeline
    /// fails is sent again whole once reconnected.
    async fn publish_loop(self, mut queue: mpsc::Receiver<Vec<u8>>) {
        let mut retry = Retry { failures: 0 };
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let mut ever_connected = false;
        loop {
            let connection = tokio::time::timeout(
                CONNECT_TIMEOUT,
                self.client.get_multiplexed_async_connection(),
            )
            .await;
            let mut connection = match connection {
                Ok(Ok(connection)) => connection,
                Ok(Err(error)) => {
                    retry
                        .failed("connection (publisher)", &self.url, &error)
                        .await;
                    continue;
                }
                Err(_) => {
                    retry
                        .failed("connection (publisher)", &self.url, &"timed out")
                        .await;
                    continue;
                }
            };
            if retry.succeeded() || ever_connected {
                self.counters.reconnects.fetch_add(1, Ordering::Relaxed);
                tracing::info!(url = %self.url, "Redis publisher reconnected");
            }
            ever_connected = true;
            self.counters.set(&self.counters.publishing, true);
            loop {
                if batch.is_empty() {
                    match queue.recv().await {
                        Some(message) => batch.push(message),
                        // The adapter is gone with its PubSub: stop.
                        None => return,
                    }
                }
                while batch.len() < PUBLISH_BATCH {
                    match queue.try_recv() {
                        Ok(message) => batch.push(message),
                        Err(_) => break,
                    }
                }
                let mut pipeline = redis::pipe();
                for message in &batch {
                    pipeline
                        .cmd("PUBLISH")
                        .arg(&self.channel)
                        .arg(message)
                        .ignore();
                }
                let sent: redis::RedisResult<()> = pipeline.query_async(&mut connection).await;
                match sent {
                    Ok(()) => {
                        self.counters
                            .published
                            .fetch_add(batch.len() as u64, Ordering::Relaxed);
                        batch.clear();
                    }
                    Err(error) => {
                        self.counters.set(&self.counters.publishing, false);
                        retry.failed("publish", &self.url, &error).await;
                        break;
                    }
                }
            }
        }
    }

    async fn subscribe_loop(self, pubsub: WeakPubSub, node: String) {
        let mut retry = Retry { failures: 0 };
        let mut ever_connected = false;
        loop {
            let mut subscription = match self.subscribe().await {
                Ok(subscription) => subscription,
                Err(error) => {
                    retry.failed("subscription", &self.url, &error).await;
                    continue;
                }
            };
            if retry.succeeded() || ever_connected {
                self.counters.reconnects.fetch_add(1, Ordering::Relaxed);
                tracing::info!(url = %self.url, "Redis subscriber reconnected");
            }
            ever_connected = true;
            self.counters.set(&self.counters.subscribed, true);
            let mut messages = subscription.on_message();
            while let Some(message) = messages.next().await {
                if !self.deliver(&pubsub, &node, message.get_payload_bytes()) {
                    return;
                }
            }
            self.counters.set(&self.counters.subscribed, false);
            retry
                .failed("subscription", &self.url, &"the connection was lost")
                .await;
        }
    }

    async fn subscribe(&self) -> Result<redis::aio::PubSub, String> {
        let mut subscription =
            tokio::time::timeout(CONNECT_TIMEOUT, self.client.get_async_pubsub())
                .await
                .map_err(|_| "timed out".to_string())?
                .map_err(|error| error.to_string())?;
        subscription
            .subscribe(&self.channel)
            .await
            .map_err(|error| error.to_string())?;
        Ok(subscription)
    }

    /// Hands one broker message to the local PubSub. False once the PubSub is gone.
    fn deliver(&self, pubsub: &WeakPubSub, node: &str, bytes: &[u8]) -> bool {
        let incoming = match envelope::decode(bytes) {
            Ok(incoming) => incoming,
            Err(error) => {
                tracing::warn!(channel = %self.channel, %error, "dropped a message from Redis");
                return true;
            }
        };
        if incoming.node == node {
            return true;
        }
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        pubsub
            .deliver_remote(
                &incoming.topic,
                &incoming.type_name,
                incoming.payload.get().as_bytes(),
            )
            .is_some()
    }
}

/// A random number for default node names, from the standard library's
/// randomly keyed hasher (no extra dependency for 64 bits of uniqueness).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos()),
    );
    hasher.finish()
}
