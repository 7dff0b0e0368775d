//! The server side of RFC 6455 WebSockets, sized for many idle connections.
//!
//! A live page keeps its connection open for as long as it is shown, and
//! most of that time nothing moves. So an idle [`WebSocket`] holds no
//! buffer at all: bytes are read into one scratch buffer per thread and
//! decoded where they lie (a message reaches its decoder as a borrowed
//! `&str` or `&[u8]`, unmasked in place), and frames to send are gathered
//! only until the next [`flush`](WebSocket::flush). Only a frame split
//! across reads, or a message split across frames, is kept between reads.
//!
//! [`WebSocketUpgrade`] is the axum extractor that accepts the handshake:
//!
//! ```no_run
//! use axum::{response::Response, routing::get, Router};
//! use cinder::socket::websocket::{Incoming, WebSocketUpgrade};
//!
//! async fn echo(upgrade: WebSocketUpgrade) -> Response {
//!     upgrade.on_upgrade(|mut ws| async move {
//!         loop {
//!             let text = ws.recv(|message| match message {
//!                 Incoming::Text(text) => text.to_owned(),
//!                 Incoming::Binary(_) => String::new(),
//!             });
//!             let Ok(Some(text)) = text.await else { break };
//!             ws.feed_text(&text);
//!             if ws.flush().await.is_err() {
//!                 break;
//!             }
//!         }
//!     })
//! }
//!
//! let app: Router = Router::new().route("/ws", get(echo));
//! ```

mod sender;

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll, Waker};
use std::time::Duration;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, ReadBuf, ReadHalf};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;

pub use sender::WebSocketSender;
pub(crate) use sender::{page_buffer, PageBytes, RoomyText};
use sender::{Outgoing, WriteTransport};

/// What the client sent: a whole message, borrowed from the read buffer.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// A text message (valid UTF-8).
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
}

/// Why a connection failed; [`close_code`](WebSocketError::close_code) is
/// what to tell the peer.
#[derive(Debug, thiserror::Error)]
pub enum WebSocketError {
    /// The peer broke the framing rules (unmasked frame, reserved bits,
    /// unknown opcode, a control frame that is fragmented or too long, a
    /// continuation with nothing to continue).
    #[error("WebSocket protocol error: {0}")]
    Protocol(&'static str),
    /// A message larger than the connection accepts.
    #[error("message too big: the limit is {limit} bytes")]
    TooBig {
        /// The largest message accepted, in bytes.
        limit: usize,
    },
    /// A text message that is not UTF-8.
    #[error("a text message is not valid UTF-8")]
    InvalidUtf8,
    /// The connection itself failed.
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
}

impl WebSocketError {
    /// The close code RFC 6455 gives this error (1002, 1009 or 1007); 1011
    /// for a failed connection, which can take no close frame anyway.
    pub fn close_code(&self) -> u16 {
        match self {
            WebSocketError::Protocol(_) => 1002,
            WebSocketError::TooBig { .. } => 1009,
            WebSocketError::InvalidUtf8 => 1007,
            WebSocketError::Io(_) => 1011,
        }
    }
}

const OP_CONTINUATION: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// How much one read takes from the network, into the thread's scratch
/// buffer. A frame larger than this is gathered over several reads.
const READ_CHUNK: usize = 8 * 1024;

/// The largest message a connection accepts unless told otherwise.
const DEFAULT_MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// How long [`WebSocket::close`] waits for its close frame to be written.
const CLOSE_PATIENCE: Duration = Duration::from_secs(5);

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_CHUNK].into_boxed_slice());
}

/// One accepted WebSocket connection (server side).
///
/// Read with [`recv`](WebSocket::recv); write with
/// [`feed_text`](WebSocket::feed_text) / [`feed_binary`](WebSocket::feed_binary),
/// then [`flush`](WebSocket::flush), or from other tasks through a
/// [`sender`](WebSocket::sender). Pings are answered with pongs and a close
/// frame with its echo, on the next flush.
pub struct WebSocket {
    io: ReadTransport,
    /// The sending half, shared with the senders.
    outgoing: Arc<Outgoing>,
    /// The waker last handed to the senders, to wake this WebSocket's task
    /// when they leave bytes for it to write.
    owner: Option<Waker>,
    /// Received bytes that do not yet make a whole frame, or that follow the
    /// frame last decoded. Empty, with no allocation, between frames.
    partial: Vec<u8>,
    /// The message being gathered from fragments: its opcode and payload.
    fragments: Option<(u8, Vec<u8>)>,
    max_message_bytes: usize,
    close_received: bool,
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match self.io {
            ReadTransport::Tcp(_) => "tcp",
            ReadTransport::Upgraded(_) => "upgraded",
        };
        let unsent = self.outgoing.lock();
        f.debug_struct("WebSocket")
            .field("transport", &transport)
            .field("buffered", &self.partial.len())
            .field("unsent", &unsent.unsent_len())
            .field("close_sent", &unsent.close_sent())
            .field("close_received", &self.close_received)
            .finish_non_exhaustive()
    }
}

