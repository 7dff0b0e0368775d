//! Templates and diffs: rendering a table to HTML and to a first diff, one
//! changed row out of 10,000 against a full re-render (the table alone, and
//! inside a layout), a bumped row of the benchmark server's `/rows`, and a
//! message posted to a full chat history.
//!
//! Each render after the first is diffed as a view diffs it: with the lists
//! of the tree the client holds lent to the render (`RenderCache::render_diff`).

// `criterion_group!` defines a public function that cannot carry a doc comment.
#![allow(missing_docs)]

use std::collections::VecDeque;

use cinder::live::Flash;
use cinder::memo::RenderCache;
use cinder::{diff, html, Rendered};
use cinder_bench::layout::header_layout;
use cinder_bench::rows::{first_rows, rows_page};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

struct Row {
    id: u32,
    version: u64,
    name: String,
    email: String,
    score: u32,
}

fn rows(n: u32) -> Vec<Row> {
    (0..n)
        .map(|id| Row {
            id,
            version: 0,
            name: format!("User {id}"),
            email: format!("user{id}@example.com"),
            score: id * 37 % 1000,
        })
        .collect()
}

fn table(rows: &[Row]) -> Rendered {
    html! {
        <table class="users">
            <thead><tr><th>Id</th><th>Name</th><th>Email</th><th>Score</th></tr></thead>
            <tbody>
                @for row in rows, key = row.id, memo = row.version {
                    <tr id={format!("user-{}", row.id)}><td>{row.id}</td><td>{&row.name}</td><td>{&row.email}</td><td>{row.score}</td></tr>
                }
            </tbody>
        </table>
    }
}

fn first_render(c: &mut Criterion) {
    let state = rows(1_000);
    c.bench_function("table_1000_rows_to_html", |b| {
        b.iter(|| table(black_box(&state)).to_html())
    });
    c.bench_function("table_1000_rows_to_first_diff", |b| {
        b.iter(|| diff::render(&table(black_box(&state))))
    });
}

fn one_changed_row(c: &mut Criterion) {
    let mut state = rows(10_000);
    c.bench_function("table_10000_rows_full_rerender", |b| {
        b.iter(|| diff::render(&table(black_box(&state))))
    });

    let mut cache = RenderCache::default();
    let mut held = cache.render(|| table(&state));
    let mut bytes = 0;
    c.bench_function("table_10000_rows_one_row_changed", |b| {
        b.iter(|| {
            let row = &mut state[5_000];
            row.version += 1;
            row.score = (row.score + 1) % 1000;
            let change = cache.render_diff(&mut held, || table(&state));
            bytes = change.len();
            change
        })
    });
    eprintln!("one changed row out of 10,000: diff of {bytes} bytes");

    // The same table inside a layout, as an application's pages are: the
    // diff compares the layout's nested template before it diffs the
    // table in it.
    let in_layout = |page| header_layout(&Flash::default(), page);
    let mut held = cache.render(|| in_layout(table(&state)));
    c.bench_function("table_10000_rows_one_row_changed_in_a_layout", |b| {
        b.iter(|| {
            let row = &mut state[5_000];
            row.version += 1;
            row.score = (row.score + 1) % 1000;
            cache.render_diff(&mut held, || in_layout(table(&state)))
        })
    });
}

/// What a `bump` on `/rows` costs the template: all 100 rows evaluated and
/// compared with the previous render, one of them sent.
fn bump_one_of_100_rows(c: &mut Criterion) {
    let mut state = first_rows();
    let mut cache = RenderCache::default();
    let mut held = cache.render(|| rows_page(&state));
    let mut turn = 0;
    c.bench_function("rows_100_plain_for_one_bumped", |b| {
        b.iter(|| {
            turn = (turn + 37) % state.len();
            state[turn].value += 1;
            cache.render_diff(&mut held, || rows_page(black_box(&state)))
        })
    });
}

/// One message of a chat room's history.
struct Message {
    id: u64,
    name: String,
    text: String,
}

/// A chat history kept by the view (the showcase's `/chat` streams its
/// messages instead): keyed by message, stamped by the key alone, as posted
/// messages never change.
fn history(messages: &VecDeque<Message>) -> Rendered {
    html! {
        <ul id="messages">
            @for message in messages, key = message.id, memo = () {
                <li><strong>{&message.name}</strong>": "{&message.text}</li>
            }
        </ul>
    }
}

/// What a new message costs each tab of a room whose history is full: the
/// oldest message leaves, every other one moves up by one, and the new one
/// comes in.
fn post_to_a_full_history(c: &mut Criterion) {
    let message = |id: u64| Message {
        id,
        name: format!("Guest {}", id % 10_000),
        text: format!("message number {id}, long enough to live in a block of its own"),
    };
    let mut messages: VecDeque<Message> = (0..100).map(message).collect();
    let mut cache = RenderCache::default();
    let mut held = cache.render(|| history(&messages));
    let mut next_id = 100;
    c.bench_function("chat_history_of_100_one_posted", |b| {
        b.iter(|| {
            messages.pop_front();
            messages.push_back(message(next_id));
            next_id += 1;
            cache.render_diff(&mut held, || history(black_box(&messages)))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = first_render, one_changed_row, bump_one_of_100_rows, post_to_a_full_history
}
criterion_main!(benches);
