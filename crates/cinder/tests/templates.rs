//! What the `html!` language produces, feature by feature.

use cinder::{html, Cid, Component, Rendered};

#[test]
fn dashed_and_namespaced_attribute_names() {
    let id = 7;
    let page = html! {
        <button phx-click="delete" phx-value-id={id} data-role="x" aria-label="Delete" xml:lang="en">"×"</button>
    };
    assert_eq!(
        page.to_html(),
        "<button phx-click=\"delete\" phx-value-id=\"7\" data-role=\"x\" aria-label=\"Delete\" xml:lang=\"en\">×</button>"
    );
}

#[test]
fn boolean_attributes_static_and_dynamic() {
    let render = |on: bool| html! { <input type="checkbox" checked={on} disabled> };
    assert_eq!(
        render(true).to_html(),
        "<input type=\"checkbox\" checked disabled>"
    );
    assert_eq!(
        render(false).to_html(),
        "<input type=\"checkbox\" disabled>"
    );
}

#[test]
fn optional_attributes_are_left_out_when_none() {
    let render = |title: Option<&str>| html! { <p title={title}>x</p> };
    assert_eq!(render(Some("t")).to_html(), "<p title=\"t\">x</p>");
    assert_eq!(render(None).to_html(), "<p>x</p>");
}

#[test]
fn whole_attribute_lists_are_spread() {
    let extra = [("class", "btn"), ("phx-target", "1")];
    let page = html! { <a href="/x" {..extra}>go</a> };
    assert_eq!(
        page.to_html(),
        "<a href=\"/x\" class=\"btn\" phx-target=\"1\">go</a>"
    );
}

#[test]
fn whitespace_is_kept_as_written() {
    let page = html! {
        <p>
            <b>one</b> <i>two</i><u>three</u>
            Hello,   world!
        </p>
    };
    assert_eq!(
        page.to_html(),
        "<p>\n    <b>one</b> <i>two</i><u>three</u>\n    Hello,   world!\n</p>"
    );
}

#[test]
fn void_and_self_closing_elements() {
    let page = html! { <div><br><img src="a.png"/><span/></div> };
    assert_eq!(
        page.to_html(),
        "<div><br><img src=\"a.png\"><span></span></div>"
    );
}

#[test]
fn doctype_and_comments() {
    let page = html! { <!DOCTYPE html><html><!-- "note" --></html> };
    assert_eq!(page.to_html(), "<!DOCTYPE html><html><!-- note --></html>");
}

#[test]
fn if_else_if_else() {
    let render = |n: i32| {
        html! { <p>@if n < 0 { negative } else if n == 0 { zero } else { {n} positive }</p> }
    };
    assert_eq!(render(-1).to_html(), "<p>negative</p>");
    assert_eq!(render(0).to_html(), "<p>zero</p>");
    assert_eq!(render(3).to_html(), "<p>3 positive</p>");
}

#[test]
fn if_without_else_and_if_let() {
    let render = |name: Option<&str>| html! { <p>@if let Some(n) = name { Hi {n} }</p> };
    assert_eq!(render(Some("Al")).to_html(), "<p>Hi Al</p>");
    assert_eq!(render(None).to_html(), "<p></p>");
}

#[test]
fn match_arms() {
    enum State {
        Loading,
        Ready(u32),
    }
    let render = |s: State| {
        html! {
            <div>@match s { State::Loading => { <i>loading</i> } State::Ready(n) if n > 1 => { {n} items }, State::Ready(_) => { one } }</div>
        }
    };
    assert_eq!(
        render(State::Loading).to_html(),
        "<div><i>loading</i></div>"
    );
    assert_eq!(render(State::Ready(3)).to_html(), "<div>3 items</div>");
    assert_eq!(render(State::Ready(1)).to_html(), "<div>one</div>");
}

#[test]
fn for_with_key_and_nested_templates() {
    struct Row {
        id: u32,
        tags: Vec<&'static str>,
    }
    let rows = vec![
        Row {
            id: 1,
            tags: vec!["a", "b"],
        },
        Row {
            id: 2,
            tags: vec![],
        },
    ];
    let page = html! {
        <ul>@for row in &rows, key = row.id { <li id={format!("row-{}", row.id)}>@for t in &row.tags { <b>{t}</b> }</li> }</ul>
    };
    assert_eq!(
        page.to_html(),
        "<ul><li id=\"row-1\"><b>a</b><b>b</b></li><li id=\"row-2\"></li></ul>"
    );
}

