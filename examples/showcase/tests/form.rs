//! `/form` without a browser: live validation of touched fields, submit,
//! and the flash, as `e2e/form.test.mjs` fills the form in.

mod common;

#[tokio::test]
async fn errors_follow_what_was_typed_and_only_for_touched_fields() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/form").await?;
    let form = view.form("#signup")?;
    form.clone().with(&[("user[name]", "A")]).change().await?;
    assert!(view.has_element("#name-error", None)?);
    assert!(
        !view.has_element("#email-error", None)?,
        "the email field was not touched yet"
    );
    form.clone().with(&[("user[name]", "Ada")]).change().await?;
    assert!(!view.has_element("#name-error", None)?);
    form.with(&[("user[email]", "ada")]).change().await?;
    assert!(view.has_element("#email-error", Some("name@example.com"))?);
    assert!(!view.has_element("#password-error", None)?);
    Ok(())
}

#[tokio::test]
async fn a_valid_submit_shows_a_flash_that_clears_when_clicked() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/form").await?;
    view.form("#signup")?
        .with(&[
            ("user[name]", "Ada"),
            ("user[email]", "ada@example.com"),
            ("user[password]", "correct horse"),
        ])
        .submit()
        .await?;
    assert_eq!(view.element(".flash-info", None)?.text()?, "Welcome, Ada!");
    assert_eq!(view.element("#members", None)?.text()?, "1 signed up");
    let name = view.element("input[name='user[name]']", None)?;
    assert_eq!(
        name.attr("value")?.as_deref(),
        Some(""),
        "the form is reset"
    );
    view.element(".flash-info", None)?.click().await?;
    assert!(!view.has_element(".flash-info", None)?);
    Ok(())
}

#[tokio::test]
async fn an_invalid_submit_shows_every_error() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/form").await?;
    view.form("#signup")?.submit().await?;
    for id in ["#name-error", "#email-error", "#password-error"] {
        assert!(view.has_element(id, None)?, "{id}");
    }
    assert!(!view.has_element(".flash-info", None)?);
    Ok(())
}
