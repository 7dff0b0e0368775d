//! File uploads: the browser sends each file over a channel of its own, in
//! binary chunks, into a temporary file the view consumes.
//!
//! A view allows an upload with [`Socket::allow_upload`](super::Socket::allow_upload),
//! keeps the returned [`Upload`] in its struct, and renders a [`FileInput`]
//! for it inside a form with `phx-change` (the client registers picked files
//! with the change event) and `phx-submit`. The official client then asks the
//! view to check the files (`allow_upload`, the preflight): each file that
//! breaks a rule gets an error ([`UploadError`]) and stays listed until it is
//! cancelled; each good one gets a signed token, with which the client joins
//! `lvu:<entry ref>` and sends the bytes. Progress comes back on the view's
//! channel, so the page can show it. On submit, the view
//! [`consume`](Upload::consume)s the finished files.
//!
//! The temporary files are removed when they are consumed (unless the
//! consumer moved them), when their entry is cancelled or replaced, when an
//! upload goes wrong (a chunk timeout, more bytes than the file declared),
//! and when the view's process ends, even by a panic.
//!
//! ```
//! use std::time::Duration;
//! use cinder::live::{Event, FileInput, LiveView, MountError, Params, Session, Socket};
//! use cinder::live::{Upload, UploadOptions};
//! use cinder::{html, Rendered};
//!
//! struct Avatar {
//!     upload: Upload,
//!     saved: Vec<(String, u64)>,
//! }
//!
//! impl LiveView for Avatar {
//!     type Info = ();
//!
//!     async fn mount(_: &Params, _: &Session, socket: &mut Socket<Self>) -> Result<Self, MountError> {
//!         let options = UploadOptions::new()
//!             .accept(&[".png", ".jpg", "image/*"])
//!             .max_entries(2)
//!             .max_file_size(8_000_000)
//!             .chunk_timeout(Duration::from_secs(10))
//!             .auto_upload(true);
//!         Ok(Avatar { upload: socket.allow_upload("avatar", options), saved: Vec::new() })
//!     }
//!
//!     async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Self>) {
//!         match event.name() {
//!             "cancel" => {
//!                 if let Some(entry_ref) = event.get("ref") {
//!                     self.upload.cancel(entry_ref);
//!                 }
//!             }
//!             "save" => {
//!                 // Each finished file, then its temporary file is removed.
//!                 let saved = self.upload.consume(|entry, path| {
//!                     let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
//!                     (entry.name.clone(), size)
//!                 });
//!                 self.saved.extend(saved);
//!             }
//!             _ => {}
//!         }
//!     }
//!
//!     fn render(&self) -> Rendered {
//!         html! {
//!             <form id="avatar-form" phx-change="validate" phx-submit="save">
//!                 <FileInput upload={&self.upload} />
//!                 @for entry in self.upload.entries() {
//!                     <progress value={entry.progress} max="100">{entry.progress}"%"</progress>
//!                 }
//!                 <button type="submit">"Save"</button>
//!             </form>
//!         }
//!     }
//! }
//! ```

mod channel;
mod markup;
mod options;

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cinder_runtime::registry::Registry;
use cinder_runtime::{Context, ExitReason, Pid, Recipient};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::socket::serializer::Inbound;
use crate::token::Signer;

pub(crate) use channel::join;
pub use markup::{FileInput, ImgPreview};
pub use options::{UploadError, UploadOptions};

/// How long a preflight's token may be used to start sending a file.
const TOKEN_MAX_AGE: Duration = Duration::from_secs(10 * 60);
/// Room left in a socket message for a chunk's frame header.
const FRAME_HEADER_ROOM: usize = 1024;

/// One picked file, as the client described it and as far as it has arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadEntry {
    /// The entry's reference, unique on the page: cancel it with this.
    pub entry_ref: String,
    /// The reference of the upload it belongs to.
    pub upload_ref: String,
    /// The file's name on the user's machine (never trust it as a path).
    pub name: String,
    /// The size the client declared, in bytes.
    pub size: u64,
    /// The MIME type the browser gave the file (may be empty).
    pub content_type: String,
    /// The path within a picked folder, if any.
    pub relative_path: String,
    /// The file's modification time, in milliseconds since the Unix epoch.
    pub last_modified: Option<i64>,
    /// How much has arrived, 0 to 100.
    pub progress: u8,
    /// Whether every byte has arrived: the entry can be consumed.
    pub done: bool,
    /// Whether the client asked to send it (the preflight).
    pub preflighted: bool,
    /// What is wrong with the file; empty for a good one.
    pub errors: Vec<UploadError>,
}

