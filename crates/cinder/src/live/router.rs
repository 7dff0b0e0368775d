//! Serving live views on an `axum::Router`: the dead render of each route,
//! the socket at `/live/websocket`, the client's scripts, and the signed
//! cookie session that carries the CSRF secret.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use cinder_runtime::gen_server::StartError;
use cinder_runtime::process::Spawn;
use cinder_runtime::supervisor::{ChildSpec, DynamicSupervisor, DynamicSupervisorSpec};
use cinder_runtime::task::TaskSupervisor;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::assets;
use super::channel::{join_view, Connection, LiveChannels, Start};
use super::flash::{default_layout, Flash, Layout};
use super::nested::{child_route, ChildRoutes, Placement};
use super::page::{
    container_id, dead_render, error_page, DeadPage, DeadRender, DeadStart, Page, RootLayout,
};
use super::upload::UploadService;
use super::{LiveView, MountError, Params, Session};
use crate::csrf::CsrfSecret;
use crate::socket::websocket::{PageBytes, WebSocketUpgrade};
use crate::socket::{serve, JoinFuture, JoinRequest, SocketConfig};
use crate::token::Signer;

/// How long a page's session token may be used to join (Phoenix: two weeks).
pub(crate) const SESSION_MAX_AGE: Duration = Duration::from_secs(14 * 24 * 60 * 60);
const COOKIE: &str = "_cinder_session";
const MIN_SECRET_LEN: usize = 32;

/// Why a [`Config`] could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No secret was given.
    #[error(
        "no secret key: set CINDER_SECRET_KEY_BASE to at least {MIN_SECRET_LEN} random bytes \
         (for example the output of `openssl rand -base64 48`)"
    )]
    MissingSecret,
    /// The secret is too short to sign tokens safely.
    #[error(
        "the secret key is {0} bytes; it must be at least {MIN_SECRET_LEN} (for example the \
         output of `openssl rand -base64 48`)"
    )]
    SecretTooShort(usize),
}

/// Which pages may open the live socket, by the `Origin` their browser sends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CheckOrigin {
    /// The page's origin must be the host the socket is served on (the default).
    #[default]
    SameHost,
    /// Only these origins, such as `https://example.com`.
    Allow(Vec<String>),
    /// Any origin. Only for development: it lets any site open sockets
    /// with your users' cookies.
    Any,
}

impl CheckOrigin {
    fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
            // Browsers always send `Origin` on WebSocket requests; other
            // clients carry no cookies to abuse.
            return true;
        };
        match self {
            CheckOrigin::Any => true,
            CheckOrigin::Allow(origins) => origins
                .iter()
                .any(|allowed| allowed.trim_end_matches('/') == origin),
            CheckOrigin::SameHost => {
                let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
                let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
                host == Some(authority.trim_end_matches('/'))
            }
        }
    }
}

/// Settings of a [`LiveRouter`].
#[derive(Clone, Debug)]
pub struct Config {
    secret: Arc<[u8]>,
    signing_salt: String,
    client_dir: PathBuf,
    socket: SocketConfig,
    check_origin: CheckOrigin,
}

