//! `/game` without a browser, like `e2e/game.test.mjs`: key presses on the
//! window reach every `phx-window-keydown` binding that `phx-key` lets
//! through, the server's tick counts and moves the coin, and a seed makes
//! the game the same each time.

mod common;

use cinder_test::{Error, View};

/// A tick so slow that the coin stays put during a test.
const STILL: &str = "tick=60000";

fn cell(view: &View, which: &str) -> cinder_test::Result<(i64, i64)> {
    let value = view
        .element("#grid", None)?
        .attr(&format!("data-{which}"))?
        .unwrap_or_default();
    let (x, y) = value.split_once(',').expect("x,y");
    Ok((x.parse().unwrap(), y.parse().unwrap()))
}

fn number(view: &View, selector: &str) -> cinder_test::Result<u64> {
    Ok(view
        .element(selector, None)?
        .text()?
        .trim()
        .parse()
        .unwrap())
}

#[tokio::test]
async fn bad_parameters_are_refused_with_a_reason() -> cinder_test::Result<()> {
    let browser = common::showcase().await;
    let too_fast = browser.get("/game?tick=1").await?;
    assert_eq!(too_fast.status, 400);
    assert!(too_fast
        .body
        .contains("?tick= takes a period in milliseconds from 50 to 60000"));
    match browser.live("/game?seed=abc").await {
        Err(Error::Http { status, .. }) => assert_eq!(status, 400),
        other => panic!("expected a 400, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn arrow_keys_and_wasd_move_the_player_and_other_keys_do_nothing() -> cinder_test::Result<()>
{
    let view = common::showcase()
        .await
        .live(&format!("/game?seed=1&{STILL}"))
        .await?;
    assert_eq!(cell(&view, "player")?, (5, 5));
    for (key, expected) in [
        ("ArrowRight", (6, 5)),
        ("ArrowDown", (6, 6)),
        ("a", (5, 6)),
        ("w", (5, 5)),
        ("x", (5, 5)),
        ("ArrowUp", (5, 4)),
    ] {
        view.window_keydown(key).await?;
        assert_eq!(cell(&view, "player")?, expected, "after {key}");
    }
    assert_eq!(view.count(".cell.player", None)?, 1);
    Ok(())
}

#[tokio::test]
async fn reaching_the_coin_scores_a_point() -> cinder_test::Result<()> {
    let view = common::showcase()
        .await
        .live(&format!("/game?seed=42&{STILL}"))
        .await?;
    assert_eq!(number(&view, "#score")?, 0);
    let coin = cell(&view, "coin")?;
    let mut player = cell(&view, "player")?;
    while player != coin {
        let key = if player.0 < coin.0 {
            "ArrowRight"
        } else if player.0 > coin.0 {
            "ArrowLeft"
        } else if player.1 < coin.1 {
            "ArrowDown"
        } else {
            "ArrowUp"
        };
        view.window_keydown(key).await?;
        player = cell(&view, "player")?;
    }
    assert_eq!(number(&view, "#score")?, 1);
    assert_ne!(cell(&view, "coin")?, coin, "a new coin appears");
    Ok(())
}

#[tokio::test]
async fn the_servers_tick_counts_and_moves_the_coin() -> cinder_test::Result<()> {
    let view = common::showcase()
        .await
        .live("/game?seed=7&tick=50")
        .await?;
    let mut seen = vec![cell(&view, "coin")?];
    for _ in 0..4 {
        view.next_update().await?;
        seen.push(cell(&view, "coin")?);
    }
    assert!(number(&view, "#ticks")? >= 4);
    assert!(
        seen[1..].iter().any(|coin| *coin != seen[0]),
        "the coin moved: {seen:?}"
    );
    Ok(())
}

#[tokio::test]
async fn p_pauses_and_resumes_through_the_filtered_binding() -> cinder_test::Result<()> {
    let view = common::showcase()
        .await
        .live("/game?seed=3&tick=50")
        .await?;
    view.next_update().await?;
    // The pause binding lets only P through; the grid's gets every key.
    let error = view
        .element("#state", None)?
        .keydown("ArrowLeft")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::KeyFiltered { .. }), "{error}");
    view.window_keydown("p").await?;
    assert_eq!(view.element("#state", None)?.text()?, "paused");
    let paused = number(&view, "#ticks")?;
    let player = cell(&view, "player")?;
    view.window_keydown("ArrowLeft").await?;
    assert_eq!(cell(&view, "player")?, player, "a paused game ignores keys");
    // Upper case P passes the filter too, as the client compares keys.
    view.window_keydown("P").await?;
    assert_eq!(view.element("#state", None)?.text()?, "running");
    view.next_update().await?;
    assert!(number(&view, "#ticks")? > paused);
    Ok(())
}

#[tokio::test]
async fn restart_starts_the_same_game_again() -> cinder_test::Result<()> {
    let view = common::showcase()
        .await
        .live(&format!("/game?seed=9&{STILL}"))
        .await?;
    let coin = cell(&view, "coin")?;
    view.window_keydown("ArrowRight").await?;
    assert_eq!(cell(&view, "player")?, (6, 5));
    view.element("#restart", None)?.click().await?;
    assert_eq!(cell(&view, "player")?, (5, 5));
    assert_eq!(cell(&view, "coin")?, coin);
    Ok(())
}
