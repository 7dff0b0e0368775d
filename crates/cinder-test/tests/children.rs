//! Child views (`live_render`) through the harness: found in the parent's
//! page, joined on the parent's socket as the client joins them, with
//! events, state and updates of their own.

use cinder::live::{
    live_render, Config, Event, LiveRouter, LiveView, MountError, Params, Session, Socket,
};
use cinder::{html, Rendered};
use cinder_test::{Error, LiveTest};
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
        html! {
            <div>
                <p class="tally">{format!("{}: {}", self.name, self.count)}</p>
                <button class="more" phx-click="tally">"+"</button>
            </div>
        }
    }
}

/// A page holding two tallies, one shown only while `shown`.
struct Host {
    title: String,
    shown: bool,
}

fn session(name: &str) -> Session {
    let mut session = Map::new();
    session.insert("name".into(), json!(name));
    Session(session)
}

impl LiveView for Host {
    type Info = ();

    async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> {
        Ok(Host {
            title: "Host".into(),
            shown: true,
        })
    }

    async fn handle_event(&mut self, event: Event, _: &mut Socket<Self>) {
        match event.name() {
            "retitle" => self.title = "Renamed".into(),
            "hide" => self.shown = false,
            _ => {}
        }
    }

    fn render(&self) -> Rendered {
        html! {
            <main>
                <h1>{&self.title}</h1>
                <button id="retitle" phx-click="retitle">"Rename"</button>
                {live_render::<Tally>("left", session("left"))}
                @if self.shown {
                    {live_render::<Tally>("right", session("right"))}
                }
            </main>
        }
    }
}

fn host() -> LiveTest {
    LiveTest::new(
        LiveRouter::new(Config::random())
            .live::<Host>("/host")
            .into_router(),
    )
}

#[tokio::test]
async fn children_join_on_the_parents_socket_with_their_own_state() -> cinder_test::Result<()> {
    let parent = host().live("/host").await?;
    let children = parent.live_children().await?;
    let ids: Vec<String> = children.iter().map(|child| child.id()).collect();
    assert_eq!(ids, ["left", "right"]);
    for child in &children {
        assert_eq!(
            parent
                .element(&format!("#{}", child.id()), None)?
                .attr("data-phx-parent-id")?,
            Some(parent.id())
        );
    }
    let left = &children[0];
    assert_eq!(left.element(".tally", None)?.text()?, "left: 0");

    // A click in the child goes to the child's process.
    left.element(".more", None)?.click().await?;
    left.element(".more", None)?.click().await?;
    assert_eq!(left.element(".tally", None)?.text()?, "left: 2");
    let right = parent.live_child("right").await?;
    assert_eq!(right.element(".tally", None)?.text()?, "right: 0");
    right.render_click("tally", json!({})).await?;
    assert_eq!(right.element(".tally", None)?.text()?, "right: 1");

    // The parent renders again without touching its children.
    parent.element("#retitle", None)?.click().await?;
    assert_eq!(parent.element("h1", None)?.text()?, "Renamed");
    assert!(parent
        .diffs()
        .iter()
        .all(|diff| !diff.to_string().contains("left: ")));
    assert_eq!(left.element(".tally", None)?.text()?, "left: 2");
    // Asking again gives the same, joined child.
    let again = parent.live_child("left").await?;
    assert_eq!(again.element(".tally", None)?.text()?, "left: 2");
    Ok(())
}

#[tokio::test]
async fn a_child_the_page_does_not_hold_is_an_error_and_a_removed_one_is_left(
) -> cinder_test::Result<()> {
    let parent = host().live("/host").await?;
    let error = parent.live_child("middle").await.unwrap_err();
    assert!(matches!(error, Error::NoElement { .. }), "{error}");
    let right = parent.live_child("right").await?;
    parent.render_click("hide", json!({})).await?;
    // The client destroyed the child whose container went away.
    let error = right.render_click("tally", json!({})).await.unwrap_err();
    assert!(matches!(error, Error::ChildRemoved { .. }), "{error}");
    assert!(error
        .to_string()
        .contains("`right` is no longer on its parent's page"));
    let ids: Vec<String> = parent
        .live_children()
        .await?
        .iter()
        .map(|child| child.id())
        .collect();
    assert_eq!(ids, ["left"]);
    Ok(())
}