impl Config {
    /// Settings with `secret_key_base`, which signs sessions and tokens: at
    /// least 32 bytes, the same on every node, never in the repository.
    pub fn new(secret_key_base: impl AsRef<[u8]>) -> Result<Config, ConfigError> {
        let secret = secret_key_base.as_ref();
        if secret.is_empty() {
            return Err(ConfigError::MissingSecret);
        }
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::SecretTooShort(secret.len()));
        }
        Ok(Config {
            secret: secret.into(),
            signing_salt: String::new(),
            client_dir: default_client_dir(),
            socket: SocketConfig::default(),
            check_origin: CheckOrigin::default(),
        })
    }

    /// Settings with a random secret, for development: sessions and pages
    /// signed by one process are refused by the next, and by other nodes.
    pub fn random() -> Config {
        let secret: [u8; 64] = crate::random::bytes();
        Config::new(secret).expect("64 bytes are enough")
    }

    /// Settings with the secret from the `CINDER_SECRET_KEY_BASE` variable.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::new(std::env::var("CINDER_SECRET_KEY_BASE").unwrap_or_default())
    }

    /// Where the npm packages `phoenix` and `phoenix_live_view` are
    /// installed (a `node_modules` folder), for builds made before they were:
    /// a build that finds them in the workspace's `assets/node_modules`
    /// embeds them, and the binary then serves the client from itself.
    pub fn client_dir(mut self, dir: impl Into<PathBuf>) -> Config {
        self.client_dir = dir.into();
        self
    }

    /// A salt mixed into every signature (sessions, pages, flash): change it
    /// to invalidate everything signed before without changing the secret.
    pub fn signing_salt(mut self, salt: impl Into<String>) -> Config {
        self.signing_salt = salt.into();
        self
    }

    /// Which origins may open the live socket (default: the same host).
    pub fn check_origin(mut self, check: CheckOrigin) -> Config {
        self.check_origin = check;
        self
    }

    /// Limits of each WebSocket connection.
    pub fn socket(mut self, socket: SocketConfig) -> Config {
        self.socket = socket;
        self
    }
}

fn default_client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/node_modules")
}

/// How long a flash may wait for the page that shows it (Phoenix: 60 s).
pub(crate) const FLASH_MAX_AGE: Duration = Duration::from_secs(60);
/// The cookie the client sets from a redirect's flash.
const FLASH_COOKIE: &str = "__phoenix_flash__";

/// The static token in `data-phx-static`: the container and the flash the
/// dead render showed, for the connected mount to show too.
#[derive(Serialize, Deserialize)]
pub(crate) struct StaticToken {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) flash: Flash,
}

/// The static token of container `id`, which carries the flash the dead
/// render showed to the connected mount: empty when there is none, so that
/// most pages sign one token less and their first join verifies one less.
pub(crate) fn static_token(signer: &Signer, id: &str, flash: &Flash) -> String {
    if flash.is_empty() {
        return String::new();
    }
    signer.sign(&StaticToken {
        id: id.to_string(),
        flash: flash.clone(),
    })
}

