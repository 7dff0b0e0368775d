//! What the showcase's harness tests share: the showcase's own router,
//! served by a fresh test browser.

use cinder::live::Config;
use cinder_test::LiveTest;

/// A test browser on the showcase, with its services started for this test.
pub async fn showcase() -> LiveTest {
    let services = showcase::Services::start_local().await;
    LiveTest::new(services.router(Config::random()))
}
