//! `/counter` without a browser: the same clicks as `e2e/counter.test.mjs`.

use cinder::live::Config;
use cinder_test::{Error, LiveTest};

async fn app() -> LiveTest {
    let services = showcase::Services::start_local().await;
    LiveTest::new(services.router(Config::random()))
}

#[tokio::test]
async fn the_buttons_change_the_count() -> cinder_test::Result<()> {
    let view = app().await.live("/counter").await?;
    assert_eq!(view.element("#count", None)?.text()?, "0");
    view.element("button", Some("+"))?.click().await?;
    view.element("#inc", None)?.click().await?;
    assert_eq!(view.element("#count", None)?.text()?, "2");
    let html = view.element("#dec", None)?.click().await?;
    assert!(html.contains(r#"<span id="count">1</span>"#), "{html}");
    Ok(())
}
