//! `cinder-floor`: the floor under the benchmark server's figures.
//!
//! The same traffic as `cinder-loadgen events`, `broadcast` and `connect`
//! (the same number of connections, the same schedule, replies of the same
//! size),
//! served by a bare tokio TCP server with one worker thread that reads each
//! request and writes its reply, with no HTTP, WebSocket, JSON, LiveView or
//! process in between. What that server costs is what the kernel's loopback
//! TCP and tokio cost for this traffic on this machine: no server built on
//! them can go below it.
//!
//! ```text
//! taskset -c 0 cinder-floor serve --port 4300 & PID=$!
//! taskset -c 1 cinder-floor events    --addr 127.0.0.1:4300 --sessions 1000 --rate 10000 --duration 10 --server-pid $PID
//! taskset -c 1 cinder-floor broadcast --addr 127.0.0.1:4300 --sessions 19000 --server-pid $PID
//! taskset -c 1 cinder-floor setup     --addr 127.0.0.1:4300 --sessions 6000 --server-pid $PID
//! ```
//!
//! - `serve` answers every request with as many bytes as the request asks
//!   for: each request says its own length and the length of its answer in
//!   its first bytes, so one server serves generators of any sizes. A
//!   request of kind `b` instead makes it write one message of the asked
//!   length to every connection, one write each, in one loop. Like the
//!   benchmark server, it grows its descriptor table to its open-files
//!   limit before its threads start, and its threads allocate from glibc's
//!   main arena.
//! - `events` sends `--rate` requests of `--request-bytes` a second over the
//!   sessions on the fixed 1 ms schedule of `cinder-loadgen events`, each
//!   asking for `--reply-bytes` (95 by default, the size of a `/counter`
//!   reply frame), and reports the round trip and the server's CPU time per
//!   request.
//! - `broadcast` asks for one message of `--message-bytes` to every session
//!   and reports how long until all have it, and the server's CPU time per
//!   session.
//! - `setup` opens sessions as `cinder-loadgen connect` does, 50 at a time:
//!   the page (`--page-bytes`) over a keep-alive connection of each of the
//!   50, then a new connection with an upgrade request (answered with the
//!   129 bytes of a WebSocket upgrade's `101` response) and a join (answered
//!   with `--join-reply-bytes`). It reports the setup rate and the server's
//!   CPU time and page faults per session. A worker whose session has no
//!   answers within `--timeout` seconds (10 unless given) stops, and
//!   `first_error` says so.
//!
//! `serve --work-us N --touch-kib K` stands in for a server's own work on
//! each event request: it reads and writes one byte of every cache line of
//! K KiB kept per connection, in a scattered order, and keeps its core busy
//! until N µs have passed since the request was read, before it answers.
//! The kernel's share then shows what a server whose own work takes that
//! long, and touches that much memory per event, pays the kernel: an answer
//! that comes later may find the generator asleep and wake it, and memory
//! touched for the event takes the kernel's own data out of the cache.
//!
//! `serve --tasks 2` gives each connection the shape of a LiveView
//! server's: the task that reads the connection hands each request to a
//! second task of the connection's own (as a socket hands an event to its
//! page's process), through an unbounded channel, and that task works on
//! it and writes the answer; a broadcast hands its message to every
//! connection's second task, which writes it. What that costs above
//! `--tasks 1` (the default: the reading task answers) is what a process
//! for each page costs on this machine, before any work of its own.
//!
//! `events`, `broadcast` and `setup` take `--idle spin`, as
//! `cinder-loadgen` does: the generator then polls its sockets on its own
//! core instead of sleeping, so that no answer of the server's wakes it and
//! the server's CPU time holds no wake-up of its client's.
//!
//! `serve` runs on a multi-thread runtime with one worker, as the benchmark
//! server with `--workers 1`; `--runtime current-thread` puts it on the
//! current-thread runtime, as the benchmark server's own `--runtime`.
//! `serve --io io-uring` serves from one thread through the kernel's
//! io_uring instead of tokio and epoll (see the `uring` module), to tell the
//! kernel's work for the traffic from the cost of the interface it is
//! asked through.
//!
//! Every run ends with a one-line JSON summary on stdout. Beside each CPU
//! figure, its split into the server's own time (`user`) and the kernel's
//! (`system`), as `cinder-loadgen` reports them.
//!
//! A mode refuses an option it does not read, naming the modes that do.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use cinder_bench::descriptors::{raise_open_files_limit, reserve_descriptor_table};
use cinder_bench::heap::share_main_arena;
use cinder_bench::live_client::Sources;
use cinder_bench::measure::{histogram, micros, open_loop, per, quantiles, server};
use cinder_bench::options::{
    asks_for_help, no_answer, parse, print_help, refuse_unless_read, seconds, usage_error,
    GeneratorIdle, RuntimeFlavor,
};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

