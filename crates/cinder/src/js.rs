//! JS commands: client-side operations written on the server.
//!
//! A [`JS`] value is a list of commands that the official client runs in the
//! browser when the element it sits on fires its event: show or hide an
//! element with a transition, add or remove classes, set attributes, move
//! focus, dispatch a DOM event, push an event to the server with extra
//! values, patch or navigate. The commands are DOM-patch aware: what they
//! change on an element sticks when the server later patches it.
//!
//! Build one with [`JS::new`] and chain the commands in the order they run;
//! put it in a template as the value of a binding such as `phx-click`, where
//! it renders as HTML-escaped JSON, the same JSON as Phoenix's
//! `Phoenix.LiveView.JS`:
//!
//! ```
//! use cinder::html;
//! use cinder::js::{Push, Show, Transition, JS};
//!
//! let open = JS::new()
//!     .show(Show::to("#modal").transition(Transition::new("ease-out").from("opacity-0").to("opacity-100")))
//!     .focus_first("#modal");
//! let save = JS::new()
//!     .push(Push::event("save").value(serde_json::json!({"draft": true})))
//!     .hide("#modal");
//! let page = html! {
//!     <button phx-click={open}>"Open"</button>
//!     <button phx-click={save}>"Save"</button>
//! };
//! assert!(page.to_html().contains(
//!     r#"phx-click="[[&quot;show&quot;,{&quot;to&quot;:&quot;#modal&quot;,&quot;transition&quot;:[[&quot;ease-out&quot;],[&quot;opacity-0&quot;],[&quot;opacity-100&quot;]]}],[&quot;focus_first&quot;,{&quot;to&quot;:&quot;#modal&quot;}]]""#
//! ));
//! ```
//!
//! # Which elements a command acts on
//!
//! Every command but [`push`](JS::push), [`navigate`](JS::navigate),
//! [`patch`](JS::patch) and [`pop_focus`](JS::pop_focus) takes a
//! [`Selector`]: a CSS selector over the whole document (any `&str` or
//! `String`), [`Selector::inner`] (within the element the user interacted
//! with), [`Selector::closest`] (the nearest ancestor of it that matches),
//! or [`Selector::Interacted`] (that element itself). The options types
//! ([`Show`], [`Hide`], [`Toggle`], [`ClassChange`], [`Timed`], [`Dispatch`])
//! convert from a selector too, so `js.hide("#modal")` and
//! `js.hide(Hide::to("#modal").time(300))` both read as they should.
//!
//! # Mistakes
//!
//! Phoenix raises on a few arguments the client would misread: a push
//! `value` or a dispatch `detail` that is not a JSON object, a `detail` on
//! a dispatched `click`, a `done` key in the detail of a blocking dispatch,
//! and a `navigate` or `patch` to a URL with a scheme other than `http` or
//! `https` (such as `javascript:`). Here such a command, or the offending
//! option, is left out and an error is logged through `tracing` saying what
//! to change; the page keeps working.

use std::fmt;
use std::fmt::Write as _;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::dynamic::AttrValue;
use crate::escape::escape_into;
use crate::rendered::Cid;

/// A list of JS commands, run by the client in order.
///
/// Renders as the JSON the client reads (`[["push",{"event":"inc"}]]`) when
/// used as an attribute value in [`html!`](crate::html), escaped for the
/// attribute; serializes to the same JSON with serde, so it can travel in a
/// [`push_event`](crate::live::Socket::push_event) payload for a hook to run
/// with `liveSocket.execJS(el, js)`. See the [module docs](self).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JS {
    ops: Vec<Op>,
}

/// One command: its name and its arguments, sorted by name as Phoenix
/// encodes them.
#[derive(Clone, Debug, PartialEq)]
struct Op {
    kind: &'static str,
    args: Vec<(&'static str, Value)>,
}

impl JS {
    /// An empty list of commands; chain commands onto it.
    ///
    /// ```
    /// use cinder::js::JS;
    ///
    /// assert_eq!(JS::new().to_json(), "[]");
    /// assert_eq!(JS::new().push("inc").to_json(), r#"[["push",{"event":"inc"}]]"#);
    /// ```
    pub fn new() -> JS {
        JS::default()
    }

    /// Whether the list holds no command.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The commands as the client reads them, unescaped JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("JS commands are plain JSON")
    }

    /// The commands of `self` followed by those of `other`.
    ///
    /// ```
    /// use cinder::js::JS;
    ///
    /// let both = JS::new().push("save").concat(JS::new().hide("#modal"));
    /// assert_eq!(both, JS::new().push("save").hide("#modal"));
    /// ```
    pub fn concat(mut self, other: JS) -> JS {
        self.ops.extend(other.ops);
        self
    }

