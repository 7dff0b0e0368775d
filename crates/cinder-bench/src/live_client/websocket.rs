//! The client's side of RFC 6455, as much of it as a LiveView client uses:
//! the opening handshake, masked text frames out, and the server's frames
//! in, read where they lie in one buffer per socket.
//!
//! The load generator holds tens of thousands of these and counts its own
//! CPU beside the server's, so a socket does no more than the protocol asks:
//! the handshake is one written request and one response head read in place;
//! a frame goes out as one write of a buffer the socket keeps; a message
//! comes in as a `&str` into the read buffer, checked as UTF-8 and not
//! copied, unless the server split it across frames.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::ops::Range;

use base64::Engine as _;
use cinder::socket::websocket::accept_key;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{head_end, header};

/// The largest message the client takes; a larger one fails the socket
/// rather than growing its buffer without bound.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// What a read asks the kernel for at least: a `/rows` join reply (6 KiB)
/// arrives in one read or two, an event's reply with room to spare.
const READ_CHUNK: usize = 4 * 1024;

/// The read buffer's room kept once it is empty: a held socket that took one
/// large message does not keep its room.
const READ_KEPT: usize = 8 * 1024;

/// Why a WebSocket failed.
#[derive(Debug, thiserror::Error)]
pub enum WebSocketError {
    /// Reading or writing failed.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// The server did not accept the upgrade.
    #[error("handshake: {0}")]
    Handshake(String),
    /// The server broke the protocol.
    #[error("protocol: {0}")]
    Protocol(&'static str),
    /// A text message is not UTF-8.
    #[error("a text message is not UTF-8")]
    NotUtf8,
    /// A message is larger than the client takes.
    #[error("a message of {0} bytes is larger than the client takes")]
    TooLarge(u64),
}

/// The kinds of frame (RFC 6455, section 5.2).
mod opcode {
    pub const CONTINUATION: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const BINARY: u8 = 0x2;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
    pub const PONG: u8 = 0xA;
}

/// A frame's head, read from the bytes before its payload.
#[derive(Debug, PartialEq)]
struct FrameHead {
    fin: bool,
    opcode: u8,
    /// The payload's bytes, counted from the frame's first byte.
    payload: Range<usize>,
}

/// The length of the head of the frame `bytes` start with, and of its
/// payload: `None` until the head's length bytes have arrived.
fn head_and_payload_len(bytes: &[u8]) -> Option<(usize, u64)> {
    match bytes.get(1)? & 0x7F {
        126 => bytes
            .get(2..4)
            .map(|len| (4, u64::from(u16::from_be_bytes([len[0], len[1]])))),
        127 => bytes
            .get(2..10)
            .map(|len| (10, u64::from_be_bytes(len.try_into().expect("8 bytes")))),
        len => Some((2, u64::from(len))),
    }
}

/// Reads the head of the frame `bytes` start with: `None` until all of the
/// frame has arrived. A server's frames are never masked.
fn read_frame(bytes: &[u8]) -> Result<Option<FrameHead>, WebSocketError> {
    let [first, second, ..] = *bytes else {
        return Ok(None);
    };
    if first & 0x70 != 0 {
        return Err(WebSocketError::Protocol(
            "a frame sets a reserved bit, with no extension agreed",
        ));
    }
    if second & 0x80 != 0 {
        return Err(WebSocketError::Protocol("a server's frame is masked"));
    }
    let (fin, opcode) = (first & 0x80 != 0, first & 0x0F);
    let Some((start, len)) = head_and_payload_len(bytes) else {
        return Ok(None);
    };
    if opcode >= opcode::CLOSE && (!fin || len > 125) {
        return Err(WebSocketError::Protocol(
            "a control frame is split or longer than 125 bytes",
        ));
    }
    if len > MAX_MESSAGE as u64 {
        return Err(WebSocketError::TooLarge(len));
    }
    let end = start + len as usize;
    Ok((bytes.len() >= end).then_some(FrameHead {
        fin,
        opcode,
        payload: start..end,
    }))
}

/// Appends a masked frame of `payload` to `out` (RFC 6455, section 5.3).
fn write_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8], mask: [u8; 4]) {
    out.push(0x80 | opcode);
    write_len(out, 0x80, payload.len());
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], mask);
}

