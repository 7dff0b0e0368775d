//! Registries, PubSub, timers and introspection.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cinder_runtime::introspection::{self, process_info};
use cinder_runtime::process::Status;
use cinder_runtime::pubsub::{Adapter, Outgoing, PubSub};
use cinder_runtime::registry::{self, AlreadyRegistered, Registry};
use cinder_runtime::timer;
use cinder_runtime::{spawn, Context, ExitReason, Message, Pid, Recipient, SendError};
use common::PATIENCE;
use tokio::sync::mpsc;

/// A process that forwards its user messages to the test.
fn forwarder<T: Send + 'static>() -> (Pid, mpsc::UnboundedReceiver<T>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let pid = spawn(move |mut ctx: Context<T>| async move {
        loop {
            if let Message::User(message) = ctx.recv().await {
                if sender.send(message).is_err() {
                    return ExitReason::Normal;
                }
            }
        }
    });
    (pid, receiver)
}

async fn stop(pid: &Pid) {
    let exited = pid.exited();
    cinder_runtime::exit(pid, ExitReason::Kill);
    exited.await;
}

async fn next<T>(receiver: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(PATIENCE, receiver.recv())
        .await
        .unwrap()
        .unwrap()
}

// Registry

#[tokio::test]
async fn a_unique_registry_refuses_a_taken_key_and_frees_it_on_exit() {
    let registry: Registry<&'static str> = Registry::unique();
    let (first, mut inbox) = forwarder::<u32>();
    let (second, _) = forwarder::<u32>();
    registry.register("worker", &first, ()).unwrap();
    assert_eq!(
        registry.register("worker", &second, ()),
        Err(AlreadyRegistered(first.clone()))
    );
    registry.send("worker", 5u32).unwrap();
    assert_eq!(next(&mut inbox).await, 5);
    assert_eq!(registry.keys(&first), ["worker"]);

    stop(&first).await;
    assert_eq!(registry.whereis("worker"), None);
    assert!(matches!(
        registry.send("worker", 6u32),
        Err(SendError::NoProc(6))
    ));
    registry.register("worker", &second, ()).unwrap();
}

#[tokio::test]
async fn a_duplicate_registry_dispatches_to_every_entry_with_its_value() {
    let registry: Registry<String, u8> = Registry::duplicate();
    let (a, mut a_inbox) = forwarder::<u8>();
    let (b, mut b_inbox) = forwarder::<u8>();
    registry.register("topic".into(), &a, 1).unwrap();
    registry.register("topic".into(), &b, 2).unwrap();
    registry.register("topic".into(), &b, 3).unwrap();
    assert_eq!(registry.count(), 3);
    registry.dispatch("topic", |pid, value| {
        pid.send(*value).unwrap();
    });
    assert_eq!(next(&mut a_inbox).await, 1);
    assert_eq!(next(&mut b_inbox).await, 2);
    assert_eq!(next(&mut b_inbox).await, 3);

    registry.unregister(&"topic".to_string(), &b);
    assert_eq!(registry.lookup("topic"), vec![(a.clone(), 1)]);
    stop(&a).await;
    assert_eq!(registry.count(), 0);
}

#[tokio::test]
async fn global_names_resolve_and_vanish_with_the_process() {
    let (pid, mut inbox) = forwarder::<&'static str>();
    registry::register("services-test-name", &pid).unwrap();
    let (other, _) = forwarder::<&'static str>();
    assert_eq!(
        registry::register("services-test-name", &other),
        Err(pid.clone())
    );
    registry::send_named("services-test-name", "hi").unwrap();
    assert_eq!(next(&mut inbox).await, "hi");
    registry::unregister("services-test-name");
    assert_eq!(registry::whereis("services-test-name"), None);
    registry::register("services-test-name", &pid).unwrap();
    stop(&pid).await;
    assert_eq!(registry::whereis("services-test-name"), None);
}

// PubSub

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Chat {
    text: String,
}

fn chat(text: &str) -> Chat {
    Chat { text: text.into() }
}

