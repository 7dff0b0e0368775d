//! Presence: who is on a topic right now, on every node, in the spirit of
//! `Phoenix.Presence`.
//!
//! A process [`track`](Presence::track)s itself on a topic under a key (a user
//! id, say) with some metadata; [`list`](Presence::list) shows every key on the
//! topic with the metadata of each of its presences, whichever node they are
//! on. An entry vanishes when its process exits, when it is
//! [`untrack`](Presence::untrack)ed, or when its node stops answering.
//! Subscribers of a topic receive a [`PresenceDiff`] for every change, through
//! the [`PubSub`], as Phoenix sends `presence_diff`:
//!
//! ```
//! use cinder_runtime::presence::{Presence, PresenceConfig, PresenceDiff};
//! use cinder_runtime::pubsub::PubSub;
//! use cinder_runtime::{spawn, Context, ExitReason, Message, Recipient};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let pubsub = PubSub::new();
//! let presence = Presence::new(&pubsub, PresenceConfig::new().node("web-1"));
//! presence.start().await.unwrap();
//!
//! // A process that waits for one diff on the topic.
//! let watcher = spawn(|mut ctx: Context<PresenceDiff>| async move {
//!     match ctx.recv().await {
//!         Message::User(diff) => assert!(diff.joins.contains_key("alice")),
//!         other => panic!("unexpected {other:?}"),
//!     }
//!     ExitReason::Normal
//! });
//! pubsub.subscribe::<PresenceDiff>("room:lobby", Recipient::new(&watcher).unwrap());
//!
//! // A session of alice's, tracked while it lives.
//! let session = spawn(|mut ctx: Context<()>| async move {
//!     ctx.recv().await;
//!     ExitReason::Normal
//! });
//! presence
//!     .track(&session, "room:lobby", "alice", json!({"device": "phone"}))
//!     .await
//!     .unwrap();
//!
//! let present = presence.list("room:lobby").await.unwrap();
//! let metas = &present["alice"].metas;
//! assert_eq!(metas[0].fields["device"], "phone");
//! assert!(!metas[0].phx_ref.is_empty());
//! watcher.exited().await;
//!
//! // When the session ends, alice leaves.
//! session.send(()).unwrap();
//! session.exited().await;
//! assert!(presence.list("room:lobby").await.unwrap().is_empty());
//! # }
//! ```
//!
//! ## Metadata
//!
//! Metadata is any `serde` value that encodes as a JSON object (a struct or
//! a map), as in Phoenix, where metas are maps. Each presence's [`Meta`] holds
//! those fields plus a unique `phx_ref`, and after an
//! [`update`](Presence::update) the `phx_ref_prev` it replaced; read the fields
//! back into your own type with [`Meta::get`]. [`PresenceMap`] and
//! [`PresenceDiff`] serialize exactly like the payloads of Phoenix's
//! `presence_state` and `presence_diff`, which the official JavaScript
//! `Presence` client reads.
//!
//! ## Across nodes
//!
//! Each node runs one presence server, a [`GenServer`]. Start it with
//! [`Presence::start`], or under a supervisor with [`Presence::child_spec`];
//! the [`Presence`] handle stays valid across restarts. The servers of one
//! [`PresenceConfig::name`] talk on one internal PubSub topic through whatever
//! [`Adapter`](crate::pubsub::Adapter) the PubSub has, so presence spans every
//! node the PubSub does:
//!
//! ```
//! use std::time::Duration;
//! use cinder_runtime::presence::{Presence, PresenceConfig};
//! use cinder_runtime::pubsub::PubSub;
//! use cinder_runtime::supervisor::{Strategy, Supervisor, SupervisorSpec};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // With a cross-node adapter installed on `pubsub` (cinder-redis, say).
//! let pubsub = PubSub::new();
//! let config = PresenceConfig::new()
//!     .node("web-1")
//!     .heartbeat(Duration::from_secs(1))
//!     .timeout(Duration::from_secs(10));
//! let presence = Presence::new(&pubsub, config);
//! let tree = SupervisorSpec::new(Strategy::OneForOne).child(presence.child_spec("presence"));
//! let supervisor = Supervisor::start(tree).await.unwrap();
//! assert!(presence.pid().is_some());
//! supervisor.stop().await;
//! # }
//! ```
//!
//! - A node owns its own entries and only ever announces those. Each local
//!   change goes out as a **delta** numbered by a per-node sequence.
//! - Every [`heartbeat`](PresenceConfig::heartbeat) a node announces its
//!   latest sequence number. A receiver that sees a gap in the numbers (a
//!   broker such as Redis PubSub drops messages while disconnected) or a node
//!   it does not know asks that node for a **full state**, which replaces
//!   everything it held of that node.
//! - A node not heard from for [`timeout`](PresenceConfig::timeout) is taken
//!   for dead: its entries vanish, with leave diffs, at most a heartbeat later.
//! - Each start of a server picks a new **incarnation** number from the wall
//!   clock, greater than the previous ones (as long as the clock does not go
//!   back across a restart). Hearing a node name with a newer incarnation drops
//!   everything the older one had announced, so a restarted node never
//!   resurrects its previous entries; messages of older incarnations are
//!   ignored.
//! - A server stopped cleanly says goodbye, so other nodes drop its entries
//!   at once instead of waiting for the timeout.
//!
//! Node names must be unique: servers sharing a name ignore each other (and
//! log a warning). Entries belong to the server that tracked them: when a
//! supervisor restarts it, the processes tracked before are no longer
//! present and should track again, as with a crashed `Phoenix.Tracker`.
//!
//! The replication messages are JSON objects of the form
//! `{"from":{"name":..,"incarnation":..},"body":{"kind":..,..}}`, with `kind`
//! one of `heartbeat`, `delta`, `sync_request`, `state` and `goodbye`. Nodes
//! that share presence must run builds of one release.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::exit::ExitReason;
use crate::gen_server::{
    self, CallError, CallResult, Flow, GenServer, Server, ServerContext, StartError,
};
use crate::process::{Message, MonitorRef, Pid};
use crate::pubsub::PubSub;
use crate::supervisor::ChildSpec;