mod uring;

const ABOUT: &str = "cinder-floor: the floor under the benchmark server's figures. A bare tokio TCP
server answers the traffic of cinder-loadgen's events, broadcast and connect
with bytes of the same sizes, and no HTTP, WebSocket, JSON or LiveView between:
what the kernel's loopback TCP and tokio alone cost on this machine.
Every run ends with a one-line JSON summary on stdout.";

const USAGE: &str = "usage: cinder-floor serve [--port 4300] [--work-us 0] [--touch-kib 0] [--tasks 1|2] [--runtime multi-thread|current-thread]
       cinder-floor serve --io io-uring [--port 4300]
       cinder-floor events [--addr 127.0.0.1:4300] [--sessions N] [--rate N] [--duration SECONDS] [--server-pid PID] [--idle sleep|spin] [--request-bytes 128] [--reply-bytes 95]
       cinder-floor broadcast [--addr 127.0.0.1:4300] [--sessions N] [--server-pid PID] [--idle sleep|spin] [--request-bytes 128] [--message-bytes 256]
       cinder-floor setup [--addr 127.0.0.1:4300] [--sessions N] [--server-pid PID] [--idle sleep|spin] [--timeout 10] [--request-bytes 128] [--page-bytes 1045] [--join-reply-bytes 189]
(each request tells the server the size of its answer)";

const OPTIONS: &str = "serve [defaults]:
  --port N             the port on 127.0.0.1 [4300]
  --tasks 1|2          1: the task reading a connection answers it; 2: it hands
                       each request to a second task of the connection's own,
                       which answers, as a socket hands events to its page [1]
  --work-us N          busy the core until N µs after each event request [0]
  --touch-kib K        touch K KiB kept per connection on each event [0]
  --runtime KIND       multi-thread with one worker, or current-thread
                       [multi-thread]
  --io tokio|io-uring  serve through tokio and epoll, or from one thread
                       through io_uring [tokio]
events, broadcast and setup [defaults]:
  --addr ADDR          the floor server, on loopback [127.0.0.1:4300]
  --sessions N         connections [1000]
  --rate N             events: requests a second, over all connections [10000]
  --duration SECONDS   events: how long the schedule runs [10]
  --server-pid PID     the server's process, whose CPU time the summary
                       reports per request or session
  --idle sleep|spin    how the generator waits while no socket is ready:
                       asleep in the kernel, or spinning on its core, so that
                       the server's sends never wake it, as cinder-loadgen's
                       --idle [sleep]
  --timeout SECONDS    setup: how long a session waits for its answers before
                       its worker gives up on the server [10]
  --request-bytes N    the size of each request [128]
  --reply-bytes N      events: the size of each answer [95, a /counter reply]
  --message-bytes N    broadcast: the size of the message [256]
  --page-bytes N       setup: the size of the page [1045, /counter's]
  --join-reply-bytes N setup: the size of the join's answer [189, /counter's]
A mode refuses the options it does not read.";

/// How long `events` waits for replies still due after its schedule.
const DRAIN: Duration = Duration::from_secs(5);
/// How long `broadcast` waits for every session's message.
const PATIENCE: Duration = Duration::from_secs(60);
/// How many connections are being opened at a time.
const CONNECTING: usize = 50;
/// The size of the `101 Switching Protocols` response to a WebSocket upgrade.
const UPGRADE_REPLY_BYTES: usize = 129;
/// A request's head: its kind, then its own length and the length of the
/// answer it asks for, each a little-endian `u32`.
const REQUEST_HEAD: usize = 9;
/// The largest answer the server writes; a request asking for more ends
/// its connection.
const MAX_ANSWER_BYTES: usize = 64 << 20;
/// The server's read buffer per connection: room for a few requests.
const READ_BUFFER_BYTES: usize = 1024;
/// The most memory `--touch-kib` keeps per connection: 20,000 connections
/// of it take 5 GiB.
const MAX_TOUCHED_BYTES: usize = 256 << 10;
/// The size of a cache line: `--touch-kib` touches one byte of each.
const CACHE_LINE_BYTES: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Serve,
    Events,
    Broadcast,
    Setup,
}

#[derive(Clone, Debug)]
struct Options {
    mode: Mode,
    port: u16,
    addr: SocketAddr,
    sessions: usize,
    rate: f64,
    duration: Duration,
    server_pid: Option<u32>,
    /// How long `setup` waits for a session's answers before it gives up
    /// on the server (`--timeout`).
    timeout: Duration,
    request_bytes: usize,
    reply_bytes: usize,
    message_bytes: usize,
    page_bytes: usize,
    join_reply_bytes: usize,
    work: Work,
    /// The runtime `serve` runs on, with one worker if multi-thread.
    runtime: RuntimeFlavor,
    /// Whether `serve` hands each request to a second task of its
    /// connection's (`--tasks 2`).
    hand_off: bool,
    /// The interface `serve` asks the kernel through (`--io`).
    io: Io,
    /// How the generator waits while none of its sockets is ready.
    idle: GeneratorIdle,
}

