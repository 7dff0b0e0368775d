//! `/chat`: a chat room over PubSub, with who is online through Presence.
//!
//! Each connected view subscribes to [`TOPIC`]. Sending a message broadcasts
//! it there, and every subscribed view, the sender's included, appends it to
//! its page in `handle_info`; so all tabs show the same messages in the same
//! order. With a cross-node adapter on the PubSub (see `main.rs`), the tabs
//! may be served by different nodes.
//!
//! The messages go to the page as a stream: a view sends each one once and
//! keeps none, and the page keeps the last [`HISTORY`]. A view that kept its
//! history would hold it once per tab, and, once it was full, every new
//! message would move all the others up in every tab.
//!
//! Each connected view also tracks itself on the topic's presence. Who is
//! online reaches the views through the room's [`Roster`] process, not as
//! one presence diff per change: with thousands in the room, every arrival
//! would otherwise make every view render again (work growing with the
//! square of the room). The roster applies the diffs as they come and, at
//! most every [`roster_interval`] (longer in a bigger room), sends the views
//! a summary: how many are online and the first [`LIST_LIMIT`] of them by
//! arrival. A closed tab ends its view's process, and its presence goes with
//! it: nothing here has to untrack it.
//!
//! The showcase has no accounts, so every tab counts as one person, named
//! "Guest 1234" until its user types another name.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use cinder::live::{Event, Insert, LiveView, MountError, Params, Session, Socket, Stream};
use cinder::rendered::Key;
use cinder::{html, Rendered};
use cinder_runtime::gen_server::StartError;
use cinder_runtime::presence::{Presence, PresenceDiff, PresenceMap};
use cinder_runtime::process::Spawn;
use cinder_runtime::pubsub::PubSub;
use cinder_runtime::supervisor::ChildSpec;
use cinder_runtime::{Context, ExitReason, Message, Pid, Recipient};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// The room's topic, for messages and presence alike.
pub const TOPIC: &str = "chat:lobby";
/// The local topic on which the roster process sends its summaries.
const ROSTER_TOPIC: &str = "chat:lobby:roster";
/// How many messages a page keeps; older ones leave it.
pub const HISTORY: i64 = 100;
/// The longest message accepted, in characters.
const MAX_TEXT: usize = 500;
/// The longest name accepted, in characters.
const MAX_NAME: usize = 40;
/// How many people the list of who is online shows; the count covers all.
pub const LIST_LIMIT: usize = 20;

/// The application's PubSub and Presence, which the chat views find with
/// `socket.state::<Room>()` (see `lib.rs`), and the room's latest
/// [`Roster`].
#[derive(Clone)]
pub struct Room {
    /// Carries the messages, to every node.
    pub pubsub: PubSub,
    /// Who is online, on every node.
    pub presence: Presence,
    /// The latest summary of who is online, kept by the roster process.
    roster: Arc<RwLock<Arc<Roster>>>,
}

impl Room {
    /// A room on `pubsub` and `presence`. Start its roster process with
    /// [`Room::roster_child_spec`] under the supervisor that runs `presence`,
    /// after it; until then, the room shows nobody online.
    pub fn new(pubsub: PubSub, presence: Presence) -> Room {
        Room {
            pubsub,
            presence,
            roster: Arc::default(),
        }
    }

    /// The roster process: it follows the room's presence and sends the
    /// views a [`Roster`] when it changes, at most every [`roster_interval`].
    pub fn roster_child_spec(&self, id: &str) -> ChildSpec {
        let room = self.clone();
        ChildSpec::new(id, move || {
            let room = room.clone();
            async move {
                let parent = cinder_runtime::current().ok_or(StartError::NoCaller)?;
                Ok(Spawn::new()
                    .link(&parent)
                    .spawn(move |ctx| run_roster(ctx, room)))
            }
        })
    }

