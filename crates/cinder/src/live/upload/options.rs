//! What an upload accepts, and the errors an entry can have.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// What may be uploaded, and how: the rules checked when the client
/// registers files and again while their bytes arrive.
///
/// ```
/// use std::time::Duration;
/// use cinder::live::UploadOptions;
///
/// let options = UploadOptions::new()
///     .accept(&[".txt", "image/*"])
///     .max_entries(3)
///     .max_file_size(1_000_000)
///     .chunk_size(64_000)
///     .chunk_timeout(Duration::from_secs(10))
///     .auto_upload(true);
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct UploadOptions {
    pub(super) accept: Option<Vec<String>>,
    pub(super) max_entries: usize,
    pub(super) max_file_size: u64,
    pub(super) chunk_size: usize,
    pub(super) chunk_timeout: Duration,
    pub(super) auto_upload: bool,
    pub(super) dir: Option<PathBuf>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions::new()
    }
}

impl UploadOptions {
    /// Phoenix's defaults: any file, one at a time, at most 8 MB, sent in
    /// chunks of 64 kB with at most 10 s between chunks, when the form is
    /// submitted.
    pub fn new() -> Self {
        UploadOptions {
            accept: None,
            max_entries: 1,
            max_file_size: 8_000_000,
            chunk_size: 64_000,
            chunk_timeout: Duration::from_secs(10),
            auto_upload: false,
            dir: None,
        }
    }

    /// The kinds of file accepted, as in the HTML `accept` attribute: file
    /// extensions (`".png"`, matched case-insensitively against the file's
    /// name), MIME types (`"text/plain"`) and the wildcards `"image/*"`,
    /// `"audio/*"` and `"video/*"`. Other files get
    /// [`UploadError::NotAccepted`]. Specifiers that are neither an
    /// extension nor a MIME type are ignored, with an error in the log.
    pub fn accept(mut self, specifiers: &[&str]) -> Self {
        let mut valid = Vec::new();
        for specifier in specifiers {
            let specifier = specifier.trim();
            let extension = specifier.len() > 1 && specifier.starts_with('.');
            let mime = specifier
                .split_once('/')
                .is_some_and(|(kind, sub)| !kind.is_empty() && !sub.is_empty());
            if extension || mime {
                valid.push(specifier.to_string());
            } else {
                tracing::error!(
                    specifier,
                    "ignoring an accept specifier that is neither an extension like \".png\" nor a MIME type like \"image/*\""
                );
            }
        }
        self.accept = Some(valid);
        self
    }

    /// Any kind of file (the default).
    pub fn accept_any(mut self) -> Self {
        self.accept = None;
        self
    }

    /// How many files may be picked at once (default 1). With more than one,
    /// the input allows picking several; picking more than this many gives
    /// the upload [`UploadError::TooManyFiles`] until some are cancelled.
    pub fn max_entries(mut self, max: usize) -> Self {
        self.max_entries = max.max(1);
        self
    }

    /// The largest file accepted, in bytes (default 8,000,000); larger ones
    /// get [`UploadError::TooLarge`].
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// The size of each chunk the client sends (default 64,000 bytes). It is
    /// capped to fit in one socket message
    /// ([`SocketConfig::max_message_bytes`](crate::socket::SocketConfig::max_message_bytes),
    /// 1 MiB by default).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// How long the server waits for the first chunk, and then for each
    /// next one, before it closes the file's channel and removes what
    /// arrived (default 10 s).
    pub fn chunk_timeout(mut self, timeout: Duration) -> Self {
        self.chunk_timeout = timeout;
        self
    }

    /// Whether files are sent as soon as they are picked (`true`), or when
    /// the form is submitted (`false`, the default).
    pub fn auto_upload(mut self, auto: bool) -> Self {
        self.auto_upload = auto;
        self
    }

    /// Where the temporary files are written (default
    /// [`std::env::temp_dir`]).
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }
}

/// Why a file was refused. Such an entry stays listed, with its errors,
/// until it is cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UploadError {
    /// The file is larger than [`UploadOptions::max_file_size`].
    TooLarge,
    /// More files were picked than [`UploadOptions::max_entries`] (an error
    /// of the whole upload, see [`Upload::errors`](super::Upload::errors)).
    TooManyFiles,
    /// The file's type or extension is not in [`UploadOptions::accept`].
    NotAccepted,
}

impl UploadError {
    /// The error's name in the protocol and in Phoenix: `"too_large"`,
    /// `"too_many_files"` or `"not_accepted"`.
    pub fn code(self) -> &'static str {
        match self {
            UploadError::TooLarge => "too_large",
            UploadError::TooManyFiles => "too_many_files",
            UploadError::NotAccepted => "not_accepted",
        }
    }
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UploadError::TooLarge => "the file is too large",
            UploadError::TooManyFiles => "too many files were picked",
            UploadError::NotAccepted => "this kind of file is not accepted",
        })
    }
}

impl std::error::Error for UploadError {}
