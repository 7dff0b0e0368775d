//! Closing pages ends their processes: sockets and views leave nothing
//! behind. A test binary of its own, so no other test's processes are counted.

mod common;

use std::time::Duration;

use common::{app, connect, get, join, PATIENCE};

const PAGES: usize = 20;

#[tokio::test]
async fn closed_connections_leave_no_process_behind() {
    let app = app().await;
    // The first connection starts the supervisors of sockets and views,
    // which stay; count from after it.
    let first = get(&app, "/counter").await;
    let mut warm_up = connect(&app, &first.cookie, &first.csrf, None)
        .await
        .unwrap();
    join(&mut warm_up, &first, "").await;
    warm_up.close(None).await.unwrap();
    settle(2).await;
    let baseline = cinder_runtime::introspection::process_count();
    let mut clients = Vec::new();
    for _ in 0..PAGES {
        let page = get(&app, "/counter").await;
        let mut client = connect(&app, &page.cookie, &page.csrf, None).await.unwrap();
        assert_eq!(join(&mut client, &page, "").await[4]["status"], "ok");
        clients.push(client);
    }
    // A socket process and a view process per page.
    assert_eq!(
        cinder_runtime::introspection::process_count(),
        baseline + 2 * PAGES
    );
    for mut client in clients {
        client.close(None).await.unwrap();
    }
    settle(baseline).await;
}

/// Waits until at most `count` processes are alive.
async fn settle(count: usize) {
    tokio::time::timeout(PATIENCE, async {
        while cinder_runtime::introspection::process_count() > count {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("every socket and view process exits");
}
