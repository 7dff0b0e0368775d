//! What the router serves under `/assets`: the official client's scripts and
//! a small stylesheet for the default root layout.

/// `phoenix.min.js`, when embedded at build time.
#[cfg(cinder_embedded_client)]
pub(crate) const PHOENIX_JS: Option<&[u8]> = Some(include_bytes!(env!("CINDER_PHOENIX_JS")));
#[cfg(not(cinder_embedded_client))]
pub(crate) const PHOENIX_JS: Option<&[u8]> = None;

/// `phoenix_live_view.esm.js`, when embedded at build time.
#[cfg(cinder_embedded_client)]
pub(crate) const LIVE_VIEW_JS: Option<&[u8]> = Some(include_bytes!(env!("CINDER_LIVE_VIEW_JS")));
#[cfg(not(cinder_embedded_client))]
pub(crate) const LIVE_VIEW_JS: Option<&[u8]> = None;

/// The default root layout's stylesheet: readable on a laptop and a phone,
/// and the classes the client and the default live layout use.
pub(crate) const STYLESHEET: &str = r#":root { color-scheme: light dark; --accent: #d9480f; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 48rem; padding: 1rem; font: 16px/1.5 system-ui, sans-serif; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 1rem; }
a { color: var(--accent); }
button, input, select, textarea { font: inherit; }
button { padding: 0.35rem 0.9rem; border: 1px solid currentColor; border-radius: 0.4rem; background: transparent; cursor: pointer; }
button:hover { color: var(--accent); }
input[type=text], input[type=password], input[type=email], input:not([type]) { padding: 0.35rem 0.5rem; border: 1px solid #8888; border-radius: 0.4rem; width: min(100%, 22rem); }
label { display: block; margin: 0.6rem 0 0.2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #8884; }
nav { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; margin: 1rem 0; }
ul { padding-left: 1.2rem; }
.error { color: #c92a2a; margin: 0.2rem 0; font-size: 0.9rem; }
#flash .flash { padding: 0.6rem 0.9rem; border-radius: 0.4rem; cursor: pointer; margin: 0 0 1rem; }
#flash .flash-info { background: #d3f9d8; color: #2b8a3e; }
#flash .flash-error { background: #ffe3e3; color: #c92a2a; }
.phx-loading { opacity: 0.6; }
.phx-error > * { opacity: 0.5; }
"#;
