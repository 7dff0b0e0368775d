//! The dead render: the first HTTP response of a live page, whole, with the
//! container the client finds and joins.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::Extensions;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::component::{Components, Requests};
use super::flash::{Flash, Layout};
use super::nested::dead_children;
use super::router::LiveState;
use super::{Leave, LiveView, MountError, Params, Session, Socket};
use crate::escape::{escape, escape_into};

/// What a dead render starts from.
pub(crate) struct DeadStart {
    pub(crate) params: Params,
    pub(crate) uri: String,
    pub(crate) session: Session,
    pub(crate) state: Arc<Extensions>,
    pub(crate) layout: Layout,
    /// The flash a redirect carried here.
    pub(crate) flash: Flash,
    /// The router's state, which signs the containers of child views.
    pub(crate) live: Arc<LiveState>,
    /// The id of the view's container, the parent id of its children.
    pub(crate) container_id: String,
}

/// What a dead render produced: the page's HTML, the title and the flash it
/// shows, or the URL it patched, navigated or redirected to.
pub(crate) struct DeadPage {
    pub(crate) html: String,
    pub(crate) title: Option<String>,
    pub(crate) flash: Flash,
    pub(crate) redirect_to: Option<String>,
}

/// The future of one dead render, or why the view refused to mount.
pub(crate) type DeadRender = Pin<Box<dyn Future<Output = Result<DeadPage, MountError>> + Send>>;

/// Mounts a view of type `V` without a connection, runs `handle_params`,
/// and renders it to HTML.
pub(crate) fn dead_render<V: LiveView>(start: DeadStart) -> DeadRender {
    Box::pin(async move {
        let mut socket = Socket::<V>::disconnected(start.state.clone());
        socket.set_flash(start.flash);
        let mut view = V::mount(&start.params, &start.session, &mut socket).await?;
        view.handle_params(&start.params, &start.uri, &mut socket)
            .await;
        // The page is written as HTML once and dropped: its lists are
        // written as their loops run.
        let content = crate::memo::render_html_only(|| view.render());
        let mut page = (start.layout)(socket.flash(), content);
        let mut components = Components::new(None, start.state);
        components.resolve(&mut page, &mut Requests::default());
        if page.has_children() {
            dead_children(&mut page, &start.live, &start.container_id).await;
        }
        let outgoing = socket.take_outgoing();
        Ok(DeadPage {
            html: components.html(&page),
            title: outgoing.title,
            flash: socket.flash().clone(),
            redirect_to: match outgoing.leave {
                Some(Leave::Navigate(to) | Leave::Redirect(to)) => Some(to),
                None => outgoing.patch.map(|patch| patch.to),
            },
        })
    })
}

/// A fresh container id, `phx-` and 12 random bytes, as Phoenix makes them.
pub(crate) fn container_id() -> String {
    let bytes: [u8; 12] = crate::random::bytes();
    let mut id = String::with_capacity(20);
    id.push_str("phx-");
    URL_SAFE_NO_PAD.encode_string(bytes, &mut id);
    id
}

/// What goes into one page.
pub(crate) struct Page<'a> {
    pub(crate) id: &'a str,
    pub(crate) session_token: &'a str,
    pub(crate) static_token: &'a str,
    pub(crate) csrf_token: &'a str,
    pub(crate) title: &'a str,
    pub(crate) inner_html: &'a str,
    /// The URL of the ES module whose default export is the client's hooks.
    pub(crate) hooks: Option<&'a str>,
}

