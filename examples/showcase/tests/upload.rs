//! `/upload` without a browser, like `e2e/upload.test.mjs`: files sent in
//! chunks with progress on the page, saved with their checksums; a file
//! too large and one of the wrong kind refused with their reasons; a
//! cancelled entry left out of the save.

mod common;

use cinder_test::FileEntry;
use sha2::{Digest, Sha256};

/// Text of `size` bytes that differs along its length, so a chunk out of
/// place would change its checksum.
fn text(size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| 32 + ((i * 7 + i / 97) % 90) as u8)
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The entry of the file called `name`.
fn entry(view: &cinder_test::View, name: &str) -> cinder_test::Result<cinder_test::Element> {
    view.element(".entry", Some(name))
}

#[tokio::test]
async fn files_upload_with_progress_and_are_saved_with_their_checksums() -> cinder_test::Result<()>
{
    let view = common::showcase().await.live("/upload").await?;
    let notes = text(300_000);
    let dot = b"\x89PNG\r\n\x1a\n a tiny picture".to_vec();
    let mut files = view.file_input(
        "#upload-form",
        "files",
        vec![
            FileEntry::new("notes.txt", notes.clone(), "text/plain"),
            FileEntry::new("dot.png", dot.clone(), "image/png"),
        ],
    )?;
    files.register().await?;
    assert_eq!(view.count(".entry", None)?, 2);
    // The image gets a preview the client draws from the file.
    assert!(view.has_element(".entry img[data-phx-hook=\"Phoenix.LiveImgPreview\"]", None)?);

    files.render_upload("notes.txt", 50).await?;
    assert_eq!(entry(&view, "notes.txt")?.attr("data-done")?, None);
    assert_eq!(view.element(".entry .percent", Some("50%"))?.text()?, "50%");
    files.render_upload("notes.txt", 100).await?;
    files.render_upload("dot.png", 100).await?;
    for name in ["notes.txt", "dot.png"] {
        assert!(entry(&view, name)?.attr("data-done")?.is_some(), "{name}");
    }
    assert_eq!(
        view.texts(".entry .percent")?,
        ["100%", "100%"],
        "every bar is full"
    );

    view.form("#upload-form")?.submit().await?;
    let mut saved: Vec<(String, String, String)> = Vec::new();
    for n in 1..=view.count("#saved li", None)? {
        let item = view.element(&format!("#saved li:nth-child({n})"), None)?;
        saved.push((
            item.attr("data-name")?.unwrap_or_default(),
            item.attr("data-size")?.unwrap_or_default(),
            item.attr("data-sha256")?.unwrap_or_default(),
        ));
    }
    saved.sort();
    assert_eq!(
        saved,
        [
            ("dot.png".into(), dot.len().to_string(), sha256(&dot)),
            ("notes.txt".into(), notes.len().to_string(), sha256(&notes)),
        ]
    );
    assert_eq!(
        view.count(".entry", None)?,
        0,
        "consumed entries leave the list"
    );
    Ok(())
}

#[tokio::test]
async fn a_file_over_the_limit_shows_too_large_and_is_not_sent() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/upload").await?;
    let mut files = view.file_input(
        "#upload-form",
        "files",
        vec![FileEntry::new("huge.txt", text(1_000_001), "text/plain")],
    )?;
    let preflight = files.preflight().await?;
    assert_eq!(preflight["errors"]["0"], serde_json::json!(["too_large"]));
    assert_eq!(files.errors("huge.txt"), ["too_large"]);
    let error = entry(&view, "huge.txt")?;
    assert_eq!(
        view.element(".entry .error", None)?
            .attr("data-error")?
            .as_deref(),
        Some("too_large")
    );
    assert!(error.text()?.contains("(too_large)"));
    let refused = files.render_upload("huge.txt", 100).await.unwrap_err();
    assert!(
        refused.to_string().contains("refused huge.txt: too_large"),
        "{refused}"
    );
    Ok(())
}

#[tokio::test]
async fn a_file_of_the_wrong_kind_shows_not_accepted_and_cancelling_removes_it(
) -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/upload").await?;
    let mut files = view.file_input(
        "#upload-form",
        "files",
        vec![FileEntry::new(
            "tool.exe",
            text(100),
            "application/octet-stream",
        )],
    )?;
    files.register().await?;
    assert_eq!(
        view.element(".entry .error", None)?
            .attr("data-error")?
            .as_deref(),
        Some("not_accepted")
    );
    entry(&view, "tool.exe")?;
    view.element(".entry .cancel", None)?.click().await?;
    assert!(!view.has_element(".entry", None)?);
    Ok(())
}

#[tokio::test]
async fn a_cancelled_entry_is_left_out_of_the_save() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/upload").await?;
    let keep = text(5_000);
    let mut files = view.file_input(
        "#upload-form",
        "files",
        vec![
            FileEntry::new("keep.txt", keep.clone(), "text/plain"),
            FileEntry::new("drop.txt", text(7_000), "text/plain"),
        ],
    )?;
    files.render_upload("keep.txt", 100).await?;
    files.render_upload("drop.txt", 100).await?;
    view.element("button[aria-label=\"cancel drop.txt\"]", None)?
        .click()
        .await?;
    assert!(!view.has_element(".entry", Some("drop.txt"))?);
    view.form("#upload-form")?.submit().await?;
    let item = view.element("#saved li", None)?;
    assert_eq!(item.attr("data-name")?.as_deref(), Some("keep.txt"));
    assert_eq!(
        item.attr("data-sha256")?.as_deref(),
        Some(sha256(&keep).as_str())
    );
    Ok(())
}