/// How often a node announces itself by default.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(1);
/// How long a silent node is trusted by default before its entries vanish.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The field names Phoenix reserves in every meta.
const RESERVED: [&str; 2] = ["phx_ref", "phx_ref_prev"];

/// Settings of a [`Presence`].
#[derive(Clone, Debug)]
pub struct PresenceConfig {
    name: String,
    node: String,
    heartbeat: Duration,
    timeout: Duration,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        PresenceConfig::new()
    }
}

impl PresenceConfig {
    /// The presence named `presence`, on a node with a random name, with
    /// [`DEFAULT_HEARTBEAT`] and [`DEFAULT_TIMEOUT`].
    pub fn new() -> Self {
        PresenceConfig {
            name: "presence".into(),
            node: format!("node-{:016x}", random_u64()),
            heartbeat: DEFAULT_HEARTBEAT,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// This node's name, unique among the nodes sharing presence. A node
    /// restarted under the same name replaces its previous incarnation.
    pub fn node(mut self, node: impl Into<String>) -> Self {
        self.node = node.into();
        self
    }

    /// The presence's name: servers of the same name on different nodes
    /// share their entries; differently named presences on one PubSub stay
    /// apart.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// How often this node announces itself and its latest change.
    pub fn heartbeat(mut self, period: Duration) -> Self {
        self.heartbeat = period.max(Duration::from_millis(1));
        self
    }

    /// How long another node may stay silent before its entries are
    /// dropped. They vanish within `timeout` plus one heartbeat of its last
    /// message. Keep it several heartbeats long.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn internal_topic(&self) -> String {
        format!("cinder:presence:{}", self.name)
    }
}

/// One presence of a key: the user's metadata fields and its unique ref.
///
/// Serializes as one flat JSON object, the fields next to `phx_ref` (and
/// `phx_ref_prev` after an update), as Phoenix does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Unique to this presence; a new one on every track and update.
    pub phx_ref: String,
    /// The ref this presence replaced, after an [`update`](Presence::update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phx_ref_prev: Option<String>,
    /// The metadata given to [`track`](Presence::track) or
    /// [`update`](Presence::update).
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl Meta {
    /// The metadata fields decoded into `T`.
    pub fn get<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(Value::Object(self.fields.clone()))
    }
}

/// The presences of one key, oldest first (`%{metas: [...]}` in Phoenix).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metas {
    /// One entry per tracking process (a user with two tabs has two).
    pub metas: Vec<Meta>,
}

/// Every key present on a topic, as [`Presence::list`] returns it.
pub type PresenceMap = BTreeMap<String, Metas>;

/// What changed on a topic, sent to its subscribers (Phoenix's
/// `presence_diff`). An update appears as a leave of the old meta and a join
/// of the new one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PresenceDiff {
    /// Presences that appeared, by key.
    pub joins: PresenceMap,
    /// Presences that vanished, by key.
    pub leaves: PresenceMap,
}