#[tokio::test]
async fn broadcasts_reach_subscribers_of_the_topic_and_type_only() {
    let pubsub = PubSub::new();
    let (reader, mut inbox) = forwarder::<Chat>();
    let (elsewhere, mut elsewhere_inbox) = forwarder::<Chat>();
    let (numbers, _) = forwarder::<u64>();
    pubsub.subscribe::<Chat>("room:1", Recipient::new(&reader).unwrap());
    pubsub.subscribe::<Chat>("room:2", Recipient::new(&elsewhere).unwrap());
    pubsub.subscribe::<u64>("room:1", Recipient::new(&numbers).unwrap());

    assert_eq!(pubsub.broadcast("room:1", chat("hello")), 1);
    assert_eq!(next(&mut inbox).await, chat("hello"));
    assert!(elsewhere_inbox.try_recv().is_err());
    assert_eq!(pubsub.broadcast("room:1", 7u64), 1);
}

#[tokio::test]
async fn broadcast_from_skips_the_sender() {
    let pubsub = PubSub::new();
    let (sender, mut sender_inbox) = forwarder::<Chat>();
    let (reader, mut reader_inbox) = forwarder::<Chat>();
    for pid in [&sender, &reader] {
        pubsub.subscribe::<Chat>("room", Recipient::new(pid).unwrap());
    }
    assert_eq!(pubsub.broadcast_from(&sender, "room", chat("mine")), 1);
    assert_eq!(next(&mut reader_inbox).await, chat("mine"));
    assert_eq!(
        pubsub.local_broadcast_from(&reader, "room", chat("theirs")),
        1
    );
    assert_eq!(next(&mut sender_inbox).await, chat("theirs"));
    assert!(reader_inbox.try_recv().is_err());
}

#[tokio::test]
async fn unsubscribe_and_exit_remove_subscriptions() {
    let pubsub = PubSub::new();
    let (a, _) = forwarder::<Chat>();
    let (b, _) = forwarder::<Chat>();
    pubsub.subscribe::<Chat>("t", Recipient::new(&a).unwrap());
    pubsub.subscribe::<Chat>("t", Recipient::new(&b).unwrap());
    pubsub.subscribe::<Chat>("u", Recipient::new(&b).unwrap());
    pubsub.unsubscribe("t", &a);
    assert_eq!(pubsub.subscriber_count("t"), 1);
    stop(&b).await;
    assert_eq!(pubsub.subscriber_count("t"), 0);
    assert_eq!(pubsub.subscriber_count("u"), 0);
    assert!(pubsub.topics().is_empty());
}

#[tokio::test]
async fn subscribers_leaving_in_any_order_leave_the_others_subscribed() {
    let pubsub = PubSub::new();
    let mut subscribers = Vec::new();
    for _ in 0..300 {
        let (pid, inbox) = forwarder::<Chat>();
        pubsub.subscribe::<Chat>("t", Recipient::new(&pid).unwrap());
        subscribers.push((pid, inbox));
    }
    // One subscriber with two subscriptions of its own on the topic.
    let (twice, mut twice_inbox) = forwarder::<Chat>();
    pubsub.subscribe::<Chat>("t", Recipient::new(&twice).unwrap());
    pubsub.subscribe::<Chat>("t", Recipient::new(&twice).unwrap());
    assert_eq!(pubsub.subscriber_count("t"), 302);
    // Two of every three leave, from both ends of the list alike.
    let mut kept = Vec::new();
    for (i, (pid, inbox)) in subscribers.into_iter().enumerate() {
        if i % 3 == 0 {
            kept.push(inbox);
        } else if i % 2 == 0 {
            stop(&pid).await;
        } else {
            pubsub.unsubscribe("t", &pid);
        }
    }
    assert_eq!(pubsub.subscriber_count("t"), 102);
    assert_eq!(pubsub.broadcast("t", chat("after")), 102);
    for inbox in &mut kept {
        assert_eq!(next(inbox).await, chat("after"));
    }
    assert_eq!(next(&mut twice_inbox).await, chat("after"));
    assert_eq!(next(&mut twice_inbox).await, chat("after"));
    pubsub.unsubscribe("t", &twice);
    assert_eq!(pubsub.subscriber_count("t"), 100);
}

