//! `/chat`: a chat room over PubSub, with who is online through Presence.
//!
//! Each connected view subscribes to [`TOPIC`]. Sending a message broadcasts
//! it there, and every subscribed view, the sender's included, appends it in
//! `handle_info`; so all tabs show the same messages in the same order. With
//! a cross-node adapter on the PubSub (see `main.rs`), the tabs may be served
//! by different nodes.
//!
//! Each connected view also tracks itself on the topic's presence and applies
//! the [`PresenceDiff`]s that follow. A closed tab ends its view's process,
//! and its presence goes with it: nothing here has to untrack it.
//!
//! The showcase has no accounts, so every tab counts as one person, named
//! "Guest 1234" until its user types another name.

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};

use cinder::live::{Event, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};
use cinder_runtime::presence::{Presence, PresenceDiff, PresenceMap};
use cinder_runtime::pubsub::PubSub;
use cinder_runtime::Pid;
use serde::{Deserialize, Serialize};

/// The room's topic, for messages and presence alike.
pub const TOPIC: &str = "chat:lobby";
/// How many messages a view keeps; older ones scroll away.
const HISTORY: usize = 100;
/// The longest message accepted, in characters.
const MAX_TEXT: usize = 500;
/// The longest name accepted, in characters.
const MAX_NAME: usize = 40;

/// The application's PubSub and Presence, which the chat views find with
/// `socket.state::<Room>()` (see `main.rs`).
#[derive(Clone)]
pub struct Room {
    /// Carries the messages, to every node.
    pub pubsub: PubSub,
    /// Who is online, on every node.
    pub presence: Presence,
}

fn room<V: LiveView>(socket: &Socket<V>) -> Result<Room, MountError> {
    socket.state::<Room>().cloned().ok_or_else(|| {
        MountError::new(
            503,
            "the chat room is missing: give the router a Room with .state(room)",
        )
    })
}

/// A message, as it travels on the topic, possibly to other nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Posted {
    /// Unique across nodes: the key of the message's `<li>`.
    id: String,
    name: String,
    text: String,
}

/// What a chat view receives besides client events.
pub enum Info {
    /// A message sent to the room, by anyone.
    Posted(Posted),
    /// Someone arrived, left or renamed themselves.
    Presence(PresenceDiff),
}

impl From<Posted> for Info {
    fn from(posted: Posted) -> Self {
        Info::Posted(posted)
    }
}

impl From<PresenceDiff> for Info {
    fn from(diff: PresenceDiff) -> Self {
        Info::Presence(diff)
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
    messages: VecDeque<Posted>,
    online: Online,
}

impl LiveView for Chat {
    type Info = Info;

    async fn mount(
        _params: &Params,
        _session: &Session,
        socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        let room = room(socket)?;
        let mut chat = Chat::new();
        if let Some(pid) = socket.pid() {
            chat.join(&room, pid, socket).await;
        }
        // Listed after subscribing, so no change falls between the two;
        // the diffs already in the mailbox apply again harmlessly.
        match room.presence.list(TOPIC).await {
            Ok(present) => chat.online.join(present),
            Err(error) => tracing::warn!(%error, "the chat cannot list who is online"),
        }
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
                self.messages.push_back(posted);
                while self.messages.len() > HISTORY {
                    self.messages.pop_front();
                }
            }
            Info::Presence(diff) => {
                self.online.join(diff.joins);
                self.online.leave(diff.leaves);
            }
        }
    }

    fn render(&self) -> Rendered {
        let count = self.online.people.len();
        html! {
            <main>
                <h1>"Chat"</h1>
                <p><span id="online">{count}</span>" online"</p>
                <ul id="people">
                    @for person in &self.online.people, key = person.key {
                        <li>{person.name()}@if person.key == self.me { " (you)" }</li>
                    }
                </ul>
                <ul id="messages">
                    @for message in &self.messages, key = message.id {
                        <li><strong>{message.name}</strong>": "{message.text}</li>
                    }
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
    fn new() -> Chat {
        let name = format!("Guest {:04}", random() % 10_000);
        Chat {
            me: format!("{:016x}", random()),
            tracked_name: name.clone(),
            name,
            draft: String::new(),
            error: None,
            messages: VecDeque::new(),
            online: Online::default(),
        }
    }

    /// Subscribes to the room and tracks this view in it.
    async fn join(&self, room: &Room, pid: &Pid, socket: &Socket<Self>) {
        if let Some(messages) = socket.recipient::<Posted>() {
            room.pubsub.subscribe(TOPIC, messages);
        }
        // Presence diffs are computed on each node; they never cross nodes.
        if let Some(diffs) = socket.recipient::<PresenceDiff>() {
            room.pubsub.subscribe_local(TOPIC, diffs);
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
            id: format!("{:016x}", random()),
            name: name.clone(),
            text,
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

/// Who is online: one person per presence key, in order of arrival.
#[derive(Default)]
struct Online {
    people: Vec<Person>,
}

struct Person {
    key: String,
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
            let index = match self.people.iter().position(|person| person.key == key) {
                Some(index) => index,
                None => {
                    self.people.push(Person {
                        key,
                        presences: Vec::new(),
                    });
                    self.people.len() - 1
                }
            };
            let presences = &mut self.people[index].presences;
            for meta in metas.metas {
                if presences.iter().all(|(known, _)| *known != meta.phx_ref) {
                    let name = meta
                        .get::<Who>()
                        .map_or_else(|_| "?".into(), |who| who.name);
                    presences.push((meta.phx_ref, name));
                }
            }
        }
    }

    /// Removes presences by ref, and the people left with none.
    fn leave(&mut self, leaves: PresenceMap) {
        for (key, metas) in leaves {
            if let Some(person) = self.people.iter_mut().find(|person| person.key == key) {
                person
                    .presences
                    .retain(|(known, _)| metas.metas.iter().all(|meta| meta.phx_ref != *known));
            }
        }
        self.people.retain(|person| !person.presences.is_empty());
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

    fn names(online: &Online) -> Vec<&str> {
        online.people.iter().map(Person::name).collect()
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
        online.join(map(&[("a", "r1", "Ann"), ("b", "r2", "Bob")]));
        online.join(map(&[("b", "r2", "Bob")]));
        assert_eq!(names(&online), ["Ann", "Bob"]);
        assert_eq!(online.people[1].presences.len(), 1);
    }

    #[test]
    fn an_update_renames_and_a_last_leave_removes_the_person() {
        let mut online = Online::default();
        online.join(map(&[("a", "r1", "Guest 1"), ("b", "r2", "Bob")]));
        // An update arrives as the new meta's join and the old one's leave.
        online.join(map(&[("a", "r3", "Ann")]));
        online.leave(map(&[("a", "r1", "Guest 1")]));
        assert_eq!(names(&online), ["Ann", "Bob"]);
        online.leave(map(&[("b", "r2", "Bob")]));
        assert_eq!(names(&online), ["Ann"]);
    }

    #[test]
    fn a_leave_of_an_unknown_presence_is_ignored() {
        let mut online = Online::default();
        online.join(map(&[("a", "r1", "Ann")]));
        online.leave(map(&[("a", "r9", "Ann"), ("z", "r8", "Zoe")]));
        assert_eq!(names(&online), ["Ann"]);
    }
}
