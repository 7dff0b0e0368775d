//! Graceful shutdown on SIGTERM: the whole tree stops, last started first,
//! each child within its shutdown spec. In its own test binary because it
//! signals its own process.

mod common;

use std::time::Duration;

use cinder_runtime::signal::{shutdown_signal, stop_on_signal};
use cinder_runtime::supervisor::{Strategy, Supervisor, SupervisorSpec};
use cinder_runtime::ExitReason;
use common::{worker, Log, PATIENCE};

#[tokio::test]
async fn sigterm_stops_the_tree_in_reverse_start_order() {
    // Install the process-wide handler first, so an early SIGTERM cannot
    // end the test binary.
    drop(shutdown_signal().unwrap());

    let log = Log::default();
    let nested = SupervisorSpec::new(Strategy::OneForOne)
        .child(worker("b1", &log))
        .child(worker("b2", &log));
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(worker("a", &log))
        .child(Supervisor::child_spec("b", nested))
        .child(worker("c", &log));
    let root = Supervisor::start(spec).await.unwrap();
    assert_eq!(log.take(), ["start a", "start b1", "start b2", "start c"]);

    let stopping = tokio::spawn(async move { stop_on_signal(&root).await });
    let outcome = tokio::time::timeout(PATIENCE, async {
        loop {
            tokio::task::yield_now().await;
            std::process::Command::new("kill")
                .args(["-TERM", &std::process::id().to_string()])
                .status()
                .expect("kill runs");
            tokio::time::sleep(Duration::from_millis(50)).await;
            if stopping.is_finished() {
                return stopping.await.unwrap();
            }
        }
    })
    .await
    .expect("the tree stops after SIGTERM");
    assert_eq!(outcome.unwrap(), ExitReason::Shutdown);
    assert_eq!(log.take(), ["stop c", "stop b2", "stop b1", "stop a"]);
}
