//! Flash messages and the live layout that shows them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{html, Rendered};

/// Messages for the user, by kind (`"info"`, `"error"`, …), shown once and
/// carried across one navigation, as Phoenix's flash is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash(BTreeMap<String, String>);

impl Flash {
    /// The message of `kind`, if any.
    pub fn get(&self, kind: &str) -> Option<&str> {
        self.0.get(kind).map(String::as_str)
    }

    /// Whether there is no message.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages, by kind.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(kind, message)| (kind.as_str(), message.as_str()))
    }

    pub(crate) fn put(&mut self, kind: String, message: String) {
        self.0.insert(kind, message);
    }

    pub(crate) fn remove(&mut self, kind: &str) {
        self.0.remove(kind);
    }
}

/// The live layout: what wraps every view's render, given the flash.
/// Set with [`LiveRouter::live_layout`](super::LiveRouter::live_layout).
pub type Layout = fn(&Flash, Rendered) -> Rendered;

/// The default live layout: the view as it is, with the flash above it
/// while there is one. Each message is a `<p>` of class `flash flash-<kind>`
/// that clears itself when clicked (`lv:clear-flash`).
///
/// ```
/// use cinder::live::{default_layout, Flash};
/// use cinder::html;
///
/// let page = default_layout(&Flash::default(), html! { <p>"hi"</p> });
/// assert_eq!(page.to_html(), "<p>hi</p>");
/// ```
pub fn default_layout(flash: &Flash, view: Rendered) -> Rendered {
    if flash.is_empty() {
        return view;
    }
    html! {
        <div id="flash">
            @for (kind, message) in flash.iter(), key = kind {
                <p class={format!("flash flash-{kind}")} role="alert" phx-click="lv:clear-flash" phx-value-key={kind}>{message}</p>
            }
        </div>
        {view}
    }
}
