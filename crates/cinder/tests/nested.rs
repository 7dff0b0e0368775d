//! Nested views over the protocol: a child's container in its parent's
//! page, the child's own join, events and state, and a sticky view.

mod common;

use cinder::live::{
    live_render, Config, Event, LiveRouter, LiveView, MountError, Params, Session, Socket,
};
use cinder::{html, Rendered};
use common::{attribute, connect, get, join_at, recv, send, serve, App, Client, Page};
use serde_json::{json, Map, Value};

/// A child with a count of its own, named from its session.
struct Tally {
    name: String,
    count: u32,
}

impl LiveView for Tally {
    type Info = ();

    async fn mount(
        _: &Params,
        session: &Session,
        _: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        let name = session
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("anonymous")
            .to_string();
        Ok(Tally { name, count: 0 })
    }

    async fn handle_event(&mut self, event: Event, _: &mut Socket<Self>) {
        if event.name() == "tally" {
            self.count += 1;
        }
    }

    fn render(&self) -> Rendered {
        html! { <p class="tally">{&self.name}: {self.count}</p> }
    }
}

struct Host {
    title: String,
}

impl LiveView for Host {
    type Info = ();

    async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> {
        Ok(Host {
            title: "Host".into(),
        })
    }

    async fn handle_event(&mut self, event: Event, _: &mut Socket<Self>) {
        if event.name() == "retitle" {
            self.title = "Renamed".into();
        }
    }

    fn render(&self) -> Rendered {
        let mut session = Map::new();
        session.insert("name".into(), json!("child"));
        html! {
            <main>
                <h1>{&self.title}</h1>
                {live_render::<Tally>("tally", Session(session))}
            </main>
        }
    }
}

async fn app() -> App {
    let router = LiveRouter::new(Config::new([9u8; 32]).unwrap())
        .sticky::<Tally>("dock")
        .live::<Host>("/host")
        .live::<Tally>("/tally")
        .into_router();
    serve(router).await
}

fn container<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!(r#"<div id="{id}""#))
        .unwrap_or_else(|| panic!("no container {id} in {html}"));
    let end = html[start..].find("</div>").expect("closed") + start + 6;
    &html[start..end]
}

async fn join_child(client: &mut Client, page: &Page, id: &str, html: &str) -> Value {
    let session = attribute(container(html, id), r#"data-phx-session=""#);
    let topic = format!("lv:{id}");
    send(
        client,
        json!(["7", "7", topic, "phx_join", {"params": {"_csrf_token": page.csrf, "_mounts": 0}, "session": session, "static": null}]),
    )
    .await;
    recv(client).await
}

#[tokio::test]
async fn the_dead_render_holds_the_child_and_the_sticky_view_rendered() {
    let app = app().await;
    let page = get(&app, "/host").await;
    let child = container(&page.html, "tally");
    assert!(
        child.contains(&format!(r#"data-phx-parent-id="{}""#, page.id)),
        "{child}"
    );
    assert!(
        child.contains(r#"<p class="tally">child: 0</p>"#),
        "{child}"
    );
    let dock = container(&page.html, "dock");
    assert!(dock.contains("data-phx-sticky"), "{dock}");
    // Inside the main container, where every page's render keeps it: the
    // client moves sticky views into the next main view on navigation.
    let main_end = page
        .html
        .find("</div>\n</body>")
        .expect("the main container ends the body");
    assert!(page.html.find(r#"<div id="dock""#).unwrap() < main_end);
    assert!(!dock.contains("data-phx-parent-id"), "{dock}");
    assert!(
        dock.contains(r#"<p class="tally">anonymous: 0</p>"#),
        "{dock}"
    );
}

#[tokio::test]
async fn a_child_joins_on_its_own_and_keeps_its_state_while_the_parent_renders() {
    let app = app().await;
    let page = get(&app, "/host").await;
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let joined = join_at(&mut client, &page, "http://localhost/host").await;
    assert_eq!(joined[4]["status"], "ok", "{joined}");
    // Connected, the parent sends the child's container empty: the client
    // keeps the child's content and joins it.
    let parent_html = joined[4]["response"]["rendered"].to_string();
    assert!(parent_html.contains("data-phx-parent-id"), "{parent_html}");

    let child = join_child(&mut client, &page, "tally", &page.html).await;
    assert_eq!(child[4]["status"], "ok", "{child}");
    assert_eq!(child[4]["response"]["rendered"]["0"], "child");

    send(
        &mut client,
        json!(["7", "8", "lv:tally", "event", {"type": "click", "event": "tally", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"diff": {"1": "1"}})
    );

    // The parent renders again: its diff leaves the child's container alone
    // (and the sticky views' containers the router puts after the view).
    let topic = format!("lv:{}", page.id);
    send(
        &mut client,
        json!(["4", "9", topic, "event", {"type": "click", "event": "retitle", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"diff": {"0": {"0": "Renamed"}}})
    );

    send(
        &mut client,
        json!(["7", "10", "lv:tally", "event", {"type": "click", "event": "tally", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"diff": {"1": "2"}})
    );
}

#[tokio::test]
async fn a_sticky_view_lives_on_when_the_main_view_navigates() {
    let app = app().await;
    let page = get(&app, "/host").await;
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    join_at(&mut client, &page, "http://localhost/host").await;
    let dock = join_child(&mut client, &page, "dock", &page.html).await;
    assert_eq!(dock[4]["status"], "ok", "{dock}");
    send(
        &mut client,
        json!(["7", "8", "lv:dock", "event", {"type": "click", "event": "tally", "value": {}}]),
    )
    .await;
    recv(&mut client).await;

    // Live navigation replaces the main view on the same topic.
    let topic = format!("lv:{}", page.id);
    send(&mut client, json!(["4", "11", topic, "phx_leave", {}])).await;
    recv(&mut client).await;
    send(
        &mut client,
        json!(["12", "12", topic, "phx_join", {"redirect": "http://localhost/tally", "params": {"_csrf_token": page.csrf, "_mounts": 0}, "session": page.session, "static": null}]),
    )
    .await;
    let navigated = loop {
        let frame = recv(&mut client).await;
        if frame[1] == "12" {
            break frame;
        }
    };
    assert_eq!(navigated[4]["status"], "ok", "{navigated}");

    // The sticky view kept its process and its count.
    send(
        &mut client,
        json!(["7", "13", "lv:dock", "event", {"type": "click", "event": "tally", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"diff": {"1": "2"}})
    );
}

#[tokio::test]
async fn a_forged_child_token_is_stale() {
    let app = app().await;
    let page = get(&app, "/host").await;
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    join_at(&mut client, &page, "http://localhost/host").await;
    send(
        &mut client,
        json!(["7", "7", "lv:tally", "phx_join", {"params": {}, "session": "forged.token", "static": null}]),
    )
    .await;
    let refused = recv(&mut client).await;
    assert_eq!(
        refused[4],
        json!({"status": "error", "response": {"reason": "stale"}})
    );
}