    fn op(mut self, kind: &'static str, mut args: Vec<(&'static str, Option<Value>)>) -> JS {
        args.sort_by_key(|(name, _)| *name);
        let args = args
            .into_iter()
            .filter_map(|(name, value)| Some((name, value?)))
            .collect();
        self.ops.push(Op { kind, args });
        self
    }

    /// Pushes an event to the server, as `phx-click="name"` would; give a
    /// [`Push`] for a value, a target, or loading states.
    ///
    /// ```
    /// use cinder::js::{Push, JS};
    /// use serde_json::json;
    ///
    /// assert_eq!(
    ///     JS::new().push(Push::event("inc").value(json!({"by": 2})).loading(".thermo")).to_json(),
    ///     r#"[["push",{"event":"inc","loading":".thermo","value":{"by":2}}]]"#
    /// );
    /// ```
    pub fn push(self, push: impl Into<Push>) -> JS {
        let push = push.into();
        self.op(
            "push",
            vec![
                ("event", Some(push.event.into())),
                ("target", push.target.map(PushTarget::into_value)),
                ("loading", push.loading.map(Value::from)),
                ("page_loading", push.page_loading.map(Value::from)),
                ("value", push.value.map(Value::Object)),
            ],
        )
    }

    /// Navigates to the live view at `href` (a path or an `http(s)` URL),
    /// adding a history entry, as `<a data-phx-link="redirect">` does.
    ///
    /// ```
    /// use cinder::js::JS;
    ///
    /// assert_eq!(
    ///     JS::new().navigate("/home").to_json(),
    ///     r#"[["navigate",{"href":"/home","replace":false}]]"#
    /// );
    /// ```
    pub fn navigate(self, href: impl Into<String>) -> JS {
        self.go("navigate", href.into(), false)
    }

    /// Like [`navigate`](JS::navigate), replacing the current history entry.
    pub fn navigate_replace(self, href: impl Into<String>) -> JS {
        self.go("navigate", href.into(), true)
    }

    /// Patches the current live view to `href`, adding a history entry:
    /// `handle_params` runs with the new URL's parameters.
    ///
    /// ```
    /// use cinder::js::JS;
    ///
    /// assert_eq!(
    ///     JS::new().patch_replace("/table?page=2").to_json(),
    ///     r#"[["patch",{"href":"/table?page=2","replace":true}]]"#
    /// );
    /// ```
    pub fn patch(self, href: impl Into<String>) -> JS {
        self.go("patch", href.into(), false)
    }

    /// Like [`patch`](JS::patch), replacing the current history entry.
    pub fn patch_replace(self, href: impl Into<String>) -> JS {
        self.go("patch", href.into(), true)
    }

    fn go(self, kind: &'static str, href: String, replace: bool) -> JS {
        if let Some(scheme) = unsupported_scheme(&href) {
            tracing::error!(
                href,
                scheme,
                "JS {kind} leaves out a destination with the scheme {scheme:?}: \
                 navigate and patch go to a path or an http(s) URL of a live view; \
                 link to other schemes with an <a href> instead"
            );
            return self;
        }
        self.op(
            kind,
            vec![
                ("href", Some(href.into())),
                ("replace", Some(replace.into())),
            ],
        )
    }

    /// Adds the space-separated classes `names` to the elements.
    ///
    /// ```
    /// use cinder::js::{ClassChange, Selector, JS};
    ///
    /// assert_eq!(
    ///     JS::new().add_class("show hl", Selector::closest("li")).to_json(),
    ///     r#"[["add_class",{"names":["show","hl"],"to":{"closest":"li"}}]]"#
    /// );
    /// assert_eq!(
    ///     JS::new().add_class("show", ClassChange::to("#modal").time(100)).to_json(),
    ///     r##"[["add_class",{"names":["show"],"time":100,"to":"#modal"}]]"##
    /// );
    /// ```
    pub fn add_class(self, names: &str, change: impl Into<ClassChange>) -> JS {
        self.class_op("add_class", names, change.into())
    }

    /// Removes the space-separated classes `names` from the elements.
    pub fn remove_class(self, names: &str, change: impl Into<ClassChange>) -> JS {
        self.class_op("remove_class", names, change.into())
    }

    /// Adds each of the space-separated classes `names` to the elements
    /// that lack it and removes it from those that have it.
    pub fn toggle_class(self, names: &str, change: impl Into<ClassChange>) -> JS {
        self.class_op("toggle_class", names, change.into())
    }

    fn class_op(self, kind: &'static str, names: &str, change: ClassChange) -> JS {
        self.op(
            kind,
            vec![
                ("to", change.to.into_value()),
                ("names", Some(class_names(names))),
                ("transition", change.transition.map(Transition::into_value)),
                ("time", change.time.map(Value::from)),
                ("blocking", change.blocking.map(Value::from)),
            ],
        )
    }

    /// Shows hidden elements, with an optional transition and `display`
    /// value (the client's default is `block`).
    ///
    /// ```
    /// use cinder::js::{Show, JS};
    ///
    /// assert_eq!(JS::new().show("#modal").to_json(), r##"[["show",{"to":"#modal"}]]"##);
    /// assert_eq!(
    ///     JS::new().show(Show::to("#modal").display("flex").time(123)).to_json(),
    ///     r##"[["show",{"display":"flex","time":123,"to":"#modal"}]]"##
    /// );
    /// ```
    pub fn show(self, show: impl Into<Show>) -> JS {
        let show = show.into();
        self.op(
            "show",
            vec![
                ("to", show.to.into_value()),
                ("display", show.display.map(Value::from)),
                ("transition", show.transition.map(Transition::into_value)),
                ("time", show.time.map(Value::from)),
                ("blocking", show.blocking.map(Value::from)),
            ],
        )
    }

    /// Hides elements, with an optional transition.
    ///
    /// ```
    /// use cinder::js::{Hide, JS};
    ///
    /// assert_eq!(
    ///     JS::new().hide(Hide::to("#modal").transition("fade-out")).to_json(),
    ///     r##"[["hide",{"to":"#modal","transition":[["fade-out"],[],[]]}]]"##
    /// );
    /// ```
    pub fn hide(self, hide: impl Into<Hide>) -> JS {
        let hide = hide.into();
        self.op(
            "hide",
            vec![
                ("to", hide.to.into_value()),
                ("transition", hide.transition.map(Transition::into_value)),
                ("time", hide.time.map(Value::from)),
                ("blocking", hide.blocking.map(Value::from)),
            ],
        )
    }

    /// Shows the elements that are hidden and hides those that are shown.
    ///
    /// ```
    /// use cinder::js::{Toggle, JS};
    ///
    /// assert_eq!(
    ///     JS::new().toggle(Toggle::to("#menu").transition_in("fade-in").transition_out("fade-out")).to_json(),
    ///     r##"[["toggle",{"ins":[["fade-in"],[],[]],"outs":[["fade-out"],[],[]],"to":"#menu"}]]"##
    /// );
    /// ```
    pub fn toggle(self, toggle: impl Into<Toggle>) -> JS {
        let toggle = toggle.into();
        self.op(
            "toggle",
            vec![
                ("to", toggle.to.into_value()),
                ("display", toggle.display.map(Value::from)),
                ("ins", toggle.ins.map(Transition::into_value)),
                ("outs", toggle.outs.map(Transition::into_value)),
                ("time", toggle.time.map(Value::from)),
                ("blocking", toggle.blocking.map(Value::from)),
            ],
        )
    }

    /// Applies a transition to the elements for its time, then removes it,
    /// such as a shake on a wrong password.
    ///
    /// ```
    /// use cinder::js::{Timed, JS};
    ///
    /// assert_eq!(
    ///     JS::new().transition("shake", Timed::to("#card").time(500)).to_json(),
    ///     r##"[["transition",{"time":500,"to":"#card","transition":[["shake"],[],[]]}]]"##
    /// );
    /// ```
    pub fn transition(self, transition: impl Into<Transition>, timed: impl Into<Timed>) -> JS {
        let timed = timed.into();
        self.op(
            "transition",
            vec![
                ("time", timed.time.map(Value::from)),
                ("to", timed.to.into_value()),
                ("transition", Some(transition.into().into_value())),
                ("blocking", timed.blocking.map(Value::from)),
            ],
        )
    }

    /// Sets the attribute `name` to `value` on the elements.
    ///
    /// ```
    /// use cinder::js::{Selector, JS};
    ///
    /// assert_eq!(
    ///     JS::new().set_attribute("aria-expanded", "true", Selector::Interacted).to_json(),
    ///     r#"[["set_attr",{"attr":["aria-expanded","true"]}]]"#
    /// );
    /// ```
    pub fn set_attribute(
        self,
        name: impl Into<String>,
        value: impl Into<String>,
        to: impl Into<Selector>,
    ) -> JS {
        let attr = Value::from(vec![name.into(), value.into()]);
        self.op(
            "set_attr",
            vec![("to", to.into().into_value()), ("attr", Some(attr))],
        )
    }

    /// Removes the attribute `name` from the elements.
    pub fn remove_attribute(self, name: impl Into<String>, to: impl Into<Selector>) -> JS {
        self.op(
            "remove_attr",
            vec![
                ("to", to.into().into_value()),
                ("attr", Some(name.into().into())),
            ],
        )
    }

    /// Sets the attribute `name` to `value` where it is absent and removes
    /// it where it is present.
    pub fn toggle_attribute(
        self,
        name: impl Into<String>,
        value: impl Into<String>,
        to: impl Into<Selector>,
    ) -> JS {
        let attr = Value::from(vec![name.into(), value.into()]);
        self.op(
            "toggle_attr",
            vec![("to", to.into().into_value()), ("attr", Some(attr))],
        )
    }

    /// Sets the attribute `name` to `on` where it is `off` (or absent), and
    /// to `off` where it is `on`, such as `aria-expanded` between `"true"`
    /// and `"false"`.
    ///
    /// ```
    /// use cinder::js::JS;
    ///
    /// assert_eq!(
    ///     JS::new().toggle_attribute_between("aria-expanded", "true", "false", "#menu").to_json(),
    ///     r##"[["toggle_attr",{"attr":["aria-expanded","true","false"],"to":"#menu"}]]"##
    /// );
    /// ```
    pub fn toggle_attribute_between(
        self,
        name: impl Into<String>,
        on: impl Into<String>,
        off: impl Into<String>,
        to: impl Into<Selector>,
    ) -> JS {
        let attr = Value::from(vec![name.into(), on.into(), off.into()]);
        self.op(
            "toggle_attr",
            vec![("to", to.into().into_value()), ("attr", Some(attr))],
        )
    }

    /// Keeps the attributes `names` as the client last set them when the
    /// server patches the elements (a `<details open>` the user opened, for
    /// instance). A name may end in `*` to match a prefix, such as `data-*`.
    ///
    /// ```
    /// use cinder::js::{Selector, JS};
    ///
    /// assert_eq!(
    ///     JS::new().ignore_attributes(["open"], Selector::Interacted).to_json(),
    ///     r#"[["ignore_attrs",{"attrs":["open"]}]]"#
    /// );
    /// ```
    pub fn ignore_attributes<I>(self, names: I, to: impl Into<Selector>) -> JS
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let attrs: Vec<String> = names.into_iter().map(Into::into).collect();
        self.op(
            "ignore_attrs",
            vec![
                ("to", to.into().into_value()),
                ("attrs", Some(attrs.into())),
            ],
        )
    }

    /// Dispatches a DOM event to the elements: a `CustomEvent` whose
    /// `detail` carries the given detail, or a `MouseEvent` for `"click"`.
    ///
    /// ```
    /// use cinder::js::{Dispatch, JS};
    /// use serde_json::json;
    ///
    /// assert_eq!(
    ///     JS::new().dispatch(Dispatch::event("app:copy").to("#code").detail(json!({"n": 1}))).to_json(),
    ///     r##"[["dispatch",{"detail":{"n":1},"event":"app:copy","to":"#code"}]]"##
    /// );
    /// ```
    pub fn dispatch(self, dispatch: impl Into<Dispatch>) -> JS {
        let mut dispatch = dispatch.into();
        if dispatch.detail.is_some() && dispatch.event == "click" {
            tracing::error!(
                "JS dispatch of \"click\" leaves out its detail: the browser replaces a \
                 click's detail with a number; dispatch an event of your own with the detail \
                 and click from its listener"
            );
            dispatch.detail = None;
        }
        if dispatch.blocking
            && dispatch
                .detail
                .as_ref()
                .is_some_and(|d| d.contains_key("done"))
        {
            tracing::error!(
                event = dispatch.event,
                "JS dispatch leaves out its detail: a blocking dispatch's detail must not \
                 have a \"done\" key, the client puts its own function there"
            );
            dispatch.detail = None;
        }
        self.op(
            "dispatch",
            vec![
                ("event", Some(dispatch.event.into())),
                ("to", dispatch.to.into_value()),
                ("bubbles", dispatch.bubbles.map(Value::from)),
                ("detail", dispatch.detail.map(Value::Object)),
                ("blocking", dispatch.blocking.then_some(Value::Bool(true))),
            ],
        )
    }

    /// Runs the JS commands held in the attribute `attr` of the elements,
    /// such as their `phx-remove`.
    ///
    /// ```
    /// use cinder::js::JS;
    ///
    /// assert_eq!(
    ///     JS::new().exec("phx-remove", "#modal").to_json(),
    ///     r##"[["exec",{"attr":"phx-remove","to":"#modal"}]]"##
    /// );
    /// ```
    pub fn exec(self, attr: impl Into<String>, to: impl Into<Selector>) -> JS {
        self.op(
            "exec",
            vec![
                ("attr", Some(attr.into().into())),
                ("to", to.into().into_value()),
            ],
        )
    }

    /// Focuses the first element selected.
    ///
    /// ```
    /// use cinder::js::{Selector, JS};
    ///
    /// assert_eq!(JS::new().focus(Selector::Interacted).to_json(), r#"[["focus",{}]]"#);
    /// assert_eq!(
    ///     JS::new().focus(Selector::inner("input")).to_json(),
    ///     r#"[["focus",{"to":{"inner":"input"}}]]"#
    /// );
    /// ```
    pub fn focus(self, to: impl Into<Selector>) -> JS {
        self.op("focus", vec![("to", to.into().into_value())])
    }

    /// Focuses the first focusable element within the element selected.
    pub fn focus_first(self, to: impl Into<Selector>) -> JS {
        self.op("focus_first", vec![("to", to.into().into_value())])
    }

    /// Remembers the element selected (or the focused one, for
    /// [`Selector::Interacted`]) on a stack, for [`pop_focus`](JS::pop_focus)
    /// to return to: focus a modal's field, close it, and focus goes back.
    pub fn push_focus(self, to: impl Into<Selector>) -> JS {
        self.op("push_focus", vec![("to", to.into().into_value())])
    }

    /// Focuses the element last remembered by [`push_focus`](JS::push_focus).
    pub fn pop_focus(self) -> JS {
        self.op("pop_focus", Vec::new())
    }
}

