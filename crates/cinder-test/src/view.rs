//! A mounted live view: its HTML, its elements, and the events a user sends.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::form::Form;
use crate::query::{self, Found};
use crate::socket::{Socket, ViewState};
use crate::upload::{FileEntry, Upload};
use crate::{Inner, Redirect, RedirectKind};

/// A live view mounted by [`LiveTest::live`](crate::LiveTest::live): joined
/// over the app's real socket, its page kept up to date with every diff the
/// server sends (replies, and pushes from timers or PubSub alike).
///
/// Cloning a `View` gives another handle on the same view; the view's
/// process stops when the last handle (and its socket) is dropped.
#[derive(Clone)]
pub struct View {
    pub(crate) test: Arc<Inner>,
    pub(crate) socket: Arc<Socket>,
    pub(crate) topic: String,
    pub(crate) target: Option<Target>,
}

/// Where an event goes: a component by its cid, or the component (or view)
/// owning the elements a selector matches, as `phx-target` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A component's cid (what `phx-target={@myself}` renders).
    Cid(u64),
    /// A CSS selector; each element it matches sends to its component.
    Selector(String),
}

impl From<u64> for Target {
    fn from(cid: u64) -> Self {
        Target::Cid(cid)
    }
}

impl From<&str> for Target {
    fn from(selector: &str) -> Self {
        match selector.parse() {
            Ok(cid) => Target::Cid(cid),
            Err(_) => Target::Selector(selector.to_string()),
        }
    }
}

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("View")
            .field("topic", &self.topic)
            .field("target", &self.target)
            .finish()
    }
}

impl View {
    pub(crate) fn timeout(&self) -> Duration {
        self.test.timeout()
    }

    pub(crate) fn with_state<T>(&self, read: impl FnOnce(&ViewState) -> T) -> T {
        let state = self.socket.shared.lock();
        let view = state
            .views
            .get(&self.topic)
            .expect("a view's state lives as long as its socket");
        read(view)
    }

    pub(crate) fn with_state_mut<T>(&self, change: impl FnOnce(&mut ViewState) -> T) -> T {
        let mut state = self.socket.shared.lock();
        let view = state
            .views
            .get_mut(&self.topic)
            .expect("a view's state lives as long as its socket");
        change(view)
    }

    /// The view's element id (`phx-…`), which is also its channel's topic
    /// without `lv:`.
    pub fn id(&self) -> String {
        self.with_state(|view| view.id.clone())
    }

    /// The path (and query) the view shows now; patches change it.
    pub fn path(&self) -> String {
        self.with_state(|view| view.path.clone())
    }

    /// The view's HTML as the browser shows it now: the inside of its
    /// container, after every diff received so far.
    pub fn html(&self) -> String {
        self.with_state(ViewState::html)
    }

    /// Every diff the view received since it joined, in order, as the
    /// server sent them: the join's rendered tree first, then each reply's
    /// and each push's diff. For debugging, and for replaying a session
    /// through another client.
    pub fn diffs(&self) -> Vec<Value> {
        self.with_state(|view| view.received.clone())
    }

    /// The page's title as the client sets it from the view (`<title>`'s
    /// `data-prefix` and `data-suffix` included), or `None` if the view
    /// never set one.
    pub fn page_title(&self) -> Option<String> {
        self.with_state(ViewState::page_title)
    }

    /// The one element matching `selector` (and containing `text`, if
    /// given). Fails if none or several match.
    ///
    /// ```no_run
    /// # async fn example(view: cinder_test::View) -> cinder_test::Result<()> {
    /// view.element("button", Some("+"))?.click().await?;
    /// # Ok(()) }
    /// ```
    pub fn element(&self, selector: &str, text: Option<&str>) -> Result<Element> {
        query::one(&self.html(), selector, text)?;
        Ok(Element {
            view: self.clone(),
            selector: selector.to_string(),
            text: text.map(str::to_string),
            value: None,
        })
    }

    /// Whether at least one element matches `selector` (and contains `text`).
    /// Fails only if the selector is not valid CSS.
    pub fn has_element(&self, selector: &str, text: Option<&str>) -> Result<bool> {
        Ok(!query::all(&self.html(), selector, text)?.is_empty())
    }

