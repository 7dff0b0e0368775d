//! The socket protocol end to end: an axum server on loopback, a WebSocket
//! client speaking the frames of the official Phoenix client, and an echo
//! channel.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use cinder::socket::serializer::{Payload, ReplyStatus};
use cinder::socket::{
    serve, ChannelMessage, ChannelRouter, JoinFuture, JoinRefused, JoinRequest, Joined, Outbox,
    SocketConfig,
};
use cinder_runtime::{spawn, Context, ExitReason, Message, Pid, Recipient};
use common::{recv, send, Client, PATIENCE};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as Frame;

/// Joins `echo:*` topics; remembers every channel it started.
#[derive(Default)]
struct EchoRouter {
    started: Mutex<Vec<Pid>>,
}

impl ChannelRouter for EchoRouter {
    type Connect = ();

    fn join(&self, request: JoinRequest<()>) -> JoinFuture<'_> {
        Box::pin(async move {
            if request.topic == "echo:refuse" {
                return Err(JoinRefused::reason("unauthorized"));
            }
            if !request.topic.starts_with("echo:") {
                return Err(JoinRefused::reason("unmatched topic"));
            }
            let outbox = request.outbox;
            let pid = spawn(move |ctx: Context<ChannelMessage>| echo_channel(ctx, outbox));
            self.started.lock().unwrap().push(pid.clone());
            let response = json!({"joined": request.topic, "payload": serde_json::from_str::<Value>(request.payload.get()).unwrap()});
            Ok(Joined {
                inbox: Recipient::new(&pid).unwrap(),
                response: response.to_string(),
            })
        })
    }
}

async fn echo_channel(mut ctx: Context<ChannelMessage>, outbox: Outbox) -> ExitReason {
    loop {
        match ctx.recv().await {
            Message::User(ChannelMessage::Event(inbound)) => {
                let payload = match &inbound.payload {
                    Payload::Json(json) => json.get().to_string(),
                    Payload::Binary(bytes) => json!({"bytes": bytes.len()}).to_string(),
                };
                match inbound.event.as_str() {
                    "ping" => {
                        outbox.reply(inbound.msg_ref.as_deref(), ReplyStatus::Ok, &payload);
                    }
                    "push" => {
                        outbox.push("pushed", &payload);
                    }
                    "crash" => panic!("asked to crash"),
                    "stop" => return ExitReason::Normal,
                    _ => {}
                }
            }
            Message::User(ChannelMessage::Leave { msg_ref }) => {
                outbox.reply(msg_ref.as_deref(), ReplyStatus::Ok, "{}");
                return ExitReason::Normal;
            }
            _ => {}
        }
    }
}

struct Server {
    address: std::net::SocketAddr,
    router: Arc<EchoRouter>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn server(config: SocketConfig) -> Server {
    let router = Arc::new(EchoRouter::default());
    let app = axum::Router::new()
        .route("/live/websocket", get(upgrade))
        .with_state((router.clone(), config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server {
        address,
        router,
        task,
    }
}

async fn upgrade(
    State((router, config)): State<(Arc<EchoRouter>, SocketConfig)>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| async move {
        spawn(move |ctx| serve(ctx, socket, router, Arc::new(()), config));
    })
}

async fn connect(server: &Server) -> Client {
    let url = format!("ws://{}/live/websocket?vsn=2.0.0", server.address);
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

async fn silence(client: &mut Client) {
    let late = tokio::time::timeout(Duration::from_millis(100), client.next()).await;
    assert!(late.is_err(), "unexpected frame: {late:?}");
}

async fn join(client: &mut Client, topic: &str, join_ref: &str) -> Value {
    send(
        client,
        json!([join_ref, join_ref, topic, "phx_join", {"params": {}}]),
    )
    .await;
    recv(client).await
}

#[tokio::test]
async fn heartbeats_are_answered() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    send(&mut client, json!([null, "5", "phoenix", "heartbeat", {}])).await;
    assert_eq!(
        recv(&mut client).await,
        json!([null, "5", "phoenix", "phx_reply", {"status": "ok", "response": {}}])
    );
}

#[tokio::test]
async fn a_joined_channel_replies_and_pushes_with_its_join_ref() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    assert_eq!(
        join(&mut client, "echo:1", "3").await,
        json!(["3", "3", "echo:1", "phx_reply", {"status": "ok", "response": {"joined": "echo:1", "payload": {"params": {}}}}])
    );
    send(&mut client, json!(["3", "4", "echo:1", "ping", {"n": 1}])).await;
    assert_eq!(
        recv(&mut client).await,
        json!(["3", "4", "echo:1", "phx_reply", {"status": "ok", "response": {"n": 1}}])
    );
    send(&mut client, json!(["3", "5", "echo:1", "push", {"n": 2}])).await;
    assert_eq!(
        recv(&mut client).await,
        json!(["3", null, "echo:1", "pushed", {"n": 2}])
    );
}

#[tokio::test]
async fn refused_and_unknown_topics_get_error_replies() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    assert_eq!(
        join(&mut client, "echo:refuse", "1").await,
        json!(["1", "1", "echo:refuse", "phx_reply", {"status": "error", "response": {"reason": "unauthorized"}}])
    );
    assert_eq!(
        join(&mut client, "nope:1", "2").await,
        json!(["2", "2", "nope:1", "phx_reply", {"status": "error", "response": {"reason": "unmatched topic"}}])
    );
    send(&mut client, json!(["9", "10", "echo:never", "ping", {}])).await;
    assert_eq!(
        recv(&mut client).await,
        json!(["9", "10", "echo:never", "phx_reply", {"status": "error", "response": {"reason": "unmatched topic"}}])
    );
}