    /// Who is online now, as last summarized.
    pub fn roster(&self) -> Arc<Roster> {
        self.roster
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

fn room<V: LiveView>(socket: &Socket<V>) -> Result<Room, MountError> {
    socket.state::<Room>().cloned().ok_or_else(|| {
        MountError::new(
            503,
            "the chat room is missing: give the router a Room with .state(room)",
        )
    })
}

/// A message, as it travels on the topic, possibly to other nodes. Its
/// strings are shared: every view in the room receives the same message,
/// and a copy each would cost the room one allocation per string per view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Posted {
    /// Unique across nodes: the id of the message's `<li>` in the stream,
    /// made whole once by the sender, so that each view's stream copies it
    /// rather than formatting it again.
    id: Arc<str>,
    name: Arc<str>,
    text: Arc<str>,
}

/// Who is online, as the views show it.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    /// How many people are online.
    pub count: usize,
    /// The first [`LIST_LIMIT`] of them by arrival.
    pub people: Vec<Listed>,
    /// One more than the summary sent before it: the stamp under which a
    /// view keeps its rendered list of who is online, so that a message
    /// posted to a big room renders that list in no view.
    version: u64,
}

impl Roster {
    /// Whether `other` shows the same people and count.
    fn shows_the_same_as(&self, other: &Roster) -> bool {
        self.count == other.count && self.people == other.people
    }
}

/// One person in the list of who is online.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Their presence key.
    pub key: String,
    /// The name they go by.
    pub name: String,
    /// The key and the stamp of their entry in the list, hashed from `key`
    /// and `name` once, by the roster process: every view renders the same
    /// list, and would otherwise hash both strings in each render.
    entry_key: Key,
    entry_stamp: u64,
}

impl Listed {
    fn new(key: String, name: String) -> Listed {
        Listed {
            entry_key: Key::of(&key),
            entry_stamp: Key::of(&name).0,
            key,
            name,
        }
    }
}

/// What a chat view receives besides client events.
pub enum Info {
    /// A message sent to the room, by anyone.
    Posted(Posted),
    /// Who is online changed.
    Roster(Arc<Roster>),
}

impl From<Posted> for Info {
    fn from(posted: Posted) -> Self {
        Info::Posted(posted)
    }
}

impl From<Arc<Roster>> for Info {
    fn from(roster: Arc<Roster>) -> Self {
        Info::Roster(roster)
    }
}

/// The metadata each view tracks itself with.
#[derive(Serialize, Deserialize)]
struct Who {
    name: String,
}

/// The form's fields, `message[name]` and `message[text]`.
#[derive(Deserialize)]
struct Form {
    #[serde(default)]
    message: Fields,
}

#[derive(Default, Deserialize)]
struct Fields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    text: String,
}

/// One view of the room.
pub struct Chat {
    /// This view's presence key.
    me: String,
    /// The name its presence carries, changed when a message is sent under
    /// another one.
    tracked_name: String,
    /// The form as the user left it; rendering it back keeps both inputs as
    /// typed whenever another tab's message patches the page.
    name: String,
    draft: String,
    error: Option<String>,
    /// The messages not yet sent to the page.
    messages: Stream<Posted>,
    roster: Arc<Roster>,
}

impl LiveView for Chat {
    type Info = Info;

    async fn mount(
        _params: &Params,
        _session: &Session,
        socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        let room = room(socket)?;
        let mut chat = Chat::new(socket);
        if let Some(pid) = socket.pid() {
            chat.join(&room, pid, socket).await;
        }
        // Read after subscribing, so no summary falls between the two.
        chat.roster = room.roster();
        Ok(chat)
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        let form = match event.decode::<Form>() {
            Ok(form) => form.message,
            Err(error) => {
                tracing::warn!(event = event.name(), %error, "a chat form that does not decode");
                return;
            }
        };
        match event.name() {
            "draft" => {
                self.name = form.name;
                self.draft = form.text;
                self.error = None;
            }
            "send" => self.send(form, socket).await,
            other => tracing::warn!(event = other, "the chat has no such event"),
        }
    }

    async fn handle_info(&mut self, info: Info, _socket: &mut Socket<Self>) {
        match info {
            Info::Posted(posted) => {
                self.messages
                    .insert_with(posted, Insert::append().limit(-HISTORY));
            }
            Info::Roster(roster) => self.roster = roster,
        }
    }

