//! Processes, exit signals, links and monitors, each test mirroring a rule
//! from Erlang's reference manual (Processes: links, monitors, exit signals).

mod common;

use std::time::Duration;

use cinder_runtime::process::Spawn;
use cinder_runtime::{current, exit, spawn, Context, ExitReason, Message, Pid, SendError};
use common::PATIENCE;
use tokio::sync::oneshot;

/// A process that waits forever, doing nothing with its messages.
fn idle() -> Pid {
    spawn(|mut ctx: Context<()>| async move {
        loop {
            ctx.recv().await;
        }
    })
}

/// A process that traps exits and forwards every message it gets to the test.
fn trapper() -> (Pid, tokio::sync::mpsc::UnboundedReceiver<Message<()>>) {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    let pid = Spawn::new()
        .trap_exit(true)
        .spawn(move |mut ctx: Context<()>| async move {
            loop {
                let message = ctx.recv().await;
                if sender.send(message).is_err() {
                    return ExitReason::Normal;
                }
            }
        });
    (pid, receiver)
}

async fn exited(pid: &Pid) -> ExitReason {
    tokio::time::timeout(PATIENCE, pid.exited())
        .await
        .expect("the process exits")
}

async fn next<T>(receiver: &mut tokio::sync::mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(PATIENCE, receiver.recv())
        .await
        .expect("a message arrives")
        .expect("the sender is alive")
}

#[tokio::test]
async fn messages_arrive_in_order_and_the_body_result_is_the_exit_reason() {
    let (sender, received) = oneshot::channel();
    let pid = spawn(|mut ctx: Context<u32>| async move {
        let mut seen = Vec::new();
        while seen.len() < 3 {
            if let Message::User(n) = ctx.recv().await {
                seen.push(n);
            }
        }
        sender.send(seen).unwrap();
        ExitReason::shutdown_with("done")
    });
    for n in 1..=3u32 {
        pid.send(n).unwrap();
    }
    assert_eq!(received.await.unwrap(), vec![1, 2, 3]);
    assert_eq!(exited(&pid).await, ExitReason::shutdown_with("done"));
    assert!(!pid.is_alive());
}

#[tokio::test]
async fn a_conditional_receive_takes_a_run_of_accepted_messages_and_leaves_the_rest_in_order() {
    let (sender, received) = oneshot::channel();
    let (go, ready) = oneshot::channel::<()>();
    let pid = Spawn::new()
        .trap_exit(true)
        .spawn(|mut ctx: Context<u32>| async move {
            ready.await.unwrap();
            let mut taken = Vec::new();
            while let Some(n) = ctx.try_recv_if(|n| n % 2 == 1) {
                taken.push(n);
            }
            // An even number stops the run; so does an exit signal, which
            // no predicate sees.
            let stopped_by = ctx.recv().await;
            let after_four = ctx.try_recv_if(|_| true);
            let signal_first = ctx.try_recv_if(|_| true);
            let signal = ctx.recv().await;
            let last = ctx.recv().await;
            let _ = sender.send((taken, stopped_by, after_four, signal_first, signal, last));
            ExitReason::Normal
        });
    for n in [1u32, 3, 4, 5] {
        pid.send(n).unwrap();
    }
    exit(&pid, ExitReason::shutdown_with("signal"));
    pid.send(7u32).unwrap();
    go.send(()).unwrap();
    let (taken, stopped_by, after_four, signal_first, signal, last) = received.await.unwrap();
    assert_eq!(taken, [1, 3]);
    assert!(matches!(stopped_by, Message::User(4)));
    assert_eq!(after_four, Some(5));
    assert_eq!(signal_first, None, "an exit signal is never taken");
    assert!(matches!(signal, Message::Exit { .. }));
    assert!(matches!(last, Message::User(7)));
}

#[tokio::test]
async fn sending_to_a_dead_process_or_with_the_wrong_type_gives_the_message_back() {
    let pid = spawn(|_: Context<u32>| async { ExitReason::Normal });
    exited(&pid).await;
    assert!(matches!(pid.send(7u32), Err(SendError::NoProc(7))));

    let alive = idle();
    let error = alive.send("text").unwrap_err();
    assert!(error.to_string().contains("`()`"), "{error}");
    assert_eq!(error.into_message(), "text");
}

