//! The Redis adapter against real `redis-server` processes, each test with
//! its own server on a free loopback port.

mod common;

use std::time::Duration;

use cinder_redis::{RedisAdapter, RedisConfig, RedisError};
use cinder_runtime::pubsub::PubSub;
use cinder_runtime::{spawn, Context, ExitReason, Message, Pid, Recipient};
use common::{free_port, url, RedisServer};
use tokio::sync::mpsc;

const PATIENCE: Duration = Duration::from_secs(15);

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Chat {
    text: String,
}

fn chat(text: &str) -> Chat {
    Chat { text: text.into() }
}

/// A node: a PubSub with a Redis adapter.
fn node(name: &str, url: &str) -> (PubSub, RedisAdapter) {
    let pubsub = PubSub::new();
    let adapter = RedisAdapter::start(&pubsub, RedisConfig::new(url).node(name)).unwrap();
    (pubsub, adapter)
}

/// A subscriber process on `pubsub`'s `room` topic that forwards what it gets.
fn subscriber(pubsub: &PubSub) -> (Pid, mpsc::UnboundedReceiver<Chat>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let pid = spawn(move |mut ctx: Context<Chat>| async move {
        loop {
            if let Message::User(chat) = ctx.recv().await {
                if sender.send(chat).is_err() {
                    return ExitReason::Normal;
                }
            }
        }
    });
    pubsub.subscribe::<Chat>("room", Recipient::new(&pid).unwrap());
    (pid, receiver)
}

async fn next(inbox: &mut mpsc::UnboundedReceiver<Chat>) -> Chat {
    tokio::time::timeout(PATIENCE, inbox.recv())
        .await
        .expect("a message arrives")
        .unwrap()
}

async fn nothing_more(inbox: &mut mpsc::UnboundedReceiver<Chat>) {
    let late = tokio::time::timeout(Duration::from_millis(100), inbox.recv()).await;
    assert!(late.is_err(), "unexpected message: {late:?}");
}

async fn ready(adapters: &[&RedisAdapter]) {
    for adapter in adapters {
        assert!(
            adapter.wait_ready(PATIENCE).await,
            "{} connects",
            adapter.node()
        );
    }
}

/// A server started on a port another server holds is not taken for the
/// one that answers there: each test talks to its own server.
#[test]
fn a_server_on_a_taken_port_is_not_mistaken_for_the_one_there() {
    let first = RedisServer::start();
    assert!(RedisServer::try_start_on(first.port).is_none());
    let second = RedisServer::start();
    assert_ne!(second.port, first.port);
}

#[tokio::test]
async fn a_broadcast_reaches_every_node_once_through_one_broker_message() {
    let redis = RedisServer::start();
    let (a, a_redis) = node("a", &redis.url());
    let (b, b_redis) = node("b", &redis.url());
    ready(&[&a_redis, &b_redis]).await;
    let (_on_a, mut a_inbox) = subscriber(&a);
    let mut b_inboxes: Vec<_> = (0..50).map(|_| subscriber(&b)).collect();

    a.broadcast("room", chat("hello"));
    assert_eq!(next(&mut a_inbox).await, chat("hello"));
    for (_, inbox) in &mut b_inboxes {
        assert_eq!(next(inbox).await, chat("hello"));
    }
    nothing_more(&mut a_inbox).await;
    nothing_more(&mut b_inboxes[0].1).await;
    assert_eq!(
        a_redis.stats().published,
        1,
        "one broker message for 50 subscribers"
    );
    assert_eq!(b_redis.stats().received, 1);
    assert_eq!(
        a_redis.stats().received,
        0,
        "a node ignores its own messages"
    );
}

#[tokio::test]
async fn local_broadcasts_and_other_namespaces_stay_apart() {
    let redis = RedisServer::start();
    let (a, a_redis) = node("a", &redis.url());
    let (b, b_redis) = node("b", &redis.url());
    let c = PubSub::new();
    let c_redis = RedisAdapter::start(
        &c,
        RedisConfig::new(redis.url()).node("c").namespace("other"),
    )
    .unwrap();
    ready(&[&a_redis, &b_redis, &c_redis]).await;
    let (_on_b, mut b_inbox) = subscriber(&b);
    let (_on_c, mut c_inbox) = subscriber(&c);

    a.local_broadcast("room", chat("only here"));
    a.broadcast("room", chat("everywhere"));
    assert_eq!(next(&mut b_inbox).await, chat("everywhere"));
    nothing_more(&mut b_inbox).await;
    nothing_more(&mut c_inbox).await;
}