impl Page<'_> {
    /// The whole document: the root layout around the view's container.
    pub(crate) fn to_html(&self, layout: RootLayout) -> String {
        layout(&RootPage {
            title: self.title,
            head: &self.head(),
            container: &self.container(),
        })
    }

    /// The CSRF meta tag and the scripts that load and connect the client.
    /// Written piece by piece into one buffer of the right size: every page
    /// of every session is made here.
    fn head(&self) -> String {
        let hooks = self.hooks.map(script_string);
        let mut head = String::with_capacity(
            HEAD_SCRIPT_BYTES + self.csrf_token.len() + hooks.as_ref().map_or(0, String::len),
        );
        head.push_str(r#"<meta name="csrf-token" content=""#);
        escape_into(&mut head, self.csrf_token);
        head.push_str(
            r#"">
<script src="/assets/phoenix/phoenix.min.js"></script>
<script type="module">
import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";
"#,
        );
        if let Some(hooks) = &hooks {
            head.push_str("import hooks from ");
            head.push_str(hooks);
            head.push_str(";\n");
        }
        head.push_str(
            r#"const csrfToken = document.querySelector("meta[name='csrf-token']").getAttribute("content");
const liveSocket = new LiveSocket("/live", window.Phoenix.Socket, { "#,
        );
        if hooks.is_some() {
            head.push_str("hooks, ");
        }
        head.push_str(
            r#"params: { _csrf_token: csrfToken } });
liveSocket.connect();
window.liveSocket = liveSocket;
</script>"#,
        );
        head
    }

    /// The view's container, with the tokens the client joins with.
    fn container(&self) -> String {
        let mut container = String::with_capacity(
            CONTAINER_TAG_BYTES
                + self.id.len()
                + self.session_token.len()
                + self.static_token.len()
                + self.inner_html.len(),
        );
        container.push_str(r#"<div id=""#);
        escape_into(&mut container, self.id);
        container.push_str(r#"" data-phx-main data-phx-session=""#);
        escape_into(&mut container, self.session_token);
        container.push_str(r#"" data-phx-static=""#);
        escape_into(&mut container, self.static_token);
        container.push_str(r#"">"#);
        container.push_str(self.inner_html);
        container.push_str("</div>");
        container
    }
}

/// The bytes of the head's fixed text, with room for a few escapes.
const HEAD_SCRIPT_BYTES: usize = 640;
/// The bytes of the container's fixed text, with room for a few escapes.
const CONTAINER_TAG_BYTES: usize = 96;

/// `text` as a JavaScript string literal that is safe inside a `<script>`
/// element: JSON, with `<` written as `\u003c` so no `</script>` can end it.
fn script_string(text: &str) -> String {
    serde_json::to_string(text)
        .expect("a string is JSON")
        .replace('<', "\\u003c")
}

/// The parts of a page a [`RootLayout`] puts together; every field is
/// ready-made HTML except `title`, which is plain text.
#[derive(Debug, Clone, Copy)]
pub struct RootPage<'a> {
    /// The page title, as text (escape it).
    pub title: &'a str,
    /// What the `<head>` must hold: the CSRF meta tag and the scripts that
    /// load and connect the LiveView client.
    pub head: &'a str,
    /// The view's container element, with its content.
    pub container: &'a str,
}

/// The root layout: the document around the view's container. Set with
/// [`LiveRouter::root_layout`](super::LiveRouter::root_layout).
pub type RootLayout = fn(&RootPage<'_>) -> String;

/// The default root layout: an HTML5 document with a viewport for phones
/// and the small stylesheet served at `/assets/cinder.css`.
///
/// ```
/// use cinder::live::{default_root_layout, RootPage};
///
/// let html = default_root_layout(&RootPage { title: "A & B", head: "", container: "<div></div>" });
/// assert!(html.starts_with("<!DOCTYPE html>"));
/// assert!(html.contains("<title>A &amp; B</title>"));
/// ```
pub fn default_root_layout(page: &RootPage<'_>) -> String {
    const BEFORE_TITLE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>"#;
    const AFTER_TITLE: &str = r#"</title>
<link rel="stylesheet" href="/assets/cinder.css">
"#;
    const AFTER_HEAD: &str = "\n</head>\n<body>\n";
    const AFTER_CONTAINER: &str = "\n</body>\n</html>\n";
    let mut html = String::with_capacity(
        BEFORE_TITLE.len()
            + page.title.len()
            + AFTER_TITLE.len()
            + page.head.len()
            + AFTER_HEAD.len()
            + page.container.len()
            + AFTER_CONTAINER.len()
            // Room for escapes in the title.
            + 16,
    );
    html.push_str(BEFORE_TITLE);
    escape_into(&mut html, page.title);
    html.push_str(AFTER_TITLE);
    html.push_str(page.head);
    html.push_str(AFTER_HEAD);
    html.push_str(page.container);
    html.push_str(AFTER_CONTAINER);
    html
}

/// The page for a mount that refused: its status and message, escaped.
pub(crate) fn error_page(error: &MountError) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status}</title></head>\
         <body><h1>{status}</h1><p>{message}</p></body></html>\n",
        status = error.status,
        message = escape(&error.message),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(hooks: Option<&'static str>) -> Page<'static> {
        Page {
            id: "phx-<id>",
            session_token: "s&t",
            static_token: "st\"x",
            csrf_token: "c'f",
            title: "T <1>",
            inner_html: "<p>inner</p>",
            hooks,
        }
    }

    /// The page, byte for byte, with every token escaped; with hooks, the
    /// import (its URL kept from ending the script) and their place in the
    /// socket's options are all that change.
    #[test]
    fn a_page_is_the_layout_around_the_head_and_container() {
        assert_eq!(page(None).to_html(default_root_layout), PLAIN);
        let with_hooks = PLAIN
            .replace(
                "const csrfToken",
                "import hooks from \"/a\\u003c/script>.js\";\nconst csrfToken",
            )
            .replace("{ params:", "{ hooks, params:");
        let hooks = page(Some("/a</script>.js")).to_html(default_root_layout);
        assert_eq!(hooks, with_hooks);
    }

    const PLAIN: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>T &lt;1&gt;</title>
<link rel="stylesheet" href="/assets/cinder.css">
<meta name="csrf-token" content="c&#39;f">
<script src="/assets/phoenix/phoenix.min.js"></script>
<script type="module">
import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";
const csrfToken = document.querySelector("meta[name='csrf-token']").getAttribute("content");
const liveSocket = new LiveSocket("/live", window.Phoenix.Socket, { params: { _csrf_token: csrfToken } });
liveSocket.connect();
window.liveSocket = liveSocket;
</script>
</head>
<body>
<div id="phx-&lt;id&gt;" data-phx-main data-phx-session="s&amp;t" data-phx-static="st&quot;x"><p>inner</p></div>
</body>
</html>
"##;
}
