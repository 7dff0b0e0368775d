//! Stateful components over the protocol: cids, `"c"` diffs with statics
//! reuse, events through `phx-target`, `send_update`, removal, and a crash
//! that stays inside its component.

mod common;

use cinder::live::{
    live_component, ComponentSocket, Config, Event, LiveComponent, LiveRouter, LiveView,
    MountError, Params, Session, Socket,
};
use cinder::{html, Cid, Rendered};
use common::{connect, get, join_at, recv, send, serve, App, Client, Page};
use serde_json::{json, Value};

/// A card with a title from its props and a like count of its own.
struct Card {
    likes: u32,
}

impl LiveComponent for Card {
    type Props = String;
    type Update = u32;

    fn mount(_title: &String, _socket: &mut ComponentSocket) -> Self {
        Card { likes: 0 }
    }

    async fn handle_event(&mut self, event: Event, socket: &mut ComponentSocket) {
        match event.name() {
            "like" => self.likes += 1,
            "boom" => panic!("the card exploded"),
            "shout" => socket.put_flash("info", "liked"),
            "hook" => socket.reply(json!({"likes": self.likes})),
            _ => {}
        }
    }

    fn handle_update(&mut self, likes: u32, _socket: &mut ComponentSocket) {
        self.likes = likes;
    }

    fn render(&self, title: &String, myself: Cid) -> Rendered {
        html! { <div class="card"><b>{title}</b> <button phx-click="like" phx-target={myself}>{self.likes}</button></div> }
    }
}

/// A component whose markup is not one element.
struct Loose;

impl LiveComponent for Loose {
    type Props = ();
    type Update = ();

    fn mount(_: &(), _socket: &mut ComponentSocket) -> Self {
        Loose
    }

    fn render(&self, _: &(), _myself: Cid) -> Rendered {
        html! { <i>one</i><i>two</i> }
    }
}

struct Board {
    /// Each card's id and title.
    cards: Vec<(&'static str, String)>,
    loose: bool,
}

impl LiveView for Board {
    type Info = ();

    async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> {
        Ok(Board {
            cards: vec![("A", "A".into()), ("B", "B".into())],
            loose: false,
        })
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        match event.name() {
            "rename" => self.cards[0].1 = "A2".into(),
            "drop_b" => self.cards.truncate(1),
            "add_b" => self.cards.push(("B", "B".into())),
            "set_likes" => socket.send_update::<Card>("card-B", 7),
            "loose" => self.loose = true,
            _ => {}
        }
    }