/// How `serve` reads and writes its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Io {
    /// tokio's, on epoll: what the benchmark server uses.
    Tokio,
    /// The kernel's io_uring, from one thread of the server's own.
    IoUring,
}

/// What `serve` does of its own for each event request before answering,
/// standing in for a real server's work (`--work-us`, `--touch-kib`).
#[derive(Clone, Copy, Debug, Default)]
struct Work {
    /// How long the core stays busy from the request's arrival.
    busy: Duration,
    /// How much memory each connection keeps and touches per event.
    touched_bytes: usize,
}

/// The flags that shape the tokio server, which `--io io-uring` does not
/// take.
const TOKIO_SERVE_FLAGS: [&str; 4] = ["--work-us", "--touch-kib", "--tasks", "--runtime"];

/// The modes that read `flag`, which the others refuse; `None` for a flag
/// no mode reads.
fn modes_reading(flag: &str) -> Option<&'static [&'static str]> {
    const GENERATORS: &[&str] = &["events", "broadcast", "setup"];
    Some(match flag {
        "--port" | "--work-us" | "--touch-kib" | "--tasks" | "--runtime" | "--io" => &["serve"],
        "--addr" | "--sessions" | "--server-pid" | "--request-bytes" | "--idle" => GENERATORS,
        "--rate" | "--duration" | "--reply-bytes" => &["events"],
        "--message-bytes" => &["broadcast"],
        "--timeout" | "--page-bytes" | "--join-reply-bytes" => &["setup"],
        _ => return None,
    })
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let name = args.next().unwrap_or_default();
        let mode = match name.as_str() {
            "serve" => Mode::Serve,
            "events" => Mode::Events,
            "broadcast" => Mode::Broadcast,
            "setup" => Mode::Setup,
            "" => return Err("which mode?".into()),
            other => return Err(format!("unknown mode {other}")),
        };
        let mut options = Options {
            mode,
            port: 4300,
            addr: SocketAddr::from(([127, 0, 0, 1], 4300)),
            sessions: 1000,
            rate: 10_000.0,
            duration: Duration::from_secs(10),
            server_pid: None,
            timeout: Duration::from_secs(10),
            request_bytes: 128,
            reply_bytes: 95,
            message_bytes: 256,
            // The sizes of `/counter`'s page and join reply.
            page_bytes: 1045,
            join_reply_bytes: 189,
            work: Work::default(),
            runtime: RuntimeFlavor::MultiThread,
            hand_off: false,
            io: Io::Tokio,
            idle: GeneratorIdle::Sleep,
        };
        // Set only by the flags that shape the tokio server, which the
        // io_uring server does not take.
        let mut tokio_flag = None;
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            if let Some(readers) = modes_reading(&flag) {
                refuse_unless_read(&name, &flag, readers)?;
            }
            let tokio_serve_flag = TOKIO_SERVE_FLAGS.contains(&flag.as_str());
            match flag.as_str() {
                "--port" => options.port = parse(&flag, &value)?,
                "--addr" => options.addr = parse(&flag, &value)?,
                "--sessions" => options.sessions = parse(&flag, &value)?,
                "--rate" => options.rate = parse(&flag, &value)?,
                "--duration" => options.duration = seconds(&flag, &value)?,
                "--timeout" => options.timeout = seconds(&flag, &value)?,
                "--server-pid" => options.server_pid = Some(parse(&flag, &value)?),
                "--request-bytes" => options.request_bytes = parse(&flag, &value)?,
                "--reply-bytes" => options.reply_bytes = parse(&flag, &value)?,
                "--message-bytes" => options.message_bytes = parse(&flag, &value)?,
                "--page-bytes" => options.page_bytes = parse(&flag, &value)?,
                "--join-reply-bytes" => options.join_reply_bytes = parse(&flag, &value)?,
                "--runtime" => options.runtime = RuntimeFlavor::named(&value)?,
                "--idle" => options.idle = GeneratorIdle::named(&value)?,
                "--io" => {
                    options.io = match value.as_str() {
                        "tokio" => Io::Tokio,
                        "io-uring" => Io::IoUring,
                        _ => return Err(format!("--io is tokio or io-uring, not {value}")),
                    }
                }
                "--tasks" => {
                    options.hand_off = match value.as_str() {
                        "1" => false,
                        "2" => true,
                        _ => return Err(format!("--tasks is 1 or 2, not {value}")),
                    }
                }
                "--work-us" => options.work.busy = Duration::from_micros(parse(&flag, &value)?),
                "--touch-kib" => {
                    let kib: usize = parse(&flag, &value)?;
                    options.work.touched_bytes = kib
                        .checked_mul(1024)
                        .filter(|&bytes| bytes <= MAX_TOUCHED_BYTES)
                        .ok_or_else(|| {
                            format!("--touch-kib is at most {}", MAX_TOUCHED_BYTES >> 10)
                        })?;
                }
                _ => return Err(format!("unknown option {flag}")),
            }
            if tokio_serve_flag {
                tokio_flag = Some(flag);
            }
        }
        if let (Io::IoUring, Some(flag)) = (options.io, tokio_flag) {
            return Err(format!(
                "--io io-uring serves from one thread of its own and takes no {flag}"
            ));
        }
        if !options.addr.ip().is_loopback() {
            return Err(format!("{} is not a loopback address", options.addr));
        }
        let sizes = [
            options.request_bytes,
            options.reply_bytes,
            options.message_bytes,
            options.page_bytes,
            options.join_reply_bytes,
        ];
        if sizes.contains(&0) {
            return Err("sizes are at least one byte".into());
        }
        if options.request_bytes < REQUEST_HEAD {
            return Err(format!("--request-bytes is at least {REQUEST_HEAD}"));
        }
        if sizes.iter().any(|&size| size > MAX_ANSWER_BYTES) {
            return Err(format!("sizes are at most {MAX_ANSWER_BYTES} bytes"));
        }
        if options.sessions == 0 || options.rate <= 0.0 || options.timeout.is_zero() {
            return Err("--sessions, --rate and --timeout are positive".into());
        }
        Ok(options)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if asks_for_help(&args) {
        return print_help(&[ABOUT, USAGE, OPTIONS]);
    }
    let options = match Options::parse(args.into_iter()) {
        Ok(options) => options,
        Err(error) => return usage_error(&error, USAGE),
    };
    let open_files_limit = raise_open_files_limit();
    if options.mode == Mode::Serve {
        let served = match options.io {
            Io::IoUring => uring::serve(options.port),
            Io::Tokio => {
                // Before the runtime's threads share the table: see
                // `reserve_descriptor_table`.
                reserve_descriptor_table(open_files_limit);
                // As the benchmark server with one worker: see
                // `share_main_arena`.
                share_main_arena();
                // One worker thread, as the benchmark server runs with
                // `--workers 1`, or the current-thread runtime it can run on
                // instead.
                let runtime = options.runtime.build(1);
                runtime.block_on(serve(options))
            }
        };
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        };
    }
    let mut summary = options.idle.block_on(async {
        match options.mode {
            Mode::Events => events(&options).await,
            Mode::Setup => setup(&options).await,
            _ => broadcast(&options).await,
        }
    });
    summary["idle"] = json!(options.idle.name());
    println!("{summary}");
    ExitCode::SUCCESS
}

