//! The markup of uploads: the file input and image previews.

use super::{Upload, UploadEntry};
use crate::{html, Component, Rendered};

/// The file input of an upload, with every attribute the client reads:
/// `<FileInput upload={&self.upload} />` inside a form.
pub struct FileInput<'a> {
    /// The upload the input picks files for.
    pub upload: &'a Upload,
}

impl Component for FileInput<'_> {
    fn render(self) -> Rendered {
        let upload = self.upload;
        let shared = &upload.0;
        let state = upload.state();
        let refs = |keep: fn(&UploadEntry) -> bool| {
            state
                .slots
                .iter()
                .filter(|slot| keep(&slot.entry))
                .map(|slot| slot.entry.entry_ref.as_str())
                .collect::<Vec<_>>()
                .join(",")
        };
        let active = refs(|_| true);
        let done = refs(|entry| entry.done);
        let preflighted = refs(|entry| entry.preflighted);
        let errors = Upload::error_refs(&state, shared);
        drop(state);
        let multiple = shared.options.max_entries > 1;
        html! {
            <input id={shared.upload_ref.as_str()} type="file" name={shared.name.as_str()} accept={shared.accept_attr.as_deref()} data-phx-hook="Phoenix.LiveFileUpload" data-phx-upload-ref={shared.upload_ref.as_str()} data-phx-active-refs={active} data-phx-done-refs={done} data-phx-preflighted-refs={preflighted} data-phx-error-refs={errors} data-phx-auto-upload={shared.options.auto_upload} multiple={multiple}>
        }
    }
}

/// A preview of a picked image, drawn by the client from the file itself
/// before (and while) it is sent: `<ImgPreview entry={&entry} />`.
pub struct ImgPreview<'a> {
    /// The entry to show.
    pub entry: &'a UploadEntry,
}

impl Component for ImgPreview<'_> {
    fn render(self) -> Rendered {
        let entry = self.entry;
        let id = format!("phx-preview-{}", entry.entry_ref);
        html! {
            <img id={id} data-phx-upload-ref={entry.upload_ref.as_str()} data-phx-entry-ref={entry.entry_ref.as_str()} data-phx-hook="Phoenix.LiveImgPreview" data-phx-update="ignore" alt={entry.name.as_str()}>
        }
    }
}
