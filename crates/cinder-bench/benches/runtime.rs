//! Criterion benchmarks of the runtime's hot paths, on a single-threaded
//! tokio runtime (one core): spawn plus exit, one message, one call.

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

criterion_group!(benches, spawn_exit, call);
criterion_main!(benches);