impl UploadEntry {
    /// Whether the file broke no rule.
    pub fn valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// Whether the browser says it is an image (`image/…`), so that an
    /// [`ImgPreview`] can show it.
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }
}

/// An allowed upload: its rules, its entries and their progress.
///
/// A cheap handle ([`Clone`] shares it) that the view keeps in its struct;
/// the view's process updates it as the client reports files and progress,
/// and [`render`](super::LiveView::render) reads it.
#[derive(Clone)]
pub struct Upload(Arc<Shared>);

struct Shared {
    name: String,
    upload_ref: String,
    options: UploadOptions,
    accept_attr: Option<String>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    slots: Vec<Slot>,
}

/// An entry with what the server keeps about it.
struct Slot {
    entry: UploadEntry,
    channel: ChannelState,
    file: Option<Arc<TempFile>>,
}

/// Where an entry's upload channel stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ChannelState {
    /// A good file no channel has claimed yet.
    Unregistered,
    /// A refused file: no channel may send it.
    Invalid,
    /// The channel process receiving the file.
    Registered(Pid),
}

impl Drop for State {
    fn drop(&mut self) {
        for slot in self.slots.drain(..) {
            slot.release();
        }
    }
}

impl Slot {
    /// Ends the entry: stops its channel and removes its file.
    fn release(self) {
        if let ChannelState::Registered(pid) = &self.channel {
            cinder_runtime::exit(pid, ExitReason::Shutdown);
        }
        if let Some(file) = &self.file {
            file.remove();
        }
    }
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("name", &self.0.name)
            .field("ref", &self.0.upload_ref)
            .field("entries", &self.entries())
            .finish()
    }
}

