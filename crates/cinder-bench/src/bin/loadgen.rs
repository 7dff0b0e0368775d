//! `cinder-loadgen`: load on a LiveView server over loopback, in the
//! protocol the official client speaks, so it measures Phoenix as well as
//! Cinder.
//!
//! ```text
//! cinder-loadgen connect   --addr 127.0.0.1:4100 --path /counter --sessions 19500 --duration 30 --server-pid PID
//! cinder-loadgen events    --addr 127.0.0.1:4100 --path /rows --sessions 1000 --rate 5000 --duration 10 --server-pid PID
//! cinder-loadgen broadcast --addr 127.0.0.1:4000 --path /chat --sessions 1000 [--post-addr 127.0.0.1:4001]
//! cinder-loadgen render    --addr 127.0.0.1:4100 --path /counter --connections 50 --duration 10
//! ```
//!
//! Every run ends with a one-line JSON summary on stdout. The generator runs
//! on one thread, so `taskset -c 1` gives it exactly one core. With
//! `--server-pid`, each mode reports the server's CPU time per unit of work
//! (`server_cpu_us_per_…`) and, beside it (`…_split`), how much of that was
//! its own code (`user`) and how much the kernel's (`system`), which is what
//! `cinder-floor` shows a bare server's to be.
//!
//! - `connect` opens the sessions (GET, cookie, CSRF token, WebSocket,
//!   `phx_join`), `--concurrency` at a time, holds them for `--duration`
//!   seconds with heartbeats, and reports the setup rate and the server's
//!   resident memory per session. Beside the server's CPU per setup it
//!   reports its own (`generator_cpu_us_per_setup`): a setup costs the
//!   client's kernel about what it costs the server's, so the two cores
//!   take turns, and the rate is what the pair reaches. It also reports the
//!   page faults a setup took each side (`server_page_faults_per_setup`,
//!   `generator_page_faults_per_setup`): the first touch of each page of
//!   memory a held session keeps costs its process one.
//! - `events` sends `--rate` events a second in all, spread round-robin over
//!   the sessions on a fixed schedule that does not wait for replies, and
//!   reports the round trip from sending each event to its reply, and the
//!   server's CPU time per event.
//! - `broadcast` posts one message to the showcase's `/chat` once no frame
//!   has arrived for `--quiet` seconds (1 unless given), and reports how
//!   long until every session has received it in a `diff`, and how many
//!   frames the sessions received meanwhile, per session. Before that, the
//!   same session posts `--warm-up-posts` messages (1 unless given) that are
//!   not timed, each once the one before has reached every session: the
//!   first post under the name `bench` renames the poster, which updates
//!   who is online in every tab, and the timed message then travels alone.
//!   The sessions stay open `--hold` seconds after it (none unless given),
//!   so that a profiler's window can end before they close. Each post may
//!   take `--patience` seconds (60 unless given) to reach every session;
//!   past that the run goes on, and `first_error` says how many it reached
//!   (none at all: the page is not a chat).
//! - `render` fetches the page over `--connections` keep-alive connections
//!   for `--duration` seconds, as a first visit (no cookie).
//!
//! A session's setup, and each page `render` fetches, waits at most
//! `--timeout` seconds (10 unless given) for the server; past that it
//! counts as a failure (`failures`, `errors`), and `first_error` says the
//! server did not answer, so a server that accepts connections and never
//! answers ends the run instead of holding it forever. After a failed page
//! a `render` connection waits before it tries again, 10 ms and twice as
//! long after each further failure in a row, up to a second.
//!
//! On loopback, the server's send of a reply runs the generator's receive
//! on the server's core, and when the generator sleeps in the kernel that
//! receive also wakes it: the server's CPU time then holds its client's
//! wake-up, which a client on another machine does not cost it. `--idle
//! spin` keeps the generator awake, polling its sockets on its own core, to
//! measure the server without it (the summary's `idle` says which way the
//! run waited; `sleep` unless given).
//!
//! A mode refuses an option it does not read, naming the modes that do.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cinder_bench::descriptors::raise_open_files_limit;
use cinder_bench::live_client::{Frame, HttpConnection, LiveSession, Sources};
use cinder_bench::measure::{histogram, merge, micros, open_loop, per, quantiles, server};
use cinder_bench::options::{
    asks_for_help, no_answer, parse, print_help, refuse_unless_read, seconds, usage_error,
    GeneratorIdle,
};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

/// How long the generator waits for replies still due after a run.
const DRAIN: Duration = Duration::from_secs(5);
/// The longest silence `--quiet` may ask for before a broadcast's post, the
/// longest `--hold` after it, and the longest `--patience` for each post.
const MAX_WAIT: Duration = Duration::from_secs(3600);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if asks_for_help(&args) {
        return print_help(&[ABOUT, USAGE, MODES, OPTIONS]);
    }
    let options = match Options::parse(args.into_iter()) {
        Ok(options) => options,
        Err(error) => return usage_error(&error, USAGE),
    };
    let nofile = raise_open_files_limit();
    let mut summary = options.idle.block_on(run(&options));
    summary["open_files_limit"] = json!(nofile);
    summary["idle"] = json!(options.idle.name());
    println!("{summary}");
    ExitCode::SUCCESS
}

async fn run(options: &Options) -> Value {
    match options.mode {
        Mode::Connect => connect(options).await,
        Mode::Events => events(options).await,
        Mode::Broadcast => broadcast(options).await,
        Mode::Render => render(options).await,
    }
}

const ABOUT: &str = "cinder-loadgen: load on a LiveView server over loopback, in the protocol the
official client speaks, so that it measures Phoenix LiveView as well as Cinder.
Every run ends with a one-line JSON summary on stdout.";

