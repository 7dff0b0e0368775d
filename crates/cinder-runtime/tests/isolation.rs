//! Panic isolation at scale: 10,000 processes, a random half of them panic.
//! Every survivor still answers `call`; supervised ones were restarted
//! exactly as their specs say, and nothing else noticed.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cinder_runtime::gen_server::{self, CallResult, Flow, GenServer, Server, ServerContext};
use cinder_runtime::supervisor::{ChildSpec, Restart, Strategy, Supervisor, SupervisorSpec};
use cinder_runtime::ExitReason;
use common::Rng;

/// Counts how many times each server was initialised, to check restarts.
struct Member {
    id: usize,
}

enum Cast {
    Panic,
}

impl GenServer for Member {
    type Args = (usize, Arc<Vec<AtomicUsize>>);
    type Call = ();
    type Reply = usize;
    type Cast = Cast;
    type Info = ();

    async fn init(
        (id, starts): Self::Args,
        _ctx: &mut ServerContext<Self>,
    ) -> Result<Self, ExitReason> {
        starts[id].fetch_add(1, Ordering::SeqCst);
        Ok(Member { id })
    }

    async fn handle_call(&mut self, (): (), _ctx: &mut ServerContext<Self>) -> CallResult<usize> {
        CallResult::Reply(self.id)
    }

    async fn handle_cast(&mut self, Cast::Panic: Cast, _ctx: &mut ServerContext<Self>) -> Flow {
        panic!("member {} panics on purpose", self.id)
    }
}

const PROCESSES: usize = 10_000;
const SUPERVISORS: usize = 50;
const UNSUPERVISED: usize = 2_500;

fn restart_of(id: usize) -> Restart {
    [Restart::Permanent, Restart::Transient, Restart::Temporary][id % 3]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_of_ten_thousand_processes_panic_and_nothing_else_notices() {
    // Thousands of expected panics would bury the test output.
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng::new(common::seed());
    let starts: Arc<Vec<AtomicUsize>> =
        Arc::new((0..PROCESSES).map(|_| AtomicUsize::new(0)).collect());

    // 2,500 plain servers, then 7,500 under 50 supervisors of 150 children.
    let mut servers: Vec<Option<Server<Member>>> = Vec::with_capacity(PROCESSES);
    for id in 0..UNSUPERVISED {
        servers.push(Some(
            gen_server::start::<Member>((id, starts.clone()))
                .await
                .unwrap(),
        ));
    }
    let per_supervisor = (PROCESSES - UNSUPERVISED) / SUPERVISORS;
    let mut supervisors = Vec::new();
    for s in 0..SUPERVISORS {
        let first = UNSUPERVISED + s * per_supervisor;
        let children = (first..first + per_supervisor).map(|id| {
            ChildSpec::gen_server::<Member>(id.to_string(), (id, starts.clone()))
                .restart(restart_of(id))
        });
        let spec = SupervisorSpec::new(Strategy::OneForOne)
            .max_restarts(per_supervisor as u32)
            .children(children);
        supervisors.push(Supervisor::start(spec).await.unwrap());
    }

    let doomed: Vec<bool> = (0..PROCESSES).map(|_| rng.chance(50)).collect();
    let mut exits = Vec::new();
    for (id, _) in doomed.iter().enumerate().filter(|(_, doomed)| **doomed) {
        let server = current_server(&servers, &supervisors, id, per_supervisor).await;
        exits.push(server.pid().exited());
        server.cast(Cast::Panic).unwrap();
    }
    for exited in exits {
        assert!(matches!(exited.await, ExitReason::Panic(_)));
    }
    // From here on a panic is a test failure and should be shown.
    drop(std::panic::take_hook());
    // A call is handled after the exit signals already queued before it,
    // so once each supervisor answers, its restarts are done.
    for supervisor in &supervisors {
        supervisor.count_children().await.unwrap();
    }
    // Unsupervised panicked servers are gone for good.
    for (id, slot) in servers.iter_mut().enumerate() {
        if doomed[id] {
            assert!(!slot.take().unwrap().pid().is_alive());
        }
    }

    let mut answered = 0;
    for id in 0..PROCESSES {
        let supervised = id >= UNSUPERVISED;
        let expected_starts = match (supervised, doomed[id], restart_of(id)) {
            (true, true, Restart::Permanent | Restart::Transient) => 2,
            _ => 1,
        };
        assert_eq!(
            starts[id].load(Ordering::SeqCst),
            expected_starts,
            "member {id}"
        );
        let alive = !doomed[id] || (supervised && restart_of(id) != Restart::Temporary);
        if alive {
            let server = current_server(&servers, &supervisors, id, per_supervisor).await;
            assert_eq!(server.call(()).await, Ok(id));
            answered += 1;
        }
    }
    let survivors = doomed.iter().filter(|d| !**d).count();
    assert!(answered >= survivors);
    for supervisor in &supervisors {
        assert!(supervisor.pid().is_alive());
        supervisor.stop().await;
    }
}

async fn current_server(
    servers: &[Option<Server<Member>>],
    supervisors: &[Supervisor],
    id: usize,
    per_supervisor: usize,
) -> Server<Member> {
    if id < UNSUPERVISED {
        return servers[id].clone().expect("alive");
    }
    let supervisor = &supervisors[(id - UNSUPERVISED) / per_supervisor];
    let children = supervisor.which_children().await.unwrap();
    let child = children
        .iter()
        .find(|c| *c.id == *id.to_string())
        .expect("child present");
    Server::from_pid(child.pid.as_ref().expect("running")).expect("a Member")
}
