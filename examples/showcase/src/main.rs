//! The Cinder showcase: one server with a demo of each feature.
//!
//! ```text
//! ./scripts/showcase.sh            # installs the client from npm if needed, then runs
//! cargo run -p showcase -- --port 4000
//! ```
//!
//! The secret that signs sessions comes from `CINDER_SECRET_KEY_BASE`; when
//! it is unset the showcase makes one up, so sessions end with the process.
//!
//! One process is one node. To run several behind a load balancer, give
//! each the same `CINDER_SECRET_KEY_BASE` and a `CINDER_REDIS_URL` (such as
//! `redis://127.0.0.1:6379`): broadcasts and presence then cross nodes
//! through Redis, so `/chat` in a tab served by one node talks with a tab
//! served by another. `CINDER_NODE` names the node, uniquely among them;
//! when it is unset a random name is picked.
//!
//! ```text
//! export CINDER_SECRET_KEY_BASE=$(openssl rand -base64 48) CINDER_REDIS_URL=redis://127.0.0.1:6379
//! CINDER_NODE=web-1 cargo run -p showcase -- --port 4000 &
//! CINDER_NODE=web-2 cargo run -p showcase -- --port 4001
//! ```
//!
//! `--runtime current-thread` serves everything from one thread on tokio's
//! current-thread runtime instead of the default multi-thread one (whose
//! worker count `TOKIO_WORKER_THREADS` sets): the choice for a server given
//! one core, where it takes less CPU per update.

use std::net::SocketAddr;

use cinder::live::Config;
use cinder_redis::{RedisAdapter, RedisConfig};
use cinder_runtime::pubsub::PubSub;
use showcase::Services;

fn main() {
    let runtime = match flag_value("--runtime").as_deref() {
        None | Some("multi-thread") => tokio::runtime::Builder::new_multi_thread(),
        Some("current-thread") => tokio::runtime::Builder::new_current_thread(),
        Some(_) => {
            eprintln!("--runtime takes multi-thread or current-thread");
            std::process::exit(2);
        }
    }
    .enable_all()
    .build()
    .expect("the tokio runtime starts");
    runtime.block_on(serve());
}

async fn serve() {
    tracing_subscriber::fmt().with_target(false).init();
    let port = port_from_args().unwrap_or(4000);
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            tracing::warn!(%error, "using a random secret for this run only");
            Config::random()
        }
    };
    let pubsub = PubSub::new();
    let node = connect_nodes(&pubsub);
    let services = Services::start(pubsub, node).await;
    let app = services.router(config);
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {address}: {error} (choose another with --port)");
            std::process::exit(1);
        }
    };
    // With `--port 0` the system picks the port; the log line tells which.
    let address = listener.local_addr().unwrap_or(address);
    tracing::info!("showcase listening on http://{address}");
    let shutdown = cinder_runtime::signal::shutdown_signal().expect("signal handlers install");
    cinder::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    services.stop().await;
}

/// Connects `pubsub` to the other nodes through Redis, if configured.
/// Returns the node's name then, which presence must share.
fn connect_nodes(pubsub: &PubSub) -> Option<String> {
    let Some(url) = env("CINDER_REDIS_URL") else {
        tracing::info!(
            "single node: PubSub and presence stay in this process \
             (set CINDER_REDIS_URL to run several)"
        );
        return None;
    };
    let mut config = RedisConfig::new(url);
    if let Some(node) = env("CINDER_NODE") {
        config = config.node(node);
    }
    match RedisAdapter::start(pubsub, config) {
        Ok(adapter) => {
            tracing::info!(
                node = adapter.node(),
                "several nodes: PubSub and presence go through Redis"
            );
            Some(adapter.node().to_owned())
        }
        Err(error) => {
            eprintln!("CINDER_REDIS_URL: {error}");
            std::process::exit(2);
        }
    }
}

/// An environment variable, unless unset or empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn port_from_args() -> Option<u16> {
    match flag_value("--port")?.parse() {
        Ok(port) => Some(port),
        Err(_) => {
            eprintln!("--port takes a port number, such as --port 4000");
            std::process::exit(2);
        }
    }
}

/// The value after `flag` on the command line; an empty one when the flag
/// ends the line, which no flag accepts.
fn flag_value(flag: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|arg| arg != flag);
    args.next()?;
    Some(args.next().unwrap_or_default())
}
