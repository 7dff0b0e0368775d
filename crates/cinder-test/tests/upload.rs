//! Uploads through the client's protocol against the real upload server:
//! the entries go out with the form's change, the preflight answers with
//! tokens or reasons, the bytes go in chunks on `lvu:` channels, progress
//! reaches the view, and the view consumes the files on submit.

use cinder::live::{
    Config, Event, FileInput, LiveRouter, LiveView, MountError, Params, Session, Socket, Upload,
    UploadOptions,
};
use cinder::{html, Rendered};
use cinder_test::{Error, FileEntry, LiveTest};
use serde_json::Value;

/// A profile form with an avatar upload: text files of at most 300 bytes,
/// sent in 64-byte chunks; `?auto=1` uploads as soon as files are picked.
struct Profile {
    avatar: Upload,
    last: Value,
    saved: Vec<String>,
}

impl LiveView for Profile {
    type Info = ();

    async fn mount(
        params: &Params,
        _: &Session,
        socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        let options = UploadOptions::new()
            .accept(&[".txt"])
            .max_entries(2)
            .max_file_size(300)
            .chunk_size(64)
            .auto_upload(params.get("auto").is_some());
        Ok(Profile {
            avatar: socket.allow_upload("avatar", options),
            last: Value::Null,
            saved: Vec::new(),
        })
    }

    async fn handle_event(&mut self, event: Event, _: &mut Socket<Self>) {
        self.last = event.value().clone();
        match event.name() {
            "save" => {
                let saved = self.avatar.consume(|entry, path| {
                    let text = std::fs::read_to_string(path).unwrap_or_default();
                    format!("{} ({} bytes)", entry.name, text.len())
                });
                self.saved.extend(saved);
            }
            "cancel" => {
                self.avatar.cancel(event.get("ref").unwrap_or_default());
            }
            _ => {}
        }
    }

    fn render(&self) -> Rendered {
        let last = self.last.to_string();
        let entries = self.avatar.entries();
        html! {
            <main>
                <form id="profile" phx-change="validate" phx-submit="save">
                    <FileInput upload={&self.avatar} />
                    <input type="text" name="nick" value="">
                </form>
                <ul id="entries">
                    @for entry in &entries {
                        <li id={format!("entry-{}", entry.entry_ref)} data-done={entry.done}>
                            <span class="name">{entry.name.as_str()}</span>
                            <progress value={entry.progress} max="100"></progress>
                            @for error in &entry.errors {
                                <span class="error">{error.code()}</span>
                            }
                        </li>
                    }
                </ul>
                <ol id="saved">
                    @for saved in &self.saved {
                        <li>{saved.as_str()}</li>
                    }
                </ol>
                <pre id="last">{last}</pre>
            </main>
        }
    }
}

fn profile() -> LiveTest {
    LiveTest::new(
        LiveRouter::new(Config::random())
            .live::<Profile>("/profile")
            .into_router(),
    )
}

fn entry() -> FileEntry {
    FileEntry::new("me.txt", "0123456789".repeat(20), "text/plain")
}

#[tokio::test]
async fn choosing_files_sends_the_change_with_the_file_input_as_target() -> cinder_test::Result<()>
{
    let view = profile().live("/profile").await?;
    let mut upload = view.file_input("#profile", "avatar", vec![entry()])?;
    upload.register().await?;
    let last: Value = serde_json::from_str(&view.element("#last", None)?.text()?).unwrap();
    assert_eq!(last["_target"], serde_json::json!(["avatar"]));
    assert_eq!(last["_unused_nick"], "", "the text field is untouched");
    // The view lists the picked file, not yet sent.
    assert_eq!(
        view.element("#entry-0 progress", None)?
            .attr("value")?
            .as_deref(),
        Some("0")
    );
    assert_eq!(view.element("#entry-0 .name", None)?.text()?, "me.txt");
    Ok(())
}

#[tokio::test]
async fn chunks_and_progress_reach_the_view() -> cinder_test::Result<()> {
    let view = profile().live("/profile").await?;
    let mut upload = view.file_input("#profile", "avatar", vec![entry()])?;
    let preflight = upload.preflight().await?;
    assert!(preflight["entries"]["0"].is_string(), "{preflight}");
    assert_eq!(preflight["config"]["chunk_size"], 64);
    assert_eq!(preflight["config"]["max_file_size"], 300);

    upload.render_upload("me.txt", 50).await?;
    let bar = view.element("#entry-0 progress", None)?;
    assert_eq!(bar.attr("value")?.as_deref(), Some("50"));
    assert_eq!(
        view.element("#entry-0", None)?.attr("data-done")?,
        None,
        "half a file is not done"
    );

    upload.render_upload("me.txt", 100).await?;
    assert_eq!(bar.attr("value")?.as_deref(), Some("100"));
    assert!(view.element("#entry-0", None)?.attr("data-done")?.is_some());
    let input = view.element("#profile input[type=file]", None)?;
    assert_eq!(input.attr("data-phx-done-refs")?.as_deref(), Some("0"));

    view.form("#profile")?.submit().await?;
    assert_eq!(view.texts("#saved li")?, ["me.txt (200 bytes)"]);
    assert!(
        !view.has_element("#entries li", None)?,
        "a consumed entry leaves the list"
    );
    assert_eq!(input.attr("data-phx-active-refs")?.as_deref(), Some(""));
    Ok(())
}

