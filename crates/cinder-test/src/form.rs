//! Forms: filled in like a user does, serialized like the client's
//! `serializeForm`, and sent as `phx-change` or `phx-submit`.

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::query::{self, Field, Found};
use crate::view::View;

/// A form of a view, with the values a test types into it.
///
/// The form's current fields (hidden inputs, checked boxes, selected
/// options, values the server rendered) are sent along, as the browser
/// sends them; [`with`](Form::with) changes some of them.
///
/// ```no_run
/// # async fn example(view: cinder_test::View) -> cinder_test::Result<()> {
/// let html = view
///     .form("#signup")?
///     .with(&[("user[name]", "Ada"), ("user[email]", "ada@example.com")])
///     .submit()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Form {
    view: View,
    selector: String,
    values: Vec<(String, String)>,
    submitter: Option<String>,
    target: Option<String>,
    value: Map<String, Value>,
}

impl Form {
    pub(crate) fn new(view: View, selector: &str) -> Form {
        Form {
            view,
            selector: selector.to_string(),
            values: Vec::new(),
            submitter: None,
            target: None,
            value: Map::new(),
        }
    }

    /// Types values into fields by name. Several pairs with one name set a
    /// multi-valued field (checkboxes `tags[]`, a multiple select). A
    /// checkbox or radio is checked when one of the values is its value,
    /// and unchecked otherwise.
    pub fn with(mut self, values: &[(&str, &str)]) -> Form {
        self.values.extend(
            values
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string())),
        );
        self
    }

    /// The field whose change is sent (`_target`); the first field given to
    /// [`with`](Form::with) when not set.
    pub fn target(mut self, name: &str) -> Form {
        self.target = Some(name.to_string());
        self
    }

    /// Submits with this button (a selector), whose name and value join the
    /// form's data in their place, as the browser's submitter does.
    pub fn submitter(mut self, selector: &str) -> Form {
        self.submitter = Some(selector.to_string());
        self
    }

    /// Adds values to the event's metadata, as a `JS.push`'s `value:` does.
    pub fn with_value(mut self, value: Value) -> Form {
        if let Value::Object(value) = value {
            self.value.extend(value);
        }
        self
    }

    fn key(&self, form: &Found) -> String {
        form.attr("id")
            .map(str::to_string)
            .unwrap_or_else(|| self.selector.clone())
    }

    /// The form and its fields with this form's values typed in.
    fn filled(&self) -> Result<(Found, Vec<Field>)> {
        let (form, mut fields) = query::form(&self.view.html(), &self.selector)?;
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in &self.values {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        for name in names {
            let values: Vec<&str> = self
                .values
                .iter()
                .filter(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
                .collect();
            self.fill(&mut fields, name, &values)?;
        }
        Ok((form, fields))
    }

    fn fill(&self, fields: &mut [Field], name: &str, values: &[&str]) -> Result<()> {
        let indices: Vec<usize> = fields
            .iter()
            .enumerate()
            .filter(|(_, field)| field.name == name && !field.disabled && !field.is_button())
            .map(|(index, _)| index)
            .collect();
        if indices.is_empty() {
            let mut known: Vec<String> = fields
                .iter()
                .filter(|field| !field.name.is_empty() && !field.disabled && !field.is_button())
                .map(|field| field.name.clone())
                .collect();
            known.dedup();
            return Err(Error::NoField {
                form: self.selector.clone(),
                name: name.to_string(),
                fields: if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
            });
        }
        let bad = |value: &str, reason: String| Error::BadFieldValue {
            form: self.selector.clone(),
            name: name.to_string(),
            value: value.to_string(),
            reason,
        };
        let mut left: Vec<&str> = values.to_vec();
        let checkable: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|index| fields[*index].checkable())
            .collect();
        for index in &checkable {
            let field = &mut fields[*index];
            field.checked = left.contains(&field.value.as_str());
            if field.checked {
                if let Some(position) = left.iter().position(|value| *value == field.value) {
                    left.remove(position);
                }
            }
        }
        let others: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|index| !fields[*index].checkable())
            .collect();
        if others.is_empty() {
            if let Some(value) = left.first() {
                let choices: Vec<&str> = checkable
                    .iter()
                    .map(|index| fields[*index].value.as_str())
                    .collect();
                return Err(bad(
                    value,
                    format!("it is a checkbox or radio whose values are {choices:?}"),
                ));
            }
            return Ok(());
        }
        for (position, index) in others.iter().enumerate() {
            let field = &mut fields[*index];
            if field.tag == "select" {
                let chosen: Vec<&str> = if field.multiple || position + 1 == others.len() {
                    std::mem::take(&mut left)
                } else {
                    left.drain(..left.len().min(1)).collect()
                };
                if chosen.is_empty() {
                    continue;
                }
                if !field.multiple && chosen.len() > 1 {
                    return Err(bad(
                        chosen[1],
                        "the select takes one value (it is not `multiple`)".into(),
                    ));
                }
                for value in &chosen {
                    if !field.options.iter().any(|(option, _)| option == value) {
                        let options: Vec<&str> = field
                            .options
                            .iter()
                            .map(|(option, _)| option.as_str())
                            .collect();
                        return Err(bad(value, format!("the select's options are {options:?}")));
                    }
                }
                for (option, selected) in &mut field.options {
                    *selected = chosen.contains(&option.as_str());
                }
            } else if let Some(value) = (!left.is_empty()).then(|| left.remove(0)) {
                if field.tag == "input" && field.kind == "file" {
                    return Err(bad(
                        value,
                        "it is a file input; use `View::file_input`".into(),
                    ));
                }
                field.value = value.to_string();
            }
        }
        if let Some(value) = left.first() {
            return Err(bad(
                value,
                format!(
                    "it has {} field(s) and more values were given",
                    indices.len()
                ),
            ));
        }
        Ok(())
    }

    /// The meta the client sends with a form event: the form's
    /// `phx-value-*` and the command values.
    fn meta(&self, form: &Found) -> Map<String, Value> {
        let mut meta = Map::new();
        for (name, value) in &form.attrs {
            if let Some(key) = name.strip_prefix("phx-value-") {
                meta.insert(key.to_string(), Value::String(value.clone()));
            }
        }
        meta.extend(self.value.clone());
        meta
    }

    /// The events a form binding sends: its event name, or the `push`
    /// commands of a JS command list (`JS.push("add")`), each with the
    /// values it adds to the meta.
    fn pushes(
        &self,
        form: &Found,
        attribute: &str,
        binding: &str,
    ) -> Result<Vec<(String, Map<String, Value>)>> {
        if !binding.trim_start().starts_with('[') {
            return Ok(vec![(binding.to_string(), Map::new())]);
        }
        let commands: Vec<Value> = serde_json::from_str(binding).map_err(|error| {
            Error::Assertion(format!(
                "`{}` has a {attribute} that is neither an event name nor a JS command list ({error}): {binding}",
                self.selector
            ))
        })?;
        let pushes: Vec<(String, Map<String, Value>)> = commands
            .iter()
            .filter(|command| command.get(0).and_then(Value::as_str) == Some("push"))
            .map(|command| {
                let args = command.get(1);
                let arg = |name: &str| args.and_then(|args| args.get(name));
                (
                    arg("event")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    arg("value")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                )
            })
            .collect();
        if pushes.is_empty() {
            return Err(Error::NoBinding {
                selector: self.selector.clone(),
                attribute: format!(
                    "{attribute} with a push command (its other JS commands run only in the browser)"
                ),
                element: form.html.clone(),
            });
        }
        Ok(pushes)
    }

    fn cid(&self, form: &Found) -> Result<Option<u64>> {
        match form.attr("phx-target") {
            None => Ok(None),
            Some(target) => match target.parse::<u64>() {
                Ok(cid) => Ok(Some(cid)),
                Err(_) => Ok(self
                    .view
                    .selector_targets(target)?
                    .into_iter()
                    .next()
                    .flatten()),
            },
        }
    }

    /// Sends the form's `phx-change` (or the changed field's own), as the
    /// client does when the user types: fields the user has not touched
    /// yet carry an `_unused_` marker. Returns the view's HTML after the reply.
    pub async fn change(&self) -> Result<String> {
        self.change_with_uploads(Map::new()).await
    }

    pub(crate) async fn change_with_uploads(&self, uploads: Map<String, Value>) -> Result<String> {
        let (form, fields) = self.filled()?;
        let key = self.key(&form);
        let target = self
            .target
            .clone()
            .or_else(|| self.values.first().map(|(name, _)| name.clone()));
        let own_change = target.as_ref().and_then(|target| {
            fields
                .iter()
                .find(|field| &field.name == target)
                .and_then(|field| field.phx_change.clone())
        });
        let event = match (&own_change, form.attr("phx-change")) {
            (Some(event), _) => event.clone(),
            (None, Some(event)) => event.to_string(),
            (None, None) => {
                return Err(Error::NoBinding {
                    selector: self.selector.clone(),
                    attribute: "phx-change".into(),
                    element: form.html.clone(),
                })
            }
        };
        let touched: Vec<String> = self
            .values
            .iter()
            .map(|(name, _)| name.clone())
            .chain(target.clone())
            .collect();
        let used = self.view.with_state_mut(|view| {
            for name in &touched {
                view.used_fields.insert((key.clone(), name.clone()));
            }
            view.used_fields.clone()
        });
        let only = own_change.as_ref().and(target.as_deref());
        let value = serialize(&form, &fields, None, only, |name| {
            used.contains(&(key.clone(), name.to_string()))
        });
        let mut meta = self.meta(&form);
        meta.insert(
            "_target".into(),
            Value::String(target.unwrap_or_else(|| "undefined".into())),
        );
        let cid = self.cid(&form)?;
        for (event, value_meta) in self.pushes(&form, "phx-change", &event)? {
            let mut meta = meta.clone();
            meta.extend(value_meta);
            let mut payload = json!({
                "type": "form",
                "event": event,
                "value": value,
                "meta": meta,
                "uploads": uploads,
            });
            if let Some(cid) = cid {
                payload["cid"] = cid.into();
            }
            self.view.push_event(payload).await?;
        }
        Ok(self.view.html())
    }

    /// Sends the form's `phx-submit` with every field (and the submitter's
    /// name and value, if set). Returns the view's HTML after the reply.
    pub async fn submit(&self) -> Result<String> {
        let (form, fields) = self.filled()?;
        let Some(event) = form.attr("phx-submit").map(str::to_string) else {
            return Err(Error::NoBinding {
                selector: self.selector.clone(),
                attribute: "phx-submit".into(),
                element: form.html.clone(),
            });
        };
        let submitter = match &self.submitter {
            None => None,
            Some(selector) => {
                let button = query::one(&self.view.html(), selector, None)?;
                let index = fields.iter().position(|field| {
                    field.html == button.html && field.is_submit_button() && !field.name.is_empty()
                });
                match index {
                    Some(index) => Some(index),
                    None => {
                        return Err(Error::BadSubmitter {
                            form: self.selector.clone(),
                            submitter: selector.clone(),
                        })
                    }
                }
            }
        };
        let key = self.key(&form);
        self.view.with_state_mut(|view| {
            for field in &fields {
                view.used_fields.insert((key.clone(), field.name.clone()));
            }
        });
        let value = serialize(&form, &fields, submitter, None, |_| true);
        let cid = self.cid(&form)?;
        for (event, value_meta) in self.pushes(&form, "phx-submit", &event)? {
            let mut meta = self.meta(&form);
            meta.extend(value_meta);
            let mut payload = json!({
                "type": "form",
                "event": event,
                "value": value,
                "meta": meta,
            });
            if let Some(cid) = cid {
                payload["cid"] = cid.into();
            }
            self.view.push_event(payload).await?;
        }
        Ok(self.view.html())
    }
}