/// Why a presence operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PresenceError {
    /// No presence server runs for this handle.
    #[error(
        "the presence server is not running; start it with Presence::start \
         or under a supervisor with Presence::child_spec"
    )]
    NotRunning,
    /// The presence server did not answer.
    #[error("the presence server did not answer: {0}")]
    Call(CallError),
    /// The process already tracks this key on this topic.
    #[error("{pid} already tracks `{key}` on `{topic}`; use update to change its metadata")]
    AlreadyTracked {
        /// The tracking process.
        pid: Pid,
        /// The topic.
        topic: String,
        /// The key.
        key: String,
    },
    /// [`update`](Presence::update) of a presence that does not exist.
    #[error("{pid} does not track `{key}` on `{topic}`; track it first")]
    NotTracked {
        /// The process.
        pid: Pid,
        /// The topic.
        topic: String,
        /// The key.
        key: String,
    },
    /// The metadata does not encode as a JSON object.
    #[error("presence metadata must encode as a JSON object (a struct or a map): {0}")]
    InvalidMeta(String),
}

/// A handle to the presence of this node. Cheap to clone; clones share the
/// server, and stay valid when a supervisor restarts it.
#[derive(Clone)]
pub struct Presence {
    shared: Arc<Shared>,
}

impl fmt::Debug for Presence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presence")
            .field("name", &self.shared.config.name)
            .field("node", &self.shared.config.node)
            .field("server", &self.pid())
            .finish()
    }
}

struct Shared {
    pubsub: PubSub,
    config: PresenceConfig,
    server: RwLock<Option<Server<Tracker>>>,
}

impl Presence {
    /// A presence on `pubsub`, not running yet: start it with
    /// [`start`](Presence::start) or put [`child_spec`](Presence::child_spec)
    /// in a supervision tree.
    pub fn new(pubsub: &PubSub, config: PresenceConfig) -> Presence {
        Presence {
            shared: Arc::new(Shared {
                pubsub: pubsub.clone(),
                config,
                server: RwLock::new(None),
            }),
        }
    }

    /// Starts the presence server, not linked to the caller. Fails with
    /// [`StartError::AlreadyRegistered`] if this presence's server already runs.
    pub async fn start(&self) -> Result<(), StartError> {
        if let Some(running) = self.pid() {
            return Err(StartError::AlreadyRegistered(running));
        }
        gen_server::start::<Tracker>(self.shared.clone())
            .await
            .map(drop)
    }

    /// A child spec running this presence's server under a supervisor. Each
    /// restart is a new incarnation of the node; the entries of processes
    /// tracked before a crash are gone with it.
    pub fn child_spec(&self, id: impl Into<Arc<str>>) -> ChildSpec {
        ChildSpec::gen_server::<Tracker>(id, self.shared.clone())
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.shared.config.node
    }

    /// Stops this node's presence server cleanly: the other nodes drop its
    /// entries at once instead of waiting for the timeout. Under a
    /// supervisor, stop the supervisor instead, which does the same.
    pub async fn stop(&self) {
        if let Some(server) = self.server() {
            server.stop(ExitReason::Shutdown).await;
        }
    }

    /// The pid of the running presence server, if any.
    pub fn pid(&self) -> Option<Pid> {
        self.server()
            .filter(|server| server.pid().is_alive())
            .map(|server| server.pid().clone())
    }

    /// Tracks `pid` on `topic` under `key` with `meta` (a struct or map),
    /// until `pid` exits or it is untracked. Returns the presence's ref.
    pub async fn track(
        &self,
        pid: &Pid,
        topic: &str,
        key: impl Into<String>,
        meta: impl Serialize,
    ) -> Result<String, PresenceError> {
        let slot = Slot::new(pid, topic, key);
        let fields = encode_meta(&meta)?;
        self.request(Call::Track(slot, fields)).await?.into_ref()
    }

    /// Replaces the metadata of `pid`'s presence under `key` on `topic`.
    /// Returns the new ref; the new meta carries the old one as `phx_ref_prev`.
    pub async fn update(
        &self,
        pid: &Pid,
        topic: &str,
        key: impl Into<String>,
        meta: impl Serialize,
    ) -> Result<String, PresenceError> {
        let slot = Slot::new(pid, topic, key);
        let fields = encode_meta(&meta)?;
        self.request(Call::Update(slot, fields)).await?.into_ref()
    }

