//! # cinder-redis
//!
//! Cross-node PubSub for Cinder on Redis: run several nodes behind a load
//! balancer and a broadcast on one reaches subscribers on all of them, as
//! `Phoenix.PubSub.Redis` does for Phoenix.
//!
//! ```no_run
//! use cinder_runtime::pubsub::PubSub;
//! use cinder_redis::{RedisAdapter, RedisConfig};
//!
//! # #[tokio::main] async fn main() -> Result<(), cinder_redis::RedisError> {
//! let pubsub = PubSub::new();
//! let redis = RedisAdapter::start(&pubsub, RedisConfig::new("redis://127.0.0.1:6379").node("web-1"))?;
//! redis.wait_ready(std::time::Duration::from_secs(5)).await;
//! // From here on, pubsub.broadcast(..) also reaches the other nodes.
//! # Ok(()) }
//! ```
//!
//! One Redis message per broadcast, whatever the number of subscribers; each
//! node fans out locally. The adapter reconnects and resubscribes on its own,
//! bounds what it buffers, and logs clearly while Redis is unreachable; local
//! delivery never waits for it. The message format is versioned and
//! documented in [`envelope`].

mod adapter;
pub mod envelope;

pub use adapter::{RedisAdapter, RedisConfig, RedisError, RedisStats};