/// What one read from the network gave.
enum Read<T> {
    /// A message, the end of the connection, or an error.
    Found(Result<Option<T>, WebSocketError>),
    /// Not yet a whole message.
    More,
}

/// One frame's header, read from the start of a buffer.
struct Header {
    fin: bool,
    opcode: u8,
    mask: [u8; 4],
    /// Where the payload starts.
    offset: usize,
    len: usize,
}

/// The reading side of the connection under a WebSocket.
enum ReadTransport {
    /// The TCP connection itself, taken back from the HTTP server that
    /// upgraded it: every read goes straight to the socket.
    Tcp(OwnedReadHalf),
    /// Any other connection (TLS, an in-memory pipe), through hyper's
    /// upgraded I/O.
    Upgraded(ReadHalf<TokioIo<Upgraded>>),
}

impl ReadTransport {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self {
            ReadTransport::Tcp(tcp) => Pin::new(tcp).poll_read(cx, buf),
            ReadTransport::Upgraded(io) => Pin::new(io).poll_read(cx, buf),
        }
    }
}

impl WebSocket {
    /// The WebSocket on a connection hyper has switched. A TCP connection
    /// is taken out of hyper's boxed I/O (and, under `axum::serve`, out of
    /// the wrapper that looked for HTTP/2's preface), whose layers would
    /// otherwise add their calls to every read and write of the
    /// connection's life; bytes the HTTP server read past the handshake
    /// come along.
    fn upgraded(upgraded: Upgraded) -> WebSocket {
        let tcp = |io: TokioIo<TcpStream>, read_ahead: &[u8]| {
            let (read, write) = io.into_inner().into_split();
            WebSocket::new(
                ReadTransport::Tcp(read),
                WriteTransport::Tcp(write),
                read_ahead,
            )
        };
        match auto::upgrade::downcast::<TokioIo<TcpStream>>(upgraded) {
            Ok(parts) => tcp(parts.io, &parts.read_buf),
            Err(upgraded) => match upgraded.downcast::<TokioIo<TcpStream>>() {
                Ok(parts) => tcp(parts.io, &parts.read_buf),
                Err(upgraded) => {
                    let (read, write) = tokio::io::split(TokioIo::new(upgraded));
                    WebSocket::new(
                        ReadTransport::Upgraded(read),
                        WriteTransport::Upgraded(write),
                        &[],
                    )
                }
            },
        }
    }

    /// A WebSocket on `io`, which already read `read_ahead` from the peer.
    fn new(read: ReadTransport, write: WriteTransport, read_ahead: &[u8]) -> WebSocket {
        WebSocket {
            io: read,
            outgoing: Outgoing::new(write),
            owner: None,
            partial: read_ahead.to_vec(),
            fragments: None,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            close_received: false,
        }
    }

    /// Sets the largest message the connection accepts (default 1 MiB); a
    /// larger one fails [`recv`](WebSocket::recv) with
    /// [`WebSocketError::TooBig`] as soon as its header announces it.
    pub fn set_max_message_bytes(&mut self, limit: usize) {
        self.max_message_bytes = limit;
    }

