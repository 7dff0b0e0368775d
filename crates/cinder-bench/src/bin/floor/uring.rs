//! `cinder-floor serve --io io-uring`: the bare server on the kernel's
//! io_uring interface instead of tokio's epoll.
//!
//! It answers the same requests as the tokio server, with bytes of the same
//! sizes and fills, from one thread that submits each connection's reads
//! and writes to a ring and handles their completions as they come: no
//! `epoll_wait`, `recvfrom` or `sendto` of its own, and a broadcast goes to
//! the kernel in batches of writes rather than one system call each. What
//! it costs beside the tokio server tells whether the floor under Cinder's
//! figures is the interface a server asks the kernel through, or the work
//! the kernel does for loopback TCP whichever interface asks.
//!
//! The ring is set up as the kernel's documentation advises for a server
//! of one thread: one thread submits (`SINGLE_ISSUER`), and the kernel's
//! work for completions waits until that thread asks for them
//! (`DEFER_TASKRUN`) instead of interrupting it (`COOP_TASKRUN`).

use std::collections::VecDeque;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd};
use std::time::Duration;

use io_uring::{opcode, squeue, types, IoUring};

use super::{read_head, READ_BUFFER_BYTES, REQUEST_HEAD};

/// Submissions the ring holds before they must go to the kernel.
const SUBMISSION_ENTRIES: u32 = 4096;
/// Completions the ring holds: more than a broadcast to the most
/// connections a process may hold (20,000) puts there at once.
const COMPLETION_ENTRIES: u32 = 32_768;
/// How many bytes of a fill one write sends at most.
const FILL_BYTES: usize = 64 << 10;
/// How long the server waits before it accepts again after a failed accept.
const ACCEPT_RETRY: Duration = Duration::from_millis(10);

/// What a completion completes, in its low bits; the connection's slot is
/// in the others.
const ACCEPTED: u64 = 0;
const READ: u64 = 1;
const WRITTEN: u64 = 2;
const OPERATION_BITS: u32 = 2;

/// Serves on `127.0.0.1:port` until killed.
pub(crate) fn serve(port: u16) -> Result<(), String> {
    let mut server = Server::new(port)?;
    println!("listening on {}", server.address);
    server.run()
}

/// The fills answers are written with: the tokio server's, so that a
/// generator reads the same bytes from either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fill {
    /// An answer to a request.
    Answer,
    /// A broadcast message.
    Message,
}

/// One connection: its socket, what has been read of its requests, and
/// the answers it is owed, written one at a time in order.
struct Connection {
    socket: TcpStream,
    read: Box<[u8; READ_BUFFER_BYTES]>,
    /// Bytes of `read` that hold data not yet taken.
    filled: usize,
    /// Bytes of the request being read that are still to come, skipped:
    /// its filler.
    skipping: usize,
    /// The kind of the request being read and the size of the answer it
    /// asks for, owed once its filler has come.
    pending: Option<(u8, usize)>,
    /// The answers owed, in order, by fill and size.
    owed: VecDeque<(Fill, usize)>,
    /// Whether a read, or a write, is with the kernel: at most one of each.
    reading: bool,
    writing: bool,
    /// Whether the connection has ended: its slot, and the buffer its read
    /// fills, are freed once neither is with the kernel, so that no late
    /// completion reaches another connection and no read lands in freed
    /// memory.
    closed: bool,
}

struct Server {
    ring: IoUring,
    listener: TcpListener,
    address: SocketAddr,
    connections: Vec<Option<Connection>>,
    free_slots: Vec<usize>,
    /// Connections with answers owed and no write in flight.
    to_write: Vec<usize>,
    /// The requests a read completed, as [`Connection::take_requests`]
    /// gives them: kept between reads, so a read allocates nothing.
    requests: Vec<(u8, usize)>,
    answer_fill: Box<[u8]>,
    message_fill: Box<[u8]>,
}

