//! The components of one view: their states and cids, the trees the
//! client holds, and the `"c"` part of each diff.

use std::any::TypeId;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

use axum::http::Extensions;
use cinder_runtime::Pid;
use serde_json::Value;

use super::{
    catch, crashed_markup, BoxFuture, ComponentSocket, ComponentUpdate, ErasedComponent,
    ErasedProps, LiveComponentRef, REMOUNT_EVENT,
};
use crate::diff;
use crate::live::{Event, Outgoing};
use crate::rendered::{Cid, Dynamic, Rendered};

/// One component of a view.
struct Slot {
    kind: TypeId,
    type_name: &'static str,
    id: String,
    props: Box<dyn ErasedProps>,
    /// `None` after a crash, until the component mounts again.
    instance: Option<Box<dyn ErasedComponent>>,
    crash: Option<String>,
    /// The tree the client holds; `None` before the first send, and after
    /// the client removed the component's element and it came back.
    sent: Option<Rendered>,
    /// The tree rendered since the last send.
    fresh: Option<Rendered>,
    /// The client removed the element (`cids_will_destroy`).
    marked: bool,
    streams: Arc<AtomicU32>,
}

/// The stateful components of one view: their states, cids, and the trees
/// the client holds.
///
/// Most views place none: their registry takes no room until a render
/// places the first.
pub(crate) struct Components {
    pid: Option<Pid>,
    state: Arc<Extensions>,
    registry: Option<Box<Registry>>,
}

impl Components {
    pub(crate) fn new(pid: Option<Pid>, state: Arc<Extensions>) -> Self {
        Components {
            pid,
            state,
            registry: None,
        }
    }

    /// The registry, made at its first use.
    fn registry(&mut self) -> &mut Registry {
        self.registry
            .get_or_insert_with(|| Box::new(Registry::new(self.pid.clone(), self.state.clone())))
    }

    /// Whether a render has placed a component yet: until then there is
    /// nothing to render again, deliver changes of or resend.
    pub(crate) fn any(&self) -> bool {
        self.registry.is_some()
    }

    /// [`Registry::resolve`], once `tree` places a component.
    pub(crate) fn resolve(&mut self, tree: &mut Rendered, requests: &mut Requests) {
        if tree.has_live_components() {
            self.registry().resolve(tree, requests);
        }
    }

    /// [`Registry::render_dirty`].
    pub(crate) fn render_dirty(&mut self, requests: &mut Requests) {
        if let Some(registry) = self.registry.as_mut() {
            registry.render_dirty(requests);
        }
    }

    /// [`Registry::handle_event`]; `false` without components.
    pub(crate) async fn handle_event(
        &mut self,
        cid: Cid,
        event: Event,
        requests: &mut Requests,
    ) -> bool {
        match self.registry.as_mut() {
            Some(registry) => registry.handle_event(cid, event, requests).await,
            None => false,
        }
    }

    /// [`Registry::deliver`].
    pub(crate) fn deliver(&mut self, updates: Vec<ComponentUpdate>, requests: &mut Requests) {
        if !updates.is_empty() {
            self.registry().deliver(updates, requests);
        }
    }

    /// [`Registry::take_changes`].
    pub(crate) fn take_changes(&mut self) -> Option<String> {
        self.registry.as_mut()?.take_changes()
    }

    /// The HTML of `tree`, with the markup of the components it places (the
    /// dead render).
    pub(crate) fn html(&self, tree: &Rendered) -> String {
        let mut out = Vec::with_capacity(tree.html_size_hint());
        self.write_html(tree, &mut out);
        String::from_utf8(out).expect("a template writes UTF-8")
    }

    /// Writes [`html`](Components::html) after `out`'s bytes.
    pub(crate) fn write_html(&self, tree: &Rendered, out: &mut Vec<u8>) {
        match &self.registry {
            Some(registry) => registry.write_html(tree, out, 0),
            None => tree.write_html_with(out, &mut |_, _| {}),
        }
    }

