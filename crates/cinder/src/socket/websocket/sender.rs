//! The sending half of a [`WebSocket`](super::WebSocket), shared with its
//! [`WebSocketSender`]s: another task writes its frames to the connection
//! itself, under a lock, instead of handing them to the task that reads the
//! connection and waking that task for every frame.
//!
//! A sender writes what the kernel takes at once. What it cannot write (the
//! kernel's buffer is full, or the connection is not a plain TCP socket)
//! stays queued, and the WebSocket's owner writes it, woken for that in its
//! [`recv`](super::WebSocket::recv).

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll, Waker};

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use socket2::SockRef;
use tokio::io::{AsyncWrite, WriteHalf};
use tokio::net::tcp::OwnedWriteHalf;

use super::{FrameHeader, MAX_HEADER_LEN, OP_BINARY, OP_CLOSE, OP_TEXT};

/// The writing side of the connection under a WebSocket.
pub(super) enum WriteTransport {
    /// The TCP connection's writing half, which can also be written
    /// without a waker, from any task.
    Tcp(OwnedWriteHalf),
    /// Any other connection's writing half, written only by the owner.
    Upgraded(WriteHalf<TokioIo<Upgraded>>),
}

impl WriteTransport {
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            WriteTransport::Tcp(tcp) => Pin::new(tcp).poll_write(cx, buf),
            WriteTransport::Upgraded(io) => Pin::new(io).poll_write(cx, buf),
        }
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            WriteTransport::Tcp(tcp) => Pin::new(tcp).poll_flush(cx),
            WriteTransport::Upgraded(io) => Pin::new(io).poll_flush(cx),
        }
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            WriteTransport::Tcp(tcp) => Pin::new(tcp).poll_shutdown(cx),
            WriteTransport::Upgraded(io) => Pin::new(io).poll_shutdown(cx),
        }
    }

    /// Writes what the connection takes now; `None` when it cannot be
    /// written without the owner's waker.
    fn try_write(&self, buf: &[u8]) -> Option<io::Result<usize>> {
        match self {
            // Straight to the socket, past tokio's record of its readiness:
            // for a frame from a broadcast that record is a line of memory
            // gone cold, read only to learn what the write itself tells. A
            // write the kernel refuses leaves the bytes to the owner, whose
            // write through tokio then learns the socket is full and waits.
            // One buffer, not the header and the payload apart: the
            // kernel's vectored write costs more than the copy it saves.
            WriteTransport::Tcp(tcp) => {
                Some(SockRef::from(tcp.as_ref()).send_with_flags(buf, NO_SIGPIPE))
            }
            WriteTransport::Upgraded(_) => None,
        }
    }
}

/// The flag that makes a write to a connection its peer has closed fail
/// with `EPIPE` instead of raising `SIGPIPE`, as the standard library's
/// writes do: a program that kept the signal's default action would
/// otherwise end. On systems other than Linux and Android no flag is
/// passed, and the socket's options decide.
#[cfg(any(target_os = "linux", target_os = "android"))]
const NO_SIGPIPE: std::ffi::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const NO_SIGPIPE: std::ffi::c_int = 0;

/// What a WebSocket and its senders share.
pub(super) struct Outgoing {
    unsent: Mutex<Unsent>,
    /// Set while bytes wait for the owner to write them (what a sender's
    /// write left, a pong), so that the owner takes the lock only when it
    /// has something to write.
    stranded: AtomicBool,
}

/// Frames on their way out, behind the lock.
pub(super) struct Unsent {
    /// `None` once the WebSocket is gone: senders then write nothing.
    io: Option<WriteTransport>,
    /// Frames waiting to be written; `written` of them are already out.
    out: Vec<u8>,
    written: usize,
    close_sent: bool,
    /// The task that owns the WebSocket, woken when a sender leaves bytes.
    owner: Option<Waker>,
    /// The frames of the held sender, set aside until released; `None`
    /// but while a channel is being joined, and boxed to keep every
    /// connection's share small.
    held: Option<Box<HeldFrames>>,
    /// The last id given to a held sender; plain senders have id 0.
    last_held_id: u32,
}

/// The frames one held sender wrote, headers and payloads as they will go out.
struct HeldFrames {
    sender: u32,
    frames: Vec<u8>,
}