    /// How many elements match `selector` (and contain `text`).
    pub fn count(&self, selector: &str, text: Option<&str>) -> Result<usize> {
        Ok(query::all(&self.html(), selector, text)?.len())
    }

    /// The text of every element matching `selector`, in page order.
    pub fn texts(&self, selector: &str) -> Result<Vec<String>> {
        Ok(query::all(&self.html(), selector, None)?
            .into_iter()
            .map(|found| found.text)
            .collect())
    }

    /// The form matching `selector`, to fill in and change or submit.
    pub fn form(&self, selector: &str) -> Result<Form> {
        query::form(&self.html(), selector)?;
        Ok(Form::new(self.clone(), selector))
    }

    /// The file input named `name` of the form `form`, with files to
    /// upload through the view's upload protocol (see [`Upload`]).
    pub fn file_input(&self, form: &str, name: &str, entries: Vec<FileEntry>) -> Result<Upload> {
        Upload::new(self.clone(), form, name, entries)
    }

    /// This view, with events sent by `render_*` going to `target`: a
    /// component's cid, or a selector as in `phx-target`.
    pub fn with_target(&self, target: impl Into<Target>) -> View {
        View {
            target: Some(target.into()),
            ..self.clone()
        }
    }

    /// Sends a click event named `event` with `value`, as `phx-click` would.
    pub async fn render_click(&self, event: &str, value: Value) -> Result<String> {
        self.send_typed("click", event, value).await
    }

    /// Sends a `keydown` event (as `phx-keydown`), `key` in the value.
    pub async fn render_keydown(&self, event: &str, key: &str) -> Result<String> {
        self.send_typed("keydown", event, json!({ "key": key }))
            .await
    }

    /// Sends a `keyup` event (as `phx-keyup`), `key` in the value.
    pub async fn render_keyup(&self, event: &str, key: &str) -> Result<String> {
        self.send_typed("keyup", event, json!({ "key": key })).await
    }

    /// Sends a `focus` event (as `phx-focus`).
    pub async fn render_focus(&self, event: &str, value: Value) -> Result<String> {
        self.send_typed("focus", event, value).await
    }

    /// Sends a `blur` event (as `phx-blur`).
    pub async fn render_blur(&self, event: &str, value: Value) -> Result<String> {
        self.send_typed("blur", event, value).await
    }

    /// Presses `key` anywhere on the page: every `phx-window-keydown`
    /// binding whose `phx-key` lets the key through (all of them without
    /// one) sends its event with `{"key": key}`, in page order, as the
    /// client does. Returns the view's HTML after the replies.
    pub async fn window_keydown(&self, key: &str) -> Result<String> {
        self.window_key("keydown", key).await
    }

    /// Releases `key` anywhere on the page: the `phx-window-keyup`
    /// bindings, as [`View::window_keydown`] does for key presses.
    pub async fn window_keyup(&self, key: &str) -> Result<String> {
        self.window_key("keyup", key).await
    }

    async fn window_key(&self, kind: &str, key: &str) -> Result<String> {
        let attribute = format!("phx-window-{kind}");
        let bindings = query::all(&self.html(), &format!("[{attribute}]"), None)?;
        if bindings.is_empty() {
            return Err(Error::NoElement {
                selector: format!("[{attribute}]"),
                text: None,
                html: self.html(),
            });
        }
        for found in bindings {
            if found
                .attr("phx-key")
                .is_some_and(|wanted| !wanted.eq_ignore_ascii_case(key))
            {
                continue;
            }
            let event = found.attr(&attribute).unwrap_or_default().to_string();
            let value = event_value(&found, None, Some(("key", key)), None);
            let cid = match found.attr("phx-target") {
                Some(target) => match target.parse::<u64>() {
                    Ok(cid) => vec![Some(cid)],
                    Err(_) => self.selector_targets(target)?,
                },
                None => vec![None],
            };
            for cid in cid {
                self.push_event(event_payload(kind, &event, value.clone(), cid))
                    .await?;
            }
        }
        Ok(self.html())
    }