/// A connection's write half, shared with broadcasts.
type SharedWriter = Arc<tokio::sync::Mutex<OwnedWriteHalf>>;

/// What writes to a connection: its write half, shared by the task that
/// reads it and broadcasts, or the connection's second task, which owns
/// it (`--tasks 2`).
#[derive(Clone)]
enum Peer {
    Writer(SharedWriter),
    Page(mpsc::UnboundedSender<Answer>),
}

/// What a connection's second task is handed: an answer to write, of
/// `bytes` bytes, after working on it first if it answers an event.
#[derive(Clone, Copy, Debug)]
struct Answer {
    bytes: usize,
    event: bool,
    fill: u8,
}

/// The server's connections by number, for a broadcast to write to in
/// the order they came.
#[derive(Default)]
struct Hub {
    peers: Mutex<BTreeMap<u64, Peer>>,
}

async fn serve(options: Options) -> Result<(), String> {
    let address = SocketAddr::from(([127, 0, 0, 1], options.port));
    let listener = TcpListener::bind(address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    // With `--port 0` the system picks the port; this line tells which.
    let address = listener
        .local_addr()
        .map_err(|error| format!("cannot read the listening address: {error}"))?;
    println!("listening on {address}");
    let hub = Arc::new(Hub::default());
    for number in 0.. {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors, most likely: wait for some to close
            // rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (reader, writer) = stream.into_split();
        let peer = if options.hand_off {
            let (page, answers) = mpsc::unbounded_channel();
            tokio::spawn(page_task(answers, writer, options.work));
            Peer::Page(page)
        } else {
            Peer::Writer(Arc::new(tokio::sync::Mutex::new(writer)))
        };
        hub.peers
            .lock()
            .expect("not poisoned")
            .insert(number, peer.clone());
        let connection = Connection {
            number,
            reader,
            peer,
            hub: hub.clone(),
            work: options.work,
        };
        tokio::spawn(connection.run());
    }
    Ok(())
}

/// A request of `request_bytes` asking for an answer of `answer_bytes`:
/// [`REQUEST_HEAD`] bytes saying so, then filler.
fn request(kind: u8, request_bytes: usize, answer_bytes: usize) -> Vec<u8> {
    let length = |bytes: usize| {
        u32::try_from(bytes)
            .expect("sizes are checked")
            .to_le_bytes()
    };
    let mut request = vec![b'.'; request_bytes];
    request[0] = kind;
    request[1..5].copy_from_slice(&length(request_bytes));
    request[5..REQUEST_HEAD].copy_from_slice(&length(answer_bytes));
    request
}

/// What a request's head says: its kind, its whole length and the length
/// of the answer it asks for. `None` for a head no generator writes.
fn read_head(head: &[u8; REQUEST_HEAD]) -> Option<(u8, usize, usize)> {
    let length = |bytes: &[u8]| u32::from_le_bytes(bytes.try_into().expect("four bytes")) as usize;
    let (request_bytes, answer_bytes) = (length(&head[1..5]), length(&head[5..]));
    let sane = request_bytes >= REQUEST_HEAD && answer_bytes <= MAX_ANSWER_BYTES;
    sane.then_some((head[0], request_bytes, answer_bytes))
}

/// One connection of the bare server.
struct Connection {
    number: u64,
    reader: OwnedReadHalf,
    peer: Peer,
    hub: Arc<Hub>,
    work: Work,
}

impl Connection {
    async fn run(self) {
        // Buffered, so a request is taken from the socket in one read
        // however it is split into head and filler; small, as there may be
        // 20,000 connections.
        let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, self.reader);
        let mut head = [0; REQUEST_HEAD];
        let mut filler = Vec::new();
        let mut answer = Vec::new();
        // Written now, so that its pages are the process's before the first
        // event rather than faulted in during the measurement. A second
        // task keeps its own.
        let mut state = match self.peer {
            Peer::Writer(_) => vec![1u8; self.work.touched_bytes],
            Peer::Page(_) => Vec::new(),
        };
        while reader.read_exact(&mut head).await.is_ok() {
            let Some((kind, request_bytes, answer_bytes)) = read_head(&head) else {
                break;
            };
            filler.resize(request_bytes - REQUEST_HEAD, 0);
            if reader.read_exact(&mut filler).await.is_err() {
                break;
            }
            let written = match &self.peer {
                _ if kind == b'b' => {
                    broadcast_message(&self.hub, answer_bytes).await;
                    true
                }
                Peer::Writer(writer) => {
                    if kind == b'e' {
                        work_on_event(self.work, &mut state);
                    }
                    answer.resize(answer_bytes, b'a');
                    writer.lock().await.write_all(&answer).await.is_ok()
                }
                Peer::Page(page) => page
                    .send(Answer {
                        bytes: answer_bytes,
                        event: kind == b'e',
                        fill: b'a',
                    })
                    .is_ok(),
            };
            if !written {
                break;
            }
        }
        // Dropping the last sender ends the connection's second task.
        self.hub
            .peers
            .lock()
            .expect("not poisoned")
            .remove(&self.number);
    }
}