impl Outgoing {
    pub(super) fn new(io: WriteTransport) -> Arc<Outgoing> {
        Arc::new(Outgoing {
            unsent: Mutex::new(Unsent::new(Some(io))),
            stranded: AtomicBool::new(false),
        })
    }

    /// The queue, locked. A sender that panicked while holding the lock
    /// left it consistent (every change is a push or a length update), so
    /// a poisoned lock is used as it is.
    pub(super) fn lock(&self) -> MutexGuard<'_, Unsent> {
        self.unsent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether bytes wait for the owner to write them.
    pub(super) fn is_stranded(&self) -> bool {
        self.stranded.load(Ordering::Acquire)
    }

    /// Notes that bytes wait for the owner to write them: the owner's next
    /// read writes them.
    pub(super) fn strand(&self) {
        self.stranded.store(true, Ordering::Release);
    }

    /// Writes every queued frame, with the owner's waker.
    pub(super) fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut unsent = self.lock();
        let unsent = &mut *unsent;
        let Some(io) = unsent.io.as_mut() else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        while unsent.written < unsent.out.len() {
            let n = ready!(io.poll_write(cx, &unsent.out[unsent.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            unsent.written += n;
        }
        // Released rather than kept: an idle connection holds no buffer.
        reuse_buffer(std::mem::take(&mut unsent.out));
        unsent.written = 0;
        self.stranded.store(false, Ordering::Release);
        io.poll_flush(cx)
    }

    /// Shuts the connection's sending side, once everything is written.
    pub(super) fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.lock().io.as_mut() {
            Some(io) => io.poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    /// Ends writing for good: the connection's writing half is dropped
    /// (which ends the connection once its reading half is gone too) and
    /// senders write nothing from now on.
    pub(super) fn detach(&self) {
        let mut unsent = self.lock();
        unsent.io = None;
        unsent.out = Vec::new();
        unsent.written = 0;
        unsent.held = None;
        unsent.owner = None;
    }
}

impl Unsent {
    fn new(io: Option<WriteTransport>) -> Unsent {
        Unsent {
            io,
            out: Vec::new(),
            written: 0,
            close_sent: false,
            owner: None,
            held: None,
            last_held_id: 0,
        }
    }

    /// Frames queued and not yet written, in bytes.
    pub(super) fn unsent_len(&self) -> usize {
        self.out.len() - self.written
    }

    /// Whether a close frame was queued; nothing is sent after it.
    pub(super) fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// The task to wake when a sender leaves bytes.
    pub(super) fn set_owner(&mut self, waker: &Waker) {
        self.owner = Some(waker.clone());
    }

    pub(super) fn queue_frame(&mut self, opcode: u8, payload: &[u8]) {
        if self.close_sent {
            return;
        }
        let header = FrameHeader::new(opcode, payload.len());
        self.out.reserve(header.bytes().len() + payload.len());
        self.out.extend_from_slice(header.bytes());
        self.out.extend_from_slice(payload);
    }

    /// Queues a frame in the message's own buffer when nothing else is
    /// queued, its header put in front, rather than copying it.
    pub(super) fn queue_owned(&mut self, opcode: u8, payload: Vec<u8>) {
        if !self.out.is_empty() || self.close_sent {
            return self.queue_frame(opcode, &payload);
        }
        self.out = framed(opcode, payload);
    }

    /// Queues a text message built behind room for its header in its own
    /// buffer when nothing else is queued: the header goes into the room,
    /// and the message does not move.
    pub(super) fn queue_roomy(&mut self, text: RoomyText) {
        if !self.out.is_empty() || self.close_sent {
            self.queue_frame(OP_TEXT, text.message().as_bytes());
            return reuse_buffer(text.text.into_bytes());
        }
        let (frame, start) = text.into_frame();
        self.out = frame;
        self.written = start;
    }

    pub(super) fn queue_close(&mut self, status: &[u8]) {
        self.queue_frame(OP_CLOSE, status);
        self.close_sent = true;
    }

    /// A new held sender's id; its frames are set aside from now on. A
    /// sender held before is released first.
    pub(super) fn hold(&mut self) -> u32 {
        if let Some(held) = &self.held {
            self.unhold(held.sender, true);
        }
        self.last_held_id = self.last_held_id.wrapping_add(1).max(1);
        let sender = self.last_held_id;
        self.held = Some(Box::new(HeldFrames {
            sender,
            frames: Vec::new(),
        }));
        sender
    }

    /// Where the frames of `sender` are set aside, while it is held. Never
    /// a plain sender's: held ids start at 1.
    fn held_frames(&mut self, sender: u32) -> Option<&mut Vec<u8>> {
        let held = self.held.as_mut().filter(|held| held.sender == sender)?;
        Some(&mut held.frames)
    }

    /// Queues the frames held for `sender` after everything queued, or
    /// drops them; either way its frames go out directly from now on.
    pub(super) fn unhold(&mut self, sender: u32, keep: bool) {
        let Some(held) = self.held.take_if(|held| held.sender == sender) else {
            return;
        };
        if keep && !self.close_sent {
            self.out.extend_from_slice(&held.frames);
        }
    }
}

/// Room for the longest frame header, kept before a message.
const ROOM: &str = "          ";
const HEADER_ROOM: usize = ROOM.len();
const _: () = assert!(HEADER_ROOM == MAX_HEADER_LEN);

/// A text message written behind room for its frame's header, so that the
/// header is put in front of it without moving the message: what a
/// channel's frames are built in.
#[derive(Debug)]
pub(crate) struct RoomyText {
    /// [`HEADER_ROOM`] bytes of room, then the message.
    text: String,
}

thread_local! {
    /// The buffer of the last frame this thread sent (written out whole,
    /// or copied behind frames still queued), emptied, for the next frame
    /// built on the thread: a view answers each event with one frame,
    /// which then takes no allocation of its own.
    static SPARE_FRAME: Cell<String> = const { Cell::new(String::new()) };
}

/// The largest buffer kept for the next frame: a page's join reply of
/// several KiB is not held on to for frames of a few hundred bytes.
const SPARE_FRAME_MAX: usize = 4096;

thread_local! {
    /// The buffer of the last page-sized message this thread sent (a
    /// join's reply, a page's HTML), emptied, for the next one: a session's
    /// setup writes two of about the same size, each of which would
    /// otherwise take and give back a large block of the allocator's.
    static SPARE_PAGE: Cell<String> = const { Cell::new(String::new()) };
}

/// The largest buffer kept for the next page-sized message: a slow
/// client's backlog of frames is not held on to for pages of a few KiB.
const SPARE_PAGE_MAX: usize = 64 * 1024;

/// Page buffers are made in whole steps of this size, so that the spare
/// one fits the next page of about its size, a page's HTML or a join's
/// reply alike.
const PAGE_STEP: usize = 4096;

/// An empty buffer of at least `capacity` bytes for a page-sized message:
/// the spare one, when it is large enough.
pub(crate) fn page_buffer(capacity: usize) -> String {
    let spare = SPARE_PAGE.take();
    if spare.capacity() >= capacity {
        return spare;
    }
    // Let go rather than grown: growing copies its whole room, unused.
    drop(spare);
    String::with_capacity(capacity.next_multiple_of(PAGE_STEP))
}

/// A page's bytes, for a body the HTTP server writes and then lets go: its
/// buffer goes back to the spare (see [`page_buffer`]).
pub(crate) struct PageBytes(pub(crate) Vec<u8>);

impl AsRef<[u8]> for PageBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for PageBytes {
    fn drop(&mut self) {
        reuse_buffer(std::mem::take(&mut self.0));
    }
}

/// An empty buffer of at least `capacity` bytes: the spare one, grown if
/// it must be.
fn frame_buffer(capacity: usize) -> String {
    let mut text = SPARE_FRAME.take();
    text.reserve(capacity);
    text
}

/// Keeps `frame`'s buffer, its bytes now sent or copied, for the next
/// frame built on this thread, or for the next page when it is page-sized,
/// unless it is larger than pages usually are.
fn reuse_buffer(frame: Vec<u8>) {
    let capacity = frame.capacity();
    let spare = if capacity == 0 || capacity > SPARE_PAGE_MAX {
        return;
    } else if capacity <= SPARE_FRAME_MAX {
        &SPARE_FRAME
    } else {
        &SPARE_PAGE
    };
    let mut frame = frame;
    frame.clear();
    if let Ok(text) = String::from_utf8(frame) {
        spare.set(text);
    }
}

impl RoomyText {
    /// An empty message with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> RoomyText {
        let mut text = frame_buffer(HEADER_ROOM + capacity);
        text.push_str(ROOM);
        RoomyText { text }
    }

    /// The text to append the message to. Only appended to: the room at
    /// its start is kept for the header.
    pub(crate) fn text(&mut self) -> &mut String {
        &mut self.text
    }

    /// Appends to the message through `write`, which is given the whole
    /// text, room included, and gives it back with what it wrote after:
    /// for a writer that fills a buffer of its own (a diff's), which then
    /// writes straight into the frame.
    pub(crate) fn append_with(&mut self, write: impl FnOnce(String) -> String) {
        let text = std::mem::take(&mut self.text);
        self.text = write(text);
        debug_assert!(self.text.len() >= HEADER_ROOM, "the room stays");
    }

    /// `message` between the text `write_start` writes and `end`, behind
    /// room for the header, built in `message`'s own buffer: the message
    /// moves once within it (within its spare room, when it kept enough)
    /// instead of being copied into a buffer of its own. A join's reply is
    /// built so around its response, a page's whole render.
    pub(crate) fn around(
        write_start: impl FnOnce(&mut String),
        message: String,
        end: &str,
    ) -> RoomyText {
        let mut start = RoomyText::with_capacity(0);
        write_start(start.text());
        let mut text = message;
        text.reserve(start.text.len() + end.len());
        text.insert_str(0, &start.text);
        text.push_str(end);
        reuse_buffer(start.text.into_bytes());
        RoomyText { text }
    }

    /// The message written so far.
    pub(crate) fn message(&self) -> &str {
        &self.text[HEADER_ROOM..]
    }

    /// The whole frame, its header written into the room, and where in the
    /// buffer it starts.
    fn into_frame(self) -> (Vec<u8>, usize) {
        let mut frame = self.text.into_bytes();
        let header = FrameHeader::new(OP_TEXT, frame.len() - HEADER_ROOM);
        let start = HEADER_ROOM - header.bytes().len();
        frame[start..HEADER_ROOM].copy_from_slice(header.bytes());
        (frame, start)
    }
}

/// `payload` as a frame, in the payload's own buffer: a message's buffer is
/// usually made with room to spare, so the header fits in front of its
/// bytes without a new allocation, and the payload moves up by the
/// header's length in one copy.
fn framed(opcode: u8, payload: Vec<u8>) -> Vec<u8> {
    let header = FrameHeader::new(opcode, payload.len());
    let header = header.bytes();
    let mut frame = payload;
    let payload_len = frame.len();
    frame.extend_from_slice(header);
    frame.copy_within(..payload_len, header.len());
    frame[..header.len()].copy_from_slice(header);
    frame
}

/// A handle that writes whole frames to a [`WebSocket`](super::WebSocket)'s
/// connection from any task: see [`WebSocket::sender`](super::WebSocket::sender).
#[derive(Clone)]
pub struct WebSocketSender {
    outgoing: Arc<Outgoing>,
    /// 0 for a plain sender; a held sender's id otherwise.
    id: u32,
}

impl std::fmt::Debug for WebSocketSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketSender")
            .field("held", &(self.id != 0))
            .finish_non_exhaustive()
    }
}