    /// Sends a hook's `pushEvent(event, value)` and returns the server's
    /// reply to it (`socket.reply`), if any.
    pub async fn render_hook(&self, event: &str, value: Value) -> Result<Option<Value>> {
        let cids = self.view_targets()?;
        let mut reply = None;
        for cid in cids {
            let response = self
                .push_event(event_payload("hook", event, value.clone(), cid))
                .await?;
            reply = hook_reply(&response);
        }
        Ok(reply)
    }

    async fn send_typed(&self, kind: &str, event: &str, value: Value) -> Result<String> {
        for cid in self.view_targets()? {
            self.push_event(event_payload(kind, event, value.clone(), cid))
                .await?;
        }
        Ok(self.html())
    }

    /// The cids a view-level event goes to.
    fn view_targets(&self) -> Result<Vec<Option<u64>>> {
        match &self.target {
            None => Ok(vec![None]),
            Some(Target::Cid(cid)) => Ok(vec![Some(*cid)]),
            Some(Target::Selector(selector)) => self.selector_targets(selector),
        }
    }

    pub(crate) fn selector_targets(&self, selector: &str) -> Result<Vec<Option<u64>>> {
        let found = query::all(&self.html(), selector, None)?;
        if found.is_empty() {
            return Err(Error::NoTarget {
                target: selector.to_string(),
            });
        }
        Ok(found.into_iter().map(|found| found.component).collect())
    }

    /// Sends an `event` message, waits for the reply, and returns it.
    pub(crate) async fn push_event(&self, payload: Value) -> Result<Value> {
        self.push("event", payload).await
    }

    pub(crate) async fn push(&self, event: &str, payload: Value) -> Result<Value> {
        let join_ref = self.with_state(|view| match view.failure() {
            Some(error) => Err(error),
            None => Ok(view.join_ref.clone()),
        })?;
        let response = self
            .socket
            .push(&self.topic, &join_ref, event, payload, self.timeout())
            .await?;
        if let Some(error) = self.with_state(ViewState::failure) {
            return Err(error);
        }
        // Components the reply removed are reported to the server before
        // the step ends, so that the test sees the server's answer.
        self.wait_for("the server's replies about removed components", |view| {
            (view.destroying == 0).then_some(Ok(()))
        })
        .await?;
        Ok(response)
    }

    /// The cids of the components the server destroyed since the view
    /// joined, in order: when a diff removes a component's elements from
    /// the page, the harness sends `cids_will_destroy` and then
    /// `cids_destroyed`, as the client does, and forgets the cids the
    /// server lists in its reply.
    pub fn destroyed_components(&self) -> Vec<u64> {
        self.with_state(|view| view.destroyed.clone())
    }

    /// The cids of the components whose elements the page shows now
    /// (`data-phx-component`), in page order.
    pub fn components(&self) -> Vec<u64> {
        self.with_state(|view| crate::dom::component_cids(&view.dom))
    }