impl Upload {
    fn new(name: &str, options: UploadOptions) -> Upload {
        let accept_attr = options.accept.as_ref().map(|list| list.join(","));
        Upload(Arc::new(Shared {
            name: name.to_string(),
            upload_ref: random_id("phx-"),
            options,
            accept_attr,
            state: Mutex::new(State::default()),
        }))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The upload's name: the file input's `name`.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The upload's reference, `phx-…`: the file input's `id`.
    pub fn upload_ref(&self) -> &str {
        &self.0.upload_ref
    }

    /// The value of `phx-drop-target` for an element that takes files
    /// dropped on it for this upload.
    pub fn drop_target(&self) -> &str {
        &self.0.upload_ref
    }

    /// The rules it was allowed with.
    pub fn options(&self) -> &UploadOptions {
        &self.0.options
    }

    /// The most files it takes at once.
    pub fn max_entries(&self) -> usize {
        self.0.options.max_entries
    }

    /// The largest file it takes, in bytes.
    pub fn max_file_size(&self) -> u64 {
        self.0.options.max_file_size
    }

    /// The picked files, in the order they were picked.
    pub fn entries(&self) -> Vec<UploadEntry> {
        self.state()
            .slots
            .iter()
            .map(|slot| slot.entry.clone())
            .collect()
    }

    /// Errors of the upload as a whole: [`UploadError::TooManyFiles`] while
    /// more files are listed than it takes.
    pub fn errors(&self) -> Vec<UploadError> {
        if self.state().slots.len() > self.0.options.max_entries {
            vec![UploadError::TooManyFiles]
        } else {
            Vec::new()
        }
    }

    /// Whether any file is still on its way.
    pub fn in_progress(&self) -> bool {
        self.state()
            .slots
            .iter()
            .any(|slot| slot.entry.valid() && !slot.entry.done)
    }

    /// Removes the entry `entry_ref` (a refused file, or one being sent):
    /// its channel stops and its temporary file is removed. Returns whether
    /// there was such an entry.
    pub fn cancel(&self, entry_ref: &str) -> bool {
        let removed = {
            let mut state = self.state();
            let index = state
                .slots
                .iter()
                .position(|slot| slot.entry.entry_ref == entry_ref);
            index.map(|index| state.slots.remove(index))
        };
        match removed {
            Some(slot) => {
                slot.release();
                true
            }
            None => false,
        }
    }

    /// Cancels every entry.
    pub fn cancel_all(&self) {
        let slots = std::mem::take(&mut self.state().slots);
        for slot in slots {
            slot.release();
        }
    }

    /// Takes the finished files out of the upload: calls `consume` with
    /// each one's entry and the path of its temporary file, then removes the
    /// file (to keep it, move or copy it inside `consume`) and the entry.
    /// Entries still on their way, and refused ones, stay. Returns what each
    /// call returned, in the entries' order.
    pub fn consume<T>(&self, mut consume: impl FnMut(&UploadEntry, &Path) -> T) -> Vec<T> {
        self.take_done()
            .into_iter()
            .map(|(slot, file)| {
                let result = consume(&slot.entry, file.path());
                slot.release();
                result
            })
            .collect()
    }

    /// Like [`consume`](Upload::consume), with an async function, for
    /// consumers that write elsewhere (a store, another disk). Each file is
    /// removed after its future completes.
    pub async fn consume_async<T, F, Fut>(&self, mut consume: F) -> Vec<T>
    where
        F: FnMut(UploadEntry, PathBuf) -> Fut,
        Fut: Future<Output = T>,
    {
        let mut results = Vec::new();
        for (slot, file) in self.take_done() {
            results.push(consume(slot.entry.clone(), file.path().to_path_buf()).await);
            slot.release();
        }
        results
    }

    /// Removes the finished entries from the state and hands them over.
    fn take_done(&self) -> Vec<(Slot, Arc<TempFile>)> {
        let mut state = self.state();
        let (done, pending): (Vec<Slot>, Vec<Slot>) = std::mem::take(&mut state.slots)
            .into_iter()
            .partition(|slot| slot.entry.done && slot.file.is_some());
        state.slots = pending;
        drop(state);
        done.into_iter()
            .filter_map(|slot| {
                let file = slot.file.clone()?;
                Some((slot, file))
            })
            .collect()
    }

    /// The input's `data-phx-error-refs`: every entry with an error, and the
    /// upload's own reference while it holds too many files.
    fn error_refs(state: &State, upload: &Shared) -> Option<String> {
        let mut refs: Vec<&str> = state
            .slots
            .iter()
            .filter(|slot| !slot.entry.errors.is_empty())
            .map(|slot| slot.entry.entry_ref.as_str())
            .collect();
        if state.slots.len() > upload.options.max_entries {
            refs.push(&upload.upload_ref);
        }
        (!refs.is_empty()).then(|| refs.join(","))
    }

    /// Registers the files the client described (a change event or a
    /// preflight); known references are kept as they are. Returns every
    /// error of the upload, as `[ref, reason]` pairs.
    fn put_entries(&self, described: &[ClientEntry]) -> Vec<(String, UploadError)> {
        let options = &self.0.options;
        let mut replaced = Vec::new();
        {
            let mut state = self.state();
            // A single-file upload: a newly picked file replaces the old one.
            if options.max_entries == 1 {
                if let [only] = described {
                    if !state
                        .slots
                        .iter()
                        .any(|slot| slot.entry.entry_ref == only.entry_ref)
                    {
                        replaced = std::mem::take(&mut state.slots);
                    }
                }
            }
            for client in described {
                if state
                    .slots
                    .iter()
                    .any(|slot| slot.entry.entry_ref == client.entry_ref)
                {
                    continue;
                }
                let entry = client.to_entry(&self.0.upload_ref, self.check(client));
                let channel = if entry.valid() {
                    ChannelState::Unregistered
                } else {
                    ChannelState::Invalid
                };
                state.slots.push(Slot {
                    entry,
                    channel,
                    file: None,
                });
            }
        }
        for slot in replaced {
            slot.release();
        }
        self.error_pairs()
    }

    /// Every error of the upload, as `[ref, reason]` pairs.
    fn error_pairs(&self) -> Vec<(String, UploadError)> {
        let state = self.state();
        let mut pairs: Vec<(String, UploadError)> = state
            .slots
            .iter()
            .flat_map(|slot| {
                slot.entry
                    .errors
                    .iter()
                    .map(|error| (slot.entry.entry_ref.clone(), *error))
            })
            .collect();
        if state.slots.len() > self.0.options.max_entries {
            pairs.push((self.0.upload_ref.clone(), UploadError::TooManyFiles));
        }
        pairs
    }

    /// The rules a described file breaks.
    fn check(&self, client: &ClientEntry) -> Vec<UploadError> {
        let options = &self.0.options;
        let mut errors = Vec::new();
        match client.size {
            Some(size) if size <= options.max_file_size => {}
            _ => errors.push(UploadError::TooLarge),
        }
        if errors.is_empty() && !self.accepts(client) {
            errors.push(UploadError::NotAccepted);
        }
        errors
    }

    fn accepts(&self, client: &ClientEntry) -> bool {
        let Some(accept) = &self.0.options.accept else {
            return true;
        };
        let content_type = client.content_type.to_ascii_lowercase();
        let name = client.name.to_ascii_lowercase();
        accept.iter().any(|specifier| {
            let specifier = specifier.to_ascii_lowercase();
            if specifier.starts_with('.') {
                name.ends_with(&specifier)
            } else if let Some(kind) = specifier.strip_suffix("/*") {
                content_type
                    .split_once('/')
                    .is_some_and(|(given, _)| given == kind)
            } else {
                content_type == specifier
            }
        })
    }

    /// Answers a preflight for the entries `refs`: a token for each good
    /// one the upload has room for, the reasons for each refused one.
    fn preflight(&self, refs: &[String], tokens: &TokenIssuer<'_>) -> Value {
        let options = &self.0.options;
        let mut entries = serde_json::Map::new();
        let mut errors = serde_json::Map::new();
        {
            let mut state = self.state();
            for (index, slot) in state.slots.iter_mut().enumerate() {
                let entry = &mut slot.entry;
                if index >= options.max_entries
                    || entry.preflighted
                    || !refs.contains(&entry.entry_ref)
                {
                    continue;
                }
                entry.preflighted = true;
                if entry.valid() {
                    let token = tokens.issue(&self.0.upload_ref, &entry.entry_ref);
                    entries.insert(entry.entry_ref.clone(), Value::String(token));
                } else {
                    let codes = entry
                        .errors
                        .iter()
                        .map(|error| Value::from(error.code()))
                        .collect();
                    errors.insert(entry.entry_ref.clone(), Value::Array(codes));
                }
            }
        }
        json!({
            "ref": self.0.upload_ref,
            "config": {
                "max_file_size": options.max_file_size,
                "max_entries": options.max_entries,
                "chunk_size": options.chunk_size.min(tokens.max_chunk),
                "chunk_timeout": u64::try_from(options.chunk_timeout.as_millis()).unwrap_or(u64::MAX),
            },
            "entries": entries,
            "errors": errors,
        })
    }

    /// The client's progress report for `entry_ref`. Returns whether the
    /// page changed.
    fn progress(&self, entry_ref: &str, progress: u8) -> bool {
        let mut state = self.state();
        let Some(slot) = state
            .slots
            .iter_mut()
            .find(|slot| slot.entry.entry_ref == entry_ref)
        else {
            return false;
        };
        // Done means every byte is on disk, whatever the client says.
        let complete = slot.file.as_ref().is_some_and(|file| file.is_complete());
        let progress = if progress == 100 && !complete {
            tracing::warn!(
                entry_ref,
                "the client reported an upload finished before all of its bytes arrived"
            );
            99
        } else {
            progress
        };
        let before = (slot.entry.progress, slot.entry.done);
        slot.entry.progress = slot.entry.progress.max(progress);
        slot.entry.done = slot.entry.progress == 100;
        before != (slot.entry.progress, slot.entry.done)
    }

    /// A channel process claims the entry `entry_ref`.
    fn register(&self, entry_ref: &str, channel: &Pid) -> Result<Registration, &'static str> {
        let mut state = self.state();
        let slot = state
            .slots
            .iter_mut()
            .find(|slot| slot.entry.entry_ref == entry_ref)
            .ok_or("disallowed")?;
        match &slot.channel {
            ChannelState::Unregistered if slot.entry.preflighted => {}
            ChannelState::Registered(_) => return Err("already_registered"),
            ChannelState::Unregistered | ChannelState::Invalid => return Err("disallowed"),
        }
        let dir = self
            .0
            .options
            .dir
            .clone()
            .unwrap_or_else(std::env::temp_dir);
        let (file, handle) = TempFile::create(&dir).map_err(|error| {
            tracing::error!(dir = %dir.display(), %error, "could not create an upload's temporary file");
            "writer_error"
        })?;
        if slot.entry.size == 0 {
            file.mark_complete();
        }
        slot.channel = ChannelState::Registered(channel.clone());
        slot.file = Some(file.clone());
        Ok(Registration {
            size: slot.entry.size,
            chunk_timeout: self.0.options.chunk_timeout,
            file,
            handle,
        })
    }