#[tokio::test]
async fn prefetching_a_process_changes_nothing_about_it() {
    let (alive, mut received) = trapper();
    alive.prefetch();
    assert!(alive.is_alive());
    alive.send(()).unwrap();
    assert!(matches!(next(&mut received).await, Message::User(())));

    let gone = spawn(|_: Context<u32>| async { ExitReason::Normal });
    exited(&gone).await;
    gone.prefetch();
    assert!(!gone.is_alive());
    assert!(matches!(gone.send(1u32), Err(SendError::NoProc(1))));
}

#[tokio::test]
async fn a_panic_ends_only_the_panicking_process() {
    let bystander = idle();
    let fragile = spawn(|_: Context<()>| async { panic!("kaboom") });
    assert_eq!(exited(&fragile).await, ExitReason::Panic("kaboom".into()));
    assert!(bystander.is_alive());
    bystander.send(()).unwrap();
}

#[tokio::test]
async fn a_body_returning_err_exits_with_an_error_reason() {
    let pid = spawn(|_: Context<()>| async { Err::<(), _>("no config").into() });
    assert_eq!(exited(&pid).await, ExitReason::error("no config"));
}

#[tokio::test]
async fn current_names_the_running_process_and_nothing_outside() {
    assert!(current().is_none());
    let (sender, received) = oneshot::channel();
    let pid = spawn(move |ctx: Context<()>| async move {
        sender.send((current(), ctx.pid())).unwrap();
        ExitReason::Normal
    });
    let (seen, own) = received.await.unwrap();
    assert_eq!(seen, Some(pid.clone()));
    assert_eq!(own, pid);
}

#[tokio::test]
async fn current_follows_each_process_across_its_awaits_and_its_end() {
    /// Reports, when dropped, which process it was dropped in.
    struct ReportsOnDrop(Option<oneshot::Sender<Option<Pid>>>);
    impl Drop for ReportsOnDrop {
        fn drop(&mut self) {
            let _ = self.0.take().unwrap().send(current());
        }
    }

    // Two processes taking turns on this one thread, each looking at
    // `current` after every yield.
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let (dropped, drop_seen) = oneshot::channel();
    let mut reports = [Some(ReportsOnDrop(Some(dropped))), None];
    let mut pids = Vec::new();
    for report in &mut reports {
        let (sender, report) = (sender.clone(), report.take());
        pids.push(spawn(move |mut ctx: Context<()>| async move {
            let _report = report;
            for _ in 0..3 {
                tokio::task::yield_now().await;
                sender.send((current(), ctx.pid())).unwrap();
            }
            drop(sender);
            ctx.recv().await;
            ExitReason::Normal
        }));
    }
    drop(sender);
    let mut seen = 0;
    while let Some((current, own)) = received.recv().await {
        assert_eq!(current, Some(own));
        seen += 1;
    }
    assert_eq!(seen, 6);
    // Killed as it waits, a body's state is dropped inside its process.
    exit(&pids[0], ExitReason::Killed);
    assert_eq!(drop_seen.await.unwrap(), Some(pids[0].clone()));

    // A process that panics gives its pid back all the same.
    let fragile = spawn(|_: Context<()>| async { panic!("gone") });
    assert_eq!(exited(&fragile).await, ExitReason::Panic("gone".into()));
    assert!(current().is_none());
}

#[tokio::test]
async fn recv_timeout_returns_none_when_nothing_arrives() {
    let (sender, received) = oneshot::channel();
    spawn(move |mut ctx: Context<()>| async move {
        sender
            .send(ctx.recv_timeout(Duration::from_millis(10)).await.is_none())
            .unwrap();
        ExitReason::Normal
    });
    assert!(received.await.unwrap());
}

// exit/2

#[tokio::test]
async fn exit_normal_is_ignored_by_a_process_that_does_not_trap() {
    let pid = idle();
    exit(&pid, ExitReason::Normal);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(pid.is_alive());
    exit(&pid, ExitReason::Shutdown);
    assert_eq!(exited(&pid).await, ExitReason::Shutdown);
}

#[tokio::test]
async fn exit_with_any_other_reason_kills_with_that_reason() {
    let pid = idle();
    exit(&pid, ExitReason::shutdown_with("maintenance"));
    assert_eq!(exited(&pid).await, ExitReason::shutdown_with("maintenance"));
}

