//! Finding elements in a view's HTML with CSS selectors (`scraper`, which
//! is html5ever and servo's `selectors`), and what the events need to know
//! about the element found.

use scraper::{ElementRef, Html, Selector};

use crate::error::{Error, Result};

pub(crate) fn selector(css: &str) -> Result<Selector> {
    Selector::parse(css).map_err(|error| Error::BadSelector {
        selector: css.to_string(),
        reason: error.to_string(),
    })
}

/// An element of the page, copied out of the parsed document.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) html: String,
    pub(crate) inner_html: String,
    pub(crate) text: String,
    /// The cid of the closest component root at or above the element.
    pub(crate) component: Option<u64>,
    /// The ids of the element's first and last element children (`None`
    /// for a child without an id, or no child).
    pub(crate) edge_children: (Option<String>, Option<String>),
}

impl Found {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn of(element: ElementRef<'_>) -> Found {
        let component = std::iter::once(element)
            .chain(element.ancestors().filter_map(ElementRef::wrap))
            .find_map(|element| element.attr("data-phx-component"))
            .and_then(|cid| cid.parse().ok());
        Found {
            name: element.value().name().to_string(),
            attrs: element
                .value()
                .attrs()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            html: element.html(),
            inner_html: element.inner_html(),
            text: element.text().collect(),
            component,
            edge_children: {
                let mut children = element.children().filter_map(ElementRef::wrap);
                let first = children.next();
                let last = children.last().or(first);
                let id = |child: Option<ElementRef<'_>>| {
                    child.and_then(|child| child.attr("id")).map(str::to_string)
                };
                (id(first), id(last))
            },
        }
    }
}

/// Every element of `html` that matches `css` and whose text contains `text`.
pub(crate) fn all(html: &str, css: &str, text: Option<&str>) -> Result<Vec<Found>> {
    let selector = selector(css)?;
    let document = Html::parse_fragment(html);
    Ok(document
        .select(&selector)
        .filter(|element| text.is_none_or(|text| element.text().collect::<String>().contains(text)))
        .map(Found::of)
        .collect())
}

/// The one element of `html` that matches.
pub(crate) fn one(html: &str, css: &str, text: Option<&str>) -> Result<Found> {
    let mut found = all(html, css, text)?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::NoElement {
            selector: css.to_string(),
            text: text.map(str::to_string),
            html: html.to_string(),
        }),
        count => Err(Error::ManyElements {
            selector: css.to_string(),
            text: text.map(str::to_string),
            count,
        }),
    }
}

/// A field of a form, as `FormData` sees it.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) tag: String,
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) checked: bool,
    pub(crate) disabled: bool,
    pub(crate) multiple: bool,
    /// `(value, selected)` of a select's options.
    pub(crate) options: Vec<(String, bool)>,
    pub(crate) phx_change: Option<String>,
    pub(crate) no_unused: bool,
    /// The element, to match a submitter.
    pub(crate) html: String,
}

impl Field {
    pub(crate) fn checkable(&self) -> bool {
        self.tag == "input" && (self.kind == "checkbox" || self.kind == "radio")
    }

    pub(crate) fn is_button(&self) -> bool {
        self.tag == "button"
            || (self.tag == "input"
                && matches!(self.kind.as_str(), "submit" | "button" | "reset" | "image"))
    }

    pub(crate) fn is_submit_button(&self) -> bool {
        (self.tag == "button" && matches!(self.kind.as_str(), "" | "submit"))
            || (self.tag == "input" && matches!(self.kind.as_str(), "submit" | "image"))
    }

    /// The entries this field adds to the form's data, without submitters.
    pub(crate) fn entries(&self) -> Vec<(String, String)> {
        if self.disabled || self.name.is_empty() || self.is_button() {
            return Vec::new();
        }
        if self.tag == "input" && self.kind == "file" {
            return Vec::new();
        }
        if self.checkable() {
            return if self.checked {
                vec![(self.name.clone(), self.value.clone())]
            } else {
                Vec::new()
            };
        }
        if self.tag == "select" {
            let selected: Vec<&(String, bool)> = self
                .options
                .iter()
                .filter(|(_, selected)| *selected)
                .collect();
            return if self.multiple {
                selected
                    .iter()
                    .map(|(value, _)| (self.name.clone(), value.clone()))
                    .collect()
            } else {
                selected
                    .last()
                    .map(|(value, _)| value.clone())
                    .or_else(|| self.options.first().map(|(value, _)| value.clone()))
                    .map(|value| vec![(self.name.clone(), value)])
                    .unwrap_or_default()
            };
        }
        vec![(self.name.clone(), self.value.clone())]
    }
}