    /// Stops tracking `pid` under `key` on `topic`. Untracking what is not
    /// tracked does nothing.
    pub async fn untrack(
        &self,
        pid: &Pid,
        topic: &str,
        key: impl Into<String>,
    ) -> Result<(), PresenceError> {
        let slot = Slot::new(pid, topic, key);
        self.request(Call::Untrack(slot)).await.map(drop)
    }

    /// Every key present on `topic`, on every node, with its metas.
    pub async fn list(&self, topic: &str) -> Result<PresenceMap, PresenceError> {
        match self.request(Call::List(topic.to_owned())).await? {
            Reply::List(present) => Ok(present),
            _ => unreachable!("list answers with a presence map"),
        }
    }

    fn server(&self) -> Option<Server<Tracker>> {
        self.shared
            .server
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn request(&self, call: Call) -> Result<Reply, PresenceError> {
        let server = self.server().ok_or(PresenceError::NotRunning)?;
        server.call(call).await.map_err(|error| match error {
            CallError::NoProc | CallError::Exited(_) => PresenceError::NotRunning,
            other => PresenceError::Call(other),
        })
    }
}

fn encode_meta(meta: &impl Serialize) -> Result<Map<String, Value>, PresenceError> {
    match serde_json::to_value(meta) {
        Ok(Value::Object(mut fields)) => {
            for reserved in RESERVED {
                fields.remove(reserved);
            }
            Ok(fields)
        }
        Ok(other) => Err(PresenceError::InvalidMeta(format!("got {other}"))),
        Err(error) => Err(PresenceError::InvalidMeta(error.to_string())),
    }
}

/// Which presence a request is about: one process, topic and key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Slot {
    pid: Pid,
    topic: String,
    key: String,
}

impl Slot {
    fn new(pid: &Pid, topic: &str, key: impl Into<String>) -> Slot {
        Slot {
            pid: pid.clone(),
            topic: topic.to_owned(),
            key: key.into(),
        }
    }
}

enum Call {
    Track(Slot, Map<String, Value>),
    Update(Slot, Map<String, Value>),
    Untrack(Slot),
    List(String),
}

enum Reply {
    Ref(Result<String, PresenceError>),
    Done,
    List(PresenceMap),
}

impl Reply {
    fn into_ref(self) -> Result<String, PresenceError> {
        match self {
            Reply::Ref(result) => result,
            _ => unreachable!("track and update answer with a ref"),
        }
    }
}

/// A node as the replication protocol names it: its name and the
/// incarnation of its current server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct NodeId {
    name: String,
    incarnation: u64,
}

/// One presence as nodes exchange it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Entry {
    topic: String,
    key: String,
    meta: Meta,
}

/// A replication message, broadcast on the internal topic.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Replication {
    from: NodeId,
    body: Body,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Body {
    /// "I am alive and my latest change is `seq`."
    Heartbeat { seq: u64 },
    /// Change number `seq` of the sender's entries.
    Delta {
        seq: u64,
        joins: Vec<Entry>,
        leaves: Vec<String>,
    },
    /// Asks the named node (or every node, when `None`) for its full state.
    SyncRequest { to: Option<String> },
    /// Every entry of the sender, as of its change number `seq`.
    State { seq: u64, entries: Vec<Entry> },
    /// The sender stops: drop its entries.
    Goodbye,
}

#[derive(Clone, Debug)]
enum Info {
    Tick,
    Replicate(Replication),
}

impl From<Replication> for Info {
    fn from(message: Replication) -> Self {
        Info::Replicate(message)
    }
}

/// Every entry this node knows, local and remote, by topic and ref.
#[derive(Default)]
struct Store {
    topics: HashMap<String, HashMap<String, Entry>>,
    /// When each entry arrived here, by ref, for listing oldest first.
    arrivals: HashMap<String, u64>,
    arrived: u64,
}

impl Store {
    fn insert(&mut self, entry: Entry, diffs: &mut Diffs) {
        diffs.join(&entry);
        self.arrived += 1;
        self.arrivals
            .insert(entry.meta.phx_ref.clone(), self.arrived);
        self.topics
            .entry(entry.topic.clone())
            .or_default()
            .insert(entry.meta.phx_ref.clone(), entry);
    }