    /// Patches the view to `path` as a `data-phx-link="patch"` link does:
    /// `handle_params` runs, and the new HTML is returned. If `path` is not
    /// this view's, the client navigates instead, which is returned as
    /// [`Error::Redirected`].
    pub async fn render_patch(&self, path: &str) -> Result<String> {
        let url = self.url(path);
        let response = self.push("live_patch", json!({ "url": url })).await?;
        if response.get("link_redirect").and_then(Value::as_bool) == Some(true) {
            let redirect = Redirect {
                kind: RedirectKind::Live,
                to: path.to_string(),
                flash: None,
            };
            self.with_state_mut(|view| view.redirect = Some(redirect.clone()));
            return Err(Error::Redirected(redirect));
        }
        self.with_state_mut(|view| view.path = path.to_string());
        Ok(self.html())
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.socket.address)
    }

    /// Asserts that the server patched the view to `path` (`push_patch`)
    /// since the last assertion; waits for it up to the test's timeout.
    /// Returns the patch's path.
    pub async fn assert_patch(&self, path: &str) -> Result<String> {
        let patched = self
            .wait_for("a patch", |view| view.patches.pop_front().map(Ok))
            .await
            .map_err(|error| match error {
                Error::Timeout { .. } => Error::Assertion(format!(
                    "expected a patch to {path}, but the view was not patched (it shows {})",
                    self.path()
                )),
                other => other,
            })?;
        if patched != path {
            return Err(Error::Assertion(format!(
                "expected a patch to {path}, but the view was patched to {patched}"
            )));
        }
        Ok(patched)
    }

    /// Asserts that no patch arrived that an assertion has not taken.
    pub fn refute_patch(&self) -> Result<()> {
        match self.with_state_mut(|view| view.patches.pop_front()) {
            None => Ok(()),
            Some(patched) => Err(Error::Assertion(format!(
                "expected no patch, but the view was patched to {patched}"
            ))),
        }
    }

    /// Asserts that the view redirected (or live-redirected) to `path`;
    /// waits for it up to the test's timeout. Returns the redirect.
    pub async fn assert_redirect(&self, path: &str) -> Result<Redirect> {
        let redirect = self
            .wait_for("a redirect", |view| view.redirect.clone().map(Ok))
            .await
            .map_err(|error| match error {
                Error::Timeout { .. } => Error::Assertion(format!(
                    "expected a redirect to {path}, but the view did not redirect"
                )),
                other => other,
            })?;
        if redirect.to != path {
            return Err(Error::Assertion(format!(
                "expected a redirect to {path}, but the view redirected to {}",
                redirect.to
            )));
        }
        Ok(redirect)
    }

    /// Mounts the page the view redirected to: a live redirect joins the
    /// new view on the same socket, as the client does; a redirect loads
    /// the page (with the flash it carries).
    pub async fn follow_redirect(&self) -> Result<View> {
        let redirect = self
            .with_state(|view| view.redirect.clone())
            .ok_or_else(|| {
                Error::Assertion("the view has not redirected; there is nothing to follow".into())
            })?;
        match redirect.kind {
            RedirectKind::Live => crate::navigate(self, &redirect).await,
            RedirectKind::Redirect => {
                crate::LiveTest::from_inner(self.test.clone())
                    .follow(&redirect)
                    .await
            }
        }
    }

    /// Asserts that the server pushed `event` (`push_event`) with `payload`
    /// since the last assertion on it; waits up to the test's timeout.
    pub async fn assert_push_event(&self, event: &str, payload: &Value) -> Result<()> {
        let taken = self
            .wait_for(&format!("push_event {event}"), |view| {
                let position = view.events.iter().position(|(name, _)| name == event)?;
                view.events.remove(position).map(Ok)
            })
            .await;
        match taken {
            Ok((_, received)) if &received == payload => Ok(()),
            Ok((_, received)) => Err(Error::Assertion(format!(
                "the view pushed `{event}` with {received}, not {payload}"
            ))),
            Err(Error::Timeout { .. }) => {
                let seen: Vec<String> = self
                    .with_state(|view| view.events.iter().map(|(name, _)| name.clone()).collect());
                Err(Error::Assertion(format!(
                    "expected the view to push `{event}`, but it did not; pushed and not yet asserted: {seen:?}"
                )))
            }
            Err(other) => Err(other),
        }
    }

    /// Takes every pushed event not yet asserted, as `(name, payload)`.
    pub fn take_push_events(&self) -> Vec<(String, Value)> {
        self.with_state_mut(|view| view.events.drain(..).collect())
    }

    /// Waits for the next diff the server pushes on its own (a timer, a
    /// PubSub message), and returns the HTML after it.
    pub async fn next_update(&self) -> Result<String> {
        let seen = self.with_state(|view| view.pushed);
        self.wait_for("an update from the server", |view| {
            (view.pushed > seen).then_some(Ok(()))
        })
        .await?;
        Ok(self.html())
    }

    /// Waits until an element matches `selector` (and contains `text`), as
    /// server-pushed diffs arrive, and returns the HTML then.
    pub async fn wait_for_element(&self, selector: &str, text: Option<&str>) -> Result<String> {
        query::selector(selector)?;
        self.wait_for(
            &format!("an element `{selector}`"),
            |view| match query::all(&view.html(), selector, text) {
                Ok(found) if !found.is_empty() => Some(Ok(())),
                Ok(_) => None,
                Err(error) => Some(Err(error)),
            },
        )
        .await
        .map_err(|error| match error {
            Error::Timeout { timeout, .. } => Error::Assertion(format!(
                "no element matched `{selector}`{} within {timeout:?}; the view's HTML is:\n{}",
                text.map(|text| format!(" with text containing {text:?}"))
                    .unwrap_or_default(),
                self.html()
            )),
            other => other,
        })?;
        Ok(self.html())
    }

    /// Checks `condition` on the view's state each time something arrives,
    /// until it gives a result or the test's timeout passes.
    async fn wait_for<T>(
        &self,
        what: &str,
        mut condition: impl FnMut(&mut ViewState) -> Option<Result<T>>,
    ) -> Result<T> {
        let deadline = tokio::time::Instant::now() + self.timeout();
        loop {
            let notified = self.socket.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(result) = self.with_state_mut(&mut condition) {
                return result;
            }
            if let Some(error) = self.with_state(|view| view.broken.clone()) {
                return Err(Error::BadDiff(error));
            }
            if let Some(reason) = self.with_state(|view| view.crashed.clone()) {
                return Err(Error::Crashed { reason });
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(Error::Timeout {
                    what: what.to_string(),
                    timeout: self.timeout(),
                });
            }
        }
    }

    /// Joins the view again after a crash, as the client does: the view
    /// mounts anew and the page shows its first render.
    pub async fn rejoin(&self) -> Result<String> {
        let (path, session, static_token, mounts) = self.with_state(|view| {
            (
                view.path.clone(),
                view.session.clone(),
                view.static_token.clone(),
                view.mounts,
            )
        });
        let payload =
            crate::join_payload(self, &path, &session, static_token.as_deref(), mounts, None);
        self.with_state_mut(|view| view.redirect = None);
        crate::join(&self.socket, &self.topic, payload, &path, self.timeout()).await?;
        Ok(self.html())
    }

    /// The child live views the page shows (`data-phx-parent-id` of this
    /// view), each joined on this socket as the client joins them.
    pub async fn live_children(&self) -> Result<Vec<View>> {
        let id = self.id();
        let found = query::all(
            &self.html(),
            &format!("[data-phx-session][data-phx-parent-id=\"{id}\"]"),
            None,
        )?;
        let mut children = Vec::new();
        for child in found {
            children.push(self.join_child(&child).await?);
        }
        Ok(children)
    }

    /// The child live view whose container has the id `id`.
    pub async fn live_child(&self, id: &str) -> Result<View> {
        let child = query::one(
            &self.html(),
            &format!("[id=\"{id}\"][data-phx-session]"),
            None,
        )?;
        self.join_child(&child).await
    }

    async fn join_child(&self, child: &Found) -> Result<View> {
        let id = child.attr("id").unwrap_or_default().to_string();
        let topic = format!("lv:{id}");
        let view = View {
            test: self.test.clone(),
            socket: self.socket.clone(),
            topic: topic.clone(),
            target: None,
        };
        let joined = self
            .socket
            .shared
            .lock()
            .views
            .get(&topic)
            .is_some_and(|view| view.tree.is_some() && view.failure().is_none());
        if joined {
            return Ok(view);
        }
        let session = child
            .attr("data-phx-session")
            .unwrap_or_default()
            .to_string();
        let static_token = child
            .attr("data-phx-static")
            .filter(|token| !token.is_empty())
            .map(str::to_string);
        let path = self.path();
        self.socket.shared.lock().views.insert(
            topic.clone(),
            ViewState::new(id, path.clone(), session.clone(), static_token.clone()),
        );
        let payload = json!({
            "params": {"_csrf_token": self.socket.csrf, "_mounts": 0, "_mount_attempts": 0},
            "session": session,
            "static": static_token,
            "sticky": child.attr("data-phx-sticky").is_some(),
        });
        crate::join(&self.socket, &topic, payload, &path, self.timeout()).await?;
        Ok(view)
    }
}