    /// The channel process `pid` ended: its entry goes, with its file.
    /// Returns whether it was one of this upload's.
    fn channel_down(&self, pid: &Pid) -> bool {
        let removed = {
            let mut state = self.state();
            let index = state
                .slots
                .iter()
                .position(|slot| slot.channel == ChannelState::Registered(pid.clone()));
            index.map(|index| state.slots.remove(index))
        };
        match removed {
            Some(slot) => {
                slot.release();
                true
            }
            None => false,
        }
    }
}

/// A file as the client describes it, in a change event's `uploads` or a
/// preflight.
#[derive(Clone, Debug, Deserialize)]
struct ClientEntry {
    #[serde(rename = "ref")]
    entry_ref: String,
    #[serde(default)]
    name: String,
    /// Not a whole number of bytes counts as too large, as in Phoenix.
    #[serde(default, deserialize_with = "size")]
    size: Option<u64>,
    #[serde(rename = "type", default)]
    content_type: String,
    #[serde(default)]
    relative_path: Option<String>,
    #[serde(default)]
    last_modified: Option<Value>,
}

fn size<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(Value::deserialize(deserializer)?.as_u64())
}

impl ClientEntry {
    fn to_entry(&self, upload_ref: &str, errors: Vec<UploadError>) -> UploadEntry {
        UploadEntry {
            entry_ref: self.entry_ref.clone(),
            upload_ref: upload_ref.to_string(),
            name: if self.name.is_empty() {
                self.entry_ref.clone()
            } else {
                self.name.clone()
            },
            size: self.size.unwrap_or(0),
            content_type: self.content_type.clone(),
            relative_path: self.relative_path.clone().unwrap_or_default(),
            last_modified: self.last_modified.as_ref().and_then(Value::as_i64),
            progress: 0,
            done: false,
            preflighted: false,
            errors,
        }
    }
}

