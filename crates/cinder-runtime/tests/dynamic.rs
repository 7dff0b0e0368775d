//! Dynamic supervisors and task supervisors, as Elixir's `DynamicSupervisor`
//! and `Task.Supervisor` document them.

mod common;

use std::time::Duration;

use cinder_runtime::supervisor::{
    ChildSpec, DynamicSupervisor, DynamicSupervisorSpec, Restart, StartChildError, Strategy,
    Supervisor, SupervisorSpec,
};
use cinder_runtime::task::{TaskError, TaskSupervisor};
use cinder_runtime::{spawn, Context, ExitReason, Pid};
use common::{crash, kill_with_error, worker, Log, PATIENCE};

fn idle(id: &str) -> ChildSpec {
    ChildSpec::process(id, |mut ctx: Context<()>| async move {
        loop {
            ctx.recv().await;
        }
    })
}

#[tokio::test]
async fn children_start_on_demand_up_to_max_children() {
    let sup = DynamicSupervisor::start(DynamicSupervisorSpec::new().max_children(3))
        .await
        .unwrap();
    let mut pids = Vec::new();
    for _ in 0..3 {
        pids.push(sup.start_child(idle("w")).await.unwrap());
    }
    assert_eq!(
        sup.start_child(idle("w")).await,
        Err(StartChildError::MaxChildren)
    );
    let listed: Vec<Pid> = sup
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| c.pid)
        .collect();
    assert_eq!(listed, pids, "oldest first");

    sup.terminate_child(&pids[0]).await.unwrap();
    assert!(!pids[0].is_alive());
    assert!(sup.terminate_child(&pids[0]).await.is_err());
    sup.start_child(idle("w")).await.unwrap();
    assert_eq!(sup.count_children().await.unwrap().active, 3);
}

#[tokio::test]
async fn children_restart_by_their_own_restart_policy() {
    let log = Log::default();
    let sup = DynamicSupervisor::start(DynamicSupervisorSpec::new())
        .await
        .unwrap();
    let permanent = sup.start_child(worker("p", &log)).await.unwrap();
    let temporary = sup
        .start_child(worker("t", &log).restart(Restart::Temporary))
        .await
        .unwrap();
    crash(&permanent).await;
    // Answering a call means the restart of `p` is done.
    sup.count_children().await.unwrap();
    crash(&temporary).await;
    let children = sup.which_children().await.unwrap();
    assert_eq!(children.len(), 1);
    assert_eq!(&*children[0].id, "p");
    assert_ne!(children[0].pid.as_ref(), Some(&permanent));
    assert_eq!(
        log.take(),
        ["start p", "start t", "stop p", "start p", "stop t"]
    );
}

#[tokio::test]
async fn too_many_restarts_stop_the_dynamic_supervisor_and_all_children() {
    let sup = DynamicSupervisor::start(DynamicSupervisorSpec::new().max_restarts(1))
        .await
        .unwrap();
    let bystander = sup
        .start_child(idle("b").restart(Restart::Temporary))
        .await
        .unwrap();
    sup.start_child(idle("w")).await.unwrap();
    let exited = sup.pid().exited();
    for _ in 0..2 {
        let target = sup
            .which_children()
            .await
            .unwrap()
            .into_iter()
            .find(|c| &*c.id == "w")
            .and_then(|c| c.pid)
            .unwrap();
        kill_with_error(&target).await;
    }
    assert_eq!(
        tokio::time::timeout(PATIENCE, exited).await.unwrap(),
        ExitReason::Shutdown
    );
    assert!(!bystander.is_alive());
}

#[tokio::test]
async fn thousands_of_children_start_and_stop_together() {
    let sup = DynamicSupervisor::start(DynamicSupervisorSpec::new())
        .await
        .unwrap();
    let mut pids = Vec::new();
    for _ in 0..5_000 {
        pids.push(sup.start_child(idle("many")).await.unwrap());
    }
    assert_eq!(sup.count_children().await.unwrap().active, 5_000);
    assert_eq!(sup.stop().await, ExitReason::Shutdown);
    assert!(pids.iter().all(|pid| !pid.is_alive()));
}

#[tokio::test]
async fn a_dynamic_supervisor_nests_in_a_tree() {
    let root = Supervisor::start(SupervisorSpec::new(Strategy::OneForOne).child(
        DynamicSupervisor::child_spec("sessions", DynamicSupervisorSpec::new()),
    ))
    .await
    .unwrap();
    let sessions_pid = root.which_children().await.unwrap()[0].pid.clone().unwrap();
    let sessions = DynamicSupervisor::from_pid(&sessions_pid).unwrap();
    sessions.start_child(idle("s1")).await.unwrap();
    let tree = root.tree().await.unwrap();
    assert_eq!(&*tree.children[0].id, "sessions");
    assert_eq!(&*tree.children[0].children[0].id, "s1");
}

