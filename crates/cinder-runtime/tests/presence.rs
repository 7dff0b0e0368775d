//! Presence on one node, and across nodes joined by an in-memory adapter
//! that can drop messages and cut nodes off. Multi-node tests run on tokio's
//! paused clock, so heartbeats and timeouts cost no real time and the bounds
//! they check are exact in virtual time.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cinder_runtime::presence::{Presence, PresenceConfig, PresenceDiff, PresenceError};
use cinder_runtime::pubsub::{Adapter, Outgoing, PubSub, WeakPubSub};
use cinder_runtime::supervisor::{Strategy, Supervisor, SupervisorSpec};
use cinder_runtime::{exit, spawn, Context, ExitReason, Message, Pid, Recipient};
use serde_json::json;
use tokio::sync::mpsc;

/// A generous bound for things that should happen promptly; never a measurement.
const PATIENCE: Duration = Duration::from_secs(10);
const HEARTBEAT: Duration = Duration::from_millis(100);
const NODE_TIMEOUT: Duration = Duration::from_secs(1);
/// Longer than any test waits: whatever happens, happens for another reason.
const NEVER: Duration = Duration::from_secs(3600);
const ROOM: &str = "room:lobby";

fn config(node: &str, timeout: Duration) -> PresenceConfig {
    PresenceConfig::new()
        .node(node)
        .heartbeat(HEARTBEAT)
        .timeout(timeout)
}

async fn started(pubsub: &PubSub, config: PresenceConfig) -> Presence {
    let presence = Presence::new(pubsub, config);
    presence.start().await.unwrap();
    presence
}

/// A process standing for a user's session: it lives until told to stop.
fn session() -> Pid {
    spawn(|mut ctx: Context<()>| async move {
        ctx.recv().await;
        ExitReason::Normal
    })
}

async fn end(pid: &Pid) {
    let exited = pid.exited();
    let _ = pid.send(());
    exited.await;
}

/// A process subscribed to `topic`'s presence diffs, forwarding them to the test.
fn diffs(pubsub: &PubSub, topic: &str) -> mpsc::UnboundedReceiver<PresenceDiff> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let pid = spawn(move |mut ctx: Context<PresenceDiff>| async move {
        while let Message::User(diff) = ctx.recv().await {
            if sender.send(diff).is_err() {
                break;
            }
        }
        ExitReason::Normal
    });
    pubsub.subscribe::<PresenceDiff>(topic, Recipient::new(&pid).unwrap());
    receiver
}

async fn next_diff(inbox: &mut mpsc::UnboundedReceiver<PresenceDiff>) -> PresenceDiff {
    next_diff_within(inbox, PATIENCE).await
}

async fn next_diff_within(
    inbox: &mut mpsc::UnboundedReceiver<PresenceDiff>,
    bound: Duration,
) -> PresenceDiff {
    tokio::time::timeout(bound, inbox.recv())
        .await
        .expect("a presence diff arrives in time")
        .expect("the subscriber is alive")
}

fn keys_of(map: &cinder_runtime::presence::PresenceMap) -> BTreeSet<String> {
    map.keys().cloned().collect()
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|key| key.to_string()).collect()
}

async fn keys(presence: &Presence, topic: &str) -> BTreeSet<String> {
    keys_of(&presence.list(topic).await.unwrap())
}