/// Signs the tokens a preflight hands out.
struct TokenIssuer<'a> {
    signer: &'a Signer,
    view: &'a str,
    max_chunk: usize,
}

impl TokenIssuer<'_> {
    fn issue(&self, upload_ref: &str, entry_ref: &str) -> String {
        self.signer.sign(&UploadToken {
            view: self.view.to_string(),
            upload: upload_ref.to_string(),
            entry: entry_ref.to_string(),
        })
    }
}

/// What an upload token names: the view's process (by its key in the
/// registry), the upload and the entry.
#[derive(Serialize, Deserialize)]
struct UploadToken {
    #[serde(rename = "v")]
    view: String,
    #[serde(rename = "u")]
    upload: String,
    #[serde(rename = "e")]
    entry: String,
}

/// What a channel process gets when it claims an entry.
pub(crate) struct Registration {
    size: u64,
    chunk_timeout: Duration,
    file: Arc<TempFile>,
    handle: std::fs::File,
}

/// Messages from upload channels to the view's process.
pub(crate) enum ToView {
    /// A channel joined with a good token: it claims the entry.
    Register {
        upload_ref: String,
        entry_ref: String,
        channel: Pid,
        reply: oneshot::Sender<Result<Registration, &'static str>>,
    },
}

/// Shared by every view of one router: signs and checks upload tokens,
/// and finds a token's view.
pub(crate) struct UploadService {
    signer: Signer,
    views: Registry<Arc<str>, Recipient<ToView>>,
    max_chunk: usize,
}

impl UploadService {
    /// A service signing with `signer`, for sockets taking messages of at
    /// most `max_message_bytes`.
    pub(crate) fn new(signer: Signer, max_message_bytes: usize) -> Self {
        UploadService {
            signer,
            views: Registry::unique(),
            max_chunk: max_message_bytes
                .saturating_sub(FRAME_HEADER_ROOM)
                .max(FRAME_HEADER_ROOM),
        }
    }
}

/// A view's uploads, kept by its [`Socket`](super::Socket).
#[derive(Default)]
pub(crate) struct Uploads {
    service: Option<Arc<UploadService>>,
    /// Boxed when the view allows its first upload: most views never do.
    allowed: Option<Box<Allowed>>,
}

