//! Uploads with chunk-level control: the client's side of the upload
//! protocol (register on change, `allow_upload` preflight, join
//! `lvu:<entry ref>` with the signed token, binary `chunk` frames, then
//! `progress` events on the view's channel).

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::query;
use crate::socket::wait;
use crate::view::View;

/// A file to upload: its name, content and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The file's name, as the browser gives it.
    pub name: String,
    /// The bytes uploaded.
    pub content: Vec<u8>,
    /// The MIME type, such as `text/plain`.
    pub mime_type: String,
    /// Milliseconds since the epoch, as `File.lastModified`.
    pub last_modified: u64,
}

impl FileEntry {
    /// A file called `name` holding `content`, of type `mime_type`.
    pub fn new(name: &str, content: impl Into<Vec<u8>>, mime_type: &str) -> FileEntry {
        FileEntry {
            name: name.to_string(),
            content: content.into(),
            mime_type: mime_type.to_string(),
            last_modified: 0,
        }
    }
}

/// Where one entry stands.
#[derive(Debug, Clone, Default)]
struct EntryState {
    reference: String,
    token: Option<String>,
    /// Why the server refused the entry (`too_large`, `not_accepted`, …).
    errors: Vec<String>,
    /// The `lvu:` channel's join ref, once joined.
    join_ref: Option<String>,
    sent: usize,
}

/// Files chosen in a file input, uploaded step by step.
///
/// ```no_run
/// # async fn example(view: cinder_test::View) -> cinder_test::Result<()> {
/// use cinder_test::FileEntry;
/// let mut avatar = view.file_input(
///     "#profile",
///     "avatar",
///     vec![FileEntry::new("me.txt", "hello".repeat(100), "text/plain")],
/// )?;
/// avatar.render_upload("me.txt", 50).await?; // half of it: a progress bar at 50%
/// avatar.render_upload("me.txt", 100).await?;
/// view.form("#profile")?.submit().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Upload {
    view: View,
    form: String,
    name: String,
    entries: Vec<FileEntry>,
    states: HashMap<String, EntryState>,
    upload_ref: String,
    chunk_size: usize,
    registered: bool,
    preflighted: bool,
}

