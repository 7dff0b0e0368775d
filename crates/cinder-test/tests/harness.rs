//! The harness against a view made to show what it receives: each event's
//! name, type and value as the server decoded them, so these tests check the
//! payloads the harness sends as well as the page it keeps.

use cinder::live::{Config, Event, LiveRouter, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};
use cinder_test::{Error, LiveTest, RedirectKind};
use serde_json::{json, Value};

struct Lab {
    last: Value,
    from: String,
}

const JS_PUSH: &str = r##"[["push",{"event":"js","value":{"from":"js"}}],["add_class",{"names":["busy"],"to":"#js"}]]"##;
const JS_ONLY: &str = r##"[["add_class",{"names":["busy"],"to":"#only-js"}]]"##;

impl LiveView for Lab {
    type Info = ();

    async fn mount(
        params: &Params,
        _: &Session,
        socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        if params.get("forbidden").is_some() {
            return Err(MountError::new(403, "this lab is closed"));
        }
        if params.get("bounce").is_some() {
            socket.redirect("/lab?from=bounce");
        }
        Ok(Lab {
            last: Value::Null,
            from: params.get("from").unwrap_or("start").to_string(),
        })
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        match event.name() {
            "redirect" => {
                socket.put_flash("info", "Bye");
                socket.redirect("/lab?from=redirect");
            }
            "navigate" => {
                socket.put_flash("info", "Moved");
                socket.push_navigate("/lab?from=navigate");
            }
            "ping" => socket.reply(json!({"pong": event.value()})),
            "notify" => {
                socket.push_event("toast", json!({"text": "hi"}));
                socket.set_title("Notified");
            }
            "crash" => panic!("asked to crash"),
            _ => {
                self.last =
                    json!({"event": event.name(), "type": event.kind(), "value": event.value()});
            }
        }
    }

    fn render(&self) -> Rendered {
        let last = self.last.to_string();
        html! {
            <main>
                <pre id="last">{last}</pre>
                <p id="from">{self.from.as_str()}</p>
                <button id="plain" phx-click="clicked" phx-value-id="7" value="v">"Plain"</button>
                <button class="twin" phx-click="twin">"A"</button>
                <button class="twin" phx-click="twin">"B"</button>
                <span id="inert">"no binding"</span>
                <button id="js" phx-click={JS_PUSH}>"JS"</button>
                <button id="only-js" phx-click={JS_ONLY}>"Only JS"</button>
                <input id="keys" phx-keydown="key" phx-keyup="up" phx-key="Enter" phx-focus="focused" phx-blur="blurred" value="typed">
                <form id="f" phx-change="changed" phx-submit="saved" phx-value-form="f">
                    <input type="hidden" name="f[token]" value="abc">
                    <input type="text" name="f[name]" value="">
                    <input type="text" name="f[city]" value="Paris">
                    <input type="checkbox" name="f[agree]" value="yes">
                    <select name="f[size]"><option value="s">"S"</option><option value="m" selected>"M"</option></select>
                    <textarea name="f[bio]">"hi"</textarea>
                    <input type="text" name="f[off]" value="x" disabled>
                    <button name="f[action]" value="draft">"Draft"</button>
                    <button name="f[action]" value="publish">"Publish"</button>
                </form>
                <button id="redirect" phx-click="redirect">"Leave"</button>
                <button id="navigate" phx-click="navigate">"Navigate"</button>
                <button id="notify" phx-click="notify">"Notify"</button>
                <button id="crash" phx-click="crash">"Crash"</button>
                <a id="patch" href="/lab?from=patch" data-phx-link="patch" data-phx-link-state="push">"Patch"</a>
            </main>
        }
    }

    async fn handle_params(&mut self, params: &Params, _uri: &str, _socket: &mut Socket<Self>) {
        if let Some(from) = params.get("from") {
            self.from = from.to_string();
        }
    }
}

fn lab() -> LiveTest {
    let router = LiveRouter::new(Config::random())
        .live::<Lab>("/lab")
        .into_router();
    LiveTest::new(router)
}

