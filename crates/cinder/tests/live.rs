//! Live views over the real HTTP and WebSocket path, frame by frame as the
//! official client sends them: dead render, cookie session and CSRF, join,
//! events, server pushes, and the refusals a forged request gets.

use std::time::Duration;

use cinder::live::{Config, Event, LiveRouter, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

const PATIENCE: Duration = Duration::from_secs(10);

struct Counter {
    count: i64,
}

impl LiveView for Counter {
    type Info = i64;

    async fn mount(
        params: &Params,
        _session: &Session,
        socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        if params.get("forbidden").is_some() {
            return Err(MountError::new(403, "not <yours>"));
        }
        let start = params
            .get("start")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if socket.connected() {
            socket.send_after(100, Duration::from_millis(1));
        }
        Ok(Counter { count: start })
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Self>) {
        match event.name() {
            "inc" => self.count += event.get("by").and_then(|by| by.parse().ok()).unwrap_or(1),
            "noop" => {}
            _ => panic!("unexpected event {}", event.name()),
        }
    }

    async fn handle_info(&mut self, jump: i64, _socket: &mut Socket<Self>) {
        self.count += jump;
    }

    fn render(&self) -> Rendered {
        html! { <p id="count">{self.count}</p> }
    }
}

struct App {
    address: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn app() -> App {
    let config = Config::new([7u8; 32]).unwrap();
    let router = LiveRouter::new(config)
        .live::<Counter>("/counter")
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    App { address, task }
}

/// What a browser takes from the dead render.
struct Page {
    status: u16,
    cookie: String,
    csrf: String,
    id: String,
    session: String,
    html: String,
}

fn attribute(html: &str, before: &str) -> String {
    let start = html
        .find(before)
        .unwrap_or_else(|| panic!("{before} in {html}"))
        + before.len();
    html[start..].split('"').next().unwrap().to_string()
}

async fn get(app: &App, path: &str) -> Page {
    let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
        app.address
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let cookie = response
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .map(|value| value.split(';').next().unwrap().to_string())
        .unwrap_or_default();
    let html = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let (csrf, id, session) = if status == 200 {
        (
            attribute(&html, r#"name="csrf-token" content=""#),
            attribute(&html, r#"<div id=""#),
            attribute(&html, r#"data-phx-session=""#),
        )
    } else {
        Default::default()
    };
    Page {
        status,
        cookie,
        csrf,
        id,
        session,
        html,
    }
}

type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &App, cookie: &str, csrf: &str, origin: Option<&str>) -> Result<Client, u16> {
    let url = format!(
        "ws://{}/live/websocket?_csrf_token={csrf}&vsn=2.0.0",
        app.address
    );
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((client, _)) => Ok(client),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(error) => panic!("{error}"),
    }
}

async fn send(client: &mut Client, frame: Value) {
    client
        .send(Frame::Text(frame.to_string().into()))
        .await
        .unwrap();
}

async fn recv(client: &mut Client) -> Value {
    loop {
        match tokio::time::timeout(PATIENCE, client.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            Frame::Text(text) => return serde_json::from_str(&text).unwrap(),
            Frame::Ping(_) | Frame::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

async fn join(client: &mut Client, page: &Page, url_query: &str) -> Value {
    let topic = format!("lv:{}", page.id);
    let url = format!("http://localhost/counter{url_query}");
    send(
        client,
        json!(["4", "4", topic, "phx_join", {"url": url, "params": {"_csrf_token": page.csrf, "_mounts": 0}, "session": page.session, "static": null}]),
    )
    .await;
    recv(client).await
}

#[tokio::test]
async fn the_dead_render_carries_the_container_tokens_and_a_session_cookie() {
    let app = app().await;
    let page = get(&app, "/counter?start=5").await;
    assert_eq!(page.status, 200);
    assert!(page.cookie.starts_with("_cinder_session="));
    assert!(page.id.starts_with("phx-"));
    assert!(page.html.contains(r#"data-phx-main data-phx-session=""#));
    assert!(page.html.contains(r#"<p id="count">5</p>"#));
}

#[tokio::test]
async fn a_refused_mount_answers_with_its_status_and_an_escaped_message() {
    let app = app().await;
    let page = get(&app, "/counter?forbidden=1").await;
    assert_eq!(page.status, 403);
    assert!(page.html.contains("not &lt;yours&gt;"));
}

#[tokio::test]
async fn a_joined_view_renders_connected_and_answers_events_with_diffs() {
    let app = app().await;
    let page = get(&app, "/counter?start=5").await;
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let topic = format!("lv:{}", page.id);
    let joined = join(&mut client, &page, "?start=5").await;
    assert_eq!(joined[4]["status"], "ok", "{joined}");
    assert_eq!(
        joined[4]["response"]["rendered"],
        json!({"0": "5", "s": ["<p id=\"count\">", "</p>"], "r": 1})
    );
    assert_eq!(joined[4]["response"]["liveview_version"], "1.2.12");

    // The timer set in mount arrives as a pushed diff.
    assert_eq!(
        recv(&mut client).await,
        json!(["4", null, topic, "diff", {"0": "105"}])
    );

    send(
        &mut client,
        json!(["4", "5", topic, "event", {"type": "click", "event": "inc", "value": {"by": "2"}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await,
        json!(["4", "5", topic, "phx_reply", {"status": "ok", "response": {"diff": {"0": "107"}}}])
    );
    send(
        &mut client,
        json!(["4", "6", topic, "event", {"type": "click", "event": "noop", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await,
        json!(["4", "6", topic, "phx_reply", {"status": "ok", "response": {}}])
    );
}

#[tokio::test]
async fn a_crashing_handler_gets_phx_error_and_the_rejoin_mounts_again() {
    let app = app().await;
    let page = get(&app, "/counter").await;
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let topic = format!("lv:{}", page.id);
    join(&mut client, &page, "").await;
    recv(&mut client).await; // the timer's diff
    send(
        &mut client,
        json!(["4", "5", topic, "event", {"type": "click", "event": "boom", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await,
        json!(["4", "4", topic, "phx_error", {"reason": "channel_crash"}])
    );
    assert_eq!(join(&mut client, &page, "").await[4]["status"], "ok");
}

#[tokio::test]
async fn a_forged_csrf_token_makes_every_join_stale() {
    let app = app().await;
    let page = get(&app, "/counter").await;
    let mut client = connect(&app, &page.cookie, "forged", None).await.unwrap();
    let reply = join(&mut client, &page, "").await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "stale"}})
    );
}

#[tokio::test]
async fn a_session_token_for_another_container_or_tampered_is_stale() {
    let app = app().await;
    let page = get(&app, "/counter").await;
    let other = get(&app, "/counter").await;
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let borrowed = Page {
        session: other.session.clone(),
        ..page
    };
    assert_eq!(
        join(&mut client, &borrowed, "").await[4]["response"]["reason"],
        "stale"
    );
    let tampered = Page {
        session: format!("x{}", other.session),
        id: other.id.clone(),
        ..borrowed
    };
    assert_eq!(
        join(&mut client, &tampered, "").await[4]["response"]["reason"],
        "stale"
    );
}

#[tokio::test]
async fn a_socket_from_another_origin_is_refused() {
    let app = app().await;
    let page = get(&app, "/counter").await;
    let refused = connect(&app, &page.cookie, &page.csrf, Some("http://evil.example")).await;
    assert_eq!(refused.err(), Some(403));
    let same = format!("http://{}", app.address);
    assert!(connect(&app, &page.cookie, &page.csrf, Some(&same))
        .await
        .is_ok());
}