    /// [`Registry::resend_all`].
    pub(crate) fn resend_all(&mut self) {
        if let Some(registry) = self.registry.as_mut() {
            registry.resend_all();
        }
    }

    /// [`Registry::mark_removed`].
    pub(crate) fn mark_removed(&mut self, cids: &[Cid]) {
        if let Some(registry) = self.registry.as_mut() {
            registry.mark_removed(cids);
        }
    }

    /// [`Registry::destroy`].
    pub(crate) fn destroy(&mut self, cids: &[Cid]) -> Vec<Cid> {
        self.registry
            .as_mut()
            .map_or_else(Vec::new, |registry| registry.destroy(cids))
    }
}

/// The components of a view that placed one.
struct Registry {
    next_cid: u32,
    cids: HashMap<(TypeId, String), Cid>,
    slots: BTreeMap<Cid, Slot>,
    /// Cids rendered since the last send, in the order they were rendered.
    dirty: Vec<Cid>,
    pid: Option<Pid>,
    state: Arc<Extensions>,
}

/// What components' callbacks asked of the view, gathered for it to apply.
#[derive(Default)]
pub(crate) struct Requests {
    pub(crate) outgoing: Vec<Outgoing>,
    pub(crate) flash: Vec<(String, Option<String>)>,
}

impl Requests {
    /// Whether no callback asked anything of the view.
    pub(crate) fn is_empty(&self) -> bool {
        self.outgoing.is_empty() && self.flash.is_empty()
    }
}

/// How deep components may nest in one another before the view takes the
/// tree to be recursive.
const MAX_DEPTH: usize = 64;

impl Registry {
    fn new(pid: Option<Pid>, state: Arc<Extensions>) -> Self {
        Registry {
            next_cid: 1,
            cids: HashMap::new(),
            slots: BTreeMap::new(),
            dirty: Vec::new(),
            pid,
            state,
        }
    }

    fn socket(&self, cid: Cid) -> ComponentSocket {
        let streams = self
            .slots
            .get(&cid)
            .map_or_else(Default::default, |slot| slot.streams.clone());
        ComponentSocket {
            cid,
            pid: self.pid.clone(),
            state: self.state.clone(),
            outgoing: Outgoing::default(),
            flash: Vec::new(),
            streams,
        }
    }

    /// Gives every component placed in `tree` its cid, mounting new ones and
    /// updating those whose props changed, then renders each of them (and
    /// the components their markup places).
    fn resolve(&mut self, tree: &mut Rendered, requests: &mut Requests) {
        let mut queue = VecDeque::new();
        self.resolve_placements(tree, &mut queue, &mut HashSet::new(), requests);
        self.render_queue(queue, requests);
    }

    fn resolve_placements(
        &mut self,
        tree: &mut Rendered,
        queue: &mut VecDeque<(Cid, usize)>,
        seen: &mut HashSet<Cid>,
        requests: &mut Requests,
    ) {
        if !tree.has_live_components() {
            return;
        }
        tree.resolve_components(&mut |placement| {
            let Some(cid) = self.place(placement, requests) else {
                return Dynamic::empty();
            };
            if seen.insert(cid) {
                if let Some(cid) = cid_to_render(cid, self) {
                    queue.push_back((cid, 0));
                }
            } else {
                tracing::error!(
                    component = placement.0.type_name,
                    id = %placement.0.id,
                    "two components of the same type have the same id in one render; give each a unique id"
                );
            }
            Dynamic::Component(cid)
        });
    }

