//! Benchmarks and measurement tools for Cinder.
//!
//! - `cargo bench -p cinder-bench`: criterion benchmarks (`benches/`).
//! - `cargo run --release -p cinder-bench --bin runtime-bench`: the runtime's
//!   memory per idle process and its message, spawn and call rates, printed
//!   as a table and a one-line JSON summary.
//! - `cinder-bench-server` and `cinder-loadgen`: a LiveView server with the
//!   pages Phoenix LiveView was measured on, and a load generator that speaks
//!   the LiveView protocol to any server over loopback ([`live_client`]);
//!   `--layout header` serves the pages in a live layout ([`layout`]).
//! - `cinder-floor`: the same traffic served by a bare tokio TCP server, to
//!   show what the kernel and tokio alone cost on the machine, or by a bare
//!   io_uring server (`serve --io io-uring`), to show what the kernel costs
//!   through its other interface.
//! - `cinder-bench-suite`: every goal measured with the three tools above in
//!   one command, each figure beside Phoenix LiveView's and the floor's, as
//!   a Markdown table ([`servers`] starts the servers it measures).
//!
//! The runtime workloads shared by the criterion benchmarks and
//! `runtime-bench` live here so they measure the same thing.

pub mod descriptors;
pub mod heap;
pub mod layout;
pub mod live_client;
pub mod measure;
pub mod options;
pub mod rows;
pub mod servers;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cinder_runtime::gen_server::{self, CallResult, GenServer, Server, ServerContext};
use cinder_runtime::pubsub::PubSub;
use cinder_runtime::supervisor::{ChildSpec, DynamicSupervisor, DynamicSupervisorSpec, Restart};
use cinder_runtime::{introspection, spawn, Context, ExitReason, Message, Pid, Recipient};
use tokio::sync::oneshot;

/// How many processes or messages a workload lets pile up before it waits
/// for them: a steady state like a server's, not one huge backlog whose page
/// faults would be measured instead.
const BATCH: u64 = 1_000;

/// Spawns `count` processes that exit at once, in batches, waiting for each
/// batch to exit. Returns the elapsed time.
pub async fn spawn_and_exit(count: u64) -> Duration {
    let baseline = introspection::process_count();
    let start = Instant::now();
    let mut left = count;
    while left > 0 {
        let batch = left.min(BATCH);
        for _ in 0..batch {
            spawn(|_: Context<()>| async { ExitReason::Normal });
        }
        while introspection::process_count() > baseline {
            tokio::task::yield_now().await;
        }
        left -= batch;
    }
    start.elapsed()
}

/// Sends `count` messages from one process to another and waits until the
/// receiver has taken them all. Returns the elapsed time.
pub async fn send_messages(count: u64) -> Duration {
    let (done, finished) = oneshot::channel();
    let receiver = spawn(move |mut ctx: Context<u64>| async move {
        let mut seen = 0;
        while seen < count {
            if let Message::User(_) = ctx.recv().await {
                seen += 1;
            }
        }
        let _ = done.send(Instant::now());
        ExitReason::Normal
    });
    let (go, ready) = oneshot::channel::<Instant>();
    spawn(move |_: Context<()>| async move {
        let _ = go.send(Instant::now());
        for n in 0..count {
            if receiver.send(n).is_err() {
                break;
            }
            if n % BATCH == BATCH - 1 {
                tokio::task::yield_now().await;
            }
        }
        ExitReason::Normal
    });
    let start = ready.await.expect("the sender runs");
    let end = finished.await.expect("the receiver finishes");
    end - start
}

/// A GenServer that answers each call with a number.
pub struct Echo;

impl GenServer for Echo {
    type Args = ();
    type Call = u64;
    type Reply = u64;
    type Cast = ();
    type Info = ();

    async fn init((): (), _ctx: &mut ServerContext<Self>) -> Result<Self, ExitReason> {
        Ok(Echo)
    }

    async fn handle_call(&mut self, n: u64, _ctx: &mut ServerContext<Self>) -> CallResult<u64> {
        CallResult::Reply(n + 1)
    }
}