const MODES: &str = "modes:
  connect    open the sessions (GET of the page, its cookie and CSRF token,
             WebSocket, phx_join), hold them --duration seconds; the setup
             rate, failures and the server's memory per session
  events     --rate events a second in all, round-robin over the sessions on
             a fixed schedule that does not wait for replies, for --duration
             seconds; the round trip (p50 to max), errors, bytes per reply and
             the server's CPU time per event
  broadcast  post one message to the showcase's /chat; how long until every
             session has it in a diff
  render     fetch the page over --connections keep-alive connections for
             --duration seconds, as a first visit; pages a second";

const OPTIONS: &str = "options [defaults]:
  --addr ADDR          the server, on loopback [127.0.0.1:4100]
  --path PATH          the page [/counter; /chat for broadcast]
  --sessions N         sessions to open [100]
  --concurrency N      setups in flight while the sessions open [50]
  --duration SECONDS   how long connect holds, events sends, render fetches [10]
  --rate N             events: events a second, over all sessions [1000]
  --event NAME         events: the event sent [bump on /rows, inc elsewhere]
  --connections N      render: keep-alive connections [50]
  --heartbeat SECONDS  the interval of each session's heartbeat [30]
  --timeout SECONDS    how long a session's setup, or a page in render, waits
                       for the server before it counts as failed [10]
  --server-pid PID     the server's process, whose CPU time (and, for connect,
                       resident memory) the summary reports per unit of work
  --idle sleep|spin    how the generator waits while no socket is ready: it
                       sleeps in the kernel, so that on loopback each send of
                       the server's that wakes it costs the server a wake-up,
                       or it spins on its core, polling, as a client on
                       another machine costs the server no wake-up [sleep]
  --post-addr ADDR     broadcast: post from a session on this server (another
                       node) instead of from a measured session
  --quiet SECONDS      broadcast: how long no frame arrives before the post [1]
  --warm-up-posts N    broadcast: untimed posts before it [1]
  --hold SECONDS       broadcast: how long the sessions stay open after it [0]
  --patience SECONDS   broadcast: how long each post may take to reach every
                       session before the run goes on without the rest [60]
A mode refuses the options it does not read.";

const USAGE: &str = "usage: cinder-loadgen connect [--addr 127.0.0.1:4100] [--path /counter] [--sessions N] [--concurrency N] [--duration SECONDS] [--heartbeat SECONDS] [--timeout SECONDS] [--server-pid PID] [--idle sleep|spin]
       cinder-loadgen events [--addr 127.0.0.1:4100] [--path /counter] [--sessions N] [--concurrency N] [--duration SECONDS] [--rate EVENTS_PER_SECOND] [--event inc|bump] [--heartbeat SECONDS] [--timeout SECONDS] [--server-pid PID] [--idle sleep|spin]
       cinder-loadgen broadcast [--addr 127.0.0.1:4100] [--post-addr ADDR] [--path /chat] [--sessions N] [--concurrency N] [--heartbeat SECONDS] [--timeout SECONDS] [--quiet SECONDS] [--warm-up-posts N] [--hold SECONDS] [--patience SECONDS] [--server-pid PID] [--idle sleep|spin]
       cinder-loadgen render [--addr 127.0.0.1:4100] [--path /counter] [--connections N] [--duration SECONDS] [--timeout SECONDS] [--server-pid PID] [--idle sleep|spin]";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Connect,
    Events,
    Broadcast,
    Render,
}

/// The command line.
#[derive(Clone, Debug)]
struct Options {
    mode: Mode,
    addr: SocketAddr,
    /// For `broadcast`: post from a session on this server (another node)
    /// instead of from one of the measured sessions.
    post_addr: Option<SocketAddr>,
    path: String,
    sessions: usize,
    concurrency: usize,
    duration: Duration,
    rate: f64,
    event: String,
    connections: usize,
    heartbeat: Duration,
    /// How long a session's setup, or a page in `render`, may wait for the
    /// server before it counts as failed.
    timeout: Duration,
    /// For `broadcast`: how long no frame must arrive before the post; a
    /// longer silence leaves room to start a profiler's window before it.
    quiet: Duration,
    /// For `broadcast`: how long the sessions stay open once the message
    /// has arrived everywhere, to end a profiler's window before they close.
    hold: Duration,
    /// For `broadcast`: messages posted, untimed, before the quiet wait.
    warm_up_posts: u32,
    /// For `broadcast`: how long each post may take to reach every session.
    patience: Duration,
    server_pid: Option<u32>,
    /// How the generator waits while none of its sockets is ready.
    idle: GeneratorIdle,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let name = args.next().unwrap_or_default();
        let mode = match name.as_str() {
            "connect" => Mode::Connect,
            "events" => Mode::Events,
            "broadcast" => Mode::Broadcast,
            "render" => Mode::Render,
            "" => return Err("no mode given".into()),
            other => return Err(format!("unknown mode {other}")),
        };
        let mut options = Options::defaults(mode);
        let mut event = None;
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            if let Some(readers) = modes_reading(&flag) {
                refuse_unless_read(&name, &flag, readers)?;
            }
            match flag.as_str() {
                "--addr" => options.addr = parse(&flag, &value)?,
                "--post-addr" => options.post_addr = Some(parse(&flag, &value)?),
                "--path" => options.path = value,
                "--sessions" => options.sessions = parse(&flag, &value)?,
                "--concurrency" => options.concurrency = parse(&flag, &value)?,
                "--duration" => options.duration = seconds(&flag, &value)?,
                "--rate" => options.rate = parse(&flag, &value)?,
                "--event" => event = Some(value),
                "--connections" => options.connections = parse(&flag, &value)?,
                "--heartbeat" => options.heartbeat = seconds(&flag, &value)?,
                "--timeout" => options.timeout = seconds(&flag, &value)?,
                "--quiet" => options.quiet = seconds(&flag, &value)?,
                "--hold" => options.hold = seconds(&flag, &value)?,
                "--patience" => options.patience = seconds(&flag, &value)?,
                "--warm-up-posts" => options.warm_up_posts = parse(&flag, &value)?,
                "--server-pid" => options.server_pid = Some(parse(&flag, &value)?),
                "--idle" => options.idle = GeneratorIdle::named(&value)?,
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        options.event = event.unwrap_or_else(|| default_event(&options.path).into());
        options.check()
    }

