//! Form data as Phoenix decodes it: `user[name]=a&tags[]=x` becomes
//! `{"user": {"name": "a"}, "tags": ["x"]}`, ready for serde.

use serde_json::{Map, Value};

/// Decodes URL-encoded form data into nested JSON, the way Plug's query
/// decoder does: `a[b]` nests objects, `a[]` appends to a list, a repeated
/// plain key keeps its last value.
///
/// ```
/// # use serde_json::json;
/// let params = cinder::live::decode_form("user%5Bname%5D=Ada&user%5Btags%5D%5B%5D=x&user%5Btags%5D%5B%5D=y&q=1+2");
/// assert_eq!(params, json!({"user": {"name": "Ada", "tags": ["x", "y"]}, "q": "1 2"}));
/// ```
pub fn decode_form(encoded: &str) -> Value {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(encoded).unwrap_or_default();
    let mut root = Map::new();
    for (key, value) in pairs {
        let path = key_path(&key);
        insert(&mut root, &path, Value::String(value));
    }
    Value::Object(root)
}

/// Splits `user[address][city]` into `["user", "address", "city"]`; `[]`
/// becomes an empty segment, meaning "append".
pub(crate) fn key_path(key: &str) -> Vec<&str> {
    let (head, mut rest) = match key.find('[') {
        Some(open) if open > 0 => (&key[..open], &key[open..]),
        _ => return vec![key],
    };
    let mut path = vec![head];
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            // An unclosed bracket is part of the last name, as Plug reads it.
            let last = path.pop().unwrap_or_default();
            let whole = &key[key.len() - rest.len() - last.len()..];
            path.push(whole);
            return path;
        };
        path.push(&inner[..close]);
        rest = &inner[close + 1..];
    }
    path
}

fn insert(map: &mut Map<String, Value>, path: &[&str], value: Value) {
    let [first, rest @ ..] = path else { return };
    if rest.is_empty() {
        map.insert((*first).to_string(), value);
        return;
    }
    let slot = map.entry((*first).to_string()).or_insert(Value::Null);
    insert_nested(slot, rest, value);
}

fn insert_nested(slot: &mut Value, path: &[&str], value: Value) {
    if path[0].is_empty() {
        // `name[]`: a list; a later `name[][x]` would need Plug's merging
        // rules, which forms built by the client never produce.
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(list) = slot {
            list.push(value);
        }
        return;
    }
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(map) = slot {
        insert(map, path, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_paths_follow_brackets() {
        assert_eq!(key_path("name"), ["name"]);
        assert_eq!(key_path("user[name]"), ["user", "name"]);
        assert_eq!(key_path("user[address][city]"), ["user", "address", "city"]);
        assert_eq!(key_path("tags[]"), ["tags", ""]);
        assert_eq!(key_path("[odd]"), ["[odd]"]);
        assert_eq!(key_path("bad[open"), ["bad[open"]);
    }

    #[test]
    fn the_client_s_form_payloads_decode_like_plug() {
        let encoded =
            "user%5Bname%5D=a&_unused_user%5Bemail%5D=&user%5Bemail%5D=&remember=on&remember=off";
        assert_eq!(
            decode_form(encoded),
            json!({
                "user": {"name": "a", "email": ""},
                "_unused_user": {"email": ""},
                "remember": "off"
            })
        );
    }

    #[test]
    fn garbage_decodes_to_what_can_be_read() {
        assert_eq!(decode_form(""), json!({}));
        assert_eq!(decode_form("a=%ZZ"), json!({"a": "%ZZ"}), "kept as written");
        assert_eq!(decode_form("x[]=1&x[y]=2"), json!({"x": {"y": "2"}}));
    }
}