    fn remove(&mut self, topic: &str, phx_ref: &str, diffs: &mut Diffs) -> Option<Entry> {
        let entries = self.topics.get_mut(topic)?;
        let entry = entries.remove(phx_ref)?;
        self.arrivals.remove(phx_ref);
        if entries.is_empty() {
            self.topics.remove(topic);
        }
        diffs.leave(&entry);
        Some(entry)
    }

    fn get(&self, topic: &str, phx_ref: &str) -> Option<&Entry> {
        self.topics.get(topic)?.get(phx_ref)
    }

    fn list(&self, topic: &str) -> PresenceMap {
        let mut entries: Vec<&Entry> = self
            .topics
            .get(topic)
            .map(|entries| entries.values().collect())
            .unwrap_or_default();
        entries.sort_by_key(|entry| self.arrivals.get(&entry.meta.phx_ref).copied());
        let mut present = PresenceMap::new();
        for entry in entries {
            let metas = &mut present.entry(entry.key.clone()).or_default().metas;
            metas.push(entry.meta.clone());
        }
        present
    }
}

/// Diffs collected while handling one message, sent to local subscribers
/// once it is handled.
#[derive(Default)]
struct Diffs {
    topics: BTreeMap<String, PresenceDiff>,
}

impl Diffs {
    fn join(&mut self, entry: &Entry) {
        let diff = self.topics.entry(entry.topic.clone()).or_default();
        push_meta(&mut diff.joins, entry);
    }

    fn leave(&mut self, entry: &Entry) {
        let diff = self.topics.entry(entry.topic.clone()).or_default();
        push_meta(&mut diff.leaves, entry);
    }

    fn publish(self, pubsub: &PubSub) {
        for (topic, diff) in self.topics {
            pubsub.local_broadcast(&topic, diff);
        }
    }
}

fn push_meta(map: &mut PresenceMap, entry: &Entry) {
    let metas = &mut map.entry(entry.key.clone()).or_default().metas;
    metas.push(entry.meta.clone());
}

/// What this node holds of another node.
struct Replica {
    incarnation: u64,
    /// The latest change applied; `None` until a full state arrives.
    seq: Option<u64>,
    last_heard: Instant,
    sync_requested: Option<Instant>,
    /// Its entries: ref to topic.
    refs: HashMap<String, String>,
}

impl Replica {
    fn new(incarnation: u64, now: Instant) -> Replica {
        Replica {
            incarnation,
            seq: None,
            last_heard: now,
            sync_requested: None,
            refs: HashMap::new(),
        }
    }
}

/// A presence tracked on this node.
struct Local {
    phx_ref: String,
}

/// A tracking process: its monitor and the presences it holds.
struct Watched {
    monitor: MonitorRef,
    slots: Vec<Slot>,
}

/// The presence server of one node.
struct Tracker {
    shared: Arc<Shared>,
    me: NodeId,
    pid: Pid,
    topic: String,
    ref_prefix: String,
    next_ref: u64,
    seq: u64,
    store: Store,
    local: HashMap<Slot, Local>,
    /// The tracking processes, each monitored once, with what they track.
    watched: HashMap<Pid, Watched>,
    replicas: HashMap<String, Replica>,
    namesake_warned: bool,
}

impl GenServer for Tracker {
    type Args = Arc<Shared>;
    type Call = Call;
    type Reply = Reply;
    type Cast = ();
    type Info = Info;

    async fn init(shared: Arc<Shared>, ctx: &mut ServerContext<Self>) -> Result<Self, ExitReason> {
        let config = &shared.config;
        let me = NodeId {
            name: config.node.clone(),
            incarnation: new_incarnation(),
        };
        // Trapped so that a supervisor's shutdown runs `terminate`, which
        // tells the other nodes to drop this node's entries at once.
        ctx.trap_exit(true);
        let topic = config.internal_topic();
        shared
            .pubsub
            .subscribe::<Replication>(&topic, ctx.server().recipient());
        ctx.send_interval(Info::Tick, config.heartbeat);
        *shared.server.write().unwrap_or_else(|p| p.into_inner()) = Some(ctx.server());
        let tracker = Tracker::new(shared, me, ctx.pid(), topic);
        // Announcing a new incarnation makes the others drop what an earlier
        // one left behind and send their states.
        tracker.send(Body::SyncRequest { to: None });
        tracing::debug!(node = %tracker.me.name, incarnation = tracker.me.incarnation, "presence started");
        Ok(tracker)
    }

