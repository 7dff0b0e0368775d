//! The page as the browser holds it: HTML parsed by html5ever, patched the
//! way the client's DOM patch treats `phx-update="stream"` and
//! `phx-update="ignore"` containers, and serialized back.

use scraper::Html;
use serde_json::Value;

/// One node of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
    Comment(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
}

impl Element {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn set_attr(&mut self, name: &str, value: &str) {
        match self.attrs.iter_mut().find(|(key, _)| key == name) {
            Some((_, existing)) => *existing = value.to_string(),
            None => self.attrs.push((name.to_string(), value.to_string())),
        }
    }
}

impl Node {
    fn element(&self) -> Option<&Element> {
        match self {
            Node::Element(element) => Some(element),
            _ => None,
        }
    }

    fn id(&self) -> Option<&str> {
        self.element().and_then(|element| element.attr("id"))
    }
}

/// The cids of the components whose roots the page shows
/// (`data-phx-component`), in page order, each once.
pub(crate) fn component_cids(nodes: &[Node]) -> Vec<u64> {
    fn walk(nodes: &[Node], cids: &mut Vec<u64>) {
        for node in nodes {
            if let Node::Element(element) = node {
                if let Some(cid) = element
                    .attr("data-phx-component")
                    .and_then(|cid| cid.parse::<u64>().ok())
                {
                    if !cids.contains(&cid) {
                        cids.push(cid);
                    }
                }
                walk(&element.children, cids);
            }
        }
    }
    let mut cids = Vec::new();
    walk(nodes, &mut cids);
    cids
}

/// The ids of the child views whose containers the page of the view
/// `parent` shows (`data-phx-parent-id`), in page order.
pub(crate) fn child_views(nodes: &[Node], parent: &str) -> Vec<String> {
    fn walk(nodes: &[Node], parent: &str, ids: &mut Vec<String>) {
        for node in nodes {
            if let Node::Element(element) = node {
                if element.attr("data-phx-parent-id") == Some(parent)
                    && element.attr("data-phx-session").is_some()
                {
                    if let Some(id) = element.attr("id") {
                        ids.push(id.to_string());
                    }
                }
                walk(&element.children, parent, ids);
            }
        }
    }
    let mut ids = Vec::new();
    walk(nodes, parent, &mut ids);
    ids
}

/// Parses HTML as the body of a page would hold it.
pub(crate) fn parse(html: &str) -> Vec<Node> {
    let document = Html::parse_fragment(html);
    let root = document.root_element();
    root.children().filter_map(convert).collect()
}

fn convert(node: ego_tree::NodeRef<'_, scraper::Node>) -> Option<Node> {
    match node.value() {
        scraper::Node::Element(element) => Some(Node::Element(Element {
            name: element.name().to_string(),
            attrs: element
                .attrs()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            children: node.children().filter_map(convert).collect(),
        })),
        scraper::Node::Text(text) => Some(Node::Text(text.to_string())),
        scraper::Node::Comment(comment) => Some(Node::Comment(comment.to_string())),
        _ => None,
    }
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen",
];
const RAW_TEXT: &[&str] = &[
    "style",
    "script",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "plaintext",
];

/// Serializes nodes as a browser's `innerHTML` does.
pub(crate) fn serialize(nodes: &[Node]) -> String {
    let mut out = String::new();
    for node in nodes {
        write_node(node, None, &mut out);
    }
    out
}

fn write_node(node: &Node, parent: Option<&str>, out: &mut String) {
    match node {
        Node::Text(text) => {
            if parent.is_some_and(|name| RAW_TEXT.contains(&name)) {
                out.push_str(text);
            } else {
                escape(text, false, out);
            }
        }
        Node::Comment(text) => {
            out.push_str("<!--");
            out.push_str(text);
            out.push_str("-->");
        }
        Node::Element(element) => {
            out.push('<');
            out.push_str(&element.name);
            for (name, value) in &element.attrs {
                out.push(' ');
                out.push_str(name);
                out.push_str("=\"");
                escape(value, true, out);
                out.push('"');
            }
            out.push('>');
            if VOID.contains(&element.name.as_str()) {
                return;
            }
            for child in &element.children {
                write_node(child, Some(&element.name), out);
            }
            out.push_str("</");
            out.push_str(&element.name);
            out.push('>');
        }
    }
}

fn escape(text: &str, attribute: bool, out: &mut String) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            '"' if attribute => out.push_str("&quot;"),
            '<' if !attribute => out.push_str("&lt;"),
            '>' if !attribute => out.push_str("&gt;"),
            other => out.push(other),
        }
    }
}

/// The text content of nodes.
#[cfg(test)]
fn text(nodes: &[Node]) -> String {
    let mut out = String::new();
    fn walk(nodes: &[Node], out: &mut String) {
        for node in nodes {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Element(element) => walk(&element.children, out),
                Node::Comment(_) => {}
            }
        }
    }
    walk(nodes, &mut out);
    out
}