    /// The cid of a placement, mounting or updating its component; `None`
    /// for a placement whose props were already taken by another view.
    fn place(&mut self, placement: &LiveComponentRef, requests: &mut Requests) -> Option<Cid> {
        let key = (placement.0.kind, placement.0.id.clone());
        let props = placement.take_props();
        if let Some(&cid) = self.cids.get(&key) {
            if let Some(props) = props {
                self.update(cid, props, requests);
            }
            if let Some(slot) = self.slots.get_mut(&cid) {
                if slot.marked {
                    // The client dropped the element and must get it whole.
                    slot.marked = false;
                    slot.sent = None;
                    self.mark_dirty(cid);
                }
            }
            return Some(cid);
        }
        let Some(props) = props else {
            tracing::error!(
                component = placement.0.type_name,
                "a component placement was rendered twice; call live_component in render"
            );
            return None;
        };
        let cid = Cid(self.next_cid);
        self.next_cid += 1;
        let mut socket = self.socket(cid);
        let socket_streams = socket.streams.clone();
        let mounted = catch(|| props.mount(&mut socket));
        let (instance, crash) = match mounted {
            Ok(instance) => (Some(instance), None),
            Err(message) => (
                None,
                Some(log_crash(placement.0.type_name, "mount", &message)),
            ),
        };
        requests.take(socket);
        self.cids.insert(key.clone(), cid);
        self.slots.insert(
            cid,
            Slot {
                kind: key.0,
                type_name: placement.0.type_name,
                id: key.1,
                props,
                instance,
                crash,
                sent: None,
                fresh: None,
                marked: false,
                streams: socket_streams,
            },
        );
        self.mark_dirty(cid);
        Some(cid)
    }

    fn update(&mut self, cid: Cid, props: Box<dyn ErasedProps>, requests: &mut Requests) {
        let mut socket = self.socket(cid);
        let Some(slot) = self.slots.get_mut(&cid) else {
            return;
        };
        if slot.props.same_as(&*props) && slot.crash.is_none() {
            return;
        }
        slot.props = props;
        match slot.instance.as_mut() {
            Some(instance) => {
                let props = slot.props.as_any();
                if let Err(message) = catch(|| instance.update(props, &mut socket)) {
                    slot.crash = Some(log_crash(slot.type_name, "update", &message));
                    slot.instance = None;
                }
            }
            None => remount(slot, &mut socket),
        }
        requests.take(socket);
        self.mark_dirty(cid);
    }

    fn mark_dirty(&mut self, cid: Cid) {
        if let Some(slot) = self.slots.get_mut(&cid) {
            slot.fresh = None;
        }
        if !self.dirty.contains(&cid) {
            self.dirty.push(cid);
        }
    }

    /// Renders the components waiting in `queue`, and those their markup
    /// places, breadth first.
    fn render_queue(&mut self, mut queue: VecDeque<(Cid, usize)>, requests: &mut Requests) {
        let mut seen = HashSet::new();
        while let Some((cid, depth)) = queue.pop_front() {
            if depth > MAX_DEPTH {
                tracing::error!(
                    "components nest more than {MAX_DEPTH} deep; is a component placing itself?"
                );
                continue;
            }
            let Some(mut tree) = self.render_one(cid) else {
                continue;
            };
            let mut nested = VecDeque::new();
            self.resolve_placements(&mut tree, &mut nested, &mut seen, requests);
            queue.extend(nested.into_iter().map(|(cid, _)| (cid, depth + 1)));
            if let Some(slot) = self.slots.get_mut(&cid) {
                slot.fresh = Some(tree);
            }
        }
    }

    /// Renders one component, or its crash markup.
    fn render_one(&mut self, cid: Cid) -> Option<Rendered> {
        let slot = self.slots.get_mut(&cid)?;
        if let Some(instance) = slot.instance.as_ref() {
            let props = slot.props.as_any();
            match catch(|| instance.render(props, cid)) {
                Ok(tree) if tree.template().is_root() => return Some(tree),
                Ok(_) => {
                    let message = "its markup is not exactly one HTML element; wrap it in one";
                    slot.crash = Some(log_crash(slot.type_name, "render", message));
                }
                Err(message) => {
                    slot.crash = Some(log_crash(slot.type_name, "render", &message));
                }
            }
            slot.instance = None;
        }
        let message = slot.crash.as_deref().unwrap_or("the component crashed");
        Some(crashed_markup(cid, message))
    }