    fn render(&self) -> Rendered {
        html! {
            <main>
                @for (id, title) in &self.cards {
                    {live_component::<Card>(format!("card-{id}"), title.clone())}
                }
                @if self.loose {
                    {live_component::<Loose>("loose", ())}
                }
            </main>
        }
    }
}

async fn board() -> (App, Page, Client, String, Value) {
    joined::<Board>("/board").await
}

/// A view of type `V` served at `path`, its page fetched and joined: the
/// app, the page, the client, the view's topic and its join's render.
async fn joined<V: LiveView>(path: &str) -> (App, Page, Client, String, Value) {
    let router = LiveRouter::new(Config::new([3u8; 32]).unwrap())
        .live::<V>(path)
        .into_router();
    let app = serve(router).await;
    let page = get(&app, path).await;
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let joined = join_at(&mut client, &page, &format!("http://localhost{path}")).await;
    assert_eq!(joined[4]["status"], "ok", "{joined}");
    let topic = format!("lv:{}", page.id);
    let rendered = joined[4]["response"]["rendered"].clone();
    (app, page, client, topic, rendered)
}

async fn event(client: &mut Client, topic: &str, payload: Value) -> Value {
    send(client, json!(["4", "9", topic, "event", payload])).await;
    let reply = recv(client).await;
    assert_eq!(reply[3], "phx_reply", "{reply}");
    reply[4]["response"].clone()
}

fn click(name: &str, cid: Option<u32>) -> Value {
    let mut payload = json!({"type": "click", "event": name, "value": {}});
    if let Some(cid) = cid {
        payload["cid"] = json!(cid);
    }
    payload
}

#[tokio::test]
async fn the_dead_render_shows_components_inline() {
    let router = LiveRouter::new(Config::new([3u8; 32]).unwrap())
        .live::<Board>("/board")
        .into_router();
    let app = serve(router).await;
    let page = get(&app, "/board").await;
    assert!(
        page.html.contains(
            r#"<div class="card"><b>A</b> <button phx-click="like" phx-target="1">0</button></div>"#
        ),
        "{}",
        page.html
    );
}

#[tokio::test]
async fn the_join_sends_components_by_cid_and_the_second_reuses_the_first_ones_statics() {
    let (_app, _page, _client, _topic, rendered) = board().await;
    let list = &rendered["0"];
    assert_eq!(list["k"]["0"]["0"], json!(1), "{rendered}");
    assert_eq!(list["k"]["1"]["0"], json!(2), "{rendered}");
    let components = &rendered["c"];
    assert_eq!(
        components["1"]["r"], 1,
        "component trees are marked as roots"
    );
    assert_eq!(components["1"]["0"], "A");
    assert_eq!(
        components["1"]["1"], r#" phx-target="1""#,
        "phx-target renders the cid"
    );
    assert!(components["1"]["s"].is_array());
    // Same template, new in the same diff: statics from cid 1.
    assert_eq!(
        components["2"],
        json!({"0": "B", "1": r#" phx-target="2""#, "s": 1})
    );
}

#[tokio::test]
async fn a_targeted_event_renders_only_its_component() {
    let (_app, _page, mut client, topic, _) = board().await;
    let reply = event(&mut client, &topic, click("like", Some(2))).await;
    assert_eq!(reply, json!({"diff": {"c": {"2": {"2": "1"}}}}));
    let reply = event(&mut client, &topic, click("like", Some(2))).await;
    assert_eq!(reply, json!({"diff": {"c": {"2": {"2": "2"}}}}));
}

#[tokio::test]
async fn props_that_change_update_the_component_and_keep_its_state() {
    let (_app, _page, mut client, topic, _) = board().await;
    event(&mut client, &topic, click("like", Some(1))).await;
    let reply = event(&mut client, &topic, click("rename", None)).await;
    // Only cid 1's title changed; cid 2's props are equal, so it is left alone.
    assert_eq!(reply, json!({"diff": {"c": {"1": {"0": "A2"}}}}));
    let reply = event(&mut client, &topic, click("like", Some(1))).await;
    assert_eq!(reply, json!({"diff": {"c": {"1": {"2": "2"}}}}));
}

#[tokio::test]
async fn send_update_reaches_the_component_by_type_and_id() {
    let (_app, _page, mut client, topic, _) = board().await;
    let reply = event(&mut client, &topic, click("set_likes", None)).await;
    assert_eq!(reply, json!({"diff": {"c": {"2": {"2": "7"}}}}));
}

#[tokio::test]
async fn a_component_reply_and_flash_reach_the_client() {
    let (_app, _page, mut client, topic, _) = board().await;
    let reply = event(
        &mut client,
        &topic,
        json!({"type": "hook", "event": "hook", "value": {}, "cid": 1}),
    )
    .await;
    assert_eq!(reply, json!({"diff": {"r": {"likes": 0}}}));
    // A flash from a component renders the view's layout again.
    let reply = event(&mut client, &topic, click("shout", Some(1))).await;
    let diff = reply["diff"].to_string();
    assert!(diff.contains("liked"), "{diff}");
    // The layout's root changed, which makes the client drop the components
    // it holds: they come again, whole.
    assert!(reply["diff"]["c"]["1"]["s"].is_array(), "{diff}");
    assert_eq!(reply["diff"]["c"]["2"]["s"], 1, "{diff}");
}

#[tokio::test]
async fn a_panicking_component_shows_an_error_and_the_page_goes_on() {
    let (_app, _page, mut client, topic, _) = board().await;
    let reply = event(&mut client, &topic, click("boom", Some(1))).await;
    let crashed = &reply["diff"]["c"]["1"];
    assert_eq!(crashed["r"], 1, "{reply}");
    assert!(
        crashed
            .to_string()
            .contains("This part of the page crashed"),
        "{reply}"
    );
    assert!(crashed.to_string().contains("the card exploded"), "{reply}");
    // The other component and the view still work.
    let reply = event(&mut client, &topic, click("like", Some(2))).await;
    assert_eq!(reply, json!({"diff": {"c": {"2": {"2": "1"}}}}));
    // "Retry" mounts it again, with fresh state and its own markup.
    let reply = event(&mut client, &topic, click("lv:remount", Some(1))).await;
    let remounted = &reply["diff"]["c"]["1"];
    assert_eq!(remounted["0"], "A", "{reply}");
    assert_eq!(remounted["2"], "0", "{reply}");
    assert!(
        remounted["s"].is_array(),
        "its template changed back: {reply}"
    );
}

#[tokio::test]
async fn markup_that_is_not_one_element_is_a_component_error() {
    let (_app, _page, mut client, topic, _) = board().await;
    let reply = event(&mut client, &topic, click("loose", None)).await;
    let diff = reply["diff"].to_string();
    assert!(diff.contains("exactly one HTML element"), "{diff}");
}

#[tokio::test]
async fn removed_components_are_freed_after_the_client_destroys_them() {
    let (_app, _page, mut client, topic, _) = board().await;
    event(&mut client, &topic, click("like", Some(2))).await;
    event(&mut client, &topic, click("drop_b", None)).await;
    send(
        &mut client,
        json!(["4", "20", topic, "cids_will_destroy", {"cids": [2]}]),
    )
    .await;
    assert_eq!(recv(&mut client).await[4]["response"], json!({}));
    send(
        &mut client,
        json!(["4", "21", topic, "cids_destroyed", {"cids": [2]}]),
    )
    .await;
    assert_eq!(recv(&mut client).await[4]["response"], json!({"cids": [2]}));
    // Events for a destroyed cid are ignored.
    assert_eq!(
        event(&mut client, &topic, click("like", Some(2))).await,
        json!({})
    );
    // Placed again, it is a new component: new cid, fresh state, and
    // statics from cid 1, which the client holds.
    let reply = event(&mut client, &topic, click("add_b", None)).await;
    assert_eq!(
        reply["diff"]["c"]["3"],
        json!({"0": "B", "1": r#" phx-target="3""#, "s": -1}),
        "{reply}"
    );
}

#[tokio::test]
async fn a_component_placed_again_before_it_is_destroyed_is_sent_whole() {
    let (_app, _page, mut client, topic, _) = board().await;
    event(&mut client, &topic, click("like", Some(2))).await;
    event(&mut client, &topic, click("drop_b", None)).await;
    send(
        &mut client,
        json!(["4", "20", topic, "cids_will_destroy", {"cids": [2]}]),
    )
    .await;
    recv(&mut client).await;
    let reply = event(&mut client, &topic, click("add_b", None)).await;
    let revived = &reply["diff"]["c"]["2"];
    // Same cid, state kept, but whole: the client dropped its tree.
    assert_eq!(revived["2"], "1", "{reply}");
    assert!(revived.get("s").is_some(), "{reply}");
    send(
        &mut client,
        json!(["4", "21", topic, "cids_destroyed", {"cids": [2]}]),
    )
    .await;
    assert_eq!(recv(&mut client).await[4]["response"], json!({"cids": []}));
}

/// A count beside a card inside a `@memo` block, which a rename's new
/// version renders again.
struct Shelf {
    count: u32,
    version: u64,
    title: String,
}

impl LiveView for Shelf {
    type Info = ();

    async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> {
        Ok(Shelf {
            count: 0,
            version: 1,
            title: "A".into(),
        })
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Self>) {
        match event.name() {
            "count" => self.count += 1,
            "rename" => {
                self.title = "A2".into();
                self.version += 1;
            }
            _ => {}
        }
    }

    fn render(&self) -> Rendered {
        html! {
            <main>
                <p>{self.count}</p>
                @memo self.version {
                    <section>{live_component::<Card>("card-A", self.title.clone())}</section>
                }
            </main>
        }
    }
}

#[tokio::test]
async fn a_component_in_a_reused_memo_block_keeps_its_cid_and_state() {
    let (_app, _page, mut client, topic, rendered) = joined::<Shelf>("/shelf").await;
    assert_eq!(rendered["1"]["0"], json!(1), "{rendered}");
    assert_eq!(rendered["c"]["1"]["0"], "A", "{rendered}");

    let liked = event(&mut client, &topic, click("like", Some(1))).await;
    assert_eq!(liked, json!({"diff": {"c": {"1": {"2": "1"}}}}));
    let counted = event(&mut client, &topic, click("count", None)).await;
    assert_eq!(counted, json!({"diff": {"0": "1"}}), "the block is reused");
    let liked = event(&mut client, &topic, click("like", Some(1))).await;
    assert_eq!(liked, json!({"diff": {"c": {"1": {"2": "2"}}}}));
    let renamed = event(&mut client, &topic, click("rename", None)).await;
    assert_eq!(renamed, json!({"diff": {"c": {"1": {"0": "A2"}}}}));
}
