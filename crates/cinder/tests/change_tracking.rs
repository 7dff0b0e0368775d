//! A render's work follows the change, not the page: with 10,000 rows and one
//! changed, one row's dynamics are evaluated and the diff carries one entry.

mod common;

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use cinder::live::{Config, Event, LiveRouter, LiveView, MountError, Params, Session, Socket};
use cinder::memo::RenderCache;
use cinder::{diff, html, Dynamic, Rendered};
use serde_json::{json, Value};

thread_local! {
    static EVALUATED: Cell<usize> = const { Cell::new(0) };
}

/// Counts evaluations of a row's body.
fn counted(name: &str) -> &str {
    EVALUATED.with(|n| n.set(n.get() + 1));
    name
}

fn evaluated() -> usize {
    EVALUATED.with(|n| n.replace(0))
}

struct Row {
    id: u32,
    version: u64,
    name: String,
    score: u32,
}

fn rows(n: u32) -> Vec<Row> {
    (0..n)
        .map(|id| Row {
            id,
            version: 0,
            name: format!("row {id}"),
            score: id * 7,
        })
        .collect()
}

fn memoized_table(rows: &[Row]) -> Rendered {
    html! {
        <table><tbody>
            @for row in rows, key = row.id, memo = row.version {
                <tr id={format!("row-{}", row.id)}><td>{counted(&row.name)}</td><td>{row.score}</td></tr>
            }
        </tbody></table>
    }
}

fn plain_table(rows: &[Row]) -> Rendered {
    html! {
        <table><tbody>
            @for row in rows, key = row.id {
                <tr id={format!("row-{}", row.id)}><td>{counted(&row.name)}</td><td>{row.score}</td></tr>
            }
        </tbody></table>
    }
}

fn touch(row: &mut Row) {
    row.name = "changed".into();
    row.score += 1;
    row.version += 1;
}

/// The keys of the one comprehension in the diff's first dynamic.
fn entry_keys(diff: &Value) -> Vec<String> {
    let keyed = diff["0"]["k"]
        .as_object()
        .expect("a keyed comprehension diff");
    keyed
        .keys()
        .filter(|k| *k != "kc" && *k != "km")
        .cloned()
        .collect()
}

#[test]
fn one_changed_row_evaluates_one_row_and_sends_one_entry() {
    let mut state = rows(10_000);
    let mut cache = RenderCache::default();
    let before = cache.render(|| memoized_table(&state));
    assert_eq!(evaluated(), 10_000);

    touch(&mut state[5_000]);
    let after = cache.render(|| memoized_table(&state));
    assert_eq!(evaluated(), 1, "only the changed row is evaluated");

    let change = diff::diff(&before, &after);
    assert_eq!(entry_keys(&change.to_value()), ["5000"]);
    assert!(
        change.len() < 200,
        "{} bytes: {}",
        change.len(),
        change.as_str()
    );
    assert_eq!(
        change.as_str(),
        r#"{"0":{"k":{"5000":{"1":"changed","2":"35001"},"kc":10000}}}"#
    );
    assert_eq!(after.to_html(), memoized_table(&state).to_html());
}

#[test]
fn appending_and_removing_rows_evaluate_only_those_rows() {
    let mut state = rows(10_000);
    let mut cache = RenderCache::default();
    let first = cache.render(|| memoized_table(&state));
    evaluated();

    state.push(Row {
        id: 10_000,
        version: 0,
        name: "new".into(),
        score: 1,
    });
    let appended = cache.render(|| memoized_table(&state));
    assert_eq!(evaluated(), 1);
    let change = diff::diff(&first, &appended).to_value();
    assert_eq!(entry_keys(&change), ["10000"]);

    state.remove(0);
    let removed = cache.render(|| memoized_table(&state));
    assert_eq!(evaluated(), 0, "moved rows are reused, not evaluated");
    let change = diff::diff(&appended, &removed);
    assert_eq!(change.to_value()["0"]["k"]["kc"], 10_000);
    assert_eq!(change.to_value()["0"]["k"]["km"], true);
}