    /// Renders every component marked dirty and not rendered yet.
    fn render_dirty(&mut self, requests: &mut Requests) {
        let queue = self
            .dirty
            .iter()
            .filter(|cid| self.slots.get(cid).is_some_and(|slot| slot.fresh.is_none()))
            .map(|&cid| (cid, 0))
            .collect();
        self.render_queue(queue, requests);
    }

    /// Runs the event on the component `cid`. Returns `false` when there is
    /// no such component (it was removed).
    async fn handle_event(&mut self, cid: Cid, event: Event, requests: &mut Requests) -> bool {
        let mut socket = self.socket(cid);
        let Some(slot) = self.slots.get_mut(&cid) else {
            return false;
        };
        if event.name() == REMOUNT_EVENT {
            if slot.instance.is_none() {
                remount(slot, &mut socket);
            }
        } else if let Some(instance) = slot.instance.as_mut() {
            let handled = futures_catch(instance.handle_event(event, &mut socket)).await;
            if let Err(message) = handled {
                slot.crash = Some(log_crash(slot.type_name, "handle_event", &message));
                slot.instance = None;
            }
        }
        requests.take(socket);
        self.mark_dirty(cid);
        true
    }

    /// Delivers `send_update`s; unknown targets are logged.
    fn deliver(&mut self, updates: Vec<ComponentUpdate>, requests: &mut Requests) {
        for update in updates {
            let Some(&cid) = self.cids.get(&(update.kind, update.id.clone())) else {
                tracing::warn!(
                    component = update.type_name,
                    id = %update.id,
                    "send_update to a component that is not on the page"
                );
                continue;
            };
            let mut socket = self.socket(cid);
            let Some(slot) = self.slots.get_mut(&cid) else {
                continue;
            };
            if let Some(instance) = slot.instance.as_mut() {
                let payload = update
                    .update
                    .into_inner()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if let Err(message) = catch(|| instance.handle_update(payload, &mut socket)) {
                    slot.crash = Some(log_crash(slot.type_name, "handle_update", &message));
                    slot.instance = None;
                }
            }
            requests.take(socket);
            self.mark_dirty(cid);
        }
    }