fn last(view: &cinder_test::View) -> Value {
    serde_json::from_str(&view.element("#last", None).unwrap().text().unwrap()).unwrap()
}

#[tokio::test]
async fn a_click_sends_phx_values_and_the_elements_value() -> cinder_test::Result<()> {
    let view = lab().live("/lab").await?;
    view.element("#plain", None)?.click().await?;
    assert_eq!(
        last(&view),
        json!({"event": "clicked", "type": "click", "value": {"id": "7", "value": "v"}})
    );
    view.element("#plain", None)?
        .with_value(json!({"extra": 1}))
        .click()
        .await?;
    assert_eq!(
        last(&view)["value"],
        json!({"id": "7", "value": "v", "extra": 1})
    );
    Ok(())
}

#[tokio::test]
async fn a_js_command_pushes_its_event_with_its_value() -> cinder_test::Result<()> {
    let view = lab().live("/lab").await?;
    view.element("#js", None)?.click().await?;
    assert_eq!(
        last(&view),
        json!({"event": "js", "type": "click", "value": {"from": "js", "value": ""}})
    );
    let error = view.element("#only-js", None)?.click().await.unwrap_err();
    assert!(
        error.to_string().contains("run only in the browser"),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn keys_focus_and_blur() -> cinder_test::Result<()> {
    let view = lab().live("/lab").await?;
    let keys = view.element("#keys", None)?;
    keys.keydown("Enter").await?;
    assert_eq!(
        last(&view),
        json!({"event": "key", "type": "keydown", "value": {"key": "Enter", "value": "typed"}})
    );
    let error = keys.keydown("a").await.unwrap_err();
    assert!(matches!(error, Error::KeyFiltered { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        "`#keys` has phx-key=\"Enter\", so the client sends nothing for the key \"a\""
    );
    keys.keyup("Enter").await?;
    assert_eq!(last(&view)["event"], "up");
    keys.focus().await?;
    assert_eq!(last(&view)["type"], "focus");
    keys.blur().await?;
    assert_eq!(last(&view)["event"], "blurred");
    view.render_keydown("direct", "Escape").await?;
    assert_eq!(
        last(&view),
        json!({"event": "direct", "type": "keydown", "value": {"key": "Escape"}})
    );
    Ok(())
}

#[tokio::test]
async fn a_change_sends_the_whole_form_with_unused_markers() -> cinder_test::Result<()> {
    let view = lab().live("/lab").await?;
    view.form("#f")?
        .with(&[("f[name]", "Ada")])
        .change()
        .await?;
    assert_eq!(
        last(&view),
        json!({"event": "changed", "type": "form", "value": {
            "f": {
                "token": "abc",
                "name": "Ada",
                "_unused_city": "", "city": "Paris",
                "_unused_size": "", "size": "m",
                "_unused_bio": "", "bio": "hi",
            },
            "form": "f",
            "_target": ["f", "name"],
        }})
    );
    // Fields touched once stay touched.
    view.form("#f")?
        .with(&[("f[city]", "Lyon"), ("f[agree]", "yes")])
        .change()
        .await?;
    let value = &last(&view)["value"];
    assert_eq!(
        value["f"]["name"], "",
        "the page shows what the server rendered back"
    );
    assert_eq!(value["f"]["city"], "Lyon");
    assert_eq!(value["f"]["agree"], "yes");
    assert!(value["f"].get("_unused_name").is_none());
    assert!(value["f"].get("_unused_city").is_none());
    assert_eq!(value["_target"], json!(["f", "city"]));
    Ok(())
}

#[tokio::test]
async fn a_submit_sends_every_field_and_the_submitter_in_place() -> cinder_test::Result<()> {
    let view = lab().live("/lab").await?;
    view.form("#f")?
        .with(&[("f[size]", "s"), ("f[bio]", "long")])
        .submitter("button[value=publish]")
        .submit()
        .await?;
    assert_eq!(
        last(&view),
        json!({"event": "saved", "type": "form", "value": {
            "f": {"token": "abc", "name": "", "city": "Paris", "size": "s", "bio": "long", "action": "publish"},
            "form": "f",
        }})
    );
    Ok(())
}

#[tokio::test]
async fn form_errors_name_what_is_wrong() -> cinder_test::Result<()> {
    let view = lab().live("/lab").await?;
    let error = view
        .form("#f")?
        .with(&[("f[nope]", "x")])
        .change()
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the form `#f` has no enabled input, select or textarea named `f[nope]`; its fields are: f[token], f[name], f[city], f[agree], f[size], f[bio]"
    );
    let error = view
        .form("#f")?
        .with(&[("f[off]", "x")])
        .submit()
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::NoField { .. }),
        "a disabled field takes nothing: {error}"
    );
    let error = view
        .form("#f")?
        .with(&[("f[size]", "xl")])
        .submit()
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the field `f[size]` of `#f` cannot take \"xl\": the select's options are [\"s\", \"m\"]"
    );
    let error = view
        .form("#f")?
        .with(&[("f[agree]", "no")])
        .submit()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("checkbox or radio whose values are [\"yes\"]"),
        "{error}"
    );
    let error = view
        .form("#f")?
        .submitter("#plain")
        .submit()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::BadSubmitter { .. }), "{error}");
    let error = view.form("#plain").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("a <form>; it matched a <button>"),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn element_errors_name_what_is_wrong() -> cinder_test::Result<()> {
    let view = lab().live("/lab").await?;
    let error = view.element("#missing", None).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("no element matched `#missing`; the view's HTML is:\n<main>"),
        "{error}"
    );
    let error = view.element("button", Some("Nope")).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("no element matched `button` with text containing \"Nope\""),
        "{error}"
    );
    let error = view.element(".twin", None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "2 elements matched `.twin`; be more specific (an id, or a text filter) so that one does"
    );
    view.element(".twin", Some("B"))?.click().await?;
    let error = view.element("#inert", None)?.click().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the element `#inert` has no `phx-click`, so the client would send nothing: <span id=\"inert\">no binding</span>"
    );
    let error = view
        .element("#plain", None)?
        .keydown("x")
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("has no `phx-keydown`"),
        "{error}"
    );
    let error = view.element("button[", None).unwrap_err();
    assert!(matches!(error, Error::BadSelector { .. }), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("`button[` is not a valid CSS selector"),
        "{error}"
    );
    assert!(view.has_element("button", Some("Plain"))?);
    assert!(!view.has_element("button", Some("Nope"))?);
    Ok(())
}