    fn render(&self) -> Rendered {
        let count = self.roster.count;
        let more = count.saturating_sub(self.roster.people.len());
        // The stamps let a render skip the entries that did not change: a
        // person's shows their name, and whether the key is this tab's,
        // which the key decides (both come hashed with the roster); a
        // message never changes once posted, so its key says it all and its
        // stamp is `()`.
        //
        // Who is online changes with the roster alone (and which entry is
        // this tab's, which never changes): under the roster's version, a
        // render for a new message keeps the previous render's list.
        html! {
            <main>
                <h1>"Chat"</h1>
                @memo self.roster.version {
                    <p><span id="online">{count}</span>" online"</p>
                    <ul id="people">
                        @for person in &self.roster.people, key = person.entry_key, memo = person.entry_stamp {
                            <li>{person.name}@if person.key == self.me { " (you)" }</li>
                        }
                    </ul>
                    @if more > 0 {
                        <p id="more">"and "{more}" more"</p>
                    }
                }
                <ul id="messages" phx-update="stream">
                    {self.messages.render(|dom_id, message| html! {
                        <li id={dom_id}><strong>{message.name}</strong>": "{message.text}</li>
                    })}
                </ul>
                <form id="chat" phx-change="draft" phx-submit="send">
                    <input id="name" type="text" name="message[name]" value={self.name.as_str()} aria-label="Your name" autocomplete="off">
                    <input id="text" type="text" name="message[text]" value={self.draft.as_str()} placeholder="Say something…" aria-label="Message" autocomplete="off">
                    <button id="send" type="submit">"Send"</button>
                </form>
                @if let Some(error) = &self.error {
                    <p id="error" role="alert">{error}</p>
                }
            </main>
        }
    }
}

impl Chat {
    /// A newcomer with a guest name, who has seen no message yet.
    fn new(socket: &mut Socket<Chat>) -> Chat {
        let name = format!("Guest {:04}", random() % 10_000);
        Chat {
            me: format!("{:016x}", random()),
            tracked_name: name.clone(),
            name,
            draft: String::new(),
            error: None,
            // Copied as a `str`: `to_string` on an `Arc<str>` would format
            // it through `Display`, in each view the message reaches.
            messages: socket.stream(|posted: &Posted| String::from(&*posted.id)),
            roster: Arc::default(),
        }
    }

    /// Subscribes to the room and its roster, and tracks this view in it.
    async fn join(&self, room: &Room, pid: &Pid, socket: &Socket<Self>) {
        if let Some(messages) = socket.recipient::<Posted>() {
            room.pubsub.subscribe(TOPIC, messages);
        }
        // Summaries are made on each node from its presence; they never cross nodes.
        if let Some(rosters) = socket.recipient::<Arc<Roster>>() {
            room.pubsub.subscribe_local(ROSTER_TOPIC, rosters);
        }
        let who = Who {
            name: self.name.clone(),
        };
        if let Err(error) = room.presence.track(pid, TOPIC, &self.me, who).await {
            tracing::warn!(%error, "this chat view is not shown as online");
        }
    }

    /// Validates the form and broadcasts the message; the sender sees it
    /// when it comes back from the topic, like everyone else.
    async fn send(&mut self, form: Fields, socket: &Socket<Self>) {
        self.name = form.name;
        self.draft = form.text;
        let (name, text) = match validate(&self.name, &self.draft) {
            Ok(valid) => valid,
            Err(error) => {
                self.error = Some(error);
                return;
            }
        };
        let Ok(room) = room(socket) else { return };
        let posted = Posted {
            id: format!("messages-{:016x}", random()).into(),
            name: name.as_str().into(),
            text: text.into(),
        };
        room.pubsub.broadcast(TOPIC, posted);
        self.draft.clear();
        self.error = None;
        self.rename(&room, name, socket).await;
    }