    fn defaults(mode: Mode) -> Options {
        Options {
            mode,
            addr: SocketAddr::from(([127, 0, 0, 1], 4100)),
            post_addr: None,
            path: if mode == Mode::Broadcast {
                "/chat"
            } else {
                "/counter"
            }
            .into(),
            sessions: 100,
            concurrency: 50,
            duration: Duration::from_secs(10),
            rate: 1000.0,
            event: String::new(),
            connections: 50,
            heartbeat: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            quiet: Duration::from_secs(1),
            hold: Duration::ZERO,
            warm_up_posts: 1,
            patience: Duration::from_secs(60),
            server_pid: None,
            idle: GeneratorIdle::Sleep,
        }
    }

    fn check(self) -> Result<Options, String> {
        if let Some(post) = self.post_addr.filter(|post| !post.ip().is_loopback()) {
            return Err(format!("{post} is not a loopback address"));
        }
        if !self.addr.ip().is_loopback() {
            return Err(format!("{} is not a loopback address", self.addr));
        }
        if self.sessions == 0 || self.concurrency == 0 || self.connections == 0 {
            return Err("--sessions, --concurrency and --connections must be positive".into());
        }
        if !self.rate.is_finite() || self.rate <= 0.0 {
            return Err("--rate must be positive".into());
        }
        if self.heartbeat.is_zero() || self.timeout.is_zero() {
            return Err("--heartbeat and --timeout must be positive".into());
        }
        if self.patience.is_zero() {
            return Err("--patience must be positive".into());
        }
        if [self.quiet, self.hold, self.patience]
            .iter()
            .any(|&wait| wait > MAX_WAIT)
        {
            return Err(format!(
                "--quiet, --hold and --patience are at most {} seconds",
                MAX_WAIT.as_secs()
            ));
        }
        Ok(self)
    }
}

/// The modes that read `flag`, which the others refuse; `None` for a flag
/// no mode reads.
fn modes_reading(flag: &str) -> Option<&'static [&'static str]> {
    const SESSIONS: &[&str] = &["connect", "events", "broadcast"];
    Some(match flag {
        "--addr" | "--path" | "--timeout" | "--server-pid" | "--idle" => {
            &["connect", "events", "broadcast", "render"]
        }
        "--sessions" | "--concurrency" | "--heartbeat" => SESSIONS,
        "--duration" => &["connect", "events", "render"],
        "--rate" | "--event" => &["events"],
        "--connections" => &["render"],
        "--post-addr" | "--quiet" | "--hold" | "--warm-up-posts" | "--patience" => &["broadcast"],
        _ => return None,
    })
}

/// The event each benchmark page answers: `bump` on `/rows`, `inc` elsewhere.
fn default_event(path: &str) -> &'static str {
    if path.starts_with("/rows") {
        "bump"
    } else {
        "inc"
    }
}

/// What every session's task adds up.
struct Shared {
    latency: Mutex<Histogram<u64>>,
    sent: AtomicU64,
    replies: AtomicU64,
    reply_bytes: AtomicU64,
    errors: AtomicU64,
    closed: AtomicU64,
    /// When the last frame arrived, in microseconds since `origin`.
    last_frame: AtomicU64,
    origin: Instant,
    /// For `broadcast`: the latest post, whose text is looked for in
    /// `diff` pushes.
    post: Mutex<Option<Post>>,
    /// Whether there has been a post: every other run's frames pass by
    /// with one load instead of taking the lock.
    posting: AtomicBool,
    arrivals: Mutex<Histogram<u64>>,
    /// For `broadcast`: the sessions the latest post has reached.
    arrived: AtomicU64,
    /// For `broadcast`: the frames that arrived once the timed message was posted.
    frames_since_post: AtomicU64,
}

/// A message `broadcast` posted and watches arrive.
struct Post {
    text: String,
    /// Counted from 1, so that a session can tell which post it last saw.
    number: u64,
    posted: Instant,
    /// Whether this is the timed message, rather than a warm-up.
    timed: bool,
}

impl Shared {
    fn new() -> Arc<Shared> {
        Arc::new(Shared {
            latency: Mutex::new(histogram()),
            sent: AtomicU64::new(0),
            replies: AtomicU64::new(0),
            reply_bytes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            last_frame: AtomicU64::new(0),
            origin: Instant::now(),
            post: Mutex::new(None),
            posting: AtomicBool::new(false),
            arrivals: Mutex::new(histogram()),
            arrived: AtomicU64::new(0),
            frames_since_post: AtomicU64::new(0),
        })
    }

