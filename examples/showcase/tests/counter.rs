//! `/counter` without a browser: the clicks of `e2e/counter.test.mjs`, and
//! the crash that a rejoin heals.

mod common;

use cinder_test::Error;

#[tokio::test]
async fn the_buttons_change_the_count() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/counter").await?;
    assert_eq!(view.element("#count", None)?.text()?, "0");
    view.element("button", Some("+"))?.click().await?;
    view.element("#inc", None)?.click().await?;
    assert_eq!(view.element("#count", None)?.text()?, "2");
    let html = view.element("#dec", None)?.click().await?;
    assert!(html.contains(r#"<span id="count">1</span>"#), "{html}");
    Ok(())
}

#[tokio::test]
async fn a_crash_is_reported_and_a_rejoin_mounts_the_view_again() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/counter").await?;
    view.element("#inc", None)?.click().await?;
    let error = view.element("#crash", None)?.click().await.unwrap_err();
    assert!(matches!(error, Error::Crashed { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("the view crashed (channel_crash)"),
        "{error}"
    );
    let again = view.element("#inc", None)?.click().await.unwrap_err();
    assert!(
        matches!(again, Error::Crashed { .. }),
        "a crashed view takes no events: {again}"
    );
    view.rejoin().await?;
    assert_eq!(view.element("#count", None)?.text()?, "0", "a fresh mount");
    view.element("#inc", None)?.click().await?;
    assert_eq!(view.element("#count", None)?.text()?, "1");
    Ok(())
}

#[tokio::test]
async fn tabs_are_separate_views() -> cinder_test::Result<()> {
    let browser = common::showcase().await;
    let first = browser.live("/counter").await?;
    let second = browser.live("/counter").await?;
    first.element("#inc", None)?.click().await?;
    assert_eq!(first.element("#count", None)?.text()?, "1");
    assert_eq!(second.element("#count", None)?.text()?, "0");
    assert_ne!(first.id(), second.id());
    Ok(())
}
