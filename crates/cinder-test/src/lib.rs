#![doc = include_str!("guide.md")]

mod dom;
mod error;
mod form;
mod http;
pub mod oracle;
mod query;
mod socket;
pub mod tree;
mod upload;
mod view;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use scraper::{Html, Selector};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

pub use error::{Error, Result};
pub use form::Form;
pub use http::Response;
pub use upload::{FileEntry, Upload};
pub use view::{Element, Target, View};

use socket::{Socket, TitleTag, ViewState};

/// How long a test waits for a reply or a pushed update unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a view sent the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// A full page load, or a live redirect on the same socket.
    pub kind: RedirectKind,
    /// The path (or URL) to go to.
    pub to: String,
    /// The signed flash carried to the next page, if any.
    pub flash: Option<String>,
}

/// The two ways a view leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    /// `redirect`: the browser loads the page.
    Redirect,
    /// `push_navigate` (`live_redirect`): the client mounts the next view on
    /// the same socket.
    Live,
}

/// A browser for one application: it serves the app's `axum::Router` on
/// loopback and mounts its live views through the real dead render, socket
/// and channel. Cookies are kept across pages, as a browser keeps them.
///
/// The server starts with the first request and stops when the `LiveTest`
/// and every [`View`] it mounted are dropped.
#[derive(Clone)]
pub struct LiveTest {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    router: Mutex<Option<axum::Router>>,
    server: OnceCell<Server>,
    jar: Mutex<http::Jar>,
    timeout_ms: std::sync::atomic::AtomicU64,
}

impl Inner {
    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.load(std::sync::atomic::Ordering::Relaxed))
    }
}

struct Server {
    address: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for LiveTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTest")
            .field(
                "address",
                &self.inner.server.get().map(|server| server.address),
            )
            .finish()
    }
}

impl LiveTest {
    /// A test browser for `router`, the application's router as `main`
    /// serves it.
    pub fn new(router: axum::Router) -> LiveTest {
        LiveTest {
            inner: Arc::new(Inner {
                router: Mutex::new(Some(router)),
                server: OnceCell::new(),
                jar: Mutex::new(http::Jar::default()),
                timeout_ms: std::sync::atomic::AtomicU64::new(DEFAULT_TIMEOUT.as_millis() as u64),
            }),
        }
    }

    /// How long to wait for each reply and for each awaited update
    /// ([`DEFAULT_TIMEOUT`] unless set); it applies to every view of this
    /// browser, from the next step on.
    pub fn timeout(self, timeout: Duration) -> LiveTest {
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.inner
            .timeout_ms
            .store(millis, std::sync::atomic::Ordering::Relaxed);
        self
    }

    pub(crate) fn from_inner(inner: Arc<Inner>) -> LiveTest {
        LiveTest { inner }
    }

    async fn address(&self) -> Result<std::net::SocketAddr> {
        let server = self
            .inner
            .server
            .get_or_try_init(|| async {
                let router = self
                    .inner
                    .router
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .take()
                    .ok_or_else(|| Error::Connection("the app's router is gone".into()))?;
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .map_err(|error| Error::Connection(format!("binding 127.0.0.1:0: {error}")))?;
                let address = listener
                    .local_addr()
                    .map_err(|error| Error::Connection(error.to_string()))?;
                let task = tokio::spawn(async move {
                    if let Err(error) = axum::serve(listener, router).await {
                        eprintln!("cinder-test: the app's server stopped: {error}");
                    }
                });
                Ok::<_, Error>(Server { address, task })
            })
            .await?;
        Ok(server.address)
    }

    /// Sends `GET path` as the browser does (with its cookies).
    pub async fn get(&self, path: &str) -> Result<Response> {
        let address = self.address().await?;
        let mut jar = self.jar();
        let response = http::get(address, path, &mut jar).await;
        *self
            .inner
            .jar
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = jar;
        response
    }