    /// Waits for the next message and hands it to `decode`; `Ok(None)` when
    /// the peer closed the connection.
    ///
    /// Cancel safe: bytes read and not yet decoded stay buffered, so this
    /// can race other futures in a `select!`.
    pub fn recv<'a, T>(
        &'a mut self,
        mut decode: impl FnMut(Incoming<'_>) -> T + 'a,
    ) -> impl Future<Output = Result<Option<T>, WebSocketError>> + 'a {
        poll_fn(move |cx| self.poll_recv(cx, &mut decode))
    }

    fn poll_recv<T>(
        &mut self,
        cx: &mut Context<'_>,
        decode: &mut impl FnMut(Incoming<'_>) -> T,
    ) -> Poll<Result<Option<T>, WebSocketError>> {
        if self.close_received {
            return Poll::Ready(Ok(None));
        }
        self.watch_senders(cx);
        // Pongs, a close echo and what senders could not write go out
        // without waiting for the caller's next flush; a full socket
        // buffer only delays them.
        if self.outgoing.is_stranded() {
            let _ = self.outgoing.poll_flush(cx);
        }
        loop {
            if !self.partial.is_empty() {
                let mut buffered = std::mem::take(&mut self.partial);
                let (used, found) = self.decode_frames(&mut buffered, decode);
                buffered.drain(..used);
                if !buffered.is_empty() {
                    self.partial = buffered;
                }
                if let Some(found) = found {
                    return Poll::Ready(found);
                }
            }
            let read = SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                let mut buf = ReadBuf::new(&mut scratch[..]);
                match self.io.poll_read(cx, &mut buf) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(error)) => Poll::Ready(Read::Found(Err(error.into()))),
                    // The peer went away without a close frame.
                    Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                        Poll::Ready(Read::Found(Ok(None)))
                    }
                    Poll::Ready(Ok(())) => {
                        let filled = buf.filled().len();
                        Poll::Ready(self.take_read(&mut scratch[..filled], decode))
                    }
                }
            });
            match ready!(read) {
                Read::Found(found) => return Poll::Ready(found),
                Read::More => continue,
            }
        }
    }

    /// Decodes what one read brought. Bytes that do not finish a frame, or
    /// follow the message decoded, are kept for the next call.
    fn take_read<T>(
        &mut self,
        read: &mut [u8],
        decode: &mut impl FnMut(Incoming<'_>) -> T,
    ) -> Read<T> {
        if !self.partial.is_empty() {
            self.partial.extend_from_slice(read);
            return Read::More;
        }
        let (used, found) = self.decode_frames(read, decode);
        self.partial.extend_from_slice(&read[used..]);
        match found {
            Some(found) => Read::Found(found),
            None => Read::More,
        }
    }

    /// Decodes frames from the start of `buf` until a message is complete,
    /// the connection is closed or broken, or `buf` ends in a partial frame.
    /// Returns how many bytes it used and what it found.
    fn decode_frames<T>(
        &mut self,
        buf: &mut [u8],
        decode: &mut impl FnMut(Incoming<'_>) -> T,
    ) -> (usize, Option<Result<Option<T>, WebSocketError>>) {
        let mut used = 0;
        loop {
            let header = match self.header(&buf[used..]) {
                Ok(Some(header)) => header,
                Ok(None) => return (used, None),
                Err(error) => return (used, Some(Err(error))),
            };
            let start = used + header.offset;
            let payload = &mut buf[start..start + header.len];
            used = start + header.len;
            unmask(payload, header.mask);
            if let Some(found) = self.frame(&header, payload, decode) {
                return (used, Some(found));
            }
        }
    }

    /// Reads a frame header; `None` until the whole frame is in `buf`.
    fn header(&self, buf: &[u8]) -> Result<Option<Header>, WebSocketError> {
        let [first, second, rest @ ..] = buf else {
            return Ok(None);
        };
        if first & 0x70 != 0 {
            return Err(WebSocketError::Protocol(
                "reserved bits set without an extension",
            ));
        }
        if second & 0x80 == 0 {
            return Err(WebSocketError::Protocol("a client frame must be masked"));
        }
        let (len, rest) = match second & 0x7F {
            126 => match rest {
                [a, b, rest @ ..] => (u64::from(u16::from_be_bytes([*a, *b])), rest),
                _ => return Ok(None),
            },
            127 => match rest.split_first_chunk::<8>() {
                Some((bytes, rest)) => (u64::from_be_bytes(*bytes), rest),
                None => return Ok(None),
            },
            short => (u64::from(short), rest),
        };
        let opcode = first & 0x0F;
        let fin = first & 0x80 != 0;
        if opcode >= OP_CLOSE && (len > 125 || !fin) {
            return Err(WebSocketError::Protocol(
                "a control frame must be whole and at most 125 bytes",
            ));
        }
        let limit = self.max_message_bytes;
        let gathered = self.fragments.as_ref().map_or(0, |(_, bytes)| bytes.len());
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= limit.saturating_sub(gathered))
            .ok_or(WebSocketError::TooBig { limit })?;
        let Some((mask, _)) = rest.split_first_chunk::<4>() else {
            return Ok(None);
        };
        let offset = buf.len() - rest.len() + 4;
        if buf.len() - offset < len {
            return Ok(None);
        }
        Ok(Some(Header {
            fin,
            opcode,
            mask: *mask,
            offset,
            len,
        }))
    }

    /// Acts on one unmasked frame; `Some` when the caller has an answer.
    fn frame<T>(
        &mut self,
        header: &Header,
        payload: &mut [u8],
        decode: &mut impl FnMut(Incoming<'_>) -> T,
    ) -> Option<Result<Option<T>, WebSocketError>> {
        match header.opcode {
            OP_TEXT | OP_BINARY if self.fragments.is_some() => Some(Err(WebSocketError::Protocol(
                "a new message began inside a fragmented one",
            ))),
            OP_TEXT | OP_BINARY if header.fin => Some(message(header.opcode, payload, decode)),
            OP_TEXT | OP_BINARY => {
                self.fragments = Some((header.opcode, payload.to_vec()));
                None
            }
            OP_CONTINUATION => {
                let Some((opcode, gathered)) = self.fragments.as_mut() else {
                    return Some(Err(WebSocketError::Protocol(
                        "a continuation frame with nothing to continue",
                    )));
                };
                gathered.extend_from_slice(payload);
                if !header.fin {
                    return None;
                }
                let opcode = *opcode;
                let mut whole = self.fragments.take().map(|(_, bytes)| bytes)?;
                Some(message(opcode, &mut whole, decode))
            }
            OP_PING => {
                self.outgoing.lock().queue_frame(OP_PONG, payload);
                self.outgoing.strand();
                None
            }
            OP_PONG => None,
            OP_CLOSE => {
                self.close_received = true;
                // Echo the peer's status code, as RFC 6455 asks.
                let code = payload.get(..2).unwrap_or(&[]).to_vec();
                self.outgoing.lock().queue_close(&code);
                self.outgoing.strand();
                Some(Ok(None))
            }
            _ => Some(Err(WebSocketError::Protocol("unknown opcode"))),
        }
    }

    /// Queues a text message for the next [`flush`](WebSocket::flush).
    pub fn feed_text(&mut self, text: &str) {
        self.outgoing.lock().queue_frame(OP_TEXT, text.as_bytes());
    }

    /// Queues a text message for the next [`flush`](WebSocket::flush),
    /// taking its memory: when nothing else is queued, the frame goes out
    /// from the message's own buffer, its header put in front, rather than
    /// from a copy.
    pub fn feed_text_owned(&mut self, text: String) {
        self.outgoing.lock().queue_owned(OP_TEXT, text.into_bytes());
    }

    /// Queues a text message built behind room for its header for the
    /// next [`flush`](WebSocket::flush): when nothing else is queued, the
    /// frame goes out from the message's own buffer without moving it.
    pub(crate) fn feed_roomy_text(&mut self, text: RoomyText) {
        self.outgoing.lock().queue_roomy(text);
    }

    /// Queues a binary message for the next [`flush`](WebSocket::flush).
    pub fn feed_binary(&mut self, bytes: &[u8]) {
        self.outgoing.lock().queue_frame(OP_BINARY, bytes);
    }

    /// Queues a binary message for the next [`flush`](WebSocket::flush),
    /// taking its memory, as [`feed_text_owned`](WebSocket::feed_text_owned)
    /// does.
    pub fn feed_binary_owned(&mut self, bytes: Vec<u8>) {
        self.outgoing.lock().queue_owned(OP_BINARY, bytes);
    }

    /// Writes every queued frame.
    ///
    /// Cancel safe: what was not written stays queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.outgoing.poll_flush(cx)).await
    }

    /// A handle that writes whole messages to this connection from any
    /// task, between this WebSocket's own messages, never inside one.
    ///
    /// A sender writes what the connection takes at once, without waiting
    /// and without waking this WebSocket's task. What the connection cannot
    /// take yet (its buffer is full, or it is not a plain TCP connection)
    /// stays queued, and is written by this WebSocket's task in its next
    /// [`recv`](WebSocket::recv) (which the sender wakes) or
    /// [`flush`](WebSocket::flush). Nothing is sent after the close frame,
    /// nor once the WebSocket is dropped.
    ///
    /// ```no_run
    /// # async fn run(mut ws: cinder::socket::websocket::WebSocket) {
    /// let sender = ws.sender();
    /// tokio::spawn(async move {
    ///     sender.send_text("hello from another task".to_owned());
    /// });
    /// // Reading the connection also writes what the sender left queued.
    /// while let Ok(Some(())) = ws.recv(|_| ()).await {}
    /// # }
    /// ```
    pub fn sender(&self) -> WebSocketSender {
        WebSocketSender::new(self.outgoing.clone(), 0)
    }

    /// A [`sender`](WebSocket::sender) whose messages are set aside until
    /// [`release`](WebSocket::release): so that what this WebSocket's task
    /// writes first (an answer that names the sender's stream, say) reaches
    /// the peer before anything the sender wrote meanwhile. One sender is
    /// held at a time: a sender held before is released first.
    pub fn held_sender(&mut self) -> WebSocketSender {
        let id = self.outgoing.lock().hold();
        WebSocketSender::new(self.outgoing.clone(), id)
    }

    /// Queues what `sender` wrote while held, after everything queued so
    /// far, for the next [`flush`](WebSocket::flush); its messages go
    /// straight out from now on. Does nothing for a sender not held.
    pub fn release(&mut self, sender: &WebSocketSender) {
        self.outgoing.lock().unhold(sender.id(), true);
    }

    /// Drops what `sender` wrote while held; its messages go straight out
    /// from now on. Does nothing for a sender not held.
    pub fn discard_held(&mut self, sender: &WebSocketSender) {
        self.outgoing.lock().unhold(sender.id(), false);
    }

    /// Hands the senders this task's waker, unless they hold it already.
    fn watch_senders(&mut self, cx: &Context<'_>) {
        if self
            .owner
            .as_ref()
            .is_some_and(|owner| owner.will_wake(cx.waker()))
        {
            return;
        }
        self.outgoing.lock().set_owner(cx.waker());
        self.owner = Some(cx.waker().clone());
    }

    /// Sends a close frame with `code` and `reason` (unless one was sent),
    /// writes what is queued and shuts the connection's sending side, giving
    /// up after a few seconds on a peer that does not read.
    pub async fn close(&mut self, code: u16, reason: &str) {
        {
            let mut unsent = self.outgoing.lock();
            if !unsent.close_sent() {
                // A close frame's payload is at most 125 bytes.
                let mut end = reason.len().min(123);
                while !reason.is_char_boundary(end) {
                    end -= 1;
                }
                let mut status = code.to_be_bytes().to_vec();
                status.extend_from_slice(&reason.as_bytes()[..end]);
                unsent.queue_close(&status);
            }
        }
        let finish = async {
            self.flush().await?;
            poll_fn(|cx| self.outgoing.poll_shutdown(cx)).await
        };
        let _ = tokio::time::timeout(CLOSE_PATIENCE, finish).await;
    }
}