/// A connection's second task (`--tasks 2`): works on and writes each
/// answer it is handed, until its connection is gone.
async fn page_task(
    mut answers: mpsc::UnboundedReceiver<Answer>,
    mut writer: OwnedWriteHalf,
    work: Work,
) {
    let mut state = vec![1u8; work.touched_bytes];
    let mut bytes = Vec::new();
    while let Some(answer) = answers.recv().await {
        if answer.event {
            work_on_event(work, &mut state);
        }
        // Filled again only when the filler changes, so that an answer
        // costs what the reading task's own answers cost with `--tasks 1`.
        if bytes.first() != Some(&answer.fill) {
            bytes.clear();
        }
        bytes.resize(answer.bytes, answer.fill);
        if writer.write_all(&bytes).await.is_err() {
            break;
        }
    }
}

/// A server's own work on an event, as `work` says: one byte of every cache
/// line of the connection's `state` read and written, in a scattered order
/// that the processor cannot prefetch, then the core kept busy until
/// `work.busy` has passed since the work began.
fn work_on_event(work: Work, state: &mut [u8]) {
    let began = std::time::Instant::now();
    touch_every_line(state);
    while began.elapsed() < work.busy {
        std::hint::spin_loop();
    }
}

/// Adds one to the first byte of each cache line of `state`, each once,
/// every line far from the one before.
fn touch_every_line(state: &mut [u8]) {
    let lines = state.len().div_ceil(CACHE_LINE_BYTES);
    let stride = scattered_stride(lines);
    for step in 0..lines {
        let line = step * stride % lines;
        let byte = &mut state[line * CACHE_LINE_BYTES];
        *byte = byte.wrapping_add(1);
    }
}

