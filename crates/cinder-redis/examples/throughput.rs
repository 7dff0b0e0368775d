//! Broadcast throughput through Redis: two nodes (two `PubSub`s, each with
//! its own adapter) in one process; node A broadcasts as fast as the adapter
//! takes messages, node B counts what its subscriber receives.
//!
//! ```text
//! cargo run --release -p cinder-redis --example throughput -- --messages 200000 --payload 100
//! cargo run --release -p cinder-redis --example throughput -- --url redis://127.0.0.1:6379
//! ```
//!
//! Without `--url`, a `redis-server` of the run's own is started on a free
//! loopback port, checked to be the server answering there (and stopped at
//! the end). At most `--window` messages are in flight (broadcast on A, not
//! yet received on B), below the adapter's buffer, so none is dropped; the
//! summary says so if some were. It prints a one-line JSON summary: messages
//! delivered per second from the first broadcast to the last delivery.

use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cinder_redis::{RedisAdapter, RedisConfig};
use cinder_runtime::pubsub::PubSub;
use cinder_runtime::{spawn, Context, ExitReason, Message, Recipient};

const TOPIC: &str = "bench:throughput";

/// The message broadcast: a sequence number and some text.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Bench {
    seq: u64,
    text: String,
}

struct Options {
    messages: u64,
    payload: usize,
    window: u64,
    url: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        messages: 200_000,
        payload: 100,
        window: 5_000,
        url: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{arg} takes a whole number"))
        };
        match arg.as_str() {
            "--messages" => options.messages = number()?,
            "--payload" => options.payload = number()? as usize,
            "--window" => options.window = number()?.max(1),
            "--url" => options.url = Some(value),
            other => {
                return Err(format!(
                    "unknown option {other} (--messages N, --payload BYTES, --window N, --url redis://…)"
                ))
            }
        }
    }
    Ok(options)
}

// The tests' own server: it retries another port when the one it found
// free is taken first, and checks by process id that the server answering
// is the one it started.
#[path = "../tests/common/mod.rs"]
mod common;

use common::RedisServer;

/// A `redis-server` of the run's own; an error that says what to do when
/// there is no `redis-server` to run.
fn start_redis() -> Result<RedisServer, String> {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .map_err(|error| {
            format!("cannot run redis-server ({error}); install it or pass --url redis://host:port")
        })?;
    Ok(RedisServer::start())
}

async fn run(options: Options, url: String) -> Result<serde_json::Value, String> {
    let node = |name: &str| -> Result<(PubSub, RedisAdapter), String> {
        let pubsub = PubSub::new();
        let adapter = RedisAdapter::start(&pubsub, RedisConfig::new(url.as_str()).node(name))
            .map_err(|error| error.to_string())?;
        Ok((pubsub, adapter))
    };
    let (a, adapter_a) = node("a")?;
    let (b, adapter_b) = node("b")?;
    for adapter in [&adapter_a, &adapter_b] {
        if !adapter.wait_ready(Duration::from_secs(10)).await {
            return Err(format!("could not connect to Redis at {url}"));
        }
    }
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let subscriber = spawn(move |mut ctx: Context<Bench>| async move {
        loop {
            match ctx.recv().await {
                Message::User(_) => {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Message::Exit { reason, .. } => return reason,
                Message::Down { .. } => {}
            }
        }
    });
    let recipient = Recipient::<Bench>::new(&subscriber).map_err(|error| error.to_string())?;
    b.subscribe(TOPIC, recipient);
    // Let the subscription reach Redis' view of node B before timing.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let text = "x".repeat(options.payload);
    let started = Instant::now();
    for seq in 0..options.messages {
        while seq - received.load(Ordering::Relaxed) >= options.window {
            tokio::task::yield_now().await;
        }
        a.broadcast(
            TOPIC,
            Bench {
                seq,
                text: text.clone(),
            },
        );
        if seq % 256 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let expected = options.messages - adapter_a.stats().dropped;
    while received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let delivered = received.load(Ordering::Relaxed);
    cinder_runtime::exit(&subscriber, ExitReason::Shutdown);
    Ok(serde_json::json!({
        "messages": options.messages,
        "payload_bytes": options.payload,
        "window": options.window,
        "delivered": delivered,
        "dropped": adapter_a.stats().dropped,
        "seconds": elapsed,
        "delivered_per_sec": (delivered as f64 / elapsed).round(),
    }))
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let (_server, url) = match options.url.clone() {
        Some(url) => (None, url),
        None => match start_redis() {
            Ok(server) => {
                let url = server.url();
                (Some(server), url)
            }
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::FAILURE;
            }
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts");
    match runtime.block_on(run(options, url)) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