impl Server {
    fn new(port: u16) -> Result<Server, String> {
        let ring = IoUring::builder()
            .setup_single_issuer()
            .setup_coop_taskrun()
            .setup_defer_taskrun()
            .setup_cqsize(COMPLETION_ENTRIES)
            .build(SUBMISSION_ENTRIES)
            .map_err(|error| format!("io_uring is not available here: {error}"))?;
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = TcpListener::bind(address)
            .map_err(|error| format!("cannot listen on {address}: {error}"))?;
        let address = listener
            .local_addr()
            .map_err(|error| format!("cannot read the listening address: {error}"))?;
        let mut server = Server {
            ring,
            listener,
            address,
            connections: Vec::new(),
            free_slots: Vec::new(),
            to_write: Vec::new(),
            requests: Vec::new(),
            answer_fill: vec![b'a'; FILL_BYTES].into_boxed_slice(),
            message_fill: vec![b'm'; FILL_BYTES].into_boxed_slice(),
        };
        server.accept();
        Ok(server)
    }

    fn run(&mut self) -> Result<(), String> {
        let mut completions = Vec::new();
        loop {
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(format!("io_uring: {error}")),
            }
            completions.extend(
                self.ring
                    .completion()
                    .map(|completion| (completion.user_data(), completion.result())),
            );
            for (data, result) in completions.drain(..) {
                let slot = (data >> OPERATION_BITS) as usize;
                match data & ((1 << OPERATION_BITS) - 1) {
                    ACCEPTED => self.accepted(result),
                    READ => self.read(slot, result),
                    _ => self.written(slot, result),
                }
            }
            for slot in std::mem::take(&mut self.to_write) {
                self.write_next(slot);
            }
        }
    }

    /// Asks for the next connection.
    fn accept(&mut self) {
        let listener = types::Fd(self.listener.as_raw_fd());
        let accept = opcode::Accept::new(listener, std::ptr::null_mut(), std::ptr::null_mut())
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(ACCEPTED);
        self.push(accept);
    }

    fn accepted(&mut self, result: i32) {
        if result >= 0 {
            // SAFETY: the kernel has just made this descriptor for the
            // accepted connection, and nothing else owns it.
            let socket = unsafe { TcpStream::from_raw_fd(result) };
            self.add(socket);
        } else {
            // Out of file descriptors, most likely: wait for some to close
            // rather than spin, as the tokio server does.
            std::thread::sleep(ACCEPT_RETRY);
        }
        self.accept();
    }

    /// Takes in an accepted connection and asks for its first requests.
    fn add(&mut self, socket: TcpStream) {
        let _ = socket.set_nodelay(true);
        let connection = Connection {
            socket,
            read: Box::new([0; READ_BUFFER_BYTES]),
            filled: 0,
            skipping: 0,
            pending: None,
            owed: VecDeque::new(),
            reading: false,
            writing: false,
            closed: false,
        };
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.connections[slot] = Some(connection);
                slot
            }
            None => {
                self.connections.push(Some(connection));
                self.connections.len() - 1
            }
        };
        self.read_more(slot);
    }

    /// Asks for more of the connection's requests, into the room left in
    /// its buffer.
    fn read_more(&mut self, slot: usize) {
        let Some(connection) = self.connections[slot].as_mut() else {
            return;
        };
        connection.reading = true;
        let room = &mut connection.read[connection.filled..];
        let read = opcode::Recv::new(
            types::Fd(connection.socket.as_raw_fd()),
            room.as_mut_ptr(),
            room.len() as u32,
        )
        .build()
        .user_data(user_data(slot, READ));
        self.push(read);
    }

    fn read(&mut self, slot: usize, result: i32) {
        let Some(connection) = self.connections[slot].as_mut() else {
            return;
        };
        connection.reading = false;
        let Ok(count @ 1..) = usize::try_from(result) else {
            return self.close(slot);
        };
        if connection.closed {
            return self.free_if_idle(slot);
        }
        connection.filled += count;
        let mut requests = std::mem::take(&mut self.requests);
        if connection.take_requests(&mut requests).is_err() {
            self.requests = requests;
            return self.close(slot);
        }
        for (kind, answer_bytes) in requests.drain(..) {
            if kind == b'b' {
                self.broadcast(answer_bytes);
            } else {
                self.owe(slot, Fill::Answer, answer_bytes);
            }
        }
        self.requests = requests;
        self.read_more(slot);
    }

    /// A message of `bytes` to every connection, in the order they came.
    fn broadcast(&mut self, bytes: usize) {
        for slot in 0..self.connections.len() {
            self.owe(slot, Fill::Message, bytes);
        }
    }

    fn owe(&mut self, slot: usize, fill: Fill, bytes: usize) {
        let Some(connection) = self.connections[slot].as_mut() else {
            return;
        };
        if connection.closed {
            return;
        }
        connection.owed.push_back((fill, bytes));
        if !connection.writing && connection.owed.len() == 1 {
            self.to_write.push(slot);
        }
    }

    /// Writes the first answer owed, or as much of it as one write takes.
    fn write_next(&mut self, slot: usize) {
        let Some(connection) = self.connections[slot].as_mut() else {
            return;
        };
        let Some(&(fill, bytes)) = connection.owed.front() else {
            return;
        };
        if connection.writing || connection.closed {
            return;
        }
        connection.writing = true;
        let fill = match fill {
            Fill::Answer => &self.answer_fill,
            Fill::Message => &self.message_fill,
        };
        let write = opcode::Send::new(
            types::Fd(connection.socket.as_raw_fd()),
            fill.as_ptr(),
            bytes.min(FILL_BYTES) as u32,
        )
        .build()
        .user_data(user_data(slot, WRITTEN));
        self.push(write);
    }

    fn written(&mut self, slot: usize, result: i32) {
        let Some(connection) = self.connections[slot].as_mut() else {
            return;
        };
        connection.writing = false;
        let Ok(count) = usize::try_from(result) else {
            return self.close(slot);
        };
        if let Some((_, bytes)) = connection.owed.front_mut() {
            *bytes -= count.min(*bytes);
            if *bytes == 0 {
                connection.owed.pop_front();
            }
        }
        if connection.closed {
            return self.free_if_idle(slot);
        }
        self.write_next(slot);
    }

    /// Ends the connection. Shut down, its socket ends the read in flight,
    /// if any; its slot is freed once that and its write have completed.
    fn close(&mut self, slot: usize) {
        let Some(connection) = self.connections[slot].as_mut() else {
            return;
        };
        if !connection.closed {
            connection.closed = true;
            connection.owed.clear();
            let _ = connection.socket.shutdown(Shutdown::Both);
        }
        self.free_if_idle(slot);
    }

    /// Frees the slot of an ended connection with nothing queued for the
    /// kernel or with it: a read or write is marked as the connection's when
    /// it is queued, so none names the socket once it is closed here.
    fn free_if_idle(&mut self, slot: usize) {
        let idle = |connection: &mut Connection| !connection.reading && !connection.writing;
        if self.connections[slot].take_if(idle).is_some() {
            self.free_slots.push(slot);
        }
    }

    /// Queues `entry`, handing the queue to the kernel first when it is full.
    fn push(&mut self, entry: squeue::Entry) {
        loop {
            // SAFETY: every buffer an entry names outlives its operation: a
            // connection's read buffer is freed only once its read has
            // completed (`free_if_idle`), and the fills live as long as
            // the server.
            if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                return;
            }
            if let Err(error) = self.ring.submit() {
                eprintln!("io_uring: {error}");
            }
        }
    }
}

impl Connection {
    /// Takes every whole request read so far, as its kind and the size of
    /// the answer it asks for, keeping a partial head for the next read.
    /// `Err` for a head no generator writes.
    fn take_requests(&mut self, requests: &mut Vec<(u8, usize)>) -> Result<(), ()> {
        let mut at = 0;
        loop {
            let skipped = self.skipping.min(self.filled - at);
            at += skipped;
            self.skipping -= skipped;
            if self.skipping > 0 {
                break;
            }
            if let Some(request) = self.pending.take() {
                requests.push(request);
            }
            let Some(head) = self.read[at..self.filled].first_chunk::<REQUEST_HEAD>() else {
                break;
            };
            let (kind, request_bytes, answer_bytes) = read_head(head).ok_or(())?;
            at += REQUEST_HEAD;
            self.skipping = request_bytes - REQUEST_HEAD;
            self.pending = Some((kind, answer_bytes));
        }
        self.read.copy_within(at..self.filled, 0);
        self.filled -= at;
        Ok(())
    }
}

fn user_data(slot: usize, operation: u64) -> u64 {
    ((slot as u64) << OPERATION_BITS) | operation
}