// Tasks

#[tokio::test]
async fn async_nolink_returns_the_output_or_the_exit_reason() {
    let tasks = TaskSupervisor::start().await.unwrap();
    let answer = tasks.async_nolink(async { 6 * 7 }).await.unwrap();
    assert_eq!(answer.await, Ok(42));

    let crash = tasks
        .async_nolink(async { panic!("task failed") })
        .await
        .unwrap();
    assert_eq!(
        crash.await,
        Err::<(), _>(TaskError::Exited(ExitReason::Panic("task failed".into())))
    );
}

#[tokio::test]
async fn a_task_can_be_awaited_with_a_timeout_and_shut_down() {
    let tasks = TaskSupervisor::start().await.unwrap();
    let mut slow = tasks
        .async_nolink(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        })
        .await
        .unwrap();
    assert!(tokio::time::timeout(Duration::from_millis(10), &mut slow)
        .await
        .is_err());
    let pid = slow.pid().clone();
    assert_eq!(slow.shutdown().await, None);
    assert_eq!(pid.exited().await, ExitReason::Killed);
}

#[tokio::test]
async fn a_crashing_linked_task_takes_its_caller_down() {
    let tasks = TaskSupervisor::start().await.unwrap();
    let caller = spawn(move |_: Context<()>| async move {
        let task = tasks
            .async_link(async { panic!("linked failure") })
            .await
            .unwrap();
        let _ = task.await;
        tokio::time::sleep(Duration::from_secs(3600)).await;
        ExitReason::Normal
    });
    assert_eq!(
        tokio::time::timeout(PATIENCE, caller.exited())
            .await
            .unwrap(),
        ExitReason::Panic("linked failure".into())
    );
}

#[tokio::test]
async fn a_linked_task_ends_when_its_caller_exits() {
    let tasks = TaskSupervisor::start().await.unwrap();
    let (sender, started) = tokio::sync::oneshot::channel();
    let caller = spawn(move |mut ctx: Context<()>| async move {
        let task = tasks
            .async_link(async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            })
            .await
            .unwrap();
        sender.send(task.pid().clone()).unwrap();
        ctx.recv().await;
        ExitReason::error("caller gave up")
    });
    let task = started.await.unwrap();
    caller.send(()).unwrap();
    assert_eq!(
        tokio::time::timeout(PATIENCE, task.exited()).await.unwrap(),
        ExitReason::error("caller gave up")
    );
}

#[tokio::test]
async fn async_link_outside_a_process_says_so() {
    let tasks = TaskSupervisor::start().await.unwrap();
    let error = tasks.async_link(async {}).await.err().unwrap();
    assert_eq!(error, TaskError::NoCaller);
}

#[tokio::test]
async fn fire_and_forget_tasks_run_under_the_supervisor() {
    let tasks = TaskSupervisor::start().await.unwrap();
    let (sender, done) = tokio::sync::oneshot::channel();
    let pid = tasks
        .start_child(async move {
            sender.send("ran").unwrap();
        })
        .await
        .unwrap();
    assert_eq!(done.await.unwrap(), "ran");
    assert_eq!(pid.exited().await, ExitReason::Normal);
    assert_eq!(tasks.supervisor().count_children().await.unwrap().active, 0);
}

/// A temporary child is never started again, so its supervisor keeps its
/// spec without what the start function owned: a view's session, a
/// connection's socket. A permanent child's spec keeps it for restarts.
#[tokio::test]
async fn a_started_temporary_child_keeps_nothing_its_start_owned() {
    let sup = DynamicSupervisor::start(DynamicSupervisorSpec::new())
        .await
        .unwrap();
    let owned = std::sync::Arc::new("what the start owned");
    let held = owned.clone();
    let spec = ChildSpec::new("temporary", move || {
        let _held = held.clone();
        async move {
            let parent = cinder_runtime::current().expect("started by the supervisor");
            Ok(cinder_runtime::process::Spawn::new().link(&parent).spawn(
                |mut ctx: Context<()>| async move {
                    loop {
                        ctx.recv().await;
                    }
                },
            ))
        }
    })
    .restart(Restart::Temporary);
    let temporary = sup.start_child(spec).await.unwrap();
    assert_eq!(
        std::sync::Arc::strong_count(&owned),
        1,
        "the spec let go of it"
    );
    assert_eq!(
        sup.which_children().await.unwrap()[0].id.as_ref(),
        "temporary"
    );

    let held = owned.clone();
    let permanent = ChildSpec::process("permanent", move |mut ctx: Context<()>| {
        let _held = held.clone();
        async move {
            loop {
                ctx.recv().await;
            }
        }
    });
    sup.start_child(permanent).await.unwrap();
    assert_eq!(
        std::sync::Arc::strong_count(&owned),
        2,
        "kept for a restart"
    );
    assert!(temporary.is_alive());
}
