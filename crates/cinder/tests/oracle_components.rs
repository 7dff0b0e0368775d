//! The diff oracle for stateful components: random sessions of a live view
//! with components, each diff the server sends applied by the official
//! client's `Rendered` code in node, and the HTML it ends up with compared
//! after every step with a fresh render of the same state (a second
//! connection joining the view, whose state lives in the application).
//!
//! The sessions add, remove, reorder and retitle components, change them
//! from their own events and through `send_update`, make the layout's root
//! change (a flash), and tell the server when the client destroyed a
//! component, as the client does. Needs `assets/node_modules`, like the
//! template oracle.

mod common;
#[path = "support/oracle.rs"]
mod support;

use std::sync::{Arc, Mutex};

use cinder::live::{
    live_component, ComponentSocket, Config, Event, LiveComponent, LiveRouter, LiveView,
    MountError, Params, Session, Socket,
};
use cinder::{html, Cid, Rendered};
use common::{connect, get, join_at, recv, send, serve, App, Client};
use serde_json::{json, Value};
use support::{run_oracle, Rng};

const CASES: u64 = 40;
const STEPS: usize = 25;

/// The whole state of a deck, shared by every connection to it.
#[derive(Default)]
struct Deck {
    banner: String,
    /// Each card's id, title and likes.
    cards: Vec<(u32, String, u32)>,
    next_id: u32,
}

#[derive(Clone, Default)]
struct Store(Arc<Mutex<Deck>>);

impl PartialEq for Store {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Store {
    fn likes(&self, id: u32) -> u32 {
        let deck = self.0.lock().unwrap();
        deck.cards.iter().find(|c| c.0 == id).map_or(0, |c| c.2)
    }

    fn like(&self, id: u32) {
        let mut deck = self.0.lock().unwrap();
        if let Some(card) = deck.cards.iter_mut().find(|c| c.0 == id) {
            card.2 += 1;
        }
    }
}

/// A card component: its likes live in the store, so a fresh connection
/// renders the same card.
struct Tile {
    id: u32,
    store: Store,
}

#[derive(PartialEq)]
struct TileProps {
    id: u32,
    title: String,
    store: Store,
}

struct Like;

impl LiveComponent for Tile {
    type Props = TileProps;
    type Update = Like;

    fn mount(props: &TileProps, _socket: &mut ComponentSocket) -> Self {
        Tile {
            id: props.id,
            store: props.store.clone(),
        }
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket) {
        if event.name() == "like" {
            self.store.like(self.id);
        }
    }

    fn handle_update(&mut self, _: Like, _socket: &mut ComponentSocket) {
        self.store.like(self.id);
    }

    fn render(&self, props: &TileProps, myself: Cid) -> Rendered {
        let likes = self.store.likes(self.id);
        html! {
            <article class="tile" data-card={props.id}>
                <h3>{&props.title}</h3>
                @if likes > 2 {
                    <strong class="hot">{likes} likes</strong>
                } else {
                    <span>{likes}</span>
                }
                <button phx-click="like" phx-target={myself}>"+"</button>
            </article>
        }
    }
}

struct Table {
    store: Store,
}

impl LiveView for Table {
    type Info = ();

    async fn mount(_: &Params, _: &Session, socket: &mut Socket<Self>) -> Result<Self, MountError> {
        Ok(Table {
            store: socket
                .state::<Store>()
                .expect("the store is in the state")
                .clone(),
        })
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        let arg = event
            .get("n")
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        let mut deck = self.store.0.lock().unwrap();
        let len = deck.cards.len();
        match event.name() {
            "add" => {
                deck.next_id += 1;
                let id = deck.next_id;
                let at = arg % (len + 1);
                deck.cards.insert(at, (id, format!("card {id}"), 0));
            }
            "remove" if len > 0 => {
                deck.cards.remove(arg % len);
            }
            "retitle" if len > 0 => deck.cards[arg % len].1.push('!'),
            "reverse" => deck.cards.reverse(),
            "banner" => deck.banner = format!("banner {arg}"),
            "nudge" if len > 0 => {
                socket.send_update::<Tile>(tile_id(deck.cards[arg % len].0), Like)
            }
            "flash" => socket.put_flash("info", format!("flash {arg}")),
            _ => {}
        }
    }

    fn render(&self) -> Rendered {
        let deck = self.store.0.lock().unwrap();
        html! {
            <main>
                <p class="banner">{&deck.banner}</p>
                <section>
                    @for (id, title, _) in &deck.cards, key = *id {
                        {live_component::<Tile>(tile_id(*id), TileProps { id: *id, title: title.clone(), store: self.store.clone() })}
                    }
                </section>
            </main>
        }
    }
}

fn tile_id(id: u32) -> String {
    format!("tile-{id}")
}

/// One connection to the deck, recording the diffs it receives.
struct Connection {
    client: Client,
    topic: String,
    msg_ref: u64,
}

impl Connection {
    async fn open(app: &App) -> (Connection, Value) {
        let page = get(app, "/deck").await;
        let mut client = connect(app, &page.cookie, &page.csrf, None).await.unwrap();
        let joined = join_at(&mut client, &page, "http://localhost/deck").await;
        assert_eq!(joined[4]["status"], "ok", "{joined}");
        let rendered = joined[4]["response"]["rendered"].clone();
        let topic = format!("lv:{}", page.id);
        (
            Connection {
                client,
                topic,
                msg_ref: 10,
            },
            rendered,
        )
    }

