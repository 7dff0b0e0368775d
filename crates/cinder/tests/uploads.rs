//! File uploads over the real socket, frame by frame as the official client
//! sends them: files registered by a form change, the preflight and its
//! refusals, the `lvu:` channel with binary chunks, progress, consuming,
//! cancelling, and the temporary files each way of ending leaves behind
//! (none).

mod common;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cinder::live::{
    Config, Event, FileInput, LiveRouter, LiveView, MountError, Params, Session, Socket, Upload,
    UploadOptions,
};
use cinder::{html, Rendered};
use common::{connect, get, join_at, Client, Page, PATIENCE};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as Frame;

/// Where the view under test writes its temporary files.
#[derive(Clone)]
struct UploadDir(PathBuf);

/// A form with one upload, whose rules come from the URL: `max` files of at
/// most `size` bytes, `auto` upload, a `timeout` in milliseconds; text
/// files and images only.
struct Files {
    upload: Upload,
    saved: Vec<String>,
}

impl LiveView for Files {
    type Info = ();

    async fn mount(
        params: &Params,
        _session: &Session,
        socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        let number = |name: &str, default: u64| {
            params
                .get(name)
                .and_then(|value| value.parse().ok())
                .unwrap_or(default)
        };
        let dir = socket
            .state::<UploadDir>()
            .map(|dir| dir.0.clone())
            .unwrap_or_else(std::env::temp_dir);
        let options = UploadOptions::new()
            .accept(&[".txt", "image/*"])
            .max_entries(number("max", 2) as usize)
            .max_file_size(number("size", 1_000))
            .chunk_size(number("chunk", 64_000) as usize)
            .chunk_timeout(Duration::from_millis(number("timeout", 10_000)))
            .auto_upload(params.get("auto").is_some())
            .dir(dir);
        Ok(Files {
            upload: socket.allow_upload("files", options),
            saved: Vec::new(),
        })
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Self>) {
        match event.name() {
            "validate" => {}
            "cancel" => {
                self.upload.cancel(event.get("ref").unwrap_or_default());
            }
            "save" => {
                let saved = self.upload.consume(|entry, path| {
                    let text = std::fs::read_to_string(path).unwrap();
                    format!("{}={text}", entry.name)
                });
                self.saved.extend(saved);
            }
            "save_async" => {
                let saved = self
                    .upload
                    .consume_async(|entry, path| async move {
                        let text = tokio::fs::read_to_string(&path).await.unwrap();
                        format!("{} (async)={text}", entry.name)
                    })
                    .await;
                self.saved.extend(saved);
            }
            "crash" => panic!("the view crashes on purpose"),
            other => panic!("unexpected event {other}"),
        }
    }

    fn render(&self) -> Rendered {
        let entries = self.upload.entries();
        let upload_errors: Vec<&str> = self.upload.errors().iter().map(|e| e.code()).collect();
        html! {
            <form id="files" phx-change="validate" phx-submit="save">
                <FileInput upload={&self.upload} />
                <p id="upload-errors">{upload_errors.join(",")}</p>
                <ul>
                    @for entry in &entries {
                        <li>{format!("entry {} {} {}% done={} errors={}", entry.entry_ref, entry.name, entry.progress, entry.done, entry.errors.iter().map(|e| e.code()).collect::<Vec<_>>().join(","))}</li>
                    }
                </ul>
                <ol>
                    @for saved in &self.saved {
                        <li>{format!("saved {saved}")}</li>
                    }
                </ol>
            </form>
        }
    }
}

