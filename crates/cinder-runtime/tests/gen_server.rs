//! The GenServer contract: call, cast, info, stop, terminate, and failures,
//! as Elixir's `GenServer` documents them.

mod common;

use std::time::Duration;

use cinder_runtime::gen_server::{
    self, CallError, CallResult, Flow, GenServer, Server, ServerContext, StartError, StartOptions,
};
use cinder_runtime::process::Spawn;
use cinder_runtime::{exit, registry, spawn, Context, ExitReason, Message};
use common::{Log, Worker, WorkerCall, WorkerCast, PATIENCE};
use tokio::sync::oneshot;

struct Stack {
    items: Vec<i64>,
    log: Log,
}

enum Call {
    Pop,
    Sleep(Duration),
    Later,
    Crash,
    Reentrant,
    StopWith(ExitReason),
}

enum Cast {
    Push(i64),
}

enum Info {
    Push(i64),
}

impl GenServer for Stack {
    type Args = (Vec<i64>, Log);
    type Call = Call;
    type Reply = Option<i64>;
    type Cast = Cast;
    type Info = Info;

    async fn init(
        (items, log): (Vec<i64>, Log),
        _ctx: &mut ServerContext<Self>,
    ) -> Result<Self, ExitReason> {
        if items.contains(&-1) {
            return Err(ExitReason::error("negative stacks are not allowed"));
        }
        Ok(Stack { items, log })
    }

    async fn handle_call(
        &mut self,
        call: Call,
        ctx: &mut ServerContext<Self>,
    ) -> CallResult<Option<i64>> {
        match call {
            Call::Pop => CallResult::Reply(self.items.pop()),
            Call::Sleep(time) => {
                tokio::time::sleep(time).await;
                CallResult::Reply(None)
            }
            Call::Later => {
                let reply_to = ctx.defer_reply().expect("inside handle_call");
                let value = self.items.last().copied();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    reply_to.reply(value);
                });
                CallResult::NoReply
            }
            Call::Crash => panic!("the stack fell over"),
            Call::Reentrant => {
                let error = ctx.server().call(Call::Pop).await.unwrap_err();
                self.log.push(error.to_string());
                CallResult::Reply(None)
            }
            Call::StopWith(reason) => CallResult::Stop {
                reason,
                reply: Some(self.items.last().copied()),
            },
        }
    }

    async fn handle_cast(&mut self, Cast::Push(n): Cast, _ctx: &mut ServerContext<Self>) -> Flow {
        self.items.push(n);
        Flow::Continue
    }

    async fn handle_info(
        &mut self,
        message: Message<Info>,
        _ctx: &mut ServerContext<Self>,
    ) -> Flow {
        match message {
            Message::User(Info::Push(n)) => self.items.push(n),
            Message::Exit { reason, .. } => self.log.push(format!("exit {reason}")),
            Message::Down { reason, .. } => self.log.push(format!("down {reason}")),
        }
        Flow::Continue
    }

    async fn terminate(&mut self, reason: &ExitReason, _ctx: &mut ServerContext<Self>) {
        self.log.push(format!("terminate {reason}"));
    }
}

async fn stack(items: &[i64]) -> (Server<Stack>, Log) {
    let log = Log::default();
    let server = gen_server::start::<Stack>((items.to_vec(), log.clone()))
        .await
        .unwrap();
    (server, log)
}

#[tokio::test]
async fn call_cast_and_info_reach_their_callbacks_in_order() {
    let (server, _log) = stack(&[1]).await;
    server.cast(Cast::Push(2)).unwrap();
    server.send(Info::Push(3)).unwrap();
    assert_eq!(server.call(Call::Pop).await, Ok(Some(3)));
    assert_eq!(server.call(Call::Pop).await, Ok(Some(2)));
    assert_eq!(server.call(Call::Pop).await, Ok(Some(1)));
    assert_eq!(server.call(Call::Pop).await, Ok(None));
}

#[tokio::test]
async fn a_call_times_out_when_the_server_is_slow() {
    let (server, _log) = stack(&[]).await;
    let result = server
        .call_timeout(
            Call::Sleep(Duration::from_secs(5)),
            Duration::from_millis(20),
        )
        .await;
    assert_eq!(result, Err(CallError::Timeout));
}

#[tokio::test]
async fn a_deferred_reply_reaches_the_caller() {
    let (server, _log) = stack(&[9]).await;
    assert_eq!(server.call(Call::Later).await, Ok(Some(9)));
}

