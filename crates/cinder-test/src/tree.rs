//! The client's rendered tree: diffs merged and rendered to HTML with the
//! rules of the official client's `rendered.js`.
//!
//! A [`ClientTree`] holds what the browser's client holds for one view: the
//! last full tree, as JSON, with components under `"c"`. Each diff from the
//! server merges into it ([`ClientTree::merge`]), and [`ClientTree::render`]
//! gives the view's HTML and the stream operations the DOM patch must apply.
//! It is what [`View`](crate::View) uses; it is public so that a diff
//! sequence can be checked on its own:
//!
//! ```
//! use cinder_test::tree::ClientTree;
//! use serde_json::json;
//!
//! let mut tree = ClientTree::new("phx-1", json!({"0": "1", "s": ["<p>", "</p>"]}))?;
//! assert_eq!(tree.render()?.html, "<p>1</p>");
//! tree.merge(json!({"0": "2"}))?;
//! assert_eq!(tree.render()?.html, "<p>2</p>");
//! # Ok::<(), cinder_test::tree::TreeError>(())
//! ```

use std::collections::HashMap;

use serde_json::{Map, Value};

/// A diff the client could not merge or render. The official client throws
/// in the same places; the message says what in the diff was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the server sent a diff the client cannot apply: {0}")]
pub struct TreeError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, TreeError> {
    Err(TreeError(message.into()))
}

/// The top-level extras of a diff, taken out before it merges (the client's
/// `Rendered.extract`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    /// The diff without `"r"`, `"e"` and `"t"`.
    pub diff: Value,
    /// `"t"`: a new page title.
    pub title: Option<String>,
    /// `"r"`: the reply to a hook's `pushEvent`.
    pub reply: Option<Value>,
    /// `"e"`: pushed events, each `[name, payload]` or `[name, payload, true]`.
    pub events: Vec<Value>,
}

/// Splits a diff into the part that merges and its extras.
pub fn extract(mut diff: Value) -> Extracted {
    let mut extracted = Extracted::default();
    if let Value::Object(map) = &mut diff {
        extracted.reply = map.remove("r").filter(|reply| !reply.is_null());
        extracted.title = match map.remove("t") {
            Some(Value::String(title)) => Some(title),
            Some(Value::Null) | None => None,
            Some(other) => Some(js_string(&other)),
        };
        if let Some(Value::Array(events)) = map.remove("e") {
            extracted.events = events;
        }
    }
    extracted.diff = diff;
    extracted
}

/// What one render produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendering {
    /// The view's HTML, before the DOM patch (stream containers hold only
    /// the entries this diff inserted).
    pub html: String,
    /// The stream annotations rendered, in order:
    /// `[ref, inserts, delete_ids]` or `[ref, inserts, delete_ids, true]`.
    pub streams: Vec<Value>,
}

/// The tree the client keeps for one view.
#[derive(Debug, Clone)]
pub struct ClientTree {
    view_id: String,
    rendered: Map<String, Value>,
}

/// JavaScript's truthiness, for the flags of the wire format.
fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(Value::Number(number)) => number.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::String(text)) => !text.is_empty(),
        Some(_) => true,
    }
}

