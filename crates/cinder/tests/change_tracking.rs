//! A render's work follows the change, not the page: with 10,000 rows and one
//! changed, one row's dynamics are evaluated and the diff carries one entry.

mod common;
#[path = "support/list_a.rs"]
mod list_a;
#[path = "support/list_b.rs"]
mod list_b;

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use cinder::live::{Config, Event, LiveRouter, LiveView, MountError, Params, Session, Socket};
use cinder::memo::RenderCache;
use cinder::{diff, html, Dynamic, Rendered};
use serde_json::{json, Value};

thread_local! {
    static EVALUATED: Cell<usize> = const { Cell::new(0) };
}

/// Counts one evaluation of a row's body.
fn count_evaluation() {
    EVALUATED.with(|n| n.set(n.get() + 1));
}

/// Counts evaluations of a row's body.
fn counted(name: &str) -> &str {
    count_evaluation();
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

/// Serves `V` at `path`, joins it, clicks `event` with `{"i": row}`, and
/// returns how far `evaluated` moved during the click, and the reply.
async fn click_after_join<V: LiveView>(
    path: &str,
    event: &str,
    row: &str,
    evaluated: &AtomicUsize,
) -> (usize, Value) {
    let router = LiveRouter::new(Config::new([7u8; 32]).unwrap())
        .live::<V>(path)
        .into_router();
    let app = common::serve(router).await;
    let page = common::get(&app, path).await;
    let mut client = common::connect(&app, &page.cookie, &page.csrf, None)
        .await
        .unwrap();
    common::join_at(&mut client, &page, &format!("http://localhost{path}")).await;
    let after_join = evaluated.load(Ordering::SeqCst);

    let topic = format!("lv:{}", page.id);
    common::send(
        &mut client,
        json!(["4", "5", topic, "event", {"type": "click", "event": event, "value": {"i": row}}]),
    )
    .await;
    let reply = common::recv(&mut client).await;
    (evaluated.load(Ordering::SeqCst) - after_join, reply)
}

#[tokio::test]
async fn a_view_reuses_its_memoized_rows_from_one_render_to_the_next() {
    let (evaluated, reply) =
        click_after_join::<Versioned>("/versioned", "touch", "7", &VIEW_ROWS_EVALUATED).await;
    assert_eq!(evaluated, 1, "one row changed, one row evaluated");
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

/// Counts evaluations of a row's score.
fn counted_score(score: u32) -> u32 {
    count_evaluation();
    score
}

/// A plain `for` whose body reads the row's numbers and one outer value:
/// each entry is stamped with what it read.
fn tracked_table(rows: &[Row], highlight: u32) -> Rendered {
    html! {
        <table><tbody>
            @for row in rows {
                <tr id={format!("row-{}", row.id)} class={(row.id == highlight).then_some("on")}>
                    <td>{self::counted_score(row.score)}</td>
                </tr>
            }
        </tbody></table>
    }
}

#[test]
fn a_plain_for_evaluates_only_the_entries_whose_reads_changed() {
    let mut state = rows(300);
    let mut cache = RenderCache::default();
    let before = cache.render(|| tracked_table(&state, 5));
    assert_eq!(evaluated(), 300);

    touch(&mut state[200]);
    let after = cache.render(|| tracked_table(&state, 5));
    assert_eq!(evaluated(), 1, "one row's reads changed");
    assert!(std::ptr::eq(entry(&before, 0), entry(&after, 0)));
    assert!(std::ptr::eq(entry(&before, 256), entry(&after, 256)));
    assert_eq!(
        diff::diff(&before, &after).as_str(),
        r#"{"0":{"k":{"200":{"2":"1401"},"kc":300}}}"#
    );
    assert_eq!(after.to_html(), tracked_table(&state, 5).to_html());
    evaluated();

    let unchanged = cache.render(|| tracked_table(&state, 5));
    assert_eq!(evaluated(), 0);
    assert!(diff::diff(&after, &unchanged).is_empty());
}

#[test]
fn an_outer_value_the_body_reads_is_part_of_every_stamp() {
    let state = rows(40);
    let mut cache = RenderCache::default();
    let before = cache.render(|| tracked_table(&state, 5));
    evaluated();

    let after = cache.render(|| tracked_table(&state, 6));
    assert_eq!(evaluated(), 40, "every entry read the highlight");
    assert_eq!(
        diff::diff(&before, &after).as_str(),
        r#"{"0":{"k":{"5":{"1":""},"6":{"1":" class=\"on\""},"kc":40}}}"#
    );
    assert_eq!(after.to_html(), tracked_table(&state, 6).to_html());
}

/// Two lists with the same markup and the same reads that show different
/// values: only the place of each `for` tells their entries apart.
fn numbers(values: &[u32], doubled: bool) -> Rendered {
    html! {
        <ul>
            @if doubled {
                @for n in values { <li>{n * 2}</li> }
            } else {
                @for n in values { <li>{*n}</li> }
            }
        </ul>
    }
}

#[test]
fn entries_of_two_alike_fors_are_never_taken_for_each_other() {
    let values = [1, 2, 3];
    for mut cache in [Some(RenderCache::default()), None] {
        let mut render = |doubled| match &mut cache {
            Some(cache) => cache.render(|| numbers(&values, doubled)),
            None => numbers(&values, doubled),
        };
        let plain = render(false);
        let doubled = render(true);
        assert!(doubled.to_html().contains("<li>2</li><li>4</li><li>6</li>"));
        // Each entry has the key and the stamp of the one the client holds
        // in its place, and the diff still brings every new value.
        assert_eq!(
            diff::diff(&plain, &doubled).as_str(),
            r#"{"0":{"0":{"k":{"0":{"0":"2"},"1":{"0":"4"},"2":{"0":"6"},"kc":3}}}}"#
        );
    }
}

#[test]
fn fors_at_the_same_line_and_column_of_two_files_keep_apart() {
    let values = [1, 2, 3];
    let mut cache = RenderCache::default();
    let plain = cache.render(|| list_a::list(&values));
    let doubled = cache.render(|| list_b::list(&values));
    assert_eq!(doubled.to_html(), "<ul><li>2</li><li>4</li><li>6</li></ul>");
    assert_eq!(
        diff::diff(&plain, &doubled).as_str(),
        r#"{"0":{"k":{"0":{"0":"2"},"1":{"0":"4"},"2":{"0":"6"},"kc":3}}}"#
    );
}

#[test]
fn the_diff_skips_an_entry_whose_stamp_and_key_are_unchanged() {
    let mut state = rows(3);
    let before = memoized_table(&state);
    state[1].name = "renamed".into();
    // Rendered without a cache, the entry is evaluated again, but its
    // version says it did not change: the diff takes the stamp's word, as
    // a render through a cache would.
    let stale = memoized_table(&state);
    assert!(diff::diff(&before, &stale).is_empty());
    state[1].version += 1;
    let fresh = memoized_table(&state);
    assert_eq!(
        diff::diff(&before, &fresh).as_str(),
        r#"{"0":{"k":{"1":{"1":"renamed"},"kc":3}}}"#
    );
}

#[test]
fn a_rebuilt_chunk_sends_only_its_entries_whose_stamps_and_values_changed() {
    let mut state = rows(20);
    let mut cache = RenderCache::default();
    let before = cache.render(|| memoized_table(&state));
    touch(&mut state[1]);
    touch(&mut state[3]);
    // A new stamp over the same values is evaluated again and sends nothing.
    state[5].version += 1;
    let after = cache.render(|| memoized_table(&state));
    assert_eq!(
        diff::diff(&before, &after).as_str(),
        r#"{"0":{"k":{"1":{"1":"changed","2":"8"},"3":{"1":"changed","2":"22"},"kc":20}}}"#
    );
    let indexed = |rows: &[Row]| html! { <ol>@for row in rows { <li>{row.score}</li> }</ol> };
    let before = cache.render(|| indexed(&state));
    state[2].score += 1;
    state[6].score += 1;
    let after = cache.render(|| indexed(&state));
    assert_eq!(
        diff::diff(&before, &after).as_str(),
        r#"{"0":{"k":{"2":{"0":"15"},"6":{"0":"43"},"kc":20}}}"#
    );
}

/// Renders a row from the whole row: `Row` says nothing of how it hashes.
fn row_cell(row: &Row) -> String {
    count_evaluation();
    format!("{}: {}", row.name, row.score)
}

/// A tag whose hash covers all of it, and says so.
#[derive(Hash)]
struct Tag(String);

impl cinder::memo::StampValue for Tag {}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        count_evaluation();
        f.write_str(&self.0)
    }
}

