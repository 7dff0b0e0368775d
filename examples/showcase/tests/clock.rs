//! `/clock` without a browser: the server's timer pushes diffs that the
//! harness applies as they arrive, like `e2e/clock.test.mjs`.

mod common;

fn seconds(time: &str) -> u32 {
    let parts: Vec<u32> = time.split(':').map(|part| part.parse().unwrap()).collect();
    parts[0] * 3600 + parts[1] * 60 + parts[2]
}

#[tokio::test]
async fn the_clock_ticks_from_the_server() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/clock").await?;
    let before = view.element("#clock", None)?.text()?;
    assert_eq!(before.len(), 8, "HH:MM:SS, got {before}");
    view.next_update().await?;
    let after = view.element("#clock", None)?.text()?;
    assert_ne!(after, before, "a pushed diff changed the time");
    assert!(
        (seconds(&after) + 86_400 - seconds(&before)) % 86_400 >= 1,
        "{before} then {after}"
    );
    Ok(())
}