impl Serialize for JS {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut ops = serializer.serialize_seq(Some(self.ops.len()))?;
        for op in &self.ops {
            ops.serialize_element(&(op.kind, Args(&op.args)))?;
        }
        ops.end()
    }
}

/// A command's arguments, as a JSON object in their (sorted) order.
struct Args<'a>(&'a [(&'static str, Value)]);

impl Serialize for Args<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl fmt::Display for JS {
    /// The commands as JSON, unescaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl AttrValue for JS {
    fn write_attr(&self, name: &str, out: &mut String) {
        let _ = write!(out, " {name}=\"");
        escape_into(out, &self.to_json());
        out.push('"');
    }
}

/// The elements a command acts on.
///
/// Any `&str` or `String` is a CSS selector over the whole document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Selector {
    /// The element the user interacted with: the one carrying the binding
    /// (or, for [`JS::push_focus`], the focused element).
    #[default]
    Interacted,
    /// The elements matching a CSS selector anywhere in the document.
    Document(String),
    /// The elements matching a CSS selector within the interacted element.
    Inner(String),
    /// The nearest ancestor of the interacted element (or itself) matching
    /// a CSS selector.
    Closest(String),
}

impl Selector {
    /// The elements matching `selector` within the interacted element.
    pub fn inner(selector: impl Into<String>) -> Selector {
        Selector::Inner(selector.into())
    }

    /// The nearest ancestor of the interacted element (or itself) that
    /// matches `selector`.
    pub fn closest(selector: impl Into<String>) -> Selector {
        Selector::Closest(selector.into())
    }

    fn into_value(self) -> Option<Value> {
        let scoped = |scope: &str, selector: String| {
            Value::Object(Map::from_iter([(scope.to_owned(), selector.into())]))
        };
        match self {
            Selector::Interacted => None,
            Selector::Document(selector) => Some(selector.into()),
            Selector::Inner(selector) => Some(scoped("inner", selector)),
            Selector::Closest(selector) => Some(scoped("closest", selector)),
        }
    }
}

impl From<&str> for Selector {
    fn from(selector: &str) -> Selector {
        Selector::Document(selector.to_owned())
    }
}

impl From<String> for Selector {
    fn from(selector: String) -> Selector {
        Selector::Document(selector)
    }
}

impl From<&String> for Selector {
    fn from(selector: &String) -> Selector {
        Selector::Document(selector.clone())
    }
}

/// A CSS transition in three sets of classes: those applied for its whole
/// time (`transition-all ease-out duration-300`), those it starts from
/// (`opacity-0`) and those it ends with (`opacity-100`).
///
/// A `&str` converts to a transition with only the first set.
///
/// ```
/// use cinder::js::{Hide, JS, Transition};
///
/// let fade = Transition::new("ease-in duration-200").from("opacity-100").to("opacity-0");
/// assert_eq!(
///     JS::new().hide(Hide::to("#toast").transition(fade)).to_json(),
///     r##"[["hide",{"to":"#toast","transition":[["ease-in","duration-200"],["opacity-100"],["opacity-0"]]}]]"##
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transition {
    classes: String,
    start: String,
    end: String,
}

impl Transition {
    /// A transition applying the space-separated `classes` for its time.
    pub fn new(classes: impl Into<String>) -> Transition {
        Transition {
            classes: classes.into(),
            ..Transition::default()
        }
    }

    /// The classes the transition starts from.
    pub fn from(mut self, classes: impl Into<String>) -> Transition {
        self.start = classes.into();
        self
    }

    /// The classes the transition ends with.
    pub fn to(mut self, classes: impl Into<String>) -> Transition {
        self.end = classes.into();
        self
    }

    fn into_value(self) -> Value {
        Value::Array(vec![
            class_names(&self.classes),
            class_names(&self.start),
            class_names(&self.end),
        ])
    }
}

impl From<&str> for Transition {
    fn from(classes: &str) -> Transition {
        Transition::new(classes)
    }
}

impl From<String> for Transition {
    fn from(classes: String) -> Transition {
        Transition::new(classes)
    }
}

/// Space-separated class names as a JSON list, empty names dropped.
fn class_names(names: &str) -> Value {
    names.split_whitespace().map(Value::from).collect()
}

/// Where a pushed event goes: the view (the default), the component that
/// renders an element matched by a CSS selector, or a component by id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushTarget {
    /// The view or component owning the elements this CSS selector matches.
    Selector(String),
    /// A stateful component, by its id (its `@myself`).
    Component(Cid),
}

