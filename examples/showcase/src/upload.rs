//! `/upload`: file uploads. Up to three files (text or images) of at most
//! 1 MB each, picked or dropped, are sent as soon as they are picked, each
//! with a progress bar and, for images, a preview drawn in the browser.
//! Files that break a rule show why and wait to be cancelled. "Save" takes
//! the finished files and lists each with its size and SHA-256.

use std::time::Duration;

use cinder::live::{
    Event, FileInput, ImgPreview, LiveView, MountError, Params, Session, Socket, Upload,
    UploadOptions,
};
use cinder::{html, Raw, Rendered};
use sha2::{Digest, Sha256};

/// How many files the upload takes at once.
pub const MAX_FILES: usize = 3;
/// The largest file it takes, in bytes.
pub const MAX_FILE_SIZE: u64 = 1_000_000;

/// A consumed file: what the page lists after "Save".
struct Saved {
    name: String,
    size: u64,
    sha256: String,
}

/// The upload and what was saved from it.
pub struct Uploads {
    files: Upload,
    saved: Vec<Saved>,
}

const STYLE: &str = "
.drop { border: 2px dashed #8888; border-radius: 0.5rem; padding: 1rem; margin: 0.5rem 0 1rem; }
.entries { list-style: none; padding: 0; }
.entry { display: flex; gap: 0.75rem; align-items: center; flex-wrap: wrap; padding: 0.4rem 0; border-bottom: 1px solid #8884; }
.entry img { max-width: 6rem; max-height: 4rem; }
.entry progress { width: 10rem; }
.entry .name { min-width: 8rem; }
.saved code { font-size: 0.8rem; word-break: break-all; }
";

impl LiveView for Uploads {
    type Info = ();

    async fn mount(
        _params: &Params,
        _session: &Session,
        socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        let options = UploadOptions::new()
            .accept(&[".txt", "image/*"])
            .max_entries(MAX_FILES)
            .max_file_size(MAX_FILE_SIZE)
            .chunk_size(64_000)
            .chunk_timeout(Duration::from_secs(10))
            .auto_upload(true);
        Ok(Uploads {
            files: socket.allow_upload("files", options),
            saved: Vec::new(),
        })
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Self>) {
        match event.name() {
            // The client registers picked files with the change; nothing
            // else to do here.
            "validate" => {}
            "cancel" => {
                if let Some(entry_ref) = event.get("ref") {
                    self.files.cancel(entry_ref);
                }
            }
            "save" => {
                let saved = self.files.consume(|entry, path| {
                    let bytes = std::fs::read(path).unwrap_or_else(|error| {
                        tracing::error!(%error, "could not read an uploaded file");
                        Vec::new()
                    });
                    Saved {
                        name: entry.name.clone(),
                        size: bytes.len() as u64,
                        sha256: hex(&Sha256::digest(&bytes)),
                    }
                });
                self.saved.extend(saved);
            }
            _ => {}
        }
    }

    fn render(&self) -> Rendered {
        let entries = self.files.entries();
        let upload_errors = self.files.errors();
        html! {
            <main>
                <style>{Raw(STYLE)}</style>
                <h1>"Upload"</h1>
                <p>"Up to "{MAX_FILES}" text files or images of at most 1 MB each. They are sent as soon as they are picked."</p>
                <form id="upload-form" phx-change="validate" phx-submit="save">
                    <div class="drop" id="drop" phx-drop-target={self.files.drop_target()}>
                        <label>"Pick files or drop them here: "<FileInput upload={&self.files} /></label>
                    </div>
                    @for error in &upload_errors {
                        <p class="error upload-error" data-error={error.code()}>{format!("{} ({})", capitalized(error), error.code())}</p>
                    }
                    <ul class="entries" id="entries">
                        @for entry in &entries, key = entry.entry_ref.as_str() {
                            <li class="entry" id={format!("entry-{}", entry.entry_ref)} data-done={entry.done}>
                                @if entry.is_image() && entry.valid() {
                                    <ImgPreview entry={entry} />
                                }
                                <span class="name">{entry.name.as_str()}</span>
                                <progress value={entry.progress} max="100">{entry.progress}"%"</progress>
                                <span class="percent">{entry.progress}"%"</span>
                                @for error in &entry.errors {
                                    <span class="error" data-error={error.code()}>{format!("{} ({})", capitalized(error), error.code())}</span>
                                }
                                <button type="button" class="cancel" phx-click="cancel" phx-value-ref={entry.entry_ref.as_str()} aria-label={format!("cancel {}", entry.name)}>"Cancel"</button>
                            </li>
                        }
                    </ul>
                    <button type="submit" id="save">"Save"</button>
                </form>
                <h2>"Saved"</h2>
                <ul id="saved">
                    @for saved in &self.saved {
                        <li class="saved" data-name={saved.name.as_str()} data-size={saved.size} data-sha256={saved.sha256.as_str()}>
                            {saved.name.as_str()}", "{saved.size}" bytes, SHA-256 "<code>{saved.sha256.as_str()}</code>
                        </li>
                    }
                </ul>
            </main>
        }
    }
}

fn capitalized(error: &cinder::live::UploadError) -> String {
    let text = error.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