pub(crate) fn hook_reply(response: &Value) -> Option<Value> {
    response
        .get("diff")
        .and_then(|diff| diff.get("r"))
        .filter(|reply| !reply.is_null())
        .cloned()
}

pub(crate) fn event_payload(kind: &str, event: &str, value: Value, cid: Option<u64>) -> Value {
    let mut payload = json!({"type": kind, "event": event, "value": value});
    if let Some(cid) = cid {
        payload["cid"] = cid.into();
    }
    payload
}

/// An element of a view, found by selector (and text). Each action finds it
/// again in the page as it is then.
#[derive(Debug, Clone)]
pub struct Element {
    view: View,
    selector: String,
    text: Option<String>,
    value: Option<Map<String, Value>>,
}

/// What one `phx-click` does: push an event, patch, or navigate.
enum Action {
    Push {
        event: String,
        value: Map<String, Value>,
        target: Option<String>,
    },
    Patch(String),
    Navigate(String),
}

impl Element {
    fn find(&self) -> Result<Found> {
        query::one(&self.view.html(), &self.selector, self.text.as_deref())
    }

    /// The element's outer HTML now.
    pub fn html(&self) -> Result<String> {
        Ok(self.find()?.html)
    }

    /// The element's inner HTML now.
    pub fn inner_html(&self) -> Result<String> {
        Ok(self.find()?.inner_html)
    }