    /// Shows a new name in everyone's list of who is online.
    async fn rename(&mut self, room: &Room, name: String, socket: &Socket<Self>) {
        let Some(pid) = socket.pid() else { return };
        if name == self.tracked_name {
            return;
        }
        let who = Who { name: name.clone() };
        match room.presence.update(pid, TOPIC, &self.me, who).await {
            Ok(_) => self.tracked_name = name,
            Err(error) => tracing::warn!(%error, "the new name is not shown as online"),
        }
    }
}

/// The trimmed name and text of a message, or what is wrong with them.
fn validate(name: &str, text: &str) -> Result<(String, String), String> {
    let name = name.trim();
    let text = text.trim();
    if name.is_empty() {
        return Err("Enter a name to send messages under.".into());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("A name has at most {MAX_NAME} characters."));
    }
    if text.is_empty() {
        return Err("Write a message first.".into());
    }
    let length = text.chars().count();
    if length > MAX_TEXT {
        return Err(format!(
            "A message has at most {MAX_TEXT} characters; this one has {length}."
        ));
    }
    Ok((name.to_owned(), text.to_owned()))
}

/// The shortest time between two summaries: a change in a quiet room shows
/// this soon after it happens, and changes within it go out together.
const ROSTER_MIN_INTERVAL: Duration = Duration::from_millis(100);
/// The longest time between two summaries, however big the room.
const ROSTER_MAX_INTERVAL: Duration = Duration::from_secs(2);

/// The time between two summaries of a room of `count` people: each
/// summary makes every view on the node render again, so a bigger room gets
/// fewer of them (100 ms plus 50 µs a person: about 1 s for 19,000 people).
pub fn roster_interval(count: usize) -> Duration {
    let scaled = ROSTER_MIN_INTERVAL + Duration::from_micros(50).saturating_mul(count as u32);
    scaled.min(ROSTER_MAX_INTERVAL)
}

/// What the roster process receives.
enum RosterMessage {
    Diff(PresenceDiff),
    Flush,
}

/// The roster process: applies presence diffs to [`Online`] and sends a
/// summary when it changed, at most every [`roster_interval`].
async fn run_roster(mut ctx: Context<RosterMessage>, room: Room) -> ExitReason {
    let Ok(diffs) = Recipient::mapped(&ctx.pid(), RosterMessage::Diff) else {
        return ExitReason::error("the roster process cannot receive presence diffs");
    };
    room.pubsub.subscribe_local(TOPIC, diffs);
    let mut online = Online::default();
    // Listed after subscribing, so no change falls between the two; the
    // diffs already in the mailbox apply again harmlessly.
    match room.presence.list(TOPIC).await {
        Ok(present) => online.join(present),
        Err(error) => tracing::warn!(%error, "the chat cannot list who is online"),
    }
    let me = ctx.pid();
    let mut last_sent = Instant::now()
        .checked_sub(ROSTER_MAX_INTERVAL)
        .unwrap_or_else(Instant::now);
    let mut flush_pending = false;
    // What the views show: after a restart of this process, the summary it
    // sent last, whose version the next one must follow, or the views would
    // keep their lists under a version they have seen.
    let mut shown = room.roster();
    publish(&room, &mut shown, online.summary());
    loop {
        match ctx.recv().await {
            Message::User(RosterMessage::Diff(diff)) => {
                online.join(diff.joins);
                online.leave(diff.leaves);
                if !flush_pending {
                    flush_pending = true;
                    let due = (last_sent + roster_interval(online.len()))
                        .max(Instant::now() + ROSTER_MIN_INTERVAL / 2);
                    let _ = cinder_runtime::timer::send_after(
                        &me,
                        RosterMessage::Flush,
                        due - Instant::now(),
                    );
                }
            }
            Message::User(RosterMessage::Flush) => {
                flush_pending = false;
                last_sent = Instant::now();
                publish(&room, &mut shown, online.summary());
            }
            Message::Exit { reason, .. } => return reason,
            Message::Down { .. } => {}
        }
    }
}

/// Stores `roster` as the room's latest and sends it to the views, unless
/// it is what they already show.
fn publish(room: &Room, shown: &mut Arc<Roster>, roster: Roster) {
    let Some(roster) = next_roster(shown, roster) else {
        return;
    };
    *shown = Arc::new(roster);
    *room
        .roster
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = shown.clone();
    room.pubsub.local_broadcast(ROSTER_TOPIC, shown.clone());
}