/// The session token in `data-phx-session`: which view, for which container.
#[derive(Serialize, Deserialize)]
pub(crate) struct SessionToken {
    pub(crate) id: String,
    /// The index of the view's route; unused for a child or sticky view.
    pub(crate) view: usize,
    /// The type of a child or sticky view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) child: Option<String>,
    /// The session a child or sticky view mounts with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The signed cookie: the CSRF secret and the session's data.
#[derive(Serialize, Deserialize)]
struct CookieSession {
    csrf: String,
    #[serde(default)]
    data: serde_json::Map<String, serde_json::Value>,
}

type JoinFn = fn(JoinRequest<Connection>, Start) -> JoinFuture<'static>;
type DeadFn = fn(DeadStart) -> DeadRender;

#[derive(Clone)]
pub(crate) struct Route {
    pub(crate) path: Arc<str>,
    /// The view's type name, which names its process under the views'
    /// supervisor: made once here, shared by every process of the view.
    pub(crate) view: Arc<str>,
    pub(crate) live_session: Arc<str>,
    /// The live session's hooks, run before every mount of this view.
    pub(crate) on_mount: Arc<[OnMount]>,
    pub(crate) dead: DeadFn,
    pub(crate) join: JoinFn,
}

/// A view on every page, at the end of the main view's container, kept
/// across live navigation.
pub(crate) struct Sticky {
    /// The live session whose pages show it.
    live_session: Arc<str>,
    pub(crate) id: String,
    pub(crate) kind: &'static str,
    pub(crate) route: Route,
}

/// A check run before a view of its live session mounts, in the dead render
/// and again when connected: typically authentication from the session. An
/// error refuses the page with its status (and a connected mount is
/// answered `unauthorized`, so the client loads the page and sees that).
pub type OnMount = fn(&Session, &Params) -> Result<(), MountError>;

/// Runs a route's hooks in order; the first refusal wins.
pub(crate) fn check_on_mount(
    route: &Route,
    session: &Session,
    params: &Params,
) -> Result<(), MountError> {
    route
        .on_mount
        .iter()
        .try_for_each(|hook| hook(session, params))
}

/// Shared by every request and connection of one router.
pub(crate) struct LiveState {
    /// Every view's process, a temporary child of this supervisor, so the
    /// supervision tree shows them and stopping it stops them in order.
    views: OnceCell<DynamicSupervisor>,
    /// Every connection's socket process, likewise.
    sockets: OnceCell<DynamicSupervisor>,
    /// Views' background work ([`Socket::start_async`](super::Socket::start_async)).
    tasks: OnceCell<DynamicSupervisor>,
    /// What views reach with [`Socket::state`](super::Socket::state).
    pub(crate) app_state: Arc<Extensions>,
    config: Config,
    cookie_signer: Signer,
    pub(crate) session_signer: Signer,
    pub(crate) static_signer: Signer,
    /// Signs the flash carried by a redirect or a live redirect.
    pub(crate) flash_signer: Signer,
    pub(crate) layout: Layout,
    root_layout: RootLayoutChoice,
    /// The URL of the client hooks' module, when the app has one.
    hooks: Option<String>,
    pub(crate) routes: Vec<Route>,
    /// The views rendered as children, for their joins.
    pub(crate) children: ChildRoutes,
    pub(crate) sticky: Vec<Sticky>,
    /// Signs upload tokens and finds the views they name.
    pub(crate) uploads: Arc<UploadService>,
}

/// The root layout pages are written in.
#[derive(Clone, Copy)]
enum RootLayoutChoice {
    /// [`default_root_layout`](super::default_root_layout), whose document
    /// is written around the view's HTML in one buffer (see
    /// [`Page::default_document`]).
    Default,
    /// The app's own, given the view's container as one string.
    Own(RootLayout),
}

/// Live views on routes of an ordinary `axum::Router`.
///
/// ```
/// # use cinder::live::{LiveView, MountError, Params, Session, Socket};
/// # use cinder::{html, Rendered};
/// # struct Counter;
/// # impl LiveView for Counter {
/// #     type Info = ();
/// #     async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> { Ok(Counter) }
/// #     fn render(&self) -> Rendered { html! { <p>0</p> } }
/// # }
/// use cinder::live::{Config, LiveRouter};
///
/// let config = Config::new("a secret of at least thirty-two bytes, from the environment").unwrap();
/// let app: axum::Router = LiveRouter::new(config)
///     .live::<Counter>("/counter")
///     .into_router()
///     .route("/health", axum::routing::get(|| async { "ok" }));
/// ```
pub struct LiveRouter {
    config: Config,
    routes: Vec<Route>,
    sticky: Vec<Sticky>,
    live_session: Arc<str>,
    state: Extensions,
    layout: Layout,
    root_layout: RootLayoutChoice,
    on_mount: Vec<OnMount>,
    hooks: Option<String>,
}

impl LiveRouter {
    /// A router with no views yet.
    pub fn new(config: Config) -> LiveRouter {
        LiveRouter {
            config,
            routes: Vec::new(),
            sticky: Vec::new(),
            live_session: "default".into(),
            state: Extensions::new(),
            layout: default_layout,
            root_layout: RootLayoutChoice::Default,
            on_mount: Vec::new(),
            hooks: None,
        }
    }

    /// Gives the client the hooks of the ES module at `url`: every page
    /// imports the module and passes its **default export**, an object of
    /// hooks by name, as the `hooks` option of `new LiveSocket(…)`, so an
    /// element with `phx-hook="Name"` gets the hook `Name`. The module may
    /// import others (a drag-and-drop library, say) and is served by the
    /// application, on a route of its own. A module that fails to load
    /// keeps every page from connecting: the browser's console says why.
    ///
    /// ```
    /// use axum::http::header;
    /// use axum::routing::get;
    /// use cinder::live::{Config, LiveRouter};
    ///
    /// const HOOKS: &str = r#"
    /// export default {
    ///   Focus: { mounted() { this.el.focus(); } },
    /// };
    /// "#;
    ///
    /// let config = Config::new("a secret of at least thirty-two bytes, from the environment").unwrap();
    /// let app: axum::Router = LiveRouter::new(config)
    ///     .hooks("/app/hooks.js")
    ///     .into_router()
    ///     .route("/app/hooks.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], HOOKS) }));
    /// ```
    pub fn hooks(mut self, url: impl Into<String>) -> LiveRouter {
        self.hooks = Some(url.into());
        self
    }