impl WebSocketSender {
    pub(super) fn new(outgoing: Arc<Outgoing>, id: u32) -> WebSocketSender {
        WebSocketSender { outgoing, id }
    }

    pub(super) fn id(&self) -> u32 {
        self.id
    }

    /// Brings the lock of the frames on their way out into the cache, so
    /// that a sender about to write finds its line there (see
    /// [`Pid::prefetch`](cinder_runtime::Pid::prefetch)).
    pub(crate) fn prefetch(&self) {
        cinder_runtime::hint::prefetch(&self.outgoing.unsent);
    }

    /// The step after [`prefetch`](Self::prefetch), once its line has
    /// come: brings in the connection's socket, whose descriptor a write
    /// reads. Skipped while another task holds the lock.
    pub(crate) fn prefetch_socket(&self) {
        if let Ok(unsent) = self.outgoing.unsent.try_lock() {
            if let Some(WriteTransport::Tcp(tcp)) = &unsent.io {
                cinder_runtime::hint::prefetch(tcp.as_ref());
            }
        }
    }

    /// Sends a text message, taking its memory. False once the WebSocket
    /// is gone or has sent its close frame.
    pub fn send_text(&self, text: String) -> bool {
        self.send(OP_TEXT, text.into_bytes())
    }

    /// Sends a binary message, taking its memory. False once the WebSocket
    /// is gone or has sent its close frame.
    pub fn send_binary(&self, bytes: Vec<u8>) -> bool {
        self.send(OP_BINARY, bytes)
    }

