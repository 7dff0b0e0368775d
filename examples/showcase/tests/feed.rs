//! `/feed` without a browser, like `e2e/feed.test.mjs`: the stream's pages
//! loaded through the `phx-viewport-bottom` binding (the harness cannot
//! scroll; it sends what the client sends when the last post comes into
//! view), the limit that keeps 60 posts, publishing (a prepend) and
//! deleting.

mod common;

use serde_json::json;

fn ids(view: &cinder_test::View) -> cinder_test::Result<Vec<String>> {
    Ok(view
        .texts("#posts > li > b")?
        .into_iter()
        .map(|title| title.replace("Post ", "posts-"))
        .collect())
}

#[tokio::test]
async fn reaching_the_bottom_loads_more_and_the_limit_prunes_the_oldest() -> cinder_test::Result<()>
{
    let view = common::showcase().await.live("/feed").await?;
    assert_eq!(view.count("#posts > li", None)?, 20);
    // The statistics load in the background: their diff comes first, so
    // that every diff after it is a page's, however long the pages take.
    view.wait_for_element(".loaded", None).await?;
    let before_pages = view.diffs().len();
    let posts = view.element("#posts", None)?;
    for loaded in [40, 60, 80, 100] {
        posts.viewport_bottom().await?;
        assert_eq!(view.element("#sent", None)?.text()?, loaded.to_string());
    }
    let shown = ids(&view)?;
    // 100 posts were sent; the page keeps the newest 60, in order.
    assert_eq!(shown.len(), 60);
    assert_eq!(shown.first().map(String::as_str), Some("posts-41"));
    assert_eq!(shown.last().map(String::as_str), Some("posts-100"));
    assert_eq!(
        posts.attr("phx-update")?.as_deref(),
        Some("stream"),
        "the container keeps the stream's children"
    );
    // Each page went out once, as a stream insert, and only that page.
    let page_diffs = &view.diffs()[before_pages..];
    assert_eq!(page_diffs.len(), 4, "one diff a page");
    for diff in page_diffs {
        let text = diff.to_string();
        assert!(text.contains("\"stream\""), "{text:.200}");
        assert!(
            text.len() < 20 * 400,
            "a page's diff is small: {}",
            text.len()
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_viewport_event_is_the_clients() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/feed").await?;
    // What the client's viewport binding sends, pushed by hand.
    view.element("#posts", None)?
        .js_push("load-more", json!({"id": "posts-20"}))
        .await?;
    assert_eq!(view.count("#posts > li", None)?, 40);
    assert_eq!(view.element("#sent", None)?.text()?, "40");
    // An element without the binding sends nothing, and says so.
    let error = view
        .element("#publish", None)?
        .viewport_bottom()
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("has no `phx-viewport-bottom`"),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn publishing_prepends_a_post_and_deleting_removes_it() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/feed").await?;
    view.element("#publish", None)?.click().await?;
    assert_eq!(
        view.element("#posts > li:first-child", None)?
            .attr("id")?
            .as_deref(),
        Some("posts-1000001")
    );
    assert_eq!(view.count("#posts > li", None)?, 21);
    view.element("#posts-1000001 .delete", None)?
        .click()
        .await?;
    assert!(!view.has_element("#posts-1000001", None)?);
    view.element("#posts-3 .delete", None)?.click().await?;
    assert!(!view.has_element("#posts-3", None)?);
    let shown = ids(&view)?;
    assert_eq!(shown.len(), 19);
    assert_eq!(shown[0], "posts-1");
    Ok(())
}