#[tokio::test]
async fn a_panic_in_a_callback_runs_terminate_and_the_caller_learns_why() {
    let (server, log) = stack(&[]).await;
    let result = server.call(Call::Crash).await;
    assert_eq!(
        result,
        Err(CallError::Exited(ExitReason::Panic(
            "the stack fell over".into()
        )))
    );
    assert_eq!(log.take(), vec!["terminate panic: the stack fell over"]);
    assert_eq!(server.call(Call::Pop).await, Err(CallError::NoProc));
}

#[tokio::test]
async fn stop_with_a_reply_replies_then_terminates() {
    let (server, log) = stack(&[4]).await;
    let exited = server.pid().exited();
    assert_eq!(
        server
            .call(Call::StopWith(ExitReason::shutdown_with("bye")))
            .await,
        Ok(Some(4))
    );
    assert_eq!(exited.await, ExitReason::shutdown_with("bye"));
    assert_eq!(log.take(), vec!["terminate {shutdown, bye}"]);
}

#[tokio::test]
async fn server_stop_runs_terminate_and_returns_the_reason() {
    let (server, log) = stack(&[]).await;
    assert_eq!(server.stop(ExitReason::Normal).await, ExitReason::Normal);
    assert_eq!(log.take(), vec!["terminate normal"]);
}

#[tokio::test]
async fn a_server_calling_itself_gets_an_error_instead_of_a_deadlock() {
    let (server, log) = stack(&[]).await;
    assert_eq!(server.call(Call::Reentrant).await, Ok(None));
    assert_eq!(
        log.take(),
        vec!["a server cannot call itself: it would wait for its own reply forever"]
    );
}

#[tokio::test]
async fn init_failure_is_returned_and_the_process_is_gone() {
    let result = gen_server::start::<Stack>((vec![-1], Log::default())).await;
    assert_eq!(
        result.unwrap_err(),
        StartError::Init(ExitReason::error("negative stacks are not allowed"))
    );
}

#[tokio::test]
async fn start_link_outside_a_process_says_what_to_do() {
    let error = gen_server::start_link::<Stack>((vec![], Log::default()))
        .await
        .unwrap_err();
    assert_eq!(error, StartError::NoCaller);
    assert!(error.to_string().contains("use start"));
}

#[tokio::test]
async fn a_failed_start_link_does_not_kill_the_caller() {
    let (sender, result) = oneshot::channel();
    let caller = spawn(move |_: Context<()>| async move {
        let outcome = gen_server::start_link::<Stack>((vec![-1], Log::default())).await;
        sender.send(outcome.is_err()).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        ExitReason::Normal
    });
    assert!(result.await.unwrap());
    assert_eq!(caller.exited().await, ExitReason::Normal);
}

#[tokio::test]
async fn a_trapped_exit_from_the_parent_stops_the_server_through_terminate() {
    let log = Log::default();
    let (sender, started) = oneshot::channel();
    let worker_log = log.clone();
    let parent = spawn(move |mut ctx: Context<()>| async move {
        let worker = gen_server::start_link::<Worker>(("w".into(), worker_log))
            .await
            .unwrap();
        sender.send(worker).unwrap();
        ctx.recv().await;
        ExitReason::shutdown_with("parent done")
    });
    let worker = started.await.unwrap();
    parent.send(()).unwrap();
    assert_eq!(
        worker.pid().exited().await,
        ExitReason::shutdown_with("parent done")
    );
    assert_eq!(log.take(), vec!["start w", "stop w"]);
}

#[tokio::test]
async fn an_exit_from_a_linked_process_kills_a_server_that_does_not_trap() {
    let (server, log) = stack(&[]).await;
    let pid = server.pid().clone();
    let (sender, linked) = oneshot::channel();
    let neighbour = Spawn::new().spawn(move |mut ctx: Context<()>| async move {
        ctx.link(&pid);
        sender.send(()).unwrap();
        ctx.recv().await;
        ExitReason::error("neighbour failed")
    });
    linked.await.unwrap();
    // The stack does not trap exits, so the neighbour's crash takes it down.
    neighbour.send(()).unwrap();
    assert_eq!(
        server.pid().exited().await,
        ExitReason::error("neighbour failed")
    );
    assert!(
        log.take().is_empty(),
        "terminate does not run on an untrapped exit"
    );
}