/// How JavaScript writes a value into a string.
fn js_string(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "null".into(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number_key(number),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Null => String::new(),
                other => js_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// A number as JavaScript prints it, which is also the object key it names.
fn number_key(number: &serde_json::Number) -> String {
    if let Some(int) = number.as_i64() {
        int.to_string()
    } else if let Some(int) = number.as_u64() {
        int.to_string()
    } else {
        let float = number.as_f64().unwrap_or(f64::NAN);
        if float.fract() == 0.0 && float.abs() < 1e21 {
            format!("{}", float as i64)
        } else {
            float.to_string()
        }
    }
}

/// The client's `isCid` for a diff value: a number, or a string of digits.
fn as_cid(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(number) => number.as_f64(),
        Value::String(text)
            if text == "0"
                || (!text.is_empty()
                    && !text.starts_with('0')
                    && text.bytes().all(|b| b.is_ascii_digit())) =>
        {
            text.parse().ok()
        }
        _ => None,
    }
}

fn has_static(map: &Map<String, Value>) -> bool {
    map.get("s").is_some()
}

impl ClientTree {
    /// The tree of a join's `"rendered"` (without its extras, see [`extract`]).
    pub fn new(view_id: impl Into<String>, rendered: Value) -> Result<ClientTree, TreeError> {
        let mut tree = ClientTree {
            view_id: view_id.into(),
            rendered: Map::new(),
        };
        tree.merge(rendered)?;
        Ok(tree)
    }

    /// The id of the view this tree belongs to, as written into component roots.
    pub fn view_id(&self) -> &str {
        &self.view_id
    }

    /// The tree as the client holds it now.
    pub fn get(&self) -> &Map<String, Value> {
        &self.rendered
    }

    /// Whether `cid` is a component this tree holds.
    pub fn has_component(&self, cid: u64) -> bool {
        self.rendered
            .get("c")
            .and_then(|c| c.get(cid.to_string()))
            .is_some()
    }

    /// Forgets components the page no longer shows (`cids_destroyed`).
    pub fn prune_cids(&mut self, cids: &[u64]) {
        if let Some(Value::Object(components)) = self.rendered.get_mut("c") {
            for cid in cids {
                components.remove(&cid.to_string());
            }
        }
    }

    /// Merges a diff (the client's `mergeDiff`).
    pub fn merge(&mut self, diff: Value) -> Result<(), TreeError> {
        let Value::Object(mut diff) = diff else {
            return fail(format!("a diff must be a JSON object, got {diff}"));
        };
        let new_components = diff.remove("c");
        let rendered = std::mem::take(&mut self.rendered);
        self.rendered = mutable_merge(rendered, diff)?;
        if !matches!(self.rendered.get("c"), Some(Value::Object(_))) {
            self.rendered.insert("c".into(), Value::Object(Map::new()));
        }
        let Some(new_components) = new_components else {
            return Ok(());
        };
        let Value::Object(new_components) = new_components else {
            return fail(format!(
                "\"c\" must map cids to trees, got {new_components}"
            ));
        };
        let Some(Value::Object(old_components)) = self.rendered.get_mut("c") else {
            unreachable!("inserted above");
        };
        let mut cache = HashMap::new();
        for cid in new_components.keys() {
            find_component(cid, &new_components, old_components, &mut cache)?;
        }
        for cid in new_components.keys() {
            if let Some(tree) = cache.remove(cid) {
                old_components.insert(cid.clone(), tree);
            }
        }
        Ok(())
    }

    /// Renders the tree to HTML (the client's `toString`, without the
    /// skip optimization), resolving templates and clearing rendered streams
    /// as the client does.
    pub fn render(&mut self) -> Result<Rendering, TreeError> {
        let components = match self.rendered.remove("c") {
            Some(Value::Object(components)) => components,
            _ => Map::new(),
        };
        let mut output = Output {
            view_id: &self.view_id,
            components,
            streams: Vec::new(),
        };
        let mut html = String::new();
        let result = output.node(&mut self.rendered, None, &mut html, &[]);
        self.rendered
            .insert("c".into(), Value::Object(output.components));
        result?;
        Ok(Rendering {
            html,
            streams: output.streams,
        })
    }
}

/// Resolves one component of a diff: statics shared with another cid
/// (`"s"` a cid number), or a merge over the client's current tree.
fn find_component(
    cid: &str,
    new_components: &Map<String, Value>,
    old_components: &Map<String, Value>,
    cache: &mut HashMap<String, Value>,
) -> Result<Value, TreeError> {
    if let Some(found) = cache.get(cid) {
        return Ok(found.clone());
    }
    let Some(Value::Object(cdiff)) = new_components.get(cid) else {
        return fail(format!(
            "component {cid} is referenced but the diff has no object for it"
        ));
    };
    let resolved = if let Some(source) = as_cid(cdiff.get("s")) {
        let template = if source > 0.0 {
            let source_key = number_key(&serde_json::Number::from_f64(source).unwrap_or(0.into()));
            find_component(&source_key, new_components, old_components, cache)?
        } else {
            let source_key = format!("{}", -source as i64);
            match old_components.get(&source_key) {
                Some(tree) => tree.clone(),
                None => {
                    return fail(format!(
                        "component {cid} shares the statics of component {source_key}, which the client does not hold"
                    ))
                }
            }
        };
        let Value::Object(template) = template else {
            return fail(format!("component {cid}'s source is not a tree"));
        };
        let statics = template.get("s").cloned();
        let mut merged = clone_merge(&template, cdiff)?;
        match statics {
            Some(statics) => {
                merged.insert("s".into(), statics);
            }
            None => {
                merged.remove("s");
            }
        }
        Value::Object(merged)
    } else if has_static(cdiff) || !old_components.contains_key(cid) {
        Value::Object(cdiff.clone())
    } else {
        match old_components.get(cid) {
            Some(Value::Object(old)) => Value::Object(clone_merge(old, cdiff)?),
            _ => Value::Object(cdiff.clone()),
        }
    };
    cache.insert(cid.to_string(), resolved.clone());
    Ok(resolved)
}

fn mutable_merge(
    mut target: Map<String, Value>,
    source: Map<String, Value>,
) -> Result<Map<String, Value>, TreeError> {
    if has_static(&source) {
        return Ok(source);
    }
    do_mutable_merge(&mut target, source)?;
    Ok(target)
}

fn do_mutable_merge(
    target: &mut Map<String, Value>,
    source: Map<String, Value>,
) -> Result<(), TreeError> {
    if truthy(source.get("k")) {
        return merge_keyed(target, source);
    }
    for (key, value) in source {
        match (value, target.get_mut(&key)) {
            (Value::Object(value), Some(Value::Object(existing))) if !has_static(&value) => {
                do_mutable_merge(existing, value)?;
            }
            (value, _) => {
                target.insert(key, value);
            }
        }
    }
    Ok(())
}

/// Merges a keyed comprehension (`"k"`): entries in place, moves from the
/// old positions (only with `"km"`), and entries past `"kc"` dropped.
fn merge_keyed(
    target: &mut Map<String, Value>,
    mut source: Map<String, Value>,
) -> Result<(), TreeError> {
    let Some(Value::Object(entries)) = source.remove("k") else {
        return fail("\"k\" must be an object of entries");
    };
    let moved = truthy(entries.get("km"));
    let snapshot = if moved {
        match target.get("k") {
            Some(Value::Object(old)) => Some(old.clone()),
            _ => None,
        }
    } else {
        None
    };
    let Some(Value::Object(keyed)) = target.get_mut("k") else {
        return fail(
            "a keyed update (\"k\" without \"s\") arrived for a part that is not a comprehension",
        );
    };
    let old_entry = |index: &Value| -> Result<Option<Value>, TreeError> {
        let Some(snapshot) = &snapshot else {
            return fail(
                "an entry moves (a number or [old, diff]) but the comprehension has no \"km\": true",
            );
        };
        let key = match index {
            Value::Number(number) => number_key(number),
            other => js_string(other),
        };
        Ok(snapshot.get(&key).cloned())
    };
    for (index, entry) in &entries {
        if index == "kc" || index == "km" {
            continue;
        }
        match entry {
            Value::Array(pair) => {
                let (Some(old), Some(diff)) = (pair.first(), pair.get(1)) else {
                    return fail(format!(
                        "a moved entry must be [old_index, diff], got {entry}"
                    ));
                };
                let Some(Value::Object(mut moved_entry)) = old_entry(old)? else {
                    return fail(format!(
                        "entry {index} moves from {old}, which does not exist"
                    ));
                };
                let Value::Object(diff) = diff.clone() else {
                    return fail(format!("the diff of moved entry {index} must be an object"));
                };
                do_mutable_merge(&mut moved_entry, diff)?;
                keyed.insert(index.clone(), Value::Object(moved_entry));
            }
            Value::Number(_) => match old_entry(entry)? {
                Some(old) => {
                    keyed.insert(index.clone(), old);
                }
                None => {
                    keyed.remove(index);
                }
            },
            Value::Object(diff) => {
                let slot = keyed
                    .entry(index.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !truthy(Some(slot)) || !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(slot) = slot {
                    do_mutable_merge(slot, diff.clone())?;
                }
            }
            _ => {}
        }
    }
    let new_count = entries.get("kc").and_then(Value::as_f64);
    let old_count = keyed.get("kc").and_then(Value::as_f64);
    if let (Some(new_count), Some(old_count)) = (new_count, old_count) {
        if new_count < old_count {
            for index in new_count as i64..old_count as i64 {
                keyed.remove(&index.to_string());
            }
        }
    }
    match entries.get("kc") {
        Some(count) => {
            keyed.insert("kc".into(), count.clone());
        }
        None => {
            keyed.remove("kc");
        }
    }
    if let Some(stream) = source.remove("stream") {
        if truthy(Some(&stream)) {
            target.insert("stream".into(), stream);
        }
    }
    if let Some(templates) = source.remove("p") {
        if truthy(Some(&templates)) {
            target.insert("p".into(), templates);
        }
    }
    Ok(())
}

/// Merges a component's diff over a copy of a tree (the client's `cloneMerge`).
fn clone_merge(
    target: &Map<String, Value>,
    source: &Map<String, Value>,
) -> Result<Map<String, Value>, TreeError> {
    if truthy(source.get("k")) {
        let mut merged = target.clone();
        merge_keyed(&mut merged, source.clone())?;
        return Ok(merged);
    }
    let mut merged = target.clone();
    for (key, value) in source {
        merged.insert(key.clone(), value.clone());
    }
    let keys: Vec<String> = merged.keys().cloned().collect();
    for key in keys {
        let value = source.get(&key);
        let existing = target.get(&key);
        match (value, existing) {
            (Some(Value::Object(value)), Some(Value::Object(existing))) if !has_static(value) => {
                let inner = clone_merge(existing, value)?;
                merged.insert(key, Value::Object(inner));
            }
            (None, Some(Value::Object(existing))) => {
                let inner = clone_merge(existing, &Map::new())?;
                merged.insert(key, Value::Object(inner));
            }
            _ => {}
        }
    }
    Ok(merged)
}

struct Output<'a> {
    view_id: &'a str,
    components: Map<String, Value>,
    streams: Vec<Value>,
}

impl Output<'_> {
    /// The client's `toOutputBuffer`.
    fn node(
        &mut self,
        rendered: &mut Map<String, Value>,
        templates: Option<&Value>,
        out: &mut String,
        root_attrs: &[(&str, String)],
    ) -> Result<(), TreeError> {
        if truthy(rendered.get("k")) {
            return self.comprehension(rendered, templates, out);
        }
        let own_templates = rendered.remove("p");
        let templates = own_templates.as_ref().or(templates);
        let statics = template_static(rendered.get("s"), templates)?;
        rendered.insert("s".into(), Value::Array(statics.clone()));
        let is_root = truthy(rendered.get("r"));
        let mut root_html = String::new();
        let buffer = if is_root { &mut root_html } else { &mut *out };
        self.dynamics(rendered, &statics, templates, buffer)?;
        if is_root {
            out.push_str(&modify_root(&root_html, root_attrs)?);
        }
        Ok(())
    }

    fn dynamics(
        &mut self,
        node: &mut Map<String, Value>,
        statics: &[Value],
        templates: Option<&Value>,
        out: &mut String,
    ) -> Result<(), TreeError> {
        for (index, piece) in statics.iter().enumerate() {
            out.push_str(&js_string(piece));
            if index + 1 < statics.len() {
                match node.get_mut(&index.to_string()) {
                    Some(Value::Number(cid)) => {
                        let cid = number_key(cid);
                        self.component(&cid, out)?;
                    }
                    Some(Value::Object(child)) => self.node(child, templates, out, &[])?,
                    Some(other) => out.push_str(&js_string(other)),
                    None => out.push_str("undefined"),
                }
            }
        }
        Ok(())
    }

    /// The client's `comprehensionToBuffer`.
    fn comprehension(
        &mut self,
        rendered: &mut Map<String, Value>,
        templates: Option<&Value>,
        out: &mut String,
    ) -> Result<(), TreeError> {
        let own_templates = rendered.remove("p");
        let entry_templates = templates.or(own_templates.as_ref());
        let count = rendered
            .get("k")
            .and_then(|k| k.get("kc"))
            .and_then(Value::as_f64)
            .unwrap_or(0.0) as usize;
        // As in the official client, a comprehension with no entries needs
        // no statics: a stream rendered before its first insert has none.
        let statics = match rendered.get("s") {
            None if count == 0 => Vec::new(),
            part => {
                let statics = template_static(part, templates)?;
                rendered.insert("s".into(), Value::Array(statics.clone()));
                statics
            }
        };
        if let Some(Value::Object(entries)) = rendered.get_mut("k") {
            for index in 0..count {
                match entries.get_mut(&index.to_string()) {
                    Some(Value::Object(entry)) => {
                        self.dynamics(entry, &statics, entry_templates, out)?;
                    }
                    _ => {
                        return fail(format!(
                            "the comprehension counts {count} entries but entry {index} is missing"
                        ))
                    }
                }
            }
        }
        if let Some(stream) = rendered.get("stream").cloned() {
            let deletes = stream.get(2).and_then(Value::as_array).map_or(0, Vec::len);
            let reset = truthy(stream.get(3));
            if count > 0 || deletes > 0 || reset {
                rendered.remove("stream");
                let mut cleared = Map::new();
                cleared.insert("kc".into(), 0.into());
                rendered.insert("k".into(), Value::Object(cleared));
                if !self.streams.contains(&stream) {
                    self.streams.push(stream);
                }
            }
        }
        Ok(())
    }

    /// The client's `recursiveCIDToString`: a component, its root marked.
    fn component(&mut self, cid: &str, out: &mut String) -> Result<(), TreeError> {
        let Some(Value::Object(mut component)) = self.components.remove(cid) else {
            return fail(format!(
                "the tree refers to component {cid}, which the client does not hold"
            ));
        };
        let attrs = [
            ("data-phx-component", cid.to_string()),
            ("data-phx-view", self.view_id.to_string()),
        ];
        let result = self.node(&mut component, None, out, &attrs);
        self.components
            .insert(cid.to_string(), Value::Object(component));
        result
    }
}

