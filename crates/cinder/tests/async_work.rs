//! Background work of a view: `assign_async` and `start_async` results
//! arrive as pushed diffs, a panic becomes a failed state, cancelling and
//! the view's exit stop the work.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cinder::live::{
    AsyncError, AsyncValue, Config, Event, LiveRouter, LiveView, MountError, Params, Session,
    Socket,
};
use cinder::{html, Rendered};
use cinder_runtime::{ExitReason, Pid};
use common::{connect, get, join_at, recv, send, serve};
use serde_json::json;

/// Set when the endless task of a `Report` is dropped (its process died),
/// beside that task's pid.
#[derive(Clone, Default)]
struct Stopped(Arc<AtomicBool>, Arc<Mutex<Option<Pid>>>);

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

struct Report {
    total: AsyncValue<u32>,
    status: String,
}

impl LiveView for Report {
    type Info = ();

    async fn mount(_: &Params, _: &Session, socket: &mut Socket<Self>) -> Result<Self, MountError> {
        socket.assign_async("total", |view: &mut Report| &mut view.total, async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            42
        });
        Ok(Report {
            total: AsyncValue::Loading,
            status: "idle".into(),
        })
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        match event.name() {
            "explode" => socket.assign_async("total", |view: &mut Report| &mut view.total, async {
                if true {
                    panic!("the query failed");
                }
                0
            }),
            "endless" => {
                let stopped = socket.state::<Stopped>().expect("state").clone();
                socket.start_async(
                    "endless",
                    async move {
                        *stopped.1.lock().unwrap() = cinder_runtime::current();
                        let _guard = DropFlag(stopped.0);
                        std::future::pending::<()>().await;
                    },
                    |view: &mut Report, result, _| {
                        view.status = match result {
                            Ok(()) => "done".into(),
                            Err(AsyncError::Cancelled) => "cancelled".into(),
                            Err(other) => other.to_string(),
                        }
                    },
                );
                self.status = "running".into();
            }
            "cancel" => socket.cancel_async("endless"),
            _ => {}
        }
    }

    fn render(&self) -> Rendered {
        let total = match &self.total {
            AsyncValue::Loading => "loading".to_string(),
            AsyncValue::Ok(total) => total.to_string(),
            AsyncValue::Failed(error) => format!("failed: {error}"),
        };
        html! { <p>{total} {&self.status}</p> }
    }
}

async fn joined() -> (common::App, common::Client, String, Stopped) {
    let stopped = Stopped::default();
    let router = LiveRouter::new(Config::new([5u8; 32]).unwrap())
        .state(stopped.clone())
        .live::<Report>("/report")
        .into_router();
    let app = serve(router).await;
    let page = get(&app, "/report").await;
    assert!(page.html.contains("<p>loading idle</p>"), "{}", page.html);
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let joined = join_at(&mut client, &page, "http://localhost/report").await;
    assert_eq!(
        joined[4]["response"]["rendered"]["0"], "loading",
        "{joined}"
    );
    let topic = format!("lv:{}", page.id);
    (app, client, topic, stopped)
}

#[tokio::test]
async fn assign_async_pushes_the_value_when_it_is_ready() {
    let (_app, mut client, topic, _) = joined().await;
    assert_eq!(
        recv(&mut client).await,
        json!(["4", null, topic, "diff", {"0": "42"}])
    );
}

#[tokio::test]
async fn a_panicking_task_becomes_a_failed_value_and_the_view_lives_on() {
    let (_app, mut client, topic, _) = joined().await;
    recv(&mut client).await;
    click(&mut client, &topic, "explode").await;
    assert_eq!(recv(&mut client).await[4]["response"], json!({}));
    let pushed = recv(&mut client).await;
    assert_eq!(
        pushed,
        json!(["4", null, topic, "diff", {"0": "failed: the work panicked: the query failed"}])
    );
    click(&mut client, &topic, "endless").await;
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"diff": {"1": "running"}})
    );
}

#[tokio::test]
async fn cancelling_stops_the_task_and_reports_it() {
    let (_app, mut client, topic, stopped) = joined().await;
    recv(&mut client).await;
    click(&mut client, &topic, "endless").await;
    recv(&mut client).await;
    click(&mut client, &topic, "cancel").await;
    assert_eq!(recv(&mut client).await[4]["response"], json!({}));
    assert_eq!(
        recv(&mut client).await,
        json!(["4", null, topic, "diff", {"1": "cancelled"}])
    );
    wait_for(&stopped).await;
    // An expected end, which its supervisor does not report as a failure.
    assert_eq!(ended(&stopped).await, ExitReason::shutdown_with("cancel"));
}

#[tokio::test]
async fn the_views_exit_stops_its_tasks() {
    let (_app, mut client, topic, stopped) = joined().await;
    recv(&mut client).await;
    click(&mut client, &topic, "endless").await;
    recv(&mut client).await;
    assert!(!stopped.0.load(Ordering::SeqCst));
    send(&mut client, json!(["4", "7", topic, "phx_leave", {}])).await;
    wait_for(&stopped).await;
    assert_eq!(ended(&stopped).await, ExitReason::Shutdown);
}

/// Sends a click on the event `name` to the view.
async fn click(client: &mut common::Client, topic: &str, name: &str) {
    send(
        client,
        json!(["4", "5", topic, "event", {"type": "click", "event": name, "value": {}}]),
    )
    .await;
}

async fn wait_for(stopped: &Stopped) {
    for _ in 0..500 {
        if stopped.0.load(Ordering::SeqCst) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the task was not stopped within 5 s");
}

/// How the endless task's process ended.
async fn ended(stopped: &Stopped) -> ExitReason {
    let pid = stopped.1.lock().unwrap().clone().expect("the task ran");
    tokio::time::timeout(Duration::from_secs(5), pid.exited())
        .await
        .expect("the task's process ended within 5 s")
}