/// Appends a frame head's second byte, `masked` (0x80 or 0) with the
/// payload's length `len`, and the longer length after it when `len` takes
/// one (RFC 6455, section 5.2).
fn write_len(out: &mut Vec<u8>, masked: u8, len: usize) {
    match len {
        0..=125 => out.push(masked | len as u8),
        126..=0xFFFF => {
            out.push(masked | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(masked | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
}

/// XORs `bytes` with `mask`, eight bytes at a time.
fn apply_mask(bytes: &mut [u8], mask: [u8; 4]) {
    let [a, b, c, d] = mask;
    let wide = u64::from_ne_bytes([a, b, c, d, a, b, c, d]);
    let mut words = bytes.chunks_exact_mut(8);
    for word in &mut words {
        let masked = u64::from_ne_bytes((&*word).try_into().expect("8 bytes")) ^ wide;
        word.copy_from_slice(&masked.to_ne_bytes());
    }
    // Every word took 8 bytes, a multiple of 4: the rest starts the mask.
    for (byte, mask) in words.into_remainder().iter_mut().zip(mask.iter().cycle()) {
        *byte ^= mask;
    }
}

/// Masks and handshake keys: a generator seeded once per socket from the
/// standard library's random seed. Masking keeps a client's bytes from
/// steering a proxy's cache; on loopback there is no proxy, so what the mask
/// needs is only to vary.
struct Nonces(u64);

impl Nonces {
    fn new() -> Nonces {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u8(0);
        Nonces(hasher.finish() | 1)
    }

    /// The next 64 bits (xorshift64*).
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn mask(&mut self) -> [u8; 4] {
        (self.next() as u32).to_ne_bytes()
    }

    /// A `Sec-WebSocket-Key`: 16 bytes in base64.
    fn key(&mut self) -> String {
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&self.next().to_ne_bytes());
        bytes[8..].copy_from_slice(&self.next().to_ne_bytes());
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}

/// A message split across frames, while its frames arrive.
enum Split {
    /// A text message, whose payload so far is in the socket's `joined`.
    Text,
    /// A binary message, which the client skips.
    Binary,
}

/// Where the text a read returns lies.
enum TextAt {
    /// In the read buffer.
    Read(Range<usize>),
    /// In the buffer of a message split across frames.
    Joined,
}

/// A client's WebSocket over a TCP connection.
pub struct Socket {
    stream: TcpStream,
    /// Bytes read, from `start` on not yet taken. A message returned lies
    /// before `start`, and stays until the next read drops it.
    read: Vec<u8>,
    start: usize,
    /// A frame being written.
    write: Vec<u8>,
    /// Control frames owed to the server (a pong, a close), written before
    /// the next frame: a read answers a ping without waiting to write, so
    /// that a read cancelled at any point leaves no half-written frame.
    owed: Vec<u8>,
    /// A message split across frames, and the text of it so far.
    split: Option<Split>,
    joined: Vec<u8>,
    nonces: Nonces,
}

impl Socket {
    /// Upgrades `stream` to a WebSocket with the handshake of RFC 6455
    /// (section 4.1): `GET target` on `host`, with `cookie` if given.
    pub async fn handshake(
        stream: TcpStream,
        host: &str,
        target: &str,
        cookie: Option<&str>,
    ) -> Result<Socket, WebSocketError> {
        let mut socket = Socket {
            stream,
            read: Vec::new(),
            start: 0,
            write: Vec::new(),
            owed: Vec::new(),
            split: None,
            joined: Vec::new(),
            nonces: Nonces::new(),
        };
        let key = socket.nonces.key();
        let mut request = format!(
            "GET {target} HTTP/1.1\r\nhost: {host}\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\
             sec-websocket-version: 13\r\nsec-websocket-key: {key}\r\n"
        );
        if let Some(cookie) = cookie {
            request.push_str("cookie: ");
            request.push_str(cookie);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        socket.stream.write_all(request.as_bytes()).await?;
        let head_len = loop {
            if let Some(end) = head_end(&socket.read) {
                break end;
            }
            if socket.fill(READ_CHUNK).await? == 0 {
                return Err(WebSocketError::Handshake(
                    "the connection closed before the response".into(),
                ));
            }
        };
        accepted(&socket.read[..head_len], key.as_bytes())?;
        // Any bytes after the head are the server's first frames.
        socket.start = head_len;
        Ok(socket)
    }

    /// Sends `text` as one text frame.
    pub async fn send_text(&mut self, text: &str) -> io::Result<()> {
        if !self.owed.is_empty() {
            self.stream.write_all(&self.owed).await?;
            self.owed.clear();
        }
        self.write.clear();
        let mask = self.nonces.mask();
        write_frame(&mut self.write, opcode::TEXT, text.as_bytes(), mask);
        self.stream.write_all(&self.write).await
    }

    /// The next text message; `None` once the server has closed. Pings are
    /// answered and binary messages skipped. Cancel-safe: a read dropped
    /// before it returns loses nothing, and the next read goes on from
    /// where it stopped.
    pub async fn next_text(&mut self) -> Result<Option<&str>, WebSocketError> {
        let at = match self.next_text_at().await? {
            Some(at) => at,
            None => return Ok(None),
        };
        let bytes = match at {
            TextAt::Read(range) => &self.read[range],
            TextAt::Joined => &self.joined[..],
        };
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| WebSocketError::NotUtf8)
    }

    async fn next_text_at(&mut self) -> Result<Option<TextAt>, WebSocketError> {
        loop {
            let unread = &self.read[self.start..];
            let Some(frame) = read_frame(unread)? else {
                let wanted = READ_CHUNK.max(frame_len_hint(unread));
                if self.fill(wanted).await? == 0 {
                    return match self.read.len() == self.start && self.split.is_none() {
                        true => Ok(None),
                        false => Err(WebSocketError::Protocol(
                            "the connection closed in the middle of a message",
                        )),
                    };
                }
                continue;
            };
            let payload = self.start + frame.payload.start..self.start + frame.payload.end;
            self.start = payload.end;
            if let Some(text) = self.take_frame(&frame, payload)? {
                return Ok(Some(text));
            }
            if frame.opcode == opcode::CLOSE {
                return Ok(None);
            }
        }
    }

    /// Takes in one whole frame, whose payload lies at `payload` in the read
    /// buffer: the text it completes, if any.
    fn take_frame(
        &mut self,
        frame: &FrameHead,
        payload: Range<usize>,
    ) -> Result<Option<TextAt>, WebSocketError> {
        match (frame.opcode, &self.split) {
            (opcode::TEXT, None) if frame.fin => return Ok(Some(TextAt::Read(payload))),
            (opcode::TEXT, None) => {
                self.joined.clear();
                self.joined.extend_from_slice(&self.read[payload]);
                self.split = Some(Split::Text);
            }
            (opcode::BINARY, None) if !frame.fin => self.split = Some(Split::Binary),
            (opcode::BINARY, None) => {}
            (opcode::CONTINUATION, Some(Split::Text)) => {
                if self.joined.len() + payload.len() > MAX_MESSAGE {
                    let len = self.joined.len() + payload.len();
                    return Err(WebSocketError::TooLarge(len as u64));
                }
                self.joined.extend_from_slice(&self.read[payload]);
                if frame.fin {
                    self.split = None;
                    return Ok(Some(TextAt::Joined));
                }
            }
            (opcode::CONTINUATION, Some(Split::Binary)) => {
                if frame.fin {
                    self.split = None;
                }
            }
            (opcode::PING, _) => {
                let mask = self.nonces.mask();
                write_frame(&mut self.owed, opcode::PONG, &self.read[payload], mask);
                self.write_owed_now();
            }
            (opcode::PONG, _) => {}
            (opcode::CLOSE, _) => {
                let mask = self.nonces.mask();
                write_frame(&mut self.owed, opcode::CLOSE, &[], mask);
                self.write_owed_now();
            }
            (opcode::CONTINUATION, None) => {
                return Err(WebSocketError::Protocol(
                    "a continuation frame without a message to continue",
                ))
            }
            (opcode::TEXT | opcode::BINARY, Some(_)) => {
                return Err(WebSocketError::Protocol(
                    "a new message before the last one's final frame",
                ))
            }
            _ => return Err(WebSocketError::Protocol("a frame of an unknown kind")),
        }
        Ok(None)
    }

    /// Writes what the socket owes the server as far as the kernel takes it
    /// now; the rest goes before the next frame sent.
    fn write_owed_now(&mut self) {
        while !self.owed.is_empty() {
            match self.stream.try_write(&self.owed) {
                Ok(written) if written > 0 => {
                    self.owed.drain(..written);
                }
                _ => return,
            }
        }
    }

    /// Lets go of the read buffer when it holds nothing unread, so that a
    /// socket held idle after a large message keeps none of its room: a
    /// generator holding thousands of sessions would otherwise keep each
    /// one's join reply, and take page faults for memory it never reads
    /// again. The next read makes room anew.
    pub fn release_read_buffer(&mut self) {
        if self.start == self.read.len() && self.split.is_none() {
            self.read = Vec::new();
            self.start = 0;
        }
    }

    /// Reads at least once into the buffer, with room for `wanted` more
    /// bytes; 0 at the end of the stream. Bytes already taken are dropped
    /// first, so the buffer holds at most the frames not yet read.
    async fn fill(&mut self, wanted: usize) -> io::Result<usize> {
        if self.start == self.read.len() {
            self.read.clear();
            self.start = 0;
            if self.read.capacity() > READ_KEPT && wanted <= READ_KEPT {
                self.read.shrink_to(READ_KEPT);
            }
        } else if self.start > 0 && self.read.capacity() - self.read.len() < wanted {
            self.read.drain(..self.start);
            self.start = 0;
        }
        self.read.reserve(wanted);
        self.stream.read_buf(&mut self.read).await
    }
}

/// The whole size of the frame whose first bytes are `unread`, when its head
/// has arrived: a read makes room for all of it at once.
fn frame_len_hint(unread: &[u8]) -> usize {
    head_and_payload_len(unread).map_or(0, |(head, len)| {
        (head + len.min(MAX_MESSAGE as u64) as usize).saturating_sub(unread.len())
    })
}

/// Checks the response head to an upgrade with `key`: status 101, the
/// upgrade to `websocket`, and the accept key of RFC 6455, section 4.2.2.
fn accepted(head: &[u8], key: &[u8]) -> Result<(), WebSocketError> {
    let head = std::str::from_utf8(head)
        .map_err(|_| WebSocketError::Handshake("the response head is not UTF-8".into()))?;
    let status = head.lines().next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 101") {
        return Err(WebSocketError::Handshake(format!(
            "the server answered `{status}` instead of upgrading"
        )));
    }
    if !header(head, "upgrade").is_some_and(|value| value.eq_ignore_ascii_case("websocket")) {
        return Err(WebSocketError::Handshake(
            "the response upgrades to no WebSocket".into(),
        ));
    }
    match header(head, "sec-websocket-accept") {
        Some(accept) if accept.as_bytes() == accept_key(key).as_bytes() => Ok(()),
        _ => Err(WebSocketError::Handshake(
            "the response's Sec-WebSocket-Accept is not the key's".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server's frame: unmasked.
    fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![first];
        write_len(&mut frame, 0, payload.len());
        frame.extend_from_slice(payload);
        frame
    }

    /// Unmasks a client's frame: its opcode and payload.
    fn client_payload(frame: &[u8]) -> (u8, Vec<u8>) {
        assert_eq!(frame[0] & 0x80, 0x80, "one frame a message");
        assert_eq!(frame[1] & 0x80, 0x80, "a client's frame is masked");
        let (start, len) = head_and_payload_len(frame).unwrap();
        let mask: [u8; 4] = frame[start..start + 4].try_into().unwrap();
        let mut payload = frame[start + 4..].to_vec();
        assert_eq!(payload.len() as u64, len);
        apply_mask(&mut payload, mask);
        (frame[0] & 0x0F, payload)
    }

    #[test]
    fn frames_of_every_length_are_masked_and_read_back() {
        for len in [
            0, 1, 7, 8, 9, 125, 126, 127, 4_000, 0xFFFF, 0x1_0000, 70_000,
        ] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut frame = Vec::new();
            write_frame(&mut frame, opcode::TEXT, &payload, [1, 2, 3, 4]);
            assert_eq!(
                client_payload(&frame),
                (opcode::TEXT, payload.clone()),
                "{len}"
            );

            let frame = server_frame(0x81, &payload);
            let head = read_frame(&frame).unwrap().unwrap();
            assert_eq!(&frame[head.payload.clone()], &payload[..], "{len}");
            assert!(head.fin);
            for cut in [0, 1, frame.len() - 1] {
                if cut < frame.len() {
                    assert_eq!(
                        read_frame(&frame[..cut]).unwrap(),
                        None,
                        "{len} cut at {cut}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_frame_that_breaks_the_protocol_is_refused() {
        let masked = [0x81, 0x81, 1, 2, 3, 4, b'x'];
        let reserved = [0xC1, 0x01, b'x'];
        let long_ping = server_frame(0x89, &[0; 126]);
        let split_close = [0x08, 0x00];
        for frame in [&masked[..], &reserved, &long_ping, &split_close] {
            assert!(
                matches!(read_frame(frame), Err(WebSocketError::Protocol(_))),
                "{frame:?}"
            );
        }
        let mut huge = vec![0x81, 127];
        huge.extend_from_slice(&(MAX_MESSAGE as u64 + 1).to_be_bytes());
        assert!(matches!(
            read_frame(&huge),
            Err(WebSocketError::TooLarge(len)) if len == MAX_MESSAGE as u64 + 1
        ));
    }

    #[test]
    fn a_frame_still_arriving_asks_for_all_of_itself() {
        let frame = server_frame(0x81, &[b'a'; 6_000]);
        assert_eq!(frame_len_hint(&frame[..100]), frame.len() - 100);
        assert_eq!(frame_len_hint(&frame[..1]), 0);
        assert_eq!(frame_len_hint(&[0x81, 5, b'a']), 4);
    }

    #[test]
    fn an_upgrade_is_accepted_only_with_the_keys_answer() {
        let key = b"dGhlIHNhbXBsZSBub25jZQ==";
        let good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        assert!(accepted(good.as_bytes(), key).is_ok());
        let wrong_key = good.replace("s3pP", "AAAA");
        let refused = "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n";
        let no_upgrade = good.replace("Upgrade: websocket\r\n", "");
        for head in [wrong_key.as_str(), refused, no_upgrade.as_str()] {
            assert!(
                matches!(
                    accepted(head.as_bytes(), key),
                    Err(WebSocketError::Handshake(_))
                ),
                "{head}"
            );
        }
        let Err(WebSocketError::Handshake(reason)) = accepted(refused.as_bytes(), key) else {
            unreachable!()
        };
        assert!(reason.contains("403 Forbidden"), "{reason}");
    }

    #[test]
    fn keys_and_masks_vary() {
        let mut nonces = Nonces::new();
        let keys: std::collections::HashSet<String> = (0..100).map(|_| nonces.key()).collect();
        assert_eq!(keys.len(), 100);
        assert!(keys.iter().all(|key| key.len() == 24));
        assert_ne!(Nonces::new().next(), Nonces::new().next());
    }

    /// A server on loopback that answers the handshake and writes `bytes`
    /// after it, a byte at a time; its task returns what the client sent
    /// after the handshake, once the client has closed.
    async fn server(bytes: Vec<u8>) -> (std::net::SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            while head_end(&request).is_none() {
                let mut chunk = [0; 1024];
                let read = stream.read(&mut chunk).await.unwrap();
                request.extend_from_slice(&chunk[..read]);
            }
            let head = std::str::from_utf8(&request).unwrap();
            let key = header(head, "sec-websocket-key").unwrap();
            let accept = accept_key(key.as_bytes());
            let mut response = format!(
                "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {}\r\n\r\n",
                accept.to_str().unwrap()
            )
            .into_bytes();
            response.extend_from_slice(&bytes);
            // Written a byte at a time: every frame arrives across reads.
            for byte in response {
                stream.write_all(&[byte]).await.unwrap();
            }
            let mut received = Vec::new();
            let _ = stream.read_to_end(&mut received).await;
            received
        });
        (address, task)
    }

    #[tokio::test]
    async fn messages_arrive_whole_however_the_server_splits_them() {
        let mut bytes = server_frame(0x81, b"first");
        bytes.extend(server_frame(0x89, b"are you there"));
        bytes.extend(server_frame(0x82, b"binary, skipped"));
        bytes.extend(server_frame(0x01, b"spl"));
        bytes.extend(server_frame(0x8A, b"an unasked pong"));
        bytes.extend(server_frame(0x00, b"it "));
        bytes.extend(server_frame(0x80, b"text"));
        bytes.extend(server_frame(0x81, "ünïcödé".as_bytes()));
        bytes.extend(server_frame(0x81, &[b'j'; 6_000]));
        bytes.extend(server_frame(0x88, &[]));
        let (address, server) = server(bytes).await;
        let stream = TcpStream::connect(address).await.unwrap();
        let host = address.to_string();
        let mut socket = Socket::handshake(stream, &host, "/ws", Some("a=b"))
            .await
            .unwrap();
        assert_eq!(socket.next_text().await.unwrap(), Some("first"));
        assert_eq!(socket.next_text().await.unwrap(), Some("split text"));
        assert_eq!(socket.next_text().await.unwrap(), Some("ünïcödé"));
        assert_eq!(socket.next_text().await.unwrap().map(str::len), Some(6_000));
        socket.send_text("hello").await.unwrap();
        assert_eq!(socket.next_text().await.unwrap(), None);
        drop(socket);

        let received = server.await.unwrap();
        let mut frames = Vec::new();
        let mut at = 0;
        while at < received.len() {
            let len = 6 + usize::from(received[at + 1] & 0x7F);
            frames.push(client_payload(&received[at..at + len]));
            at += len;
        }
        assert_eq!(
            frames,
            [
                (opcode::PONG, b"are you there".to_vec()),
                (opcode::TEXT, b"hello".to_vec()),
                (opcode::CLOSE, Vec::new()),
            ],
            "the pong before the next frame sent, the close in answer to the server's"
        );
    }

    #[tokio::test]
    async fn an_idle_socket_lets_go_of_its_read_buffer_and_reads_on() {
        let mut bytes = server_frame(0x81, &[b'j'; 6_000]);
        bytes.extend(server_frame(0x81, b"after"));
        let (address, _server) = server(bytes).await;
        let stream = TcpStream::connect(address).await.unwrap();
        let mut socket = Socket::handshake(stream, "h", "/ws", None).await.unwrap();
        assert_eq!(socket.next_text().await.unwrap().map(str::len), Some(6_000));
        socket.release_read_buffer();
        // What of the next frame had arrived is kept; with none, no room is.
        assert!(socket.read.capacity() == 0 || socket.start < socket.read.len());
        assert_eq!(socket.next_text().await.unwrap(), Some("after"));
        socket.release_read_buffer();
        assert_eq!(
            socket.read.capacity(),
            0,
            "nothing is unread after the last message"
        );
    }

    #[tokio::test]
    async fn a_read_cancelled_midway_loses_nothing() {
        let bytes = server_frame(0x81, &[b'x'; 3_000]);
        let (address, _server) = server(bytes).await;
        let stream = TcpStream::connect(address).await.unwrap();
        let mut socket = Socket::handshake(stream, "h", "/ws", None).await.unwrap();
        // The server writes a byte at a time: a read given a moment at a
        // time is cancelled many times before the message is whole.
        let mut cancelled = 0;
        let text = loop {
            let read = tokio::time::timeout(std::time::Duration::from_micros(200), async {
                socket.next_text().await.map(|text| text.map(str::len))
            });
            match read.await {
                Ok(text) => break text.unwrap(),
                Err(_) => cancelled += 1,
            }
        };
        assert_eq!(text, Some(3_000));
        assert!(cancelled > 0);
    }

    #[tokio::test]
    async fn a_refused_upgrade_says_what_the_server_answered() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0; 1024];
            let _ = stream.read(&mut request).await;
            let _ = stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        });
        let stream = TcpStream::connect(address).await.unwrap();
        let error = Socket::handshake(stream, "h", "/ws", None)
            .await
            .err()
            .unwrap();
        assert!(error.to_string().contains("400 Bad Request"), "{error}");
    }
}
