//! Measures the runtime on one core: memory per idle process (heap growth
//! counted by the allocator) for 100,000 and 1,000,000 processes, and the
//! cost of a spawn plus exit, a message and a call.
//!
//! ```text
//! cargo run --release -p cinder-bench --bin runtime-bench [-- --quick]
//! ```

use std::process::ExitCode;
use std::time::Duration;

use cinder_bench::heap::{allocated, Counting};
use cinder_bench::options::{asks_for_help, print_help, usage_error};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn per_item(duration: Duration, count: u64) -> f64 {
    duration.as_nanos() as f64 / count as f64
}

/// Heap bytes per item while `count` items made by `make` are alive.
async fn bytes_per<T>(count: usize, make: impl std::future::Future<Output = T>) -> (f64, T) {
    let before = allocated();
    let items = make.await;
    let grown = allocated() - before;
    (grown as f64 / count as f64, items)
}

const ABOUT: &str = "runtime-bench: the runtime on one core: memory per idle process for 100,000
and 1,000,000 processes, and the time of a spawn and exit, a message and a call.";

const USAGE: &str = "usage: runtime-bench [--quick]";

const OPTIONS: &str = "options:
  --quick  a hundredth of the processes and messages, to prove it runs";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if asks_for_help(&args) {
        return print_help(&[ABOUT, USAGE, OPTIONS]);
    }
    if let Some(other) = args.iter().find(|arg| *arg != "--quick") {
        return usage_error(&format!("unknown option {other}"), USAGE);
    }
    let quick = args.iter().any(|arg| arg == "--quick");
    measure(quick);
    ExitCode::SUCCESS
}

fn measure(quick: bool) {
    let scale = if quick { 100 } else { 1 };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        // Warm up the process table and the runtime's own structures.
        drop(cinder_bench::idle_processes(1_000).await);
        let (small, large) = (100_000 / scale, 1_000_000 / scale);
        let (idle_100k, _) = bytes_per(small, cinder_bench::idle_processes(small)).await;
        let (idle_1m, _) = bytes_per(large, cinder_bench::idle_processes(large)).await;
        let (server_100k, _) = bytes_per(small, cinder_bench::idle_servers(small)).await;
        let (child_100k, supervisor) =
            bytes_per(small, cinder_bench::supervised_children(small)).await;
        supervisor.stop().await;

        let spawn_count = 1_000_000 / scale as u64;
        let spawn_ns = per_item(cinder_bench::spawn_and_exit(spawn_count).await, spawn_count);
        let message_count = 10_000_000 / scale as u64;
        let message_ns = per_item(cinder_bench::send_messages(message_count).await, message_count);
        let server = cinder_bench::echo_server().await;
        let call_count = 1_000_000 / scale as u64;
        let call_ns = per_item(cinder_bench::calls(&server, call_count).await, call_count);

        println!("| measure | result |");
        println!("| --- | --- |");
        println!("| idle process, 100,000 alive | {idle_100k:.0} B |");
        println!("| idle process, 1,000,000 alive | {idle_1m:.0} B |");
        println!("| idle GenServer, 100,000 alive | {server_100k:.0} B |");
        println!("| idle child of a dynamic supervisor, 100,000 alive | {child_100k:.0} B |");
        println!("| spawn + normal exit | {spawn_ns:.0} ns |");
        println!("| message, process to process | {message_ns:.1} ns |");
        println!("| call round trip | {call_ns:.0} ns |");
        println!(
            "{{\"idle_process_bytes_100k\":{idle_100k:.0},\"idle_process_bytes_1m\":{idle_1m:.0},\"idle_server_bytes_100k\":{server_100k:.0},\"supervised_child_bytes_100k\":{child_100k:.0},\"spawn_exit_ns\":{spawn_ns:.0},\"message_ns\":{message_ns:.1},\"call_ns\":{call_ns:.0}}}"
        );
    });
}