    /// Adds a hook that runs before every mount of the views added after
    /// it, until the next [`live_session`](LiveRouter::live_session): the
    /// session's guard, such as "signed in".
    pub fn on_mount(mut self, hook: OnMount) -> LiveRouter {
        self.on_mount.push(hook);
        self
    }

    /// Renders the document around each view's container with `layout`
    /// (the default is [`default_root_layout`](super::default_root_layout)).
    pub fn root_layout(mut self, layout: RootLayout) -> LiveRouter {
        self.root_layout = RootLayoutChoice::Own(layout);
        self
    }

    /// Wraps every view's render in `layout`, which also receives the
    /// flash (the default is [`default_layout`]).
    pub fn live_layout(mut self, layout: Layout) -> LiveRouter {
        self.layout = layout;
        self
    }

    /// Gives every view `value`, found by its type with
    /// [`Socket::state`](super::Socket::state) in any callback: the
    /// application's [`PubSub`](cinder_runtime::pubsub::PubSub), a database
    /// pool, settings. One value per type; a second replaces the first.
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> LiveRouter {
        self.state.insert(value);
        self
    }

    /// Puts the views added after this call in the live session `name`.
    /// Live navigation ([`Socket::push_navigate`](super::Socket::push_navigate),
    /// `data-phx-link="redirect"` links) stays within one live session;
    /// crossing into another loads the page over HTTP, as in Phoenix. Views
    /// added before any call share the session `"default"`.
    pub fn live_session(mut self, name: &str) -> LiveRouter {
        self.live_session = name.into();
        self.on_mount.clear();
        self
    }

    /// Shows the live view `V` on every page of the current live session (see
    /// [`live_session`](LiveRouter::live_session)), at the end of the main
    /// view's container, as a sticky view: live navigation between those
    /// pages keeps it (its process and state), as a music player or a chat
    /// box would need. `id` is its DOM id. It mounts with the cookie session.
    pub fn sticky<V: LiveView>(mut self, id: &str) -> LiveRouter {
        self.sticky.push(Sticky {
            live_session: self.live_session.clone(),
            id: id.to_string(),
            kind: std::any::type_name::<V>(),
            route: child_route::<V>(),
        });
        self
    }

    /// Serves the view `V` at `path` (an axum path).
    pub fn live<V: LiveView>(mut self, path: &str) -> LiveRouter {
        self.routes.push(Route {
            path: path.into(),
            view: std::any::type_name::<V>().into(),
            live_session: self.live_session.clone(),
            on_mount: self.on_mount.clone().into(),
            dead: dead_render::<V>,
            join: join_view::<V>,
        });
        self
    }