/// A topic may carry several types, and one process may take several of
/// them: each broadcast reaches the subscribers of its own type, and a
/// process that leaves is gone from every type it took.
#[tokio::test]
async fn a_topic_of_several_types_keeps_each_type_apart() {
    let pubsub = PubSub::new();
    let mut chats = Vec::new();
    for _ in 0..50 {
        let (pid, inbox) = forwarder::<Chat>();
        pubsub.subscribe::<Chat>("room", Recipient::new(&pid).unwrap());
        chats.push((pid, inbox));
    }
    let (both, mut both_inbox) = forwarder::<Chat>();
    pubsub.subscribe::<Chat>("room", Recipient::new(&both).unwrap());
    let numbers = Recipient::mapped(&both, |n: u64| chat(&format!("number {n}"))).unwrap();
    pubsub.subscribe::<u64>("room", numbers);
    assert_eq!(pubsub.subscriber_count("room"), 52);

    assert_eq!(pubsub.broadcast("room", 7u64), 1);
    assert_eq!(next(&mut both_inbox).await, chat("number 7"));
    assert_eq!(pubsub.local_broadcast("room", chat("all")), 51);
    assert_eq!(next(&mut both_inbox).await, chat("all"));
    for (_, inbox) in &mut chats {
        assert_eq!(next(inbox).await, chat("all"));
    }
    assert_eq!(pubsub.broadcast("room", "nobody takes text".to_string()), 0);

    stop(&both).await;
    assert_eq!(pubsub.subscriber_count("room"), 50);
    assert_eq!(pubsub.broadcast("room", 8u64), 0);
    for (pid, _) in &chats {
        stop(pid).await;
    }
    assert_eq!(pubsub.subscriber_count("room"), 0);
    assert!(pubsub.topics().is_empty());
}

#[tokio::test]
async fn a_gen_server_subscribes_through_its_recipient() {
    use cinder_runtime::gen_server::{self, Flow, GenServer, ServerContext};
    struct Listener(mpsc::UnboundedSender<String>);
    impl GenServer for Listener {
        type Args = mpsc::UnboundedSender<String>;
        type Call = ();
        type Reply = ();
        type Cast = ();
        type Info = String;
        async fn init(out: Self::Args, _ctx: &mut ServerContext<Self>) -> Result<Self, ExitReason> {
            Ok(Listener(out))
        }
        async fn handle_info(
            &mut self,
            message: Message<String>,
            _ctx: &mut ServerContext<Self>,
        ) -> Flow {
            if let Message::User(text) = message {
                self.0.send(text).unwrap();
            }
            Flow::Continue
        }
    }
    let (out, mut inbox) = mpsc::unbounded_channel();
    let server = gen_server::start::<Listener>(out).await.unwrap();
    let pubsub = PubSub::new();
    pubsub.subscribe::<String>("news", server.recipient());
    pubsub.broadcast("news", "extra".to_string());
    assert_eq!(next(&mut inbox).await, "extra");
}

/// An adapter that records what leaves the node and which topics it follows.
#[derive(Default)]
struct Recording {
    published: Mutex<Vec<Outgoing>>,
    topics: Mutex<Vec<String>>,
}

impl Adapter for Recording {
    fn publish(&self, message: Outgoing) {
        self.published.lock().unwrap().push(message);
    }
    fn topic_added(&self, topic: &str) {
        self.topics.lock().unwrap().push(format!("+{topic}"));
    }
    fn topic_removed(&self, topic: &str) {
        self.topics.lock().unwrap().push(format!("-{topic}"));
    }
}

