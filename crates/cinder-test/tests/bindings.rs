//! What the harness sends for bindings the client drives itself: window
//! key bindings filtered by `phx-key`, JS pushes and viewport bindings, and
//! forms whose `phx-submit` is a JS command list.

use cinder::live::{Config, Event, LiveRouter, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};
use cinder_test::{Error, LiveTest};
use serde_json::{json, Value};

/// Lists every event it gets as `kind name value`.
struct Log {
    events: Vec<String>,
}

impl LiveView for Log {
    type Info = ();

    async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> {
        Ok(Log { events: Vec::new() })
    }

    async fn handle_event(&mut self, event: Event, _: &mut Socket<Self>) {
        let value = match event.value() {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        self.events
            .push(format!("{} {} {value}", event.kind(), event.name()));
    }

    fn render(&self) -> Rendered {
        let add = r##"[["push",{"event":"add","value":{"from":"js"}}],["hide",{"to":"#panel"}]]"##;
        let only_js = r##"[["hide",{"to":"#panel"}]]"##;
        html! {
            <main>
                <div id="any" phx-window-keydown="any" phx-value-where="window"></div>
                <div id="pause" phx-window-keydown="pause" phx-key="p"></div>
                <ul id="items" phx-viewport-bottom="more" phx-viewport-top="less" phx-value-list="items">
                    <li id="item-1">"one"</li>
                    <li id="item-2">"two"</li>
                </ul>
                <form id="panel" phx-submit={add}>
                    <input type="text" name="title" value="">
                </form>
                <form id="inert" phx-submit={only_js}></form>
                <ol id="log">
                    @for event in &self.events {
                        <li>{event.as_str()}</li>
                    }
                </ol>
            </main>
        }
    }
}

fn log() -> LiveTest {
    LiveTest::new(
        LiveRouter::new(Config::random())
            .live::<Log>("/log")
            .into_router(),
    )
}

#[tokio::test]
async fn a_key_on_the_window_reaches_each_binding_its_phx_key_lets_through(
) -> cinder_test::Result<()> {
    let view = log().live("/log").await?;
    view.window_keydown("ArrowLeft").await?;
    view.window_keydown("P").await?;
    assert_eq!(
        view.texts("#log li")?,
        [
            r#"keydown any {"key":"ArrowLeft","where":"window"}"#,
            r#"keydown any {"key":"P","where":"window"}"#,
            r#"keydown pause {"key":"P"}"#,
        ]
    );
    let error = view.window_keyup("a").await.unwrap_err();
    assert!(
        matches!(&error, Error::NoElement { selector, .. } if selector == "[phx-window-keyup]"),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn viewport_bindings_push_the_edge_childs_id() -> cinder_test::Result<()> {
    let view = log().live("/log").await?;
    let items = view.element("#items", None)?;
    items.viewport_bottom().await?;
    items.viewport_top().await?;
    items.js_push("again", json!({"n": 1})).await?;
    assert_eq!(
        view.texts("#log li")?,
        [
            r#"js more {"id":"item-2","list":"items"}"#,
            r#"js less {"id":"item-1","list":"items"}"#,
            r#"js again {"list":"items","n":1}"#,
        ]
    );
    let error = view
        .element("#log", None)?
        .viewport_bottom()
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("has no `phx-viewport-bottom`"),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn a_js_command_submit_sends_its_push() -> cinder_test::Result<()> {
    let view = log().live("/log").await?;
    view.form("#panel")?
        .with(&[("title", "Tea")])
        .submit()
        .await?;
    // The fields, and the push's value in the meta.
    assert_eq!(
        view.texts("#log li")?,
        [r#"form add {"from":"js","title":"Tea"}"#]
    );
    let error = view.form("#inert")?.submit().await.unwrap_err();
    assert!(
        error.to_string().contains("phx-submit with a push command"),
        "{error}"
    );
    Ok(())
}
