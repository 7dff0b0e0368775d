//! The showcase's own scripts: the client hooks module, which every page
//! imports (see [`LiveRouter::hooks`](cinder::live::LiveRouter::hooks)),
//! and SortableJS, which `/kanban`'s hook loads. Both come from the binary;
//! SortableJS is embedded when it was installed at build time and read from
//! `assets/node_modules` otherwise.

use std::path::{Path, PathBuf};

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Where the hooks module is served.
pub const HOOKS_URL: &str = "/showcase/hooks.js";
/// Where SortableJS is served (the hooks module imports it from there).
pub const SORTABLE_URL: &str = "/showcase/sortable.esm.js";

/// The hooks module, from `examples/showcase/assets/hooks.js`.
const HOOKS_JS: &str = include_str!("../assets/hooks.js");

#[cfg(showcase_embedded_sortable)]
const SORTABLE_JS: Option<&str> = Some(include_str!(env!("SHOWCASE_SORTABLE_JS")));
#[cfg(not(showcase_embedded_sortable))]
const SORTABLE_JS: Option<&str> = None;

/// The routes serving the scripts.
pub fn routes() -> axum::Router {
    axum::Router::new()
        .route(HOOKS_URL, get(|| async { javascript(HOOKS_JS) }))
        .route(SORTABLE_URL, get(sortable))
}

/// Whether SortableJS can be served, for a warning at start-up.
pub fn sortable_available() -> bool {
    SORTABLE_JS.is_some() || sortable_path().exists()
}

fn sortable_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/node_modules/sortablejs/modular/sortable.esm.js")
}

async fn sortable() -> Response {
    if let Some(script) = SORTABLE_JS {
        return javascript(script);
    }
    let path = sortable_path();
    match tokio::fs::read_to_string(&path).await {
        Ok(script) => javascript(script),
        Err(error) => {
            tracing::error!(path = %path.display(), %error, "SortableJS is not installed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "SortableJS is not installed at {}: run `npm ci --prefix assets`",
                    path.display()
                ),
            )
                .into_response()
        }
    }
}

fn javascript(script: impl IntoResponse) -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        script,
    )
        .into_response()
}