#[tokio::test]
async fn a_trapping_server_survives_a_linked_crash_and_sees_it_in_handle_info() {
    let log = Log::default();
    let worker = gen_server::start::<Worker>(("trapper".into(), log.clone()))
        .await
        .unwrap();
    let pid = worker.pid().clone();
    let neighbour = Spawn::new()
        .link(&pid)
        .spawn(|_: Context<()>| async { ExitReason::error("neighbour failed") });
    neighbour.exited().await;
    assert_eq!(worker.call(WorkerCall::Ping).await, Ok("pong"));
    assert_eq!(log.take(), vec!["start trapper"]);
}

#[tokio::test]
async fn a_cast_the_server_does_not_handle_stops_it_with_a_clear_reason() {
    struct CallsOnly;
    impl GenServer for CallsOnly {
        type Args = ();
        type Call = ();
        type Reply = ();
        type Cast = ();
        type Info = ();
        async fn init((): (), _ctx: &mut ServerContext<Self>) -> Result<Self, ExitReason> {
            Ok(CallsOnly)
        }
    }
    let server = gen_server::start::<CallsOnly>(()).await.unwrap();
    server.cast(()).unwrap();
    let reason = tokio::time::timeout(PATIENCE, server.pid().exited())
        .await
        .unwrap();
    assert!(
        reason
            .to_string()
            .contains("does not implement handle_cast"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_named_server_is_found_by_name_and_the_name_is_unique() {
    let options = StartOptions::new().name("gen-server-test-stack");
    let server = gen_server::start_with::<Stack>((vec![7], Log::default()), options.clone())
        .await
        .unwrap();
    assert_eq!(
        registry::whereis("gen-server-test-stack"),
        Some(server.pid().clone())
    );
    let second = gen_server::start_with::<Stack>((vec![], Log::default()), options).await;
    assert_eq!(
        second.unwrap_err(),
        StartError::AlreadyRegistered(server.pid().clone())
    );

    let found =
        Server::<Stack>::from_pid(&registry::whereis("gen-server-test-stack").unwrap()).unwrap();
    assert_eq!(found.call(Call::Pop).await, Ok(Some(7)));
    assert!(Server::<Worker>::from_pid(server.pid()).is_none());

    exit(server.pid(), ExitReason::Kill);
    server.pid().exited().await;
    assert_eq!(registry::whereis("gen-server-test-stack"), None);
}

#[tokio::test]
async fn timers_from_the_context_reach_handle_info() {
    struct Ticker {
        ticks: u32,
        done: Option<oneshot::Sender<u32>>,
    }
    impl GenServer for Ticker {
        type Args = oneshot::Sender<u32>;
        type Call = ();
        type Reply = ();
        type Cast = ();
        type Info = &'static str;
        async fn init(
            done: oneshot::Sender<u32>,
            ctx: &mut ServerContext<Self>,
        ) -> Result<Self, ExitReason> {
            ctx.send_interval("tick", Duration::from_millis(2));
            ctx.send_after("cancelled", Duration::from_secs(60))
                .cancel();
            Ok(Ticker {
                ticks: 0,
                done: Some(done),
            })
        }
        async fn handle_info(
            &mut self,
            message: Message<&'static str>,
            _ctx: &mut ServerContext<Self>,
        ) -> Flow {
            if let Message::User("tick") = message {
                self.ticks += 1;
            }
            if self.ticks == 3 {
                if let Some(done) = self.done.take() {
                    done.send(self.ticks).unwrap();
                }
            }
            Flow::Continue
        }
    }
    let (done, ticks) = oneshot::channel();
    let _server = gen_server::start::<Ticker>(done).await.unwrap();
    assert_eq!(tokio::time::timeout(PATIENCE, ticks).await.unwrap(), Ok(3));
}

#[tokio::test]
async fn worker_helper_answers_and_crashes_on_request() {
    let log = Log::default();
    let worker = gen_server::start::<Worker>(("solo".into(), log.clone()))
        .await
        .unwrap();
    assert_eq!(worker.call(WorkerCall::Ping).await, Ok("pong"));
    worker.cast(WorkerCast::Panic).unwrap();
    assert_eq!(
        worker.pid().exited().await,
        ExitReason::Panic("solo was asked to crash".into())
    );
    assert_eq!(log.take(), vec!["start solo", "stop solo"]);
}