/// The uploads a view allowed.
#[derive(Default)]
struct Allowed {
    /// The view's key in the service's registry, once connected.
    key: Option<Arc<str>>,
    uploads: Vec<Upload>,
}

impl Uploads {
    /// Connects a view's uploads to the router's service.
    pub(crate) fn connect(&mut self, service: Arc<UploadService>) {
        self.service = Some(service);
    }

    /// Allows the upload `name`, replacing (and cancelling) an earlier one
    /// of that name. `view` is the view's process and where channels reach
    /// it, when connected.
    pub(crate) fn allow(
        &mut self,
        name: &str,
        options: UploadOptions,
        view: Option<(&Pid, Recipient<ToView>)>,
    ) -> Upload {
        let allowed = self.allowed.get_or_insert_with(Box::default);
        if let (Some(service), Some((pid, recipient)), None) = (&self.service, view, &allowed.key) {
            let key: Arc<str> = random_id("").into();
            match service.views.register(key.clone(), pid, recipient) {
                Ok(()) => allowed.key = Some(key),
                Err(error) => tracing::error!(%error, "could not register a view for uploads"),
            }
        }
        let upload = Upload::new(name, options);
        if let Some(old) = allowed.uploads.iter_mut().find(|old| old.name() == name) {
            old.cancel_all();
            *old = upload.clone();
        } else {
            allowed.uploads.push(upload.clone());
        }
        upload
    }

    /// The uploads the view allowed.
    fn uploads(&self) -> &[Upload] {
        self.allowed
            .as_deref()
            .map_or(&[], |allowed| &allowed.uploads)
    }

    /// The view's key in the service's registry, once it allowed an
    /// upload while connected.
    fn key(&self) -> Option<&Arc<str>> {
        self.allowed.as_deref()?.key.as_ref()
    }

    fn by_ref(&self, upload_ref: &str) -> Option<&Upload> {
        self.uploads()
            .iter()
            .find(|upload| upload.upload_ref() == upload_ref)
    }

    /// The `uploads` map of a form's change event: registers the files
    /// picked for each known upload.
    pub(crate) fn register_described(&self, uploads: &Value) {
        let Some(uploads) = uploads.as_object() else {
            return;
        };
        for (upload_ref, entries) in uploads {
            // An input rendered before its upload was replaced can still
            // send the old reference; there is nothing to register it to.
            let Some(upload) = self.by_ref(upload_ref) else {
                continue;
            };
            upload.put_entries(&described(entries));
        }
    }

    /// Answers `allow_upload` and `progress` on the view's channel: the
    /// reply's response, before any diff is added.
    pub(crate) fn client_message(&self, inbound: &Inbound) -> serde_json::Map<String, Value> {
        let payload = inbound.payload_value();
        match inbound.event() {
            "allow_upload" => self.allow_upload(&payload),
            "progress" => {
                self.progress(&payload);
                serde_json::Map::new()
            }
            _ => serde_json::Map::new(),
        }
    }

    /// The preflight: registers the entries, then answers with a token per
    /// good entry, or with the errors that stop the upload.
    fn allow_upload(&self, payload: &Value) -> serde_json::Map<String, Value> {
        let upload_ref = payload.get("ref").and_then(Value::as_str).unwrap_or("");
        let entries = described(payload.get("entries").unwrap_or(&Value::Null));
        let refused = |reason: &str| {
            let mut response = serde_json::Map::new();
            response.insert("ref".into(), upload_ref.into());
            response.insert("error".into(), json!([[upload_ref, reason]]));
            response
        };
        let (Some(upload), Some(service), Some(key)) =
            (self.by_ref(upload_ref), &self.service, self.key())
        else {
            tracing::warn!(
                upload_ref,
                "a preflight for an upload this view has not allowed"
            );
            return refused("disallowed");
        };
        let errors = upload.put_entries(&entries);
        // Without auto-upload, any error stops the whole form's upload (the
        // client cancels every entry); with it, good files go on their own.
        if !upload.0.options.auto_upload && !errors.is_empty() {
            let pairs: Vec<Value> = errors
                .iter()
                .map(|(entry_ref, error)| json!([entry_ref, error.code()]))
                .collect();
            let mut response = serde_json::Map::new();
            response.insert("ref".into(), upload_ref.into());
            response.insert("error".into(), Value::Array(pairs));
            return response;
        }
        let refs: Vec<String> = entries.into_iter().map(|entry| entry.entry_ref).collect();
        let tokens = TokenIssuer {
            signer: &service.signer,
            view: key,
            max_chunk: service.max_chunk,
        };
        match upload.preflight(&refs, &tokens) {
            Value::Object(response) => response,
            _ => serde_json::Map::new(),
        }
    }