impl Drop for WebSocket {
    fn drop(&mut self) {
        self.outgoing.detach();
    }
}

/// The header of an unmasked frame, as a server writes it: the opcode
/// with the final bit, and the payload's length in 1, 3 or 9 bytes.
struct FrameHeader {
    bytes: [u8; MAX_HEADER_LEN],
    len: usize,
}

/// The longest header a server's frame has: 2 bytes and a 64-bit length.
const MAX_HEADER_LEN: usize = 10;

impl FrameHeader {
    fn new(opcode: u8, payload_len: usize) -> FrameHeader {
        let mut bytes = [0; MAX_HEADER_LEN];
        bytes[0] = 0x80 | opcode;
        let len = match payload_len {
            0..=125 => {
                bytes[1] = payload_len as u8;
                2
            }
            126..=0xFFFF => {
                bytes[1] = 126;
                bytes[2..4].copy_from_slice(&(payload_len as u16).to_be_bytes());
                4
            }
            _ => {
                bytes[1] = 127;
                bytes[2..10].copy_from_slice(&(payload_len as u64).to_be_bytes());
                10
            }
        };
        FrameHeader { bytes, len }
    }

    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Hands a whole message to `decode`, checking that text is UTF-8.
fn message<T>(
    opcode: u8,
    payload: &mut [u8],
    decode: &mut impl FnMut(Incoming<'_>) -> T,
) -> Result<Option<T>, WebSocketError> {
    if opcode == OP_TEXT {
        let text = std::str::from_utf8(payload).map_err(|_| WebSocketError::InvalidUtf8)?;
        Ok(Some(decode(Incoming::Text(text))))
    } else {
        Ok(Some(decode(Incoming::Binary(payload))))
    }
}

fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let mut chunks = payload.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let value = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ word;
        chunk.copy_from_slice(&value.to_ne_bytes());
    }
    for (byte, key) in chunks.into_remainder().iter_mut().zip(mask) {
        *byte ^= key;
    }
}