/// `roster` as the summary after `shown`, with the next version; `None` if
/// it shows what `shown` does.
fn next_roster(shown: &Roster, mut roster: Roster) -> Option<Roster> {
    if shown.shows_the_same_as(&roster) {
        return None;
    }
    roster.version = shown.version + 1;
    Some(roster)
}

/// Who is online: one person per presence key, in order of arrival.
#[derive(Default)]
struct Online {
    people: HashMap<String, Person>,
    /// Presence keys by arrival number.
    arrivals: BTreeMap<u64, String>,
    next_arrival: u64,
}

struct Person {
    arrival: u64,
    /// `(phx_ref, name)` of each of its presences, oldest first.
    presences: Vec<(String, String)>,
}

impl Person {
    /// The name of its newest presence.
    fn name(&self) -> &str {
        self.presences.last().map_or("", |(_, name)| name.as_str())
    }
}

impl Online {
    /// Adds presences. One already known (by its ref) is skipped, so a diff
    /// that the initial list already reflected changes nothing.
    fn join(&mut self, joins: PresenceMap) {
        for (key, metas) in joins {
            let person = match self.people.get_mut(&key) {
                Some(person) => person,
                None => {
                    let arrival = self.next_arrival;
                    self.next_arrival += 1;
                    self.arrivals.insert(arrival, key.clone());
                    self.people.entry(key).or_insert(Person {
                        arrival,
                        presences: Vec::new(),
                    })
                }
            };
            for meta in metas.metas {
                if person
                    .presences
                    .iter()
                    .all(|(known, _)| *known != meta.phx_ref)
                {
                    let name = meta
                        .get::<Who>()
                        .map_or_else(|_| "?".into(), |who| who.name);
                    person.presences.push((meta.phx_ref, name));
                }
            }
        }
    }

    /// Removes presences by ref, and the people left with none.
    fn leave(&mut self, leaves: PresenceMap) {
        for (key, metas) in leaves {
            let Some(person) = self.people.get_mut(&key) else {
                continue;
            };
            person
                .presences
                .retain(|(known, _)| metas.metas.iter().all(|meta| meta.phx_ref != *known));
            if person.presences.is_empty() {
                let arrival = person.arrival;
                self.people.remove(&key);
                self.arrivals.remove(&arrival);
            }
        }
    }

    /// How many people are online.
    fn len(&self) -> usize {
        self.people.len()
    }

    /// The count and the first [`LIST_LIMIT`] people by arrival.
    fn summary(&self) -> Roster {
        let people = self
            .arrivals
            .values()
            .take(LIST_LIMIT)
            .filter_map(|key| {
                let name = self.people.get(key)?.name().to_owned();
                Some(Listed::new(key.clone(), name))
            })
            .collect();
        Roster {
            count: self.people.len(),
            people,
            version: 0,
        }
    }
}

/// A random number for ids that must not collide across tabs and nodes.
fn random() -> u64 {
    // Each `RandomState` is freshly keyed, so hashing a constant with it
    // gives a new value each time.
    RandomState::new().hash_one(0u8)
}

#[cfg(test)]
mod tests {
    use cinder_runtime::presence::Meta;
    use serde_json::json;

    use super::*;

    fn meta(phx_ref: &str, name: &str) -> Meta {
        serde_json::from_value(json!({ "phx_ref": phx_ref, "name": name })).unwrap()
    }

    fn map(entries: &[(&str, &str, &str)]) -> PresenceMap {
        let mut map = PresenceMap::new();
        for (key, phx_ref, name) in entries {
            map.entry(key.to_string())
                .or_default()
                .metas
                .push(meta(phx_ref, name));
        }
        map
    }

    fn names(online: &Online) -> Vec<String> {
        online
            .summary()
            .people
            .into_iter()
            .map(|person| person.name)
            .collect()
    }