#[test]
fn nested_templates_from_functions() {
    fn badge(n: u32) -> Rendered {
        html! { <span class="badge">{n}</span> }
    }
    let page = html! { <h1>Inbox {badge(3)}</h1> };
    assert_eq!(
        page.to_html(),
        "<h1>Inbox <span class=\"badge\">3</span></h1>"
    );
}

struct Modal {
    id: String,
    open: bool,
    inner_block: Rendered,
    title: Rendered,
    actions: Rendered,
}

impl Component for Modal {
    fn render(self) -> Rendered {
        html! {
            <div id={self.id} class="modal" hidden={!self.open}><h2>{self.title}</h2>{self.inner_block}<footer>{self.actions}</footer></div>
        }
    }
}

#[test]
fn function_components_with_attributes_inner_block_and_slots() {
    let who = "<you>";
    let page = html! {
        <main>
            <Modal id="confirm" open>
                <:title>Sure?</:title>
                <p>Delete {who}?</p>
                <:actions><button phx-click="yes">Yes</button></:actions>
            </Modal>
        </main>
    };
    assert_eq!(
        page.to_html(),
        concat!(
            "<main>\n    <div id=\"confirm\" class=\"modal\"><h2>Sure?</h2><p>Delete &lt;you&gt;?</p>",
            "<footer><button phx-click=\"yes\">Yes</button></footer></div>\n</main>"
        )
    );
}

#[derive(Default)]
struct Button {
    label: String,
    kind: &'static str,
}

impl Component for Button {
    fn render(self) -> Rendered {
        html! { <button class={self.kind}>{self.label}</button> }
    }
}

#[test]
fn components_take_a_base_for_defaults() {
    let page = html! { <Button label="Save" {..Default::default()} /> };
    assert_eq!(page.to_html(), "<button class=\"\">Save</button>");
}

#[test]
fn stateful_component_slots_hold_a_cid() {
    let page = html! { <div>{Cid(4)}</div> };
    assert_eq!(page.dynamics(), [cinder::Dynamic::Component(Cid(4))]);
}

#[test]
fn single_element_templates_are_roots() {
    assert!(html! { <div>x</div> }.template().is_root());
    assert!(!html! { <div>x</div><div>y</div> }.template().is_root());
    assert!(!html! { text }.template().is_root());
}

#[test]
fn the_macro_fingerprints_like_the_runtime() {
    let x = 1;
    let tree = html! { <p>{x}</p> };
    assert_eq!(tree.template().statics(), ["<p>", "</p>"]);
    assert_eq!(
        tree.template().fingerprint(),
        cinder::rendered::fingerprint(&["<p>", "</p>"], true)
    );
}

#[derive(Default)]
struct Panel {
    inner_block: Option<Rendered>,
    header: Option<Rendered>,
}

impl Component for Panel {
    fn render(self) -> Rendered {
        html! { <div>@if let Some(h) = self.header { <header>{h}</header> }{self.inner_block}</div> }
    }
}

#[test]
fn optional_slots_and_inner_block() {
    let with = html! { <Panel><:header>Top</:header>body</Panel> };
    assert_eq!(with.to_html(), "<div><header>Top</header>body</div>");
    let without = html! { <Panel {..Default::default()} /> };
    assert_eq!(without.to_html(), "<div></div>");
}

#[test]
fn a_format_attribute_keeps_its_literal_parts_static() {
    let row = |id: u32| html! { <li id={format!("row-{}", id)}>x</li> };
    let tree = row(7);
    assert_eq!(
        tree.template().statics(),
        [r#"<li id="row-"#, r#"">x</li>"#]
    );
    assert_eq!(tree.to_html(), r#"<li id="row-7">x</li>"#);
    // Only the argument travels in a diff.
    assert_eq!(
        cinder::diff::diff(&row(7), &row(8)).as_str(),
        r#"{"0":"8"}"#
    );
}

#[test]
fn a_format_attribute_escapes_literal_and_arguments_and_takes_inline_names() {
    let name = "\"<b>\"";
    let tree = html! { <p title={format!("a&b {{{name}}} {}", 'c')}>x</p> };
    assert_eq!(
        tree.to_html(),
        r#"<p title="a&amp;b {&quot;&lt;b&gt;&quot;} c">x</p>"#
    );
    // Other formats render the whole attribute, as any expression does.
    let debug = html! { <p title={format!("{:?}", "q")}>x</p> };
    assert_eq!(debug.to_html(), r#"<p title="&quot;q&quot;">x</p>"#);
    assert_eq!(debug.template().statics(), ["<p", ">x</p>"]);
}