/// The axum extractor accepting a WebSocket handshake (HTTP/1.1).
///
/// Rejects a request that is not one with [`UpgradeError`], whose response
/// says what was missing.
#[derive(Debug)]
pub struct WebSocketUpgrade {
    accept: HeaderValue,
    on_upgrade: OnUpgrade,
}

/// Why a request is not a WebSocket handshake; as a response, `400 Bad
/// Request` (`405` for a method other than GET, `426` for another protocol
/// version) with this text.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    /// The request's method is not GET.
    #[error("a WebSocket handshake is a GET request")]
    MethodNotGet,
    /// `Connection: upgrade` and `Upgrade: websocket` are missing.
    #[error("not a WebSocket handshake: expected `Connection: upgrade` and `Upgrade: websocket`")]
    NotAnUpgrade,
    /// `Sec-WebSocket-Version` is not 13.
    #[error("unsupported WebSocket version: `Sec-WebSocket-Version: 13` is required")]
    Version,
    /// `Sec-WebSocket-Key` is missing.
    #[error("the WebSocket handshake has no `Sec-WebSocket-Key`")]
    NoKey,
    /// The connection cannot be taken over (not HTTP/1.1 served with upgrades).
    #[error("this connection cannot be upgraded to a WebSocket")]
    NotUpgradable,
}