/// A step through `lines` lines, modulo their number, that visits each
/// once (it has no factor in common with `lines`) and jumps far (it is
/// near the golden section of `lines`).
fn scattered_stride(lines: usize) -> usize {
    let mut stride = (lines as f64 * 0.618) as usize;
    while greatest_common_divisor(stride, lines) != 1 {
        stride += 1;
    }
    stride
}

fn greatest_common_divisor(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        greatest_common_divisor(b, a % b)
    }
}

/// One write of a message of `message_bytes` to every connection, in one
/// loop: the least a server can do to tell every session something. A
/// connection with a second task is handed the message, which that task
/// writes, so the message itself is made only for connections without one.
async fn broadcast_message(hub: &Hub, message_bytes: usize) {
    let mut message = None;
    let peers: Vec<Peer> = hub
        .peers
        .lock()
        .expect("not poisoned")
        .values()
        .cloned()
        .collect();
    for peer in peers {
        match peer {
            Peer::Writer(writer) => {
                let message = message.get_or_insert_with(|| vec![b'm'; message_bytes]);
                let _ = writer.lock().await.write_all(message).await;
            }
            Peer::Page(page) => {
                let _ = page.send(Answer {
                    bytes: message_bytes,
                    event: false,
                    fill: b'm',
                });
            }
        }
    }
}

/// Opens `options.sessions` connections, [`CONNECTING`] at a time.
async fn open(options: &Options) -> Result<Vec<TcpStream>, String> {
    let sources = Arc::new(Sources::default());
    let mut streams = Vec::with_capacity(options.sessions);
    while streams.len() < options.sessions {
        let batch = CONNECTING.min(options.sessions - streams.len());
        let mut pending = Vec::with_capacity(batch);
        for _ in 0..batch {
            let sources = sources.clone();
            let addr = options.addr;
            pending.push(tokio::spawn(async move { connect(&sources, addr).await }));
        }
        for connecting in pending {
            match connecting.await {
                Ok(connected) => streams.push(connected?),
                Err(error) => return Err(format!("connect: {error}")),
            }
        }
    }
    Ok(streams)
}

/// What the sessions of `events` add up.
struct Tally {
    latency: Mutex<Histogram<u64>>,
    replies: AtomicU64,
}

/// `events`: requests on the fixed schedule of `cinder-loadgen events`.
async fn events(options: &Options) -> Value {
    let streams = match open(options).await {
        Ok(streams) => streams,
        Err(error) => return json!({ "mode": "events", "error": error }),
    };
    let tally = Arc::new(Tally {
        latency: Mutex::new(histogram()),
        replies: AtomicU64::new(0),
    });
    let pushes: Vec<mpsc::UnboundedSender<()>> = streams
        .into_iter()
        .map(|stream| session(stream, options, tally.clone()))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu_before = server::cpu_time(options.server_pid);
    let started = Instant::now();
    let (sent, lag) = open_loop(options.rate, options.duration, |n| {
        let _ = pushes[(n % pushes.len() as u64) as usize].send(());
    })
    .await;
    let sending = started.elapsed();
    let deadline = Instant::now() + DRAIN;
    while tally.replies.load(Ordering::Relaxed) < sent && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cpu = server::cpu_since(options.server_pid, cpu_before);
    let replies = tally.replies.load(Ordering::Relaxed);
    let latency = tally.latency.lock().expect("not poisoned").clone();
    let mut summary = json!({
        "mode": "events",
        "sessions": options.sessions,
        "target_rate": options.rate,
        "rate_achieved": per(sent as f64, sending.as_secs_f64()),
        "sent": sent,
        "replies": replies,
        "unanswered": sent - replies.min(sent),
        "latency": quantiles(&latency),
        "send_lag": quantiles(&lag),
        "request_bytes": options.request_bytes,
        "reply_bytes": options.reply_bytes,
    });
    server::add_cpu_fields(&mut summary, cpu, replies as f64, "server_cpu_us_per_event");
    summary
}