/// The form matching `css` and its fields in document order (including
/// fields elsewhere that name it with `form="…"`).
pub(crate) fn form(html: &str, css: &str) -> Result<(Found, Vec<Field>)> {
    let found = one(html, css, None)?;
    if found.name != "form" {
        return Err(Error::NoElement {
            selector: format!("{css} (a <form>; it matched a <{}>)", found.name),
            text: None,
            html: html.to_string(),
        });
    }
    let document = Html::parse_fragment(html);
    let form_selector = selector(css)?;
    let Some(form_element) = document.select(&form_selector).next() else {
        return Err(Error::NoElement {
            selector: css.to_string(),
            text: None,
            html: html.to_string(),
        });
    };
    let form_id = found.attr("id").map(str::to_string);
    let controls = selector("input, select, textarea, button")?;
    let mut fields = Vec::new();
    for element in document.select(&controls) {
        let owner = element.attr("form");
        let inside = element
            .ancestors()
            .any(|ancestor| ancestor.id() == form_element.id());
        let belongs = match owner {
            Some(owner) => form_id.as_deref() == Some(owner),
            None => inside,
        };
        if !belongs {
            continue;
        }
        fields.push(field(element));
    }
    Ok((found, fields))
}

fn field(element: ElementRef<'_>) -> Field {
    let tag = element.value().name().to_string();
    let kind = element
        .attr("type")
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let disabled = element.attr("disabled").is_some()
        || element
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|ancestor| {
                ancestor.value().name() == "fieldset" && ancestor.attr("disabled").is_some()
            });
    let value = match tag.as_str() {
        "textarea" => element.text().collect(),
        "input" if kind == "checkbox" || kind == "radio" => {
            element.attr("value").unwrap_or("on").to_string()
        }
        _ => element.attr("value").unwrap_or_default().to_string(),
    };
    let options = if tag == "select" {
        let option = Selector::parse("option").expect("a valid selector");
        element
            .select(&option)
            .filter(|option| option.attr("disabled").is_none())
            .map(|option| {
                let value = option.attr("value").map_or_else(
                    || {
                        option
                            .text()
                            .collect::<String>()
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                    },
                    str::to_string,
                );
                (value, option.attr("selected").is_some())
            })
            .collect()
    } else {
        Vec::new()
    };
    Field {
        name: element.attr("name").unwrap_or_default().to_string(),
        checked: element.attr("checked").is_some(),
        multiple: element.attr("multiple").is_some(),
        phx_change: element.attr("phx-change").map(str::to_string),
        no_unused: element.attr("phx-no-unused-field").is_some(),
        html: element.html(),
        tag,
        kind,
        value,
        disabled,
        options,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<main><div data-phx-component="3" data-phx-view="phx-v" id="card"><button id="in" phx-target="3">x</button><p><span id="deep">d</span></p></div><span id="out">o</span></main>"#;

    #[test]
    fn an_element_knows_the_component_it_is_in() {
        assert_eq!(one(PAGE, "#deep", None).unwrap().component, Some(3));
        assert_eq!(one(PAGE, "#card", None).unwrap().component, Some(3));
        assert_eq!(one(PAGE, "#out", None).unwrap().component, None);
    }

    #[test]
    fn the_text_filter_keeps_elements_whose_text_contains_it() {
        assert_eq!(all(PAGE, "span", None).unwrap().len(), 2);
        assert_eq!(
            all(PAGE, "span", Some("d")).unwrap()[0].attr("id"),
            Some("deep")
        );
        assert!(matches!(
            one(PAGE, "span", None),
            Err(Error::ManyElements { count: 2, .. })
        ));
    }

    #[test]
    fn a_form_collects_its_fields_in_document_order() {
        let html = r#"<form id="f"><input name="a" value="1"><select name="s"><option>One  Two</option><option value="2" disabled>2</option></select><input type="checkbox" name="c"><input type="checkbox" name="c" value="v" checked><fieldset disabled><input name="d" value="x"></fieldset></form><input name="outside" form="f" value="o"><input name="other" value="n">"#;
        let (_, fields) = form(html, "#f").unwrap();
        let entries: Vec<(String, String)> = fields.iter().flat_map(Field::entries).collect();
        let expected = [("a", "1"), ("s", "One Two"), ("c", "v"), ("outside", "o")];
        assert_eq!(
            entries,
            expected.map(|(name, value)| (name.to_string(), value.to_string()))
        );
    }
}