    /// Sends a message and returns its reply's response.
    async fn request(&mut self, event: &str, payload: Value) -> Value {
        self.msg_ref += 1;
        let msg_ref = self.msg_ref.to_string();
        send(
            &mut self.client,
            json!(["4", msg_ref, self.topic, event, payload]),
        )
        .await;
        loop {
            let frame = recv(&mut self.client).await;
            if frame[1] == json!(msg_ref) {
                return frame[4]["response"].clone();
            }
        }
    }
}

/// The cids of the cards, tracked the way the server allocates them: in
/// template order, from 1, a new one for each card placed for the first
/// time.
#[derive(Default)]
struct Cids {
    next: u32,
    by_card: Vec<(u32, u32)>,
}

impl Cids {
    fn sync(&mut self, cards: &[u32]) {
        for card in cards {
            if !self.by_card.iter().any(|(c, _)| c == card) {
                self.next += 1;
                self.by_card.push((*card, self.next));
            }
        }
    }

    fn of(&self, card: u32) -> u32 {
        self.by_card
            .iter()
            .find(|(c, _)| *c == card)
            .expect("tracked")
            .1
    }

    fn forget(&mut self, card: u32) -> u32 {
        let cid = self.of(card);
        self.by_card.retain(|(c, _)| *c != card);
        cid
    }
}

fn card_ids(store: &Store) -> Vec<u32> {
    store.0.lock().unwrap().cards.iter().map(|c| c.0).collect()
}

async fn random_case(seed: u64) -> String {
    let store = Store::default();
    {
        let mut deck = store.0.lock().unwrap();
        deck.next_id = 3;
        deck.cards = (1..=3).map(|id| (id, format!("card {id}"), 0)).collect();
    }
    let router = LiveRouter::new(Config::new([4u8; 32]).unwrap())
        .state(store.clone())
        .live::<Table>("/deck")
        .into_router();
    let app = serve(router).await;
    let mut rng = Rng(seed);
    let (mut session, rendered) = Connection::open(&app).await;
    let mut cids = Cids::default();
    cids.sync(&card_ids(&store));
    let mut steps = vec![json!({"diff": rendered, "full": rendered, "html": null})];
    for _ in 0..STEPS {
        let cards = card_ids(&store);
        let n = rng.below(1000) as u64;
        let choice = rng.below(9);
        let mut prune = Vec::new();
        let response = match choice {
            0 | 1 => session.request("event", click("add", n)).await,
            2 if !cards.is_empty() => {
                let removed = cards[n as usize % cards.len()];
                let response = session.request("event", click("remove", n)).await;
                let cid = cids.forget(removed);
                // The client saw the element go and tells the server.
                session
                    .request("cids_will_destroy", json!({"cids": [cid]}))
                    .await;
                let destroyed = session
                    .request("cids_destroyed", json!({"cids": [cid]}))
                    .await;
                assert_eq!(destroyed, json!({"cids": [cid]}));
                prune.push(cid);
                response
            }
            3 => session.request("event", click("retitle", n)).await,
            4 => session.request("event", click("reverse", n)).await,
            5 => session.request("event", click("banner", n)).await,
            6 => session.request("event", click("nudge", n)).await,
            7 if !cards.is_empty() => {
                let card = cards[n as usize % cards.len()];
                let mut payload = click("like", 0);
                payload["cid"] = json!(cids.of(card));
                session.request("event", payload).await
            }
            _ if n % 2 == 0 => {
                let clear =
                    json!({"type": "click", "event": "lv:clear-flash", "value": {"key": "info"}});
                session.request("event", clear).await
            }
            _ => session.request("event", click("flash", n)).await,
        };
        cids.sync(&card_ids(&store));
        let diff = response.get("diff").cloned().unwrap_or_else(|| json!({}));
        let (fresh_session, full) = Connection::open(&app).await;
        drop(fresh_session);
        let mut step = json!({"diff": diff, "full": full, "html": null});
        if !prune.is_empty() {
            step["prune"] = json!(prune);
        }
        steps.push(step);
    }
    json!({"id": seed, "components": true, "steps": steps}).to_string()
}

fn click(name: &str, n: u64) -> Value {
    json!({"type": "click", "event": name, "value": {"n": n.to_string()}})
}

#[tokio::test]
async fn component_sessions_match_the_official_client() {
    let mut cases = Vec::new();
    for seed in 1..=CASES {
        cases.push(random_case(seed).await);
    }
    let failures = tokio::task::spawn_blocking(move || run_oracle(cases))
        .await
        .unwrap();
    assert!(
        failures.is_empty(),
        "{} of {CASES} component sessions differ from the client; first: {:#}",
        failures.len(),
        failures[0]
    );
    println!("component oracle: {CASES} sessions of {STEPS} steps passed");
}