    fn count(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn since_last_frame(&self) -> Duration {
        let last = Duration::from_micros(Shared::count(&self.last_frame));
        self.origin.elapsed().saturating_sub(last)
    }

    /// Takes in a frame of `text` that a session whose last post seen is
    /// `seen_post` received at `now`: the first `diff` that carries the
    /// latest post counts as its arrival there, and once the timed message
    /// is posted every frame is counted and its arrival timed.
    fn note_post(&self, seen_post: &mut u64, text: &str, now: Instant) {
        if !self.posting.load(Ordering::Acquire) {
            return;
        }
        let post = self.post.lock().expect("not poisoned");
        let Some(post) = post.as_ref() else {
            return;
        };
        if post.timed {
            self.frames_since_post.fetch_add(1, Ordering::Relaxed);
        }
        let seen = *seen_post == post.number;
        if seen || !text.contains(post.text.as_str()) || !text.contains(r#","diff","#) {
            return;
        }
        *seen_post = post.number;
        self.arrived.fetch_add(1, Ordering::Relaxed);
        if post.timed {
            let _ = self
                .arrivals
                .lock()
                .expect("the histogram lock is never poisoned")
                .record(micros(now - post.posted));
        }
    }

    /// Starts watching for `text`, about to be posted, in place of the
    /// post before it.
    fn watch_post(&self, text: &str, timed: bool) {
        let mut post = self.post.lock().expect("not poisoned");
        let number = post.as_ref().map_or(1, |previous| previous.number + 1);
        self.arrived.store(0, Ordering::Relaxed);
        *post = Some(Post {
            text: text.to_string(),
            number,
            posted: Instant::now(),
            timed,
        });
        self.posting.store(true, Ordering::Release);
    }
}

/// What a session's task is asked to send.
struct Push {
    /// The `event` message's payload, JSON.
    payload: String,
}

/// One held session, as its task runs it.
struct Driver {
    session: LiveSession,
    tally: Tally,
}

/// What a held session counts of the frames it receives.
struct Tally {
    shared: Arc<Shared>,
    /// Sent events by reference, with when they were written.
    pending: HashMap<u64, Instant>,
    /// The number of the last broadcast post this session has received.
    seen_post: u64,
}

impl Driver {
    async fn run(
        mut self,
        mut pushes: mpsc::UnboundedReceiver<Push>,
        mut stop: watch::Receiver<bool>,
        heartbeat: Duration,
    ) {
        let mut beat = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
        beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut pushes_open = true;
        loop {
            let alive = tokio::select! {
                _ = stop.changed() => return,
                push = pushes.recv(), if pushes_open => match push {
                    Some(push) => self.push(&push.payload).await,
                    None => { pushes_open = false; true }
                },
                _ = beat.tick() => self.heartbeat().await,
                // The text lies in the socket's buffer, which the tally
                // reads beside the session's topic.
                text = self.session.socket.next_text() => match text {
                    Ok(Some(text)) => {
                        self.tally.receive(&self.session.topic, text);
                        true
                    }
                    Ok(None) | Err(_) => false,
                },
            };
            if !alive {
                self.tally.shared.closed.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }

    async fn push(&mut self, payload: &str) -> bool {
        let msg_ref = self.session.next_ref();
        let frame = self.session.event_frame(msg_ref, payload);
        self.tally.pending.insert(msg_ref, Instant::now());
        self.tally.shared.sent.fetch_add(1, Ordering::Relaxed);
        self.send(&frame).await
    }

    async fn heartbeat(&mut self) -> bool {
        let msg_ref = self.session.next_ref();
        self.send(&LiveSession::heartbeat_frame(msg_ref)).await
    }

    async fn send(&mut self, frame: &str) -> bool {
        self.session.socket.send_text(frame).await.is_ok()
    }
}

impl Tally {
    /// Takes in one text frame of the session on `topic`.
    fn receive(&mut self, topic: &str, text: &str) {
        let shared = &self.shared;
        let now = Instant::now();
        shared
            .last_frame
            .store(micros(now - shared.origin), Ordering::Relaxed);
        match Frame::parse(text) {
            Ok(frame) => self.frame(topic, &frame, text.len(), now),
            Err(_) => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.shared.note_post(&mut self.seen_post, text, now);
    }

    fn frame(&mut self, topic: &str, frame: &Frame, bytes: usize, now: Instant) {
        if frame.event != "phx_reply" || frame.topic != topic {
            return;
        }
        let Some(sent) = frame.ref_number().and_then(|r| self.pending.remove(&r)) else {
            return;
        };
        let shared = &self.shared;
        if frame.status().ok().as_deref() != Some("ok") {
            shared.errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
        shared.replies.fetch_add(1, Ordering::Relaxed);
        shared
            .reply_bytes
            .fetch_add(bytes as u64, Ordering::Relaxed);
        let _ = shared
            .latency
            .lock()
            .expect("the histogram lock is never poisoned")
            .record(micros(now - sent));
    }
}

/// The sessions of a run, each held by its own task.
struct Sessions {
    pushes: Vec<mpsc::UnboundedSender<Push>>,
    stop: watch::Sender<bool>,
    failures: u64,
    first_error: Option<String>,
    setup: Duration,
    setup_latency: Histogram<u64>,
    page_bytes: usize,
    join_reply_bytes: usize,
    sources: Arc<Sources>,
}

impl Sessions {
    fn summary(&self) -> Value {
        let joined = self.pushes.len();
        json!({
            "sessions_joined": joined,
            "failures": self.failures,
            "first_error": self.first_error,
            "setup_seconds": (self.setup.as_secs_f64() * 1000.0).round() / 1000.0,
            "setup_per_sec": per(joined as f64, self.setup.as_secs_f64()),
            "setup_latency": quantiles(&self.setup_latency),
            "page_bytes": self.page_bytes,
            "join_reply_bytes": self.join_reply_bytes,
            "extra_source_addresses": self.sources.extra(),
        })
    }
}

/// What one setup worker collected.
struct Opened {
    pushes: Vec<mpsc::UnboundedSender<Push>>,
    setup_latency: Histogram<u64>,
    page_bytes: usize,
    join_reply_bytes: usize,
    failures: u64,
    first_error: Option<String>,
}

/// What a setup worker needs to start holding the sessions it opens.
#[derive(Clone)]
struct Setup {
    sources: Arc<Sources>,
    next: Arc<AtomicU64>,
    shared: Arc<Shared>,
    stopped: watch::Receiver<bool>,
    addr: SocketAddr,
    path: Arc<str>,
    total: u64,
    heartbeat: Duration,
    timeout: Duration,
}

/// Opens `options.sessions` sessions, `options.concurrency` at a time; each
/// is held by its own task from the moment it has joined, so its heartbeats
/// run while the others are still being opened.
async fn open_sessions(options: &Options, shared: &Arc<Shared>) -> Sessions {
    let (stop, stopped) = watch::channel(false);
    let setup = Setup {
        sources: Arc::new(Sources::default()),
        next: Arc::new(AtomicU64::new(0)),
        shared: shared.clone(),
        stopped,
        addr: options.addr,
        path: options.path.as_str().into(),
        total: options.sessions as u64,
        heartbeat: options.heartbeat,
        timeout: options.timeout,
    };
    let started = Instant::now();
    let workers: Vec<_> = (0..options.concurrency.min(options.sessions))
        .map(|_| tokio::spawn(open_some(setup.clone())))
        .collect();
    let mut sessions = Sessions {
        pushes: Vec::with_capacity(options.sessions),
        stop,
        failures: 0,
        first_error: None,
        setup: Duration::ZERO,
        setup_latency: histogram(),
        page_bytes: 0,
        join_reply_bytes: 0,
        sources: setup.sources.clone(),
    };
    for worker in workers {
        let part = worker.await.expect("a setup worker does not panic");
        sessions.pushes.extend(part.pushes);
        let _ = sessions.setup_latency.add(&part.setup_latency);
        sessions.page_bytes = sessions.page_bytes.max(part.page_bytes);
        sessions.join_reply_bytes = sessions.join_reply_bytes.max(part.join_reply_bytes);
        sessions.failures += part.failures;
        sessions.first_error = sessions.first_error.or(part.first_error);
    }
    sessions.setup = started.elapsed();
    sessions
}

async fn open_some(setup: Setup) -> Opened {
    let mut opened = Opened {
        pushes: Vec::new(),
        setup_latency: histogram(),
        page_bytes: 0,
        join_reply_bytes: 0,
        failures: 0,
        first_error: None,
    };
    // Pages load over one keep-alive connection per worker, as a browser
    // keeps its connection to a site: a connection per page would leave a
    // port in TIME_WAIT for each session, and the kernel's search for a free
    // ephemeral port then costs the generator more than the server's work.
    let mut http = None;
    while setup.next.fetch_add(1, Ordering::Relaxed) < setup.total {
        let started = Instant::now();
        let opening = LiveSession::open_reusing(&mut http, &setup.sources, setup.addr, &setup.path);
        let failure = match tokio::time::timeout(setup.timeout, opening).await {
            Ok(Ok(session)) => {
                let _ = opened.setup_latency.record(micros(started.elapsed()));
                opened.page_bytes = session.page_bytes;
                opened.join_reply_bytes = session.join_reply_bytes;
                opened.pushes.push(hold(session, &setup));
                continue;
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => {
                // The page's connection may be mid-response: the next
                // setup starts on a new one.
                http = None;
                no_answer(setup.timeout)
            }
        };
        opened.failures += 1;
        opened.first_error.get_or_insert(failure);
    }
    opened
}

/// Starts the task that holds `session`; returns where to send its events.
fn hold(session: LiveSession, setup: &Setup) -> mpsc::UnboundedSender<Push> {
    let (pushes, inbox) = mpsc::unbounded_channel();
    let driver = Driver {
        session,
        tally: Tally {
            shared: setup.shared.clone(),
            pending: HashMap::new(),
            seen_post: 0,
        },
    };
    tokio::spawn(driver.run(inbox, setup.stopped.clone(), setup.heartbeat));
    pushes
}

/// `connect`: open, settle, measure the server's memory, hold.
async fn connect(options: &Options) -> Value {
    let shared = Shared::new();
    let rss_before = server::rss_kib(options.server_pid);
    let used_before = server::usage(options.server_pid);
    let generator = Some(std::process::id());
    let generator_used_before = server::usage(generator);
    let sessions = open_sessions(options, &shared).await;
    let used = server::usage_since(options.server_pid, used_before);
    let generator_used = server::usage_since(generator, generator_used_before);
    // Let the last joins' replies and the server's allocator settle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_joined = server::rss_kib(options.server_pid);
    tokio::time::sleep(options.duration).await;
    let rss_held = server::rss_kib(options.server_pid);
    let _ = sessions.stop.send(true);
    let joined = sessions.pushes.len() as f64;
    let per_session = match (rss_before, rss_held) {
        (Some(before), Some(after)) => per((after as f64 - before as f64) * 1024.0, joined),
        _ => None,
    };
    let mut summary = json!({
        "mode": "connect",
        "path": options.path,
        "sessions": options.sessions,
        "concurrency": options.concurrency,
        "held_seconds": options.duration.as_secs_f64(),
        "closed_while_held": Shared::count(&shared.closed),
        "server_rss_before_kib": rss_before,
        "server_rss_joined_kib": rss_joined,
        "server_rss_held_kib": rss_held,
        "server_bytes_per_session": per_session,
    });
    // From the first request to the last join reply, per session opened:
    // what a session's setup costs the server, whatever limits the rate,
    // in CPU and in page faults (the memory it touched for the first time,
    // which a held session's memory costs). The generator's own beside it:
    // where it is near the server's, the two cores take turns and neither
    // is ever full.
    server::add_setup_fields(&mut summary, used, joined, "server");
    server::add_setup_fields(&mut summary, generator_used, joined, "generator");
    merge(&mut summary, sessions.summary());
    summary
}

/// The payload of event number `n` of a run.
fn event_payload(event: &str, n: u64) -> String {
    match event {
        // Row ids run from 1 to 100; walking through them touches every row.
        "bump" => format!(
            r#"{{"type":"click","event":"bump","value":{{"i":"{}","value":""}}}}"#,
            n % 100 + 1
        ),
        name => format!(
            r#"{{"type":"click","event":{},"value":{{"value":""}}}}"#,
            Value::from(name)
        ),
    }
}

/// `events`: a fixed schedule of events over the sessions, then the replies.
async fn events(options: &Options) -> Value {
    let shared = Shared::new();
    let sessions = open_sessions(options, &shared).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu_before = server::cpu_time(options.server_pid);
    let started = Instant::now();
    let (scheduled, lag) = schedule(options, &sessions).await;
    let sending = started.elapsed();
    drain(&shared, scheduled).await;
    let cpu = server::cpu_since(options.server_pid, cpu_before);
    let _ = sessions.stop.send(true);
    let replies = Shared::count(&shared.replies);
    let latency = shared.latency.lock().expect("not poisoned").clone();
    let mut summary = json!({
        "mode": "events",
        "path": options.path,
        "event": options.event,
        "sessions": options.sessions,
        "target_rate": options.rate,
        "seconds": (sending.as_secs_f64() * 1000.0).round() / 1000.0,
        "sent": Shared::count(&shared.sent),
        "scheduled": scheduled,
        "replies": replies,
        "errors": Shared::count(&shared.errors),
        "unanswered": scheduled.saturating_sub(replies + Shared::count(&shared.errors)),
        "closed": Shared::count(&shared.closed),
        "rate_achieved": per(replies as f64, sending.as_secs_f64()),
        "bytes_per_reply": per(Shared::count(&shared.reply_bytes) as f64, replies as f64),
        "latency": quantiles(&latency),
        "send_lag": quantiles(&lag),
    });
    server::add_cpu_fields(&mut summary, cpu, replies as f64, "server_cpu_us_per_event");
    merge(&mut summary, sessions.summary());
    summary
}

/// Hands out the run's events to the sessions, round-robin, on the open-loop
/// schedule of [`open_loop`].
async fn schedule(options: &Options, sessions: &Sessions) -> (u64, Histogram<u64>) {
    if sessions.pushes.is_empty() {
        return (0, histogram());
    }
    open_loop(options.rate, options.duration, |n| {
        let session = &sessions.pushes[(n % sessions.pushes.len() as u64) as usize];
        let _ = session.send(Push {
            payload: event_payload(&options.event, n),
        });
    })
    .await
}

/// Waits until `scheduled` events are answered, or for [`DRAIN`].
async fn drain(shared: &Shared, scheduled: u64) {
    let deadline = Instant::now() + DRAIN;
    while Instant::now() < deadline {
        let settled = Shared::count(&shared.replies) + Shared::count(&shared.errors);
        if settled >= scheduled {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `broadcast`: joins, waits for the room to fall quiet, posts one message
/// from the first session (or from a session on `--post-addr`, another
/// node), and times its arrival everywhere.
async fn broadcast(options: &Options) -> Value {
    let shared = Shared::new();
    let sessions = open_sessions(options, &shared).await;
    // The poster on another node counts in its own tally, not in the arrivals.
    let poster = match options.post_addr {
        Some(addr) => {
            let single = Options {
                addr,
                sessions: 1,
                concurrency: 1,
                ..options.clone()
            };
            Some(open_sessions(&single, &Shared::new()).await)
        }
        None => None,
    };
    let sender = poster.as_ref().unwrap_or(&sessions).pushes.first();
    let joined = sessions.pushes.len() as u64;
    // Each warm-up reaches every session before the next post: a server
    // still delivering one when the timed message comes would have the
    // message's time include it.
    let mut warm_up_delivered = joined;
    for n in 0..options.warm_up_posts {
        let text = format!("warm-up-{n}-{}", shared.origin.elapsed().as_nanos());
        shared.watch_post(&text, false);
        post(sender, &text);
        let delivered = arrived_everywhere(&shared, joined, options.patience).await;
        warm_up_delivered = warm_up_delivered.min(delivered);
    }
    // Each join changes who is online, which every other session is told,
    // as is the poster's new name; the message is timed once those updates
    // have stopped arriving.
    let quiet_since = quiet(&shared, options.quiet, options.quiet + options.patience).await;
    let marker = format!("bench-{}", shared.origin.elapsed().as_nanos());
    let cpu_before = server::cpu_time(options.server_pid);
    shared.watch_post(&marker, true);
    post(sender, &marker);
    arrived_everywhere(&shared, joined, options.patience).await;
    let cpu = server::cpu_since(options.server_pid, cpu_before);
    let frames = Shared::count(&shared.frames_since_post);
    let delivered = Shared::count(&shared.arrived);
    tokio::time::sleep(options.hold).await;
    let _ = sessions.stop.send(true);
    if let Some(poster) = &poster {
        let _ = poster.stop.send(true);
    }
    let arrivals = shared.arrivals.lock().expect("not poisoned").clone();
    let mut summary = json!({
        "mode": "broadcast",
        "path": options.path,
        "sessions": options.sessions,
        "quiet_before_post": quiet_since,
        "warm_up_posts": options.warm_up_posts,
        // The fewest sessions a warm-up reached before the next post.
        "warm_up_delivered": warm_up_delivered,
        "delivered": delivered,
        "missing": joined - delivered.min(joined),
        "all_delivered_ms": (!arrivals.is_empty()).then(|| arrivals.max() as f64 / 1000.0),
        "arrival": quantiles(&arrivals),
        // More than one when the sessions were sent other frames meanwhile
        // (the list of who is online, say) on top of the message's.
        "frames_per_session": (delivered > 0).then(|| frames as f64 / delivered as f64),
    });
    // The server's CPU from the post to the last arrival, per session
    // reached: the same measure as `cinder-floor broadcast`'s.
    server::add_cpu_fields(
        &mut summary,
        cpu,
        delivered as f64,
        "server_cpu_us_per_session",
    );
    merge(&mut summary, sessions.summary());
    if summary["first_error"].is_null() && delivered < joined {
        summary["first_error"] = json!(undelivered(options, delivered, joined));
    }
    summary
}

/// Why a broadcast's message reached only `delivered` of the `joined`
/// sessions.
fn undelivered(options: &Options, delivered: u64, joined: u64) -> String {
    let patience = options.patience.as_secs_f64();
    if delivered == 0 {
        format!(
            "the message reached no session within {patience} s (--patience): is {} a chat page?",
            options.path
        )
    } else {
        format!(
            "the message reached {delivered} of {joined} sessions within {patience} s (--patience)"
        )
    }
}

/// Waits until the latest post has reached all `joined` sessions, at most
/// `patience`; returns how many it reached.
async fn arrived_everywhere(shared: &Shared, joined: u64, patience: Duration) -> u64 {
    let deadline = Instant::now() + patience;
    while Shared::count(&shared.arrived) < joined && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Shared::count(&shared.arrived)
}

/// Posts `text` to the chat from `sender` under the name `bench`.
fn post(sender: Option<&mpsc::UnboundedSender<Push>>, text: &str) {
    if let Some(sender) = sender {
        let value = format!("message%5Bname%5D=bench&message%5Btext%5D={text}");
        let payload = json!({"type": "form", "event": "send", "value": value}).to_string();
        let _ = sender.send(Push { payload });
    }
}

/// Waits until no frame has arrived for `silence`, at most `patience`.
/// Returns whether it fell quiet.
async fn quiet(shared: &Shared, silence: Duration, patience: Duration) -> bool {
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        if shared.since_last_frame() >= silence {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// How long a render connection waits after a failed page before it tries
/// again; each failure in a row doubles it, up to [`LONGEST_RETRY_PAUSE`],
/// so that a server refusing connections does not keep the generator's core
/// busy with attempts.
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause between a render connection's failed pages.
const LONGEST_RETRY_PAUSE: Duration = Duration::from_secs(1);

/// What one render connection counted.
#[derive(Default)]
struct Rendered {
    pages: u64,
    bytes: u64,
    errors: u64,
    first_error: Option<String>,
    latency: Option<Histogram<u64>>,
}

/// `render`: dead renders over keep-alive connections for a while.
async fn render(options: &Options) -> Value {
    let sources = Arc::new(Sources::default());
    let cpu_before = server::cpu_time(options.server_pid);
    let started = Instant::now();
    let deadline = started + options.duration;
    let workers: Vec<_> = (0..options.connections)
        .map(|_| {
            let (sources, addr, path) = (sources.clone(), options.addr, options.path.clone());
            let timeout = options.timeout;
            tokio::spawn(async move { render_loop(&sources, addr, &path, deadline, timeout).await })
        })
        .collect();
    let mut total = Rendered::default();
    let mut latency = histogram();
    for worker in workers {
        let part = worker.await.expect("a render worker does not panic");
        total.pages += part.pages;
        total.bytes += part.bytes;
        total.errors += part.errors;
        total.first_error = total.first_error.or(part.first_error);
        if let Some(part) = part.latency {
            let _ = latency.add(&part);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = server::cpu_since(options.server_pid, cpu_before);
    let mut summary = json!({
        "mode": "render",
        "path": options.path,
        "connections": options.connections,
        "seconds": (elapsed * 1000.0).round() / 1000.0,
        "pages": total.pages,
        "errors": total.errors,
        "first_error": total.first_error,
        "pages_per_sec": per(total.pages as f64, elapsed),
        "bytes_per_page": per(total.bytes as f64, total.pages as f64),
        "latency": quantiles(&latency),
        "extra_source_addresses": sources.extra(),
    });
    server::add_cpu_fields(
        &mut summary,
        cpu,
        total.pages as f64,
        "server_cpu_us_per_page",
    );
    summary
}

async fn render_loop(
    sources: &Sources,
    addr: SocketAddr,
    path: &str,
    deadline: Instant,
    timeout: Duration,
) -> Rendered {
    let mut counted = Rendered::default();
    let mut latency = histogram();
    let mut connection = None;
    let mut retry_pause = FIRST_RETRY_PAUSE;
    while Instant::now() < deadline {
        let started = Instant::now();
        let rendering = render_once(&mut connection, sources, addr, path);
        let rendered = tokio::time::timeout(timeout, rendering)
            .await
            .unwrap_or_else(|_| Err(no_answer(timeout)));
        match rendered {
            Ok(bytes) => {
                counted.pages += 1;
                counted.bytes += bytes as u64;
                let _ = latency.record(micros(started.elapsed()));
                retry_pause = FIRST_RETRY_PAUSE;
            }
            Err(error) => {
                counted.errors += 1;
                counted.first_error.get_or_insert(error);
                // A broken connection is replaced on the next round.
                connection = None;
                tokio::time::sleep_until(deadline.min(Instant::now() + retry_pause)).await;
                retry_pause = (retry_pause * 2).min(LONGEST_RETRY_PAUSE);
            }
        }
    }
    counted.latency = Some(latency);
    counted
}

async fn render_once(
    connection: &mut Option<HttpConnection>,
    sources: &Sources,
    addr: SocketAddr,
    path: &str,
) -> Result<usize, String> {
    if connection.is_none() {
        *connection = Some(
            HttpConnection::open(sources, addr)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    let http = connection.as_mut().expect("opened above");
    let response = http.get(path, None).await.map_err(|e| e.to_string())?;
    if response.status != 200 {
        return Err(format!("HTTP {}", response.status));
    }
    Ok(response.body.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cinder_bench::options::disagreements_on_readers;

    fn options(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|arg| arg.to_string()))
    }

    /// The usage lines, the table and the parser agree on which modes read
    /// each option the help describes; the others refuse it, naming them.
    #[test]
    fn every_option_the_help_describes_is_read_by_its_modes_alone() {
        let modes = ["connect", "events", "broadcast", "render"];
        let refusal_of = |mode: &str, flag: &str| options(&[mode, flag, "1"]).err();
        let disagreements =
            disagreements_on_readers(USAGE, OPTIONS, &modes, modes_reading, refusal_of);
        assert_eq!(disagreements, Vec::<String>::new());
        let refused = options(&["render", "--sessions", "100"]).unwrap_err();
        assert_eq!(
            refused,
            "render does not read --sessions: only connect, events and broadcast do"
        );
    }

    #[test]
    fn the_event_follows_the_page() {
        assert_eq!(
            options(&["events", "--path", "/rows"]).unwrap().event,
            "bump"
        );
        assert_eq!(options(&["events"]).unwrap().event, "inc");
        let chosen = options(&["events", "--path", "/rows", "--event", "inc"]).unwrap();
        assert_eq!(chosen.event, "inc");
        assert_eq!(options(&["broadcast"]).unwrap().path, "/chat");
    }

    /// A `diff` push carrying `text`, as a chat session receives it.
    fn diff_with(text: &str) -> String {
        format!(r#"[null,null,"lv:phx-A","diff",{{"0":"{text}"}}]"#)
    }

    #[test]
    fn a_post_arrives_once_per_session_in_its_first_diff() {
        let shared = Shared::new();
        let (mut first, mut second) = (0, 0);
        let now = Instant::now();
        shared.note_post(&mut first, &diff_with("warm-up-0"), now);
        assert_eq!(Shared::count(&shared.arrived), 0, "nothing posted yet");
        shared.watch_post("warm-up-0", false);
        let reply = r#"["4","7","lv:phx-A","phx_reply",{"response":{"diff":{"0":"warm-up-0"}},"status":"ok"}]"#;
        shared.note_post(&mut first, reply, now);
        assert_eq!(Shared::count(&shared.arrived), 0, "a reply is not a push");
        shared.note_post(&mut first, &diff_with("warm-up-0"), now);
        shared.note_post(&mut first, &diff_with("warm-up-0 again"), now);
        assert_eq!(Shared::count(&shared.arrived), 1, "one arrival per session");
        shared.note_post(&mut second, &diff_with("warm-up-0"), now);
        assert_eq!(Shared::count(&shared.arrived), 2);
        // A warm-up is neither timed nor counted among the message's frames.
        assert_eq!(shared.arrivals.lock().unwrap().len(), 0);
        assert_eq!(Shared::count(&shared.frames_since_post), 0);
    }

    #[test]
    fn the_timed_message_counts_only_its_own_arrivals() {
        let shared = Shared::new();
        let mut session = 0;
        let now = Instant::now();
        shared.watch_post("warm-up-0", false);
        shared.note_post(&mut session, &diff_with("warm-up-0"), now);
        assert_eq!(Shared::count(&shared.arrived), 1);
        shared.watch_post("bench-1", true);
        assert_eq!(Shared::count(&shared.arrived), 0, "counted afresh");
        // A warm-up that comes late is a frame of the message's time, not its arrival.
        shared.note_post(&mut session, &diff_with("warm-up-0"), now);
        assert_eq!(Shared::count(&shared.arrived), 0);
        shared.note_post(&mut session, &diff_with("bench-1"), now);
        assert_eq!(Shared::count(&shared.arrived), 1);
        assert_eq!(shared.arrivals.lock().unwrap().len(), 1);
        assert_eq!(Shared::count(&shared.frames_since_post), 2);
    }

    #[test]
    fn a_broadcast_waits_one_quiet_second_unless_told_otherwise() {
        assert_eq!(
            options(&["broadcast"]).unwrap().quiet,
            Duration::from_secs(1)
        );
        let longer = options(&["broadcast", "--quiet", "2.5"]).unwrap();
        assert_eq!(longer.quiet, Duration::from_millis(2500));
        assert!(options(&["broadcast", "--quiet", "-1"]).is_err());
        let endless = options(&["broadcast", "--quiet", "1e9"]).unwrap_err();
        assert!(endless.contains("at most 3600 seconds"), "{endless}");
    }

    #[test]
    fn a_broadcast_posts_once_untimed_unless_told_otherwise() {
        assert_eq!(options(&["broadcast"]).unwrap().warm_up_posts, 1);
        let none = options(&["broadcast", "--warm-up-posts", "0"]).unwrap();
        assert_eq!(none.warm_up_posts, 0);
        assert!(options(&["broadcast", "--warm-up-posts", "-1"]).is_err());
    }

    #[test]
    fn a_broadcast_closes_its_sessions_at_once_unless_told_to_hold_them() {
        assert_eq!(options(&["broadcast"]).unwrap().hold, Duration::ZERO);
        let held = options(&["broadcast", "--hold", "3"]).unwrap();
        assert_eq!(held.hold, Duration::from_secs(3));
        assert!(options(&["broadcast", "--hold", "-1"]).is_err());
        let endless = options(&["broadcast", "--hold", "7200"]).unwrap_err();
        assert!(endless.contains("--hold"), "{endless}");
    }

    #[test]
    fn only_loopback_servers_and_sane_numbers_are_accepted() {
        let outside = options(&["connect", "--addr", "10.0.0.1:80"]).unwrap_err();
        assert!(outside.contains("loopback"), "{outside}");
        assert!(options(&["events", "--rate", "0"]).is_err());
        assert!(options(&["events", "--rate", "NaN"]).is_err());
        assert!(options(&["connect", "--sessions"]).is_err());
        assert!(options(&["flood"]).is_err());
    }

    #[test]
    fn bumps_walk_through_every_row() {
        let payload: Value = serde_json::from_str(&event_payload("bump", 199)).unwrap();
        assert_eq!(payload["event"], "bump");
        assert_eq!(payload["value"]["i"], "100");
        let payload: Value = serde_json::from_str(&event_payload("bump", 100)).unwrap();
        assert_eq!(payload["value"]["i"], "1");
        let payload: Value = serde_json::from_str(&event_payload("inc", 3)).unwrap();
        assert_eq!(payload["type"], "click");
        assert_eq!(payload["event"], "inc");
    }

    #[test]
    fn the_server_is_read_from_proc() {
        let me = Some(std::process::id());
        assert!(server::rss_kib(me).unwrap() > 0);
        assert!(server::cpu_time(me).is_some());
        assert_eq!(server::rss_kib(None), None);
    }
}
