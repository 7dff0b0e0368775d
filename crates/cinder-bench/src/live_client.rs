//! A LiveView client that does what the browser does, and nothing more:
//! the page over HTTP/1.1 (keeping its cookie and CSRF token), the socket at
//! `/live/websocket`, and `phx_join` on the page's `lv:` topic. Any server
//! speaking the LiveView protocol answers it, Phoenix included.
//!
//! Loopback only: every address it connects to or binds is in `127.0.0.0/8`,
//! and when one source address runs out of ports it moves on to the next.

use std::borrow::Cow;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use cinder::socket::serializer::PlainFrame;
use serde_json::value::RawValue;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

mod websocket;

pub use websocket::{Socket, WebSocketError};

/// Why a step of the client failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The address is not a loopback address.
    #[error("{0} is not a loopback address; the load generator only talks to this machine")]
    NotLoopback(SocketAddr),
    /// Connecting or reading failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Every loopback source address ran out of ports.
    #[error("no loopback source address has a free port left")]
    OutOfPorts,
    /// The server answered something that is not HTTP/1.1.
    #[error("malformed HTTP response: {0}")]
    Http(&'static str),
    /// The page answered with another status than 200.
    #[error("the page answered HTTP {0}")]
    Status(u16),
    /// The page lacks the CSRF meta tag or the view's container.
    #[error("the page has no {0}")]
    MissingAttribute(&'static str),
    /// The WebSocket handshake or a frame failed.
    #[error("websocket: {0}")]
    WebSocket(#[from] WebSocketError),
    /// The connection closed before the reply came.
    #[error("the socket closed")]
    Closed,
    /// A frame was not a `[join_ref, ref, topic, event, payload]` array.
    #[error("malformed frame: {0}")]
    Frame(String),
    /// The join was answered with an error.
    #[error("join refused: {0}")]
    JoinRefused(String),
}

/// How many loopback source addresses new connections take turns on.
const SPREAD: u64 = 32;

/// Which loopback source address new connections come from, shared by all
/// connections of a run. Connections take turns on 32 addresses
/// (`127.0.0.1` to `127.0.0.32`), so that no address has many of its
/// ephemeral ports in use: the kernel finds a free port for a connection by
/// searching its address's range, and that search grows slow (in the
/// generator's system time, not the server's) as the range fills. An
/// address that does run out of ports is left for the next ones.
#[derive(Debug, Default)]
pub struct Sources {
    /// Connections made so far: the turn of the next one.
    turn: AtomicU64,
    /// How many addresses were skipped for running out of ports.
    skipped: AtomicU8,
}

impl Sources {
    /// How many source addresses beyond `127.0.0.1` were used so far.
    pub fn extra(&self) -> u8 {
        let turns = self.turn.load(Ordering::Relaxed).min(SPREAD) as u8;
        turns.saturating_sub(1) + self.skipped.load(Ordering::Relaxed)
    }

    /// A TCP connection to `server` from the next source address.
    pub async fn connect(&self, server: SocketAddr) -> Result<TcpStream, ClientError> {
        if !server.ip().is_loopback() {
            return Err(ClientError::NotLoopback(server));
        }
        loop {
            let turn = self.turn.fetch_add(1, Ordering::Relaxed) % SPREAD;
            let skipped = u64::from(self.skipped.load(Ordering::Relaxed));
            let Ok(index) = u8::try_from(turn + skipped) else {
                return Err(ClientError::OutOfPorts);
            };
            if index == u8::MAX - 1 {
                return Err(ClientError::OutOfPorts);
            }
            match connect_from(index, server).await {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    return Ok(stream);
                }
                Err(error) if ports_exhausted(&error) => {
                    // Move every turn one address on, past the full one.
                    let _ = self.skipped.compare_exchange(
                        skipped as u8,
                        skipped as u8 + 1,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
}

async fn connect_from(index: u8, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    let source = Ipv4Addr::new(127, 0, 0, index + 1);
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    socket.connect(server).await
}

fn ports_exhausted(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::AddrNotAvailable | ErrorKind::AddrInUse
    )
}

/// An HTTP response, as far as the client reads it.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `name=value` part of the `set-cookie` header, if any.
    pub cookie: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// One keep-alive HTTP/1.1 connection.
pub struct HttpConnection {
    stream: TcpStream,
    host: String,
    buffer: Vec<u8>,
}

impl HttpConnection {
    /// Opens a connection to `server`.
    pub async fn open(sources: &Sources, server: SocketAddr) -> Result<Self, ClientError> {
        Ok(HttpConnection {
            stream: sources.connect(server).await?,
            host: server.to_string(),
            buffer: Vec::with_capacity(16 * 1024),
        })
    }

    /// `GET path`, with `cookie` if given; the connection stays open.
    pub async fn get(&mut self, path: &str, cookie: Option<&str>) -> Result<Response, ClientError> {
        let cookie = cookie.map_or(String::new(), |c| format!("cookie: {c}\r\n"));
        let request = format!("GET {path} HTTP/1.1\r\nhost: {}\r\n{cookie}\r\n", self.host);
        self.stream.write_all(request.as_bytes()).await?;
        self.read_response().await
    }

    async fn read_response(&mut self) -> Result<Response, ClientError> {
        let head_end = loop {
            if let Some(end) = head_end(&self.buffer) {
                break end;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_end])
            .map_err(|_| ClientError::Http("the head is not UTF-8"))?;
        let status = head
            .get(9..12)
            .and_then(|code| code.parse().ok())
            .ok_or(ClientError::Http("no status line"))?;
        let length: usize = header(head, "content-length")
            .and_then(|value| value.parse().ok())
            .ok_or(ClientError::Http("no content-length"))?;
        let cookie = header(head, "set-cookie")
            .map(|value| value.split(';').next().unwrap_or_default().to_owned());
        while self.buffer.len() < head_end + length {
            self.fill().await?;
        }
        let body = self.buffer[head_end..head_end + length].to_vec();
        self.buffer.drain(..head_end + length);
        Ok(Response {
            status,
            cookie,
            body,
        })
    }

    async fn fill(&mut self) -> Result<(), ClientError> {
        // Read straight into the buffer's spare room: a zeroed chunk to read
        // into first cost more than all the rest of reading a page.
        self.buffer.reserve(16 * 1024);
        let read = self.stream.read_buf(&mut self.buffer).await?;
        if read == 0 {
            return Err(ClientError::Http("the connection closed mid-response"));
        }
        Ok(())
    }
}

/// Where the body of a response starts: after the blank line ending its
/// head. Only the line ends are compared, not every position.
fn head_end(buffer: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = buffer[from..].iter().position(|&byte| byte == b'\n') {
        let end = from + at + 1;
        if buffer[..end].ends_with(b"\r\n\r\n") {
            return Some(end);
        }
        from = end;
    }
    None
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// What a browser takes from a live page's dead render.
#[derive(Debug, Clone)]
pub struct Page {
    /// The cookie the page set (`name=value`).
    pub cookie: String,
    /// The CSRF token of the meta tag.
    pub csrf: String,
    /// The container's id; the channel topic is `lv:<id>`.
    pub id: String,
    /// The container's `data-phx-session`.
    pub session: String,
    /// The container's `data-phx-static`.
    pub static_token: String,
    /// The size of the page's HTML.
    pub bytes: usize,
}

impl Page {
    /// Reads the tokens out of a dead render.
    pub fn parse(response: &Response) -> Result<Page, ClientError> {
        if response.status != 200 {
            return Err(ClientError::Status(response.status));
        }
        let html = std::str::from_utf8(&response.body)
            .map_err(|_| ClientError::Http("the page is not UTF-8"))?;
        let container = html
            .find("data-phx-main")
            .or_else(|| html.find("data-phx-session"))
            .ok_or(ClientError::MissingAttribute("view container"))?;
        let tag_start = html[..container]
            .rfind('<')
            .ok_or(ClientError::MissingAttribute("view container"))?;
        let tag = &html[tag_start..];
        Ok(Page {
            cookie: response.cookie.clone().unwrap_or_default(),
            csrf: attribute(html, r#"name="csrf-token" content=""#)
                .ok_or(ClientError::MissingAttribute("csrf-token meta tag"))?,
            id: attribute(tag, r#" id=""#).ok_or(ClientError::MissingAttribute("container id"))?,
            session: attribute(tag, r#"data-phx-session=""#)
                .ok_or(ClientError::MissingAttribute("data-phx-session"))?,
            static_token: attribute(tag, r#"data-phx-static=""#).unwrap_or_default(),
            bytes: response.body.len(),
        })
    }
}

fn attribute(html: &str, before: &str) -> Option<String> {
    let start = html.find(before)? + before.len();
    Some(html[start..].split('"').next()?.to_owned())
}

/// A joined live view: its socket and what addresses its channel.
pub struct LiveSession {
    /// The connection.
    pub socket: Socket,
    /// `lv:<container id>`.
    pub topic: String,
    /// The join's reference, carried by every message of the channel.
    pub join_ref: String,
    /// The size of the page's HTML.
    pub page_bytes: usize,
    /// The size of the join reply frame.
    pub join_reply_bytes: usize,
    next_ref: u64,
}

impl LiveSession {
    /// Loads `path` and joins its view, as the browser does: GET, WebSocket
    /// with the cookie and CSRF token, `phx_join`, the reply.
    pub async fn open(
        sources: &Sources,
        server: SocketAddr,
        path: &str,
    ) -> Result<LiveSession, ClientError> {
        LiveSession::open_reusing(&mut None, sources, server, path).await
    }

    /// Like [`open`](LiveSession::open), loading the page over `http`, a
    /// keep-alive connection kept for the next session (opened when `None`,
    /// and once more if the server closed it), as a browser loads pages over
    /// a connection it already has. Only the WebSocket is a new connection.
    pub async fn open_reusing(
        http: &mut Option<HttpConnection>,
        sources: &Sources,
        server: SocketAddr,
        path: &str,
    ) -> Result<LiveSession, ClientError> {
        let mut kept = None;
        if let Some(connection) = http.as_mut() {
            // A failure means the server closed it since: open another.
            kept = connection.get(path, None).await.ok();
        }
        let response = match kept {
            Some(response) => response,
            None => {
                let connection = http.insert(HttpConnection::open(sources, server).await?);
                connection.get(path, None).await?
            }
        };
        let page = Page::parse(&response)?;
        let socket = websocket(sources, server, &page).await?;
        let mut session = LiveSession {
            socket,
            topic: format!("lv:{}", page.id),
            join_ref: "1".into(),
            page_bytes: page.bytes,
            join_reply_bytes: 0,
            next_ref: 2,
        };
        session.join(server, path, &page).await?;
        Ok(session)
    }

    async fn join(
        &mut self,
        server: SocketAddr,
        path: &str,
        page: &Page,
    ) -> Result<(), ClientError> {
        let frame = join_frame(&self.join_ref, &self.topic, server, path, page);
        self.socket.send_text(&frame).await?;
        loop {
            let text = self.socket.next_text().await?.ok_or(ClientError::Closed)?;
            let frame = Frame::parse(text)?;
            if frame.msg_ref.as_deref() == Some(&self.join_ref) {
                self.join_reply_bytes = text.len();
                let joined = match &*frame.status()? {
                    "ok" => Ok(()),
                    _ => Err(ClientError::JoinRefused(frame.payload.to_owned())),
                };
                // The reply is a page's worth, and the session may now be
                // held idle for long.
                self.socket.release_read_buffer();
                return joined;
            }
        }
    }

    /// A fresh message reference.
    pub fn next_ref(&mut self) -> u64 {
        let reference = self.next_ref;
        self.next_ref += 1;
        reference
    }

    /// The text of an `event` message with reference `msg_ref` carrying
    /// `payload` (JSON).
    pub fn event_frame(&self, msg_ref: u64, payload: &str) -> String {
        format!(
            r#"["{}","{msg_ref}","{}","event",{payload}]"#,
            self.join_ref, self.topic
        )
    }

    /// The text of a heartbeat with reference `msg_ref`.
    pub fn heartbeat_frame(msg_ref: u64) -> String {
        format!(r#"[null,"{msg_ref}","phoenix","heartbeat",{{}}]"#)
    }
}

/// The `phx_join` the browser sends for `page`, written as text: building a
/// JSON value to print it cost as much as reading the join's reply.
fn join_frame(join_ref: &str, topic: &str, server: SocketAddr, path: &str, page: &Page) -> String {
    let string = |text: &str| serde_json::to_string(text).expect("a string is written as JSON");
    let static_token = match page.static_token.as_str() {
        "" => "null".to_owned(),
        token => string(token),
    };
    format!(
        r#"[{join_ref},{join_ref},{topic},"phx_join",{{"url":{url},"params":{{"_csrf_token":{csrf},"_mounts":0,"_mount_attempts":0}},"session":{session},"static":{static_token},"sticky":false}}]"#,
        join_ref = string(join_ref),
        topic = string(topic),
        url = string(&format!("http://{server}{path}")),
        csrf = string(&page.csrf),
        session = string(&page.session),
    )
}

async fn websocket(
    sources: &Sources,
    server: SocketAddr,
    page: &Page,
) -> Result<Socket, ClientError> {
    let stream = sources.connect(server).await?;
    let target = format!("/live/websocket?_csrf_token={}&vsn=2.0.0", page.csrf);
    let cookie = Some(page.cookie.as_str()).filter(|cookie| !cookie.is_empty());
    Ok(Socket::handshake(stream, &server.to_string(), &target, cookie).await?)
}

/// One received message: `[join_ref, ref, topic, event, payload]`, read in
/// place from its text.
#[derive(Debug)]
pub struct Frame<'a> {
    /// The channel's join reference, if any.
    pub join_ref: Option<Cow<'a, str>>,
    /// The message reference: set on replies, `null` on pushes.
    pub msg_ref: Option<Cow<'a, str>>,
    /// The topic.
    pub topic: Cow<'a, str>,
    /// `phx_reply`, `diff`, `phx_close`, …
    pub event: Cow<'a, str>,
    /// The payload's JSON text, unparsed.
    pub payload: &'a str,
}

impl<'a> Frame<'a> {
    /// Parses a text frame.
    ///
    /// A frame as Cinder and Phoenix write it is read in place, without a
    /// JSON parser, and its payload is not checked as JSON: the generator
    /// reads of it only what it measures (a reply's status), and checking a
    /// server's JSON is the business of its tests. A `/rows` join reply is
    /// 6 KiB of escaped HTML, and checking it cost the generator more than
    /// all the rest of a session's setup.
    pub fn parse(text: &'a str) -> Result<Frame<'a>, ClientError> {
        if let Some(frame) = Frame::parse_plain(text) {
            return Ok(frame);
        }
        #[derive(serde::Deserialize)]
        struct Parts<'a>(
            #[serde(borrow)] Option<Cow<'a, str>>,
            #[serde(borrow)] Option<Cow<'a, str>>,
            #[serde(borrow)] Cow<'a, str>,
            #[serde(borrow)] Cow<'a, str>,
            #[serde(borrow)] &'a RawValue,
        );
        let Parts(join_ref, msg_ref, topic, event, payload) =
            serde_json::from_str(text).map_err(|error| ClientError::Frame(error.to_string()))?;
        Ok(Frame {
            join_ref,
            msg_ref,
            topic,
            event,
            payload: payload.get(),
        })
    }

    /// A frame as Cinder and Phoenix write it ([`PlainFrame`]) whose
    /// payload is an object. `None` for any other frame, which the JSON
    /// parser then reads, or refuses with its reason.
    fn parse_plain(text: &'a str) -> Option<Frame<'a>> {
        let frame = PlainFrame::read(text)?;
        if !(frame.payload.starts_with('{') && frame.payload.ends_with('}')) {
            return None;
        }
        Some(Frame {
            join_ref: frame.join_ref.map(Cow::Borrowed),
            msg_ref: frame.msg_ref.map(Cow::Borrowed),
            topic: Cow::Borrowed(frame.topic),
            event: Cow::Borrowed(frame.event),
            payload: frame.payload,
        })
    }

    /// The `status` of a `phx_reply`.
    pub fn status(&self) -> Result<Cow<'a, str>, ClientError> {
        if let Some(status) = leading_or_trailing_status(self.payload) {
            return Ok(Cow::Borrowed(status));
        }
        #[derive(serde::Deserialize)]
        struct Reply<'a> {
            #[serde(borrow)]
            status: Cow<'a, str>,
        }
        serde_json::from_str::<Reply<'a>>(self.payload)
            .map(|reply| reply.status)
            .map_err(|error| ClientError::Frame(error.to_string()))
    }

    /// The message reference as a number, when it is one.
    pub fn ref_number(&self) -> Option<u64> {
        self.msg_ref.as_deref()?.parse().ok()
    }
}

/// The status of a reply that starts or ends with it, read without going
/// through the response: a `/rows` join reply's response is 6 KiB of
/// escaped HTML. Cinder writes `{"status":"ok","response":{…}}`, Phoenix
/// `{"response":{…},"status":"ok"}`. In a payload of well-formed JSON, a
/// status without quote or backslash at either end can only be a member of
/// the object itself. `None` for any other payload.
fn leading_or_trailing_status(payload: &str) -> Option<&str> {
    let simple = |status: &str| !status.contains('\\');
    if let Some(rest) = payload.strip_prefix(r#"{"status":""#) {
        let (status, after) = rest.split_once('"')?;
        let member_ends = after.starts_with(',') || after.starts_with('}');
        return (simple(status) && member_ends).then_some(status);
    }
    let rest = payload.strip_suffix("\"}")?;
    let start = rest.rfind('"')?;
    let status = &rest[start + 1..];
    let member = rest[..start].strip_suffix(r#""status":"#)?;
    let member_starts = member.ends_with(',') || member.ends_with('{');
    (simple(status) && member_starts).then_some(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_response(html: &str) -> Response {
        Response {
            status: 200,
            cookie: Some("_cinder_session=abc".into()),
            body: html.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_page_gives_the_tokens_the_browser_joins_with() {
        let html = r#"<html><head><meta name="csrf-token" content="tok-1"></head>
            <body><div id="phx-A1" data-phx-main data-phx-session="sess.sig" data-phx-static="stat.sig"><h1>Count: 0</h1></div></body></html>"#;
        let page = Page::parse(&page_response(html)).unwrap();
        assert_eq!(page.cookie, "_cinder_session=abc");
        assert_eq!(page.csrf, "tok-1");
        assert_eq!(page.id, "phx-A1");
        assert_eq!(page.session, "sess.sig");
        assert_eq!(page.static_token, "stat.sig");
        assert_eq!(page.bytes, html.len());
    }

    #[test]
    fn a_page_without_a_live_view_is_an_error() {
        let html = r#"<meta name="csrf-token" content="tok"><p>plain</p>"#;
        assert!(matches!(
            Page::parse(&page_response(html)),
            Err(ClientError::MissingAttribute("view container"))
        ));
        let refused = Response {
            status: 403,
            cookie: None,
            body: Vec::new(),
        };
        assert!(matches!(
            Page::parse(&refused),
            Err(ClientError::Status(403))
        ));
    }

    #[test]
    fn a_reply_frame_gives_its_reference_and_status() {
        let frame = Frame::parse(
            r#"["1","7","lv:phx-A1","phx_reply",{"status":"ok","response":{"diff":{"0":"1"}}}]"#,
        )
        .unwrap();
        assert_eq!(frame.join_ref.as_deref(), Some("1"));
        assert_eq!(frame.ref_number(), Some(7));
        assert_eq!(frame.topic, "lv:phx-A1");
        assert_eq!(frame.event, "phx_reply");
        assert_eq!(frame.status().unwrap(), "ok");
    }

    #[test]
    fn a_status_is_read_wherever_the_reply_puts_it() {
        let cases = [
            (
                r#"{"response":{"rendered":{"0":"a\"b"}},"status":"ok"}"#,
                "ok",
            ),
            (
                r#"{"status":"error","response":{"reason":"stale"}}"#,
                "error",
            ),
            (r#"{"response":{},"status": "ok"}"#, "ok"),
            (r#"{"status":"ok"}"#, "ok"),
            (r#"{"response":{"status":"ok"},"status":"error"}"#, "error"),
            (
                r#"{"status":"error","response":{"x":"\",\"status\":\"ok"}}"#,
                "error",
            ),
        ];
        for (payload, status) in cases {
            let text = format!(r#"["1","2","lv:phx-A1","phx_reply",{payload}]"#);
            let frame = Frame::parse(&text).unwrap();
            assert_eq!(frame.status().unwrap(), status, "{payload}");
        }
        let read = leading_or_trailing_status;
        assert_eq!(read(r#"{"a":"x","status":"ok"}"#), Some("ok"));
        assert_eq!(read(r#"{"status":"ok","response":{"a":"\""}}"#), Some("ok"));
        assert_eq!(read(r#"{"status":"o\"k"}"#), None);
        assert_eq!(read(r#"{"status":"o\\","response":{}}"#), None);
        assert_eq!(read(r#"{"a":"x\"status\":\"ok"}"#), None);
    }

    #[test]
    fn a_push_has_no_reference() {
        let frame = Frame::parse(r#"["1",null,"lv:phx-A1","diff",{"0":"2"}]"#).unwrap();
        assert_eq!(frame.msg_ref, None);
        assert_eq!(frame.event, "diff");
        assert!(Frame::parse(r#"{"not":"a frame"}"#).is_err());
    }

    #[test]
    fn a_frame_is_read_in_place_or_by_the_json_parser_alike() {
        let plain = r#"["1","7","lv:phx-A1","phx_reply",{"status":"ok","response":{}}]"#;
        let frame = Frame::parse(plain).unwrap();
        assert!(matches!(frame.topic, Cow::Borrowed(_)));
        assert_eq!(frame.payload, r#"{"status":"ok","response":{}}"#);
        // Escapes in the head and spaces between fields go to the parser,
        // which reads the same frame.
        let escaped = r#"["1", "7", "lv:phx-A1","phx_reply", {"status":"ok","response":{}}]"#;
        let frame = Frame::parse(escaped).unwrap();
        assert_eq!(frame.topic, "lv:phx-A1");
        assert_eq!(frame.ref_number(), Some(7));
        assert_eq!(frame.payload, r#"{"status":"ok","response":{}}"#);
        assert_eq!(frame.status().unwrap(), "ok");
        // A head that is not plain and not JSON is refused.
        assert!(Frame::parse(r#"["1","7","lv:x","phx_reply",oops]"#).is_err());
        assert!(Frame::parse(r#"["1","7","lv:x"]"#).is_err());
    }

    #[test]
    fn a_join_frame_is_the_one_the_browser_sends() {
        let page = Page {
            cookie: String::new(),
            csrf: "c\"s".into(),
            id: "phx-A1".into(),
            session: "SFMy".into(),
            static_token: String::new(),
            bytes: 0,
        };
        let server = SocketAddr::from(([127, 0, 0, 1], 4000));
        let frame = join_frame("1", "lv:phx-A1", server, "/rows", &page);
        let frame: serde_json::Value = serde_json::from_str(&frame).unwrap();
        let expected = serde_json::json!(["1", "1", "lv:phx-A1", "phx_join", {
            "url": "http://127.0.0.1:4000/rows",
            "params": {"_csrf_token": "c\"s", "_mounts": 0, "_mount_attempts": 0},
            "session": "SFMy",
            "static": null,
            "sticky": false,
        }]);
        assert_eq!(frame, expected);
        let page = Page {
            static_token: "STAT".into(),
            ..page
        };
        let frame = join_frame("1", "lv:phx-A1", server, "/rows", &page);
        let frame: serde_json::Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(frame[4]["static"], "STAT");
    }

    #[test]
    fn a_response_body_starts_after_the_blank_line() {
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\na: b\r\n\r\nbody"), Some(25));
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\na: b\r\n"), None);
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\na: b\n\r\n"), None);
        assert_eq!(head_end(b""), None);
    }

    #[test]
    fn frames_sent_carry_the_channel_and_reference() {
        assert_eq!(
            LiveSession::heartbeat_frame(5),
            r#"[null,"5","phoenix","heartbeat",{}]"#
        );
        let frame: serde_json::Value =
            serde_json::from_str(&LiveSession::heartbeat_frame(5)).unwrap();
        assert_eq!(frame[3], "heartbeat");
    }

    #[test]
    fn headers_are_found_whatever_their_case() {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nset-cookie: a=b; Path=/\r\n\r\n";
        assert_eq!(header(head, "content-length"), Some("12"));
        assert_eq!(header(head, "Set-Cookie"), Some("a=b; Path=/"));
        assert_eq!(header(head, "location"), None);
    }

    #[tokio::test]
    async fn only_loopback_addresses_are_connected_to() {
        let sources = Sources::default();
        let outside = SocketAddr::from(([192, 0, 2, 1], 80));
        assert!(matches!(
            sources.connect(outside).await,
            Err(ClientError::NotLoopback(_))
        ));
    }
}
