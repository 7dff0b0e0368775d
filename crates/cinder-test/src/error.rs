//! What can go wrong in a test, each with a message that says what to do.

use std::time::Duration;

use crate::Redirect;

/// Why a test step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The selector is not valid CSS.
    #[error("`{selector}` is not a valid CSS selector: {reason}")]
    BadSelector {
        /// The selector as given.
        selector: String,
        /// What the parser said.
        reason: String,
    },

    /// Nothing on the page matched.
    #[error("no element matched `{selector}`{}; the view's HTML is:\n{html}", text_filter(.text))]
    NoElement {
        /// The selector as given.
        selector: String,
        /// The text filter, if any.
        text: Option<String>,
        /// The page, to see what is there instead.
        html: String,
    },

    /// More than one element matched where one was needed.
    #[error("{count} elements matched `{selector}`{}; be more specific (an id, or a text filter) so that one does", text_filter(.text))]
    ManyElements {
        /// The selector as given.
        selector: String,
        /// The text filter, if any.
        text: Option<String>,
        /// How many matched.
        count: usize,
    },

    /// The element has no binding for the event asked for.
    #[error("the element `{selector}` has no `{attribute}`, so the client would send nothing: {element}")]
    NoBinding {
        /// The element's selector.
        selector: String,
        /// The attribute looked for, such as `phx-click`.
        attribute: String,
        /// The element's HTML.
        element: String,
    },

    /// `phx-key` on the element filters the key out.
    #[error(
        "`{selector}` has phx-key=\"{wanted}\", so the client sends nothing for the key \"{key}\""
    )]
    KeyFiltered {
        /// The element's selector.
        selector: String,
        /// What `phx-key` lets through.
        wanted: String,
        /// The key pressed.
        key: String,
    },

    /// The form data names a field the form does not have.
    #[error("the form `{form}` has no enabled input, select or textarea named `{name}`; its fields are: {fields}")]
    NoField {
        /// The form's selector.
        form: String,
        /// The field asked for.
        name: String,
        /// The fields the form has.
        fields: String,
    },

    /// The form data sets a value the field cannot hold.
    #[error("the field `{name}` of `{form}` cannot take \"{value}\": {reason}")]
    BadFieldValue {
        /// The form's selector.
        form: String,
        /// The field.
        name: String,
        /// The value given.
        value: String,
        /// Why not.
        reason: String,
    },

    /// The submitter is not a submit button of the form.
    #[error("`{submitter}` is not a named submit button of the form `{form}`; a submitter must be a <button> or <input type=\"submit\"> with a name, inside the form")]
    BadSubmitter {
        /// The form's selector.
        form: String,
        /// The submitter's selector.
        submitter: String,
    },

    /// The target given to `with_target` matched nothing.
    #[error("phx-target `{target}` matched no element of the view; a target is a component's cid or a CSS selector")]
    NoTarget {
        /// The target as given.
        target: String,
    },

    /// The view crashed: the server sent `phx_error`.
    #[error("the view crashed ({reason}); its process died handling what was sent, see the server's log for the panic. `View::rejoin` mounts it again, as the client would")]
    Crashed {
        /// What the server said.
        reason: String,
    },

    /// The view is gone: the server closed its channel.
    #[error("the view has stopped (the server closed its channel{}); mount it again with `LiveTest::live`", .after.as_deref().map(|after| format!(" after {after}")).unwrap_or_default())]
    Closed {
        /// What happened before, if known.
        after: Option<String>,
    },

    /// A child view's container is no longer on its parent's page; the
    /// client destroyed the child and left its channel.
    #[error("the child view `{id}` is no longer on its parent's page, so the client left it; find the page's children again with `live_children`")]
    ChildRemoved {
        /// The child's DOM id.
        id: String,
    },

    /// The view left for another page: a redirect or a live redirect.
    #[error("the view redirected to {}; check it with `assert_redirect` and follow it with `follow_redirect`", .0.to)]
    Redirected(Redirect),

    /// Mounting the page redirected instead of showing a view.
    #[error("mounting {path} redirected to {}; follow it with `LiveTest::follow`", .redirect.to)]
    MountRedirected {
        /// The path mounted.
        path: String,
        /// Where it went.
        redirect: Redirect,
    },

    /// The page's HTTP response was not a live view.
    #[error("GET {path} answered {status}, not a live view: {body}")]
    Http {
        /// The path requested.
        path: String,
        /// The response's status.
        status: u16,
        /// The start of the response's body.
        body: String,
    },

    /// The server refused the join.
    #[error("the server refused to join the view at {path}: {reason}")]
    JoinRefused {
        /// The view's path.
        path: String,
        /// The reason in the error reply (`stale`, `unauthorized`, …).
        reason: String,
    },

    /// The server answered an event with an error reply.
    #[error("the server refused the `{event}` message: {response}")]
    Refused {
        /// The message sent.
        event: String,
        /// The error reply.
        response: String,
    },

    /// The server sent a diff the client could not apply.
    #[error("{0}")]
    BadDiff(String),

    /// An answer did not come in time.
    #[error("waited {timeout:?} for {what}, which did not come; the view may be stuck, or raise the limit with `LiveTest::timeout`")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        timeout: Duration,
    },

    /// An assertion on what the server sent did not hold.
    #[error("{0}")]
    Assertion(String),

    /// The socket or the HTTP connection failed.
    #[error("the connection to the app failed: {0}")]
    Connection(String),

    /// The upload is not in a state for this step.
    #[error("upload: {0}")]
    Upload(String),
}

fn text_filter(text: &Option<String>) -> String {
    text.as_ref()
        .map(|text| format!(" with text containing {text:?}"))
        .unwrap_or_default()
}

/// The result of a test step.
pub type Result<T, E = Error> = std::result::Result<T, E>;