/// Runs one session of `events`: a request for each push, and its reply's
/// round trip into the histogram. Replies come in the order of requests.
fn session(stream: TcpStream, options: &Options, tally: Arc<Tally>) -> mpsc::UnboundedSender<()> {
    let (mut reader, mut writer) = stream.into_split();
    let (push, mut pushes) = mpsc::unbounded_channel::<()>();
    let sent_at = Arc::new(Mutex::new(VecDeque::<Instant>::new()));
    let request = request(b'e', options.request_bytes, options.reply_bytes);
    let waiting = sent_at.clone();
    tokio::spawn(async move {
        while pushes.recv().await.is_some() {
            waiting
                .lock()
                .expect("not poisoned")
                .push_back(Instant::now());
            if writer.write_all(&request).await.is_err() {
                return;
            }
        }
    });
    let mut reply = vec![0; options.reply_bytes];
    tokio::spawn(async move {
        while reader.read_exact(&mut reply).await.is_ok() {
            let now = Instant::now();
            let Some(sent) = sent_at.lock().expect("not poisoned").pop_front() else {
                continue;
            };
            let _ = tally
                .latency
                .lock()
                .expect("not poisoned")
                .record(micros(now - sent));
            tally.replies.fetch_add(1, Ordering::Relaxed);
        }
    });
    push
}

