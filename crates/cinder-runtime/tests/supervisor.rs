//! Supervisors, each test mirroring OTP's supervisor documentation
//! (restart strategies, restart intensity, child specs, shutdown).

mod common;

use std::time::Duration;

use cinder_runtime::gen_server::StartError;
use cinder_runtime::process::Spawn;
use cinder_runtime::supervisor::{
    ChildCounts, ChildKind, ChildSpec, Restart, Shutdown, Strategy, Supervisor, SupervisorError,
    SupervisorSpec,
};
use cinder_runtime::{current, Context, ExitReason, Pid};
use common::{crash, kill_with_error, worker, Log, PATIENCE};

fn spec(strategy: Strategy, names: &[&str], log: &Log) -> SupervisorSpec {
    SupervisorSpec::new(strategy).children(names.iter().map(|name| worker(name, log)))
}

async fn pids(supervisor: &Supervisor) -> Vec<Option<Pid>> {
    supervisor
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|child| child.pid)
        .collect()
}

async fn child_ids(supervisor: &Supervisor) -> Vec<String> {
    supervisor
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|child| child.id.to_string())
        .collect()
}

async fn pid_of(supervisor: &Supervisor, id: &str) -> Pid {
    let children = supervisor.which_children().await.unwrap();
    let child = children
        .into_iter()
        .find(|c| &*c.id == id)
        .expect("child exists");
    child.pid.expect("child is running")
}

#[tokio::test]
async fn children_start_in_order_and_stop_in_reverse_order() {
    let log = Log::default();
    let supervisor = Supervisor::start(spec(Strategy::OneForOne, &["a", "b", "c"], &log))
        .await
        .unwrap();
    assert_eq!(log.take(), ["start a", "start b", "start c"]);
    assert_eq!(supervisor.stop().await, ExitReason::Shutdown);
    assert_eq!(log.take(), ["stop c", "stop b", "stop a"]);
}

#[tokio::test]
async fn one_for_one_restarts_only_the_crashed_child() {
    let log = Log::default();
    let supervisor = Supervisor::start(spec(Strategy::OneForOne, &["a", "b", "c"], &log))
        .await
        .unwrap();
    log.take();
    let before = pids(&supervisor).await;
    crash(before[1].as_ref().unwrap()).await;
    let after = pids(&supervisor).await;
    assert_eq!(log.take(), ["stop b", "start b"]);
    assert_eq!(after[0], before[0]);
    assert_ne!(after[1], before[1]);
    assert_eq!(after[2], before[2]);
}

#[tokio::test]
async fn one_for_all_restarts_every_child_in_order_after_stopping_the_others_in_reverse() {
    let log = Log::default();
    let supervisor = Supervisor::start(spec(Strategy::OneForAll, &["a", "b", "c"], &log))
        .await
        .unwrap();
    log.take();
    let before = pids(&supervisor).await;
    crash(before[1].as_ref().unwrap()).await;
    let after = pids(&supervisor).await;
    assert_eq!(
        log.take(),
        ["stop b", "stop c", "stop a", "start a", "start b", "start c"]
    );
    assert!(before.iter().zip(&after).all(|(b, a)| b != a));
}

#[tokio::test]
async fn rest_for_one_restarts_the_crashed_child_and_those_started_after_it() {
    let log = Log::default();
    let supervisor = Supervisor::start(spec(Strategy::RestForOne, &["1", "2", "3", "4"], &log))
        .await
        .unwrap();
    log.take();
    let before = pids(&supervisor).await;
    crash(before[1].as_ref().unwrap()).await;
    let after = pids(&supervisor).await;
    assert_eq!(
        log.take(),
        ["stop 2", "stop 4", "stop 3", "start 2", "start 3", "start 4"]
    );
    assert_eq!(after[0], before[0], "child 1 is left alone");
    assert!(before[1..].iter().zip(&after[1..]).all(|(b, a)| b != a));
}

#[tokio::test]
async fn a_fourth_crash_within_five_seconds_takes_the_supervisor_down_with_shutdown() {
    let log = Log::default();
    let supervisor = Supervisor::start(spec(Strategy::OneForOne, &["a", "b"], &log))
        .await
        .unwrap();
    let exited = supervisor.pid().exited();
    for _ in 0..3 {
        crash(&pid_of(&supervisor, "a").await).await;
    }
    assert!(supervisor.pid().is_alive(), "three restarts are allowed");
    let b = pid_of(&supervisor, "b").await;
    crash(&pid_of(&supervisor, "a").await).await;
    assert_eq!(
        tokio::time::timeout(PATIENCE, exited).await.unwrap(),
        ExitReason::Shutdown
    );
    assert!(
        !b.is_alive(),
        "the supervisor stops its other children first"
    );
    assert_eq!(log.take().last().map(String::as_str), Some("stop b"));
}