fn template_static(
    part: Option<&Value>,
    templates: Option<&Value>,
) -> Result<Vec<Value>, TreeError> {
    let statics = match part {
        Some(Value::Number(index)) => {
            let key = number_key(index);
            match templates.and_then(|templates| templates.get(&key)) {
                Some(statics) => statics,
                None => {
                    return fail(format!(
                        "statics refer to template {key}, which no \"p\" above provides"
                    ))
                }
            }
        }
        Some(statics) => statics,
        None => return fail("a rendered part has no statics (\"s\")"),
    };
    match statics {
        Value::Array(statics) if !statics.is_empty() => Ok(statics.clone()),
        other => fail(format!(
            "statics must be a non-empty list of strings, got {other}"
        )),
    }
}

/// The client's `modifyRoot`: adds `attrs` to the start tag of the single
/// element `html` holds (comments and whitespace may surround it).
pub(crate) fn modify_root(html: &str, attrs: &[(&str, String)]) -> Result<String, TreeError> {
    let bytes = html.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && (bytes[i] as char).is_ascii_whitespace() {
            i += 1;
        }
        if html[i..].starts_with("<!--") {
            match html[i + 4..].find("-->") {
                Some(end) => i = i + 4 + end + 3,
                None => break,
            }
        } else {
            break;
        }
    }
    let before_end = i;
    if bytes.get(i) != Some(&b'<') {
        return fail(format!(
            "malformed html: a component or root template must start with a tag: {html}"
        ));
    }
    let name_start = i + 1;
    let mut name_end = name_start;
    while name_end < bytes.len()
        && !(bytes[name_end] as char).is_ascii_whitespace()
        && bytes[name_end] != b'/'
        && bytes[name_end] != b'>'
    {
        name_end += 1;
    }
    if name_end == name_start {
        return fail(format!("malformed html: {html}"));
    }
    let tag = &html[name_start..name_end];
    let before = &html[..before_end];
    let mut close_at = bytes.len() as isize - 1;
    let floor = (before.len() + tag.len()) as isize;
    let mut inside_comment = false;
    while close_at >= floor {
        let at = close_at as usize;
        let ch = bytes[at];
        if inside_comment {
            if ch == b'-' && at >= 3 && &html[at - 3..at] == "<!-" {
                inside_comment = false;
                close_at -= 4;
            } else {
                close_at -= 1;
            }
        } else if ch == b'>' && at >= 2 && &html[at - 2..at] == "--" {
            inside_comment = true;
            close_at -= 3;
        } else if ch == b'>' {
            break;
        } else {
            close_at -= 1;
        }
    }
    let after_start = (close_at + 1).max(0) as usize;
    let rest = html.get(name_end..after_start).unwrap_or("");
    let after = html.get(after_start..).unwrap_or("");
    let attrs: Vec<String> = attrs
        .iter()
        .map(|(name, value)| format!("{name}=\"{value}\""))
        .collect();
    let attrs = attrs.join(" ");
    let space = if attrs.is_empty() { "" } else { " " };
    Ok(format!("{before}<{tag}{space}{attrs}{rest}{after}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn html(tree: &mut ClientTree) -> String {
        tree.render().unwrap().html
    }

    #[test]
    fn templates_resolve_and_a_subtree_with_statics_replaces() {
        let mut tree = ClientTree::new(
            "v",
            json!({"0": "a", "1": {"0": "b", "s": 0}, "s": 1, "p": {"0": ["<i>", "</i>"], "1": ["<p>", "", "</p>"]}}),
        )
        .unwrap();
        assert_eq!(html(&mut tree), "<p>a<i>b</i></p>");
        tree.merge(json!({"1": {"0": "c"}})).unwrap();
        assert_eq!(html(&mut tree), "<p>a<i>c</i></p>");
        tree.merge(json!({"1": {"0": "x", "s": ["<b>", "</b>"]}}))
            .unwrap();
        assert_eq!(html(&mut tree), "<p>a<b>x</b></p>");
    }

    #[test]
    fn keyed_moves_need_km_and_counts_drop_entries() {
        let mut tree = ClientTree::new(
            "v",
            json!({"0": {"s": ["<li>", "</li>"], "k": {"0": {"0": "a"}, "1": {"0": "b"}, "2": {"0": "c"}, "kc": 3}}, "s": ["<ul>", "</ul>"]}),
        )
        .unwrap();
        assert_eq!(html(&mut tree), "<ul><li>a</li><li>b</li><li>c</li></ul>");
        tree.merge(json!({"0": {"k": {"0": 2, "1": [0, {"0": "A"}], "kc": 2, "km": true}}}))
            .unwrap();
        assert_eq!(html(&mut tree), "<ul><li>c</li><li>A</li></ul>");
        let error = tree
            .merge(json!({"0": {"k": {"0": 1, "kc": 2}}}))
            .unwrap_err();
        assert!(error.0.contains("km"), "{error}");
    }

    #[test]
    fn components_are_marked_and_share_statics() {
        let mut tree = ClientTree::new(
            "phx-v",
            json!({"0": 1, "1": 2, "s": ["", "", ""], "c": {"1": {"0": "one", "r": 1, "s": ["<div>", "</div>"]}, "2": {"0": "two", "r": 1, "s": -1}}}),
        );
        assert!(
            tree.is_err(),
            "component 2 shares a cid the client does not hold yet"
        );
        tree = ClientTree::new(
            "phx-v",
            json!({"0": 1, "1": 2, "s": ["", "", ""], "c": {"1": {"0": "one", "r": 1, "s": ["<div>", "</div>"]}, "2": {"0": "two", "s": 1}}}),
        );
        let mut tree = tree.unwrap();
        assert_eq!(
            html(&mut tree),
            "<div data-phx-component=\"1\" data-phx-view=\"phx-v\">one</div><div data-phx-component=\"2\" data-phx-view=\"phx-v\">two</div>"
        );
        tree.merge(json!({"c": {"2": {"0": "deux"}}})).unwrap();
        assert!(html(&mut tree).ends_with(">deux</div>"));
    }

    #[test]
    fn a_rendered_stream_is_reported_once_and_cleared() {
        let mut tree = ClientTree::new(
            "v",
            json!({"0": {"s": ["<li id=\"", "\">", "</li>"], "k": {"0": {"0": "i-1", "1": "a"}, "kc": 1}, "stream": ["0", [["i-1", -1, null, null]], []]}, "s": ["<ul id=\"s\" phx-update=\"stream\">", "</ul>"]}),
        )
        .unwrap();
        let first = tree.render().unwrap();
        assert_eq!(
            first.html,
            "<ul id=\"s\" phx-update=\"stream\"><li id=\"i-1\">a</li></ul>"
        );
        assert_eq!(
            first.streams,
            vec![json!(["0", [["i-1", -1, null, null]], []])]
        );
        let again = tree.render().unwrap();
        assert_eq!(again.html, "<ul id=\"s\" phx-update=\"stream\"></ul>");
        assert!(again.streams.is_empty());
    }

    /// A stream rendered before its first insert comes without statics, as
    /// the official client accepts; the diff of its first insert brings them.
    #[test]
    fn an_empty_stream_needs_no_statics_until_its_first_entry() {
        let mut tree = ClientTree::new(
            "v",
            json!({"0": {"k": {"kc": 0}, "stream": ["0", [], []]}, "s": ["<ul id=\"s\" phx-update=\"stream\">", "</ul>"]}),
        )
        .unwrap();
        assert_eq!(
            tree.render().unwrap().html,
            "<ul id=\"s\" phx-update=\"stream\"></ul>"
        );
        tree.merge(json!({"0": {"s": ["<li id=\"", "\">", "</li>"], "k": {"0": {"0": "i-1", "1": "a"}, "kc": 1}, "stream": ["0", [["i-1", -1, null, null]], []]}}))
            .unwrap();
        assert_eq!(
            tree.render().unwrap().html,
            "<ul id=\"s\" phx-update=\"stream\"><li id=\"i-1\">a</li></ul>"
        );
        let entries_without_statics =
            json!({"0": {"k": {"0": {"0": "i-2"}, "kc": 1}}, "s": ["<ul>", "</ul>"]});
        let mut tree = ClientTree::new("v", entries_without_statics).unwrap();
        assert!(tree.render().is_err(), "entries still need statics");
    }

    #[test]
    fn a_root_that_is_not_one_element_is_malformed() {
        let error = modify_root("text", &[("a", "1".into())]).unwrap_err();
        assert!(error.0.contains("malformed html"), "{error}");
        assert_eq!(
            modify_root(
                " <!-- c --><p id=\"x\">a</p><!-- d -->",
                &[("a", "1".into())]
            )
            .unwrap(),
            " <!-- c --><p a=\"1\" id=\"x\">a</p><!-- d -->"
        );
    }

    #[test]
    fn extract_takes_the_extras_out() {
        let extracted = extract(json!({"0": "a", "t": "T", "r": {"ok": 1}, "e": [["x", {}]]}));
        assert_eq!(extracted.diff, json!({"0": "a"}));
        assert_eq!(extracted.title.as_deref(), Some("T"));
        assert_eq!(extracted.reply, Some(json!({"ok": 1})));
        assert_eq!(extracted.events, vec![json!(["x", {}])]);
    }
}