impl PushTarget {
    fn into_value(self) -> Value {
        match self {
            PushTarget::Selector(selector) => selector.into(),
            PushTarget::Component(cid) => cid.0.into(),
        }
    }
}

impl From<&str> for PushTarget {
    fn from(selector: &str) -> PushTarget {
        PushTarget::Selector(selector.to_owned())
    }
}

impl From<String> for PushTarget {
    fn from(selector: String) -> PushTarget {
        PushTarget::Selector(selector)
    }
}

impl From<Cid> for PushTarget {
    fn from(cid: Cid) -> PushTarget {
        PushTarget::Component(cid)
    }
}

/// An event for [`JS::push`], with its options. A `&str` converts to an
/// event with none.
///
/// ```
/// use cinder::js::{Push, JS};
/// use cinder::Cid;
///
/// assert_eq!(
///     JS::new().push(Push::event("inc").target(Cid(3)).page_loading(true)).to_json(),
///     r#"[["push",{"event":"inc","page_loading":true,"target":3}]]"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Push {
    event: String,
    target: Option<PushTarget>,
    loading: Option<String>,
    page_loading: Option<bool>,
    value: Option<Map<String, Value>>,
}

impl Push {
    /// The event `name`, to the element's `phx-target` or else the view.
    pub fn event(name: impl Into<String>) -> Push {
        Push {
            event: name.into(),
            target: None,
            loading: None,
            page_loading: None,
            value: None,
        }
    }