#[tokio::test]
async fn a_nested_supervisor_that_gives_up_is_restarted_by_its_parent() {
    let log = Log::default();
    let inner = SupervisorSpec::new(Strategy::OneForOne)
        .max_restarts(0)
        .child(worker("leaf", &log));
    let outer = SupervisorSpec::new(Strategy::OneForOne)
        .child(worker("sibling", &log))
        .child(Supervisor::child_spec("inner", inner));
    let root = Supervisor::start(outer).await.unwrap();
    let inner_before = pid_of(&root, "inner").await;
    let sibling = pid_of(&root, "sibling").await;
    let leaf = pid_of(&Supervisor::from_pid(&inner_before).unwrap(), "leaf").await;
    log.take();

    let inner_exited = inner_before.exited();
    crash(&leaf).await;
    assert_eq!(inner_exited.await, ExitReason::Shutdown);
    let inner_after = pid_of(&root, "inner").await;
    assert_ne!(inner_after, inner_before);
    assert_eq!(pid_of(&root, "sibling").await, sibling);
    assert_eq!(log.take(), ["stop leaf", "start leaf"]);

    let tree = root.tree().await.unwrap();
    assert_eq!(tree.children.len(), 2);
    assert_eq!(&*tree.children[1].id, "inner");
    assert_eq!(tree.children[1].kind, ChildKind::Supervisor);
    assert_eq!(tree.children[1].pid, Some(inner_after));
    assert_eq!(&*tree.children[1].children[0].id, "leaf");
    assert_eq!(tree.children[1].children[0].kind, ChildKind::Worker);
}

#[tokio::test]
async fn transient_children_restart_only_after_abnormal_exits() {
    let log = Log::default();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(worker("t", &log).restart(Restart::Transient));
    let supervisor = Supervisor::start(spec).await.unwrap();

    crash(&pid_of(&supervisor, "t").await).await;
    let restarted = pid_of(&supervisor, "t").await;

    let exited = restarted.exited();
    common_stop(&restarted, ExitReason::shutdown_with("finished")).await;
    exited.await;
    let children = supervisor.which_children().await.unwrap();
    assert_eq!(children[0].pid, None, "kept as a spec, not restarted");
    assert_eq!(
        supervisor.count_children().await.unwrap(),
        ChildCounts {
            specs: 1,
            active: 0,
            supervisors: 0,
            workers: 1
        }
    );
    assert_eq!(log.take(), ["start t", "stop t", "start t", "stop t"]);
}

async fn common_stop(pid: &Pid, reason: ExitReason) {
    let worker = cinder_runtime::gen_server::Server::<common::Worker>::from_pid(pid).unwrap();
    worker.cast(common::WorkerCast::Exit(reason)).unwrap();
}

#[tokio::test]
async fn temporary_children_are_forgotten_when_they_exit() {
    let log = Log::default();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(worker("keep", &log))
        .child(worker("once", &log).restart(Restart::Temporary));
    let supervisor = Supervisor::start(spec).await.unwrap();
    crash(&pid_of(&supervisor, "once").await).await;
    assert_eq!(child_ids(&supervisor).await, ["keep"]);
}

/// A temporary child whose start function holds `owned`, linked to the
/// supervisor that starts it.
fn temporary(id: &str, owned: &std::sync::Arc<String>) -> ChildSpec {
    let held = owned.clone();
    ChildSpec::new(id.to_string(), move || {
        let _held = held.clone();
        async move {
            let parent = current().ok_or(StartError::NoCaller)?;
            Ok(Spawn::new()
                .link(&parent)
                .spawn(|mut ctx: Context<()>| async move {
                    loop {
                        ctx.recv().await;
                    }
                }))
        }
    })
    .restart(Restart::Temporary)
}

/// A static supervisor, like a dynamic one, keeps a started temporary
/// child's spec without what its start owned, whether the child started
/// with the supervisor or later.
#[tokio::test]
async fn a_started_temporary_child_keeps_nothing_its_start_owned() {
    let owned = std::sync::Arc::new(String::from("what the start owned"));
    let spec = SupervisorSpec::new(Strategy::OneForOne).child(temporary("first", &owned));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(std::sync::Arc::strong_count(&owned), 1, "let go at start");
    supervisor
        .start_child(temporary("later", &owned))
        .await
        .unwrap();
    assert_eq!(std::sync::Arc::strong_count(&owned), 1, "let go at start");
    assert_eq!(child_ids(&supervisor).await, ["first", "later"]);
}

/// A child that traps exits and ignores them, so only `kill` stops it.
fn stubborn(id: &str) -> ChildSpec {
    ChildSpec::new(id, || async {
        let parent = current().ok_or(StartError::NoCaller)?;
        Ok(Spawn::new()
            .trap_exit(true)
            .link(&parent)
            .spawn(|mut ctx: Context<()>| async move {
                loop {
                    ctx.recv().await;
                }
            }))
    })
}