#[test]
fn a_value_read_whole_is_stamped_only_when_its_type_vouches_for_its_hash() {
    let mut state = rows(20);
    let mut cache = RenderCache::default();
    let whole =
        |rows: &[Row]| html! { <ul>@for row in rows { <li>{self::row_cell(row)}</li> }</ul> };
    cache.render(|| whole(&state));
    touch(&mut state[3]);
    evaluated();
    let after = cache.render(|| whole(&state));
    assert_eq!(evaluated(), 20, "rows read whole are evaluated every time");
    assert_eq!(after.to_html(), whole(&state).to_html());

    let named =
        |rows: &[Row]| html! { <ul>@for row in rows { <li>{self::counted(&row.name)}</li> }</ul> };
    let mut cache = RenderCache::default();
    cache.render(|| named(&state));
    evaluated();
    cache.render(|| named(&state));
    assert_eq!(evaluated(), 20, "a string costs as much to hash as to copy");

    let mut tags: Vec<Tag> = (0..20).map(|i| Tag(format!("t{i}"))).collect();
    let mut cache = RenderCache::default();
    let tagged = |tags: &[Tag]| html! { <ul>@for tag in tags { <li>{tag.to_string()}</li> }</ul> };
    cache.render(|| tagged(&tags));
    tags[4].0.push('!');
    evaluated();
    let after = cache.render(|| tagged(&tags));
    assert_eq!(evaluated(), 1, "a `StampValue` is stamped whole");
    assert!(after.to_html().contains("<li>t4!</li>"));
}