    /// The element's text now.
    pub fn text(&self) -> Result<String> {
        Ok(self.find()?.text)
    }

    /// One attribute of the element now.
    pub fn attr(&self, name: &str) -> Result<Option<String>> {
        Ok(self.find()?.attr(name).map(str::to_string))
    }

    /// Adds values to the events this element sends, as a `JS.push`'s
    /// `value:` does (they go over the `phx-value-*` ones).
    pub fn with_value(mut self, value: Value) -> Self {
        if let Value::Object(value) = value {
            self.value.get_or_insert_with(Map::new).extend(value);
        }
        self
    }

    /// Clicks the element: its `phx-click` (an event, or a JS command list's
    /// `push`, `patch` and `navigate`), or a `data-phx-link` patch or
    /// navigation link. Returns the view's HTML after the reply.
    pub async fn click(&self) -> Result<String> {
        let found = self.find()?;
        let actions = match found.attr("phx-click") {
            Some(binding) => self.actions(&found, binding)?,
            None => match (found.attr("data-phx-link"), found.attr("href")) {
                (Some("patch"), Some(href)) => vec![Action::Patch(href.to_string())],
                (Some("redirect"), Some(href)) => vec![Action::Navigate(href.to_string())],
                _ => {
                    return Err(self.no_binding(&found, "phx-click"));
                }
            },
        };
        for action in actions {
            match action {
                Action::Push {
                    event,
                    value,
                    target,
                } => {
                    let value = self.value_of(&found, Some(value), None);
                    for cid in self.targets(&found, target.as_deref())? {
                        self.view
                            .push_event(event_payload("click", &event, value.clone(), cid))
                            .await?;
                    }
                }
                Action::Patch(href) => {
                    self.view.render_patch(&href).await?;
                }
                Action::Navigate(href) => {
                    let redirect = Redirect {
                        kind: RedirectKind::Live,
                        to: href,
                        flash: None,
                    };
                    self.view
                        .with_state_mut(|view| view.redirect = Some(redirect.clone()));
                    return Err(Error::Redirected(redirect));
                }
            }
        }
        Ok(self.view.html())
    }

    fn no_binding(&self, found: &Found, attribute: &str) -> Error {
        Error::NoBinding {
            selector: self.selector.clone(),
            attribute: attribute.to_string(),
            element: found.html.clone(),
        }
    }

