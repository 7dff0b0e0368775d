//! The socket protocol end to end: an axum server on loopback, a WebSocket
//! client speaking the frames of the official Phoenix client, and an echo
//! channel.

mod common;

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use cinder::socket::serializer::{Payload, ReplyStatus};
use cinder::socket::websocket::WebSocketUpgrade;
use cinder::socket::{
    serve, ChannelMessage, ChannelRouter, JoinFuture, JoinRefused, JoinRequest, Joined, Outbox,
    SocketConfig, SocketMessage,
};
use cinder_runtime::{spawn, Context, ExitReason, Message, Pid, Recipient};
use common::{recv, recv_text, send, Client, PATIENCE};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::MaybeTlsStream;

/// Joins `echo:*` topics; remembers every channel it started, and the
/// outbox it gave each.
#[derive(Default)]
struct EchoRouter {
    started: Mutex<Vec<Pid>>,
    outboxes: Mutex<Vec<Outbox>>,
    /// The socket processes of the connections served.
    sockets: Mutex<Vec<Pid>>,
}

impl ChannelRouter for EchoRouter {
    type Connect = ();

    fn join(&self, request: JoinRequest<()>) -> JoinFuture<'_> {
        Box::pin(async move {
            if request.topic == "echo:refuse" {
                return Err(JoinRefused::reason("unauthorized"));
            }
            if request.topic == "echo:eager" || request.topic == "echo:eager-refused" {
                // The channel pushes before its join's reply could be out.
                request.outbox.push("early", r#"{"n":1}"#);
                tokio::task::yield_now().await;
                request.outbox.push("early", r#"{"n":2}"#);
                if request.topic == "echo:eager-refused" {
                    return Err(JoinRefused::reason("changed its mind"));
                }
            }
            if !request.topic.starts_with("echo:") {
                return Err(JoinRefused::reason("unmatched topic"));
            }
            if request.topic == "echo:slow" {
                // A join that keeps the socket waiting a moment.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let outbox = request.outbox;
            self.outboxes.lock().unwrap().push(outbox.clone());
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
                let payload = match inbound.payload() {
                    // The text is read before it is written back: a frame
                    // only promises brackets that close.
                    Payload::Json(json) => serde_json::from_str::<serde_json::Value>(json)
                        .unwrap_or_else(|_| json!({"unreadable": json}))
                        .to_string(),
                    Payload::Binary(bytes) => json!({"bytes": bytes.len()}).to_string(),
                };
                match inbound.event() {
                    "ping" => {
                        outbox.reply(inbound.msg_ref(), ReplyStatus::Ok, &payload);
                    }
                    "push" => {
                        outbox.push("pushed", &payload);
                    }
                    // `count` pushes of `size` bytes each, numbered, in one go.
                    "pushes" => {
                        let request: Value = serde_json::from_str(&payload).unwrap();
                        let filler = "x".repeat(request["size"].as_u64().unwrap() as usize);
                        for n in 0..request["count"].as_u64().unwrap() {
                            let push = json!({"n": n, "filler": filler}).to_string();
                            outbox.push("pushed", &push);
                        }
                    }
                    // Pushes without end, more at each turn than the
                    // connection takes: frames always wait to be written.
                    "flood" => loop {
                        for _ in 0..200 {
                            outbox.push("pushed", &payload);
                        }
                        tokio::task::yield_now().await;
                    },
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
        let sockets = router.clone();
        let pid = spawn(move |ctx| serve(ctx, socket, router, Arc::new(()), config));
        sockets.sockets.lock().unwrap().push(pid);
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

/// A join of a topic whose channel has ended, before the socket has taken
/// in the channel's exit: the socket goes on, whichever of the two it
/// handles first.
#[tokio::test]
async fn a_rejoin_racing_the_old_channels_exit_keeps_the_connection() {
    let server = server(SocketConfig::default()).await;
    let mut stream = raw::connect(server.address).await;
    let text = |frame: String| raw::frame(true, raw::TEXT, frame.as_bytes());
    raw::send(
        &mut stream,
        &text(r#"["0","0","echo:x","phx_join",{}]"#.into()),
    )
    .await;
    for round in 1..=20 {
        // In one write: `echo:x` is told to stop, then a slow join of
        // another topic, during which `echo:x` ends, then a join of
        // `echo:x` again. The socket finds that join and the old
        // channel's exit waiting together, and takes either first.
        let old = round - 1;
        let mut bytes = text(format!(r#"["{old}","s{round}","echo:x","stop",{{}}]"#));
        bytes.extend(text(format!(
            r#"["b{round}","b{round}","echo:slow","phx_join",{{}}]"#
        )));
        bytes.extend(text(format!(
            r#"["{round}","{round}","echo:x","phx_join",{{}}]"#
        )));
        bytes.extend(text(format!(
            r#"[null,"hb{round}","phoenix","heartbeat",{{}}]"#
        )));
        raw::send(&mut stream, &bytes).await;
        loop {
            let (opcode, payload) = raw::read_frame(&mut stream).await;
            assert_eq!(opcode, raw::TEXT, "the connection closed in round {round}");
            let frame: Value = serde_json::from_slice(&payload).unwrap();
            if frame[1] == format!("hb{round}") {
                break;
            }
        }
    }
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

/// Leaves the channel on `topic` and reads its reply and its close.
async fn leave(client: &mut Client, topic: &str, join_ref: &str) {
    send(client, json!([join_ref, "90", topic, "phx_leave", {}])).await;
    assert_eq!(recv(client).await[3], "phx_reply");
    assert_eq!(
        recv(client).await,
        json!([join_ref, join_ref, topic, "phx_close", {}])
    );
}

/// Pings the channel on `topic` and checks its answer.
async fn ping(client: &mut Client, topic: &str, join_ref: &str) {
    send(
        client,
        json!([join_ref, "91", topic, "ping", {"to": topic}]),
    )
    .await;
    assert_eq!(
        recv(client).await,
        json!([join_ref, "91", topic, "phx_reply", {"status": "ok", "response": {"to": topic}}])
    );
}

#[tokio::test]
async fn a_channel_that_leaves_frees_its_place_and_the_others_still_answer() {
    let server = server(SocketConfig {
        max_channels: 3,
        ..SocketConfig::default()
    })
    .await;
    let mut client = connect(&server).await;
    for (topic, join_ref) in [("echo:a", "1"), ("echo:b", "2"), ("echo:c", "3")] {
        assert_eq!(join(&mut client, topic, join_ref).await[4]["status"], "ok");
    }
    // The first joined leaves, then the last.
    leave(&mut client, "echo:a", "1").await;
    ping(&mut client, "echo:b", "2").await;
    ping(&mut client, "echo:c", "3").await;
    assert_eq!(join(&mut client, "echo:d", "4").await[4]["status"], "ok");
    assert_eq!(
        join(&mut client, "echo:e", "5").await[4]["response"]["reason"],
        "too many channels joined"
    );
    leave(&mut client, "echo:d", "4").await;
    ping(&mut client, "echo:b", "2").await;
    ping(&mut client, "echo:c", "3").await;
    assert_eq!(join(&mut client, "echo:e", "6").await[4]["status"], "ok");
    ping(&mut client, "echo:e", "6").await;
    // A left topic is no longer routed.
    send(&mut client, json!(["1", "92", "echo:a", "ping", {}])).await;
    assert_eq!(
        recv(&mut client).await[4]["response"]["reason"],
        "unmatched topic"
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

/// A frame whose payload's brackets close but whose JSON does not read is
/// a well-formed frame with a bad payload: its handler refuses the payload,
/// and the connection and its neighbours carry on.
#[tokio::test]
async fn a_payload_that_is_not_json_is_refused_by_its_reader_only() {
    let server = server(SocketConfig::default()).await;
    let mut bystander = connect(&server).await;
    join(&mut bystander, "echo:b", "1").await;
    let mut offender = connect(&server).await;
    join(&mut offender, "echo:o", "1").await;
    let text = |frame: &str| Frame::Text(frame.to_string().into());
    offender
        .send(text(r#"["1","2","echo:o","ping",{"a" 1}]"#))
        .await
        .unwrap();
    assert_eq!(
        recv(&mut offender).await[4]["response"],
        json!({"unreadable": r#"{"a" 1}"#})
    );
    offender
        .send(text(r#"["3","3","echo:p","phx_join",{"params":}]"#))
        .await
        .unwrap();
    assert_eq!(
        recv(&mut offender).await[4],
        json!({"status": "error", "response": {"reason": "a join takes a JSON payload"}})
    );
    offender
        .send(text(r#"[null,"4","phoenix","heartbeat",{"a" 1}]"#))
        .await
        .unwrap();
    assert_eq!(recv(&mut offender).await[4]["status"], "ok");
    send(&mut offender, json!(["1", "5", "echo:o", "ping", {"b": 2}])).await;
    assert_eq!(recv(&mut offender).await[4]["response"], json!({"b": 2}));
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

/// A server that closes a connection silent for 100 ms.
async fn server_closing_idle_after_100_ms() -> Server {
    server(SocketConfig {
        idle_timeout: Duration::from_millis(100),
        ..SocketConfig::default()
    })
    .await
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let server = server_closing_idle_after_100_ms().await;
    let connected = tokio::time::Instant::now();
    let mut client = connect(&server).await;
    let closed = tokio::time::timeout(PATIENCE, client.next()).await.unwrap();
    assert!(matches!(closed, Some(Ok(Frame::Close(_)))), "{closed:?}");
    assert!(
        connected.elapsed() >= Duration::from_millis(100),
        "closed before its idle timeout"
    );
}

#[tokio::test]
async fn a_connection_that_keeps_sending_outlives_many_idle_timeouts() {
    let server = server(SocketConfig {
        idle_timeout: Duration::from_millis(300),
        ..SocketConfig::default()
    })
    .await;
    let mut client = connect(&server).await;
    // Twenty-five heartbeats 50 ms apart: four idle timeouts' worth.
    for n in 0..25 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let heartbeat = json!([null, n.to_string(), "phoenix", "heartbeat", {}]);
        send(&mut client, heartbeat).await;
        assert_eq!(recv(&mut client).await[1], n.to_string());
    }
}

// Two workers: the channel floods the connection while the socket writes
// what it leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_closed_at_its_idle_timeout_while_its_channel_floods_it() {
    let server = server_closing_idle_after_100_ms().await;
    let mut client = connect(&server).await;
    join(&mut client, "echo:flood", "1").await;
    send(&mut client, json!(["1", "2", "echo:flood", "flood", {}])).await;
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match client.next().await {
                Some(Ok(Frame::Close(close))) => return close,
                Some(Ok(_)) => {}
                other => panic!("the connection ended without a close: {other:?}"),
            }
        }
    })
    .await
    .expect("the flood kept the idle timer from firing");
    assert_eq!(
        closed.map(|close| close.reason.to_string()).as_deref(),
        Some("no heartbeat")
    );
}

#[tokio::test]
async fn a_burst_of_frames_and_the_replies_to_them_all_get_through() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    join(&mut client, "echo:burst", "1").await;
    const BURST: usize = 300;
    for n in 0..BURST {
        let frame = json!(["1", n.to_string(), "echo:burst", "ping", {"n": n}]);
        client
            .feed(Frame::Text(frame.to_string().into()))
            .await
            .unwrap();
    }
    client.flush().await.unwrap();
    for n in 0..BURST {
        assert_eq!(
            recv(&mut client).await,
            json!(["1", n.to_string(), "echo:burst", "phx_reply", {"status": "ok", "response": {"n": n}}])
        );
    }
}

/// Replies whose frames state their length in each way a header can (in
/// one byte up to 125, in two up to 65,535, in eight past it), at the edge
/// of each, sent one at a time (each goes out from the reply's own buffer)
/// and in one burst (the later ones copied behind the first): every frame
/// arrives whole and as the channel wrote it.
#[tokio::test]
async fn replies_of_every_header_length_arrive_whole() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    join(&mut client, "echo:sizes", "1").await;
    let ping = |msg_ref: usize, text: &str| json!(["1", msg_ref.to_string(), "echo:sizes", "ping", {"s": text}]);
    // Every ref has two digits, so every reply's frame around its text is
    // as long as this one's.
    send(&mut client, ping(10, "")).await;
    let around = recv_text(&mut client).await.len();
    let frame_lengths = [100, 125, 126, 127, 4_096, 65_535, 65_536, 70_000];
    let texts: Vec<String> = frame_lengths
        .iter()
        .map(|length| "x".repeat(length - around))
        .collect();
    // The reply to the ping `msg_ref` carrying `texts[n]`: whole, and as written.
    let check = |reply: String, n: usize, msg_ref: usize| {
        assert_eq!(reply.len(), frame_lengths[n]);
        assert_eq!(
            serde_json::from_str::<Value>(&reply).unwrap(),
            json!(["1", msg_ref.to_string(), "echo:sizes", "phx_reply", {"status": "ok", "response": {"s": texts[n]}}])
        );
    };

    for (n, text) in texts.iter().enumerate() {
        send(&mut client, ping(11 + n, text)).await;
        check(recv_text(&mut client).await, n, 11 + n);
    }

    for (n, text) in texts.iter().enumerate() {
        let frame = ping(30 + n, text).to_string();
        client.feed(Frame::Text(frame.into())).await.unwrap();
    }
    client.flush().await.unwrap();
    for n in 0..texts.len() {
        check(recv_text(&mut client).await, n, 30 + n);
    }
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

/// A WebSocket client written frame by frame, to send what a well-behaved
/// client library never would.
mod raw {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    pub const TEXT: u8 = 0x1;
    pub const CONTINUATION: u8 = 0x0;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
    pub const PONG: u8 = 0xA;

    /// Sends the handshake; returns the connection and the response head.
    pub async fn handshake(address: SocketAddr, extra: &str) -> (TcpStream, String) {
        handshake_then(address, extra, &[]).await
    }

    /// Sends the handshake with `bytes` right behind it, in one write.
    pub async fn handshake_then(
        address: SocketAddr,
        extra: &str,
        bytes: &[u8],
    ) -> (TcpStream, String) {
        let mut stream = TcpStream::connect(address).await.unwrap();
        let mut request =
            format!("GET /live/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: {address}\r\n{extra}\r\n")
                .into_bytes();
        request.extend_from_slice(bytes);
        stream.write_all(&request).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0];
            if stream.read(&mut byte).await.unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
        (stream, String::from_utf8(head).unwrap())
    }

    pub const UPGRADE: &str = "Connection: Upgrade\r\nUpgrade: websocket\r\n\
        Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

    pub async fn connect(address: SocketAddr) -> TcpStream {
        let (stream, head) = handshake(address, UPGRADE).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        stream
    }

    /// A client frame: masked, as RFC 6455 requires.
    pub fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x0f, 0xa1, 0x5c, 0x33];
        let mut bytes = vec![u8::from(fin) << 7 | opcode];
        match payload.len() {
            len @ 0..=125 => bytes.push(0x80 | len as u8),
            len @ 126..=0xFFFF => {
                bytes.push(0x80 | 126);
                bytes.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                bytes.push(0x80 | 127);
                bytes.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        bytes.extend_from_slice(&mask);
        bytes.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
        bytes
    }

    /// Reads one server frame: its opcode and payload.
    pub async fn read_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
        let mut head = [0; 2];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
        let len = match head[1] & 0x7F {
            126 => usize::from(stream.read_u16().await.unwrap()),
            127 => stream.read_u64().await.unwrap() as usize,
            len => usize::from(len),
        };
        let mut payload = vec![0; len];
        stream.read_exact(&mut payload).await.unwrap();
        (head[0] & 0x0F, payload)
    }

    /// Reads the close frame the server ends with: its code and reason.
    pub async fn read_close(stream: &mut TcpStream) -> (u16, String) {
        let (opcode, payload) = read_frame(stream).await;
        assert_eq!(opcode, CLOSE, "{}", String::from_utf8_lossy(&payload));
        let code = u16::from_be_bytes([payload[0], payload[1]]);
        (code, String::from_utf8(payload[2..].to_vec()).unwrap())
    }

    pub async fn send(stream: &mut TcpStream, bytes: &[u8]) {
        stream.write_all(bytes).await.unwrap();
    }
}

#[tokio::test]
async fn the_handshake_answers_with_the_accept_key_of_rfc_6455() {
    let server = server(SocketConfig::default()).await;
    let (_stream, head) = raw::handshake(server.address, raw::UPGRADE).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
}

#[tokio::test]
async fn a_request_that_is_not_a_handshake_is_told_what_is_missing() {
    let server = server(SocketConfig::default()).await;
    let (mut stream, head) = raw::handshake(server.address, "").await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    let mut body = vec![0; 512];
    let n = tokio::io::AsyncReadExt::read(&mut stream, &mut body)
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body[..n]);
    assert!(body.contains("`Upgrade: websocket`"), "{body}");

    let old_version = raw::UPGRADE.replace("Version: 13", "Version: 8");
    let (_stream, head) = raw::handshake(server.address, &old_version).await;
    assert!(head.starts_with("HTTP/1.1 426"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-version: 13"),
        "{head}"
    );
}

#[tokio::test]
async fn fragments_and_frames_split_across_reads_arrive_whole() {
    let server = server(SocketConfig::default()).await;
    let mut stream = raw::connect(server.address).await;
    let join = br#"["1","1","echo:f","phx_join",{"params":{"long":"#;
    let rest = format!(r#""{}"}}}}]"#, "x".repeat(150));
    let mut bytes = raw::frame(false, raw::TEXT, &join[..10]);
    bytes.extend(raw::frame(false, raw::CONTINUATION, &join[10..]));
    // A ping between fragments is answered and does not break the message.
    bytes.extend(raw::frame(true, raw::PING, b"between"));
    bytes.extend(raw::frame(true, raw::CONTINUATION, rest.as_bytes()));
    // Written a few bytes at a time, so frames and headers straddle reads.
    for piece in bytes.chunks(7) {
        raw::send(&mut stream, piece).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(
        raw::read_frame(&mut stream).await,
        (raw::PONG, b"between".to_vec())
    );
    let (opcode, reply) = raw::read_frame(&mut stream).await;
    assert_eq!(opcode, raw::TEXT);
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(reply[4]["status"], "ok");
    assert_eq!(
        reply[4]["response"]["payload"]["params"]["long"]
            .as_str()
            .unwrap()
            .len(),
        150
    );
}

#[tokio::test]
async fn several_frames_in_one_write_are_each_answered() {
    let server = server(SocketConfig::default()).await;
    let mut stream = raw::connect(server.address).await;
    let mut bytes = Vec::new();
    for n in 1..=3 {
        let heartbeat = format!(r#"[null,"{n}","phoenix","heartbeat",{{}}]"#);
        bytes.extend(raw::frame(true, raw::TEXT, heartbeat.as_bytes()));
    }
    raw::send(&mut stream, &bytes).await;
    for n in 1..=3 {
        let (_, reply) = raw::read_frame(&mut stream).await;
        let reply: Value = serde_json::from_slice(&reply).unwrap();
        assert_eq!(reply[1], n.to_string());
    }
}

#[tokio::test]
async fn frames_sent_with_the_handshake_are_read() {
    let server = server(SocketConfig::default()).await;
    let mut bytes = Vec::new();
    for n in 1..=2 {
        let heartbeat = format!(r#"[null,"{n}","phoenix","heartbeat",{{}}]"#);
        bytes.extend(raw::frame(true, raw::TEXT, heartbeat.as_bytes()));
    }
    let (mut stream, head) = raw::handshake_then(server.address, raw::UPGRADE, &bytes).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    for n in 1..=2 {
        let (_, reply) = raw::read_frame(&mut stream).await;
        let reply: Value = serde_json::from_slice(&reply).unwrap();
        assert_eq!(reply[1], n.to_string());
    }
}

/// An app whose socket reports how it was given its connection (the
/// `Debug` of its WebSocket) before it serves.
fn app_reporting_transports(report: mpsc::UnboundedSender<String>) -> axum::Router {
    let router = Arc::new(EchoRouter::default());
    let upgrade = move |ws: WebSocketUpgrade| {
        let (router, report) = (router.clone(), report.clone());
        async move {
            ws.on_upgrade(move |socket| async move {
                let _ = report.send(format!("{socket:?}"));
                spawn(move |ctx| serve(ctx, socket, router, Arc::new(()), SocketConfig::default()));
            })
        }
    };
    axum::Router::new().route("/live/websocket", get(upgrade))
}

/// Serves one connection with hyper's HTTP/1 server alone, as an
/// application that does not use `axum::serve` does.
async fn serve_with_hyper<I>(io: I, app: axum::Router)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(app))
        .with_upgrades()
        .await
        .unwrap();
}

/// A heartbeat, a join and a ping over `client`, each answered.
async fn converse<S>(client: &mut tokio_tungstenite::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let frames = [
        json!([null, "1", "phoenix", "heartbeat", {}]),
        json!(["2", "2", "echo:t", "phx_join", {}]),
        json!(["2", "3", "echo:t", "ping", {"n": 3}]),
    ];
    for frame in frames {
        client.send(Frame::text(frame.to_string())).await.unwrap();
        let reply = tokio::time::timeout(PATIENCE, client.next())
            .await
            .expect("a reply")
            .unwrap()
            .unwrap();
        let reply: Value = serde_json::from_str(reply.to_text().unwrap()).unwrap();
        assert_eq!(reply[1], frame[1], "{reply}");
        assert_eq!(reply[4]["status"], "ok", "{reply}");
    }
}

/// How a socket on a TCP connection served by `serve` was given its
/// connection: the `Debug` of its WebSocket, after a conversation.
async fn transport_under<S>(
    serve: impl FnOnce(tokio::net::TcpListener, axum::Router) -> S,
) -> String
where
    S: std::future::Future<Output = ()> + Send + 'static,
{
    let (report, mut reports) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(serve(listener, app_reporting_transports(report)));
    let url = format!("ws://{address}/live/websocket?vsn=2.0.0");
    let mut client = tokio_tungstenite::connect_async(url).await.unwrap().0;
    converse(&mut client).await;
    task.abort();
    reports.recv().await.unwrap()
}

#[tokio::test]
async fn a_socket_under_axum_serve_reads_its_tcp_connection_directly() {
    let debug = transport_under(|listener, app| async move {
        axum::serve(listener, app).await.unwrap();
    })
    .await;
    assert!(debug.contains(r#"transport: "tcp""#), "{debug}");
}

#[tokio::test]
async fn a_socket_under_hyper_alone_reads_its_tcp_connection_directly() {
    let debug = transport_under(|listener, app| async move {
        let (tcp, _) = listener.accept().await.unwrap();
        serve_with_hyper(tcp, app).await;
    })
    .await;
    assert!(debug.contains(r#"transport: "tcp""#), "{debug}");
}

#[tokio::test]
async fn a_socket_under_cinder_serve_reads_its_tcp_connection_directly() {
    let debug = transport_under(|listener, app| cinder::serve(listener, app).into_future()).await;
    assert!(debug.contains(r#"transport: "tcp""#), "{debug}");
}

/// Sends `GET path` on a fresh connection; the status line and the body.
async fn http_get(address: std::net::SocketAddr, path: &str) -> std::io::Result<(String, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.lines().next().unwrap_or_default().to_owned();
    Ok((status, body.to_owned()))
}

#[tokio::test]
async fn cinder_serve_answers_the_request_in_flight_then_stops_on_its_signal() {
    // The handler answers once the test lets it.
    let (entered, mut entering) = mpsc::unbounded_channel();
    let release = Arc::new(tokio::sync::Notify::new());
    let slow = {
        let release = release.clone();
        move || async move {
            let _ = entered.send(());
            release.notified().await;
            "done"
        }
    };
    let app = axum::Router::new().route("/slow", get(slow));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = cinder::serve(listener, app).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let address = served.local_addr().unwrap();
    let server = tokio::spawn(served.into_future());

    let in_flight = tokio::spawn(http_get(address, "/slow"));
    entering.recv().await.unwrap();
    stop.send(()).unwrap();
    let refused = async {
        while tokio::net::TcpStream::connect(address).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(PATIENCE, refused)
        .await
        .expect("a stopping server stops accepting");
    assert!(
        !server.is_finished(),
        "the server waits for the request it is answering"
    );
    release.notify_one();
    let (status, body) = in_flight.await.unwrap().unwrap();
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("HTTP/1.1 200 OK", "done")
    );
    tokio::time::timeout(PATIENCE, server)
        .await
        .expect("the server stops once its last request is answered")
        .unwrap();
}

#[tokio::test]
async fn a_socket_on_a_connection_that_is_not_tcp_works_through_hyper() {
    let (report, mut reports) = mpsc::unbounded_channel();
    let (server_end, client_end) = tokio::io::duplex(64 * 1024);
    let task = tokio::spawn(serve_with_hyper(
        server_end,
        app_reporting_transports(report),
    ));
    let mut client =
        tokio_tungstenite::client_async("ws://localhost/live/websocket?vsn=2.0.0", client_end)
            .await
            .unwrap()
            .0;
    converse(&mut client).await;
    let debug = reports.recv().await.unwrap();
    assert!(debug.contains(r#"transport: "upgraded""#), "{debug}");
    task.abort();
}

/// Sends `bytes` on a fresh connection and returns the close the server
/// answers with; a bystander connection goes on working meanwhile.
async fn closed_for(config: SocketConfig, bytes: &[u8]) -> (u16, String) {
    let server = server(config).await;
    let mut bystander = connect(&server).await;
    join(&mut bystander, "echo:b", "1").await;
    let mut offender = raw::connect(server.address).await;
    raw::send(&mut offender, bytes).await;
    let close = tokio::time::timeout(PATIENCE, raw::read_close(&mut offender))
        .await
        .expect("the server closes the offending connection");
    send(&mut bystander, json!(["1", "2", "echo:b", "ping", {}])).await;
    assert_eq!(recv(&mut bystander).await[4]["status"], "ok");
    close
}

#[tokio::test]
async fn an_unmasked_frame_is_a_protocol_error() {
    let mut unmasked = raw::frame(true, raw::TEXT, b"[]");
    unmasked[1] &= 0x7F;
    unmasked.drain(2..6);
    let (code, reason) = closed_for(SocketConfig::default(), &unmasked).await;
    assert_eq!(code, 1002);
    assert!(reason.contains("must be masked"), "{reason}");
}

#[tokio::test]
async fn a_message_over_the_limit_is_refused_before_it_is_read() {
    let config = SocketConfig {
        max_message_bytes: 1000,
        ..SocketConfig::default()
    };
    // Only the header: the server refuses on the announced length.
    let header = &raw::frame(true, raw::TEXT, &[b' '; 5000])[..8];
    let (code, reason) = closed_for(config.clone(), header).await;
    assert_eq!(code, 1009);
    assert!(reason.contains("the limit is 1000 bytes"), "{reason}");

    // Fragments that add up to more than the limit.
    let mut fragments = raw::frame(false, raw::TEXT, &[b' '; 600]);
    fragments.extend(raw::frame(true, raw::CONTINUATION, &[b' '; 600]));
    assert_eq!(closed_for(config, &fragments).await.0, 1009);
}

#[tokio::test]
async fn text_that_is_not_utf8_is_refused() {
    let frame = raw::frame(true, raw::TEXT, &[b'[', 0xff, 0xfe, b']']);
    let (code, reason) = closed_for(SocketConfig::default(), &frame).await;
    assert_eq!(code, 1007);
    assert!(reason.contains("UTF-8"), "{reason}");
}

#[tokio::test]
async fn a_continuation_with_nothing_to_continue_is_refused() {
    let frame = raw::frame(true, raw::CONTINUATION, b"[]");
    assert_eq!(closed_for(SocketConfig::default(), &frame).await.0, 1002);
}

#[tokio::test]
async fn a_client_close_is_echoed_and_ends_the_channels() {
    let server = server(SocketConfig::default()).await;
    let mut stream = raw::connect(server.address).await;
    let join = br#"["1","1","echo:c","phx_join",{}]"#;
    raw::send(&mut stream, &raw::frame(true, raw::TEXT, join)).await;
    raw::read_frame(&mut stream).await;
    let mut going_away = 1001u16.to_be_bytes().to_vec();
    going_away.extend_from_slice(b"bye");
    raw::send(&mut stream, &raw::frame(true, raw::CLOSE, &going_away)).await;
    assert_eq!(raw::read_close(&mut stream).await.0, 1001);
    let channel = server.router.started.lock().unwrap()[0].clone();
    assert_eq!(
        tokio::time::timeout(PATIENCE, channel.exited())
            .await
            .unwrap(),
        ExitReason::shutdown_with("closed")
    );
}

#[tokio::test]
async fn what_a_channel_pushes_while_being_joined_follows_its_join_reply() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    let reply = join(&mut client, "echo:eager", "1").await;
    assert_eq!(
        (&reply[3], &reply[4]["status"]),
        (&json!("phx_reply"), &json!("ok"))
    );
    for n in 1..=2 {
        assert_eq!(
            recv(&mut client).await,
            json!(["1", null, "echo:eager", "early", {"n": n}])
        );
    }
    // And from then on its frames go straight out.
    send(
        &mut client,
        json!(["1", "2", "echo:eager", "ping", {"n": 3}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await,
        json!(["1", "2", "echo:eager", "phx_reply", {"status": "ok", "response": {"n": 3}}])
    );
}

#[tokio::test]
async fn what_a_refused_channel_pushed_while_being_joined_is_dropped() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    assert_eq!(
        join(&mut client, "echo:eager-refused", "1").await,
        json!(["1", "1", "echo:eager-refused", "phx_reply", {"status": "error", "response": {"reason": "changed its mind"}}])
    );
    silence(&mut client).await;
    assert_eq!(
        join(&mut client, "echo:after", "2").await[4]["status"],
        "ok"
    );
}

/// Far more than the kernel's buffers hold, pushed while the client reads
/// nothing: the channel leaves what the connection cannot take to the
/// socket, which it wakes, and which writes it as the client reads, all in
/// order and whole; with a heartbeat sent behind the pushes, the socket's
/// answer comes after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_beyond_what_the_connection_holds_arrive_whole_and_in_order() {
    const COUNT: u64 = 128;
    const SIZE: u64 = 64 * 1024;
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    join(&mut client, "echo:bulk", "1").await;
    for heartbeat in [false, true] {
        let pushes = json!(["1", "2", "echo:bulk", "pushes", {"count": COUNT, "size": SIZE}]);
        send(&mut client, pushes).await;
        if heartbeat {
            send(&mut client, json!([null, "3", "phoenix", "heartbeat", {}])).await;
        }
        // The channel fills the connection while nothing is read.
        tokio::time::sleep(Duration::from_millis(200)).await;
        for n in 0..COUNT {
            let push = recv(&mut client).await;
            assert_eq!((&push[3], &push[4]["n"]), (&json!("pushed"), &json!(n)));
            assert_eq!(
                push[4]["filler"].as_str().map(str::len),
                Some(SIZE as usize)
            );
        }
        if heartbeat {
            assert_eq!(
                recv(&mut client).await,
                json!([null, "3", "phoenix", "phx_reply", {"status": "ok", "response": {}}])
            );
        }
    }
}

/// A channel on one thread and the socket's own answers on another write
/// to one connection at once: every frame arrives whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_and_its_socket_writing_at_once_never_mix_their_frames() {
    const COUNT: u64 = 2_000;
    const HEARTBEATS: u64 = 50;
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    join(&mut client, "echo:busy", "1").await;
    let pushes = json!(["1", "2", "echo:busy", "pushes", {"count": COUNT, "size": 100}]);
    client.feed(Frame::text(pushes.to_string())).await.unwrap();
    for n in 0..HEARTBEATS {
        let heartbeat = json!([null, (n + 10).to_string(), "phoenix", "heartbeat", {}]);
        client
            .feed(Frame::text(heartbeat.to_string()))
            .await
            .unwrap();
    }
    client.flush().await.unwrap();
    let (mut pushed, mut answered) = (0, 0);
    while pushed < COUNT || answered < HEARTBEATS {
        let frame = recv(&mut client).await;
        match frame[3].as_str() {
            Some("pushed") => {
                assert_eq!(frame[4]["n"], pushed);
                pushed += 1;
            }
            Some("phx_reply") => {
                assert_eq!(frame[1], (answered + 10).to_string());
                answered += 1;
            }
            _ => panic!("unexpected frame {frame}"),
        }
    }
}

/// A client joined to `echo:1`, and its channel's outbox, seen to reach it.
async fn joined_with_its_outbox(server: &Server) -> (Client, Outbox) {
    let mut client = connect(server).await;
    join(&mut client, "echo:1", "1").await;
    let outbox = server.router.outboxes.lock().unwrap()[0].clone();
    assert!(outbox.push("pushed", "{}"));
    assert_eq!(recv(&mut client).await[3], "pushed");
    (client, outbox)
}

#[tokio::test]
async fn a_channel_writing_after_its_connection_closed_is_told_so() {
    let server = server(SocketConfig::default()).await;
    let (mut client, outbox) = joined_with_its_outbox(&server).await;
    client.close(None).await.unwrap();
    let channel = server.router.started.lock().unwrap()[0].clone();
    tokio::time::timeout(PATIENCE, channel.exited())
        .await
        .unwrap();
    assert!(!outbox.push("pushed", "{}"));
    assert!(!outbox.reply(Some("2"), ReplyStatus::Ok, "{}"));
}

/// A client resets its connection while its channel still writes to it:
/// the channel's writes are told the connection is gone, nothing stops the
/// server, and another connection is served as before. On one thread the
/// first write comes before the socket's process can learn of the reset,
/// so it meets the reset socket itself.
#[tokio::test]
async fn a_channel_writing_to_a_connection_its_client_reset_is_told_so() {
    let server = server(SocketConfig::default()).await;
    let (client, outbox) = joined_with_its_outbox(&server).await;
    let MaybeTlsStream::Plain(tcp) = client.get_ref() else {
        panic!("the test connects without TLS");
    };
    // No lingering: closing sends a reset rather than an orderly end.
    socket2::SockRef::from(tcp)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(client);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while outbox.push("pushed", "{}") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "writes to a reset connection still succeed"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut other = connect(&server).await;
    join(&mut other, "echo:2", "1").await;
    ping(&mut other, "echo:2", "1").await;
}

#[tokio::test]
async fn a_frame_sent_to_the_socket_process_is_written() {
    let server = server(SocketConfig::default()).await;
    let mut client = connect(&server).await;
    join(&mut client, "echo:1", "1").await;
    let socket = server.router.sockets.lock().unwrap()[0].clone();
    let frame = json!(["1", null, "echo:1", "from_elsewhere", {}]).to_string();
    socket.send(SocketMessage::Text(frame)).unwrap();
    assert_eq!(
        recv(&mut client).await,
        json!(["1", null, "echo:1", "from_elsewhere", {}])
    );
}
