//! What the live tests share: a counter view served on loopback, and a
//! client that speaks HTTP and the socket's frames like the official one.
#![allow(dead_code)]

use std::time::Duration;

use cinder::live::{Config, Event, LiveRouter, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

pub const PATIENCE: Duration = Duration::from_secs(10);

pub struct Counter {
    count: i64,
    step: i64,
}

/// The jump that makes the counter navigate to `/pager?page=2`; a jump
/// below it also pushes the event `fell`.
pub const NAVIGATE_AWAY: i64 = 0;

/// How much `inc` adds when the event says nothing: the router's state.
#[derive(Clone)]
pub struct Step(pub i64);

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
        socket.set_title(format!("Count {start}"));
        if socket.connected() {
            match (
                params.get("now"),
                params.get("burst"),
                socket.recipient::<i64>(),
            ) {
                // The first update as early as it can be: a message already
                // waiting when the connected mount ends.
                (Some(_), _, Some(me)) => {
                    me.send(100);
                }
                // Jumps (`?burst=1,2,3`), all waiting when the mount ends.
                (_, Some(burst), Some(me)) => {
                    for jump in burst.split(',').filter_map(|jump| jump.parse().ok()) {
                        me.send(jump);
                    }
                }
                _ => {
                    socket.send_after(100, Duration::from_millis(1));
                }
            }
        }
        let step = socket.state::<Step>().map_or(1, |step| step.0);
        Ok(Counter { count: start, step })
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        match event.name() {
            "inc" => {
                self.count += event
                    .get("by")
                    .and_then(|by| by.parse().ok())
                    .unwrap_or(self.step)
            }
            "noop" => {}
            "go" => socket.push_navigate("/pager?page=2"),
            "notify" => socket.put_flash("info", "Saved"),
            "go_with_flash" => {
                socket.put_flash("info", "Moved");
                socket.push_navigate("/pager?page=2");
            }
            "away_with_flash" => {
                socket.put_flash("error", "Gone <now>");
                socket.redirect("/counter");
            }
            "away" => {
                socket.push_event("bye", json!({}));
                socket.redirect("/elsewhere");
            }
            "ping" => socket.reply(json!({"pong": event.value()})),
            "highlight" => {
                socket.push_event("highlight", json!({"id": self.count}));
                socket.set_title(format!("Count {}", self.count));
            }
            _ => panic!("unexpected event {}", event.name()),
        }
    }

    async fn handle_info(&mut self, jump: i64, socket: &mut Socket<Self>) {
        match jump {
            NAVIGATE_AWAY => socket.push_navigate("/pager?page=2"),
            fall if fall < 0 => socket.push_event("fell", json!({ "by": fall })),
            _ => {}
        }
        self.count += jump;
    }

    fn render(&self) -> Rendered {
        html! { <p id="count">{self.count}</p> }
    }
}

/// A view whose page lives in the URL.
pub struct Pager {
    page: u32,
}

impl LiveView for Pager {
    type Info = ();

    async fn mount(
        _params: &Params,
        _session: &Session,
        _socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        Ok(Pager { page: 1 })
    }

    async fn handle_params(&mut self, params: &Params, _uri: &str, socket: &mut Socket<Self>) {
        match params.get("page").and_then(|page| page.parse().ok()) {
            // Page 0 does not exist: patch to the first page instead.
            Some(0) => socket.replace_patch("/pager?page=1"),
            Some(page) => self.page = page,
            None => self.page = 1,
        }
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        if event.name() == "next" {
            socket.push_patch(format!("/pager?page={}", self.page + 1));
        }
    }

    fn render(&self) -> Rendered {
        html! { <p id="page">{self.page}</p> }
    }
}

/// The admin session's guard: the URL must carry `key=open`.
fn require_key(_session: &Session, params: &Params) -> Result<(), MountError> {
    match params.get("key") {
        Some("open") => Ok(()),
        _ => Err(MountError::new(403, "a key is needed")),
    }
}

