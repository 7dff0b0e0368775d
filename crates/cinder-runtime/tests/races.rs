//! Links and monitors racing exits on a multi-threaded runtime. Whatever the
//! interleaving, Erlang's guarantees must hold: each monitor fires exactly
//! once (with `noproc` if the target was already gone) and each link to a
//! process that dies delivers exactly one exit signal to a trapping process.

mod common;

use std::time::Duration;

use cinder_runtime::process::Spawn;
use cinder_runtime::{exit, spawn, Context, ExitReason, Message, Pid};
use common::{Rng, PATIENCE};
use tokio::sync::oneshot;

const TARGETS: usize = 200;
const OBSERVERS: usize = 100;
const ACTIONS: usize = 8;

/// What an observer did and what it then received.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    links: usize,
    monitors: usize,
    exits: usize,
    downs: usize,
}

fn target() -> Pid {
    spawn(|mut ctx: Context<()>| async move {
        loop {
            ctx.recv().await;
        }
    })
}

/// Links to and monitors random targets while they are being killed, then
/// counts signals until every target is dead and reports its tally.
fn observer(targets: Vec<Pid>, seed: u64, report: oneshot::Sender<Tally>) -> Pid {
    Spawn::new()
        .trap_exit(true)
        .spawn(move |mut ctx: Context<()>| async move {
            let mut rng = Rng::new(seed);
            let mut tally = Tally::default();
            // Each target is linked at most once: a second link to a live
            // process adds nothing, while one to a dead process delivers
            // another `noproc`, which would make the count depend on timing.
            let mut linked = std::collections::HashSet::new();
            for _ in 0..ACTIONS {
                let target = &targets[rng.below(TARGETS as u64) as usize];
                if rng.chance(50) && linked.insert(target.id()) {
                    ctx.link(target);
                    tally.links += 1;
                } else {
                    ctx.monitor(target);
                    tally.monitors += 1;
                }
                tokio::task::yield_now().await;
            }
            while tally.exits < tally.links || tally.downs < tally.monitors {
                match ctx.recv_timeout(PATIENCE).await {
                    Some(Message::Exit { .. }) => tally.exits += 1,
                    Some(Message::Down { .. }) => tally.downs += 1,
                    Some(Message::User(())) => {}
                    None => break,
                }
            }
            // Anything more would be a duplicate.
            while let Some(message) = ctx.recv_timeout(Duration::from_millis(20)).await {
                match message {
                    Message::Exit { .. } => tally.exits += 1,
                    Message::Down { .. } => tally.downs += 1,
                    Message::User(()) => {}
                }
            }
            let _ = report.send(tally);
            ExitReason::Normal
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_link_and_monitor_yields_exactly_one_signal_whatever_the_interleaving() {
    let mut rng = Rng::new(common::seed());
    for round in 0..10 {
        let targets: Vec<Pid> = (0..TARGETS).map(|_| target()).collect();
        let mut reports = Vec::new();
        for _ in 0..OBSERVERS {
            let (report, tally) = oneshot::channel();
            observer(targets.clone(), rng.next(), report);
            reports.push(tally);
        }
        // Kill targets while the observers link and monitor them, with
        // reasons that do and do not propagate.
        for (index, target) in targets.iter().enumerate() {
            let reason = match index % 3 {
                0 => ExitReason::Kill,
                1 => ExitReason::error("raced"),
                _ => ExitReason::Shutdown,
            };
            exit(target, reason);
            if index % 16 == 0 {
                tokio::task::yield_now().await;
            }
        }
        for tally in reports {
            // Generous: under heavy load a signal may take a while, and a
            // lost one still fails the count below.
            let tally = tokio::time::timeout(PATIENCE * 3, tally)
                .await
                .expect("observer reports")
                .expect("observer alive");
            assert_eq!(tally.exits, tally.links, "round {round}: {tally:?}");
            assert_eq!(tally.downs, tally.monitors, "round {round}: {tally:?}");
        }
    }
}

/// An exit signal sent from another thread just as a process is first polled
/// must still end it: the driver registers its waker and then reads the
/// fatal flag, while the sender raises the flag and then reads the waker, so
/// one of the two must see the other's write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exit_signal_racing_a_process_start_always_ends_it() {
    const ROUNDS: usize = 20_000;
    // The killer is a thread of its own, so exits land while the workers
    // poll the new processes.
    let (doom, doomed) = std::sync::mpsc::channel::<Pid>();
    let killer = std::thread::spawn(move || {
        for target in doomed {
            exit(&target, ExitReason::Shutdown);
        }
    });
    let mut exits = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let pid = target();
        exits.push(pid.exited());
        doom.send(pid).expect("the killer runs");
        if round % 8 == 0 {
            tokio::task::yield_now().await;
        }
    }
    drop(doom);
    killer.join().expect("the killer ends");
    for (index, exited) in exits.into_iter().enumerate() {
        let reason = tokio::time::timeout(PATIENCE, exited)
            .await
            .unwrap_or_else(|_| panic!("process {index} outlived its exit signal"));
        assert_eq!(reason, ExitReason::Shutdown);
    }
}