    /// The `axum::Router` serving the views, `/live/websocket` and the client
    /// scripts under `/assets`.
    ///
    /// Serve it with [`cinder::serve`](crate::serve()), or merge it into a
    /// larger router first. Under `axum::serve`, hand it over as a
    /// make-service (`app.into_make_service()`): a plain `Router` handed to
    /// `axum::serve` prepares its routes again for every connection it
    /// accepts, and every connected page opens one for its socket.
    ///
    /// ```no_run
    /// use cinder::live::{Config, LiveRouter};
    ///
    /// # async fn run() {
    /// let app = LiveRouter::new(Config::from_env().unwrap()).into_router();
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await.unwrap();
    /// cinder::serve(listener, app).await;
    /// # }
    /// ```
    pub fn into_router(self) -> axum::Router {
        let secret = &self.config.secret;
        let salt = &self.config.signing_salt;
        let signer = |purpose: &str| Signer::new(secret, &format!("{purpose}\0{salt}"));
        let state = Arc::new(LiveState {
            views: OnceCell::new(),
            sockets: OnceCell::new(),
            tasks: OnceCell::new(),
            app_state: Arc::new(self.state),
            cookie_signer: signer("cinder cookie session"),
            session_signer: signer("cinder live session"),
            static_signer: signer("cinder live static"),
            flash_signer: signer("cinder flash"),
            uploads: Arc::new(UploadService::new(
                signer("cinder upload"),
                self.config.socket.max_message_bytes,
            )),
            layout: self.layout,
            root_layout: self.root_layout,
            hooks: self.hooks,
            routes: self.routes,
            children: ChildRoutes::default(),
            sticky: self.sticky,
            config: self.config,
        });
        let mut router = axum::Router::new()
            .route("/live/websocket", get(websocket))
            .route("/assets/phoenix/phoenix.min.js", get(phoenix_script))
            .route(
                "/assets/phoenix_live_view/phoenix_live_view.esm.js",
                get(live_view_script),
            )
            .route("/assets/cinder.css", get(stylesheet));
        for (index, route) in state.routes.iter().enumerate() {
            router = router.route(
                route.path.as_ref(),
                get(move |state, request| page(state, index, request)),
            );
        }
        router.with_state(state)
    }
}

impl LiveState {
    /// The supervisor of the views, started with the first of them.
    pub(crate) async fn views(&self) -> Result<&DynamicSupervisor, StartError> {
        supervisor(&self.views).await
    }

    async fn sockets(&self) -> Result<&DynamicSupervisor, StartError> {
        supervisor(&self.sockets).await
    }

    /// The sticky views of the pages of `live_session`.
    pub(crate) fn stickies<'a>(
        &'a self,
        live_session: &'a str,
    ) -> impl Iterator<Item = &'a Sticky> {
        self.sticky
            .iter()
            .filter(move |sticky| &*sticky.live_session == live_session)
    }

    /// The supervisor of views' background work, started with the first.
    pub(crate) async fn tasks(&self) -> Result<TaskSupervisor, StartError> {
        let supervisor = supervisor(&self.tasks).await?;
        Ok(TaskSupervisor::from_supervisor(supervisor.clone()))
    }
}

async fn supervisor(cell: &OnceCell<DynamicSupervisor>) -> Result<&DynamicSupervisor, StartError> {
    cell.get_or_try_init(|| DynamicSupervisor::start(DynamicSupervisorSpec::new()))
        .await
}