    /// Sends a text message built behind room for its header, which goes
    /// in front of it without moving the message.
    pub(crate) fn send_roomy_text(&self, text: RoomyText) -> bool {
        let (frame, start) = text.into_frame();
        self.send_frame(frame, start)
    }

    fn send(&self, opcode: u8, payload: Vec<u8>) -> bool {
        self.send_frame(framed(opcode, payload), 0)
    }

    /// Sends the whole frame `frame[start..]`, header and payload.
    fn send_frame(&self, frame: Vec<u8>, start: usize) -> bool {
        let mut unsent = self.outgoing.lock();
        let unsent = &mut *unsent;
        // Once the WebSocket is gone nothing is held or queued, and the
        // frame meets the missing connection below.
        if unsent.close_sent {
            return false;
        }
        if let Some(held) = unsent.held_frames(self.id) {
            held.extend_from_slice(&frame[start..]);
            reuse_buffer(frame);
            return true;
        }
        if !unsent.out.is_empty() {
            // Behind frames still queued: written in turn, by whoever
            // writes those.
            unsent.out.extend_from_slice(&frame[start..]);
            reuse_buffer(frame);
            if !self.outgoing.is_stranded() {
                self.strand(unsent);
            }
            return true;
        }
        // The usual case: nothing queued, so the frame goes out at once,
        // from the message's own buffer.
        let Some(io) = unsent.io.as_ref() else {
            return false;
        };
        let written = match io.try_write(&frame[start..]) {
            Some(Ok(n)) if n == frame.len() - start => {
                reuse_buffer(frame);
                return true;
            }
            Some(Ok(n)) => n,
            Some(Err(error))
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                0
            }
            // A broken connection: its owner learns of it on its next read.
            Some(Err(_)) => return false,
            None => 0,
        };
        // What the connection did not take stays where it is.
        unsent.out = frame;
        unsent.written = start + written;
        self.strand(unsent);
        true
    }

    /// Leaves what is queued to the owner, and wakes it.
    fn strand(&self, unsent: &mut Unsent) {
        self.outgoing.strand();
        if let Some(owner) = &unsent.owner {
            owner.wake_by_ref();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsent() -> Unsent {
        Unsent::new(None)
    }

    /// What `sender` would have set aside while held.
    fn hold_frame(unsent: &mut Unsent, sender: u32, bytes: &[u8]) {
        let held = unsent.held_frames(sender).expect("the sender is held");
        held.extend_from_slice(bytes);
    }

    #[test]
    fn released_frames_follow_what_was_queued_and_discarded_ones_never_go_out() {
        let mut unsent = unsent();
        let first = unsent.hold();
        hold_frame(&mut unsent, first, b"early");
        unsent.queue_frame(OP_TEXT, b"reply");
        unsent.unhold(first, true);
        assert_eq!(
            unsent.out,
            [&framed(OP_TEXT, b"reply".to_vec())[..], b"early"].concat()
        );
        assert!(unsent.held.is_none());

        let second = unsent.hold();
        assert_ne!(second, first);
        hold_frame(&mut unsent, second, b"refused");
        unsent.unhold(second, false);
        unsent.unhold(second, true);
        assert!(!unsent.out.ends_with(b"refused"));
    }

    /// Asking for a sender's lines changes nothing about what it writes,
    /// whether its lock is free or held elsewhere, nor once the connection
    /// is gone.
    #[tokio::test]
    async fn asking_for_a_senders_lines_changes_nothing_it_writes() {
        use tokio::io::AsyncReadExt;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut client = tokio::net::TcpStream::connect(address).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (_read, write) = server.into_split();
        let sender = WebSocketSender::new(Outgoing::new(WriteTransport::Tcp(write)), 0);
        sender.prefetch();
        sender.prefetch_socket();
        {
            let _held = sender.outgoing.lock();
            sender.prefetch_socket();
        }
        assert!(sender.send_text("hello".into()));
        let mut frame = [0u8; 7];
        client.read_exact(&mut frame).await.unwrap();
        assert_eq!(frame[..], [&[0x81, 5][..], b"hello"].concat()[..]);
        sender.outgoing.detach();
        sender.prefetch_socket();
        assert!(!sender.send_text("gone".into()));
    }

    #[test]
    fn holding_a_second_sender_releases_the_first() {
        let mut unsent = unsent();
        let first = unsent.hold();
        hold_frame(&mut unsent, first, b"first");
        let second = unsent.hold();
        assert_eq!(unsent.out, b"first");
        assert_eq!(unsent.held.as_ref().map(|held| held.sender), Some(second));
        // The first is no longer held: releasing it again changes nothing.
        unsent.unhold(first, true);
        assert_eq!(unsent.out, b"first");
    }

    #[test]
    fn a_message_framed_around_keeps_its_buffer_when_it_left_room() {
        let mut message = String::with_capacity(200);
        message.push_str(r#"{"rendered":{}}"#);
        let buffer = message.as_ptr();
        let write_start = |text: &mut String| text.push_str(r#"["1","2","t",{"response":"#);
        let framed = RoomyText::around(write_start, message, "}]");
        assert_eq!(
            framed.message(),
            r#"["1","2","t",{"response":{"rendered":{}}}]"#
        );
        assert_eq!(framed.text.as_ptr(), buffer);
        // Without room, the message moves to a buffer large enough.
        let framed = RoomyText::around(|text| text.push('['), "1".to_owned(), "]");
        assert_eq!(framed.message(), "[1]");
    }

    #[test]
    fn a_roomy_message_goes_out_from_its_own_buffer_when_nothing_is_queued() {
        let header = |len: usize| FrameHeader::new(OP_TEXT, len).bytes().to_vec();
        let mut unsent = unsent();
        let mut first = RoomyText::with_capacity(300);
        first.text().push_str(&"a".repeat(200));
        let buffer = first.text.as_ptr();
        unsent.queue_roomy(first);
        assert_eq!(unsent.out.as_ptr(), buffer);
        let frame = [header(200), vec![b'a'; 200]].concat();
        assert_eq!(unsent.out[unsent.written..], frame[..]);
        // Behind a queued frame, a message is copied after it.
        let mut second = RoomyText::with_capacity(10);
        second.text().push_str("bc");
        unsent.queue_roomy(second);
        let both = [frame, header(2), b"bc".to_vec()].concat();
        assert_eq!(unsent.out[unsent.written..], both[..]);
    }

    #[test]
    fn a_written_frame_leaves_its_buffer_to_the_next_unless_it_is_large() {
        let frame = RoomyText::with_capacity(600).text.into_bytes();
        let buffer = frame.as_ptr();
        reuse_buffer(frame);
        let next = RoomyText::with_capacity(500);
        assert_eq!(next.text.as_ptr(), buffer);
        assert_eq!(next.message(), "");
        reuse_buffer(next.text.into_bytes());

        // A buffer larger than frames usually are is kept for pages; the
        // frames' spare one stays.
        reuse_buffer(Vec::with_capacity(SPARE_FRAME_MAX + 1));
        let next = RoomyText::with_capacity(100);
        assert_eq!(next.text.as_ptr(), buffer);
        // A frame larger than the spare grows it.
        reuse_buffer(next.text.into_bytes());
        let large = RoomyText::with_capacity(2000);
        assert!(large.text.capacity() >= HEADER_ROOM + 2000);
    }

    #[test]
    fn a_page_s_buffer_goes_to_the_next_page_that_fits_in_it() {
        let page = page_buffer(5000);
        assert_eq!(page.capacity(), 8192);
        let buffer = page.as_ptr();
        // A body the HTTP server lets go gives its buffer back.
        drop(PageBytes(page.into_bytes()));
        let next = page_buffer(8000);
        assert_eq!((next.as_ptr(), next.len()), (buffer, 0));
        // So does a frame once written.
        reuse_buffer(next.into_bytes());
        let larger = page_buffer(9000);
        assert!(larger.capacity() >= 9000);
        // The spare too small for it was let go, not kept beside it.
        assert_eq!(SPARE_PAGE.take().capacity(), 0);
        // Larger than pages usually are: not kept.
        reuse_buffer(Vec::with_capacity(SPARE_PAGE_MAX + 1));
        assert_eq!(page_buffer(1).capacity(), PAGE_STEP);
    }

    #[test]
    fn nothing_held_is_released_after_the_close_frame() {
        let mut unsent = unsent();
        let sender = unsent.hold();
        hold_frame(&mut unsent, sender, b"late");
        unsent.queue_close(&1000u16.to_be_bytes());
        let closed = unsent.out.clone();
        unsent.unhold(sender, true);
        assert_eq!(unsent.out, closed);
    }
}
