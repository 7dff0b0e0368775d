//! Criterion benchmarks of the runtime's hot paths, on a single-threaded
//! tokio runtime (one core): spawn plus exit, one message, one call, and a
//! broadcast to the one subscriber of its type on a topic that 10,000
//! others subscribe to for another type.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn spawn_exit(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("process");
    group.throughput(Throughput::Elements(1));
    group.bench_function("spawn_and_exit", |b| {
        b.iter_custom(|iters| rt.block_on(cinder_bench::spawn_and_exit(iters)))
    });
    group.bench_function("send_message", |b| {
        b.iter_custom(|iters| rt.block_on(cinder_bench::send_messages(iters)))
    });
    group.finish();
}

fn call(c: &mut Criterion) {
    let rt = runtime();
    let server = rt.block_on(cinder_bench::echo_server());
    let mut group = c.benchmark_group("gen_server");
    group.throughput(Throughput::Elements(1));
    group.bench_function("call_round_trip", |b| {
        b.iter_custom(|iters| rt.block_on(cinder_bench::calls(&server, iters)))
    });
    group.finish();
}

fn broadcast(c: &mut Criterion) {
    let rt = runtime();
    let (_bystanders, pubsub, read) = rt.block_on(async {
        let bystanders = cinder_bench::idle_processes(10_000).await;
        let (pubsub, read) = cinder_bench::mixed_topic(&bystanders).await;
        (bystanders, pubsub, read)
    });
    let mut group = c.benchmark_group("pubsub");
    group.throughput(Throughput::Elements(1));
    group.bench_function("broadcast_beside_10000_of_another_type", |b| {
        b.iter_custom(|iters| {
            rt.block_on(cinder_bench::broadcasts_beside_bystanders(
                &pubsub, &read, iters,
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, spawn_exit, call, broadcast);
criterion_main!(benches);