#[test]
fn without_a_memo_the_diff_still_follows_the_change() {
    let mut state = rows(10_000);
    let before = plain_table(&state);
    touch(&mut state[42]);
    let after = plain_table(&state);
    let change = diff::diff(&before, &after);
    assert_eq!(entry_keys(&change.to_value()), ["42"]);
    assert!(change.len() < 200);
}

#[test]
fn a_stale_stamp_is_the_only_way_to_reuse_an_entry() {
    let mut state = rows(3);
    let mut cache = RenderCache::default();
    cache.render(|| memoized_table(&state));
    state[1].name = "renamed".into();
    // The version was not bumped, so the promise behind the stamp is broken
    // and the old row is kept: the stamp decides, as documented.
    let stale = cache.render(|| memoized_table(&state));
    assert!(stale.to_html().contains("row 1"));
    state[1].version += 1;
    let fresh = cache.render(|| memoized_table(&state));
    assert!(fresh.to_html().contains("renamed"));
}

/// The entry at `index` of the comprehension in the tree's first dynamic.
fn entry(tree: &Rendered, index: usize) -> &[Dynamic] {
    let [Dynamic::List(list)] = tree.dynamics() else {
        panic!("a table holding one list");
    };
    list.get(index).expect("an entry").dynamics()
}

#[test]
fn a_plain_for_keeps_the_previous_entries_that_did_not_change() {
    let mut state = rows(300);
    let mut cache = RenderCache::default();
    let before = cache.render(|| plain_table(&state));
    touch(&mut state[200]);
    let after = cache.render(|| plain_table(&state));
    assert_eq!(evaluated(), 600, "a plain `for` evaluates every row");

    // Unchanged chunks are the previous render's, not equal copies; the
    // chunk holding the change (entries 192 to 255) is built anew.
    assert!(std::ptr::eq(entry(&before, 0), entry(&after, 0)));
    assert!(std::ptr::eq(entry(&before, 191), entry(&after, 191)));
    assert!(std::ptr::eq(entry(&before, 256), entry(&after, 256)));
    assert!(!std::ptr::eq(entry(&before, 199), entry(&after, 199)));
    assert_eq!(entry(&before, 199), entry(&after, 199));
    assert!(!std::ptr::eq(entry(&before, 200), entry(&after, 200)));
    assert_eq!(entry(&after, 200)[1], Dynamic::Text("changed".into()));

    let change = diff::diff(&before, &after);
    assert_eq!(
        change.as_str(),
        r#"{"0":{"k":{"200":{"1":"changed","2":"1401"},"kc":300}}}"#
    );
    assert_eq!(after.to_html(), plain_table(&state).to_html());
}

static VIEW_ROWS_EVALUATED: AtomicUsize = AtomicUsize::new(0);

/// A view whose list is memoized on each row's version.
struct Versioned {
    rows: Vec<Row>,
}

fn count_view_row(name: &str) -> &str {
    VIEW_ROWS_EVALUATED.fetch_add(1, Ordering::SeqCst);
    name
}

impl LiveView for Versioned {
    type Info = ();

    async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> {
        Ok(Versioned { rows: rows(100) })
    }

    async fn handle_event(&mut self, event: Event, _: &mut Socket<Self>) {
        if let Some(i) = event.get("i").and_then(|i| i.parse::<usize>().ok()) {
            touch(&mut self.rows[i]);
        }
    }

    fn render(&self) -> Rendered {
        html! {
            <ul>
                @for row in &self.rows, key = row.id, memo = row.version {
                    <li>{count_view_row(&row.name)}</li>
                }
            </ul>
        }
    }
}