#[tokio::test]
async fn the_adapter_carries_broadcasts_out_and_delivers_remote_ones_in() {
    let pubsub = PubSub::new();
    let adapter = Arc::new(Recording::default());
    pubsub.set_adapter(adapter.clone());
    let (reader, mut inbox) = forwarder::<Chat>();
    pubsub.subscribe::<Chat>("room", Recipient::new(&reader).unwrap());

    pubsub.broadcast("room", chat("out"));
    pubsub.local_broadcast("room", chat("stays"));
    let published = adapter.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1, "local broadcasts do not leave the node");
    assert_eq!(&*published[0].topic, "room");
    assert_eq!(published[0].payload, br#"{"text":"out"}"#);
    assert_eq!(next(&mut inbox).await, chat("out"));
    assert_eq!(next(&mut inbox).await, chat("stays"));

    let remote = pubsub.downgrade();
    let type_name = published[0].type_name;
    assert_eq!(
        remote.deliver_remote("room", type_name, br#"{"text":"in"}"#),
        Some(1)
    );
    assert_eq!(next(&mut inbox).await, chat("in"));
    assert_eq!(
        remote.deliver_remote("room", type_name, b"not json"),
        Some(0)
    );
    assert_eq!(
        remote.deliver_remote("room", "some::OtherType", b"{}"),
        Some(0)
    );

    pubsub.unsubscribe("room", &reader);
    assert_eq!(*adapter.topics.lock().unwrap(), ["+room", "-room"]);
}

// Timers

#[tokio::test]
async fn send_after_delivers_once_and_cancel_stops_it() {
    let (pid, mut inbox) = forwarder::<&'static str>();
    let cancelled = timer::send_after(&pid, "never", Duration::from_millis(20)).unwrap();
    let fired = timer::send_after(&pid, "once", Duration::from_millis(1)).unwrap();
    assert!(cancelled.cancel());
    assert_eq!(next(&mut inbox).await, "once");
    tokio::time::sleep(Duration::from_millis(40)).await;
    assert!(inbox.try_recv().is_err());
    assert!(!fired.cancel(), "a fired timer cannot be cancelled");
}

#[tokio::test]
async fn send_interval_repeats_until_cancelled() {
    let (pid, mut inbox) = forwarder::<u8>();
    let ticks = timer::send_interval(&pid, 1u8, Duration::from_millis(2)).unwrap();
    for _ in 0..3 {
        assert_eq!(next(&mut inbox).await, 1);
    }
    assert!(ticks.cancel());
    assert!(!ticks.is_active());
}

#[tokio::test]
async fn an_interval_stops_when_its_process_exits() {
    let (pid, _inbox) = forwarder::<u8>();
    let ticks = timer::send_interval(&pid, 1u8, Duration::from_millis(1)).unwrap();
    stop(&pid).await;
    tokio::time::timeout(PATIENCE, async {
        while ticks.is_active() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the interval notices the exit");
}

#[tokio::test]
async fn timers_refuse_dead_processes_and_wrong_types() {
    let (pid, _inbox) = forwarder::<u8>();
    assert!(matches!(
        timer::send_after(&pid, "text", Duration::from_millis(1)),
        Err(SendError::WrongType { .. })
    ));
    stop(&pid).await;
    assert!(matches!(
        timer::send_after(&pid, 1u8, Duration::from_millis(1)),
        Err(SendError::NoProc(1))
    ));
}

// Introspection

#[tokio::test]
async fn process_info_reports_status_mailbox_and_work_done() {
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let pid = spawn(move |mut ctx: Context<u32>| async move {
        ctx.recv().await;
        let _ = wait.await;
        loop {
            ctx.recv().await;
        }
    });
    registry::register("introspection-test", &pid).unwrap();
    pid.send(1u32).unwrap();
    for n in 2..=4u32 {
        pid.send(n).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    let busy = process_info(&pid).unwrap();
    assert_eq!(busy.name.as_deref(), Some("introspection-test"));
    assert_eq!(busy.messages_handled, 1);
    assert_eq!(busy.mailbox_len, 3);
    assert_eq!(busy.status, Status::Running);
    assert!(busy.memory >= std::mem::size_of::<u32>() * 3);

    release.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let idle = process_info(&pid).unwrap();
    assert_eq!(idle.messages_handled, 4);
    assert_eq!(idle.mailbox_len, 0);
    assert_eq!(idle.status, Status::Waiting);

    assert!(introspection::processes().contains(&pid));
    stop(&pid).await;
    assert!(process_info(&pid).is_none());
    assert!(!introspection::processes().contains(&pid));
}

#[tokio::test]
async fn the_process_count_follows_spawns_and_exits() {
    // Other tests run in parallel in this binary, so compare with a margin
    // made of our own processes only.
    let before = introspection::processes();
    let mine: Vec<_> = (0..100).map(|_| forwarder::<u8>().0).collect();
    let during = introspection::processes();
    assert!(mine.iter().all(|pid| during.contains(pid)));
    for pid in &mine {
        stop(pid).await;
    }
    let after = introspection::processes();
    assert!(mine.iter().all(|pid| !after.contains(pid)));
    assert!(introspection::process_count() < before.len() + 100);
}