fn find_by_id<'a>(nodes: &'a [Node], id: &str) -> Option<&'a Element> {
    for node in nodes {
        if let Node::Element(element) = node {
            if element.attr("id") == Some(id) {
                return Some(element);
            }
            if let Some(found) = find_by_id(&element.children, id) {
                return Some(found);
            }
        }
    }
    None
}

/// A stream annotation of a render: `[ref, inserts, delete_ids, reset?]`.
struct Stream {
    reference: String,
    inserts: Vec<Insert>,
    deletes: Vec<String>,
    reset: bool,
}

struct Insert {
    id: String,
    reference: String,
    at: i64,
    limit: Option<i64>,
    update_only: bool,
}

fn decode_streams(streams: &[Value]) -> Result<Vec<Stream>, String> {
    streams
        .iter()
        .map(|stream| {
            let reference = match stream.get(0) {
                Some(Value::String(reference)) => reference.clone(),
                Some(Value::Number(number)) => number.to_string(),
                _ => return Err(format!("a stream annotation needs a ref first: {stream}")),
            };
            let inserts = stream
                .get(1)
                .and_then(Value::as_array)
                .ok_or_else(|| format!("a stream annotation needs a list of inserts: {stream}"))?
                .iter()
                .map(|insert| {
                    let id = insert
                        .get(0)
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("a stream insert needs a DOM id: {insert}"))?;
                    Ok(Insert {
                        id: id.to_string(),
                        reference: reference.clone(),
                        at: insert.get(1).and_then(Value::as_i64).unwrap_or(-1),
                        limit: insert.get(2).and_then(Value::as_i64),
                        update_only: insert.get(3).and_then(Value::as_bool).unwrap_or(false),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            let deletes = stream
                .get(2)
                .and_then(Value::as_array)
                .map(|ids| {
                    ids.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            Ok(Stream {
                reference,
                inserts,
                deletes,
                reset: stream.get(3).and_then(Value::as_bool).unwrap_or(false),
            })
        })
        .collect()
}

/// Patches the page: `new` is the freshly rendered HTML, `old` what the page
/// showed; containers with `phx-update` keep, insert, delete and limit their
/// children as the client does.
pub(crate) fn patch(old: &[Node], new: Vec<Node>, streams: &[Value]) -> Result<Vec<Node>, String> {
    let streams = decode_streams(streams)?;
    new.into_iter()
        .map(|node| patch_node(old, node, &streams))
        .collect()
}

fn patch_node(old: &[Node], node: Node, streams: &[Stream]) -> Result<Node, String> {
    let Node::Element(mut element) = node else {
        return Ok(node);
    };
    element.children = element
        .children
        .into_iter()
        .map(|child| patch_node(old, child, streams))
        .collect::<Result<_, _>>()?;
    match element.attr("phx-update") {
        None | Some("replace") => Ok(Node::Element(element)),
        Some("stream") => patch_stream(old, element, streams).map(Node::Element),
        Some("ignore") => {
            let id = required_id(&element, "ignore")?;
            let Some(before) = find_by_id(old, &id) else {
                return Ok(Node::Element(element));
            };
            let mut attrs: Vec<(String, String)> = before
                .attrs
                .iter()
                .filter(|(name, _)| !name.starts_with("data-"))
                .cloned()
                .collect();
            attrs.extend(
                element
                    .attrs
                    .iter()
                    .filter(|(name, _)| name.starts_with("data-"))
                    .cloned(),
            );
            Ok(Node::Element(Element {
                name: before.name.clone(),
                attrs,
                children: before.children.clone(),
            }))
        }
        Some(other @ ("append" | "prepend")) => Err(format!(
            "phx-update=\"{other}\" was removed before LiveView 1.0 and the client no longer supports it; use a stream"
        )),
        Some(other) => Err(format!(
            "invalid phx-update value \"{other}\", expected one of \"stream\", \"replace\", \"ignore\""
        )),
    }
}

fn required_id(element: &Element, kind: &str) -> Result<String, String> {
    match element.attr("id") {
        Some(id) if !id.is_empty() => Ok(id.to_string()),
        _ => Err(format!(
            "phx-update=\"{kind}\" needs an id on the container <{}>",
            element.name
        )),
    }
}

fn patch_stream(old: &[Node], mut element: Element, streams: &[Stream]) -> Result<Element, String> {
    let id = required_id(&element, "stream")?;
    let before: Vec<Node> = find_by_id(old, &id)
        .map(|before| before.children.clone())
        .unwrap_or_default();
    let appended: Vec<Node> = std::mem::take(&mut element.children)
        .into_iter()
        .filter(|node| !matches!(node, Node::Text(text) if text.trim_start().is_empty()))
        .collect();
    for child in before.iter().chain(&appended) {
        if let Node::Element(child) = child {
            if child.attr("id").is_none() {
                return Err(format!(
                    "each child of the phx-update=\"stream\" container #{id} needs an id; <{}> has none",
                    child.name
                ));
            }
        }
    }
    let mut children = before;
    for stream in streams {
        if stream.reset {
            children.retain(|child| {
                child.element().and_then(|e| e.attr("data-phx-stream"))
                    != Some(stream.reference.as_str())
            });
        }
        children.retain(|child| {
            child
                .id()
                .is_none_or(|id| !stream.deletes.iter().any(|deleted| deleted == id))
        });
    }
    for node in appended {
        let node_id = node.id().map(str::to_string);
        let insert = node_id.as_deref().and_then(|id| {
            streams
                .iter()
                .flat_map(|stream| stream.inserts.iter())
                .rev()
                .find(|insert| insert.id == id)
        });
        let current = node_id
            .as_deref()
            .and_then(|id| children.iter().position(|child| child.id() == Some(id)));
        match (insert, current) {
            (None, None) => children.push(node),
            (None, Some(index)) => children[index] = node,
            (Some(insert), Some(index)) => children[index] = marked(node, &insert.reference),
            (Some(insert), None) if insert.update_only => {}
            (Some(insert), None) => {
                let node = marked(node, &insert.reference);
                let at = if insert.at < 0 || insert.at as usize > children.len() {
                    children.len()
                } else {
                    insert.at as usize
                };
                children.insert(at, node);
            }
        }
        if let Some(limit) = insert.and_then(|insert| insert.limit) {
            let keep = limit.unsigned_abs() as usize;
            if children.len() > keep {
                if limit >= 0 {
                    children.truncate(keep);
                } else {
                    children.drain(..children.len() - keep);
                }
            }
        }
    }
    element.children = children;
    Ok(element)
}

fn marked(node: Node, reference: &str) -> Node {
    match node {
        Node::Element(mut element) => {
            element.set_attr("data-phx-stream", reference);
            Node::Element(element)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn html(nodes: &[Node]) -> String {
        serialize(nodes)
    }

    #[test]
    fn serializes_as_inner_html() {
        let nodes = parse("<p class=\"a&amp;b\">x &lt; y<br><!-- c --></p><script>1 < 2</script>");
        assert_eq!(
            html(&nodes),
            "<p class=\"a&amp;b\">x &lt; y<br><!-- c --></p><script>1 < 2</script>"
        );
    }

    #[test]
    fn a_stream_container_keeps_inserts_and_deletes() {
        let page = parse("<ul id=\"s\" phx-update=\"stream\"><li id=\"a\">A</li></ul>");
        let page = patch(&[], page, &[json!(["0", [["a", -1, null, null]], []])]).unwrap();
        assert_eq!(
            html(&page),
            "<ul id=\"s\" phx-update=\"stream\"><li id=\"a\" data-phx-stream=\"0\">A</li></ul>"
        );
        let next = parse("<ul id=\"s\" phx-update=\"stream\"><li id=\"b\">B</li></ul>");
        let page = patch(&page, next, &[json!(["0", [["b", 0, null, null]], []])]).unwrap();
        assert_eq!(text(&page), "BA");
        let next = parse("<ul id=\"s\" phx-update=\"stream\"><li id=\"c\">C</li></ul>");
        let page = patch(&page, next, &[json!(["0", [["c", -1, -2, null]], ["b"]])]).unwrap();
        assert_eq!(text(&page), "AC");
        let next = parse("<ul id=\"s\" phx-update=\"stream\"></ul>");
        let page = patch(&page, next, &[json!(["0", [], [], true])]).unwrap();
        assert_eq!(text(&page), "");
    }

    #[test]
    fn an_ignored_container_keeps_its_children() {
        let page = parse("<div id=\"i\" phx-update=\"ignore\" class=\"a\" data-x=\"1\">old</div>");
        let next = parse("<div id=\"i\" phx-update=\"ignore\" class=\"b\" data-x=\"2\">new</div>");
        let page = patch(&page, next, &[]).unwrap();
        assert_eq!(
            html(&page),
            "<div id=\"i\" phx-update=\"ignore\" class=\"a\" data-x=\"2\">old</div>"
        );
    }

    #[test]
    fn containers_without_ids_are_refused() {
        let error = patch(&[], parse("<ul phx-update=\"stream\"></ul>"), &[]).unwrap_err();
        assert!(error.contains("needs an id"), "{error}");
        let error = patch(
            &[],
            parse("<ul id=\"s\" phx-update=\"stream\"><li>x</li></ul>"),
            &[],
        )
        .unwrap_err();
        assert!(error.contains("each child"), "{error}");
    }
}