impl Upload {
    pub(crate) fn new(
        view: View,
        form: &str,
        name: &str,
        entries: Vec<FileEntry>,
    ) -> Result<Upload> {
        let (_, fields) = query::form(&view.html(), form)?;
        let input = query::one(
            &view.html(),
            &format!("input[type=\"file\"][name=\"{name}\"]"),
            None,
        )
        .map_err(|_| {
            Error::Upload(format!(
                "the form `{form}` has no file input named `{name}`; render one for the upload (`data-phx-upload-ref` set){}",
                if fields.is_empty() { String::new() } else { format!("; its fields are {}", fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")) }
            ))
        })?;
        let upload_ref = input
            .attr("data-phx-upload-ref")
            .ok_or_else(|| {
                Error::Upload(format!(
                    "the file input `{name}` has no data-phx-upload-ref: the view did not allow an upload for it"
                ))
            })?
            .to_string();
        if let Some(duplicate) = entries
            .iter()
            .enumerate()
            .find(|(index, entry)| entries[..*index].iter().any(|e| e.name == entry.name))
            .map(|(_, entry)| entry.name.clone())
        {
            return Err(Error::Upload(format!(
                "two entries are named {duplicate}; give each file a name of its own, the test finds entries by name"
            )));
        }
        // As the client's, entry refs count up across the page, so that
        // each entry has an `lvu:` topic of its own.
        let states = entries
            .iter()
            .map(|entry| {
                (
                    entry.name.clone(),
                    EntryState {
                        reference: view.socket.shared.next_file_ref().to_string(),
                        ..EntryState::default()
                    },
                )
            })
            .collect();
        Ok(Upload {
            view,
            form: form.to_string(),
            name: name.to_string(),
            entries,
            states,
            upload_ref,
            chunk_size: 64_000,
            registered: false,
            preflighted: false,
        })
    }

    fn preflight_entries(&self) -> Vec<Value> {
        self.entries
            .iter()
            .map(|entry| {
                json!({
                    "path": self.name,
                    "ref": self.states[&entry.name].reference,
                    "last_modified": entry.last_modified,
                    "name": entry.name,
                    "relative_path": "",
                    "type": entry.mime_type,
                    "size": entry.content.len(),
                })
            })
            .collect()
    }

    /// Chooses the files: the form's change event carries them, as when a
    /// user picks files. Returns the view's HTML after the reply.
    pub async fn register(&mut self) -> Result<String> {
        let mut uploads = Map::new();
        uploads.insert(
            self.upload_ref.clone(),
            Value::Array(self.preflight_entries()),
        );
        let html = self
            .view
            .form(&self.form)?
            .target(&self.name)
            .change_with_uploads(uploads)
            .await?;
        self.registered = true;
        Ok(html)
    }

    /// The entry reference the client gave the file `name` (`0`, `1`, …
    /// across the page): what the view sees as the entry's `entry_ref`,
    /// and what a cancel button sends.
    pub fn entry_ref(&self, name: &str) -> Option<&str> {
        self.states.get(name).map(|state| state.reference.as_str())
    }

    /// Why the server refused the file `name` in the preflight
    /// (`"too_large"`, `"not_accepted"`, …); empty if it accepted it or no
    /// preflight ran yet.
    pub fn errors(&self, name: &str) -> Vec<String> {
        self.states
            .get(name)
            .map(|state| state.errors.clone())
            .unwrap_or_default()
    }

    /// The file called `name` whose entry ref is `reference`.
    fn name_of(&self, reference: &str) -> String {
        self.states
            .iter()
            .find(|(_, state)| state.reference == reference)
            .map_or_else(|| reference.to_string(), |(name, _)| name.clone())
    }

    /// Asks the server to accept the files (`allow_upload`) and returns its
    /// reply: the config, a token per accepted entry, and errors per entry.
    ///
    /// An upload without `auto_upload` is refused as a whole when any file
    /// breaks a rule: that is an [`Error::Upload`] naming each file and
    /// reason. With `auto_upload`, the good files get their tokens and the
    /// others their reasons ([`Upload::errors`]).
    pub async fn preflight(&mut self) -> Result<Value> {
        if !self.registered {
            self.register().await?;
        }
        let input = query::one(
            &self.view.html(),
            &format!("input[data-phx-upload-ref=\"{}\"]", self.upload_ref),
            None,
        )?;
        let mut payload = json!({"ref": self.upload_ref, "entries": self.preflight_entries()});
        if let Some(cid) = input.component {
            payload["cid"] = cid.into();
        }
        let reply = self.view.push("allow_upload", payload).await?;
        for state in self.states.values_mut() {
            state.errors.clear();
        }
        if let Some(error) = reply.get("error") {
            let mut reasons = Vec::new();
            for pair in error.as_array().into_iter().flatten() {
                let (Some(reference), Some(reason)) = (
                    pair.get(0).and_then(Value::as_str),
                    pair.get(1).and_then(Value::as_str),
                ) else {
                    continue;
                };
                if reference == self.upload_ref {
                    reasons.push(format!("the upload: {reason}"));
                    continue;
                }
                let name = self.name_of(reference);
                if let Some(state) = self.states.get_mut(&name) {
                    state.errors.push(reason.to_string());
                }
                reasons.push(format!("{name}: {reason}"));
            }
            if reasons.is_empty() {
                reasons.push(error.to_string());
            }
            return Err(Error::Upload(format!(
                "the server refused the upload ({}); cancel the refused files or pick others",
                reasons.join(", ")
            )));
        }
        if let Some(errors) = reply.get("errors").and_then(Value::as_object) {
            for (reference, reasons) in errors {
                let name = self.name_of(reference);
                if let Some(state) = self.states.get_mut(&name) {
                    state.errors = reasons
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect();
                }
            }
        }
        if let Some(size) = reply
            .get("config")
            .and_then(|config| config.get("chunk_size"))
            .and_then(Value::as_u64)
        {
            self.chunk_size = size.max(1) as usize;
        }
        let tokens = reply.get("entries").and_then(Value::as_object);
        for state in self.states.values_mut() {
            state.token = tokens
                .and_then(|tokens| tokens.get(&state.reference))
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        self.preflighted = true;
        Ok(reply)
    }

    /// Uploads `name` up to `percent` of its bytes, chunk by chunk on its
    /// `lvu:` channel, then reports the progress on the view's channel, as
    /// the client does after each acknowledged chunk. 100 completes it.
    /// Returns the view's HTML after the progress reply.
    pub async fn render_upload(&mut self, name: &str, percent: u8) -> Result<String> {
        if percent > 100 {
            return Err(Error::Upload(format!(
                "{percent}% is more than the whole file"
            )));
        }
        if !self.preflighted {
            self.preflight().await?;
        }
        let Some(entry) = self
            .entries
            .iter()
            .find(|entry| entry.name == name)
            .cloned()
        else {
            let names: Vec<&str> = self
                .entries
                .iter()
                .map(|entry| entry.name.as_str())
                .collect();
            return Err(Error::Upload(format!(
                "no entry named {name}; the entries are {names:?}"
            )));
        };
        let state = self.states.get(name).cloned().unwrap_or_default();
        let Some(token) = state.token.clone() else {
            if !state.errors.is_empty() {
                return Err(Error::Upload(format!(
                    "the server refused {name}: {}",
                    state.errors.join(", ")
                )));
            }
            return Err(Error::Upload(format!(
                "the server gave no token for {name}; the upload `{}` takes fewer files than were picked (its max_entries)",
                self.name
            )));
        };
        let topic = format!("lvu:{}", state.reference);
        let socket = self.view.socket.clone();
        let join_ref = match &state.join_ref {
            Some(join_ref) => join_ref.clone(),
            None => {
                let (join_ref, _) = socket
                    .join(&topic, json!({ "token": token }), self.view.timeout())
                    .await
                    .map_err(|error| Error::Upload(format!("joining {topic}: {error}")))?;
                join_ref
            }
        };
        let goal = entry.content.len() * percent as usize / 100;
        let mut sent = state.sent;
        while sent < goal {
            let end = (sent + self.chunk_size).min(goal);
            let (_, receiver) =
                socket.send_binary(&join_ref, &topic, "chunk", &entry.content[sent..end])?;
            wait(
                receiver,
                self.view.timeout(),
                &format!("reply to a chunk of {name}"),
            )
            .await
            .map_err(|error| Error::Upload(format!("sending {name}: {error}")))?;
            sent = end;
        }
        if let Some(state) = self.states.get_mut(name) {
            state.sent = sent;
            state.join_ref = Some(join_ref);
        }
        let input = query::one(
            &self.view.html(),
            &format!("input[data-phx-upload-ref=\"{}\"]", self.upload_ref),
            None,
        )?;
        let mut payload = json!({
            "event": input.attr("phx-progress"),
            "ref": self.upload_ref,
            "entry_ref": state.reference,
            "progress": percent,
        });
        if let Some(cid) = input.component {
            payload["cid"] = cid.into();
        }
        self.view.push("progress", payload).await?;
        Ok(self.view.html())
    }
}