/// Sections of rows: the inner `for` reads its own row and the outer
/// section's number, through a name a `format!` string captures.
fn sections(groups: &[(u32, Vec<Row>)]) -> Rendered {
    html! {
        @for (number, group) in groups {
            <section>
                @for row in group {
                    @if let Some(half) = row.score.checked_div(2) {
                        @if half > 0 {
                            <p>{format!("{number}/{half}")}{self::counted_score(row.id)}</p>
                        }
                    }
                    @match row.id % 3 { 0 => { <b>"fizz"</b> } n => { <i>{n}</i> } }
                }
            </section>
        }
    }
}

#[test]
fn inner_bodies_follow_the_outer_values_they_read() {
    let mut groups: Vec<(u32, Vec<Row>)> = (0..3).map(|g| (g, rows(10))).collect();
    let mut cache = RenderCache::default();
    cache.render(|| sections(&groups));
    evaluated();

    groups[1].0 = 40;
    let after = cache.render(|| sections(&groups));
    let fresh = sections(&groups).to_html();
    assert_eq!(after.to_html(), fresh);
    assert_eq!(fresh.matches("<p>40/").count(), 9);
    assert_eq!(
        evaluated(),
        9 + 27,
        "the renumbered group's rows, then the fresh render's"
    );
}

static BUMPED_ROWS_EVALUATED: AtomicUsize = AtomicUsize::new(0);

fn count_bumped_row(id: u32) -> u32 {
    BUMPED_ROWS_EVALUATED.fetch_add(1, Ordering::SeqCst);
    id
}

/// A view with a plain `for`, no key and no memo.
struct Bumps {
    rows: Vec<Row>,
}

impl LiveView for Bumps {
    type Info = ();

    async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> {
        Ok(Bumps { rows: rows(100) })
    }

