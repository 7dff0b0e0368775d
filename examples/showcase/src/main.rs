//! The Cinder showcase: one server with a demo of each feature.
//!
//! ```text
//! ./scripts/showcase.sh            # installs the client from npm if needed, then runs
//! cargo run -p showcase -- --port 4000
//! ```
//!
//! The secret that signs sessions comes from `CINDER_SECRET_KEY_BASE`; when
//! it is unset the showcase makes one up, so sessions end with the process.

mod clock;
mod counter;
mod search;

use std::net::SocketAddr;

use cinder::live::{Config, LiveRouter};

const DEMOS: &[(&str, &str)] = &[
    ("/counter", "A counter: buttons that change server state"),
    ("/clock", "A clock: updates pushed by a server timer"),
    ("/search", "Search as you type: a debounced phx-change"),
];

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_target(false).init();
    let port = port_from_args().unwrap_or(4000);
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            tracing::warn!(%error, "using a random secret for this run only");
            Config::random()
        }
    };
    let app = LiveRouter::new(config)
        .live::<counter::Counter>("/counter")
        .live::<clock::Clock>("/clock")
        .live::<search::Search>("/search")
        .into_router()
        .route("/", axum::routing::get(index));
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {address}: {error} (choose another with --port)");
            std::process::exit(1);
        }
    };
    tracing::info!("showcase listening on http://{address}");
    let shutdown = cinder_runtime::signal::shutdown_signal().expect("signal handlers install");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .expect("the server runs");
}

fn port_from_args() -> Option<u16> {
    let args: Vec<String> = std::env::args().collect();
    let position = args.iter().position(|arg| arg == "--port")?;
    match args.get(position + 1).map(|value| value.parse()) {
        Some(Ok(port)) => Some(port),
        _ => {
            eprintln!("--port takes a port number, such as --port 4000");
            std::process::exit(2);
        }
    }
}

async fn index() -> axum::response::Html<String> {
    let links: String = DEMOS
        .iter()
        .map(|(path, what)| format!(r#"<li><a href="{path}">{path}</a>: {what}</li>"#))
        .collect();
    axum::response::Html(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Cinder showcase</title></head>\
         <body><h1>Cinder showcase</h1><ul>{links}</ul></body></html>\n"
    ))
}
