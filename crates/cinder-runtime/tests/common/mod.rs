//! Helpers shared by the runtime's integration tests.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cinder_runtime::gen_server::{CallResult, Flow, GenServer, ServerContext};
use cinder_runtime::supervisor::ChildSpec;
use cinder_runtime::{ExitReason, Message, Pid};

/// A generous bound for things that should happen promptly; never a measurement.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// An ordered log of what test processes did.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, line: impl Into<String>) {
        self.0.lock().unwrap().push(line.into());
    }
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A worker that logs `start <name>` in init and `stop <name>` in
/// terminate, traps exits so that terminate runs on shutdown, and crashes
/// on request.
pub struct Worker {
    name: String,
    log: Log,
}

pub enum WorkerCall {
    Ping,
}

pub enum WorkerCast {
    Panic,
    Exit(ExitReason),
}

impl GenServer for Worker {
    type Args = (String, Log);
    type Call = WorkerCall;
    type Reply = &'static str;
    type Cast = WorkerCast;
    type Info = ();

    async fn init(
        (name, log): (String, Log),
        ctx: &mut ServerContext<Self>,
    ) -> Result<Self, ExitReason> {
        ctx.trap_exit(true);
        log.push(format!("start {name}"));
        Ok(Worker { name, log })
    }

    async fn handle_call(
        &mut self,
        WorkerCall::Ping: WorkerCall,
        _ctx: &mut ServerContext<Self>,
    ) -> CallResult<&'static str> {
        CallResult::Reply("pong")
    }

    async fn handle_cast(&mut self, cast: WorkerCast, _ctx: &mut ServerContext<Self>) -> Flow {
        match cast {
            WorkerCast::Panic => panic!("{} was asked to crash", self.name),
            WorkerCast::Exit(reason) => Flow::Stop(reason),
        }
    }

    async fn handle_info(&mut self, _message: Message<()>, _ctx: &mut ServerContext<Self>) -> Flow {
        Flow::Continue
    }

    async fn terminate(&mut self, _reason: &ExitReason, _ctx: &mut ServerContext<Self>) {
        self.log.push(format!("stop {}", self.name));
    }
}

pub fn worker(name: &str, log: &Log) -> ChildSpec {
    ChildSpec::gen_server::<Worker>(name, (name.to_string(), log.clone()))
}

/// Makes a [`Worker`] panic and waits until it has exited.
pub async fn crash(pid: &Pid) {
    let exited = pid.exited();
    let worker = cinder_runtime::gen_server::Server::<Worker>::from_pid(pid).expect("a Worker");
    worker.cast(WorkerCast::Panic).expect("the worker is alive");
    tokio::time::timeout(PATIENCE, exited)
        .await
        .expect("the worker exits");
}

/// Sends an abnormal exit signal to a process that does not trap exits and
/// waits until it has exited.
pub async fn kill_with_error(pid: &Pid) {
    let exited = pid.exited();
    cinder_runtime::exit(pid, ExitReason::error("killed by the test"));
    tokio::time::timeout(PATIENCE, exited)
        .await
        .expect("the process exits");
}

/// A small deterministic generator for randomized tests (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The seed for a randomized test: `CINDER_SEED` if set, else the clock.
/// Printed so a failure can be replayed.
pub fn seed() -> u64 {
    let seed = std::env::var("CINDER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("seed: CINDER_SEED={seed}");
    seed
}