    #[test]
    fn a_message_needs_a_name_and_some_text_within_limits() {
        assert_eq!(
            validate("  Ann ", " hi "),
            Ok(("Ann".to_owned(), "hi".to_owned()))
        );
        assert!(validate("Ann", "   ")
            .unwrap_err()
            .contains("Write a message"));
        assert!(validate("", "hi").unwrap_err().contains("name"));
        assert!(validate(&"n".repeat(41), "hi").is_err());
        assert!(
            validate("Ann", &"é".repeat(500)).is_ok(),
            "counted in characters"
        );
        let error = validate("Ann", &"x".repeat(501)).unwrap_err();
        assert!(error.contains("at most 500"), "{error}");
    }

    #[test]
    fn a_join_already_listed_changes_nothing() {
        let mut online = Online::default();
        online.join(map(&[("a", "r1", "Ann")]));
        online.join(map(&[("b", "r2", "Bob")]));
        online.join(map(&[("b", "r2", "Bob")]));
        assert_eq!(names(&online), ["Ann", "Bob"]);
        assert_eq!(online.people["b"].presences.len(), 1);
    }

    #[test]
    fn an_update_renames_and_a_last_leave_removes_the_person() {
        let mut online = Online::default();
        online.join(map(&[("a", "r1", "Guest 1")]));
        online.join(map(&[("b", "r2", "Bob")]));
        // An update arrives as the new meta's join and the old one's leave.
        online.join(map(&[("a", "r3", "Ann")]));
        online.leave(map(&[("a", "r1", "Guest 1")]));
        assert_eq!(names(&online), ["Ann", "Bob"]);
        online.leave(map(&[("b", "r2", "Bob")]));
        assert_eq!(names(&online), ["Ann"]);
        assert_eq!(online.summary().count, 1);
    }

    #[test]
    fn a_leave_of_an_unknown_presence_is_ignored() {
        let mut online = Online::default();
        online.join(map(&[("a", "r1", "Ann")]));
        online.leave(map(&[("a", "r9", "Ann"), ("z", "r8", "Zoe")]));
        assert_eq!(names(&online), ["Ann"]);
    }

    #[test]
    fn a_big_room_lists_its_first_arrivals_and_counts_everyone() {
        let mut online = Online::default();
        for i in 0..LIST_LIMIT + 5 {
            let (key, phx_ref) = (format!("k{i}"), format!("r{i}"));
            online.join(map(&[(&key, &phx_ref, &format!("P{i}"))]));
        }
        online.leave(map(&[("k0", "r0", "P0")]));
        let summary = online.summary();
        assert_eq!(summary.count, LIST_LIMIT + 4);
        assert_eq!(summary.people.len(), LIST_LIMIT);
        assert_eq!(summary.people[0], Listed::new("k1".into(), "P1".into()));
        assert_eq!(
            summary.people[LIST_LIMIT - 1].name,
            format!("P{LIST_LIMIT}"),
            "the one who left makes room for the next arrival"
        );
    }

    #[test]
    fn each_summary_that_shows_a_change_gets_the_next_version() {
        let mut online = Online::default();
        online.join(map(&[("a", "r1", "Ann")]));
        let first = next_roster(&Roster::default(), online.summary()).expect("Ann arrived");
        assert_eq!(first.version, 1);
        assert!(
            next_roster(&first, online.summary()).is_none(),
            "the same people and count are not sent again"
        );
        online.join(map(&[("a", "r2", "Ann B")]));
        online.leave(map(&[("a", "r1", "Ann")]));
        let renamed = next_roster(&first, online.summary()).expect("a new name");
        assert_eq!(renamed.version, 2);
        assert_eq!(renamed.count, 1);
    }

    #[test]
    fn a_bigger_room_is_summarized_less_often_within_bounds() {
        assert_eq!(roster_interval(0), ROSTER_MIN_INTERVAL);
        assert!(roster_interval(19_000) > Duration::from_millis(900));
        assert!(roster_interval(19_000) < Duration::from_millis(1100));
        assert_eq!(roster_interval(10_000_000), ROSTER_MAX_INTERVAL);
    }
}