    /// Sends the event to `target` instead of the element's `phx-target`.
    pub fn target(mut self, target: impl Into<PushTarget>) -> Push {
        self.target = Some(target.into());
        self
    }

    /// Gives the elements matching the CSS selector the loading classes
    /// (`phx-click-loading`, …) until the server answers, and keeps server
    /// updates off them meanwhile.
    pub fn loading(mut self, selector: impl Into<String>) -> Push {
        self.loading = Some(selector.into());
        self
    }

    /// Whether the push fires `phx:page-loading-start` and `-stop` (the
    /// client's default is not to).
    pub fn page_loading(mut self, page_loading: bool) -> Push {
        self.page_loading = Some(page_loading);
        self
    }

    /// Values sent with the event, merged over the element's `phx-value-*`
    /// attributes (and over a form's fields). Must serialize to a JSON
    /// object; anything else is left out and logged.
    pub fn value(mut self, value: impl Serialize) -> Push {
        match serde_json::to_value(value) {
            Ok(Value::Object(map)) => self.value = Some(map),
            Ok(other) => tracing::error!(
                event = self.event,
                value = %other,
                "JS push leaves out a value that is not a JSON object: give a map or a struct"
            ),
            Err(error) => tracing::error!(
                event = self.event,
                %error,
                "JS push leaves out a value that does not serialize to JSON"
            ),
        }
        self
    }
}

impl From<&str> for Push {
    fn from(event: &str) -> Push {
        Push::event(event)
    }
}

impl From<String> for Push {
    fn from(event: String) -> Push {
        Push::event(event)
    }
}

/// Implements the conversions from a selector and the `to`, `time` and
/// `blocking` builders of an options type.
macro_rules! targeted_options {
    ($name:ident) => {
        impl $name {
            /// Options acting on the interacted element.
            pub fn new() -> $name {
                $name::default()
            }

            /// Options acting on the elements `to` selects.
            pub fn to(to: impl Into<Selector>) -> $name {
                $name {
                    to: to.into(),
                    ..$name::default()
                }
            }

            /// How long the transition's classes stay, in milliseconds
            /// (the client's default is 200).
            pub fn time(mut self, milliseconds: u64) -> $name {
                self.time = Some(milliseconds);
                self
            }

            /// Whether the page ignores input while the transition runs
            /// (the client's default is to block).
            pub fn blocking(mut self, blocking: bool) -> $name {
                self.blocking = Some(blocking);
                self
            }
        }

        impl From<Selector> for $name {
            fn from(to: Selector) -> $name {
                $name::to(to)
            }
        }

        impl From<&str> for $name {
            fn from(selector: &str) -> $name {
                $name::to(selector)
            }
        }

        impl From<String> for $name {
            fn from(selector: String) -> $name {
                $name::to(selector)
            }
        }

        impl From<&String> for $name {
            fn from(selector: &String) -> $name {
                $name::to(selector)
            }
        }
    };
}

/// The options of [`JS::show`]; a selector converts to options with only
/// `to`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Show {
    to: Selector,
    transition: Option<Transition>,
    display: Option<String>,
    time: Option<u64>,
    blocking: Option<bool>,
}

targeted_options!(Show);

impl Show {
    /// The transition that shows the elements.
    pub fn transition(mut self, transition: impl Into<Transition>) -> Show {
        self.transition = Some(transition.into());
        self
    }

    /// The `display` value the elements get, such as `flex` (the client's
    /// default is `block`, and `table-row` or `table-cell` for those).
    pub fn display(mut self, display: impl Into<String>) -> Show {
        self.display = Some(display.into());
        self
    }
}

/// The options of [`JS::hide`]; a selector converts to options with only
/// `to`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hide {
    to: Selector,
    transition: Option<Transition>,
    time: Option<u64>,
    blocking: Option<bool>,
}

targeted_options!(Hide);

impl Hide {
    /// The transition that hides the elements.
    pub fn transition(mut self, transition: impl Into<Transition>) -> Hide {
        self.transition = Some(transition.into());
        self
    }
}

/// The options of [`JS::toggle`]; a selector converts to options with only
/// `to`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Toggle {
    to: Selector,
    ins: Option<Transition>,
    outs: Option<Transition>,
    display: Option<String>,
    time: Option<u64>,
    blocking: Option<bool>,
}

targeted_options!(Toggle);

impl Toggle {
    /// The transition that shows the elements.
    pub fn transition_in(mut self, transition: impl Into<Transition>) -> Toggle {
        self.ins = Some(transition.into());
        self
    }

    /// The transition that hides the elements.
    pub fn transition_out(mut self, transition: impl Into<Transition>) -> Toggle {
        self.outs = Some(transition.into());
        self
    }

    /// The `display` value shown elements get (see [`Show::display`]).
    pub fn display(mut self, display: impl Into<String>) -> Toggle {
        self.display = Some(display.into());
        self
    }
}

/// The options of [`JS::add_class`], [`JS::remove_class`] and
/// [`JS::toggle_class`]; a selector converts to options with only `to`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassChange {
    to: Selector,
    transition: Option<Transition>,
    time: Option<u64>,
    blocking: Option<bool>,
}

targeted_options!(ClassChange);

