//! The benchmark server: the two pages Phoenix LiveView was measured on,
//! served by Cinder, for `cinder-loadgen` to measure.
//!
//! ```text
//! cargo build --release -p cinder-bench
//! taskset -c 0 target/release/cinder-bench-server --port 4100 --workers 1
//! taskset -c 0 target/release/cinder-bench-server --port 4100 --runtime current-thread
//! ```
//!
//! - `/counter`: a count and a button; the event `inc` adds one.
//! - `/rows`: 100 rows `{id, value}` in an ordinary `@for`; the event `bump`
//!   with `{"i": "k"}` adds one to row `k`.
//!
//! `--port 0` lets the system pick a free port; the `listening on` line
//! printed at start names it.
//!
//! `--layout header` puts each page in a live layout, a header above it and
//! the page in `<main>`, as an application's pages usually are; the
//! default, `bare`, serves the pages alone, as Phoenix was measured.
//!
//! `--runtime` chooses tokio's runtime: `multi-thread` (the default) with
//! `--workers` worker threads, or `current-thread`, which runs everything on
//! the thread that starts it. On one core the two differ in the order they
//! run woken tasks: a worker runs the task just woken next, a current-thread
//! runtime runs them in the order they were woken, so a burst of events is
//! answered later on average. BENCHMARKS.md gives the figures of both.
//!
//! The server raises its open-files limit to the hard limit and grows its
//! table of descriptors to match before any thread starts: in a process of
//! several threads, Linux stalls the thread that opens a descriptor each
//! time the table doubles (see `reserve_descriptor_table`). With one worker
//! thread, every thread allocates from glibc's main arena, which grows its
//! heap with room to spare (see `share_main_arena`).
//!
//! The secret comes from `CINDER_SECRET_KEY_BASE`, or is made up for the run.
//! Built with `--features mimalloc`, the server allocates with mimalloc
//! instead of the system allocator.

use std::net::SocketAddr;
use std::process::ExitCode;

use cinder::live::{Config, Event, LiveRouter, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};
use cinder_bench::descriptors::{raise_open_files_limit, reserve_descriptor_table};
use cinder_bench::heap::share_main_arena;
use cinder_bench::layout::header_layout;
use cinder_bench::options::{asks_for_help, print_help, usage_error, RuntimeFlavor};
use cinder_bench::rows::{first_rows, rows_page, Row};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `/counter`: the smallest view with state.
struct Counter {
    count: u64,
}

impl LiveView for Counter {
    type Info = ();

    async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> {
        Ok(Counter { count: 0 })
    }

    async fn handle_event(&mut self, event: Event, _: &mut Socket<Self>) {
        if event.name() == "inc" {
            self.count += 1;
        }
    }

    fn render(&self) -> Rendered {
        html! { <h1>"Count: "{self.count}</h1><button phx-click="inc">"+"</button> }
    }
}

/// `/rows`: a list rendered by a plain comprehension, without keys or memos,
/// as a first version of a page usually is ([`rows_page`]).
struct Rows {
    rows: Vec<Row>,
}

impl LiveView for Rows {
    type Info = ();

    async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> {
        Ok(Rows { rows: first_rows() })
    }

    async fn handle_event(&mut self, event: Event, _: &mut Socket<Self>) {
        if event.name() != "bump" {
            return;
        }
        let Some(id) = event.get("i").and_then(|i| i.parse::<u32>().ok()) else {
            return;
        };
        if let Some(row) = self.rows.iter_mut().find(|row| row.id == id) {
            row.value += 1;
        }
    }

    fn render(&self) -> Rendered {
        rows_page(&self.rows)
    }
}

/// What wraps each page.
#[derive(Clone, Copy, PartialEq)]
enum PageLayout {
    /// Nothing: the page alone, as Phoenix was measured.
    Bare,
    /// [`header_layout`].
    Header,
}

impl PageLayout {
    fn named(name: &str) -> Result<PageLayout, String> {
        match name {
            "bare" => Ok(PageLayout::Bare),
            "header" => Ok(PageLayout::Header),
            other => Err(format!("--layout takes bare or header, not {other:?}")),
        }
    }
}

/// What the command line asked for.
struct Options {
    port: u16,
    workers: usize,
    runtime: RuntimeFlavor,
    layout: PageLayout,
}