    fn actions(&self, found: &Found, binding: &str) -> Result<Vec<Action>> {
        if !binding.trim_start().starts_with('[') {
            return Ok(vec![Action::Push {
                event: binding.to_string(),
                value: Map::new(),
                target: None,
            }]);
        }
        let commands: Vec<Value> = serde_json::from_str(binding).map_err(|error| {
            Error::Assertion(format!(
                "`{}` has a phx-click that is neither an event name nor a JS command list ({error}): {binding}",
                self.selector
            ))
        })?;
        let mut actions = Vec::new();
        for command in commands {
            let (Some(op), args) = (command.get(0).and_then(Value::as_str), command.get(1)) else {
                continue;
            };
            let arg = |name: &str| args.and_then(|args| args.get(name));
            match op {
                "push" => actions.push(Action::Push {
                    event: arg("event")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    value: arg("value")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                    target: arg("target").map(|target| match target {
                        Value::String(target) => target.clone(),
                        other => other.to_string(),
                    }),
                }),
                "patch" => {
                    if let Some(href) = arg("href").and_then(Value::as_str) {
                        actions.push(Action::Patch(href.to_string()));
                    }
                }
                "navigate" => {
                    if let Some(href) = arg("href").and_then(Value::as_str) {
                        actions.push(Action::Navigate(href.to_string()));
                    }
                }
                _ => {}
            }
        }
        if actions.is_empty() {
            return Err(Error::NoBinding {
                selector: self.selector.clone(),
                attribute: "phx-click with a push, patch or navigate command (its JS commands run only in the browser)".into(),
                element: found.html.clone(),
            });
        }
        Ok(actions)
    }

    /// The cids an event from this element goes to (`phx-target`).
    fn targets(&self, found: &Found, target: Option<&str>) -> Result<Vec<Option<u64>>> {
        let target = target.or_else(|| found.attr("phx-target"));
        match target {
            None => Ok(vec![None]),
            Some(target) => match target.parse::<u64>() {
                Ok(cid) => Ok(vec![Some(cid)]),
                Err(_) => self.view.selector_targets(target),
            },
        }
    }

    /// The event's value: `phx-value-*`, then the element's value, then
    /// the command's and the test's values (the client's `extractMeta`).
    fn value_of(
        &self,
        found: &Found,
        command: Option<Map<String, Value>>,
        extra: Option<(&str, &str)>,
    ) -> Value {
        event_value(found, command, extra, self.value.as_ref())
    }

    async fn key(&self, kind: &str, key: &str) -> Result<String> {
        let found = self.find()?;
        let attribute = format!("phx-{kind}");
        let window = format!("phx-window-{kind}");
        let event = found
            .attr(&attribute)
            .or_else(|| found.attr(&window))
            .ok_or_else(|| self.no_binding(&found, &attribute))?
            .to_string();
        if let Some(wanted) = found.attr("phx-key") {
            if !wanted.eq_ignore_ascii_case(key) {
                return Err(Error::KeyFiltered {
                    selector: self.selector.clone(),
                    wanted: wanted.to_string(),
                    key: key.to_string(),
                });
            }
        }
        let value = self.value_of(&found, None, Some(("key", key)));
        for cid in self.targets(&found, None)? {
            self.view
                .push_event(event_payload(kind, &event, value.clone(), cid))
                .await?;
        }
        Ok(self.view.html())
    }

    /// Presses `key` on the element: its `phx-keydown` (or
    /// `phx-window-keydown`), honouring `phx-key`.
    pub async fn keydown(&self, key: &str) -> Result<String> {
        self.key("keydown", key).await
    }

    /// Releases `key` on the element: its `phx-keyup` (or `phx-window-keyup`).
    pub async fn keyup(&self, key: &str) -> Result<String> {
        self.key("keyup", key).await
    }

    async fn focus_event(&self, kind: &str) -> Result<String> {
        let found = self.find()?;
        let attribute = format!("phx-{kind}");
        let event = found
            .attr(&attribute)
            .or_else(|| found.attr(&format!("phx-window-{kind}")))
            .ok_or_else(|| self.no_binding(&found, &attribute))?
            .to_string();
        let value = self.value_of(&found, None, None);
        for cid in self.targets(&found, None)? {
            self.view
                .push_event(event_payload(kind, &event, value.clone(), cid))
                .await?;
        }
        Ok(self.view.html())
    }

    /// Focuses the element: its `phx-focus`.
    pub async fn focus(&self) -> Result<String> {
        self.focus_event("focus").await
    }

    /// Blurs the element: its `phx-blur`.
    pub async fn blur(&self) -> Result<String> {
        self.focus_event("blur").await
    }