    async fn handle_event(&mut self, event: Event, _: &mut Socket<Self>) {
        if let Some(i) = event.get("i").and_then(|i| i.parse::<usize>().ok()) {
            self.rows[i].score += 1;
        }
    }

    fn render(&self) -> Rendered {
        html! {
            <ul>
                @for row in &self.rows {
                    <li phx-value-i={row.id}>{self::count_bumped_row(row.id)}": "{row.score}</li>
                }
            </ul>
        }
    }
}

#[tokio::test]
async fn a_view_with_a_plain_for_evaluates_the_changed_row_alone() {
    let (evaluated, reply) =
        click_after_join::<Bumps>("/bumps", "bump", "7", &BUMPED_ROWS_EVALUATED).await;
    assert_eq!(evaluated, 1);
    assert_eq!(
        reply[4]["response"]["diff"],
        json!({"0": {"k": {"7": {"2": "50"}, "kc": 100}}})
    );
}

/// A sidebar shown beside a counter: it changes rarely, and says so with
/// its version.
struct Sidebar {
    version: u64,
    names: Vec<String>,
}

fn page_with_sidebar(sidebar: &Sidebar, clicks: u32) -> Rendered {
    html! {
        <main>
            <p>{clicks}</p>
            @memo sidebar.version {
                <ul>@for name in &sidebar.names { <li>{counted(name)}</li> }</ul>
            }
        </main>
    }
}

fn sidebar(names: &[&str]) -> Sidebar {
    Sidebar {
        version: 1,
        names: names.iter().map(|name| name.to_string()).collect(),
    }
}