#[tokio::test]
async fn a_trapping_process_receives_exit_signals_as_messages() {
    let (pid, mut inbox) = trapper();
    exit(&pid, ExitReason::Normal);
    exit(&pid, ExitReason::Shutdown);
    for expected in [ExitReason::Normal, ExitReason::Shutdown] {
        match next(&mut inbox).await {
            Message::Exit { from: None, reason } => assert_eq!(reason, expected),
            other => panic!("expected an exit message, got {other:?}"),
        }
    }
    assert!(pid.is_alive());
}

#[tokio::test]
async fn kill_cannot_be_trapped_and_the_reason_becomes_killed() {
    let (pid, _inbox) = trapper();
    exit(&pid, ExitReason::Kill);
    assert_eq!(exited(&pid).await, ExitReason::Killed);
}

#[tokio::test]
async fn kill_ends_a_process_at_its_next_await_even_when_busy_waiting_elsewhere() {
    let pid = spawn(|_: Context<()>| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        ExitReason::Normal
    });
    exit(&pid, ExitReason::Kill);
    assert_eq!(exited(&pid).await, ExitReason::Killed);
}

// Links

#[tokio::test]
async fn an_abnormal_exit_kills_linked_processes_with_the_same_reason() {
    let a = idle();
    let b = idle();
    let (sender, linked) = oneshot::channel();
    let (a2, b2) = (a.clone(), b.clone());
    let middle = spawn(move |mut ctx: Context<()>| async move {
        ctx.link(&a2);
        ctx.link(&b2);
        sender.send(()).unwrap();
        ctx.recv().await;
        ExitReason::error("middle failed")
    });
    linked.await.unwrap();
    middle.send(()).unwrap();
    assert_eq!(exited(&a).await, ExitReason::error("middle failed"));
    assert_eq!(exited(&b).await, ExitReason::error("middle failed"));
}

#[tokio::test]
async fn a_normal_exit_does_not_kill_linked_processes() {
    let survivor = idle();
    let linked = Spawn::new()
        .link(&survivor)
        .spawn(|_: Context<()>| async { ExitReason::Normal });
    assert_eq!(exited(&linked).await, ExitReason::Normal);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(survivor.is_alive());
}

#[tokio::test]
async fn a_trapping_process_gets_linked_exits_as_messages_including_normal() {
    let (watcher, mut inbox) = trapper();
    let normal = Spawn::new()
        .link(&watcher)
        .spawn(|_: Context<()>| async { ExitReason::Normal });
    let crashed = Spawn::new()
        .link(&watcher)
        .spawn(|_: Context<()>| async { panic!("oops") });
    let mut reasons = Vec::new();
    for _ in 0..2 {
        match next(&mut inbox).await {
            Message::Exit {
                from: Some(from),
                reason,
            } => reasons.push((from, reason)),
            other => panic!("expected exit messages, got {other:?}"),
        }
    }
    reasons.sort_by_key(|(from, _)| from.id());
    assert_eq!(
        reasons,
        vec![
            (normal, ExitReason::Normal),
            (crashed, ExitReason::Panic("oops".into()))
        ]
    );
    assert!(watcher.is_alive());
}

#[tokio::test]
async fn killed_travels_along_links_and_can_be_trapped_there() {
    let (watcher, mut inbox) = trapper();
    let victim = Spawn::new()
        .link(&watcher)
        .spawn(|mut ctx: Context<()>| async move {
            ctx.recv().await;
            ExitReason::Normal
        });
    exit(&victim, ExitReason::Kill);
    match next(&mut inbox).await {
        Message::Exit { from, reason } => {
            assert_eq!(from, Some(victim));
            assert_eq!(reason, ExitReason::Killed);
        }
        other => panic!("expected an exit message, got {other:?}"),
    }
    assert!(watcher.is_alive());
}

#[tokio::test]
async fn links_are_bidirectional_and_unlink_removes_them() {
    let (watcher, mut inbox) = trapper();
    let (linked, ready) = oneshot::channel();
    let w = watcher.clone();
    let child = spawn(move |mut ctx: Context<()>| async move {
        ctx.link(&w);
        linked.send(()).unwrap();
        ctx.recv().await;
        ctx.unlink(&w);
        ExitReason::error("after unlink")
    });
    ready.await.unwrap();
    // The link the child made also links the watcher to the child.
    let watcher_links = cinder_runtime::introspection::process_info(&watcher)
        .unwrap()
        .links;
    assert_eq!(watcher_links, vec![child.clone()]);
    child.send(()).unwrap();
    exited(&child).await;
    let late = tokio::time::timeout(Duration::from_millis(50), inbox.recv()).await;
    assert!(late.is_err(), "no exit signal after unlink");
}