/// `_unused_` goes before the last name segment: `user[email]` becomes
/// `user[_unused_email]` (the client's `prependFormDataKey`).
pub(crate) fn unused_key(key: &str) -> String {
    let (base, array) = match key.strip_suffix("[]") {
        Some(base) => (base, "[]"),
        None => (key, ""),
    };
    let (body, closing) = match base.strip_suffix(']') {
        Some(body) => (body, "]"),
        None => (base, ""),
    };
    let start = body.rfind(['[', ']']).map_or(0, |position| position + 1);
    if start == body.len() {
        return key.to_string();
    }
    format!(
        "{}_unused_{}{closing}{array}",
        &body[..start],
        &body[start..]
    )
}

/// The client's `serializeForm`: the form's data URL-encoded in document
/// order, each field not yet used preceded by its `_unused_` marker.
fn serialize(
    form: &Found,
    fields: &[Field],
    submitter: Option<usize>,
    only: Option<&str>,
    used: impl Fn(&str) -> bool,
) -> String {
    let skip_unused = form.attr("phx-no-unused-field").is_some();
    let submitter_name = submitter.map(|index| fields[index].name.clone());
    let mut unused = std::collections::HashMap::<&str, bool>::new();
    let mut hidden_only = std::collections::HashMap::<&str, bool>::new();
    for field in fields.iter().filter(|field| !field.name.is_empty()) {
        let is_used = used(&field.name) || field.no_unused;
        let entry = unused.entry(&field.name).or_insert(true);
        *entry = *entry && !is_used;
        let hidden = hidden_only.entry(&field.name).or_insert(true);
        *hidden = *hidden && field.tag == "input" && field.kind == "hidden";
    }
    let mut entries = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        if Some(index) == submitter {
            entries.push((field.name.clone(), field.value.clone()));
        } else {
            entries.extend(field.entries());
        }
    }
    let mut params = form_urlencoded::Serializer::new(String::new());
    for (key, value) in entries {
        if only.is_some_and(|only| only != key) {
            continue;
        }
        let is_unused = unused.get(key.as_str()).copied().unwrap_or(false);
        let hidden = hidden_only.get(key.as_str()).copied().unwrap_or(false);
        if !skip_unused && is_unused && submitter_name.as_deref() != Some(&key) && !hidden {
            params.append_pair(&unused_key(&key), "");
        }
        params.append_pair(&key, &value);
    }
    params.finish()
}

#[cfg(test)]
mod tests {
    use super::unused_key;

    #[test]
    fn unused_markers_go_before_the_last_segment() {
        assert_eq!(unused_key("q"), "_unused_q");
        assert_eq!(unused_key("user[email]"), "user[_unused_email]");
        assert_eq!(unused_key("user[tags][]"), "user[_unused_tags][]");
        assert_eq!(unused_key("a[b][c]"), "a[b][_unused_c]");
    }
}
