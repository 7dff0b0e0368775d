//! `/` is a plain page that links every demo; each demo mounts as a live view.

mod common;

#[tokio::test]
async fn the_index_links_every_demo_and_each_mounts() -> cinder_test::Result<()> {
    let browser = common::showcase().await;
    let index = browser.get("/").await?;
    assert_eq!(index.status, 200);
    for (path, _) in showcase::DEMOS {
        assert!(index.body.contains(&format!("href=\"{path}\"")), "{path}");
        let view = browser.live(path).await?;
        assert!(
            view.has_element("main h1", None)?,
            "{path} renders its heading"
        );
    }
    let error = browser.live("/").await.unwrap_err();
    assert!(
        error.to_string().contains("no live view container"),
        "{error}"
    );
    Ok(())
}