    fn jar(&self) -> http::Jar {
        self.inner
            .jar
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Loads the page at `path` and joins its live view, as a browser tab
    /// does: the dead render over HTTP, then `/live/websocket` and
    /// `phx_join` with the page's tokens. Each call is a new tab with its
    /// own socket.
    ///
    /// Fails with [`Error::MountRedirected`] if the page redirects, and
    /// [`Error::JoinRefused`] if the server refuses the join.
    pub async fn live(&self, path: &str) -> Result<View> {
        let response = self.get(path).await?;
        if (300..400).contains(&response.status) {
            let to = response.header("location").unwrap_or_default().to_string();
            return Err(Error::MountRedirected {
                path: path.to_string(),
                redirect: Redirect {
                    kind: RedirectKind::Redirect,
                    to,
                    flash: None,
                },
            });
        }
        let page = DeadPage::read(path, &response)?;
        let address = self.address().await?;
        let socket = Socket::connect(address, &self.jar().header(), &page.csrf).await?;
        let socket = Arc::new(socket);
        let topic = format!("lv:{}", page.id);
        let mut state = ViewState::new(
            page.id.clone(),
            path.to_string(),
            page.session.clone(),
            page.static_token.clone(),
        );
        state.title_tag = page.title_tag;
        state.title = page.title;
        socket.shared.lock().views.insert(topic.clone(), state);
        let view = View {
            test: self.inner.clone(),
            socket: socket.clone(),
            topic: topic.clone(),
            target: None,
        };
        let payload = join_payload(
            &view,
            path,
            &page.session,
            page.static_token.as_deref(),
            0,
            None,
        );
        join(&socket, &topic, payload, path, self.inner.timeout()).await?;
        Ok(view)
    }

    /// Goes where a redirect points: loads the page, with the flash the
    /// redirect carries, and joins its view.
    pub async fn follow(&self, redirect: &Redirect) -> Result<View> {
        if let Some(flash) = &redirect.flash {
            self.inner
                .jar
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .set("__phoenix_flash__", flash);
        }
        self.live(&local_path(&redirect.to)).await
    }
}

/// The path and query of a URL, or the text itself if it is a path.
fn local_path(to: &str) -> String {
    match to.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or("/".to_string(), |slash| rest[slash..].to_string()),
        None => to.to_string(),
    }
}

/// What the client takes from the dead render.
struct DeadPage {
    id: String,
    session: String,
    static_token: Option<String>,
    csrf: String,
    title_tag: TitleTag,
    title: Option<String>,
}

impl DeadPage {
    fn read(path: &str, response: &Response) -> Result<DeadPage> {
        let not_live = |why: &str| Error::Http {
            path: path.to_string(),
            status: response.status,
            body: format!(
                "{why}; the body starts: {}",
                response.body.chars().take(300).collect::<String>()
            ),
        };
        if response.status != 200 {
            return Err(not_live("the page did not render"));
        }
        let document = Html::parse_document(&response.body);
        let select = |css: &str| Selector::parse(css).expect("a valid selector");
        let container = document
            .select(&select("[data-phx-main]"))
            .next()
            .or_else(|| {
                document
                    .select(&select("[data-phx-session]:not([data-phx-parent-id])"))
                    .next()
            })
            .ok_or_else(|| not_live("the page has no live view container ([data-phx-session])"))?;
        let csrf = document
            .select(&select("meta[name='csrf-token']"))
            .next()
            .and_then(|meta| meta.attr("content"))
            .ok_or_else(|| {
                not_live(
                    "the page has no <meta name=\"csrf-token\">, which the client's socket needs",
                )
            })?;
        let title = document.select(&select("title")).next();
        let title_tag = title
            .map(|title| TitleTag {
                prefix: title.attr("data-prefix").unwrap_or_default().to_string(),
                suffix: title.attr("data-suffix").unwrap_or_default().to_string(),
                default: title.attr("data-default").map(str::to_string),
            })
            .unwrap_or_default();
        Ok(DeadPage {
            id: container.attr("id").unwrap_or_default().to_string(),
            session: container
                .attr("data-phx-session")
                .unwrap_or_default()
                .to_string(),
            static_token: container
                .attr("data-phx-static")
                .filter(|token| !token.is_empty())
                .map(str::to_string),
            csrf: csrf.to_string(),
            title_tag,
            title: title.map(|title| title.text().collect()),
        })
    }
}