    async fn handle_call(
        &mut self,
        call: Call,
        ctx: &mut ServerContext<Self>,
    ) -> CallResult<Reply> {
        let mut diffs = Diffs::default();
        let reply = match call {
            Call::Track(slot, fields) => Reply::Ref(self.track(slot, fields, ctx, &mut diffs)),
            Call::Update(slot, fields) => Reply::Ref(self.update(slot, fields, &mut diffs)),
            Call::Untrack(slot) => {
                self.untrack(&slot, ctx, &mut diffs);
                Reply::Done
            }
            Call::List(topic) => Reply::List(self.store.list(&topic)),
        };
        diffs.publish(&self.shared.pubsub);
        CallResult::Reply(reply)
    }

    async fn handle_info(
        &mut self,
        message: Message<Info>,
        _ctx: &mut ServerContext<Self>,
    ) -> Flow {
        let mut diffs = Diffs::default();
        match message {
            Message::User(Info::Tick) => self.tick(&mut diffs),
            Message::User(Info::Replicate(message)) => self.receive(message, &mut diffs),
            Message::Down { pid, .. } => self.tracked_exited(&pid, &mut diffs),
            // Exits are trapped only so that a stop says goodbye; the server
            // links to nothing but its parent, so any exit signal asks it to stop.
            Message::Exit { reason, .. } if reason != ExitReason::Normal => {
                return Flow::Stop(reason)
            }
            Message::Exit { .. } => {}
        }
        diffs.publish(&self.shared.pubsub);
        Flow::Continue
    }

    async fn terminate(&mut self, _reason: &ExitReason, _ctx: &mut ServerContext<Self>) {
        self.send(Body::Goodbye);
    }
}

impl Tracker {
    fn new(shared: Arc<Shared>, me: NodeId, pid: Pid, topic: String) -> Tracker {
        Tracker {
            ref_prefix: format!("{:016x}", random_u64() ^ me.incarnation),
            me,
            pid,
            topic,
            next_ref: 0,
            seq: 0,
            store: Store::default(),
            local: HashMap::new(),
            watched: HashMap::new(),
            replicas: HashMap::new(),
            namesake_warned: false,
            shared,
        }
    }

    fn send(&self, body: Body) {
        let message = Replication {
            from: self.me.clone(),
            body,
        };
        self.shared
            .pubsub
            .broadcast_from(&self.pid, &self.topic, message);
    }

    fn new_ref(&mut self) -> String {
        self.next_ref += 1;
        format!("{}{:x}", self.ref_prefix, self.next_ref)
    }

    /// Sends this node's next change to the others.
    fn announce(&mut self, joins: Vec<Entry>, leaves: Vec<String>) {
        self.seq += 1;
        let seq = self.seq;
        self.send(Body::Delta { seq, joins, leaves });
    }

    fn track(
        &mut self,
        slot: Slot,
        fields: Map<String, Value>,
        ctx: &ServerContext<Self>,
        diffs: &mut Diffs,
    ) -> Result<String, PresenceError> {
        if self.local.contains_key(&slot) {
            return Err(PresenceError::AlreadyTracked {
                pid: slot.pid,
                topic: slot.topic,
                key: slot.key,
            });
        }
        self.watch(&slot, ctx);
        let phx_ref = self.add_local(slot, fields, None, diffs);
        Ok(phx_ref)
    }

    fn update(
        &mut self,
        slot: Slot,
        fields: Map<String, Value>,
        diffs: &mut Diffs,
    ) -> Result<String, PresenceError> {
        let Some(previous) = self.local.remove(&slot) else {
            return Err(PresenceError::NotTracked {
                pid: slot.pid,
                topic: slot.topic,
                key: slot.key,
            });
        };
        self.store.remove(&slot.topic, &previous.phx_ref, diffs);
        Ok(self.add_local(slot, fields, Some(previous.phx_ref), diffs))
    }

    fn add_local(
        &mut self,
        slot: Slot,
        fields: Map<String, Value>,
        phx_ref_prev: Option<String>,
        diffs: &mut Diffs,
    ) -> String {
        let phx_ref = self.new_ref();
        let entry = Entry {
            topic: slot.topic.clone(),
            key: slot.key.clone(),
            meta: Meta {
                phx_ref: phx_ref.clone(),
                phx_ref_prev: phx_ref_prev.clone(),
                fields,
            },
        };
        self.local.insert(
            slot,
            Local {
                phx_ref: phx_ref.clone(),
            },
        );
        self.store.insert(entry.clone(), diffs);
        self.announce(vec![entry], phx_ref_prev.into_iter().collect());
        phx_ref
    }