#[tokio::test]
async fn local_delivery_works_while_redis_is_down_and_the_adapter_connects_when_it_comes() {
    let port = free_port();
    let (a, a_redis) = node("a", &url(port));
    let (b, b_redis) = node("b", &url(port));
    let (_on_a, mut a_inbox) = subscriber(&a);
    let (_on_b, mut b_inbox) = subscriber(&b);

    a.broadcast("room", chat("while down"));
    assert_eq!(next(&mut a_inbox).await, chat("while down"));
    assert!(!a_redis.stats().subscribed);

    let _redis = RedisServer::start_on(port);
    ready(&[&a_redis, &b_redis]).await;
    // The message queued while down went out once the publisher connected,
    // possibly before b subscribed, possibly after: it may or may not reach
    // b, ahead of what follows. Only what follows is certain to arrive.
    a.broadcast("room", chat("after"));
    let mut received = next(&mut b_inbox).await;
    if received == chat("while down") {
        received = next(&mut b_inbox).await;
    }
    assert_eq!(received, chat("after"));
    assert!(a_redis.stats().reconnects >= 1);
}

#[tokio::test]
async fn after_a_redis_restart_the_adapters_reconnect_and_deliver_again() {
    let mut redis = RedisServer::start();
    let port = redis.port;
    let (a, a_redis) = node("a", &redis.url());
    let (b, b_redis) = node("b", &redis.url());
    ready(&[&a_redis, &b_redis]).await;
    let (_on_a, mut a_inbox) = subscriber(&a);
    let (_on_b, mut b_inbox) = subscriber(&b);
    a.broadcast("room", chat("before"));
    assert_eq!(next(&mut b_inbox).await, chat("before"));

    redis.stop();
    tokio::time::timeout(PATIENCE, async {
        while b_redis.stats().subscribed || a_redis.stats().subscribed {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the adapters notice the loss");
    a.broadcast("room", chat("during"));
    assert_eq!(next(&mut a_inbox).await, chat("before"));
    assert_eq!(
        next(&mut a_inbox).await,
        chat("during"),
        "local delivery goes on"
    );

    let _restarted = RedisServer::start_on(port);
    ready(&[&a_redis, &b_redis]).await;
    a.broadcast("room", chat("after"));
    // "during" waited in a's buffer and goes out after the reconnect; it
    // reaches b only if b had resubscribed by then.
    let mut received = next(&mut b_inbox).await;
    if received == chat("during") {
        received = next(&mut b_inbox).await;
    }
    assert_eq!(received, chat("after"));
    assert!(b_redis.stats().reconnects >= 1);
}

#[tokio::test]
async fn a_full_buffer_drops_for_other_nodes_without_blocking_or_growing() {
    let port = free_port();
    let a = PubSub::new();
    let a_redis =
        RedisAdapter::start(&a, RedisConfig::new(url(port)).node("a").buffer(10)).unwrap();
    let (_on_a, mut a_inbox) = subscriber(&a);
    for n in 0..1_000 {
        a.broadcast("room", chat(&n.to_string()));
    }
    for n in 0..1_000 {
        assert_eq!(next(&mut a_inbox).await, chat(&n.to_string()));
    }
    let dropped = a_redis.stats().dropped;
    assert!((989..=990).contains(&dropped), "dropped {dropped}");
}

#[tokio::test]
async fn garbage_on_the_channel_is_dropped_and_delivery_goes_on() {
    let redis = RedisServer::start();
    let (a, a_redis) = node("a", &redis.url());
    let (b, b_redis) = node("b", &redis.url());
    ready(&[&a_redis, &b_redis]).await;
    let (_on_b, mut b_inbox) = subscriber(&b);

    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    for garbage in [
        "not json",
        r#"{"v":2,"node":"x","topic":"room","type":"t","payload":1}"#,
    ] {
        let _: i64 = redis::cmd("PUBLISH")
            .arg("cinder:cinder")
            .arg(garbage)
            .query_async(&mut connection)
            .await
            .unwrap();
    }
    a.broadcast("room", chat("still fine"));
    assert_eq!(next(&mut b_inbox).await, chat("still fine"));
}

#[tokio::test]
async fn an_invalid_url_is_a_clear_error() {
    let pubsub = PubSub::new();
    let error = RedisAdapter::start(&pubsub, RedisConfig::new("http://example"))
        .err()
        .unwrap();
    assert!(matches!(error, RedisError::InvalidUrl { .. }));
    assert!(error.to_string().contains("redis://host:port"), "{error}");
}