#[tokio::test]
async fn a_hook_gets_its_reply_and_push_events_are_asserted() -> cinder_test::Result<()> {
    let view = lab().live("/lab").await?;
    let reply = view.render_hook("ping", json!({"n": 1})).await?;
    assert_eq!(reply, Some(json!({"pong": {"n": 1}})));
    let reply = view
        .element("#plain", None)?
        .render_hook("other", json!({}))
        .await?;
    assert_eq!(reply, None);
    assert_eq!(last(&view)["type"], "hook");
    view.element("#notify", None)?.click().await?;
    assert_eq!(view.page_title().as_deref(), Some("Notified"));
    view.assert_push_event("toast", &json!({"text": "hi"}))
        .await?;
    let error = view
        .assert_push_event("toast", &json!({"text": "hi"}))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("expected the view to push `toast`, but it did not"),
        "{error}"
    );
    view.element("#notify", None)?.click().await?;
    let error = view
        .assert_push_event("toast", &json!({"text": "bye"}))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the view pushed `toast` with {\"text\":\"hi\"}, not {\"text\":\"bye\"}"
    );
    Ok(())
}

#[tokio::test]
async fn a_redirect_is_asserted_and_followed_with_its_flash() -> cinder_test::Result<()> {
    let view = lab().live("/lab").await?;
    let error = view.element("#redirect", None)?.click().await.unwrap_err();
    assert!(
        matches!(&error, Error::Redirected(redirect) if redirect.kind == RedirectKind::Redirect),
        "{error}"
    );
    let error = view.assert_redirect("/elsewhere").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "expected a redirect to /elsewhere, but the view redirected to /lab?from=redirect"
    );
    let redirect = view.assert_redirect("/lab?from=redirect").await?;
    assert!(redirect.flash.is_some());
    let next = view.follow_redirect().await?;
    assert_eq!(next.element("#from", None)?.text()?, "redirect");
    assert_eq!(next.element(".flash-info", None)?.text()?, "Bye");
    Ok(())
}