/// Waits (within `bound`) until `presence` lists exactly `expected` on `topic`.
async fn converges_within(presence: &Presence, topic: &str, expected: &[&str], bound: Duration) {
    let expected = set(expected);
    let result = tokio::time::timeout(bound, async {
        loop {
            if keys(presence, topic).await == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        result.is_ok(),
        "{} lists {:?}, expected {expected:?}",
        presence.node(),
        keys(presence, topic).await
    );
}

async fn converges(presence: &Presence, topic: &str, expected: &[&str]) {
    converges_within(presence, topic, expected, PATIENCE).await;
}

// ---------------------------------------------------------------------------
// One node

#[tokio::test]
async fn track_update_untrack_and_list_on_one_node() {
    let pubsub = PubSub::new();
    let presence = started(&pubsub, PresenceConfig::new().node("solo")).await;
    let (phone, laptop, bob) = (session(), session(), session());

    let first = presence
        .track(&phone, ROOM, "alice", json!({"device": "phone"}))
        .await
        .unwrap();
    let second = presence
        .track(&laptop, ROOM, "alice", json!({"device": "laptop"}))
        .await
        .unwrap();
    presence
        .track(&bob, ROOM, "bob", json!({"device": "desk"}))
        .await
        .unwrap();
    assert_ne!(first, second, "every presence has its own ref");

    let present = presence.list(ROOM).await.unwrap();
    assert_eq!(keys_of(&present), set(&["alice", "bob"]));
    let devices: Vec<&str> = present["alice"]
        .metas
        .iter()
        .map(|meta| meta.fields["device"].as_str().unwrap())
        .collect();
    assert_eq!(devices, ["phone", "laptop"], "oldest first");
    assert_eq!(present["alice"].metas[0].phx_ref, first);
    assert!(presence.list("room:other").await.unwrap().is_empty());

    let duplicate = presence.track(&phone, ROOM, "alice", json!({})).await;
    assert!(matches!(
        duplicate,
        Err(PresenceError::AlreadyTracked { .. })
    ));

    let updated = presence
        .update(
            &phone,
            ROOM,
            "alice",
            json!({"device": "phone", "typing": true}),
        )
        .await
        .unwrap();
    let present = presence.list(ROOM).await.unwrap();
    let meta = present["alice"]
        .metas
        .iter()
        .find(|meta| meta.phx_ref == updated)
        .expect("the updated meta is listed");
    assert_eq!(meta.phx_ref_prev.as_deref(), Some(first.as_str()));
    assert_eq!(meta.fields["typing"], true);
    assert_eq!(
        present["alice"].metas.len(),
        2,
        "an update replaces, not adds"
    );

    presence.untrack(&laptop, ROOM, "alice").await.unwrap();
    presence.untrack(&laptop, ROOM, "alice").await.unwrap();
    assert_eq!(presence.list(ROOM).await.unwrap()["alice"].metas.len(), 1);
    presence.untrack(&phone, ROOM, "alice").await.unwrap();
    assert_eq!(keys(&presence, ROOM).await, set(&["bob"]));

    let missing = presence.update(&phone, ROOM, "alice", json!({})).await;
    assert!(matches!(missing, Err(PresenceError::NotTracked { .. })));
    let scalar = presence.track(&phone, ROOM, "alice", 42).await;
    assert!(matches!(scalar, Err(PresenceError::InvalidMeta(_))));
}

#[tokio::test]
async fn metadata_reads_back_into_a_type_and_serializes_like_phoenix() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Device {
        name: String,
    }
    let pubsub = PubSub::new();
    let presence = started(&pubsub, PresenceConfig::new()).await;
    let pid = session();
    let device = Device {
        name: "phone".into(),
    };
    let phx_ref = presence.track(&pid, ROOM, "alice", &device).await.unwrap();

    let present = presence.list(ROOM).await.unwrap();
    assert_eq!(present["alice"].metas[0].get::<Device>().unwrap(), device);
    assert_eq!(
        serde_json::to_value(&present).unwrap(),
        json!({"alice": {"metas": [{"name": "phone", "phx_ref": phx_ref}]}})
    );
}

#[tokio::test]
async fn an_entry_vanishes_when_its_process_exits() {
    let pubsub = PubSub::new();
    let presence = started(&pubsub, PresenceConfig::new()).await;
    let (alice, bob) = (session(), session());
    presence
        .track(&alice, ROOM, "alice", json!({}))
        .await
        .unwrap();
    presence
        .track(&alice, "room:b", "alice", json!({}))
        .await
        .unwrap();
    presence.track(&bob, ROOM, "bob", json!({})).await.unwrap();

    end(&alice).await;
    converges(&presence, ROOM, &["bob"]).await;
    converges(&presence, "room:b", &[]).await;

    let crashing = spawn(|_: Context<()>| async { panic!("boom") });
    presence
        .track(&crashing, ROOM, "carol", json!({}))
        .await
        .unwrap();
    converges(&presence, ROOM, &["bob"]).await;
}

#[tokio::test]
async fn subscribers_receive_join_and_leave_diffs() {
    let pubsub = PubSub::new();
    let presence = started(&pubsub, PresenceConfig::new()).await;
    let mut inbox = diffs(&pubsub, ROOM);
    let alice = session();

    let joined = presence
        .track(&alice, ROOM, "alice", json!({"status": "away"}))
        .await
        .unwrap();
    let diff = next_diff(&mut inbox).await;
    assert_eq!(diff.joins["alice"].metas[0].phx_ref, joined);
    assert!(diff.leaves.is_empty());

    let updated = presence
        .update(&alice, ROOM, "alice", json!({"status": "here"}))
        .await
        .unwrap();
    let diff = next_diff(&mut inbox).await;
    assert_eq!(diff.leaves["alice"].metas[0].phx_ref, joined);
    assert_eq!(diff.joins["alice"].metas[0].phx_ref, updated);
    assert_eq!(diff.joins["alice"].metas[0].fields["status"], "here");

    end(&alice).await;
    let diff = next_diff(&mut inbox).await;
    assert!(diff.joins.is_empty());
    assert_eq!(diff.leaves["alice"].metas[0].phx_ref, updated);
    assert_eq!(
        serde_json::to_value(&diff).unwrap(),
        json!({"joins": {}, "leaves": {"alice": {"metas": [
            {"status": "here", "phx_ref": updated, "phx_ref_prev": joined}
        ]}}})
    );
}

#[tokio::test]
async fn a_handle_without_a_running_server_says_so() {
    let pubsub = PubSub::new();
    let presence = Presence::new(&pubsub, PresenceConfig::new());
    assert_eq!(presence.list(ROOM).await, Err(PresenceError::NotRunning));
    presence.start().await.unwrap();
    assert!(presence.start().await.is_err(), "one server per handle");
    let server = presence.pid().unwrap();
    exit(&server, ExitReason::Kill);
    server.exited().await;
    assert_eq!(presence.list(ROOM).await, Err(PresenceError::NotRunning));
}

#[tokio::test]
async fn the_server_runs_under_a_supervisor_and_the_handle_follows_restarts() {
    let pubsub = PubSub::new();
    let presence = Presence::new(&pubsub, PresenceConfig::new());
    let spec = SupervisorSpec::new(Strategy::OneForOne).child(presence.child_spec("presence"));
    let supervisor = Supervisor::start(spec).await.unwrap();
    let alice = session();
    presence
        .track(&alice, ROOM, "alice", json!({}))
        .await
        .unwrap();

    let first = presence.pid().unwrap();
    exit(&first, ExitReason::Kill);
    first.exited().await;
    tokio::time::timeout(PATIENCE, async {
        while presence.pid().is_none() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the supervisor restarts the server");
    assert_ne!(presence.pid().unwrap(), first);
    presence
        .track(&alice, ROOM, "alice", json!({}))
        .await
        .unwrap();
    assert_eq!(keys(&presence, ROOM).await, set(&["alice"]));

    assert_eq!(supervisor.stop().await, ExitReason::Shutdown);
    assert!(presence.pid().is_none());
}

// ---------------------------------------------------------------------------
// Several nodes, joined by an in-memory adapter

type DropRule = Box<dyn Fn(usize, &Outgoing) -> bool + Send>;

/// The network between the test's PubSubs: every broadcast is handed at
/// once, in order, to every other joined PubSub, unless a rule drops it.
#[derive(Default)]
struct Mesh {
    nodes: Mutex<Vec<(usize, WeakPubSub)>>,
    next_id: AtomicUsize,
    drop_next: Mutex<Option<DropRule>>,
    dropped: AtomicUsize,
}

struct MeshLink {
    mesh: Arc<Mesh>,
    id: usize,
}

impl Mesh {
    /// A new PubSub on this network, and its id.
    fn join(self: &Arc<Self>) -> (PubSub, usize) {
        let pubsub = PubSub::new();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.nodes.lock().unwrap().push((id, pubsub.downgrade()));
        pubsub.set_adapter(Arc::new(MeshLink {
            mesh: self.clone(),
            id,
        }));
        (pubsub, id)
    }

    /// Cuts a node off in both directions, as if its host died.
    fn cut(&self, id: usize) {
        self.nodes.lock().unwrap().retain(|(node, _)| *node != id);
    }

    /// Drops the next broadcast that `rule` matches.
    fn drop_next(&self, rule: impl Fn(usize, &Outgoing) -> bool + Send + 'static) {
        *self.drop_next.lock().unwrap() = Some(Box::new(rule));
    }

    fn dropped(&self, from: usize, message: &Outgoing) -> bool {
        let mut rule = self.drop_next.lock().unwrap();
        if rule.as_ref().is_some_and(|rule| rule(from, message)) {
            *rule = None;
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        false
    }
}

impl Adapter for MeshLink {
    fn publish(&self, message: Outgoing) {
        if self.mesh.dropped(self.id, &message) {
            return;
        }
        let nodes = self.mesh.nodes.lock().unwrap().clone();
        if !nodes.iter().any(|(id, _)| *id == self.id) {
            return;
        }
        for (_, pubsub) in nodes.iter().filter(|(id, _)| *id != self.id) {
            pubsub.deliver_remote(&message.topic, message.type_name, &message.payload);
        }
    }
}

/// A presence change as the mesh carries it.
fn is_delta(message: &Outgoing) -> bool {
    String::from_utf8_lossy(&message.payload).contains(r#""kind":"delta""#)
}

struct Node {
    pubsub: PubSub,
    presence: Presence,
    id: usize,
}

async fn node(mesh: &Arc<Mesh>, name: &str, timeout: Duration) -> Node {
    let (pubsub, id) = mesh.join();
    let presence = started(&pubsub, config(name, timeout)).await;
    Node {
        pubsub,
        presence,
        id,
    }
}

#[tokio::test(start_paused = true)]
async fn presences_replicate_to_every_node_including_late_ones() {
    let mesh = Arc::new(Mesh::default());
    let a = node(&mesh, "a", NODE_TIMEOUT).await;
    let b = node(&mesh, "b", NODE_TIMEOUT).await;
    let mut on_b = diffs(&b.pubsub, ROOM);

    let alice = session();
    let joined = a
        .presence
        .track(&alice, ROOM, "alice", json!({"node": "a"}))
        .await
        .unwrap();
    let diff = next_diff(&mut on_b).await;
    assert_eq!(diff.joins["alice"].metas[0].phx_ref, joined);
    assert_eq!(diff.joins["alice"].metas[0].fields["node"], "a");

    let bob = session();
    b.presence
        .track(&bob, ROOM, "bob", json!({}))
        .await
        .unwrap();
    let c = node(&mesh, "c", NODE_TIMEOUT).await;
    let carol = session();
    c.presence
        .track(&carol, ROOM, "carol", json!({}))
        .await
        .unwrap();
    for node in [&a, &b, &c] {
        converges(&node.presence, ROOM, &["alice", "bob", "carol"]).await;
    }

    end(&alice).await;
    for node in [&a, &b, &c] {
        converges(&node.presence, ROOM, &["bob", "carol"]).await;
    }
    let diff = next_diff(&mut on_b).await;
    assert!(diff.joins.contains_key("bob"), "b's own join comes first");
    let mut left = next_diff(&mut on_b).await;
    while !left.leaves.contains_key("alice") {
        left = next_diff(&mut on_b).await;
    }
    assert_eq!(left.leaves["alice"].metas[0].phx_ref, joined);
}

#[tokio::test(start_paused = true)]
async fn a_node_that_stops_answering_loses_its_entries_within_the_timeout() {
    let mesh = Arc::new(Mesh::default());
    let a = node(&mesh, "a", NODE_TIMEOUT).await;
    let b = node(&mesh, "b", NODE_TIMEOUT).await;
    let c = node(&mesh, "c", NODE_TIMEOUT).await;
    let (alice, carol) = (session(), session());
    a.presence
        .track(&alice, ROOM, "alice", json!({}))
        .await
        .unwrap();
    c.presence
        .track(&carol, ROOM, "carol", json!({}))
        .await
        .unwrap();
    for node in [&a, &b] {
        converges(&node.presence, ROOM, &["alice", "carol"]).await;
    }
    let mut on_a = diffs(&a.pubsub, ROOM);

    // c's host vanishes: no goodbye, no untrack, its session still "alive".
    mesh.cut(c.id);
    let server = c.presence.pid().unwrap();
    exit(&server, ExitReason::Kill);
    server.exited().await;
    assert_eq!(keys(&a.presence, ROOM).await, set(&["alice", "carol"]));

    // The last message from c came at most now; the bound is the timeout
    // plus one heartbeat of a's (with one more for scheduling).
    let bound = NODE_TIMEOUT + HEARTBEAT * 2;
    let diff = next_diff_within(&mut on_a, bound).await;
    assert!(diff.joins.is_empty());
    assert_eq!(keys_of(&diff.leaves), set(&["carol"]));
    assert_eq!(keys(&a.presence, ROOM).await, set(&["alice"]));
    converges_within(&b.presence, ROOM, &["alice"], HEARTBEAT * 2).await;
}

#[tokio::test(start_paused = true)]
async fn a_restarted_node_does_not_resurrect_its_old_entries() {
    let mesh = Arc::new(Mesh::default());
    let a = node(&mesh, "a", NEVER).await;
    let c = node(&mesh, "c", NEVER).await;
    let old_session = session();
    c.presence
        .track(&old_session, ROOM, "carol-old", json!({}))
        .await
        .unwrap();
    converges(&a.presence, ROOM, &["carol-old"]).await;
    let mut on_a = diffs(&a.pubsub, ROOM);

    // c crashes without a word and comes back under the same name, long
    // before a would time it out.
    let server = c.presence.pid().unwrap();
    exit(&server, ExitReason::Kill);
    server.exited().await;
    c.presence.start().await.unwrap();

    let diff = next_diff(&mut on_a).await;
    assert_eq!(keys_of(&diff.leaves), set(&["carol-old"]));
    assert!(diff.joins.is_empty());
    assert!(keys(&c.presence, ROOM).await.is_empty());

    let new_session = session();
    c.presence
        .track(&new_session, ROOM, "carol-new", json!({}))
        .await
        .unwrap();
    converges(&a.presence, ROOM, &["carol-new"]).await;
    // Many heartbeats later, still only the new incarnation's entry.
    tokio::time::sleep(HEARTBEAT * 20).await;
    assert_eq!(keys(&a.presence, ROOM).await, set(&["carol-new"]));
    assert_eq!(keys(&c.presence, ROOM).await, set(&["carol-new"]));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_change_is_repaired_by_a_sync() {
    let mesh = Arc::new(Mesh::default());
    let a = node(&mesh, "a", NODE_TIMEOUT).await;
    let b = node(&mesh, "b", NODE_TIMEOUT).await;
    let bob = session();
    b.presence
        .track(&bob, ROOM, "bob-1", json!({}))
        .await
        .unwrap();
    converges(&a.presence, ROOM, &["bob-1"]).await;

    // The last change is lost: b's next heartbeat reveals the gap.
    let b_id = b.id;
    mesh.drop_next(move |from, message| from == b_id && is_delta(message));
    b.presence
        .track(&bob, ROOM, "bob-2", json!({}))
        .await
        .unwrap();
    assert_eq!(mesh.dropped.load(Ordering::Relaxed), 1);
    assert_eq!(
        keys(&a.presence, ROOM).await,
        set(&["bob-1"]),
        "a missed the change"
    );
    converges_within(&a.presence, ROOM, &["bob-1", "bob-2"], HEARTBEAT * 3).await;

    // A change is lost and another follows: the jump in numbers reveals it.
    mesh.drop_next(move |from, message| from == b_id && is_delta(message));
    b.presence.untrack(&bob, ROOM, "bob-1").await.unwrap();
    b.presence
        .track(&bob, ROOM, "bob-3", json!({}))
        .await
        .unwrap();
    assert_eq!(mesh.dropped.load(Ordering::Relaxed), 2);
    converges(&a.presence, ROOM, &["bob-2", "bob-3"]).await;
    assert_eq!(keys(&b.presence, ROOM).await, keys(&a.presence, ROOM).await);
}

#[tokio::test(start_paused = true)]
async fn a_cleanly_stopped_node_says_goodbye() {
    let mesh = Arc::new(Mesh::default());
    let a = node(&mesh, "a", NEVER).await;
    let b = node(&mesh, "b", NEVER).await;
    let bob = session();
    b.presence
        .track(&bob, ROOM, "bob", json!({}))
        .await
        .unwrap();
    converges(&a.presence, ROOM, &["bob"]).await;

    b.presence.stop().await;
    assert!(b.presence.pid().is_none());
    converges(&a.presence, ROOM, &[]).await;

    // The same through an exit signal, as a supervisor sends it.
    b.presence.start().await.unwrap();
    b.presence
        .track(&bob, ROOM, "bob", json!({}))
        .await
        .unwrap();
    converges(&a.presence, ROOM, &["bob"]).await;
    let server = b.presence.pid().unwrap();
    exit(&server, ExitReason::Shutdown);
    assert_eq!(server.exited().await, ExitReason::Shutdown);
    converges(&a.presence, ROOM, &[]).await;
}
