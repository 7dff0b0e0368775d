//! Randomized restart intensity: a supervisor must give up exactly when
//! OTP's rule says so (more than `max_restarts` restarts within
//! `max_seconds`), checked against a model of that rule on random crash
//! schedules, with tokio's clock paused so time is exact.

mod common;

use std::collections::VecDeque;
use std::time::Duration;

use cinder_runtime::supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
use cinder_runtime::{Context, Pid};
use common::{kill_with_error, Rng};

/// OTP's rule, written independently of the runtime's own code.
struct Model {
    max_restarts: usize,
    period_ms: u64,
    restarts: VecDeque<u64>,
}

impl Model {
    /// Returns whether the supervisor survives a crash at `now_ms`.
    fn crash(&mut self, now_ms: u64) -> bool {
        self.restarts.retain(|&at| now_ms - at <= self.period_ms);
        self.restarts.push_back(now_ms);
        self.restarts.len() <= self.max_restarts
    }
}

async fn the_child(supervisor: &Supervisor) -> Pid {
    supervisor.which_children().await.unwrap()[0]
        .pid
        .clone()
        .expect("running")
}

async fn run_case(rng: &mut Rng) -> usize {
    let max_restarts = rng.below(5) as u32;
    let period_ms = 1_000 * (1 + rng.below(6));
    let strategy = [
        Strategy::OneForOne,
        Strategy::OneForAll,
        Strategy::RestForOne,
    ][rng.below(3) as usize];
    let idle = |mut ctx: Context<()>| async move {
        loop {
            ctx.recv().await;
        }
    };
    let spec = SupervisorSpec::new(strategy)
        .max_restarts(max_restarts)
        .max_seconds(Duration::from_millis(period_ms))
        .child(ChildSpec::process("only", idle));
    let supervisor = Supervisor::start(spec).await.unwrap();
    let mut model = Model {
        max_restarts: max_restarts as usize,
        period_ms,
        restarts: VecDeque::new(),
    };
    let mut now_ms = 0;
    for crash in 0..12 {
        let gap = rng.below(period_ms * 3 / 4);
        tokio::time::advance(Duration::from_millis(gap)).await;
        now_ms += gap;
        let survives = model.crash(now_ms);
        let exited = supervisor.pid().exited();
        kill_with_error(&the_child(&supervisor).await).await;
        if survives {
            assert!(
                supervisor.which_children().await.is_ok(),
                "crash {crash} at {now_ms} ms: max {max_restarts} in {period_ms} ms should survive"
            );
        } else {
            let reason = tokio::time::timeout(common::PATIENCE, exited).await;
            assert_eq!(
                reason.ok(),
                Some(cinder_runtime::ExitReason::Shutdown),
                "crash {crash} at {now_ms} ms: max {max_restarts} in {period_ms} ms should give up"
            );
            return crash + 1;
        }
    }
    supervisor.stop().await;
    12
}

#[tokio::test(start_paused = true)]
async fn supervisors_give_up_exactly_when_the_restart_intensity_is_exceeded() {
    let mut rng = Rng::new(common::seed());
    let mut crashes = 0;
    for _ in 0..200 {
        crashes += run_case(&mut rng).await;
    }
    assert!(crashes >= 200, "every case crashed its child at least once");
}