    /// The `"c"` map of the next diff (`None` if no component changed), and
    /// from then on the trees the client holds.
    fn take_changes(&mut self) -> Option<String> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut entries = Vec::new();
        for &cid in &dirty {
            let Some(slot) = self.slots.get(&cid) else {
                continue;
            };
            let Some(fresh) = slot.fresh.as_ref() else {
                continue;
            };
            let json = match slot.sent.as_ref() {
                Some(sent) => diff::diff_component(sent, fresh),
                None => Some(self.new_component_json(cid, fresh, &dirty)),
            };
            if let Some(json) = json {
                entries.push((cid, json));
            }
        }
        for cid in dirty {
            if let Some(slot) = self.slots.get_mut(&cid) {
                if let Some(fresh) = slot.fresh.take() {
                    slot.sent = Some(fresh);
                }
            }
        }
        if entries.is_empty() {
            return None;
        }
        let mut json = String::from("{");
        for (i, (cid, tree)) in entries.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&format!("\"{}\":{tree}", cid.0));
        }
        json.push('}');
        Some(json)
    }

    /// A component the client does not hold: its tree over that of another
    /// component with the same template when there is one (`"s": -cid` for
    /// one the client holds, `"s": cid` for one earlier in the same diff),
    /// otherwise whole.
    fn new_component_json(&self, cid: Cid, fresh: &Rendered, dirty: &[Cid]) -> String {
        let template = fresh.template();
        let held = self.slots.iter().find(|(other, slot)| {
            **other != cid
                && !slot.marked
                && slot
                    .sent
                    .as_ref()
                    .is_some_and(|sent| sent.template().same_as(template))
        });
        if let Some((other, slot)) = held {
            let base = slot.sent.as_ref().expect("found by its sent tree");
            return with_static_ref(diff::diff_component(base, fresh), -i64::from(other.0));
        }
        let earlier = dirty
            .iter()
            .take_while(|other| **other != cid)
            .find(|other| {
                self.slots.get(other).is_some_and(|slot| {
                    slot.sent.is_none()
                        && slot
                            .fresh
                            .as_ref()
                            .is_some_and(|tree| tree.template().same_as(template))
                })
            });
        if let Some(other) = earlier {
            let base = self.slots[other]
                .fresh
                .as_ref()
                .expect("found by its fresh tree");
            return with_static_ref(diff::diff_component(base, fresh), i64::from(other.0));
        }
        diff::render_component(fresh)
    }

    fn write_html(&self, tree: &Rendered, out: &mut Vec<u8>, depth: usize) {
        tree.write_html_with(out, &mut |cid, out| {
            let slot = self.slots.get(&cid);
            if let Some(component) = slot.and_then(|slot| slot.fresh.as_ref()) {
                if depth < MAX_DEPTH {
                    self.write_html(component, out, depth + 1);
                }
            }
        });
    }

    /// The client is about to replace its whole tree (the root template
    /// changed), which drops every component it holds: send them all again,
    /// whole.
    fn resend_all(&mut self) {
        let cids: Vec<Cid> = self
            .slots
            .iter_mut()
            .filter(|(_, slot)| !slot.marked)
            .map(|(cid, slot)| {
                slot.sent = None;
                *cid
            })
            .collect();
        for cid in cids {
            if !self.dirty.contains(&cid) {
                self.dirty.push(cid);
            }
        }
    }

    /// `cids_will_destroy`: the client removed these components' elements.
    fn mark_removed(&mut self, cids: &[Cid]) {
        for cid in cids {
            if let Some(slot) = self.slots.get_mut(cid) {
                slot.marked = true;
            }
        }
    }

    /// `cids_destroyed`: frees the components still removed; returns them.
    fn destroy(&mut self, cids: &[Cid]) -> Vec<Cid> {
        let mut destroyed = Vec::new();
        for cid in cids {
            if self.slots.get(cid).is_some_and(|slot| slot.marked) {
                let slot = self.slots.remove(cid).expect("checked above");
                self.cids.remove(&(slot.kind, slot.id));
                self.dirty.retain(|other| other != cid);
                destroyed.push(*cid);
            }
        }
        destroyed
    }
}

fn cid_to_render(cid: Cid, components: &Registry) -> Option<Cid> {
    components
        .slots
        .get(&cid)
        .filter(|slot| slot.fresh.is_none() && components.dirty.contains(&cid))
        .map(|_| cid)
}

fn remount(slot: &mut Slot, socket: &mut ComponentSocket) {
    match catch(|| slot.props.mount(socket)) {
        Ok(instance) => {
            slot.instance = Some(instance);
            slot.crash = None;
        }
        Err(message) => slot.crash = Some(log_crash(slot.type_name, "mount", &message)),
    }
}

fn log_crash(component: &str, callback: &str, message: &str) -> String {
    tracing::error!(
        component,
        callback,
        message,
        "a component crashed; it shows an error until it mounts again"
    );
    message.to_string()
}

/// Splices `"s": reference` into a component's JSON object.
fn with_static_ref(json: Option<String>, reference: i64) -> String {
    let json = json.unwrap_or_else(|| "{}".to_string());
    diff::splice(json, &format!("{{\"s\":{reference}}}"))
}

/// Awaits `future`, turning a panic into its message.
async fn futures_catch(future: BoxFuture<'_>) -> Result<(), String> {
    crate::live::async_work::CatchUnwind(future).await
}

impl Requests {
    fn take(&mut self, socket: ComponentSocket) {
        self.outgoing.push(socket.outgoing);
        self.flash.extend(socket.flash);
    }
}

/// The cids of a `cids_will_destroy` or `cids_destroyed` payload.
pub(crate) fn cids_of(payload: &Value) -> Vec<Cid> {
    payload
        .get("cids")
        .and_then(Value::as_array)
        .map(|cids| {
            cids.iter()
                .filter_map(Value::as_u64)
                .filter_map(|cid| u32::try_from(cid).ok())
                .map(Cid)
                .collect()
        })
        .unwrap_or_default()
}