const ABOUT: &str = "cinder-bench-server: the two pages Phoenix LiveView was measured on, served by
Cinder on 127.0.0.1 for cinder-loadgen to measure.
  /counter  a count and a button; the event inc adds one
  /rows     100 rows {id, value} in a plain @for; the event bump with {\"i\": \"k\"}
            adds one to row k";

const USAGE: &str = "usage: cinder-bench-server [--port 4100] [--workers 1] \
[--runtime multi-thread|current-thread] [--layout bare|header]";

const OPTIONS: &str = "options:
  --port N        the port on 127.0.0.1 [4100]; 0 lets the system pick one,
                  which the `listening on` line printed at start names
  --workers N     the runtime's worker threads [1, as measured]
  --runtime KIND  multi-thread [the default], or current-thread, which runs
                  everything on the starting thread (with --workers 1)
  --layout KIND   bare [the default]: each page alone, as Phoenix was measured;
                  header: each page inside a live layout with a header
environment:
  CINDER_SECRET_KEY_BASE  the key that signs sessions [a random one each start]";

fn options(args: Vec<String>) -> Result<Options, String> {
    let mut options = Options {
        port: 4100,
        workers: 1,
        runtime: RuntimeFlavor::MultiThread,
        layout: PageLayout::Bare,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--port" => options.port = value.parse().map_err(|_| "--port takes a port number")?,
            "--workers" => {
                options.workers = value
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("--workers takes a positive number of threads")?;
            }
            "--runtime" => options.runtime = RuntimeFlavor::named(&value)?,
            "--layout" => options.layout = PageLayout::named(&value)?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if options.runtime == RuntimeFlavor::CurrentThread && options.workers != 1 {
        return Err("a current-thread runtime runs on one thread: --workers must be 1".into());
    }
    Ok(options)
}

fn config() -> Config {
    match std::env::var("CINDER_SECRET_KEY_BASE") {
        Ok(secret) if !secret.is_empty() => Config::new(secret).unwrap_or_else(|error| {
            eprintln!("CINDER_SECRET_KEY_BASE: {error}");
            std::process::exit(2);
        }),
        _ => Config::random(),
    }
}

async fn serve(port: u16, layout: PageLayout) -> Result<(), String> {
    let mut router = LiveRouter::new(config())
        .live::<Counter>("/counter")
        .live::<Rows>("/rows");
    if layout == PageLayout::Header {
        router = router.live_layout(header_layout);
    }
    let app = router.into_router();
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    // With `--port 0` the system picks the port; this line tells which.
    let address = listener
        .local_addr()
        .map_err(|error| format!("cannot read the listening address: {error}"))?;
    // The load generator waits for this line before it starts.
    println!("listening on http://{address}");
    // `cinder::serve` turns Nagle's algorithm off on every connection:
    // replies are small frames sent while others may be unacknowledged.
    cinder::serve(listener, app).await;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if asks_for_help(&args) {
        return print_help(&[ABOUT, USAGE, OPTIONS]);
    }
    let options = match options(args) {
        Ok(options) => options,
        Err(error) => return usage_error(&error, USAGE),
    };
    // Each held session is a socket; the table that holds them is grown
    // now, while this is the process's only thread, rather than in stalls
    // as connections arrive (see `reserve_descriptor_table`).
    reserve_descriptor_table(raise_open_files_limit());
    // One worker thread allocates alone: from glibc's main arena, its heap
    // grows without a system call for each session (see `share_main_arena`).
    if options.workers == 1 {
        share_main_arena();
    }
    let runtime = options.runtime.build(options.workers);
    // The accept loop runs as a task on the runtime's own thread: under
    // `block_on` on a multi-thread runtime it would run on this thread, and
    // every connection accepted would be handed across to the worker.
    let served =
        runtime.block_on(async move { tokio::spawn(serve(options.port, options.layout)).await });
    match served.unwrap_or_else(|error| Err(format!("the server's task ended: {error}"))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinder_bench::options::described_flags;

    #[test]
    fn every_option_the_help_describes_is_read() {
        for flag in described_flags(OPTIONS) {
            let refused = options(vec![flag.into(), "1".into()])
                .err()
                .unwrap_or_default();
            assert!(!refused.contains("unknown option"), "{flag}: {refused}");
        }
    }
}