    fn progress(&self, payload: &Value) -> bool {
        let upload_ref = payload.get("ref").and_then(Value::as_str);
        let entry_ref = payload.get("entry_ref").and_then(Value::as_str);
        let (Some(upload_ref), Some(entry_ref)) = (upload_ref, entry_ref) else {
            tracing::warn!(%payload, "ignoring a progress report without ref and entry_ref");
            return false;
        };
        let Some(upload) = self.by_ref(upload_ref) else {
            return false;
        };
        match payload.get("progress") {
            Some(Value::Number(number)) => match number.as_u64() {
                Some(percent @ 0..=100) => upload.progress(entry_ref, percent as u8),
                _ => {
                    tracing::warn!(%number, "ignoring a progress outside 0 to 100");
                    false
                }
            },
            Some(Value::Object(error)) => {
                // The client gave the file up (it also leaves the channel,
                // whose end removes the entry).
                tracing::info!(entry_ref, error = ?error.get("error"), "the client reported an upload error");
                false
            }
            _ => false,
        }
    }

    /// A message from an upload channel. Returns whether the page changed.
    pub(crate) fn handle<M: Send + 'static>(&self, message: ToView, ctx: &Context<M>) -> bool {
        match message {
            ToView::Register {
                upload_ref,
                entry_ref,
                channel,
                reply,
            } => {
                let registered = match self.by_ref(&upload_ref) {
                    Some(upload) => upload.register(&entry_ref, &channel),
                    None => Err("disallowed"),
                };
                if registered.is_ok() {
                    // Its end, however it comes, releases the entry.
                    ctx.monitor(&channel);
                }
                if let Err(Ok(registration)) = reply.send(registered) {
                    // The channel is gone already: forget it.
                    drop(registration);
                    return self.channel_down(&channel);
                }
                false
            }
        }
    }

    /// A monitored process ended; if it was an upload channel, its entry
    /// goes. Returns whether the page changed.
    pub(crate) fn channel_down(&self, pid: &Pid) -> bool {
        self.uploads().iter().any(|upload| upload.channel_down(pid))
    }
}

fn described(entries: &Value) -> Vec<ClientEntry> {
    let Some(list) = entries.as_array() else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|entry| match ClientEntry::deserialize(entry) {
            Ok(entry) => Some(entry),
            Err(error) => {
                tracing::warn!(%error, "ignoring a malformed upload entry");
                None
            }
        })
        .collect()
}