#[tokio::test]
async fn a_live_redirect_joins_the_next_view_on_the_same_socket() -> cinder_test::Result<()> {
    let view = lab().live("/lab").await?;
    view.element("#navigate", None)?.click().await.unwrap_err();
    let redirect = view.assert_redirect("/lab?from=navigate").await?;
    assert_eq!(redirect.kind, RedirectKind::Live);
    let next = view.follow_redirect().await?;
    assert_eq!(next.id(), view.id(), "the same container, the same topic");
    assert_eq!(next.element("#from", None)?.text()?, "navigate");
    assert_eq!(next.element(".flash-info", None)?.text()?, "Moved");
    next.element("#plain", None)?.click().await?;
    assert_eq!(last(&next)["event"], "clicked");
    Ok(())
}

#[tokio::test]
async fn patches_by_link_and_by_path() -> cinder_test::Result<()> {
    let view = lab().live("/lab").await?;
    view.element("#patch", None)?.click().await?;
    assert_eq!(view.element("#from", None)?.text()?, "patch");
    assert_eq!(view.path(), "/lab?from=patch");
    view.render_patch("/lab?from=test").await?;
    assert_eq!(view.element("#from", None)?.text()?, "test");
    let error = view.assert_patch("/lab?from=x").await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("expected a patch to /lab?from=x, but the view was not patched"),
        "{error}"
    );
    let error = view.render_patch("/other").await.unwrap_err();
    assert!(
        matches!(error, Error::Redirected(_)),
        "another view's URL navigates: {error}"
    );
    Ok(())
}

#[tokio::test]
async fn mount_failures_say_why() {
    let browser = lab();
    let error = browser.live("/lab?bounce=1").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "mounting /lab?bounce=1 redirected to /lab?from=bounce; follow it with `LiveTest::follow`"
    );
    let Error::MountRedirected { redirect, .. } = error else {
        unreachable!()
    };
    let view = browser.follow(&redirect).await.unwrap();
    assert_eq!(
        view.element("#from", None).unwrap().text().unwrap(),
        "bounce"
    );
    let error = browser.live("/lab?forbidden=1").await.unwrap_err();
    assert!(matches!(error, Error::Http { status: 403, .. }), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("GET /lab?forbidden=1 answered 403, not a live view"),
        "{error}"
    );
    let error = browser.live("/nowhere").await.unwrap_err();
    assert!(matches!(error, Error::Http { status: 404, .. }), "{error}");
}

#[tokio::test]
async fn a_crash_fails_the_event_with_the_reason() -> cinder_test::Result<()> {
    let view = lab().live("/lab").await?;
    let error = view.element("#crash", None)?.click().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the view crashed (channel_crash); its process died handling what was sent, see the server's log for the panic. `View::rejoin` mounts it again, as the client would"
    );
    view.rejoin().await?;
    view.element("#plain", None)?.click().await?;
    assert_eq!(last(&view)["event"], "clicked");
    Ok(())
}

#[tokio::test]
async fn waiting_for_what_never_comes_ends_with_a_timeout_error() -> cinder_test::Result<()> {
    let browser = lab().timeout(std::time::Duration::from_millis(300));
    let view = browser.live("/lab").await?;
    let error = view.next_update().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "waited 300ms for an update from the server, which did not come; the view may be stuck, or raise the limit with `LiveTest::timeout`"
    );
    let error = view.wait_for_element("#never", None).await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("no element matched `#never` within 300ms; the view's HTML is:"),
        "{error}"
    );
    let error = view.follow_redirect().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the view has not redirected; there is nothing to follow"
    );
    Ok(())
}
