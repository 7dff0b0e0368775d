//! `/components` without a browser, like `e2e/components.test.mjs`:
//! clicks that reach only their own card (`phx-target`), `send_update`
//! from the view, a crashing card and its Retry, cards removed and
//! destroyed on the server, a component's flash, and the nested clock view
//! with a process and a channel of its own.

mod common;

fn card(n: usize) -> String {
    format!("#cards section.card:nth-of-type({n})")
}

fn count(view: &cinder_test::View, n: usize) -> cinder_test::Result<String> {
    view.element(&format!("{} .count", card(n)), None)?.text()
}

#[tokio::test]
async fn a_click_reaches_only_its_own_card() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/components").await?;
    assert_eq!(view.components(), [1, 2, 3]);
    let roots: Vec<Option<String>> = (1..=3)
        .map(|n| view.element(&card(n), None)?.attr("data-phx-component"))
        .collect::<cinder_test::Result<_>>()?;
    assert_eq!(
        roots,
        [Some("1".into()), Some("2".into()), Some("3".into())]
    );

    view.element(&format!("{} .inc", card(2)), None)?
        .click()
        .await?;
    view.element(&format!("{} .inc", card(2)), None)?
        .click()
        .await?;
    assert_eq!(count(&view, 2)?, "2");
    assert_eq!(count(&view, 1)?, "0");
    assert_eq!(count(&view, 3)?, "0");
    // The reply carried the targeted component alone.
    let last = view.diffs().pop().unwrap();
    assert_eq!(last.as_object().unwrap().keys().collect::<Vec<_>>(), ["c"]);
    assert_eq!(
        last["c"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["2"]
    );

    // An event sent to a cid goes to that card, whatever the element.
    view.with_target(3)
        .render_click("dec", serde_json::json!({}))
        .await?;
    assert_eq!(count(&view, 3)?, "-1");
    // A selector target resolves to the component owning each match.
    view.with_target("#cards section.card:nth-of-type(1) .count")
        .render_click("inc", serde_json::json!({}))
        .await?;
    assert_eq!(count(&view, 1)?, "1");
    Ok(())
}

#[tokio::test]
async fn send_update_from_the_view_resets_every_card() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/components").await?;
    view.element(&format!("{} .inc", card(1)), None)?
        .click()
        .await?;
    view.element(&format!("{} .dec", card(3)), None)?
        .click()
        .await?;
    assert_eq!([count(&view, 1)?, count(&view, 3)?], ["1", "-1"]);
    view.element("#reset", None)?.click().await?;
    assert_eq!(
        [count(&view, 1)?, count(&view, 2)?, count(&view, 3)?],
        ["0", "0", "0"]
    );
    assert_eq!(
        view.element(&card(3), None)?.attr("data-count")?.as_deref(),
        Some("0")
    );
    Ok(())
}

#[tokio::test]
async fn a_crashing_card_shows_an_error_in_its_place_and_retry_mounts_it_again(
) -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/components").await?;
    view.element(&format!("{} .inc", card(1)), None)?
        .click()
        .await?;
    view.element(&format!("{} .crash", card(2)), None)?
        .click()
        .await?;
    let crashed = view.element("#cards .cinder-crashed", None)?;
    assert!(
        crashed.text()?.contains("This part of the page crashed"),
        "{}",
        crashed.html()?
    );
    // The view did not crash: the first card kept its count and still counts.
    assert_eq!(count(&view, 1)?, "1");
    view.element(&format!("{} .inc", card(1)), None)?
        .click()
        .await?;
    assert_eq!(count(&view, 1)?, "2");

    view.element("#cards .cinder-crashed button", Some("Retry"))?
        .click()
        .await?;
    assert!(!view.has_element("#cards .cinder-crashed", None)?);
    assert_eq!(count(&view, 2)?, "0", "mounted again, from the start");
    view.element(&format!("{} .inc", card(2)), None)?
        .click()
        .await?;
    assert_eq!(count(&view, 2)?, "1");
    Ok(())
}

#[tokio::test]
async fn removed_cards_are_destroyed_on_the_server_and_added_ones_mount_fresh(
) -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/components").await?;
    view.element(&format!("{} .inc", card(3)), None)?
        .click()
        .await?;
    view.element("#remove", None)?.click().await?;
    assert_eq!(view.count("#cards section.card", None)?, 2);
    // The harness told the server, as the client does, and the server
    // destroyed the card's component.
    assert_eq!(view.destroyed_components(), [3]);
    assert_eq!(view.components(), [1, 2]);

    view.element("#add", None)?.click().await?;
    assert_eq!(view.count("#cards section.card", None)?, 3);
    assert_eq!(count(&view, 3)?, "0");
    assert_eq!(
        view.element(&card(3), None)?
            .attr("data-phx-component")?
            .as_deref(),
        Some("4")
    );
    view.element(&format!("{} .inc", card(3)), None)?
        .click()
        .await?;
    assert_eq!(count(&view, 3)?, "1");
    Ok(())
}

#[tokio::test]
async fn a_flash_put_by_a_component_shows_in_the_layout() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/components").await?;
    view.element(&format!("{} .inc", card(1)), None)?
        .click()
        .await?;
    view.element(&format!("{} .share", card(1)), None)?
        .click()
        .await?;
    let flash = view.element("#flash .flash-info", None)?.text()?;
    assert!(flash.contains("shared its count: 1"), "{flash}");
    Ok(())
}

#[tokio::test]
async fn the_nested_clock_ticks_in_its_own_view() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/components").await?;
    let container = view.element("#nested-clock", None)?;
    assert_eq!(
        container.attr("data-phx-parent-id")?,
        Some(view.id()),
        "the child's container names its parent"
    );
    let children = view.live_children().await?;
    assert_eq!(children.len(), 1);
    let clock = view.live_child("nested-clock").await?;
    assert_eq!(clock.id(), "nested-clock");
    let first = clock.element("#clock", None)?.text()?;
    assert_eq!(first.len(), 8, "HH:MM:SS, got {first}");

    // The parent updates without the child, and the child on its own.
    view.element(&format!("{} .inc", card(1)), None)?
        .click()
        .await?;
    assert!(view
        .diffs()
        .iter()
        .skip(1)
        .all(|diff| !diff.to_string().contains("UTC time")));
    clock.next_update().await?;
    assert_ne!(clock.element("#clock", None)?.text()?, first);
    assert_eq!(count(&view, 1)?, "1");
    Ok(())
}