/// Starts an [`Echo`] server.
pub async fn echo_server() -> Server<Echo> {
    gen_server::start::<Echo>(()).await.expect("echo starts")
}

/// Makes `count` sequential calls to `server`. Returns the elapsed time.
pub async fn calls(server: &Server<Echo>, count: u64) -> Duration {
    let start = Instant::now();
    for n in 0..count {
        let reply = server.call(n).await.expect("echo answers");
        debug_assert_eq!(reply, n + 1);
    }
    start.elapsed()
}

/// Spawns `count` idle processes (an empty mailbox, waiting in `recv`) and
/// lets each run to its first wait. Returns their pids, to keep them alive.
pub async fn idle_processes(count: usize) -> Vec<Pid> {
    let pids: Vec<Pid> = (0..count)
        .map(|_| {
            spawn(|mut ctx: Context<()>| async move {
                loop {
                    ctx.recv().await;
                }
            })
        })
        .collect();
    settle().await;
    pids
}

/// Starts `count` idle [`Echo`] servers. Returns their handles.
pub async fn idle_servers(count: usize) -> Vec<Server<Echo>> {
    let mut servers = Vec::with_capacity(count);
    for _ in 0..count {
        servers.push(echo_server().await);
    }
    settle().await;
    servers
}

/// Starts a dynamic supervisor with `count` idle temporary children, as a
/// server holding one process per connected page would. Returns it, to keep
/// the children alive.
pub async fn supervised_children(count: usize) -> DynamicSupervisor {
    let supervisor = DynamicSupervisor::start(DynamicSupervisorSpec::new())
        .await
        .expect("the supervisor starts");
    let spec = ChildSpec::process("idle", |mut ctx: Context<()>| async move {
        loop {
            ctx.recv().await;
        }
    })
    .restart(Restart::Temporary);
    for _ in 0..count {
        supervisor
            .start_child(spec.clone())
            .await
            .expect("the child starts");
    }
    settle().await;
    supervisor
}

/// The topic of [`mixed_topic`].
const MIXED_TOPIC: &str = "room";

/// A topic that each of `bystanders` (processes taking `()`) subscribes to
/// for messages of their type, and one more process for `u64`s, which it
/// reads as they come and counts: a chat room whose views take its
/// messages and whose roster process takes its presence diffs. Returns the
/// PubSub and the count of `u64`s read.
pub async fn mixed_topic(bystanders: &[Pid]) -> (PubSub, Arc<AtomicU64>) {
    let pubsub = PubSub::new();
    for pid in bystanders {
        let recipient = Recipient::<()>::new(pid).expect("a bystander is alive");
        pubsub.subscribe_local(MIXED_TOPIC, recipient);
    }
    let read = Arc::new(AtomicU64::new(0));
    let counter = read.clone();
    let reader = spawn(move |mut ctx: Context<u64>| async move {
        loop {
            if let Message::User(_) = ctx.recv().await {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    pubsub.subscribe_local(
        MIXED_TOPIC,
        Recipient::<u64>::new(&reader).expect("the reader is alive"),
    );
    settle().await;
    (pubsub, read)
}

/// Broadcasts `count` `u64`s on [`mixed_topic`]'s topic, waiting for its
/// reader to have read them every 1,000 (`BATCH`). Returns the elapsed time.
pub async fn broadcasts_beside_bystanders(
    pubsub: &PubSub,
    read: &AtomicU64,
    count: u64,
) -> Duration {
    let start = Instant::now();
    let first = read.load(Ordering::Relaxed);
    for sent in 1..=count {
        pubsub.local_broadcast(MIXED_TOPIC, sent);
        if sent % BATCH == 0 || sent == count {
            while read.load(Ordering::Relaxed) - first < sent {
                tokio::task::yield_now().await;
            }
        }
    }
    start.elapsed()
}

/// Lets every runnable task run until it waits.
async fn settle() {
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
}