/// The join payload the client sends for a main view.
pub(crate) fn join_payload(
    view: &View,
    path: &str,
    session: &str,
    static_token: Option<&str>,
    mounts: u32,
    redirect: Option<(&Redirect, &str)>,
) -> Value {
    let mut params = json!({
        "_csrf_token": view.socket.csrf,
        "_mounts": mounts,
        "_mount_attempts": 0,
    });
    let mut payload = json!({
        "session": session,
        "static": static_token,
        "sticky": false,
    });
    match redirect {
        None => payload["url"] = view.url(path).into(),
        Some((redirect, referer)) => {
            payload["redirect"] = view.url(&local_path(&redirect.to)).into();
            params["_live_referer"] = view.url(referer).into();
            if let Some(flash) = &redirect.flash {
                payload["flash"] = flash.clone().into();
            }
        }
    }
    payload["params"] = params;
    payload
}

/// Joins `topic` (whose state is registered) and turns an error reply
/// into what it means.
pub(crate) async fn join(
    socket: &Socket,
    topic: &str,
    payload: Value,
    path: &str,
    timeout: Duration,
) -> Result<()> {
    match socket.join(topic, payload, timeout).await {
        Ok(_) => {
            let failure = socket
                .shared
                .lock()
                .views
                .get(topic)
                .and_then(|view| view.broken.clone());
            match failure {
                Some(broken) => Err(Error::BadDiff(broken)),
                None => Ok(()),
            }
        }
        Err(Error::Refused { response, .. }) => {
            let response: Value = serde_json::from_str(&response).unwrap_or(Value::Null);
            for (key, kind) in [
                ("redirect", RedirectKind::Redirect),
                ("live_redirect", RedirectKind::Live),
            ] {
                if let Some(target) = response.get(key) {
                    return Err(Error::MountRedirected {
                        path: path.to_string(),
                        redirect: socket::redirect_of(kind, target),
                    });
                }
            }
            Err(Error::JoinRefused {
                path: path.to_string(),
                reason: response
                    .get("reason")
                    .and_then(Value::as_str)
                    .map_or_else(|| response.to_string(), str::to_string),
            })
        }
        Err(other) => Err(other),
    }
}

/// Follows a live redirect as the client does: the next view joins the
/// same topic on the same socket, with `redirect` in place of `url`.
pub(crate) async fn navigate(from: &View, redirect: &Redirect) -> Result<View> {
    let (id, session, referer) =
        from.with_state(|view| (view.id.clone(), view.session.clone(), view.path.clone()));
    let path = local_path(&redirect.to);
    let mut state = ViewState::new(id, path.clone(), session.clone(), None);
    from.with_state(|view| {
        state.title_tag = view.title_tag.clone();
        state.title = view.title.clone();
    });
    from.socket
        .shared
        .lock()
        .views
        .insert(from.topic.clone(), state);
    let view = View {
        target: None,
        ..from.clone()
    };
    let payload = join_payload(&view, &path, &session, None, 0, Some((redirect, &referer)));
    match join(&from.socket, &from.topic, payload, &path, from.timeout()).await {
        Ok(()) => Ok(view),
        // Outside the live session the client loads the page instead.
        Err(Error::JoinRefused { reason, .. }) if reason == "unauthorized" => {
            LiveTest::from_inner(from.test.clone())
                .follow(&Redirect {
                    kind: RedirectKind::Redirect,
                    ..redirect.clone()
                })
                .await
        }
        Err(error) => Err(error),
    }
}
