//! The JSON of each diff shape in the LiveView 1.2 wire format, exactly.

use cinder::memo::RenderCache;
use cinder::{diff, html, Rendered};

fn weather(time: &str, subtitle: &str) -> Rendered {
    html! {
        <div>
          <h2>"It's "{time}</h2>
          {subtitle}
        </div>
    }
}

#[test]
fn simple_root_first_render_then_one_dynamic() {
    let first = weather("10:30", "Sunny");
    assert_eq!(
        diff::render(&first).as_str(),
        r#"{"0":"10:30","1":"Sunny","s":["<div>\n  <h2>It's ","</h2>\n  ","\n</div>"],"r":1}"#
    );
    let next = weather("10:31", "Sunny");
    assert_eq!(diff::diff(&first, &next).as_str(), r#"{"0":"10:31"}"#);
    assert_eq!(diff::diff(&next, &next).as_str(), "{}");
}

fn pair(a: &str, b: &str) -> Rendered {
    html! { "s1"{a}"s2"{b}"s3" }
}

fn single(a: &str) -> Rendered {
    html! { "s1"{a}"s2" }
}

#[test]
fn nested_trees_share_nothing_when_sharing_would_not_shrink() {
    let tree = html! { <h2>{"hi"}</h2><span>{pair("abc", "efg")}{single("efg")}</span> };
    assert_eq!(
        diff::render(&tree).as_str(),
        concat!(
            r#"{"0":"hi","1":{"0":"abc","1":"efg","s":["s1","s2","s3"]},"#,
            r#""2":{"0":"efg","s":["s1","s2"]},"s":["<h2>","</h2><span>","","</span>"]}"#
        )
    );
}

#[test]
fn nested_tree_changes_send_only_the_changed_dynamic() {
    let view = |b: &str| html! { <p>{pair("a", b)}</p> };
    assert_eq!(
        diff::diff(&view("x"), &view("y")).as_str(),
        r#"{"0":{"1":"y"}}"#
    );
}

#[test]
fn repeated_statics_are_shared_through_p() {
    let long = |x: &str| html! { <span class="a-rather-long-class-name">{x}</span> };
    let tree = html! { <div>{long("1")}{long("2")}{long("3")}</div> };
    assert_eq!(
        diff::render(&tree).as_str(),
        concat!(
            r#"{"0":{"0":"1","s":0,"r":1},"1":{"0":"2","s":0,"r":1},"2":{"0":"3","s":0,"r":1},"#,
            r#""s":["<div>","","","</div>"],"r":1,"#,
            r#""p":{"0":["<span class=\"a-rather-long-class-name\">","</span>"]}}"#
        )
    );
}

fn users(title: &str, names: &[&str]) -> Rendered {
    html! {
        <div>
          <h1>{title}</h1>
          @for name in names {
            <br>{name}
          }
        </div>
    }
}

#[test]
fn comprehension_first_render() {
    assert_eq!(
        diff::render(&users("Users", &["phoenix", "elixir"])).as_str(),
        concat!(
            r#"{"0":"Users","1":{"s":["<br>",""],"k":{"0":{"0":"phoenix"},"1":{"0":"elixir"},"kc":2}},"#,
            r#""s":["<div>\n  <h1>","</h1>\n  ","\n</div>"],"r":1}"#
        )
    );
}

#[test]
fn empty_comprehension_is_an_empty_string_then_kc_zero() {
    let empty = users("Users", &[]);
    assert_eq!(
        diff::render(&empty).as_str(),
        r#"{"0":"Users","1":"","s":["<div>\n  <h1>","</h1>\n  ","\n</div>"],"r":1}"#
    );
    let one = users("Users", &["phoenix"]);
    assert_eq!(
        diff::diff(&empty, &one).as_str(),
        r#"{"1":{"s":["<br>",""],"k":{"0":{"0":"phoenix"},"kc":1}}}"#
    );
    assert_eq!(diff::diff(&one, &empty).as_str(), r#"{"1":{"k":{"kc":0}}}"#);
}

struct Item {
    id: u32,
    name: &'static str,
}

fn items(list: &[Item]) -> Rendered {
    html! { <ul>@for item in list, key = item.id { <li>{item.name}</li> }</ul> }
}

#[test]
fn keyed_changes_in_place() {
    let before = items(&[Item { id: 1, name: "a" }, Item { id: 2, name: "b" }]);
    let after = items(&[Item { id: 1, name: "a" }, Item { id: 2, name: "B" }]);
    assert_eq!(
        diff::diff(&before, &after).as_str(),
        r#"{"0":{"k":{"1":{"0":"B"},"kc":2}}}"#
    );
}

#[test]
fn keyed_pure_move_carries_km() {
    let before = items(&[Item { id: 1, name: "a" }, Item { id: 2, name: "b" }]);
    let after = items(&[Item { id: 2, name: "b" }, Item { id: 1, name: "a" }]);
    assert_eq!(
        diff::diff(&before, &after).as_str(),
        r#"{"0":{"k":{"0":1,"1":0,"kc":2,"km":true}}}"#
    );
}

#[test]
fn keyed_move_with_diff_and_new_entry() {
    let before = items(&[Item { id: 1, name: "a" }, Item { id: 2, name: "b" }]);
    let after = items(&[
        Item { id: 2, name: "B" },
        Item {
            id: 3,
            name: "Third",
        },
    ]);
    assert_eq!(
        diff::diff(&before, &after).as_str(),
        r#"{"0":{"k":{"0":[1,{"0":"B"}],"1":{"0":"Third"},"kc":2,"km":true}}}"#
    );
}

#[test]
fn keyed_deletion_only_shrinks_kc() {
    let before = items(&[Item { id: 1, name: "a" }, Item { id: 2, name: "b" }]);
    let after = items(&[Item { id: 1, name: "a" }]);
    assert_eq!(
        diff::diff(&before, &after).as_str(),
        r#"{"0":{"k":{"kc":1}}}"#
    );
}

#[test]
fn toggled_branch_sends_the_new_template_whole() {
    let view = |on: bool| html! { <p>@if on { <b>{"yes"}</b> } else { no }</p> };
    assert_eq!(
        diff::diff(&view(false), &view(true)).as_str(),
        r#"{"0":{"0":"yes","s":["<b>","</b>"],"r":1}}"#
    );
    assert_eq!(diff::diff(&view(true), &view(true)).as_str(), "{}");
}

#[test]
fn component_references_are_numbers_and_text_is_never_one() {
    let cid = cinder::Cid(1);
    let tree = html! { <div>{cid}{1}</div> };
    assert_eq!(
        diff::render(&tree).as_str(),
        r#"{"0":1,"1":"1","s":["<div>","","</div>"],"r":1}"#
    );
}

/// The reference's examples as Phoenix LiveView sends them (from its own diff
/// tests), next to what Cinder sends for the same template and state. Run
/// with `--nocapture` to see the table recorded in BENCHMARKS.md.
#[test]
fn diffs_are_no_larger_than_phoenix_s_for_the_reference_examples() {
    let weather_first = weather("10:30", "Sunny");
    let with_users = users("Users", &["phoenix", "elixir"]);
    let two = [Item { id: 1, name: "a" }, Item { id: 2, name: "b" }];
    let swapped = [Item { id: 2, name: "b" }, Item { id: 1, name: "a" }];
    let cases = [
        (
            "simple root, first render",
            diff::render(&weather_first).into_string(),
            r#"{"0":"10:30","1":"Sunny","r":1,"s":0,"p":{"0":["<div>\n  <h2>It's ","</h2>\n  ","\n</div>"]}}"#,
        ),
        (
            "simple root, update",
            diff::diff(&weather_first, &weather("10:31", "Sunny")).into_string(),
            r#"{"0":"10:31"}"#,
        ),
        (
            "comprehension, first render",
            diff::render(&with_users).into_string(),
            r#"{"0":"Users","1":{"s":0,"k":{"0":{"0":"phoenix"},"1":{"0":"elixir"},"kc":2}},"r":1,"s":1,"p":{"0":["\n    <br>","\n  "],"1":["<div>\n  <h1>","</h1>\n  ","\n</div>"]}}"#,
        ),
        (
            "comprehension becomes empty",
            diff::diff(&with_users, &users("Users", &[])).into_string(),
            r#"{"1":{"k":{"kc":0}}}"#,
        ),
        (
            "keyed, pure move",
            diff::diff(&items(&two), &items(&swapped)).into_string(),
            r#"{"0":{"k":{"0":1,"1":0,"kc":2,"km":true}}}"#,
        ),
    ];
    println!("| example | Phoenix bytes | Cinder bytes |\n| --- | --- | --- |");
    for (name, ours, phoenix) in cases {
        println!("| {name} | {} | {} |", phoenix.len(), ours.len());
        assert!(
            ours.len() <= phoenix.len(),
            "{name}: {ours} is larger than {phoenix}"
        );
    }
}

fn numbered(values: &[u32]) -> Rendered {
    html! { @for value in values { <i>{value}</i> } }
}

/// Keys below ten are written from a table and the rest digit by digit;
/// the separating commas must come out the same either way.
#[test]
fn keys_on_both_sides_of_ten_are_separated_alike() {
    let before: Vec<u32> = (0..12).collect();
    let first = diff::render(&numbered(&before));
    let entries: Vec<String> = (0..12).map(|i| format!(r#""{i}":{{"0":"{i}"}}"#)).collect();
    assert!(
        first
            .as_str()
            .contains(&format!(r#""k":{{{},"kc":12}}"#, entries.join(","))),
        "{}",
        first.as_str()
    );
    let mut after = before.clone();
    for i in [0, 9, 10, 11] {
        after[i] += 100;
    }
    assert_eq!(
        diff::diff(&numbered(&before), &numbered(&after)).as_str(),
        r#"{"0":{"k":{"0":{"0":"100"},"9":{"0":"109"},"10":{"0":"110"},"11":{"0":"111"},"kc":12}}}"#
    );
}

/// A list longer than one chunk writes every entry in order, keyed by its
/// index, in the page and in the first render; one whose body has no
/// dynamics still writes an entry per item.
#[test]
fn comprehension_across_chunks_writes_every_entry_in_order() {
    // Through a render cache a list is kept in chunks of a few entries, for
    // the next render to share; outside one (a dead render) in one chunk.
    // Either is written whole and in order.
    let mut cache = RenderCache::default();
    let numbers = || html! { <p>@for i in 0..20u32 { <i>{i}</i> }</p> };
    let html: String = (0..20).map(|i| format!("<i>{i}</i>")).collect();
    let entries: String = (0..20)
        .map(|i| format!(r#""{i}":{{"0":"{i}"}},"#))
        .collect();
    for numbers in [cache.render(numbers), numbers()] {
        assert_eq!(numbers.to_html(), format!("<p>{html}</p>"));
        assert_eq!(
            diff::render(&numbers).as_str(),
            format!(
                r#"{{"0":{{"s":["<i>","</i>"],"k":{{{entries}"kc":20}}}},"s":["<p>","</p>"],"r":1}}"#
            )
        );
    }
    let breaks = || html! { <p>@for _ in 0..20 { <br> }</p> };
    let entries: String = (0..20).map(|i| format!(r#""{i}":{{}},"#)).collect();
    for breaks in [cache.render(breaks), breaks()] {
        assert_eq!(breaks.to_html(), format!("<p>{}</p>", "<br>".repeat(20)));
        assert_eq!(
            diff::render(&breaks).as_str(),
            format!(
                r#"{{"0":{{"s":["<br>"],"k":{{{entries}"kc":20}}}},"s":["<p>","</p>"],"r":1}}"#
            )
        );
    }
}