#[tokio::test]
async fn a_child_that_ignores_shutdown_is_killed_after_its_timeout() {
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(stubborn("slow").shutdown(Shutdown::Timeout(Duration::from_millis(30))));
    let supervisor = Supervisor::start(spec).await.unwrap();
    let child = pid_of(&supervisor, "slow").await;
    supervisor.terminate_child("slow").await.unwrap();
    assert_eq!(child.exited().await, ExitReason::Killed);
}

#[tokio::test]
async fn brutal_kill_kills_even_a_trapping_child_at_once() {
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(stubborn("x").shutdown(Shutdown::BrutalKill));
    let supervisor = Supervisor::start(spec).await.unwrap();
    let child = pid_of(&supervisor, "x").await;
    supervisor.stop().await;
    assert_eq!(child.exited().await, ExitReason::Killed);
}

#[tokio::test]
async fn infinity_waits_for_the_child_to_finish_its_shutdown() {
    let log = Log::default();
    let slow_stop = ChildSpec::new("patient", {
        let log = log.clone();
        move || {
            let log = log.clone();
            async move {
                let parent = current().ok_or(StartError::NoCaller)?;
                Ok(Spawn::new().trap_exit(true).link(&parent).spawn(
                    move |mut ctx: Context<()>| async move {
                        ctx.recv().await;
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        log.push("cleaned up");
                        ExitReason::Shutdown
                    },
                ))
            }
        }
    })
    .shutdown(Shutdown::Infinity);
    let supervisor = Supervisor::start(SupervisorSpec::new(Strategy::OneForOne).child(slow_stop))
        .await
        .unwrap();
    supervisor.stop().await;
    assert_eq!(log.take(), ["cleaned up"]);
}

#[tokio::test]
async fn a_child_that_fails_to_start_fails_the_supervisor_and_stops_the_started_ones() {
    let log = Log::default();
    let broken = ChildSpec::new("broken", || async {
        Err::<Pid, _>(StartError::Init(ExitReason::error("no database")))
    });
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(worker("a", &log))
        .child(broken)
        .child(worker("c", &log));
    let error = Supervisor::start(spec).await.unwrap_err();
    assert_eq!(
        error,
        StartError::Init(ExitReason::shutdown_with(
            "failed to start child `broken`: init failed: error: no database"
        ))
    );
    assert_eq!(log.take(), ["start a", "stop a"]);
}

#[tokio::test]
async fn children_can_be_terminated_restarted_deleted_and_added() {
    let log = Log::default();
    let supervisor = Supervisor::start(spec(Strategy::OneForOne, &["a"], &log))
        .await
        .unwrap();

    assert_eq!(
        supervisor.restart_child("a").await,
        Err(SupervisorError::Running("a".into()))
    );
    assert_eq!(
        supervisor.delete_child("a").await,
        Err(SupervisorError::Running("a".into()))
    );
    supervisor.terminate_child("a").await.unwrap();
    assert_eq!(pids(&supervisor).await, [None]);
    let restarted = supervisor.restart_child("a").await.unwrap();
    assert_eq!(pids(&supervisor).await, [Some(restarted)]);
    supervisor.terminate_child("a").await.unwrap();
    supervisor.delete_child("a").await.unwrap();
    assert_eq!(
        supervisor.terminate_child("a").await,
        Err(SupervisorError::NotFound("a".into()))
    );

    let b = supervisor.start_child(worker("b", &log)).await.unwrap();
    assert_eq!(
        supervisor.start_child(worker("b", &log)).await,
        Err(SupervisorError::AlreadyPresent("b".into()))
    );
    assert_eq!(pids(&supervisor).await, [Some(b)]);
    assert_eq!(
        log.take(),
        ["start a", "stop a", "start a", "stop a", "start b"]
    );
}

#[tokio::test]
async fn a_supervisor_exits_when_its_linked_parent_dies_and_stops_its_children() {
    let log = Log::default();
    let (sender, started) = tokio::sync::oneshot::channel();
    let child_spec = spec(Strategy::OneForOne, &["x", "y"], &log);
    let parent = cinder_runtime::spawn(move |mut ctx: Context<()>| async move {
        let supervisor = Supervisor::start_link(child_spec).await.unwrap();
        sender.send(supervisor).unwrap();
        ctx.recv().await;
        ExitReason::error("parent crashed")
    });
    let supervisor = started.await.unwrap();
    parent.send(()).unwrap();
    assert_eq!(
        supervisor.pid().exited().await,
        ExitReason::error("parent crashed")
    );
    assert_eq!(log.take(), ["start x", "start y", "stop y", "stop x"]);
}

#[tokio::test]
async fn plain_process_children_are_restarted_too() {
    let spec = SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::process(
        "plain",
        |mut ctx: Context<()>| async move {
            loop {
                ctx.recv().await;
            }
        },
    ));
    let supervisor = Supervisor::start(spec).await.unwrap();
    let first = pid_of(&supervisor, "plain").await;
    kill_with_error(&first).await;
    let second = pid_of(&supervisor, "plain").await;
    assert_ne!(first, second);
    assert!(second.is_alive());
}