#[tokio::test]
async fn a_view_reuses_its_memoized_rows_from_one_render_to_the_next() {
    let router = LiveRouter::new(Config::new([7u8; 32]).unwrap())
        .live::<Versioned>("/versioned")
        .into_router();
    let app = common::serve(router).await;
    let page = common::get(&app, "/versioned").await;
    let mut client = common::connect(&app, &page.cookie, &page.csrf, None)
        .await
        .unwrap();
    common::join_at(&mut client, &page, "http://localhost/versioned").await;
    let after_join = VIEW_ROWS_EVALUATED.load(Ordering::SeqCst);

    let topic = format!("lv:{}", page.id);
    common::send(
        &mut client,
        json!(["4", "5", topic, "event", {"type": "click", "event": "touch", "value": {"i": "7"}}]),
    )
    .await;
    let reply = common::recv(&mut client).await;
    assert_eq!(
        VIEW_ROWS_EVALUATED.load(Ordering::SeqCst) - after_join,
        1,
        "one row changed, one row evaluated"
    );
    assert_eq!(
        reply[4]["response"]["diff"],
        json!({"0": {"k": {"7": {"0": "changed"}, "kc": 100}}})
    );
}

/// Groups of rows, each group's rows in a memoized `for` inside the
/// group's entry: the inner `for` runs once per group, and each run must
/// find its own group's previous entries.
fn grouped_table(groups: &[Vec<Row>]) -> Rendered {
    html! {
        @for (index, group) in groups.iter().enumerate() {
            <section id={format!("group-{index}")}>
                @for row in group, key = row.id, memo = row.version {
                    <p>{counted(&row.name)}</p>
                }
            </section>
        }
    }
}

#[test]
fn each_run_of_an_inner_for_reuses_its_own_previous_entries() {
    let mut groups: Vec<Vec<Row>> = (0..3).map(|_| rows(40)).collect();
    let mut cache = RenderCache::default();
    let before = cache.render(|| grouped_table(&groups));
    assert_eq!(evaluated(), 120);

    touch(&mut groups[1][7]);
    let after = cache.render(|| grouped_table(&groups));
    assert_eq!(evaluated(), 1, "only the changed row of the middle group");
    assert_eq!(after.to_html(), grouped_table(&groups).to_html());
    assert_eq!(evaluated(), 120);
    let html = after.to_html();
    assert_eq!(html.matches("<p>changed</p>").count(), 1);
    assert!(!diff::diff(&before, &after).is_empty());

    // Fewer groups than before: the runs left over are dropped, not misused.
    groups.truncate(2);
    let shorter = cache.render(|| grouped_table(&groups));
    assert_eq!(evaluated(), 0);
    assert_eq!(shorter.to_html(), grouped_table(&groups).to_html());
}

/// A plain, unkeyed `for`, as most pages write one.
fn plain_list(rows: &[Row]) -> Rendered {
    html! { <ul>@for row in rows { <li>{counted(&row.name)}" "{row.score}</li> }</ul> }
}

#[test]
fn a_list_that_grows_past_a_chunk_size_stays_right() {
    // 16 entries a chunk up to 256 entries, 32 beyond: the list below is
    // chunked differently before and after it grows.
    for view in [memoized_table as fn(&[Row]) -> Rendered, plain_list] {
        let mut state = rows(250);
        let mut cache = RenderCache::default();
        let small = cache.render(|| view(&state));
        evaluated();

        state.extend(rows(300).into_iter().skip(250));
        let grown = cache.render(|| view(&state));
        assert_eq!(grown.to_html(), view(&state).to_html());
        let change = diff::diff(&small, &grown).to_value();
        assert_eq!(change["0"]["k"]["kc"], 300, "{change}");

        evaluated();
        touch(&mut state[260]);
        let touched = cache.render(|| view(&state));
        assert_eq!(touched.to_html(), view(&state).to_html());
        let change = diff::diff(&grown, &touched).to_value();
        assert_eq!(entry_keys(&change), ["260"], "{change}");

        state.truncate(100);
        let shrunk = cache.render(|| view(&state));
        assert_eq!(shrunk.to_html(), view(&state).to_html());
        assert_eq!(
            diff::diff(&touched, &shrunk).to_value()["0"]["k"]["kc"],
            100
        );
    }
}