impl IntoResponse for UpgradeError {
    fn into_response(self) -> Response {
        let status = match self {
            UpgradeError::MethodNotGet => StatusCode::METHOD_NOT_ALLOWED,
            UpgradeError::Version => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut response = (status, self.to_string()).into_response();
        if status == StatusCode::UPGRADE_REQUIRED {
            response.headers_mut().insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
        }
        response
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = UpgradeError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if parts.method != Method::GET {
            return Err(UpgradeError::MethodNotGet);
        }
        let headers = &parts.headers;
        if !has_token(headers, header::CONNECTION, "upgrade")
            || !has_token(headers, header::UPGRADE, "websocket")
        {
            return Err(UpgradeError::NotAnUpgrade);
        }
        if !has_token(headers, header::SEC_WEBSOCKET_VERSION, "13") {
            return Err(UpgradeError::Version);
        }
        let key = headers
            .get(header::SEC_WEBSOCKET_KEY)
            .ok_or(UpgradeError::NoKey)?;
        let accept = accept_key(key.as_bytes());
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(UpgradeError::NotUpgradable)?;
        Ok(WebSocketUpgrade { accept, on_upgrade })
    }
}

impl WebSocketUpgrade {
    /// Answers the handshake and, once the connection is switched, runs
    /// `callback` with it in a task of its own.
    #[must_use = "the handshake is answered by returning this response"]
    pub fn on_upgrade<F, Fut>(self, callback: F) -> Response
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let WebSocketUpgrade { accept, on_upgrade } = self;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    callback(WebSocket::upgraded(upgraded)).await;
                }
                Err(error) => tracing::debug!(%error, "a WebSocket upgrade did not complete"),
            }
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        response
    }
}

/// Whether a comma-separated header holds `token`, in any case.
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .as_bytes()
            .split(|&b| b == b',')
            .any(|part| part.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// `Sec-WebSocket-Accept` for a client's key (RFC 6455, section 4.2.2): what
/// the server answers a handshake with, and what a client checks it against.
///
/// ```
/// use cinder::socket::websocket::accept_key;
///
/// // The example of RFC 6455, section 1.3.
/// let accept = accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
/// assert_eq!(accept.as_bytes(), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &[u8]) -> HeaderValue {
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let digest = Sha1::new().chain_update(key).chain_update(GUID).finalize();
    // A 20-byte digest is 28 characters of padded base64, encoded on the
    // stack and copied once, into the header value.
    let mut encoded = [0u8; 28];
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(digest, &mut encoded)
        .expect("28 bytes hold a 20-byte digest in base64");
    HeaderValue::from_bytes(&encoded[..written]).expect("base64 is a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_key_is_the_one_rfc_6455_gives() {
        // The example of RFC 6455, section 1.3.
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn unmasking_twice_gives_the_payload_back() {
        let mut payload = *b"Hello, masked world";
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        unmask(&mut payload, mask);
        assert_ne!(&payload, b"Hello, masked world");
        unmask(&mut payload, mask);
        assert_eq!(&payload, b"Hello, masked world");
    }

    #[test]
    fn unmasking_matches_the_rfc_example() {
        // RFC 6455, section 5.7: a masked "Hello".
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        unmask(&mut payload, [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(&payload, b"Hello");
    }
}
