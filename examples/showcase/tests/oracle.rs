//! The harness against the official client on real sessions: the diffs a
//! sequence of events on `/components` and `/feed` brought are replayed
//! through `phoenix_live_view`'s own `Rendered` in node
//! (`assets/merge-oracle.mjs`), and after every event the harness must
//! show what the client renders.
//!
//! Needs node and `assets/node_modules` (`npm ci --prefix assets`); without
//! them the tests print why and pass, except under CI, where they fail.

mod common;

use cinder_test::oracle::{compare, Oracle, Step};
use cinder_test::View;
use serde_json::Value;

fn oracle() -> Option<Oracle> {
    match Oracle::locate() {
        Ok(oracle) => Some(oracle),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("the merge oracle is needed under CI: {why}")
        }
        Err(why) => {
            eprintln!("skipping the cross-check with the official client: {why}");
            None
        }
    }
}

/// What the harness showed after one event: the event, how many diffs
/// the view had received then, and the page.
struct Snapshot {
    after: String,
    diffs: usize,
    html: String,
    ids: Vec<String>,
}

fn snapshot(view: &View, after: &str, container: &str) -> Snapshot {
    let html = view.html();
    Snapshot {
        after: after.to_string(),
        diffs: view.diffs().len(),
        ids: children(&html, container)
            .into_iter()
            .map(|(id, _)| id)
            .collect(),
        html,
    }
}

/// The id and HTML of each child of `container` in `html`.
fn children(html: &str, container: &str) -> Vec<(String, String)> {
    let document = scraper::Html::parse_fragment(html);
    let selector = scraper::Selector::parse(&format!("{container} > *")).unwrap();
    document
        .select(&selector)
        .map(|child| {
            (
                child.attr("id").unwrap_or_default().to_string(),
                child.html(),
            )
        })
        .collect()
}

/// The client's steps for every diff the view received, checked against
/// the harness's merge of the same diffs.
fn replay(oracle: &Oracle, view: &View) -> Vec<Step> {
    let diffs = view.diffs();
    let steps = match oracle
        .replay(&[(view.id(), diffs.clone())])
        .unwrap()
        .remove(0)
    {
        Ok(steps) => steps,
        Err((step, error)) => panic!("the client threw on diff {step}: {error}"),
    };
    if let Err(mismatch) = compare(&view.id(), &diffs, Ok(steps.clone())) {
        panic!("{mismatch}");
    }
    steps
}

/// The client's HTML as a browser parses it, to compare with the page.
fn parsed(html: &str) -> String {
    scraper::Html::parse_fragment(html)
        .root_element()
        .inner_html()
}

#[tokio::test]
async fn components_match_the_client_after_every_event() -> cinder_test::Result<()> {
    let Some(oracle) = oracle() else {
        return Ok(());
    };
    let view = common::showcase().await.live("/components").await?;
    let card = |n: usize, button: &str| format!("#cards section.card:nth-of-type({n}) .{button}");
    let mut snapshots = Vec::new();
    for step in [
        card(2, "inc"),
        card(1, "dec"),
        "#reset".to_string(),
        card(3, "crash"),
        card(1, "inc"),
        "#cards .cinder-crashed button".to_string(),
        "#remove".to_string(),
        "#add".to_string(),
        "#add".to_string(),
        card(4, "inc"),
        card(1, "share"),
        "#remove".to_string(),
        "#remove".to_string(),
        "#add".to_string(),
    ] {
        view.element(&step, None)?.click().await?;
        snapshots.push(snapshot(&view, &step, "#cards"));
    }
    let steps = replay(&oracle, &view);
    for shown in snapshots {
        let client = &steps[shown.diffs - 1];
        assert_eq!(shown.html, parsed(&client.html), "after {}", shown.after);
    }
    assert_eq!(view.destroyed_components(), [3, 5, 4]);
    Ok(())
}

/// The ids a stream container holds after the client's stream operations
/// (`[ref, inserts, deletes, reset]`, inserts as `[id, at, limit, ...]`),
/// applied as the client's DOM patch applies them.
fn apply_streams(ids: &mut Vec<String>, streams: &[Value]) {
    for stream in streams {
        if stream.get(3).and_then(Value::as_bool) == Some(true) {
            ids.clear();
        }
        for deleted in stream[2].as_array().into_iter().flatten() {
            ids.retain(|id| Some(id.as_str()) != deleted.as_str());
        }
        for insert in stream[1].as_array().into_iter().flatten() {
            let id = insert[0].as_str().unwrap().to_string();
            let at = insert[1].as_i64().unwrap_or(-1);
            let existing = ids.iter().position(|other| *other == id);
            match (existing, at) {
                (Some(_), -1) => {}
                (Some(index), at) => {
                    ids.remove(index);
                    ids.insert((at as usize).min(ids.len()), id);
                }
                (None, -1) => ids.push(id),
                (None, at) => ids.insert((at as usize).min(ids.len()), id),
            }
            match insert[2].as_i64() {
                Some(limit) if limit < 0 && ids.len() > limit.unsigned_abs() as usize => {
                    let excess = ids.len() - limit.unsigned_abs() as usize;
                    ids.drain(..excess);
                }
                Some(limit) if limit >= 0 && ids.len() > limit as usize => {
                    ids.truncate(limit as usize);
                }
                _ => {}
            }
        }
    }
}

#[tokio::test]
async fn the_feed_matches_the_client_after_every_event() -> cinder_test::Result<()> {
    let Some(oracle) = oracle() else {
        return Ok(());
    };
    let view = common::showcase().await.live("/feed").await?;
    let posts = view.element("#posts", None)?;
    let mut snapshots = Vec::new();
    let mut check = |view: &View, after: &str| snapshots.push(snapshot(view, after, "#posts"));
    check(&view, "the join");
    for round in 0..4 {
        posts.viewport_bottom().await?;
        check(&view, &format!("load-more {round}"));
    }
    view.element("#publish", None)?.click().await?;
    check(&view, "publish");
    view.element("#posts-1000001 .delete", None)?
        .click()
        .await?;
    check(&view, "delete the new post");
    view.element("#posts-50 .delete", None)?.click().await?;
    check(&view, "delete posts-50");
    for round in 0..2 {
        view.element("#publish", None)?.click().await?;
        check(&view, &format!("publish {round}"));
    }
    posts.viewport_bottom().await?;
    check(&view, "load-more after publishing");

    // The client's stream operations, step by step, give the posts the
    // page must hold after each event; each post's HTML is the client's.
    let steps = replay(&oracle, &view);
    let mut ids = Vec::new();
    let mut applied = 0;
    for shown in &snapshots {
        for step in &steps[applied..shown.diffs] {
            apply_streams(&mut ids, &step.streams);
        }
        applied = shown.diffs;
        assert_eq!(shown.ids, ids, "after {}", shown.after);
    }
    assert_eq!(ids.len(), 60);
    let page: std::collections::HashMap<String, String> =
        children(&view.html(), "#posts").into_iter().collect();
    let mut compared = 0;
    for step in &steps {
        for (id, client) in children(&parsed(&step.html), "#posts") {
            if let Some(shown) = page.get(&id) {
                // The client's DOM patch marks each stream child with its
                // stream's ref, as the harness's page does; the render
                // has no such mark.
                assert!(shown.contains(" data-phx-stream=\"0\""), "{shown}");
                assert_eq!(
                    shown.replace(" data-phx-stream=\"0\"", ""),
                    client,
                    "the post {id} as the client renders it"
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 60, "every post on the page came from a step");
    Ok(())
}