#[tokio::test]
async fn linking_to_a_dead_process_delivers_noproc() {
    let dead = spawn(|_: Context<()>| async { ExitReason::Normal });
    exited(&dead).await;

    let d = dead.clone();
    let trapping = Spawn::new()
        .trap_exit(true)
        .spawn(move |mut ctx: Context<()>| async move {
            ctx.link(&d);
            match ctx.recv().await {
                Message::Exit { from, reason } if from == Some(d) => reason,
                _ => ExitReason::error("expected an exit message from the dead pid"),
            }
        });
    assert_eq!(exited(&trapping).await, ExitReason::NoProc);

    let plain = spawn(move |ctx: Context<()>| async move {
        ctx.link(&dead);
        std::future::pending::<ExitReason>().await
    });
    assert_eq!(exited(&plain).await, ExitReason::NoProc);
}

// Monitors

#[tokio::test]
async fn a_monitor_delivers_one_down_with_the_reason() {
    let target = idle();
    let (sender, got) = oneshot::channel();
    let t = target.clone();
    spawn(move |mut ctx: Context<()>| async move {
        let monitor = ctx.monitor(&t);
        let message = ctx.recv().await;
        sender.send((monitor, message)).unwrap();
        ExitReason::Normal
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    exit(&target, ExitReason::error("gone"));
    let (monitor, message) = got.await.unwrap();
    match message {
        Message::Down {
            monitor: fired,
            pid,
            reason,
        } => {
            assert_eq!(fired, monitor);
            assert_eq!(pid, target);
            assert_eq!(reason, ExitReason::error("gone"));
        }
        other => panic!("expected down, got {other:?}"),
    }
}

#[tokio::test]
async fn monitors_are_one_way_and_fire_on_a_normal_exit_too() {
    let (sender, got) = oneshot::channel();
    let (release, wait) = oneshot::channel::<()>();
    let target = spawn(move |_: Context<()>| async move {
        let _ = wait.await;
        ExitReason::Normal
    });
    let t = target.clone();
    let watcher = spawn(move |mut ctx: Context<()>| async move {
        ctx.monitor(&t);
        release.send(()).unwrap();
        if let Message::Down { reason, .. } = ctx.recv().await {
            sender.send(reason).unwrap();
        }
        ctx.recv().await;
        ExitReason::Normal
    });
    assert_eq!(got.await.unwrap(), ExitReason::Normal);
    assert!(watcher.is_alive(), "a monitor never kills the watcher");
}

#[tokio::test]
async fn monitoring_a_dead_process_fires_at_once_with_noproc() {
    let dead = spawn(|_: Context<()>| async { ExitReason::Normal });
    exited(&dead).await;
    let (sender, got) = oneshot::channel();
    spawn(move |mut ctx: Context<()>| async move {
        ctx.monitor(&dead);
        sender.send(ctx.recv().await).unwrap();
        ExitReason::Normal
    });
    match got.await.unwrap() {
        Message::Down { reason, .. } => assert_eq!(reason, ExitReason::NoProc),
        other => panic!("expected down, got {other:?}"),
    }
}

#[tokio::test]
async fn demonitor_stops_the_monitor_and_flushes_a_delivered_down() {
    let target = idle();
    let (sender, got) = oneshot::channel();
    let t = target.clone();
    spawn(move |mut ctx: Context<()>| async move {
        let first = ctx.monitor(&t);
        let second = ctx.monitor(&t);
        assert!(ctx.demonitor(&first));
        exit(&t, ExitReason::Shutdown);
        t.exited().await;
        // The second monitor's Down is in the mailbox; demonitor flushes it.
        assert!(!ctx.demonitor(&second));
        sender
            .send(ctx.recv_timeout(Duration::from_millis(20)).await.is_none())
            .unwrap();
        ExitReason::Normal
    });
    assert!(got.await.unwrap(), "no Down message remains");
}

#[tokio::test]
async fn pids_display_like_elixir() {
    let pid = idle();
    assert_eq!(format!("{pid}"), format!("#PID<0.{}.0>", pid.id()));
}
