//! Nested views: a live view rendered inside another's page, with its own
//! process and its own channel ([`live_render`]), and sticky views that
//! stay on the page across live navigation
//! ([`LiveRouter::sticky`](crate::live::LiveRouter::sticky)).
//!
//! The page holds the child's container (`data-phx-session`,
//! `data-phx-parent-id`); the client joins it on the same WebSocket once
//! the parent has joined. The child's events, renders and crashes are its
//! own: the parent renders again without touching it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use super::channel::join_view;
use super::flash::Flash;
use super::page::{dead_render, DeadStart};
use super::router::{static_token, LiveState, Route, SessionToken};
use super::{LiveView, Params, Session};
use crate::escape::escape;
use crate::rendered::{Dynamic, PlacementCount, Rendered, Template, Text};

/// Places the live view `V` in a template, as a child of the view rendering
/// it: `V` mounts with `session` (and no URL parameters) in a process of its
/// own. `id` is the child's DOM id, unique on the page; the same id on the
/// next render is the same child.
///
/// ```
/// use cinder::live::{live_render, LiveView, MountError, Params, Session, Socket};
/// use cinder::{html, Rendered};
///
/// struct Ticker;
///
/// impl LiveView for Ticker {
///     type Info = ();
///     async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> {
///         Ok(Ticker)
///     }
///     fn render(&self) -> Rendered {
///         html! { <p>"tick"</p> }
///     }
/// }
///
/// let page = html! { <main>{live_render::<Ticker>("ticker", Session::default())}</main> };
/// # let _ = page;
/// ```
pub fn live_render<V: LiveView>(id: impl Into<String>, session: Session) -> Dynamic {
    Dynamic::LiveChild(LiveChildRef(Arc::new(ChildPlacement {
        id: id.into(),
        session,
        route: child_route::<V>(),
        kind: std::any::type_name::<V>(),
        _count: PlacementCount::new(),
    })))
}

/// A child view placed in a template; made by [`live_render`].
#[derive(Clone)]
pub struct LiveChildRef(pub(crate) Arc<ChildPlacement>);

pub(crate) struct ChildPlacement {
    pub(crate) id: String,
    session: Session,
    route: Route,
    kind: &'static str,
    _count: PlacementCount,
}

impl LiveChildRef {
    /// The child's DOM id.
    pub fn id(&self) -> &str {
        &self.0.id
    }
}

impl PartialEq for LiveChildRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for LiveChildRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveChildRef")
            .field("view", &self.0.kind)
            .field("id", &self.0.id)
            .finish()
    }
}

/// The route of a view that is only ever a child or sticky: no path (it
/// cannot patch), no live session, no hooks.
pub(crate) fn child_route<V: LiveView>() -> Route {
    Route {
        path: "".into(),
        view: std::any::type_name::<V>().into(),
        live_session: "".into(),
        on_mount: Arc::from([]),
        dead: dead_render::<V>,
        join: join_view::<V>,
    }
}

/// The view types rendered as children, by name, for their joins: a child's
/// session token names its type.
#[derive(Default)]
pub(crate) struct ChildRoutes(RwLock<HashMap<&'static str, Route>>);

impl ChildRoutes {
    fn register(&self, kind: &'static str, route: &Route) {
        let known = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains_key(kind);
        if !known {
            self.0
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(kind, route.clone());
        }
    }

    /// The route of the child view type named `kind`.
    pub(crate) fn get(&self, kind: &str) -> Option<Route> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(kind)
            .cloned()
    }
}

/// Where a container goes: inside a parent, or sticky on the page.
pub(crate) enum Placement<'a> {
    Child { parent_id: &'a str },
    Sticky,
}