pub struct App {
    pub address: std::net::SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn app() -> App {
    app_with(Config::new([7u8; 32]).unwrap()).await
}

pub async fn app_with(config: Config) -> App {
    let router = LiveRouter::new(config)
        .state(Step(10))
        .live::<Counter>("/counter")
        .live::<Pager>("/pager")
        .live_session("admin")
        .on_mount(require_key)
        .live::<Pager>("/admin/pager")
        .into_router();
    serve(router).await
}

/// Serves `router` on a free loopback port until the `App` is dropped.
pub async fn serve(router: axum::Router) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { cinder::serve(listener, router).await });
    App { address, task }
}

/// What a browser takes from the dead render.
pub struct Page {
    pub status: u16,
    /// The response's status line and headers.
    pub head: String,
    pub cookie: String,
    pub csrf: String,
    pub id: String,
    pub session: String,
    pub html: String,
}

pub fn attribute(html: &str, before: &str) -> String {
    let start = html
        .find(before)
        .unwrap_or_else(|| panic!("{before} in {html}"))
        + before.len();
    html[start..].split('"').next().unwrap().to_string()
}

pub async fn get(app: &App, path: &str) -> Page {
    get_with_cookie(app, path, "").await
}

/// A GET that sends `cookie` (`name=value; …`) as the browser would.
pub async fn get_with_cookie(app: &App, path: &str, cookie: &str) -> Page {
    let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: {}\r\ncookie: {cookie}\r\nconnection: close\r\n\r\n",
        app.address
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let cookie = response
        .lines()
        .filter_map(|line| line.strip_prefix("set-cookie: "))
        .find(|value| value.starts_with("_cinder_session="))
        .map(|value| value.split(';').next().unwrap().to_string())
        .unwrap_or_default();
    let html = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let (csrf, id, session) = if status == 200 && html.starts_with("<!DOCTYPE html>") {
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
        head: response
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_string(),
        cookie,
        csrf,
        id,
        session,
        html,
    }
}

pub type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(
    app: &App,
    cookie: &str,
    csrf: &str,
    origin: Option<&str>,
) -> Result<Client, u16> {
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

pub async fn send(client: &mut Client, frame: Value) {
    client
        .send(Frame::Text(frame.to_string().into()))
        .await
        .unwrap();
}

pub async fn recv(client: &mut Client) -> Value {
    serde_json::from_str(&recv_text(client).await).unwrap()
}

/// The text of the next text frame, as the server wrote it.
pub async fn recv_text(client: &mut Client) -> String {
    loop {
        match tokio::time::timeout(PATIENCE, client.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            Frame::Text(text) => return text.to_string(),
            Frame::Ping(_) | Frame::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// A counter page, connected and joined, with the update of its mount's
/// timer already taken: the page, the client and the channel's topic.
pub async fn joined_counter(app: &App) -> (Page, Client, String) {
    let page = get(app, "/counter").await;
    let mut client = connect(app, &page.cookie, &page.csrf, None).await.unwrap();
    let topic = format!("lv:{}", page.id);
    join(&mut client, &page, "").await;
    recv(&mut client).await;
    (page, client, topic)
}

/// Joins the counter page's view with `url_query` on its URL.
pub async fn join(client: &mut Client, page: &Page, url_query: &str) -> Value {
    join_at(
        client,
        page,
        &format!("http://localhost/counter{url_query}"),
    )
    .await
}

/// Joins `page`'s view as the client does for a page at `url`.
pub async fn join_at(client: &mut Client, page: &Page, url: &str) -> Value {
    let topic = format!("lv:{}", page.id);
    send(
        client,
        json!(["4", "4", topic, "phx_join", {"url": url, "params": {"_csrf_token": page.csrf, "_mounts": 0}, "session": page.session, "static": null}]),
    )
    .await;
    recv(client).await
}
