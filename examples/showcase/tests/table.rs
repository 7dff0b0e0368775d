//! `/table` without a browser: patch links, `push_patch` and the URL, as
//! `e2e/table.test.mjs` clicks them.

mod common;

fn first_name(view: &cinder_test::View) -> String {
    view.texts("#elements tbody tr .name").unwrap()[0].clone()
}

#[tokio::test]
async fn patch_links_sort_and_page() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/table").await?;
    assert_eq!(first_name(&view), "Hydrogen");
    view.element("#by-name", None)?.click().await?;
    assert_eq!(first_name(&view), "Aluminium");
    assert_eq!(view.path(), "/table?sort=name&dir=asc&page=1");
    view.element("#next", None)?.click().await?;
    assert_eq!(first_name(&view), "Chromium");
    assert_eq!(view.element("#page", None)?.text()?, "Page 2 of 5");
    // Back in the browser's history is a patch to the previous URL.
    view.render_patch("/table?sort=name&dir=asc&page=1").await?;
    assert_eq!(first_name(&view), "Aluminium");
    view.element("#by-name", None)?.click().await?;
    assert_eq!(first_name(&view), "Zirconium");
    assert_eq!(view.path(), "/table?sort=name&dir=desc&page=1");
    view.refute_patch()?;
    Ok(())
}

#[tokio::test]
async fn a_push_patch_from_the_server_is_asserted() -> cinder_test::Result<()> {
    let view = common::showcase()
        .await
        .live("/table?sort=name&dir=asc&page=1")
        .await?;
    view.element("#last", None)?.click().await?;
    view.assert_patch("/table?sort=name&dir=asc&page=5").await?;
    assert_eq!(first_name(&view), "Sodium");
    assert_eq!(view.rows_on_page(), 10);
    Ok(())
}

#[tokio::test]
async fn a_page_out_of_range_is_clamped() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/table?page=99").await?;
    assert_eq!(view.element("#page", None)?.text()?, "Page 5 of 5");
    Ok(())
}

trait Rows {
    fn rows_on_page(&self) -> usize;
}

impl Rows for cinder_test::View {
    fn rows_on_page(&self) -> usize {
        self.count("#elements tbody tr", None).unwrap()
    }
}
