//! `/kanban` without a browser, like `e2e/kanban.test.mjs`: the drag and
//! drop hook's `move` pushed with `render_hook`, its reply and
//! `push_event`, the move seen in a second tab and after a reload, and the
//! cards added by JS-command buttons and the panel's form.

mod common;

use serde_json::json;

fn column(view: &cinder_test::View, id: &str) -> cinder_test::Result<Vec<String>> {
    let mut cards = Vec::new();
    for n in 1..=view.count(&format!("#column-{id} > li"), None)? {
        let card = view.element(&format!("#column-{id} > li:nth-child({n})"), None)?;
        cards.push(card.attr("id")?.unwrap_or_default());
    }
    Ok(cards)
}

#[tokio::test]
async fn a_moved_card_gets_the_reply_and_moves_in_every_tab() -> cinder_test::Result<()> {
    let browser = common::showcase().await;
    let mover = browser.live("/kanban").await?;
    let other = browser.live("/kanban").await?;
    let done = column(&mover, "done")?;
    let doing = column(&mover, "doing")?;
    let card = doing[0].clone();
    let number: u64 = card.trim_start_matches("card-").parse().unwrap();
    let title = mover.element(&format!("#{card} .title"), None)?.text()?;

    // What the hook pushes on a drop: the card (its data-card text), the
    // column and the position.
    let reply = mover
        .element("#column-done", None)?
        .render_hook(
            "move",
            json!({"card": number.to_string(), "to": "done", "index": 0}),
        )
        .await?;
    assert_eq!(
        reply,
        Some(json!({
            "ok": true,
            "card": number,
            "title": title,
            "column": "done",
            "column_title": "Done",
            "index": 0,
        }))
    );
    mover
        .assert_push_event("card-moved", &json!({ "card": number }))
        .await?;
    let mut expected = vec![card.clone()];
    expected.extend(done);
    assert_eq!(column(&mover, "done")?, expected);
    assert!(!column(&mover, "doing")?.contains(&card));
    assert_eq!(
        mover.element("#title-done .count", None)?.text()?,
        expected.len().to_string()
    );

    // The other tab gets the board over PubSub; only the mover flashes.
    other
        .wait_for_element(&format!("#column-done > li:first-child#{card}"), None)
        .await?;
    assert_eq!(column(&other, "done")?, expected);
    assert!(other.take_push_events().is_empty());
    // A reload shows the board as it was left.
    let reloaded = browser.live("/kanban").await?;
    assert_eq!(column(&reloaded, "done")?, expected);
    Ok(())
}

#[tokio::test]
async fn a_move_of_an_unknown_card_is_answered_with_why() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/kanban").await?;
    let before = column(&view, "todo")?;
    let reply = view
        .render_hook("move", json!({"card": "999", "to": "todo", "index": 0}))
        .await?
        .expect("a reply");
    assert_eq!(reply["ok"], false);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("there is no card \"999\""),
        "{reply}"
    );
    let reply = view
        .render_hook("move", json!({"card": "1", "to": "nowhere"}))
        .await?
        .expect("a reply");
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("the columns are todo, doing and done"),
        "{reply}"
    );
    assert_eq!(column(&view, "todo")?, before);
    Ok(())
}

#[tokio::test]
async fn cards_are_added_by_the_plus_buttons_and_the_panel() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/kanban").await?;
    let doing = column(&view, "doing")?;
    // "+" is a JS command pushing `add` with the column as its value.
    view.element("#title-doing .quick-add", None)?
        .click()
        .await?;
    let now = column(&view, "doing")?;
    assert_eq!(now.len(), doing.len() + 1);
    assert_eq!(now[..doing.len()], doing[..]);

    view.form("#new-card")?
        .with(&[("title", "Write the harness tests"), ("to", "todo")])
        .submit()
        .await?;
    let last = column(&view, "todo")?.pop().unwrap();
    assert_eq!(
        view.element(&format!("#{last} .title"), None)?.text()?,
        "Write the harness tests"
    );

    view.form("#new-card")?
        .with(&[("title", "   "), ("to", "todo")])
        .submit()
        .await?;
    assert_eq!(
        view.element("#board-error", None)?.text()?,
        "The card was not added: write a title for the card first."
    );
    Ok(())
}