#[tokio::test]
async fn messages_for_an_earlier_join_are_ignored() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    join(&mut client, "echo:1", "3").await;
    send(&mut client, json!(["2", "4", "echo:1", "ping", {}])).await;
    silence(&mut client).await;
}

#[tokio::test]
async fn a_crashed_channel_gets_phx_error_and_nothing_else_notices() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    join(&mut client, "echo:a", "1").await;
    join(&mut client, "echo:b", "2").await;
    send(&mut client, json!(["1", "3", "echo:a", "crash", {}])).await;
    assert_eq!(
        recv(&mut client).await,
        json!(["1", "1", "echo:a", "phx_error", {"reason": "channel_crash"}])
    );
    send(
        &mut client,
        json!(["2", "4", "echo:b", "ping", {"still": "here"}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await,
        json!(["2", "4", "echo:b", "phx_reply", {"status": "ok", "response": {"still": "here"}}])
    );
    // The client rejoins the crashed topic.
    assert_eq!(join(&mut client, "echo:a", "5").await[4]["status"], "ok");
}

#[tokio::test]
async fn leaving_replies_then_closes_the_channel() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    join(&mut client, "echo:1", "1").await;
    send(&mut client, json!(["1", "2", "echo:1", "phx_leave", {}])).await;
    assert_eq!(
        recv(&mut client).await,
        json!(["1", "2", "echo:1", "phx_reply", {"status": "ok", "response": {}}])
    );
    assert_eq!(
        recv(&mut client).await,
        json!(["1", "1", "echo:1", "phx_close", {}])
    );
    let channel = server.router.started.lock().unwrap()[0].clone();
    assert_eq!(
        tokio::time::timeout(PATIENCE, channel.exited())
            .await
            .unwrap(),
        ExitReason::Normal
    );
}

#[tokio::test]
async fn joining_a_joined_topic_closes_the_old_channel_first() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    join(&mut client, "echo:x", "1").await;
    let close = join(&mut client, "echo:x", "2").await;
    assert_eq!(close, json!(["1", "1", "echo:x", "phx_close", {}]));
    assert_eq!(recv(&mut client).await[4]["status"], "ok");
    let old = server.router.started.lock().unwrap()[0].clone();
    assert_eq!(
        tokio::time::timeout(PATIENCE, old.exited()).await.unwrap(),
        ExitReason::Shutdown
    );
}

#[tokio::test]
async fn a_socket_joins_at_most_its_channel_limit() {
    let server = server(SocketConfig {
        max_channels: 3,
        ..SocketConfig::default()
    })
    .await;
    let mut client = connect(&server).await;
    for n in 0..3 {
        assert_eq!(
            join(&mut client, &format!("echo:{n}"), &n.to_string()).await[4]["status"],
            "ok"
        );
    }
    assert_eq!(
        join(&mut client, "echo:3", "3").await[4],
        json!({"status": "error", "response": {"reason": "too many channels joined"}})
    );
}

#[tokio::test]
async fn a_malformed_frame_closes_that_connection_only() {
    let server = server(SocketConfig::default()).await;
    let mut bystander = connect(&server).await;
    join(&mut bystander, "echo:b", "1").await;
    let mut offender = connect(&server).await;
    join(&mut offender, "echo:o", "1").await;
    offender
        .send(Frame::Text("{not a frame".into()))
        .await
        .unwrap();
    let closed = tokio::time::timeout(PATIENCE, offender.next())
        .await
        .unwrap();
    match closed {
        Some(Ok(Frame::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1008);
            assert!(
                frame
                    .reason
                    .contains("[join_ref, ref, topic, event, payload]"),
                "{}",
                frame.reason
            );
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    send(&mut bystander, json!(["1", "2", "echo:b", "ping", {}])).await;
    assert_eq!(recv(&mut bystander).await[4]["status"], "ok");
}

#[tokio::test]
async fn closing_the_connection_ends_its_channels() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    for n in 0..5 {
        join(&mut client, &format!("echo:{n}"), &n.to_string()).await;
    }
    client.close(None).await.unwrap();
    let channels = server.router.started.lock().unwrap().clone();
    assert_eq!(channels.len(), 5);
    for channel in channels {
        assert_eq!(
            tokio::time::timeout(PATIENCE, channel.exited())
                .await
                .unwrap(),
            ExitReason::shutdown_with("closed")
        );
    }
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let server = server(SocketConfig {
        idle_timeout: Duration::from_millis(100),
        ..SocketConfig::default()
    })
    .await;
    let mut client = connect(&server).await;
    let closed = tokio::time::timeout(PATIENCE, client.next()).await.unwrap();
    assert!(matches!(closed, Some(Ok(Frame::Close(_)))), "{closed:?}");
}

#[tokio::test]
async fn binary_chunks_reach_the_channel() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    join(&mut client, "echo:up", "1").await;
    let mut frame = vec![0u8, 1, 1, 7, 4];
    frame.extend_from_slice(b"12echo:upping");
    frame.extend_from_slice(&[1, 2, 3, 4, 5]);
    client.send(Frame::Binary(frame.into())).await.unwrap();
    assert_eq!(
        recv(&mut client).await,
        json!(["1", "2", "echo:up", "phx_reply", {"status": "ok", "response": {"bytes": 5}}])
    );
}
