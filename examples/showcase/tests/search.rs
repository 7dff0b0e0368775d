//! `/search` without a browser: the input's `phx-change`, as
//! `e2e/search.test.mjs` types into it.

mod common;

#[tokio::test]
async fn typing_narrows_the_results() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/search").await?;
    assert_eq!(view.texts("#results li")?, Vec::<String>::new());
    let search = view.form("#search")?;
    search.clone().with(&[("q", "ru")]).change().await?;
    assert_eq!(view.texts("#results li")?, ["Ruby", "Rust"]);
    assert_eq!(view.element("#count", None)?.text()?, "2 matches");
    search.clone().with(&[("q", "rus")]).change().await?;
    assert_eq!(view.texts("#results li")?, ["Rust"]);
    search.with(&[("q", "")]).change().await?;
    assert!(!view.has_element("#results li", None)?);
    let input = view.element("input[name=q]", None)?;
    assert_eq!(input.attr("value")?.as_deref(), Some(""));
    Ok(())
}

#[tokio::test]
async fn the_query_in_the_url_is_searched_on_mount() -> cinder_test::Result<()> {
    let browser = common::showcase().await;
    let dead = browser.get("/search?q=sch").await?;
    assert!(
        dead.body.contains("<li>Scheme</li>"),
        "the dead render searched"
    );
    let view = browser.live("/search?q=sch").await?;
    assert!(view.has_element("#results li", Some("Scheme"))?);
    assert_eq!(
        view.element("input[name=q]", None)?
            .attr("value")?
            .as_deref(),
        Some("sch")
    );
    Ok(())
}

#[tokio::test]
async fn submitting_searches_too() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/search").await?;
    view.form("#search")?
        .with(&[("q", "elixir")])
        .submit()
        .await?;
    assert_eq!(view.texts("#results li")?, ["Elixir"]);
    Ok(())
}
