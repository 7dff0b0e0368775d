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
use crate::socket::websocket::page_buffer;
use crate::Rendered;

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

/// What a dead render produced: the page's tree, whose HTML is written where
/// it goes (see [`DeadPage::write_html`]), the title and the flash it shows,
/// or the URL it patched, navigated or redirected to.
pub(crate) struct DeadPage {
    /// The view in its layout, its children's containers in place.
    tree: Rendered,
    /// The components the tree places.
    components: Components,
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
            tree: page,
            components,
            title: outgoing.title,
            flash: socket.flash().clone(),
            redirect_to: match outgoing.leave {
                Some(Leave::Navigate(to) | Leave::Redirect(to)) => Some(to),
                None => outgoing.patch.map(|patch| patch.to),
            },
        })
    })
}

impl DeadPage {
    /// The page's HTML, with the markup of the components it places.
    pub(crate) fn html(&self) -> String {
        self.components.html(&self.tree)
    }

    /// Writes the page's HTML after `out`'s bytes: straight into the
    /// document around it, with no buffer of its own.
    pub(crate) fn write_html(&self, out: &mut Vec<u8>) {
        self.components.write_html(&self.tree, out);
    }

    /// About how many bytes [`write_html`](DeadPage::write_html) writes.
    pub(crate) fn html_size_hint(&self) -> usize {
        self.tree.html_size_hint()
    }
}

/// A fresh container id, `phx-` and 12 random bytes, as Phoenix makes them.
pub(crate) fn container_id() -> String {
    let bytes: [u8; 12] = crate::random::bytes();
    let mut id = String::with_capacity(20);
    id.push_str("phx-");
    URL_SAFE_NO_PAD.encode_string(bytes, &mut id);
    id
}

/// What goes into one page, but the view's HTML.
pub(crate) struct Page<'a> {
    pub(crate) id: &'a str,
    pub(crate) session_token: &'a str,
    pub(crate) static_token: &'a str,
    pub(crate) csrf_token: &'a str,
    pub(crate) title: &'a str,
    /// The URL of the ES module whose default export is the client's hooks.
    pub(crate) hooks: Option<&'a str>,
}