struct App {
    app: common::App,
    dir: PathBuf,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl App {
    async fn start() -> App {
        let dir = std::env::temp_dir().join(format!(
            "cinder-upload-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let router = LiveRouter::new(Config::new([7u8; 32]).unwrap())
            .state(UploadDir(dir.clone()))
            .live::<Files>("/files")
            .into_router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(async move { cinder::serve(listener, router).await });
        App {
            app: common::App { address, task },
            dir,
        }
    }

    /// The temporary files in the upload directory.
    fn files(&self) -> Vec<PathBuf> {
        files_in(&self.dir)
    }

    /// Waits until the upload directory is empty.
    async fn no_files_left(&self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !self.files().is_empty() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "files left behind: {:?}",
                self.files()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect()
}

/// A browser tab on `/files`, joined: the socket, with frames that arrived
/// while the test waited for another kept in order.
struct Tab {
    client: Client,
    pending: VecDeque<Value>,
    topic: String,
    upload_ref: String,
    next_ref: u32,
}

impl Tab {
    async fn open(app: &App, query: &str) -> Tab {
        let page: Page = get(&app.app, &format!("/files{query}")).await;
        assert_eq!(page.status, 200, "{}", page.html);
        let mut client = connect(&app.app, &page.cookie, &page.csrf, None)
            .await
            .unwrap();
        let joined = join_at(
            &mut client,
            &page,
            &format!("http://localhost/files{query}"),
        )
        .await;
        assert_eq!(joined[4]["status"], "ok", "{joined}");
        let upload_ref = attribute_in(&joined, "data-phx-upload-ref").expect("a file input");
        Tab {
            client,
            pending: VecDeque::new(),
            topic: format!("lv:{}", page.id),
            upload_ref,
            next_ref: 10,
        }
    }

    fn make_ref(&mut self) -> String {
        self.next_ref += 1;
        self.next_ref.to_string()
    }

    async fn send(&mut self, frame: Value) {
        self.client
            .send(Frame::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    /// The next frame `matches` accepts; others wait their turn.
    async fn expect(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(index) = self.pending.iter().position(&matches) {
            return self.pending.remove(index).unwrap();
        }
        loop {
            let frame = match tokio::time::timeout(PATIENCE, self.client.next())
                .await
                .expect("a frame in time")
                .expect("the socket open")
                .unwrap()
            {
                Frame::Text(text) => serde_json::from_str::<Value>(&text).unwrap(),
                Frame::Ping(_) | Frame::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            };
            if matches(&frame) {
                return frame;
            }
            self.pending.push_back(frame);
        }
    }

    /// The reply to the message `msg_ref` on `topic`.
    async fn reply(&mut self, topic: &str, msg_ref: &str) -> Value {
        self.expect(|frame| frame[1] == msg_ref && frame[2] == topic && frame[3] == "phx_reply")
            .await
    }

    /// The next push of `event` on `topic`.
    async fn push(&mut self, topic: &str, event: &str) -> Value {
        self.expect(|frame| frame[2] == topic && frame[3] == event)
            .await
    }

    /// Sends `event` on the view's channel; returns the reply.
    async fn lv(&mut self, event: &str, payload: Value) -> Value {
        let msg_ref = self.make_ref();
        let topic = self.topic.clone();
        self.send(json!(["4", msg_ref, topic, event, payload]))
            .await;
        self.reply(&topic, &msg_ref).await
    }

    /// A form change registering `files` (`(ref, name, size, type)`).
    async fn pick(&mut self, files: &[(&str, &str, u64, &str)]) -> Value {
        let entries = describe(files);
        let uploads = json!({ self.upload_ref.clone(): entries });
        self.lv(
            "event",
            json!({"type": "form", "event": "validate", "value": "", "meta": {"_target": "files"}, "uploads": uploads}),
        )
        .await
    }

    /// The preflight for `files`.
    async fn preflight(&mut self, files: &[(&str, &str, u64, &str)]) -> Value {
        let upload_ref = self.upload_ref.clone();
        self.lv(
            "allow_upload",
            json!({"ref": upload_ref, "entries": describe(files)}),
        )
        .await
    }

    /// Joins `lvu:<entry_ref>` with `token`; returns the reply.
    async fn join_upload(&mut self, entry_ref: &str, token: &str) -> Value {
        let join_ref = self.make_ref();
        let topic = format!("lvu:{entry_ref}");
        self.send(json!([join_ref, join_ref, topic, "phx_join", {"token": token}]))
            .await;
        self.reply(&topic, &join_ref).await
    }

    /// Sends one binary chunk on `lvu:<entry_ref>` (joined as `join_ref`);
    /// returns the reply.
    async fn chunk(&mut self, entry_ref: &str, join_ref: &str, bytes: &[u8]) -> Value {
        let msg_ref = self.make_ref();
        let topic = format!("lvu:{entry_ref}");
        let mut frame = vec![
            0,
            join_ref.len() as u8,
            msg_ref.len() as u8,
            topic.len() as u8,
            b"chunk".len() as u8,
        ];
        for field in [join_ref, &msg_ref, &topic, "chunk"] {
            frame.extend_from_slice(field.as_bytes());
        }
        frame.extend_from_slice(bytes);
        self.client.send(Frame::Binary(frame.into())).await.unwrap();
        self.reply(&topic, &msg_ref).await
    }

    async fn progress(&mut self, entry_ref: &str, progress: Value) -> Value {
        let upload_ref = self.upload_ref.clone();
        self.lv(
            "progress",
            json!({"event": null, "ref": upload_ref, "entry_ref": entry_ref, "progress": progress}),
        )
        .await
    }

    async fn click(&mut self, event: &str, value: Value) -> Value {
        self.lv(
            "event",
            json!({"type": "click", "event": event, "value": value}),
        )
        .await
    }

    async fn submit(&mut self) -> Value {
        self.lv(
            "event",
            json!({"type": "form", "event": "save", "value": "", "meta": {}}),
        )
        .await
    }

    /// Picks, preflights, joins and sends `content` as the file `entry_ref`,
    /// then reports 100 %. Returns the upload channel's join_ref.
    async fn upload(&mut self, entry_ref: &str, name: &str, content: &[u8]) -> String {
        let file = [(entry_ref, name, content.len() as u64, "text/plain")];
        self.pick(&file).await;
        let preflight = self.preflight(&file).await;
        let token = preflight[4]["response"]["entries"][entry_ref]
            .as_str()
            .unwrap_or_else(|| panic!("a token in {preflight}"))
            .to_string();
        let joined = self.join_upload(entry_ref, &token).await;
        assert_eq!(joined[4]["status"], "ok", "{joined}");
        let join_ref = joined[0].as_str().unwrap().to_string();
        for chunk in content.chunks(4) {
            let reply = self.chunk(entry_ref, &join_ref, chunk).await;
            assert_eq!(reply[4]["status"], "ok", "{reply}");
        }
        self.progress(entry_ref, json!(100)).await;
        join_ref
    }
}

fn describe(files: &[(&str, &str, u64, &str)]) -> Value {
    files
        .iter()
        .map(|(entry_ref, name, size, content_type)| {
            json!({"path": "files", "ref": entry_ref, "last_modified": 1_700_000_000_000u64, "name": name, "relative_path": "", "type": content_type, "size": size})
        })
        .collect()
}

/// The value of attribute `name` in any string of a rendered tree.
fn attribute_in(value: &Value, name: &str) -> Option<String> {
    match value {
        Value::String(text) => {
            let start = text.find(&format!("{name}=\""))? + name.len() + 2;
            Some(text[start..].split('"').next()?.to_string())
        }
        Value::Array(items) => items.iter().find_map(|item| attribute_in(item, name)),
        Value::Object(map) => map.values().find_map(|item| attribute_in(item, name)),
        _ => None,
    }
}

/// Whether any string of a reply or diff contains `text`.
fn shows(value: &Value, text: &str) -> bool {
    match value {
        Value::String(string) => string.contains(text),
        Value::Array(items) => items.iter().any(|item| shows(item, text)),
        Value::Object(map) => map.values().any(|item| shows(item, text)),
        _ => false,
    }
}

#[tokio::test]
async fn two_files_sent_side_by_side_arrive_whole_and_consuming_removes_them() {
    let app = App::start().await;
    let mut tab = Tab::open(&app, "").await;
    let files = [
        ("0", "a.txt", 10, "text/plain"),
        ("1", "b.txt", 6, "text/plain"),
    ];
    let picked = tab.pick(&files).await;
    assert!(
        shows(&picked, "entry 0 a.txt 0% done=false errors="),
        "{picked}"
    );
    assert_eq!(
        attribute_in(&picked, "data-phx-active-refs").as_deref(),
        Some("0,1")
    );

    let preflight = tab.preflight(&files).await;
    let response = &preflight[4]["response"];
    assert_eq!(preflight[4]["status"], "ok");
    assert_eq!(response["ref"], tab.upload_ref.as_str());
    assert_eq!(
        response["config"],
        json!({"max_file_size": 1000, "max_entries": 2, "chunk_size": 64000, "chunk_timeout": 10000})
    );
    assert_eq!(response["errors"], json!({}));
    assert_eq!(
        attribute_in(response, "data-phx-preflighted-refs").as_deref(),
        Some("0,1")
    );
    let token = |entry: &str| response["entries"][entry].as_str().unwrap().to_string();
    let (token0, token1) = (token("0"), token("1"));

    let first = tab.join_upload("0", &token0).await;
    let second = tab.join_upload("1", &token1).await;
    assert_eq!(first[4], json!({"status": "ok", "response": {}}));
    assert_eq!(second[4]["status"], "ok");
    let (join0, join1) = (
        first[0].as_str().unwrap().to_string(),
        second[0].as_str().unwrap().to_string(),
    );
    assert_eq!(app.files().len(), 2, "one temporary file per entry");

    // Chunks of both files, interleaved, each acknowledged.
    for (entry, join, chunk) in [
        ("0", &join0, &b"hello"[..]),
        ("1", &join1, &b"wor"[..]),
        ("0", &join0, &b" file"[..]),
        ("1", &join1, &b"ld!"[..]),
    ] {
        let reply = tab.chunk(entry, join, chunk).await;
        assert_eq!(reply[4], json!({"status": "ok", "response": {}}), "{reply}");
    }
    let half = tab.progress("0", json!(50)).await;
    assert!(shows(&half, "entry 0 a.txt 50% done=false"), "{half}");
    let done = tab.progress("0", json!(100)).await;
    assert!(shows(&done, "entry 0 a.txt 100% done=true"), "{done}");
    assert_eq!(
        attribute_in(&done, "data-phx-done-refs").as_deref(),
        Some("0")
    );
    tab.progress("1", json!(100)).await;

    let saved = tab.submit().await;
    assert!(shows(&saved, "saved a.txt=hello file"), "{saved}");
    assert!(shows(&saved, "saved b.txt=world!"), "{saved}");
    assert_eq!(
        attribute_in(&saved, "data-phx-active-refs").as_deref(),
        Some("")
    );
    // Consumed: the channels close and the files are gone.
    tab.push("lvu:0", "phx_close").await;
    tab.push("lvu:1", "phx_close").await;
    assert!(app.files().is_empty(), "{:?}", app.files());
}

#[tokio::test]
async fn the_preflight_refuses_files_too_large_of_the_wrong_kind_or_too_many() {
    let app = App::start().await;
    let mut tab = Tab::open(&app, "").await;

    // Without auto-upload, any error stops the form's upload, as a list
    // of [ref, reason].
    let files = [
        ("0", "big.txt", 5_000, "text/plain"),
        ("1", "tool.exe", 10, "application/x-msdownload"),
        ("2", "c.png", 10, "image/png"),
    ];
    let picked = tab.pick(&files).await;
    assert!(shows(
        &picked,
        "entry 0 big.txt 0% done=false errors=too_large"
    ));
    assert!(shows(
        &picked,
        "entry 1 tool.exe 0% done=false errors=not_accepted"
    ));
    assert!(shows(&picked, "too_many_files"), "{picked}");
    let upload_ref = tab.upload_ref.clone();
    assert_eq!(
        attribute_in(&picked, "data-phx-error-refs"),
        Some(format!("0,1,{upload_ref}"))
    );
    let preflight = tab.preflight(&files).await;
    assert_eq!(
        preflight[4]["response"],
        json!({"ref": upload_ref, "error": [["0", "too_large"], ["1", "not_accepted"], [upload_ref, "too_many_files"]]})
    );

    // Cancelling the refused entries clears their errors.
    tab.click("cancel", json!({"ref": "0"})).await;
    let cleared = tab.click("cancel", json!({"ref": "1"})).await;
    assert!(shows(&cleared, "entry 2 c.png"), "{cleared}");
    let preflight = tab.preflight(&files[2..]).await;
    assert!(preflight[4]["response"]["entries"]["2"].is_string());
    assert!(app.files().is_empty());
}

#[tokio::test]
async fn with_auto_upload_good_files_go_on_and_refused_ones_get_their_reasons() {
    let app = App::start().await;
    let mut tab = Tab::open(&app, "?auto=1").await;
    let files = [
        ("0", "a.txt", 10, "text/plain"),
        ("1", "big.png", 5_000, "image/png"),
        ("2", "c.pdf", 10, "application/pdf"),
    ];
    let picked = tab.pick(&files).await;
    assert!(shows(&picked, "too_many_files"), "{picked}");
    let preflight = tab.preflight(&files).await;
    let response = &preflight[4]["response"];
    assert!(response["entries"]["0"].is_string(), "{response}");
    assert_eq!(response["entries"].as_object().unwrap().len(), 1);
    // Only as many entries as the upload takes are answered; the third
    // waits (the client cancels it) while the upload reports too many.
    assert_eq!(response["errors"], json!({"1": ["too_large"]}));
}

#[tokio::test]
async fn a_forged_a_misdirected_or_a_reused_token_is_refused() {
    let app = App::start().await;
    let mut tab = Tab::open(&app, "").await;
    let files = [("0", "a.txt", 4, "text/plain")];
    tab.pick(&files).await;
    let preflight = tab.preflight(&files).await;
    let token = preflight[4]["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_string();

    let refused = |reason: &str| json!({"status": "error", "response": {"reason": reason}});
    let forged = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(
        tab.join_upload("0", &forged).await[4],
        refused("invalid_token")
    );
    assert_eq!(
        tab.join_upload("0", "nonsense").await[4],
        refused("invalid_token")
    );
    // A good token for entry 0 does not open entry 1.
    assert_eq!(
        tab.join_upload("1", &token).await[4],
        refused("invalid_token")
    );
    assert!(app.files().is_empty(), "no file for a refused join");

    assert_eq!(tab.join_upload("0", &token).await[4]["status"], "ok");
    // The same token again, from a second socket.
    let page = get(&app.app, "/files").await;
    let mut other = connect(&app.app, &page.cookie, &page.csrf, None)
        .await
        .unwrap();
    other
        .send(Frame::Text(
            json!(["1", "1", "lvu:0", "phx_join", {"token": token}])
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let reply = common::recv(&mut other).await;
    assert_eq!(reply[4], refused("already_registered"));
    assert_eq!(app.files().len(), 1);
}

#[tokio::test]
async fn more_bytes_than_declared_end_the_upload_and_its_file() {
    let app = App::start().await;
    let mut tab = Tab::open(&app, "").await;
    let files = [("0", "a.txt", 4, "text/plain")];
    tab.pick(&files).await;
    let preflight = tab.preflight(&files).await;
    let token = preflight[4]["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_string();
    let joined = tab.join_upload("0", &token).await;
    let join_ref = joined[0].as_str().unwrap().to_string();
    assert_eq!(tab.chunk("0", &join_ref, b"abc").await[4]["status"], "ok");
    let reply = tab.chunk("0", &join_ref, b"def").await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "file_size_limit_exceeded", "limit": 4}})
    );
    tab.push("lvu:0", "phx_close").await;
    // The view lets the entry go and shows it.
    let topic = tab.topic.clone();
    let diff = tab.push(&topic, "diff").await;
    assert_eq!(
        attribute_in(&diff, "data-phx-active-refs").as_deref(),
        Some("")
    );
    app.no_files_left().await;
}

#[tokio::test]
async fn an_upload_that_stops_sending_is_closed_after_its_chunk_timeout() {
    let app = App::start().await;
    let mut tab = Tab::open(&app, "?timeout=100").await;
    let files = [("0", "a.txt", 8, "text/plain")];
    tab.pick(&files).await;
    let preflight = tab.preflight(&files).await;
    assert_eq!(preflight[4]["response"]["config"]["chunk_timeout"], 100);
    let token = preflight[4]["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_string();
    let joined = tab.join_upload("0", &token).await;
    let join_ref = joined[0].as_str().unwrap().to_string();
    assert_eq!(tab.chunk("0", &join_ref, b"half").await[4]["status"], "ok");
    assert_eq!(app.files().len(), 1);
    // Nothing more comes.
    tab.push("lvu:0", "phx_close").await;
    let topic = tab.topic.clone();
    let diff = tab.push(&topic, "diff").await;
    assert_eq!(
        attribute_in(&diff, "data-phx-active-refs").as_deref(),
        Some("")
    );
    app.no_files_left().await;
}

#[tokio::test]
async fn cancelling_an_entry_stops_its_channel_and_removes_its_file() {
    let app = App::start().await;
    let mut tab = Tab::open(&app, "").await;
    let files = [("0", "a.txt", 8, "text/plain")];
    tab.pick(&files).await;
    let preflight = tab.preflight(&files).await;
    let token = preflight[4]["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_string();
    let joined = tab.join_upload("0", &token).await;
    let join_ref = joined[0].as_str().unwrap().to_string();
    tab.chunk("0", &join_ref, b"half").await;
    assert_eq!(app.files().len(), 1);

    let cancelled = tab.click("cancel", json!({"ref": "0"})).await;
    assert_eq!(
        attribute_in(&cancelled, "data-phx-active-refs").as_deref(),
        Some("")
    );
    tab.push("lvu:0", "phx_close").await;
    assert!(app.files().is_empty(), "{:?}", app.files());
}

#[tokio::test]
async fn a_crashing_view_takes_its_uploads_and_their_files_along() {
    let app = App::start().await;
    let mut tab = Tab::open(&app, "").await;
    tab.upload("0", "a.txt", b"finished").await;
    assert_eq!(app.files().len(), 1, "a finished file waits to be consumed");

    tab.click_and_crash().await;
    tab.push("lvu:0", "phx_close").await;
    app.no_files_left().await;
}

impl Tab {
    /// Sends the event that makes the view panic; its channel errors.
    async fn click_and_crash(&mut self) {
        let msg_ref = self.make_ref();
        let topic = self.topic.clone();
        self.send(
            json!(["4", msg_ref, topic, "event", {"type": "click", "event": "crash", "value": {}}]),
        )
        .await;
        let error = self.push(&topic, "phx_error").await;
        assert_eq!(error[4], json!({"reason": "channel_crash"}));
    }
}

#[tokio::test]
async fn progress_claimed_before_the_bytes_arrive_does_not_finish_an_entry() {
    let app = App::start().await;
    let mut tab = Tab::open(&app, "").await;
    let files = [("0", "a.txt", 8, "text/plain")];
    tab.pick(&files).await;
    let preflight = tab.preflight(&files).await;
    let token = preflight[4]["response"]["entries"]["0"]
        .as_str()
        .unwrap()
        .to_string();
    let joined = tab.join_upload("0", &token).await;
    let join_ref = joined[0].as_str().unwrap().to_string();
    tab.chunk("0", &join_ref, b"half").await;
    let early = tab.progress("0", json!(100)).await;
    assert!(shows(&early, "entry 0 a.txt 99% done=false"), "{early}");
    // Nothing to consume yet: the entry stays.
    let submitted = tab.submit().await;
    assert!(!shows(&submitted, "saved"), "{submitted}");
    tab.chunk("0", &join_ref, b"done").await;
    let done = tab.progress("0", json!(100)).await;
    assert!(shows(&done, "entry 0 a.txt 100% done=true"), "{done}");
    let saved = tab.submit().await;
    assert!(shows(&saved, "saved a.txt=halfdone"), "{saved}");
    app.no_files_left().await;
}

#[tokio::test]
async fn a_preflight_for_an_unknown_upload_is_disallowed() {
    let app = App::start().await;
    let mut tab = Tab::open(&app, "").await;
    let reply = tab
        .lv(
            "allow_upload",
            json!({"ref": "phx-unknown", "entries": describe(&[("0", "a.txt", 1, "text/plain")])}),
        )
        .await;
    assert_eq!(
        reply[4],
        json!({"status": "ok", "response": {"ref": "phx-unknown", "error": [["phx-unknown", "disallowed"]]}})
    );
}

#[tokio::test]
async fn an_async_consumer_gets_each_file_before_it_is_removed() {
    let app = App::start().await;
    let mut tab = Tab::open(&app, "").await;
    tab.upload("0", "a.txt", b"one").await;
    tab.upload("1", "b.txt", b"two").await;
    let saved = tab
        .lv(
            "event",
            json!({"type": "form", "event": "save_async", "value": "", "meta": {}}),
        )
        .await;
    assert!(shows(&saved, "saved a.txt (async)=one"), "{saved}");
    assert!(shows(&saved, "saved b.txt (async)=two"), "{saved}");
    app.no_files_left().await;
}

#[tokio::test]
async fn chunks_are_capped_to_fit_in_one_socket_message() {
    let app = App::start().await;
    let mut tab = Tab::open(&app, "?chunk=5000000").await;
    let files = [("0", "a.txt", 4, "text/plain")];
    tab.pick(&files).await;
    let preflight = tab.preflight(&files).await;
    let chunk_size = preflight[4]["response"]["config"]["chunk_size"]
        .as_u64()
        .unwrap();
    let max_message = cinder::socket::SocketConfig::default().max_message_bytes as u64;
    assert!(
        chunk_size < max_message && chunk_size > max_message / 2,
        "chunk size {chunk_size} for messages of at most {max_message} bytes"
    );
}