impl ClassChange {
    /// A transition run while the classes change.
    pub fn transition(mut self, transition: impl Into<Transition>) -> ClassChange {
        self.transition = Some(transition.into());
        self
    }
}

/// The options of [`JS::transition`]; a selector converts to options with
/// only `to`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timed {
    to: Selector,
    time: Option<u64>,
    blocking: Option<bool>,
}

targeted_options!(Timed);

/// An event for [`JS::dispatch`], with its options. A `&str` converts to
/// that event, dispatched to the interacted element.
#[derive(Clone, Debug, PartialEq)]
pub struct Dispatch {
    event: String,
    to: Selector,
    detail: Option<Map<String, Value>>,
    bubbles: Option<bool>,
    blocking: bool,
}

impl Dispatch {
    /// The DOM event `name`, to the interacted element.
    pub fn event(name: impl Into<String>) -> Dispatch {
        Dispatch {
            event: name.into(),
            to: Selector::Interacted,
            detail: None,
            bubbles: None,
            blocking: false,
        }
    }

    /// Dispatches to the elements `to` selects instead.
    pub fn to(mut self, to: impl Into<Selector>) -> Dispatch {
        self.to = to.into();
        self
    }

    /// The event's `detail`; must serialize to a JSON object, anything else
    /// is left out and logged. The client adds `dispatcher`, the element
    /// that dispatched.
    pub fn detail(mut self, detail: impl Serialize) -> Dispatch {
        match serde_json::to_value(detail) {
            Ok(Value::Object(map)) => self.detail = Some(map),
            Ok(other) => tracing::error!(
                event = self.event,
                detail = %other,
                "JS dispatch leaves out a detail that is not a JSON object: give a map or a struct"
            ),
            Err(error) => tracing::error!(
                event = self.event,
                %error,
                "JS dispatch leaves out a detail that does not serialize to JSON"
            ),
        }
        self
    }

    /// Whether the event bubbles (the client's default is that it does).
    pub fn bubbles(mut self, bubbles: bool) -> Dispatch {
        self.bubbles = Some(bubbles);
        self
    }

    /// Blocks the page until a listener calls `event.detail.done()`, for
    /// animations run by other JavaScript.
    pub fn blocking(mut self, blocking: bool) -> Dispatch {
        self.blocking = blocking;
        self
    }
}

impl From<&str> for Dispatch {
    fn from(event: &str) -> Dispatch {
        Dispatch::event(event)
    }
}

impl From<String> for Dispatch {
    fn from(event: String) -> Dispatch {
        Dispatch::event(event)
    }
}