    fn untrack(&mut self, slot: &Slot, ctx: &ServerContext<Self>, diffs: &mut Diffs) {
        if let Some(local) = self.local.remove(slot) {
            self.store.remove(&slot.topic, &local.phx_ref, diffs);
            self.announce(Vec::new(), vec![local.phx_ref]);
            self.unwatch(slot, ctx);
        }
    }

    /// Monitors `pid` once, however many presences it has.
    /// Monitors the slot's process once, however many presences it has.
    fn watch(&mut self, slot: &Slot, ctx: &ServerContext<Self>) {
        let watched = self
            .watched
            .entry(slot.pid.clone())
            .or_insert_with(|| Watched {
                monitor: ctx.monitor(&slot.pid),
                slots: Vec::new(),
            });
        watched.slots.push(slot.clone());
    }

    fn unwatch(&mut self, slot: &Slot, ctx: &ServerContext<Self>) {
        let Some(watched) = self.watched.get_mut(&slot.pid) else {
            return;
        };
        watched.slots.retain(|held| held != slot);
        if watched.slots.is_empty() {
            ctx.demonitor(&watched.monitor);
            self.watched.remove(&slot.pid);
        }
    }

    fn tracked_exited(&mut self, pid: &Pid, diffs: &mut Diffs) {
        let Some(watched) = self.watched.remove(pid) else {
            return;
        };
        let mut leaves = Vec::with_capacity(watched.slots.len());
        for slot in watched.slots {
            if let Some(local) = self.local.remove(&slot) {
                self.store.remove(&slot.topic, &local.phx_ref, diffs);
                leaves.push(local.phx_ref);
            }
        }
        if !leaves.is_empty() {
            self.announce(Vec::new(), leaves);
        }
    }

    fn tick(&mut self, diffs: &mut Diffs) {
        self.send(Body::Heartbeat { seq: self.seq });
        let now = Instant::now();
        let timeout = self.shared.config.timeout;
        let silent: Vec<String> = self
            .replicas
            .iter()
            .filter(|(_, replica)| now.duration_since(replica.last_heard) > timeout)
            .map(|(name, _)| name.clone())
            .collect();
        for name in silent {
            tracing::info!(node = %name, "a presence node stopped answering; dropping its entries");
            self.forget(&name, diffs);
        }
    }

    fn forget(&mut self, name: &str, diffs: &mut Diffs) {
        if let Some(replica) = self.replicas.remove(name) {
            for (phx_ref, topic) in replica.refs {
                self.store.remove(&topic, &phx_ref, diffs);
            }
        }
    }

    fn full_state(&self) -> Vec<Entry> {
        self.local
            .iter()
            .filter_map(|(slot, local)| self.store.get(&slot.topic, &local.phx_ref))
            .cloned()
            .collect()
    }

    fn receive(&mut self, message: Replication, diffs: &mut Diffs) {
        let Replication { from, body } = message;
        if from.name == self.me.name {
            self.heard_namesake(&from);
            return;
        }
        if !self.admit(&from, diffs) {
            return;
        }
        match body {
            Body::Heartbeat { seq } => self.heard_seq(&from.name, seq),
            Body::Delta { seq, joins, leaves } => {
                self.apply_delta(&from.name, seq, joins, leaves, diffs)
            }
            Body::SyncRequest { to } => {
                if self
                    .replicas
                    .get(&from.name)
                    .is_some_and(|r| r.seq.is_none())
                {
                    self.request_sync(&from.name);
                }
                if to.is_none_or(|to| to == self.me.name) {
                    let entries = self.full_state();
                    self.send(Body::State {
                        seq: self.seq,
                        entries,
                    });
                }
            }
            Body::State { seq, entries } => self.apply_state(&from.name, seq, entries, diffs),
            Body::Goodbye => self.forget(&from.name, diffs),
        }
    }

    /// Another server uses this node's name: a newer incarnation means two
    /// nodes share one name (or this one is a leftover), and their presences
    /// would never meet, so say it once.
    fn heard_namesake(&mut self, from: &NodeId) {
        if from.incarnation > self.me.incarnation && !self.namesake_warned {
            self.namesake_warned = true;
            tracing::warn!(
                node = %self.me.name,
                "another presence server runs under this node's name; give every node a unique name"
            );
        }
    }