impl Page<'_> {
    /// The whole document: the root layout around the view's container,
    /// which holds `inner_html`.
    pub(crate) fn to_html(&self, layout: RootLayout, inner_html: &str) -> String {
        layout(&RootPage {
            title: self.title,
            head: &self.head(),
            container: &self.container(inner_html),
        })
    }

    /// What [`to_html`](Page::to_html) writes with the
    /// [default root layout](default_root_layout), as bytes, the view's
    /// HTML written by `write_inner` straight into the document: a page's
    /// content is not copied from a buffer of its own into the container,
    /// then from the container into the document. `inner_size` is about
    /// how many bytes `write_inner` writes.
    pub(crate) fn default_document(
        &self,
        inner_size: usize,
        write_inner: impl FnOnce(&mut Vec<u8>),
    ) -> Vec<u8> {
        let head = self.head();
        let mut document = document_start(
            self.title,
            &head,
            self.container_start_size()
                + inner_size
                + CONTAINER_END.len()
                + DOCUMENT_AFTER_CONTAINER.len(),
        );
        self.push_container_start(&mut document);
        let mut document = document.into_bytes();
        write_inner(&mut document);
        document.extend_from_slice(CONTAINER_END.as_bytes());
        document.extend_from_slice(DOCUMENT_AFTER_CONTAINER.as_bytes());
        document
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

    /// The view's container, with the tokens the client joins with,
    /// holding `inner_html`.
    fn container(&self, inner_html: &str) -> String {
        let mut container = String::with_capacity(self.container_start_size() + inner_html.len());
        self.push_container_start(&mut container);
        container.push_str(inner_html);
        container.push_str(CONTAINER_END);
        container
    }

    /// The bytes of the container's tags and tokens, with room for a few
    /// escapes.
    fn container_start_size(&self) -> usize {
        CONTAINER_TAG_BYTES + self.id.len() + self.session_token.len() + self.static_token.len()
    }

    /// The container's opening tag, with the tokens the client joins with.
    fn push_container_start(&self, out: &mut String) {
        out.push_str(r#"<div id=""#);
        escape_into(out, self.id);
        out.push_str(r#"" data-phx-main data-phx-session=""#);
        escape_into(out, self.session_token);
        out.push_str(r#"" data-phx-static=""#);
        escape_into(out, self.static_token);
        out.push_str(r#"">"#);
    }
}

/// What closes the view's container.
const CONTAINER_END: &str = "</div>";

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
    let mut html = document_start(
        page.title,
        page.head,
        page.container.len() + DOCUMENT_AFTER_CONTAINER.len(),
    );
    html.push_str(page.container);
    html.push_str(DOCUMENT_AFTER_CONTAINER);
    html
}

/// The default root layout's document up to its container, in a buffer
/// with room for `rest` bytes more.
fn document_start(title: &str, head: &str, rest: usize) -> String {
    let mut html = page_buffer(
        DOCUMENT_BEFORE_TITLE.len()
            + title.len()
            + DOCUMENT_AFTER_TITLE.len()
            + head.len()
            + DOCUMENT_AFTER_HEAD.len()
            + rest
            // Room for escapes in the title.
            + 16,
    );
    html.push_str(DOCUMENT_BEFORE_TITLE);
    escape_into(&mut html, title);
    html.push_str(DOCUMENT_AFTER_TITLE);
    html.push_str(head);
    html.push_str(DOCUMENT_AFTER_HEAD);
    html
}

/// The default root layout's document up to its title.
const DOCUMENT_BEFORE_TITLE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>"#;
/// The default root layout's document from its title to its head's parts.
const DOCUMENT_AFTER_TITLE: &str = r#"</title>
<link rel="stylesheet" href="/assets/cinder.css">
"#;
/// The default root layout's document from its head's parts to the container.
const DOCUMENT_AFTER_HEAD: &str = "\n</head>\n<body>\n";
/// The default root layout's document after the container.
const DOCUMENT_AFTER_CONTAINER: &str = "\n</body>\n</html>\n";

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
            hooks,
        }
    }

    /// The page, byte for byte, with every token escaped; with hooks, the
    /// import (its URL kept from ending the script) and their place in the
    /// socket's options are all that change.
    #[test]
    fn a_page_is_the_layout_around_the_head_and_container() {
        assert_eq!(page(None).to_html(default_root_layout, INNER), PLAIN);
        let with_hooks = PLAIN
            .replace(
                "const csrfToken",
                "import hooks from \"/a\\u003c/script>.js\";\nconst csrfToken",
            )
            .replace("{ params:", "{ hooks, params:");
        let hooks = page(Some("/a</script>.js")).to_html(default_root_layout, INNER);
        assert_eq!(hooks, with_hooks);
    }

    /// The default layout's document written around the view's HTML in
    /// place is the layout's, byte for byte, whatever room it was given.
    #[test]
    fn the_default_document_is_the_default_layout_around_the_container() {
        for hooks in [None, Some("/a</script>.js")] {
            let page = page(hooks);
            let expected = page.to_html(default_root_layout, INNER);
            for inner_size in [0, INNER.len(), 4096] {
                let document = page.default_document(inner_size, |out| {
                    out.extend_from_slice(INNER.as_bytes());
                });
                assert_eq!(
                    String::from_utf8(document).unwrap(),
                    expected,
                    "{inner_size}"
                );
            }
        }
        let sized = page(None).default_document(INNER.len(), |out| {
            out.extend_from_slice(INNER.as_bytes());
        });
        // Page buffers come in whole steps of 4 KiB.
        assert!(
            sized.capacity() >= sized.len()
                && sized.capacity() <= (sized.len() + 256).next_multiple_of(4096),
            "sized once: {} bytes in {}",
            sized.len(),
            sized.capacity()
        );
    }

    const INNER: &str = "<p>inner</p>";

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