/// `broadcast`: one message to every session, timed until all have it.
async fn broadcast(options: &Options) -> Value {
    let streams = match open(options).await {
        Ok(streams) => streams,
        Err(error) => return json!({ "mode": "broadcast", "error": error }),
    };
    let posted: Arc<OnceLock<Instant>> = Arc::default();
    let arrivals = Arc::new(Mutex::new(histogram()));
    let arrived = Arc::new(AtomicU64::new(0));
    // Kept open until the end: a dropped write half would end its session.
    let mut writers = Vec::with_capacity(streams.len());
    for stream in streams {
        let (mut reader, writer) = stream.into_split();
        writers.push(writer);
        let posted = posted.clone();
        let arrivals = arrivals.clone();
        let arrived = arrived.clone();
        let mut message = vec![0; options.message_bytes];
        tokio::spawn(async move {
            if reader.read_exact(&mut message).await.is_ok() {
                if let Some(posted) = posted.get() {
                    let _ = arrivals
                        .lock()
                        .expect("not poisoned")
                        .record(micros(posted.elapsed()));
                }
                arrived.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu_before = server::cpu_time(options.server_pid);
    let _ = posted.set(Instant::now());
    let request = request(b'b', options.request_bytes, options.message_bytes);
    if let Err(error) = writers[0].write_all(&request).await {
        return json!({ "mode": "broadcast", "error": error.to_string() });
    }
    let deadline = Instant::now() + PATIENCE;
    let sessions = options.sessions as u64;
    while arrived.load(Ordering::Relaxed) < sessions && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let cpu = server::cpu_since(options.server_pid, cpu_before);
    let arrivals = arrivals.lock().expect("not poisoned").clone();
    let delivered = arrived.load(Ordering::Relaxed);
    let mut summary = json!({
        "mode": "broadcast",
        "sessions": options.sessions,
        "delivered": delivered,
        "missing": sessions - delivered.min(sessions),
        "all_delivered_ms": (!arrivals.is_empty()).then(|| arrivals.max() as f64 / 1000.0),
        "arrival": quantiles(&arrivals),
        "message_bytes": options.message_bytes,
    });
    server::add_cpu_fields(
        &mut summary,
        cpu,
        delivered as f64,
        "server_cpu_us_per_session",
    );
    summary
}

/// What the workers of `setup` add up.
struct Opened {
    held: Mutex<Vec<TcpStream>>,
    latency: Mutex<Histogram<u64>>,
    next: AtomicU64,
}

/// `setup`: sessions opened as `cinder-loadgen connect` opens them.
async fn setup(options: &Options) -> Value {
    let sources = Arc::new(Sources::default());
    let opened = Arc::new(Opened {
        held: Mutex::new(Vec::with_capacity(options.sessions)),
        latency: Mutex::new(histogram()),
        next: AtomicU64::new(0),
    });
    let used_before = server::usage(options.server_pid);
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTING)
        .map(|_| tokio::spawn(open_some(options.clone(), sources.clone(), opened.clone())))
        .collect();
    let mut first_error = None;
    for worker in workers {
        if let Ok(Err(error)) = worker.await {
            first_error.get_or_insert(error);
        }
    }
    let setup = started.elapsed();
    let used = server::usage_since(options.server_pid, used_before);
    let held = std::mem::take(&mut *opened.held.lock().expect("not poisoned"));
    let latency = opened.latency.lock().expect("not poisoned").clone();
    let joined = held.len() as f64;
    let mut summary = json!({
        "mode": "setup",
        "sessions": options.sessions,
        "concurrency": CONNECTING,
        "sessions_joined": held.len(),
        "first_error": first_error,
        "setup_seconds": setup.as_secs_f64(),
        "setup_per_sec": per(joined, setup.as_secs_f64()),
        "setup_latency": quantiles(&latency),
        "page_bytes": options.page_bytes,
        "join_reply_bytes": options.join_reply_bytes,
    });
    server::add_setup_fields(&mut summary, used, joined, "server");
    summary
}

/// One worker of `setup`: its keep-alive connection for pages, and a new
/// connection for each session, kept open to the end of the run.
async fn open_some(
    options: Options,
    sources: Arc<Sources>,
    opened: Arc<Opened>,
) -> Result<(), String> {
    let sized = |kind, answer_bytes| request(kind, options.request_bytes, answer_bytes);
    let (page_request, upgrade_request, join_request) = (
        sized(b'g', options.page_bytes),
        sized(b'u', UPGRADE_REPLY_BYTES),
        sized(b'j', options.join_reply_bytes),
    );
    let mut page = vec![0; options.page_bytes];
    let mut upgrade = vec![0; UPGRADE_REPLY_BYTES];
    let mut join = vec![0; options.join_reply_bytes];
    let mut pages = connect(&sources, options.addr).await?;
    let io = |error: std::io::Error| error.to_string();
    while opened.next.fetch_add(1, Ordering::Relaxed) < options.sessions as u64 {
        let started = Instant::now();
        let session = async {
            pages.write_all(&page_request).await.map_err(io)?;
            pages.read_exact(&mut page).await.map_err(io)?;
            let mut socket = connect(&sources, options.addr).await?;
            socket.write_all(&upgrade_request).await.map_err(io)?;
            socket.read_exact(&mut upgrade).await.map_err(io)?;
            socket.write_all(&join_request).await.map_err(io)?;
            socket.read_exact(&mut join).await.map_err(io)?;
            Ok::<_, String>(socket)
        };
        let socket = tokio::time::timeout(options.timeout, session)
            .await
            .map_err(|_| no_answer(options.timeout))??;
        let _ = opened
            .latency
            .lock()
            .expect("not poisoned")
            .record(micros(started.elapsed()));
        opened.held.lock().expect("not poisoned").push(socket);
    }
    Ok(())
}

async fn connect(sources: &Sources, addr: SocketAddr) -> Result<TcpStream, String> {
    sources
        .connect(addr)
        .await
        .map_err(|error| format!("connect: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinder_bench::options::disagreements_on_readers;

    /// The usage lines, the table and the parser agree on which modes read
    /// each option the help describes; the others refuse it, naming them.
    #[test]
    fn every_option_the_help_describes_is_read_by_its_modes_alone() {
        let refusal = |args: [&str; 3]| {
            Options::parse(args.iter().map(|arg| arg.to_string()))
                .err()
                .unwrap_or_default()
        };
        let modes = ["serve", "events", "broadcast", "setup"];
        let refusal_of = |mode: &str, flag: &str| Some(refusal([mode, flag, "1"]));
        let disagreements =
            disagreements_on_readers(USAGE, OPTIONS, &modes, modes_reading, refusal_of);
        assert_eq!(disagreements, Vec::<String>::new());
        let refused = refusal(["serve", "--page-bytes", "7511"]);
        assert_eq!(refused, "serve does not read --page-bytes: only setup does");
        let refused = refusal(["setup", "--sessions", "x"]);
        assert!(refused.contains("cannot read"), "{refused}");
    }

    #[test]
    fn an_event_touches_every_line_of_its_connection_once() {
        for kib in [1, 3, 8, 100, 1024] {
            let mut state = vec![0u8; kib * 1024];
            touch_every_line(&mut state);
            for (index, byte) in state.iter().enumerate() {
                let expected = u8::from(index % CACHE_LINE_BYTES == 0);
                assert_eq!(*byte, expected, "{kib} KiB, byte {index}");
            }
        }
    }

    #[test]
    fn serve_hands_requests_to_a_second_task_only_when_told() {
        let parse = |args: &[&str]| Options::parse(args.iter().map(|arg| arg.to_string()));
        assert!(!parse(&["serve"]).unwrap().hand_off);
        assert!(!parse(&["serve", "--tasks", "1"]).unwrap().hand_off);
        assert!(parse(&["serve", "--tasks", "2"]).unwrap().hand_off);
        let refused = parse(&["serve", "--tasks", "0"]).unwrap_err();
        assert!(refused.contains("--tasks is 1 or 2"), "{refused}");
    }

    #[test]
    fn consecutive_touches_are_far_apart() {
        let lines = 8 * 1024 / CACHE_LINE_BYTES;
        let stride = scattered_stride(lines);
        assert!(
            stride > lines / 4 && stride < lines - lines / 4,
            "{stride} of {lines}"
        );
    }
}