impl LiveState {
    /// The container of a child or sticky view, with `inner_html` (the dead
    /// render's, or nothing once connected: the client keeps what it has).
    pub(crate) fn child_container(
        &self,
        id: &str,
        kind: &'static str,
        route: &Route,
        session: &Session,
        placement: Placement<'_>,
        inner_html: &str,
    ) -> String {
        self.children.register(kind, route);
        let session_token = self.session_signer.sign(&SessionToken {
            id: id.to_string(),
            view: usize::MAX,
            child: Some(kind.to_string()),
            session: Some(session.0.clone()),
        });
        let static_token = static_token(&self.static_signer, id, &Flash::default());
        let placement = match placement {
            Placement::Child { parent_id } => {
                format!(r#" data-phx-parent-id="{}""#, escape(parent_id))
            }
            Placement::Sticky => " data-phx-sticky".to_string(),
        };
        format!(
            r#"<div id="{id}" data-phx-session="{session_token}" data-phx-static="{static_token}"{placement}>{inner_html}</div>"#,
            id = escape(id),
        )
    }

    /// The HTML of a child or sticky view's dead render, inside its
    /// container; an error message in its place if it refused to mount.
    pub(crate) async fn dead_child(
        self: &Arc<Self>,
        id: &str,
        kind: &'static str,
        route: &Route,
        session: &Session,
        placement: Placement<'_>,
    ) -> String {
        let start = DeadStart {
            params: Params::default(),
            uri: String::new(),
            session: session.clone(),
            state: self.app_state.clone(),
            layout: bare_layout,
            flash: Flash::default(),
            live: self.clone(),
            container_id: id.to_string(),
        };
        let inner = match (route.dead)(start).await {
            Ok(page) => page.html(),
            Err(error) => {
                tracing::warn!(child = kind, %error, "a child view refused to mount");
                format!("<p>{}</p>", escape(&error.message))
            }
        };
        self.child_container(id, kind, route, session, placement, &inner)
    }
}

/// Children render without the live layout: the flash is the page's.
pub(crate) fn bare_layout(_flash: &Flash, view: Rendered) -> Rendered {
    view
}

/// Replaces each child placed in `tree` with its container, from `html`
/// by id.
fn fill(tree: &mut Rendered, html: &HashMap<String, String>) {
    tree.resolve_children(&mut |child| {
        Dynamic::Text(
            html.get(&child.0.id)
                .map_or_else(Text::new, |h| h.as_str().into()),
        )
    });
}

/// Renders the dead HTML of every child placed in `tree` into it.
pub(crate) async fn dead_children(tree: &mut Rendered, live: &Arc<LiveState>, parent_id: &str) {
    let mut html = HashMap::new();
    for child in tree.children() {
        let placement = &child.0;
        let container = Box::pin(live.dead_child(
            &placement.id,
            placement.kind,
            &placement.route,
            &placement.session,
            Placement::Child { parent_id },
        ))
        .await;
        html.insert(placement.id.clone(), container);
    }
    fill(tree, &html);
}

/// The containers of a connected view's children, signed once per child so
/// the parent's renders leave them unchanged, and for a main view those of
/// the router's sticky views.
///
/// Most views have neither: a view keeps nothing for them until it has one.
#[derive(Default)]
pub(crate) struct Children(Option<Box<Containers>>);

#[derive(Default)]
struct Containers {
    children: HashMap<String, String>,
    sticky: Option<String>,
}

/// Puts the sticky views' containers after a main view's tree.
fn with_sticky(tree: Rendered, sticky: &str) -> Rendered {
    static AFTER: OnceLock<&'static Template> = OnceLock::new();
    let template = AFTER.get_or_init(|| Template::leak(vec![String::new(); 3], false));
    Rendered::new(
        template,
        vec![
            Dynamic::Nested(Box::new(tree)),
            Dynamic::Text(sticky.to_string().into()),
        ],
    )
}

impl Children {
    /// Ends a main view's tree with the sticky views' containers, empty:
    /// the client keeps their content, as their own views render it. Every
    /// render must hold them, or live navigation would drop them.
    pub(crate) fn add_sticky(
        &mut self,
        tree: Rendered,
        live: &LiveState,
        session: &Session,
        live_session: &str,
    ) -> Rendered {
        let containers = self.0.get_or_insert_with(Box::default);
        let sticky = containers.sticky.get_or_insert_with(|| {
            live.stickies(live_session)
                .map(|sticky| {
                    live.child_container(
                        &sticky.id,
                        sticky.kind,
                        &sticky.route,
                        session,
                        Placement::Sticky,
                        "",
                    )
                })
                .collect()
        });
        with_sticky(tree, sticky)
    }

    /// Replaces each child placed in `tree` with its (empty) container.
    pub(crate) fn resolve(&mut self, tree: &mut Rendered, live: &LiveState, parent_id: &str) {
        if !tree.has_children() {
            return;
        }
        let containers = &mut self.0.get_or_insert_with(Box::default).children;
        for child in tree.children() {
            let placement = &child.0;
            containers.entry(placement.id.clone()).or_insert_with(|| {
                live.child_container(
                    &placement.id,
                    placement.kind,
                    &placement.route,
                    &placement.session,
                    Placement::Child { parent_id },
                    "",
                )
            });
        }
        fill(tree, containers);
    }
}