#[tokio::test]
async fn two_files_upload_side_by_side_and_both_are_consumed() -> cinder_test::Result<()> {
    let view = profile().live("/profile").await?;
    let mut upload = view.file_input(
        "#profile",
        "avatar",
        vec![
            FileEntry::new("a.txt", "a".repeat(130), "text/plain"),
            FileEntry::new("b.txt", "b".repeat(10), "text/plain"),
        ],
    )?;
    assert_eq!(upload.entry_ref("a.txt"), Some("0"));
    assert_eq!(upload.entry_ref("b.txt"), Some("1"));
    upload.render_upload("a.txt", 30).await?;
    upload.render_upload("b.txt", 100).await?;
    upload.render_upload("a.txt", 100).await?;
    view.form("#profile")?.submit().await?;
    assert_eq!(
        view.texts("#saved li")?,
        ["a.txt (130 bytes)", "b.txt (10 bytes)"]
    );
    Ok(())
}

#[tokio::test]
async fn a_file_too_large_or_of_the_wrong_kind_is_refused_with_its_reason(
) -> cinder_test::Result<()> {
    // Without auto-upload, one bad file stops the whole upload.
    let view = profile().live("/profile").await?;
    let mut upload = view.file_input(
        "#profile",
        "avatar",
        vec![
            FileEntry::new("big.txt", vec![b'x'; 301], "text/plain"),
            FileEntry::new("tool.exe", "MZ", "application/octet-stream"),
        ],
    )?;
    upload.register().await?;
    assert_eq!(
        view.texts("#entries .error")?,
        ["too_large", "not_accepted"]
    );
    let error = upload.preflight().await.unwrap_err();
    assert!(matches!(error, Error::Upload(_)), "{error}");
    assert!(
        error
            .to_string()
            .contains("big.txt: too_large, tool.exe: not_accepted"),
        "{error}"
    );
    assert_eq!(upload.errors("big.txt"), ["too_large"]);
    assert_eq!(upload.errors("tool.exe"), ["not_accepted"]);

    // Cancelling them clears the list.
    for name in ["big.txt", "tool.exe"] {
        let entry_ref = upload.entry_ref(name).unwrap().to_string();
        view.render_click("cancel", serde_json::json!({ "ref": entry_ref }))
            .await?;
    }
    assert!(!view.has_element("#entries li", None)?);
    Ok(())
}

#[tokio::test]
async fn with_auto_upload_good_files_go_on_and_refused_ones_say_why() -> cinder_test::Result<()> {
    let view = profile().live("/profile?auto=1").await?;
    let mut upload = view.file_input(
        "#profile",
        "avatar",
        vec![
            FileEntry::new("big.txt", vec![b'x'; 301], "text/plain"),
            FileEntry::new("ok.txt", "fine", "text/plain"),
        ],
    )?;
    let preflight = upload.preflight().await?;
    assert_eq!(preflight["errors"], serde_json::json!({"0": ["too_large"]}));
    assert!(preflight["entries"]["1"].is_string(), "{preflight}");
    let error = upload.render_upload("big.txt", 100).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the server refused big.txt: too_large"),
        "{error}"
    );
    upload.render_upload("ok.txt", 100).await?;
    assert!(view.element("#entry-1", None)?.attr("data-done")?.is_some());
    Ok(())
}

#[tokio::test]
async fn misuse_is_an_error_that_says_what_to_do() -> cinder_test::Result<()> {
    let view = profile().live("/profile").await?;
    let mut upload = view.file_input("#profile", "avatar", vec![entry()])?;
    let error = upload.render_upload("other.txt", 50).await.unwrap_err();
    assert!(
        error.to_string().contains("no entry named other.txt"),
        "{error}"
    );
    let error = upload.render_upload("me.txt", 101).await.unwrap_err();
    assert!(
        error.to_string().contains("more than the whole file"),
        "{error}"
    );
    let error = view
        .file_input("#profile", "avatar", vec![entry(), entry()])
        .unwrap_err();
    assert!(
        error.to_string().contains("two entries are named me.txt"),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn a_file_input_the_view_did_not_allow_is_refused() -> cinder_test::Result<()> {
    let view = profile().live("/profile").await?;
    let error = view
        .file_input("#profile", "nick", vec![entry()])
        .unwrap_err();
    assert!(
        error.to_string().contains("has no file input named `nick`"),
        "{error}"
    );
    Ok(())
}