// The request is read where it lies: the `HeaderMap` and `RawQuery`
// extractors would copy its headers and query for every page.
async fn page(State(state): State<Arc<LiveState>>, index: usize, request: Request) -> Response {
    let route = &state.routes[index];
    let headers = request.headers();
    let query = request.uri().query().unwrap_or_default();
    let uri = if query.is_empty() {
        route.path.to_string()
    } else {
        format!("{}?{query}", route.path)
    };
    let (cookie, fresh) = match read_cookie(&state, headers) {
        Some(cookie) => (cookie, false),
        None => (
            CookieSession {
                csrf: CsrfSecret::generate().encode(),
                data: serde_json::Map::new(),
            },
            true,
        ),
    };
    let secret = CsrfSecret::decode(&cookie.csrf).unwrap_or_else(CsrfSecret::generate);
    let params = Params::from_query(query);
    let session = Session(cookie.data.clone());
    let flash_cookie = cookie_value(headers, FLASH_COOKIE);
    let had_flash_cookie = flash_cookie.is_some();
    let flash = flash_cookie
        .and_then(|token| {
            state
                .flash_signer
                .verify::<Flash>(token, FLASH_MAX_AGE)
                .ok()
        })
        .unwrap_or_default();
    let id = container_id();
    let start = DeadStart {
        params,
        uri,
        session,
        state: state.app_state.clone(),
        layout: state.layout,
        flash: flash.clone(),
        live: state.clone(),
        container_id: id.clone(),
    };
    let cookie_session = start.session.clone();
    let rendered = match check_on_mount(route, &start.session, &start.params) {
        Ok(()) => (route.dead)(start).await,
        Err(refused) => Err(refused),
    };
    let mut response = match rendered {
        Ok(rendered) if rendered.redirect_to.is_some() => {
            // Patching or leaving during the dead render is a redirect, as in Phoenix.
            let to = rendered.redirect_to.unwrap_or_default();
            (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
        }
        Ok(rendered) => {
            // Sticky views follow the view in its container.
            let mut stickies = String::new();
            for sticky in state.stickies(&route.live_session) {
                let html = state
                    .dead_child(
                        &sticky.id,
                        sticky.kind,
                        &sticky.route,
                        &cookie_session,
                        Placement::Sticky,
                    )
                    .await;
                stickies.push_str(&html);
            }
            let page = Page {
                id: &id,
                session_token: &state.session_signer.sign(&SessionToken {
                    id: id.clone(),
                    view: index,
                    child: None,
                    session: None,
                }),
                static_token: &static_token(&state.static_signer, &id, &rendered.flash),
                csrf_token: &secret.token(),
                title: rendered.title.as_deref().unwrap_or("Cinder"),
                hooks: state.hooks.as_deref(),
            };
            let document = document(state.root_layout, &page, &rendered, &stickies);
            // Once written, the page's buffer is the next page's.
            html(StatusCode::OK, Bytes::from_owner(PageBytes(document)))
        }
        Err(error) => {
            let status =
                StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            html(status, error_page(&error))
        }
    };
    if had_flash_cookie {
        // The flash is shown: the client must not carry it to another page.
        let expired = HeaderValue::from_static("__phoenix_flash__=; Path=/; Max-Age=0");
        response.headers_mut().append(header::SET_COOKIE, expired);
    }
    if fresh {
        let value = set_cookie_value(&state.cookie_signer.sign(&cookie));
        if let Ok(value) = HeaderValue::try_from(value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The whole document of a page in `root_layout`: the view's container
/// holds the view's HTML, then the sticky views'.
fn document(
    root_layout: RootLayoutChoice,
    page: &Page<'_>,
    view: &DeadPage,
    stickies: &str,
) -> Vec<u8> {
    match root_layout {
        RootLayoutChoice::Default => {
            page.default_document(view.html_size_hint() + stickies.len(), |out| {
                view.write_html(out);
                out.extend_from_slice(stickies.as_bytes());
            })
        }
        RootLayoutChoice::Own(layout) => {
            let mut inner = view.html();
            inner.push_str(stickies);
            page.to_html(layout, &inner).into_bytes()
        }
    }
}

/// The `Set-Cookie` value of a fresh session cookie holding `token`, made
/// at its length: the header value takes the string without a copy.
fn set_cookie_value(token: &str) -> String {
    const ATTRIBUTES: &str = "; Path=/; HttpOnly; SameSite=Lax";
    let mut value = String::with_capacity(COOKIE.len() + 1 + token.len() + ATTRIBUTES.len());
    value.push_str(COOKIE);
    value.push('=');
    value.push_str(token);
    value.push_str(ATTRIBUTES);
    value
}

fn html(status: StatusCode, body: impl Into<Body>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn read_cookie(state: &LiveState, headers: &HeaderMap) -> Option<CookieSession> {
    let value = cookie_value(headers, COOKIE)?;
    state.cookie_signer.verify(value, SESSION_MAX_AGE).ok()
}

/// The value of the cookie `name` in the request, if sent and not empty.
fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
        .filter(|value| !value.is_empty())
}

/// The socket's session: the cookie session, if the connection's CSRF token
/// was made from its secret.
fn connection(state: &LiveState, headers: &HeaderMap, query: Option<&str>) -> Connection {
    // Only the token is read: decoding the whole query into owned
    // parameters cost every connection a map and four strings.
    let token = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find_map(|(name, value)| (name == "_csrf_token").then_some(value));
    let session = read_cookie(state, headers).and_then(|cookie| {
        let secret = CsrfSecret::decode(&cookie.csrf)?;
        secret
            .verify(token.as_deref()?)
            .then_some(Session(cookie.data))
    });
    if session.is_none() {
        tracing::info!(
            "socket connected without a valid session; its joins will be answered stale"
        );
    }
    Connection { session }
}

// The request is read where it lies, as a page's is.
async fn websocket(
    State(state): State<Arc<LiveState>>,
    upgrade: WebSocketUpgrade,
    request: Request,
) -> Response {
    let headers = request.headers();
    if !state.config.check_origin.allows(headers) {
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "refused a socket from another origin");
        return (
            StatusCode::FORBIDDEN,
            "cross-origin socket connections are not allowed",
        )
            .into_response();
    }
    let connect = Arc::new(connection(&state, headers, request.uri().query()));
    upgrade.on_upgrade(move |ws| async move {
        let sockets = match state.sockets().await {
            Ok(sockets) => sockets.clone(),
            Err(error) => {
                tracing::error!(%error, "the socket supervisor could not start");
                return;
            }
        };
        let config = state.config.socket.clone();
        let channels = Arc::new(LiveChannels { state });
        let spec = ChildSpec::once(socket_child_id(), move || async move {
            let supervisor = cinder_runtime::current().ok_or(StartError::NoCaller)?;
            Ok(Spawn::new()
                .link(&supervisor)
                .trap_exit(true)
                .spawn(move |ctx| serve(ctx, ws, channels, connect, config)))
        });
        if let Err(error) = sockets.start_child(spec).await {
            tracing::error!(%error, "a socket process could not start");
        }
    })
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        assets::STYLESHEET,
    )
        .into_response()
}

async fn phoenix_script(State(state): State<Arc<LiveState>>) -> Response {
    client_script(
        assets::PHOENIX_JS,
        &state
            .config
            .client_dir
            .join("phoenix/priv/static/phoenix.min.js"),
    )
    .await
}

async fn live_view_script(State(state): State<Arc<LiveState>>) -> Response {
    client_script(
        assets::LIVE_VIEW_JS,
        &state
            .config
            .client_dir
            .join("phoenix_live_view/priv/static/phoenix_live_view.esm.js"),
    )
    .await
}

/// A client script: the copy embedded at build time, or the file on disk.
async fn client_script(embedded: Option<&'static [u8]>, path: &Path) -> Response {
    match embedded {
        Some(bytes) => javascript(Body::from(bytes)),
        None => script(path).await,
    }
}

fn javascript(body: Body) -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn script(path: &Path) -> Response {
    match tokio::fs::read(path).await {
        Ok(bytes) => javascript(Body::from(bytes)),
        Err(error) => {
            tracing::error!(path = %path.display(), %error, "the LiveView client is not installed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the LiveView client is not installed at {}: run `npm ci --prefix assets`",
                    path.display()
                ),
            )
                .into_response()
        }
    }
}

/// The id of every connection's process under the sockets' supervisor,
/// made once and shared: the supervisor keeps each child's id while it runs.
fn socket_child_id() -> Arc<str> {
    static ID: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    ID.get_or_init(|| "socket".into()).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Shown;

    impl LiveView for Shown {
        type Info = ();

        async fn mount(
            _: &Params,
            _: &Session,
            _: &mut super::super::Socket<Self>,
        ) -> Result<Self, MountError> {
            Ok(Shown)
        }

        fn render(&self) -> crate::Rendered {
            crate::html! { <p>"shown"</p> }
        }
    }

    /// A fresh session cookie is sent for the whole site, out of scripts'
    /// reach and not on other sites' requests, in a string of its length.
    #[test]
    fn a_fresh_session_cookie_says_where_it_goes() {
        let value = set_cookie_value("abc.def");
        assert_eq!(
            value,
            "_cinder_session=abc.def; Path=/; HttpOnly; SameSite=Lax"
        );
        assert_eq!(value.capacity(), value.len());
        assert!(HeaderValue::try_from(value).is_ok());
    }

    /// The supervisors keep each running child's id: every connection and
    /// every view of a route share one, made once.
    #[test]
    fn a_routes_processes_share_one_id_each() {
        assert!(Arc::ptr_eq(&socket_child_id(), &socket_child_id()));
        assert_eq!(&*socket_child_id(), "socket");
        let route = super::super::nested::child_route::<Shown>();
        assert_eq!(&*route.view, std::any::type_name::<Shown>());
    }
}