#[test]
fn a_memo_block_renders_again_only_when_its_stamp_changes() {
    let mut side = sidebar(&["ann", "bo", "cy"]);
    let mut cache = RenderCache::default();
    let first = cache.render(|| page_with_sidebar(&side, 0));
    assert_eq!(evaluated(), 3);

    let clicked = cache.render(|| page_with_sidebar(&side, 1));
    assert_eq!(evaluated(), 0, "the block is the previous render's");
    assert_eq!(diff::diff(&first, &clicked).as_str(), r#"{"0":"1"}"#);
    assert_eq!(clicked.to_html(), page_with_sidebar(&side, 1).to_html());
    evaluated();

    // Reused again and again, it stays the previous render's.
    let again = cache.render(|| page_with_sidebar(&side, 1));
    assert_eq!(evaluated(), 0);
    assert!(diff::diff(&clicked, &again).is_empty());

    side.names.push("di".into());
    side.version += 1;
    let grown = cache.render(|| page_with_sidebar(&side, 1));
    assert_eq!(evaluated(), 4, "a new stamp renders the body");
    assert_eq!(grown.to_html(), page_with_sidebar(&side, 1).to_html());
    evaluated();
    let change = diff::diff(&again, &grown).to_value();
    assert!(
        change["1"].is_object(),
        "the block's change is sent: {change}"
    );
    assert!(change.get("0").is_none(), "{change}");
}

#[test]
fn a_memo_block_keeps_what_it_showed_until_its_stamp_changes() {
    let mut side = sidebar(&["ann"]);
    let mut cache = RenderCache::default();
    cache.render(|| page_with_sidebar(&side, 0));
    // The stamp is a promise: a change it does not tell of is not shown.
    side.names[0] = "zed".into();
    let stale = cache.render(|| page_with_sidebar(&side, 0));
    assert!(stale.to_html().contains("<li>ann</li>"));
    side.version += 1;
    let fresh = cache.render(|| page_with_sidebar(&side, 0));
    assert!(fresh.to_html().contains("<li>zed</li>"));
    evaluated();
}

#[test]
fn outside_a_render_cache_a_memo_block_is_always_rendered() {
    let side = sidebar(&["ann", "bo"]);
    let once = page_with_sidebar(&side, 0);
    let twice = page_with_sidebar(&side, 0);
    assert_eq!(evaluated(), 4);
    assert_eq!(once.to_html(), twice.to_html());
    assert_eq!(
        once.to_html(),
        "<main>\n    <p>0</p>\n    <ul><li>ann</li><li>bo</li></ul>\n</main>"
    );
}

/// A block inside a `for`: each run keeps its own previous tree.
fn cards(groups: &[Sidebar]) -> Rendered {
    html! {
        @for group in groups {
            <section>@memo group.version { <b>{counted(&group.names[0])}</b> }</section>
        }
    }
}

#[test]
fn each_run_of_a_memo_block_in_a_for_reuses_its_own_tree() {
    let mut groups = vec![sidebar(&["a"]), sidebar(&["b"]), sidebar(&["c"])];
    let mut cache = RenderCache::default();
    let before = cache.render(|| cards(&groups));
    assert_eq!(evaluated(), 3);

    groups[1].names[0] = "changed".into();
    groups[1].version += 1;
    let after = cache.render(|| cards(&groups));
    assert_eq!(evaluated(), 1, "only the middle group's block");
    assert_eq!(after.to_html(), cards(&groups).to_html());
    assert_eq!(evaluated(), 3);
    assert_eq!(
        after.to_html(),
        "<section><b>a</b></section><section><b>changed</b></section><section><b>c</b></section>"
    );
    assert!(!diff::diff(&before, &after).is_empty());
}

/// A memoized list inside a block with its own stamp.
fn table_in_block(version: u64, rows: &[Row], clicks: u32) -> Rendered {
    html! {
        <div>
            <p>{clicks}</p>
            @memo version {
                <table>
                    @for row in rows, key = row.id, memo = row.version {
                        <tr><td>{counted(&row.name)}</td></tr>
                    }
                </table>
            }
        </div>
    }
}

#[test]
fn a_list_in_a_reused_block_still_reuses_its_entries_when_the_block_renders_again() {
    let mut state = rows(100);
    let mut cache = RenderCache::default();
    cache.render(|| table_in_block(1, &state, 0));
    assert_eq!(evaluated(), 100);
    cache.render(|| table_in_block(1, &state, 1));
    let before = cache.render(|| table_in_block(1, &state, 2));
    assert_eq!(evaluated(), 0, "the block is reused twice");

    touch(&mut state[5]);
    let after = cache.render(|| table_in_block(2, &state, 2));
    assert_eq!(evaluated(), 1, "the block renders again, its list one row");
    assert_eq!(after.to_html(), table_in_block(2, &state, 2).to_html());
    evaluated();
    let change = diff::diff(&before, &after).to_value();
    assert_eq!(
        change,
        json!({"1": {"0": {"k": {"5": {"0": "changed"}, "kc": 100}}}})
    );
}

/// The `@memo` block of a page rendered by `page_with_sidebar`.
fn sidebar_block(page: &Rendered) -> &std::sync::Arc<Rendered> {
    match &page.dynamics()[1] {
        Dynamic::Memo(block) => block,
        other => panic!("not a memo block: {other:?}"),
    }
}

#[test]
fn a_reused_memo_block_is_the_tree_the_client_holds_not_a_copy() {
    let side = sidebar(&["ann", "bo"]);
    let mut cache = RenderCache::default();
    let mut shown = cache.render(|| page_with_sidebar(&side, 0));
    let held = sidebar_block(&shown).clone();
    let diff = cache.render_diff(&mut shown, || page_with_sidebar(&side, 1));
    assert_eq!(diff.as_str(), r#"{"0":"1"}"#);
    assert!(
        std::sync::Arc::ptr_eq(&held, sidebar_block(&shown)),
        "the block is the one the client holds, shared with the cache"
    );
    assert_eq!(evaluated(), 2, "the first render's names alone");
}

#[test]
fn a_view_diffs_a_list_in_a_memo_block_whose_stamp_changed() {
    // As a view renders: each render diffed against the tree the client
    // holds, whose own lists are lent to it; the block's are not.
    let mut state = rows(100);
    let mut cache = RenderCache::default();
    let mut shown = cache.render(|| table_in_block(1, &state, 0));
    let clicked = cache.render_diff(&mut shown, || table_in_block(1, &state, 1));
    assert_eq!(clicked.as_str(), r#"{"0":"1"}"#);
    evaluated();

    touch(&mut state[5]);
    let changed = cache.render_diff(&mut shown, || table_in_block(2, &state, 1));
    assert_eq!(evaluated(), 1, "the block renders again, its list one row");
    assert_eq!(
        changed.to_value(),
        json!({"1": {"0": {"k": {"5": {"0": "changed"}, "kc": 100}}}})
    );
    assert_eq!(shown.to_html(), table_in_block(2, &state, 1).to_html());
    evaluated();

    let unchanged = cache.render_diff(&mut shown, || table_in_block(2, &state, 2));
    assert_eq!(unchanged.as_str(), r#"{"0":"2"}"#);
    assert_eq!(evaluated(), 0);
}

/// A block inside a block, each with its own stamp, the inner one holding
/// a memoized list.
fn nested_blocks(outer: u64, inner: u64, rows: &[Row]) -> Rendered {
    html! {
        @memo outer {
            <h2>{counted("title")}</h2>
            @memo inner {
                <ul>
                    @for row in rows, key = row.id, memo = row.version {
                        <li>{counted(&row.name)}</li>
                    }
                </ul>
            }
        }
    }
}

#[test]
fn a_block_rendered_again_gives_the_blocks_and_lists_inside_it_what_they_kept() {
    let mut state = rows(20);
    let mut cache = RenderCache::default();
    let first = cache.render(|| nested_blocks(1, 1, &state));
    assert_eq!(evaluated(), 21);
    cache.render(|| nested_blocks(1, 1, &state));
    assert_eq!(evaluated(), 0, "both blocks reused");

    let outer_changed = cache.render(|| nested_blocks(2, 1, &state));
    assert_eq!(
        evaluated(),
        1,
        "the outer block renders, the inner is reused"
    );
    assert_eq!(outer_changed.to_html(), first.to_html());
    evaluated();

    // The outer stamp covers the inner block: both change together.
    touch(&mut state[3]);
    let both_changed = cache.render(|| nested_blocks(3, 2, &state));
    assert_eq!(evaluated(), 2, "the title and the one changed row");
    assert_eq!(
        both_changed.to_html(),
        nested_blocks(3, 2, &state).to_html()
    );
    evaluated();

    let title_again = cache.render(|| nested_blocks(4, 2, &state));
    assert_eq!(evaluated(), 1, "the inner block reused again");
    assert_eq!(title_again.to_html(), nested_blocks(4, 2, &state).to_html());
    evaluated();
}

static MENU_ITEMS_EVALUATED: AtomicUsize = AtomicUsize::new(0);

fn count_menu_item(name: &str) -> &str {
    MENU_ITEMS_EVALUATED.fetch_add(1, Ordering::SeqCst);
    name
}

/// A view with a counter beside a menu that only its version changes.
struct WithMenu {
    clicks: u32,
    menu: Sidebar,
}

impl LiveView for WithMenu {
    type Info = ();

    async fn mount(_: &Params, _: &Session, _: &mut Socket<Self>) -> Result<Self, MountError> {
        Ok(WithMenu {
            clicks: 0,
            menu: sidebar(&["home", "about", "help"]),
        })
    }

    async fn handle_event(&mut self, _: Event, _: &mut Socket<Self>) {
        self.clicks += 1;
    }

    fn render(&self) -> Rendered {
        html! {
            <p>{self.clicks}</p>
            @memo self.menu.version {
                <nav>@for item in &self.menu.names { <a>{count_menu_item(item)}</a> }</nav>
            }
        }
    }
}

#[tokio::test]
async fn a_view_renders_its_memo_block_once_while_the_stamp_stays() {
    let (evaluated, reply) =
        click_after_join::<WithMenu>("/menu", "click", "0", &MENU_ITEMS_EVALUATED).await;
    assert_eq!(evaluated, 0, "the menu is the join's render");
    assert_eq!(reply[4]["response"]["diff"], json!({"0": "1"}));
}
