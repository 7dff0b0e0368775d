//! Live views over the real HTTP and WebSocket path, frame by frame as the
//! official client sends them: dead render, cookie session and CSRF, join,
//! events, server pushes, and the refusals a forged request gets.

mod common;

use cinder::live::{CheckOrigin, Config};
use common::{app, connect, get, get_with_cookie, join, join_at, joined_counter, recv, send, Page};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;

#[tokio::test]
async fn the_dead_render_carries_the_container_tokens_and_a_session_cookie() {
    let app = app().await;
    let page = get(&app, "/counter?start=5").await;
    assert_eq!(page.status, 200);
    assert!(page.cookie.starts_with("_cinder_session="));
    assert!(page.id.starts_with("phx-"));
    assert!(page.html.contains(r#"data-phx-main data-phx-session=""#));
    assert!(page.html.contains(r#"<p id="count">5</p>"#));
    assert!(page.html.contains("<title>Count 5</title>"));
}

#[tokio::test]
async fn the_dead_render_is_an_html_document_in_the_default_root_layout() {
    let app = app().await;
    let page = get(&app, "/counter?start=5").await;
    assert!(
        page.head
            .to_ascii_lowercase()
            .contains("content-type: text/html; charset=utf-8"),
        "{}",
        page.head
    );
    assert!(
        page.html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
        "{}",
        page.html
    );
    let container = format!(r#"<div id="{}" data-phx-main data-phx-session=""#, page.id);
    let after_head = page
        .html
        .find("</head>\n<body>\n")
        .expect("a head, then the body");
    assert_eq!(
        page.html.find(&container),
        Some(after_head + "</head>\n<body>\n".len())
    );
    assert!(
        page.html.ends_with(
            r#"<p id="count">5</p></div>
</body>
</html>
"#
        ),
        "{}",
        page.html
    );
}

/// An app's own root layout gets the head's parts and the view's whole
/// container, as the default layout does.
fn framed_layout(page: &cinder::live::RootPage<'_>) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>[{}]</title>{}</head><body><main>{}</main></body></html>",
        page.title, page.head, page.container
    )
}

#[tokio::test]
async fn the_dead_render_is_written_in_the_apps_own_root_layout() {
    let router = cinder::live::LiveRouter::new(Config::new([7u8; 32]).unwrap())
        .root_layout(framed_layout)
        .live::<common::Counter>("/counter")
        .into_router();
    let app = common::serve(router).await;
    let page = get(&app, "/counter?start=5").await;
    assert_eq!(page.status, 200);
    assert!(
        page.html.contains("<title>[Count 5]</title>"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains(r#"<meta name="csrf-token" content=""#),
        "{}",
        page.html
    );
    let container = format!(
        r#"<main><div id="{}" data-phx-main data-phx-session=""#,
        page.id
    );
    assert!(page.html.contains(&container), "{}", page.html);
    assert!(
        page.html
            .ends_with(r#"<p id="count">5</p></div></main></body></html>"#),
        "{}",
        page.html
    );
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let joined = join(&mut client, &page, "?start=5").await;
    assert_eq!(
        joined[4]["status"], "ok",
        "the page's tokens join: {joined}"
    );
}

#[tokio::test]
async fn a_refused_mount_answers_with_its_status_and_an_escaped_message() {
    let app = app().await;
    let page = get(&app, "/counter?forbidden=1").await;
    assert_eq!(page.status, 403);
    assert!(page.html.contains("not &lt;yours&gt;"));
}

#[tokio::test]
async fn a_joined_view_renders_connected_and_answers_events_with_diffs() {
    let app = app().await;
    let page = get(&app, "/counter?start=5").await;
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let topic = format!("lv:{}", page.id);
    let joined = join(&mut client, &page, "?start=5").await;
    assert_eq!(joined[4]["status"], "ok", "{joined}");
    assert_eq!(
        joined[4]["response"]["rendered"],
        json!({"0": "5", "s": ["<p id=\"count\">", "</p>"], "r": 1, "t": "Count 5"})
    );
    assert_eq!(joined[4]["response"]["liveview_version"], "1.2.12");

    // The timer set in mount arrives as a pushed diff.
    assert_eq!(
        recv(&mut client).await,
        json!(["4", null, topic, "diff", {"0": "105"}])
    );

    send(
        &mut client,
        json!(["4", "5", topic, "event", {"type": "click", "event": "inc", "value": {"by": "2"}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await,
        json!(["4", "5", topic, "phx_reply", {"status": "ok", "response": {"diff": {"0": "107"}}}])
    );
    // Without `by`, the step comes from the router's state.
    send(
        &mut client,
        json!(["4", "55", topic, "event", {"type": "click", "event": "inc", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"diff": {"0": "117"}})
    );
    send(
        &mut client,
        json!(["4", "6", topic, "event", {"type": "click", "event": "noop", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await,
        json!(["4", "6", topic, "phx_reply", {"status": "ok", "response": {}}])
    );
}

#[tokio::test]
async fn a_crashing_handler_gets_phx_error_and_the_rejoin_mounts_again() {
    let app = app().await;
    let (page, mut client, topic) = joined_counter(&app).await;
    send(
        &mut client,
        json!(["4", "5", topic, "event", {"type": "click", "event": "boom", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await,
        json!(["4", "4", topic, "phx_error", {"reason": "channel_crash"}])
    );
    assert_eq!(join(&mut client, &page, "").await[4]["status"], "ok");
}

#[tokio::test]
async fn a_forged_csrf_token_makes_every_join_stale() {
    let app = app().await;
    let page = get(&app, "/counter").await;
    let mut client = connect(&app, &page.cookie, "forged", None).await.unwrap();
    let reply = join(&mut client, &page, "").await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "stale"}})
    );
}

/// The socket's query is URL-decoded before its token is checked, as a
/// client that escapes every character would send it; an empty token is
/// no token.
#[tokio::test]
async fn the_socket_reads_its_csrf_token_decoded_from_the_query() {
    let app = app().await;
    let page = get(&app, "/counter").await;
    let escaped: String = page.csrf.bytes().map(|b| format!("%{b:02X}")).collect();
    let mut client = connect(&app, &page.cookie, &escaped, None).await.unwrap();
    assert_eq!(join(&mut client, &page, "").await[4]["status"], "ok");
    let mut client = connect(&app, &page.cookie, "", None).await.unwrap();
    assert_eq!(
        join(&mut client, &page, "").await[4]["response"]["reason"],
        "stale"
    );
}

#[tokio::test]
async fn a_session_token_for_another_container_or_tampered_is_stale() {
    let app = app().await;
    let page = get(&app, "/counter").await;
    let other = get(&app, "/counter").await;
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let borrowed = Page {
        session: other.session.clone(),
        ..page
    };
    assert_eq!(
        join(&mut client, &borrowed, "").await[4]["response"]["reason"],
        "stale"
    );
    let tampered = Page {
        session: format!("x{}", other.session),
        id: other.id.clone(),
        ..borrowed
    };
    assert_eq!(
        join(&mut client, &tampered, "").await[4]["response"]["reason"],
        "stale"
    );
}

#[tokio::test]
async fn a_socket_from_another_origin_is_refused() {
    let app = app().await;
    let page = get(&app, "/counter").await;
    let refused = connect(&app, &page.cookie, &page.csrf, Some("http://evil.example")).await;
    assert_eq!(refused.err(), Some(403));
    let same = format!("http://{}", app.address);
    assert!(connect(&app, &page.cookie, &page.csrf, Some(&same))
        .await
        .is_ok());

    let config = Config::new([7u8; 32])
        .unwrap()
        .check_origin(CheckOrigin::Allow(vec!["https://app.example".into()]));
    let app = common::app_with(config).await;
    let page = get(&app, "/counter").await;
    let allowed = connect(&app, &page.cookie, &page.csrf, Some("https://app.example")).await;
    assert!(allowed.is_ok());
    let own = format!("http://{}", app.address);
    let refused = connect(&app, &page.cookie, &page.csrf, Some(&own)).await;
    assert_eq!(refused.err(), Some(403), "only the listed origins");
}

#[tokio::test]
async fn events_titles_and_hook_replies_ride_along_with_the_diff() {
    let app = app().await;
    let page = get(&app, "/counter").await;
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let topic = format!("lv:{}", page.id);
    let joined = join(&mut client, &page, "").await;
    assert_eq!(joined[4]["response"]["rendered"]["t"], "Count 0");
    recv(&mut client).await; // the timer's diff

    send(
        &mut client,
        json!(["4", "5", topic, "event", {"type": "hook", "event": "ping", "value": {"n": 1}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"diff": {"r": {"pong": {"n": 1}}}})
    );
    send(
        &mut client,
        json!(["4", "6", topic, "event", {"type": "click", "event": "ping", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({}),
        "no reply outside hooks"
    );

    send(
        &mut client,
        json!(["4", "7", topic, "event", {"type": "click", "event": "highlight", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"diff": {"e": [["highlight", {"id": 100}]], "t": "Count 100"}})
    );
}

#[tokio::test]
async fn handle_params_follows_the_url_through_patches() {
    let app = app().await;
    let page = get(&app, "/pager?page=3").await;
    assert!(page.html.contains(r#"<p id="page">3</p>"#));
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let topic = format!("lv:{}", page.id);
    let joined = join_at(&mut client, &page, "http://localhost/pager?page=3").await;
    assert_eq!(joined[4]["response"]["rendered"]["0"], "3");

    // A patch link, or the back button: the client sends the new URL.
    send(
        &mut client,
        json!(["4", "5", topic, "live_patch", {"url": "http://localhost/pager?page=5"}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"diff": {"0": "5"}})
    );

    // A URL of another view: the client must navigate instead.
    send(
        &mut client,
        json!(["4", "6", topic, "live_patch", {"url": "http://localhost/counter"}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"link_redirect": true})
    );

    // push_patch from a handler: the client is told the URL, then gets the diff.
    send(
        &mut client,
        json!(["4", "7", topic, "event", {"type": "click", "event": "next", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await,
        json!(["4", null, topic, "live_patch", {"to": "/pager?page=6", "kind": "push"}])
    );
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"diff": {"0": "6"}})
    );
}

#[tokio::test]
async fn a_patch_while_mounting_redirects_the_dead_render_and_rides_on_the_join() {
    let app = app().await;
    let redirected = get(&app, "/pager?page=0").await;
    assert_eq!(redirected.status, 302);

    let page = get(&app, "/pager?page=2").await;
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let joined = join_at(&mut client, &page, "http://localhost/pager?page=0").await;
    assert_eq!(
        joined[4]["response"]["live_patch"],
        json!({"to": "/pager?page=1", "kind": "replace"})
    );
    assert_eq!(joined[4]["response"]["rendered"]["0"], "1");
}

#[tokio::test]
async fn push_navigate_leaves_and_the_client_joins_the_next_view_on_the_same_topic() {
    let app = app().await;
    let (page, mut client, topic) = joined_counter(&app).await;

    send(
        &mut client,
        json!(["4", "5", topic, "event", {"type": "click", "event": "go", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"live_redirect": {"to": "/pager?page=2", "kind": "push"}})
    );
    assert_eq!(
        recv(&mut client).await,
        json!(["4", "4", topic, "phx_close", {}])
    );

    // The client keeps the element and its session token, and joins with `redirect`.
    send(
        &mut client,
        json!(["8", "8", topic, "phx_join", {"redirect": "http://localhost/pager?page=2", "params": {}, "session": page.session}]),
    )
    .await;
    let joined = recv(&mut client).await;
    assert_eq!(joined[4]["status"], "ok", "{joined}");
    assert_eq!(joined[4]["response"]["rendered"]["0"], "2");

    // Another live session is out of reach: the client then loads the page.
    send(
        &mut client,
        json!(["9", "9", topic, "phx_join", {"redirect": "http://localhost/admin/pager", "params": {}, "session": page.session}]),
    )
    .await;
    let frames = [recv(&mut client).await, recv(&mut client).await];
    let refused = frames.iter().find(|frame| frame[3] == "phx_reply").unwrap();
    assert_eq!(
        refused[4],
        json!({"status": "error", "response": {"reason": "unauthorized"}})
    );
}

#[tokio::test]
async fn redirect_sends_pending_events_first_then_leaves() {
    let app = app().await;
    let (_, mut client, topic) = joined_counter(&app).await;

    send(
        &mut client,
        json!(["4", "5", topic, "event", {"type": "click", "event": "away", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut client).await,
        json!(["4", null, topic, "diff", {"e": [["bye", {}]]}])
    );
    assert_eq!(
        recv(&mut client).await[4]["response"],
        json!({"redirect": {"to": "/elsewhere"}})
    );
    assert_eq!(
        recv(&mut client).await,
        json!(["4", "4", topic, "phx_close", {}])
    );
}

#[tokio::test]
async fn a_flash_shows_in_the_layout_and_clears_itself() {
    let app = app().await;
    let (_, mut client, topic) = joined_counter(&app).await;

    send(
        &mut client,
        json!(["4", "5", topic, "event", {"type": "click", "event": "notify", "value": {}}]),
    )
    .await;
    let shown = recv(&mut client).await[4]["response"]["diff"].to_string();
    assert!(
        shown.contains("Saved") && shown.contains("lv:clear-flash"),
        "{shown}"
    );

    send(
        &mut client,
        json!(["4", "6", topic, "event", {"type": "click", "event": "lv:clear-flash", "value": {"key": "info"}}]),
    )
    .await;
    let cleared = recv(&mut client).await[4]["response"]["diff"].to_string();
    assert!(!cleared.contains("Saved"), "{cleared}");
}

#[tokio::test]
async fn a_flash_travels_with_a_live_redirect() {
    let app = app().await;
    let (page, mut client, topic) = joined_counter(&app).await;

    send(
        &mut client,
        json!(["4", "5", topic, "event", {"type": "click", "event": "go_with_flash", "value": {}}]),
    )
    .await;
    let reply = recv(&mut client).await;
    let flash = reply[4]["response"]["live_redirect"]["flash"]
        .as_str()
        .unwrap()
        .to_string();
    recv(&mut client).await; // phx_close
    send(
        &mut client,
        json!(["8", "8", topic, "phx_join", {"redirect": "http://localhost/pager?page=2", "params": {}, "session": page.session, "flash": flash}]),
    )
    .await;
    let joined = recv(&mut client).await;
    assert!(
        joined[4]["response"]["rendered"]
            .to_string()
            .contains("Moved"),
        "{joined}"
    );
}

#[tokio::test]
async fn a_flash_travels_with_a_redirect_through_the_cookie_and_the_static_token() {
    let app = app().await;
    let (page, mut client, topic) = joined_counter(&app).await;

    send(&mut client, json!(["4", "5", topic, "event", {"type": "click", "event": "away_with_flash", "value": {}}])).await;
    let reply = recv(&mut client).await;
    let flash = reply[4]["response"]["redirect"]["flash"]
        .as_str()
        .unwrap()
        .to_string();

    // The client stores the flash in a cookie and loads the page.
    let cookies = format!("{}; __phoenix_flash__={flash}", page.cookie);
    let next = get_with_cookie(&app, "/counter", &cookies).await;
    assert!(next.html.contains("Gone &lt;now&gt;"), "{}", next.html);
    assert!(
        next.head.contains("__phoenix_flash__=; Path=/; Max-Age=0"),
        "{}",
        next.head
    );

    // The connected mount shows it too, from the static token.
    let mut client = connect(&app, &page.cookie, &next.csrf, None).await.unwrap();
    let static_token = next
        .html
        .split(r#"data-phx-static=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    send(
        &mut client,
        json!(["4", "4", format!("lv:{}", next.id), "phx_join", {"url": "http://localhost/counter", "params": {}, "session": next.session, "static": static_token}]),
    )
    .await;
    let joined = recv(&mut client).await;
    assert!(
        joined[4]["response"]["rendered"]
            .to_string()
            .contains("Gone &lt;now&gt;"),
        "{joined}"
    );

    // A rejoin (after a crash or a reconnect) does not show it again.
    send(
        &mut client,
        json!(["5", "5", format!("lv:{}", next.id), "phx_join", {"url": "http://localhost/counter", "params": {"_mounts": 1}, "session": next.session, "static": static_token}]),
    )
    .await;
    let frames = [recv(&mut client).await, recv(&mut client).await];
    let rejoined = frames.iter().find(|frame| frame[3] == "phx_reply").unwrap();
    assert!(
        !rejoined[4]["response"]["rendered"]
            .to_string()
            .contains("Gone"),
        "{rejoined}"
    );

    // A forged flash cookie shows nothing, and a page with no flash has an
    // empty static token: there is nothing for it to carry.
    let forged = get_with_cookie(&app, "/counter", "__phoenix_flash__=forged.token").await;
    assert!(!forged.html.contains(r#"id="flash""#));
    assert!(
        forged.html.contains(r#"data-phx-static="""#),
        "{}",
        forged.html
    );
}

#[tokio::test]
async fn the_page_loads_the_client_and_the_stylesheet_from_the_server() {
    let app = app().await;
    let page = get(&app, "/counter").await;
    assert!(page.html.starts_with("<!DOCTYPE html>"));
    assert!(page
        .html
        .contains(r#"<link rel="stylesheet" href="/assets/cinder.css">"#));
    for path in [
        "/assets/phoenix/phoenix.min.js",
        "/assets/phoenix_live_view/phoenix_live_view.esm.js",
        "/assets/cinder.css",
    ] {
        let asset = get(&app, path).await;
        assert_eq!(asset.status, 200, "{path}");
        assert!(!asset.html.is_empty(), "{path}");
    }
}

#[tokio::test]
async fn on_mount_guards_every_mount_of_its_live_session() {
    let app = app().await;
    let refused = get(&app, "/admin/pager").await;
    assert_eq!(refused.status, 403);
    assert!(refused.html.contains("a key is needed"));

    let page = get(&app, "/admin/pager?key=open").await;
    assert_eq!(page.status, 200);
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let opened = join_at(&mut client, &page, "http://localhost/admin/pager?key=open").await;
    assert_eq!(opened[4]["status"], "ok");
    let closed = join_at(&mut client, &page, "http://localhost/admin/pager").await;
    let frames = [closed, recv(&mut client).await];
    let reply = frames.iter().find(|frame| frame[3] == "phx_reply").unwrap();
    assert_eq!(reply[4]["response"], json!({"reason": "unauthorized"}));

    // Views outside the session are not guarded.
    assert_eq!(get(&app, "/pager").await.status, 200);
}

#[tokio::test]
async fn bad_input_gets_its_answer_and_a_neighbour_never_notices() {
    let app = app().await;
    let neighbour_page = get(&app, "/pager").await;
    let mut neighbour = connect(&app, &neighbour_page.cookie, &neighbour_page.csrf, None)
        .await
        .unwrap();
    let neighbour_topic = format!("lv:{}", neighbour_page.id);
    join_at(&mut neighbour, &neighbour_page, "http://localhost/pager").await;

    // No CSRF token at all: the session is not trusted, the join is stale.
    let page = get(&app, "/pager").await;
    let mut no_csrf = connect(&app, &page.cookie, "", None).await.unwrap();
    let stale = join_at(&mut no_csrf, &page, "http://localhost/pager").await;
    assert_eq!(stale[4]["response"], json!({"reason": "stale"}));

    // An event the view does not handle: an empty reply, the view goes on.
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let topic = format!("lv:{}", page.id);
    join_at(&mut client, &page, "http://localhost/pager").await;
    send(
        &mut client,
        json!(["4", "5", topic, "event", {"type": "click", "event": "nonsense", "value": {}}]),
    )
    .await;
    assert_eq!(recv(&mut client).await[4]["response"], json!({}));
    // An event whose payload is not JSON: the same, the view goes on.
    let not_json =
        format!(r#"["4","6","{topic}","event",{{"type":"click","event":"next","value":}}]"#);
    client
        .send(tokio_tungstenite::tungstenite::Message::Text(
            not_json.into(),
        ))
        .await
        .unwrap();
    assert_eq!(recv(&mut client).await[4]["response"], json!({}));
    send(
        &mut client,
        json!(["4", "6", topic, "event", {"type": "click", "event": "next", "value": {}}]),
    )
    .await;
    assert_eq!(recv(&mut client).await[3], "live_patch");

    // A message over the size limit closes that connection only.
    let huge = format!(
        r#"["4","7","{topic}","event",{{"type":"click","event":"x","value":{{"v":"{}"}}}}]"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let _ = client
        .send(tokio_tungstenite::tungstenite::Message::Text(huge.into()))
        .await;
    let closed = tokio::time::timeout(common::PATIENCE, async {
        loop {
            match client.next().await {
                None
                | Some(Err(_))
                | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the oversized message closes the connection"
    );

    send(&mut neighbour, json!(["4", "5", neighbour_topic, "event", {"type": "click", "event": "next", "value": {}}])).await;
    assert_eq!(
        recv(&mut neighbour).await[3],
        "live_patch",
        "the neighbour still works"
    );
}

#[tokio::test]
async fn an_expired_session_token_is_stale() {
    let app = app().await;
    let page = get(&app, "/counter").await;
    // Signed like the router's session tokens (same secret and purpose),
    // three weeks ago: past the two-week limit.
    let signer = cinder::token::Signer::new(&[7u8; 32], "cinder live session\0");
    let three_weeks_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 21 * 24 * 60 * 60;
    let expired = signer.sign_at(&json!({"id": page.id, "view": 0}), three_weeks_ago);
    let fresh = signer.sign(&json!({"id": page.id, "view": 0}));
    let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
    let old = Page {
        session: expired,
        ..page
    };
    assert_eq!(
        join(&mut client, &old, "").await[4]["response"],
        json!({"reason": "stale"})
    );
    let new = Page {
        session: fresh,
        ..old
    };
    assert_eq!(join(&mut client, &new, "").await[4]["status"], "ok");
}

#[tokio::test]
async fn any_node_with_the_same_secret_and_salt_serves_a_page_rendered_by_another() {
    let config = || Config::new([7u8; 32]).unwrap().signing_salt("2026-11");
    let first = common::app_with(config()).await;
    let second = common::app_with(config()).await;
    let rotated = common::app_with(config().signing_salt("2026-12")).await;
    let page = get(&first, "/counter").await;

    let mut client = connect(&second, &page.cookie, &page.csrf, None)
        .await
        .unwrap();
    assert_eq!(join(&mut client, &page, "").await[4]["status"], "ok");

    let mut client = connect(&rotated, &page.cookie, &page.csrf, None)
        .await
        .unwrap();
    assert_eq!(
        join(&mut client, &page, "").await[4]["response"],
        json!({"reason": "stale"})
    );
}

#[tokio::test]
async fn the_join_reply_always_comes_before_the_first_update() {
    let app = app().await;
    for _ in 0..50 {
        let page = get(&app, "/counter?now=1").await;
        let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
        let first = join(&mut client, &page, "?now=1").await;
        assert_eq!(
            first[3], "phx_reply",
            "the client drops updates that come first: {first}"
        );
        assert_eq!(recv(&mut client).await[3], "diff");
    }
}

/// Joins the counter with `?burst=…`: the view finds those messages for
/// `handle_info` all waiting when its connected mount ends.
async fn joined_counter_with_burst(app: &common::App, burst: &str) -> (common::Client, String) {
    let page = get(app, "/counter").await;
    let mut client = connect(app, &page.cookie, &page.csrf, None).await.unwrap();
    let joined = join(&mut client, &page, &format!("?burst={burst}")).await;
    assert_eq!(joined[4]["status"], "ok", "{joined}");
    (client, format!("lv:{}", page.id))
}

#[tokio::test]
async fn messages_queued_together_are_handled_before_one_render() {
    let app = app().await;
    let (mut client, topic) = joined_counter_with_burst(&app, "1,2,3").await;
    assert_eq!(
        recv(&mut client).await,
        json!(["4", null, topic, "diff", {"0": "6"}])
    );
    // No diff per message follows: the next frame answers the next event.
    assert_next_frame_answers_a_noop(&mut client, &topic).await;
}

/// Sends an event that changes nothing and checks that the next frame is
/// its reply, `{}`: no diff was left to come before it.
async fn assert_next_frame_answers_a_noop(client: &mut common::Client, topic: &str) {
    send(
        client,
        json!(["4", "9", topic, "event", {"type": "click", "event": "noop", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(client).await,
        json!(["4", "9", topic, "phx_reply", {"status": "ok", "response": {}}])
    );
}

#[tokio::test]
async fn messages_that_change_nothing_on_the_page_still_send_their_events() {
    let app = app().await;
    // The count falls by 2 and rises by 2 before the one render: the page
    // is unchanged, but the event the fall pushed goes out, alone.
    let (mut client, topic) = joined_counter_with_burst(&app, "-2,2").await;
    assert_eq!(
        recv(&mut client).await,
        json!(["4", null, topic, "diff", {"e": [["fell", {"by": -2}]]}])
    );
    assert_next_frame_answers_a_noop(&mut client, &topic).await;
}

#[tokio::test]
async fn a_flood_of_messages_still_shows_every_sixty_fourth() {
    let app = app().await;
    let ones = vec!["1"; 65].join(",");
    let (mut client, topic) = joined_counter_with_burst(&app, &ones).await;
    for shown in ["64", "65"] {
        assert_eq!(
            recv(&mut client).await,
            json!(["4", null, topic, "diff", {"0": shown}]),
            "a render after at most 64 messages"
        );
    }
}

#[tokio::test]
async fn a_message_that_navigates_ends_the_run_before_the_next() {
    let app = app().await;
    // Had the last message been handled, its event would go out first.
    let burst = format!("1,{},-5", common::NAVIGATE_AWAY);
    let (mut client, topic) = joined_counter_with_burst(&app, &burst).await;
    let first = recv(&mut client).await;
    assert_eq!(first[2], topic, "{first}");
    assert_eq!(first[3], "live_redirect", "{first}");
    assert_eq!(first[4]["to"], "/pager?page=2", "{first}");
    let next = recv(&mut client).await;
    assert_eq!(next[3], "phx_close", "{next}");
}
