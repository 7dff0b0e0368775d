//! Presence across nodes through a real `redis-server`, each test with its
//! own server on a free loopback port.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use cinder_redis::{RedisAdapter, RedisConfig};
use cinder_runtime::presence::{Presence, PresenceConfig, PresenceDiff};
use cinder_runtime::pubsub::PubSub;
use cinder_runtime::{exit, spawn, Context, ExitReason, Message, Pid, Recipient};
use common::RedisServer;
use serde_json::json;
use tokio::sync::mpsc;

/// A generous bound for things that should happen promptly; never a measurement.
const PATIENCE: Duration = Duration::from_secs(30);
const HEARTBEAT: Duration = Duration::from_millis(100);
const NODE_TIMEOUT: Duration = Duration::from_secs(2);
const ROOM: &str = "room:lobby";

/// A node: a PubSub on Redis and a presence on it.
struct Node {
    pubsub: PubSub,
    redis: RedisAdapter,
    presence: Presence,
}

async fn node(name: &str, url: &str) -> Node {
    let pubsub = PubSub::new();
    let redis = RedisAdapter::start(&pubsub, RedisConfig::new(url).node(name)).unwrap();
    assert!(redis.wait_ready(PATIENCE).await, "{name} connects");
    let config = PresenceConfig::new()
        .node(name)
        .heartbeat(HEARTBEAT)
        .timeout(NODE_TIMEOUT);
    let presence = Presence::new(&pubsub, config);
    presence.start().await.unwrap();
    Node {
        pubsub,
        redis,
        presence,
    }
}

/// Sessions that live until the test ends.
fn session() -> Pid {
    spawn(|mut ctx: Context<()>| async move {
        ctx.recv().await;
        ExitReason::Normal
    })
}

async fn track(node: &Node, keys: &[&str]) -> Vec<Pid> {
    let mut sessions = Vec::new();
    for key in keys {
        let pid = session();
        node.presence
            .track(&pid, ROOM, *key, json!({"node": node.presence.node()}))
            .await
            .unwrap();
        sessions.push(pid);
    }
    sessions
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|key| key.to_string()).collect()
}

async fn keys(presence: &Presence) -> BTreeSet<String> {
    presence.list(ROOM).await.unwrap().keys().cloned().collect()
}

/// Waits (generously) until `presence` lists exactly `expected`.
async fn converges(presence: &Presence, expected: &[&str]) {
    let expected = set(expected);
    let result = tokio::time::timeout(PATIENCE, async {
        loop {
            if keys(presence).await == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        result.is_ok(),
        "{} lists {:?}, expected {expected:?}",
        presence.node(),
        keys(presence).await
    );
}

fn diffs(pubsub: &PubSub) -> mpsc::UnboundedReceiver<PresenceDiff> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let pid = spawn(move |mut ctx: Context<PresenceDiff>| async move {
        while let Message::User(diff) = ctx.recv().await {
            if sender.send(diff).is_err() {
                break;
            }
        }
        ExitReason::Normal
    });
    pubsub.subscribe::<PresenceDiff>(ROOM, Recipient::new(&pid).unwrap());
    receiver
}

#[tokio::test]
async fn presence_counts_agree_on_two_nodes() {
    let redis = RedisServer::start();
    let a = node("a", &redis.url()).await;
    let b = node("b", &redis.url()).await;
    let mut on_b = diffs(&b.pubsub);

    let _on_a = track(&a, &["ann", "amy", "abe"]).await;
    let _on_b = track(&b, &["bob", "bea"]).await;
    let everyone = ["abe", "amy", "ann", "bea", "bob"];
    converges(&a.presence, &everyone).await;
    converges(&b.presence, &everyone).await;

    let mut joined = BTreeSet::new();
    while joined.len() < everyone.len() {
        let diff = tokio::time::timeout(PATIENCE, on_b.recv())
            .await
            .expect("diffs arrive")
            .unwrap();
        assert!(diff.leaves.is_empty(), "nobody left: {diff:?}");
        joined.extend(diff.joins.into_keys());
    }
    assert_eq!(joined, set(&everyone));
    let listed = b.presence.list(ROOM).await.unwrap();
    assert_eq!(listed["ann"].metas[0].fields["node"], "a");
    assert!(a.redis.stats().published > 0 && b.redis.stats().received > 0);
}

#[tokio::test]
async fn a_node_killed_without_untracking_vanishes_from_the_other() {
    let redis = RedisServer::start();
    let a = node("a", &redis.url()).await;
    let b = node("b", &redis.url()).await;
    let _on_a = track(&a, &["ann"]).await;
    let on_b = track(&b, &["bob", "bea"]).await;
    converges(&a.presence, &["ann", "bea", "bob"]).await;
    let mut on_a = diffs(&a.pubsub);

    let server = b.presence.pid().unwrap();
    exit(&server, ExitReason::Kill);
    server.exited().await;
    drop(b);

    let mut left = BTreeSet::new();
    while left.len() < 2 {
        let diff = tokio::time::timeout(PATIENCE, on_a.recv())
            .await
            .expect("leave diffs arrive once the node times out")
            .unwrap();
        assert!(diff.joins.is_empty());
        left.extend(diff.leaves.into_keys());
    }
    assert_eq!(left, set(&["bea", "bob"]));
    assert_eq!(keys(&a.presence).await, set(&["ann"]));
    assert!(
        on_b.iter().all(Pid::is_alive),
        "the sessions outlived their node's presence"
    );
}

#[tokio::test]
async fn presence_converges_again_after_a_redis_restart() {
    let mut redis = RedisServer::start();
    let port = redis.port;
    let a = node("a", &redis.url()).await;
    let b = node("b", &redis.url()).await;
    let _on_a = track(&a, &["ann"]).await;
    let on_b = track(&b, &["bob", "bea"]).await;
    converges(&a.presence, &["ann", "bea", "bob"]).await;
    converges(&b.presence, &["ann", "bea", "bob"]).await;
    let servers = (a.presence.pid().unwrap(), b.presence.pid().unwrap());

    redis.stop();
    tokio::time::timeout(PATIENCE, async {
        while a.redis.stats().subscribed || b.redis.stats().subscribed {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the adapters notice the loss");

    // Changes while the nodes cannot hear each other, and long enough
    // apart that each drops the other's entries.
    let _late = track(&a, &["amy"]).await;
    b.presence.untrack(&on_b[1], ROOM, "bea").await.unwrap();
    converges(&a.presence, &["amy", "ann"]).await;
    converges(&b.presence, &["bob"]).await;

    let _restarted = RedisServer::start_on(port);
    assert!(a.redis.wait_ready(PATIENCE).await);
    assert!(b.redis.wait_ready(PATIENCE).await);
    converges(&a.presence, &["amy", "ann", "bob"]).await;
    converges(&b.presence, &["amy", "ann", "bob"]).await;
    assert_eq!(
        (a.presence.pid().unwrap(), b.presence.pid().unwrap()),
        servers,
        "nothing crashed"
    );
}