/// Adds `diff` (JSON text) to a reply's response.
pub(crate) fn with_diff(response: serde_json::Map<String, Value>, diff: Option<String>) -> String {
    let rest = Value::Object(response).to_string();
    match diff {
        None => rest,
        Some(diff) if rest == "{}" => format!(r#"{{"diff":{diff}}}"#),
        Some(diff) => format!(r#"{{"diff":{diff},{}"#, &rest[1..]),
    }
}

/// A temporary file an upload writes into; removed when the last holder
/// lets it go, unless it was moved away before.
pub(crate) struct TempFile {
    path: PathBuf,
    complete: AtomicBool,
}

impl TempFile {
    fn create(dir: &Path) -> std::io::Result<(Arc<TempFile>, std::fs::File)> {
        let path = dir.join(random_id("cinder-upload-"));
        let handle = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        let file = TempFile {
            path,
            complete: AtomicBool::new(false),
        };
        Ok((Arc::new(file), handle))
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn is_complete(&self) -> bool {
        self.complete.load(Ordering::Acquire)
    }

    fn mark_complete(&self) {
        self.complete.store(true, Ordering::Release);
    }

    fn remove(&self) {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::error!(path = %self.path.display(), %error, "could not remove an upload's temporary file")
            }
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.remove();
    }
}

fn random_id(prefix: &str) -> String {
    let bytes: [u8; 16] = crate::random::bytes();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Entries by reference, for tests of the preflight's answers.
#[cfg(test)]
fn by_entry(upload: &Upload) -> std::collections::BTreeMap<String, UploadEntry> {
    upload
        .entries()
        .into_iter()
        .map(|entry| (entry.entry_ref.clone(), entry))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Component;

    fn client(entry_ref: &str, name: &str, size: u64, content_type: &str) -> ClientEntry {
        ClientEntry {
            entry_ref: entry_ref.into(),
            name: name.into(),
            size: Some(size),
            content_type: content_type.into(),
            relative_path: None,
            last_modified: None,
        }
    }

    fn photos() -> Upload {
        Upload::new(
            "photos",
            UploadOptions::new()
                .accept(&[".txt", "image/*", "application/pdf"])
                .max_entries(2)
                .max_file_size(1_000),
        )
    }

    #[test]
    fn files_are_checked_for_size_and_kind() {
        let upload = photos();
        let errors = upload.put_entries(&[
            client("0", "a.png", 10, "image/png"),
            client("1", "NOTES.TXT", 10, ""),
            client("2", "b.gif", 5_000, "image/gif"),
            client("3", "c.zip", 10, "application/zip"),
            client("4", "d.pdf", 10, "application/pdf"),
        ]);
        let entries = by_entry(&upload);
        assert!(entries["0"].valid());
        assert!(entries["1"].valid(), "extensions match case-insensitively");
        assert_eq!(entries["2"].errors, [UploadError::TooLarge]);
        assert_eq!(entries["3"].errors, [UploadError::NotAccepted]);
        assert!(entries["4"].valid());
        assert!(errors.contains(&(upload.upload_ref().to_string(), UploadError::TooManyFiles)));
        assert_eq!(upload.errors(), [UploadError::TooManyFiles]);
        upload.cancel("2");
        upload.cancel("3");
        upload.cancel("4");
        assert!(upload.errors().is_empty());
    }

    #[test]
    fn a_size_that_is_not_a_whole_number_is_too_large() {
        let upload = photos();
        let entries: Vec<ClientEntry> = serde_json::from_value(
            json!([{"ref": "0", "name": "a.txt", "size": "big", "type": "text/plain"}]),
        )
        .unwrap();
        upload.put_entries(&entries);
        assert_eq!(upload.entries()[0].errors, [UploadError::TooLarge]);
    }

    #[test]
    fn a_new_file_replaces_the_only_one_of_a_single_file_upload() {
        let upload = Upload::new("avatar", UploadOptions::new());
        upload.put_entries(&[client("0", "a.png", 10, "image/png")]);
        upload.put_entries(&[client("0", "a.png", 10, "image/png")]);
        assert_eq!(upload.entries().len(), 1);
        upload.put_entries(&[client("1", "b.png", 10, "image/png")]);
        let refs: Vec<String> = upload.entries().into_iter().map(|e| e.entry_ref).collect();
        assert_eq!(refs, ["1"]);
    }

    #[test]
    fn the_input_carries_what_the_client_reads() {
        let upload = photos();
        upload.put_entries(&[
            client("0", "a.png", 10, "image/png"),
            client("1", "b.zip", 10, "application/zip"),
        ]);
        let html = FileInput { upload: &upload }.render().to_html();
        let id = upload.upload_ref();
        assert_eq!(
            html,
            format!(
                r#"<input id="{id}" type="file" name="photos" accept=".txt,image/*,application/pdf" data-phx-hook="Phoenix.LiveFileUpload" data-phx-upload-ref="{id}" data-phx-active-refs="0,1" data-phx-done-refs="" data-phx-preflighted-refs="" data-phx-error-refs="1" multiple>"#
            )
        );
    }

    #[test]
    fn a_diff_goes_first_in_a_reply() {
        let mut response = serde_json::Map::new();
        response.insert("ref".into(), "phx-1".into());
        assert_eq!(with_diff(response.clone(), None), r#"{"ref":"phx-1"}"#);
        assert_eq!(
            with_diff(response, Some(r#"{"0":"x"}"#.into())),
            r#"{"diff":{"0":"x"},"ref":"phx-1"}"#
        );
        assert_eq!(
            with_diff(serde_json::Map::new(), Some("{}".into())),
            r#"{"diff":{}}"#
        );
    }

    #[test]
    fn a_temporary_file_is_removed_with_its_last_holder() {
        let dir = std::env::temp_dir();
        let (file, handle) = TempFile::create(&dir).unwrap();
        drop(handle);
        let path = file.path().to_path_buf();
        assert!(path.exists());
        let other = file.clone();
        drop(file);
        assert!(path.exists());
        drop(other);
        assert!(!path.exists());
    }
}