    /// Makes sure a replica of `from` exists for its current incarnation.
    /// False for messages of an older incarnation, which are ignored.
    fn admit(&mut self, from: &NodeId, diffs: &mut Diffs) -> bool {
        let now = Instant::now();
        match self.replicas.get(&from.name).map(|r| r.incarnation) {
            Some(known) if known == from.incarnation => {}
            Some(known) if known > from.incarnation => return false,
            Some(_) => {
                tracing::info!(node = %from.name, "a presence node restarted; dropping its previous entries");
                self.forget(&from.name, diffs);
                self.replicas
                    .insert(from.name.clone(), Replica::new(from.incarnation, now));
            }
            None => {
                self.replicas
                    .insert(from.name.clone(), Replica::new(from.incarnation, now));
            }
        }
        if let Some(replica) = self.replicas.get_mut(&from.name) {
            replica.last_heard = now;
        }
        true
    }

    /// A heartbeat says the sender's latest change is `seq`: missing it
    /// means messages were lost.
    fn heard_seq(&mut self, name: &str, seq: u64) {
        let current = self.replicas.get(name).and_then(|r| r.seq);
        if current.is_none_or(|current| current < seq) {
            self.request_sync(name);
        }
    }

    fn apply_delta(
        &mut self,
        name: &str,
        seq: u64,
        joins: Vec<Entry>,
        leaves: Vec<String>,
        diffs: &mut Diffs,
    ) {
        let Some(current) = self.replicas.get(name).and_then(|r| r.seq) else {
            self.request_sync(name);
            return;
        };
        if seq <= current {
            return;
        }
        if seq != current + 1 {
            tracing::debug!(node = %name, expected = current + 1, got = seq, "presence changes were lost; syncing");
            self.request_sync(name);
            return;
        }
        for phx_ref in leaves {
            self.remove_remote(name, &phx_ref, diffs);
        }
        for entry in joins {
            self.add_remote(name, entry, diffs);
        }
        if let Some(replica) = self.replicas.get_mut(name) {
            replica.seq = Some(seq);
        }
    }

    fn apply_state(&mut self, name: &str, seq: u64, entries: Vec<Entry>, diffs: &mut Diffs) {
        let Some(replica) = self.replicas.get(name) else {
            return;
        };
        if replica.seq.is_some_and(|current| current > seq) {
            return;
        }
        let incoming: HashSet<&str> = entries.iter().map(|e| e.meta.phx_ref.as_str()).collect();
        let gone: Vec<String> = replica
            .refs
            .keys()
            .filter(|phx_ref| !incoming.contains(phx_ref.as_str()))
            .cloned()
            .collect();
        for phx_ref in gone {
            self.remove_remote(name, &phx_ref, diffs);
        }
        for entry in entries {
            self.add_remote(name, entry, diffs);
        }
        if let Some(replica) = self.replicas.get_mut(name) {
            replica.seq = Some(seq);
            replica.sync_requested = None;
        }
    }

    fn add_remote(&mut self, name: &str, entry: Entry, diffs: &mut Diffs) {
        let Some(replica) = self.replicas.get_mut(name) else {
            return;
        };
        if replica.refs.contains_key(&entry.meta.phx_ref) {
            return;
        }
        replica
            .refs
            .insert(entry.meta.phx_ref.clone(), entry.topic.clone());
        self.store.insert(entry, diffs);
    }

    fn remove_remote(&mut self, name: &str, phx_ref: &str, diffs: &mut Diffs) {
        let topic = self
            .replicas
            .get_mut(name)
            .and_then(|replica| replica.refs.remove(phx_ref));
        if let Some(topic) = topic {
            self.store.remove(&topic, phx_ref, diffs);
        }
    }

    /// Asks `name` for its full state, at most once a heartbeat while the
    /// answer is awaited.
    fn request_sync(&mut self, name: &str) {
        let now = Instant::now();
        let period = self.shared.config.heartbeat;
        let Some(replica) = self.replicas.get_mut(name) else {
            return;
        };
        if replica
            .sync_requested
            .is_some_and(|asked| now.duration_since(asked) < period)
        {
            return;
        }
        replica.sync_requested = Some(now);
        self.send(Body::SyncRequest {
            to: Some(name.to_owned()),
        });
    }
}

/// A number greater than every earlier incarnation's: the wall clock in
/// nanoseconds, so that a node restarted in another OS process also counts
/// up, and never repeating within this one.
fn new_incarnation() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let previous = LAST
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| {
            Some(now.max(last + 1))
        })
        .unwrap_or_default();
    now.max(previous + 1)
}

/// A random number for node names and refs, from the standard library's
/// randomly keyed hasher.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos()),
    );
    hasher.finish()
}