/// The scheme `href` starts with, if it is one a live navigation refuses:
/// anything but none, `http` and `https`. A `:` after the first `/`, `?` or
/// `#` is part of the path, not a scheme.
fn unsupported_scheme(href: &str) -> Option<String> {
    let end = href.find([':', '/', '?', '#'])?;
    if !href[end..].starts_with(':') {
        return None;
    }
    let scheme = href[..end].to_ascii_lowercase();
    (scheme != "http" && scheme != "https").then_some(scheme)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::html;

    /// Each command's JSON as `Phoenix.LiveView.JS` writes it, keys sorted
    /// as in its own encoding tests.
    #[test]
    fn push_encodes_as_phoenix_does() {
        assert_eq!(
            JS::new().push("inc").to_json(),
            r#"[["push",{"event":"inc"}]]"#
        );
        assert_eq!(
            JS::new()
                .push(Push::event("inc").value(json!({"one": 1, "two": 2})))
                .to_json(),
            r#"[["push",{"event":"inc","value":{"one":1,"two":2}}]]"#
        );
        assert_eq!(
            JS::new()
                .push(Push::event("inc").target("#modal"))
                .to_json(),
            r##"[["push",{"event":"inc","target":"#modal"}]]"##
        );
        assert_eq!(
            JS::new().push(Push::event("inc").target(Cid(1))).to_json(),
            r#"[["push",{"event":"inc","target":1}]]"#
        );
        assert_eq!(
            JS::new()
                .push(Push::event("inc").loading("#modal"))
                .to_json(),
            r##"[["push",{"event":"inc","loading":"#modal"}]]"##
        );
        assert_eq!(
            JS::new()
                .push(Push::event("inc").page_loading(true))
                .to_json(),
            r#"[["push",{"event":"inc","page_loading":true}]]"#
        );
        assert_eq!(
            JS::new()
                .push("inc")
                .push(Push::event("dec").loading(".foo"))
                .to_json(),
            r#"[["push",{"event":"inc"}],["push",{"event":"dec","loading":".foo"}]]"#
        );
    }

    #[test]
    fn a_push_value_that_is_not_an_object_is_left_out() {
        assert_eq!(
            JS::new()
                .push(Push::event("inc").value("not-a-map"))
                .to_json(),
            r#"[["push",{"event":"inc"}]]"#
        );
    }

    #[test]
    fn navigate_and_patch_encode_as_phoenix_does() {
        assert_eq!(
            JS::new().navigate("/home").to_json(),
            r#"[["navigate",{"href":"/home","replace":false}]]"#
        );
        assert_eq!(
            JS::new().navigate_replace("/home").to_json(),
            r#"[["navigate",{"href":"/home","replace":true}]]"#
        );
        assert_eq!(
            JS::new().navigate("https://example.com/home").to_json(),
            r#"[["navigate",{"href":"https://example.com/home","replace":false}]]"#
        );
        assert_eq!(
            JS::new().navigate("/search?q=a:b").to_json(),
            r#"[["navigate",{"href":"/search?q=a:b","replace":false}]]"#
        );
        assert_eq!(
            JS::new().patch("/home").to_json(),
            r#"[["patch",{"href":"/home","replace":false}]]"#
        );
        assert_eq!(
            JS::new().patch_replace("/home").to_json(),
            r#"[["patch",{"href":"/home","replace":true}]]"#
        );
    }

    #[test]
    fn navigation_to_another_scheme_is_left_out() {
        assert!(JS::new().navigate("mailto:foo@example.com").is_empty());
        assert!(JS::new().navigate("foo:8080").is_empty());
        assert!(JS::new().patch("javascript:alert(1)").is_empty());
        assert!(JS::new().patch("JavaScript:alert(1)").is_empty());
        assert!(!JS::new().patch("HTTPS://example.com").is_empty());
        assert_eq!(unsupported_scheme("a/b:c"), None);
        assert_eq!(unsupported_scheme("?x=y:z"), None);
        assert_eq!(unsupported_scheme("#a:b"), None);
        assert_eq!(unsupported_scheme("data:text/html,x"), Some("data".into()));
    }

    #[test]
    fn class_commands_encode_as_phoenix_does() {
        for kind in ["add_class", "remove_class", "toggle_class"] {
            let run = |names: &str, change: ClassChange| match kind {
                "add_class" => JS::new().add_class(names, change),
                "remove_class" => JS::new().remove_class(names, change),
                _ => JS::new().toggle_class(names, change),
            };
            let expect = |args: &str| format!(r#"[["{kind}",{args}]]"#);
            assert_eq!(
                run("show", ClassChange::new()).to_json(),
                expect(r#"{"names":["show"]}"#)
            );
            assert_eq!(
                run("show", ClassChange::to(Selector::closest("a"))).to_json(),
                expect(r#"{"names":["show"],"to":{"closest":"a"}}"#)
            );
            assert_eq!(
                run("show", ClassChange::to(Selector::inner("a"))).to_json(),
                expect(r#"{"names":["show"],"to":{"inner":"a"}}"#)
            );
            assert_eq!(
                run("show hl", "#modal".into()).to_json(),
                expect(r##"{"names":["show","hl"],"to":"#modal"}"##)
            );
            assert_eq!(
                run("show", ClassChange::new().time(543)).to_json(),
                expect(r#"{"names":["show"],"time":543}"#)
            );
            assert_eq!(
                run(
                    "show",
                    ClassChange::new().transition("fade").blocking(false)
                )
                .to_json(),
                expect(r#"{"blocking":false,"names":["show"],"transition":[["fade"],[],[]]}"#)
            );
            assert_eq!(
                run("c", ClassChange::new().transition("a b")).to_json(),
                expect(r#"{"names":["c"],"transition":[["a","b"],[],[]]}"#)
            );
            assert_eq!(
                run(
                    "show",
                    ClassChange::new()
                        .transition(Transition::new("fade").from("opacity-0").to("opacity-100"))
                )
                .to_json(),
                expect(
                    r#"{"names":["show"],"transition":[["fade"],["opacity-0"],["opacity-100"]]}"#
                )
            );
        }
    }

    #[test]
    fn show_hide_toggle_and_transition_encode_as_phoenix_does() {
        assert_eq!(
            JS::new().show("#modal").to_json(),
            r##"[["show",{"to":"#modal"}]]"##
        );
        assert_eq!(
            JS::new().show(Selector::inner(".modal")).to_json(),
            r#"[["show",{"to":{"inner":".modal"}}]]"#
        );
        assert_eq!(
            JS::new()
                .show(
                    Show::to("#modal").transition(
                        Transition::new("fade-in d-block")
                            .from("opacity-0 -translate-x-full")
                            .to("opacity-100 translate-x-0")
                    )
                )
                .to_json(),
            r##"[["show",{"to":"#modal","transition":[["fade-in","d-block"],["opacity-0","-translate-x-full"],["opacity-100","translate-x-0"]]}]]"##
        );
        assert_eq!(
            JS::new()
                .show(
                    Show::to("#modal")
                        .time(123)
                        .display("block")
                        .blocking(false)
                )
                .to_json(),
            r##"[["show",{"blocking":false,"display":"block","time":123,"to":"#modal"}]]"##
        );
        assert_eq!(JS::new().hide(Hide::new()).to_json(), r#"[["hide",{}]]"#);
        assert_eq!(
            JS::new()
                .hide(Hide::to("#modal").transition("fade-out").time(100))
                .to_json(),
            r##"[["hide",{"time":100,"to":"#modal","transition":[["fade-out"],[],[]]}]]"##
        );
        assert_eq!(
            JS::new().toggle("#modal").to_json(),
            r##"[["toggle",{"to":"#modal"}]]"##
        );
        assert_eq!(
            JS::new()
                .toggle(
                    Toggle::to("#modal")
                        .transition_in(
                            Transition::new("fade-in")
                                .from("opacity-0")
                                .to("opacity-100")
                        )
                        .transition_out(
                            Transition::new("fade-out")
                                .from("opacity-100")
                                .to("opacity-0")
                        )
                        .display("flex")
                        .time(123)
                )
                .to_json(),
            r##"[["toggle",{"display":"flex","ins":[["fade-in"],["opacity-0"],["opacity-100"]],"outs":[["fade-out"],["opacity-100"],["opacity-0"]],"time":123,"to":"#modal"}]]"##
        );
        assert_eq!(
            JS::new().transition("shake", "#modal").to_json(),
            r##"[["transition",{"to":"#modal","transition":[["shake"],[],[]]}]]"##
        );
        assert_eq!(
            JS::new()
                .transition(
                    Transition::new("shake").from("a").to("b"),
                    Timed::new().time(150).blocking(false)
                )
                .to_json(),
            r#"[["transition",{"blocking":false,"time":150,"transition":[["shake"],["a"],["b"]]}]]"#
        );
    }

    #[test]
    fn attribute_commands_encode_as_phoenix_does() {
        assert_eq!(
            JS::new()
                .set_attribute("disabled", "true", Selector::Interacted)
                .to_json(),
            r#"[["set_attr",{"attr":["disabled","true"]}]]"#
        );
        assert_eq!(
            JS::new()
                .set_attribute("has-popup", "true", "#dropdown")
                .to_json(),
            r##"[["set_attr",{"attr":["has-popup","true"],"to":"#dropdown"}]]"##
        );
        assert_eq!(
            JS::new()
                .remove_attribute("disabled", Selector::Interacted)
                .to_json(),
            r#"[["remove_attr",{"attr":"disabled"}]]"#
        );
        assert_eq!(
            JS::new()
                .remove_attribute("aria-expanded", "#dropdown")
                .to_json(),
            r##"[["remove_attr",{"attr":"aria-expanded","to":"#dropdown"}]]"##
        );
        assert_eq!(
            JS::new()
                .toggle_attribute("disabled", "true", Selector::Interacted)
                .to_json(),
            r#"[["toggle_attr",{"attr":["disabled","true"]}]]"#
        );
        assert_eq!(
            JS::new()
                .toggle_attribute_between(
                    "aria-expanded",
                    "true",
                    "false",
                    Selector::inner(".dropdown")
                )
                .to_json(),
            r#"[["toggle_attr",{"attr":["aria-expanded","true","false"],"to":{"inner":".dropdown"}}]]"#
        );
        assert_eq!(
            JS::new()
                .ignore_attributes(["open", "data-*"], "#details")
                .to_json(),
            r##"[["ignore_attrs",{"attrs":["open","data-*"],"to":"#details"}]]"##
        );
    }

    #[test]
    fn dispatch_encodes_as_phoenix_does() {
        assert_eq!(
            JS::new()
                .dispatch(Dispatch::event("click").to(".foo"))
                .to_json(),
            r#"[["dispatch",{"event":"click","to":".foo"}]]"#
        );
        assert_eq!(
            JS::new().dispatch("keyup").to_json(),
            r#"[["dispatch",{"event":"keyup"}]]"#
        );
        assert_eq!(
            JS::new()
                .dispatch(Dispatch::event("click").bubbles(false))
                .to_json(),
            r#"[["dispatch",{"bubbles":false,"event":"click"}]]"#
        );
        assert_eq!(
            JS::new()
                .dispatch(
                    Dispatch::event("app:done")
                        .detail(json!({"id": 1}))
                        .blocking(true)
                )
                .to_json(),
            r#"[["dispatch",{"blocking":true,"detail":{"id":1},"event":"app:done"}]]"#
        );
        // `blocking: false` is not written, as in Phoenix.
        assert_eq!(
            JS::new()
                .dispatch(Dispatch::event("x").blocking(false))
                .to_json(),
            r#"[["dispatch",{"event":"x"}]]"#
        );
    }

    #[test]
    fn dispatch_leaves_out_the_details_phoenix_refuses() {
        assert_eq!(
            JS::new()
                .dispatch(
                    Dispatch::event("click")
                        .to(".foo")
                        .detail(json!({"id": 123}))
                )
                .to_json(),
            r#"[["dispatch",{"event":"click","to":".foo"}]]"#
        );
        assert_eq!(
            JS::new()
                .dispatch(
                    Dispatch::event("foo")
                        .detail(json!({"done": true}))
                        .blocking(true)
                )
                .to_json(),
            r#"[["dispatch",{"blocking":true,"event":"foo"}]]"#
        );
        assert_eq!(
            JS::new()
                .dispatch(Dispatch::event("foo").detail("not-a-map"))
                .to_json(),
            r#"[["dispatch",{"event":"foo"}]]"#
        );
    }

    #[test]
    fn focus_and_exec_encode_as_phoenix_does() {
        assert_eq!(
            JS::new().exec("phx-remove", Selector::Interacted).to_json(),
            r#"[["exec",{"attr":"phx-remove"}]]"#
        );
        assert_eq!(
            JS::new().exec("phx-remove", "#modal").to_json(),
            r##"[["exec",{"attr":"phx-remove","to":"#modal"}]]"##
        );
        assert_eq!(
            JS::new().focus(Selector::Interacted).to_json(),
            r#"[["focus",{}]]"#
        );
        assert_eq!(
            JS::new().focus("input").to_json(),
            r#"[["focus",{"to":"input"}]]"#
        );
        assert_eq!(
            JS::new().focus_first(Selector::inner("input")).to_json(),
            r#"[["focus_first",{"to":{"inner":"input"}}]]"#
        );
        assert_eq!(
            JS::new().push_focus(Selector::Interacted).to_json(),
            r#"[["push_focus",{}]]"#
        );
        assert_eq!(
            JS::new().push_focus("input").to_json(),
            r#"[["push_focus",{"to":"input"}]]"#
        );
        assert_eq!(JS::new().pop_focus().to_json(), r#"[["pop_focus",{}]]"#);
    }

    #[test]
    fn chained_and_concatenated_commands_keep_their_order() {
        let chained = JS::new()
            .push(Push::event("inc").value(json!({"one": 1, "two": 2})))
            .add_class("show", ClassChange::to("#modal").time(100))
            .remove_class("show", Selector::Interacted);
        let concatenated = JS::new()
            .push(Push::event("inc").value(json!({"one": 1, "two": 2})))
            .concat(JS::new().add_class("show", ClassChange::to("#modal").time(100)))
            .concat(JS::new().remove_class("show", Selector::Interacted));
        let expected = r##"[["push",{"event":"inc","value":{"one":1,"two":2}}],["add_class",{"names":["show"],"time":100,"to":"#modal"}],["remove_class",{"names":["show"]}]]"##;
        assert_eq!(chained.to_json(), expected);
        assert_eq!(concatenated, chained);
        assert_eq!(chained.to_string(), expected);
    }

    #[test]
    fn in_a_template_the_json_is_escaped_for_the_attribute() {
        let js = JS::new()
            .push(Push::event("say").value(json!({"text": "it's <b>\"&\"</b>"})))
            .hide("#m");
        let page = html! { <button phx-click={js}>"Go"</button> };
        assert_eq!(
            page.to_html(),
            "<button phx-click=\"[[&quot;push&quot;,{&quot;event&quot;:&quot;say&quot;,\
             &quot;value&quot;:{&quot;text&quot;:&quot;it&#39;s &lt;b&gt;\\&quot;&amp;\\&quot;&lt;/b&gt;&quot;}}],\
             [&quot;hide&quot;,{&quot;to&quot;:&quot;#m&quot;}]]\">Go</button>"
        );
        let kept = JS::new().push("inc");
        let page = html! { <button phx-click={kept}>"+"</button> };
        assert!(page
            .to_html()
            .contains(r#"phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;inc&quot;}]]""#));
    }

    #[test]
    fn commands_serialize_into_event_payloads() {
        let payload = json!({ "to": "#item", "js": JS::new().show("#item") });
        assert_eq!(
            payload.to_string(),
            r##"{"js":[["show",{"to":"#item"}]],"to":"#item"}"##
        );
    }
}