    /// Pushes `event` from the element as script does with
    /// `liveSocket.js().push(el, event, {value})` (the client's own
    /// viewport bindings do so): type `js`, the element's `phx-value-*`
    /// and `value`, to its `phx-target` if it has one. Returns the view's
    /// HTML after the reply.
    ///
    /// ```no_run
    /// # async fn example(view: cinder_test::View) -> cinder_test::Result<()> {
    /// use serde_json::json;
    /// view.element("#posts", None)?.js_push("load-more", json!({"id": "posts-20"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn js_push(&self, event: &str, value: Value) -> Result<String> {
        let found = self.find()?;
        let value = event_value(
            &found,
            value.as_object().cloned(),
            None,
            self.value.as_ref(),
        );
        for cid in self.targets(&found, None)? {
            self.view
                .push_event(event_payload("js", event, value.clone(), cid))
                .await?;
        }
        Ok(self.view.html())
    }

    /// Scrolls the element's last child into view, as the client's
    /// `phx-viewport-bottom` binding sees it: pushes the binding's event
    /// with `{"id": <the last child's id>}`. Returns the view's HTML after
    /// the reply.
    pub async fn viewport_bottom(&self) -> Result<String> {
        self.viewport("phx-viewport-bottom", |found| found.edge_children.1.clone())
            .await
    }

    /// Scrolls the element's first child into view, as the client's
    /// `phx-viewport-top` binding sees it: pushes the binding's event with
    /// `{"id": <the first child's id>}`.
    pub async fn viewport_top(&self) -> Result<String> {
        self.viewport("phx-viewport-top", |found| found.edge_children.0.clone())
            .await
    }

    async fn viewport(
        &self,
        attribute: &str,
        child: impl Fn(&Found) -> Option<String>,
    ) -> Result<String> {
        let found = self.find()?;
        let event = found
            .attr(attribute)
            .ok_or_else(|| self.no_binding(&found, attribute))?
            .to_string();
        let id = child(&found).ok_or_else(|| {
            Error::Assertion(format!(
                "`{}` has no child with an id to scroll into view; a stream's children have theirs: {}",
                self.selector, found.html
            ))
        })?;
        self.js_push(&event, json!({ "id": id })).await
    }

    /// Sends a hook's `pushEvent` from this element: to its component if it
    /// is inside one (`pushEventTo` on the element), otherwise to the view.
    /// Returns the reply.
    pub async fn render_hook(&self, event: &str, value: Value) -> Result<Option<Value>> {
        let found = self.find()?;
        let response = self
            .view
            .push_event(event_payload("hook", event, value, found.component))
            .await?;
        Ok(hook_reply(&response))
    }
}

/// The value an event from `found` carries: `phx-value-*`, then the
/// element's value, then the command's and the test's values (the client's
/// `extractMeta`).
fn event_value(
    found: &Found,
    command: Option<Map<String, Value>>,
    extra: Option<(&str, &str)>,
    added: Option<&Map<String, Value>>,
) -> Value {
    let mut value = Map::new();
    for (name, attr) in &found.attrs {
        if let Some(key) = name.strip_prefix("phx-value-") {
            value.insert(key.to_string(), Value::String(attr.clone()));
        }
    }
    if let Some((key, extra)) = extra {
        value.insert(key.to_string(), Value::String(extra.to_string()));
    }
    let element_value = match found.name.as_str() {
        "input" => {
            let kind = found.attr("type").unwrap_or_default().to_ascii_lowercase();
            let checkable = kind == "checkbox" || kind == "radio";
            if checkable && found.attr("checked").is_none() {
                None
            } else if checkable {
                Some(Value::String(
                    found.attr("value").unwrap_or("on").to_string(),
                ))
            } else {
                Some(Value::String(
                    found.attr("value").unwrap_or_default().to_string(),
                ))
            }
        }
        "button" | "option" | "output" | "data" | "param" => Some(Value::String(
            found.attr("value").unwrap_or_default().to_string(),
        )),
        "textarea" => Some(Value::String(found.text.clone())),
        "select" => None,
        "li" => Some(Value::from(
            found
                .attr("value")
                .and_then(|value| value.parse::<i64>().ok())
                .unwrap_or(0),
        )),
        _ => None,
    };
    if let Some(element_value) = element_value {
        value.insert("value".into(), element_value);
    }
    if let Some(command) = command {
        value.extend(command);
    }
    if let Some(added) = added {
        value.extend(added.clone());
    }
    Value::Object(value)
}
