//! Renders a list of 100 rows through a render cache and diffs it, over
//! and over, one row changed each time: the template's share of a `bump`
//! on `/rows`, alone, for counting its instructions.
//!
//! ```text
//! cinder-list-renders keyed|indexed RENDERS
//! ```
//!
//! `indexed` is `/rows` itself ([`rows_page`]), a plain `for` whose stamps
//! come from what its body reads; `keyed` is the same markup in a `for`
//! keyed by the rows' ids and stamped with their values. Under callgrind the
//! difference between a run of `RENDERS` and a run of 0 is what that many
//! renders and diffs cost, whatever the machine is doing:
//!
//! ```text
//! valgrind --tool=callgrind target/release/cinder-list-renders keyed 20000
//! valgrind --tool=callgrind target/release/cinder-list-renders keyed 0
//! ```
//!
//! It prints the bytes of all the diffs, which the renders must produce.

use std::hint::black_box;
use std::process::ExitCode;

use cinder::memo::RenderCache;
use cinder::{html, Rendered};
use cinder_bench::options::{asks_for_help, print_help, usage_error};
use cinder_bench::rows::{first_rows, rows_page, Row};

const ABOUT: &str = "cinder-list-renders: renders /rows' list of 100 rows RENDERS times, one row
changed each time, and diffs each render with the one before, as a view does;
prints the diffs' bytes. Under callgrind, a run of RENDERS less a run of 0 is
what that many renders and diffs cost.";

const USAGE: &str = "usage: cinder-list-renders keyed|indexed RENDERS";

const LISTS: &str = "lists:
  indexed  /rows itself: a plain for, whose stamps come from what its body reads
  keyed    the same markup in a for keyed by the rows' ids, stamped with their
           values";

/// A step through the rows that visits each in turn, far from the last.
const STRIDE: usize = 37;

/// A page's template over its rows.
type View = fn(&[Row]) -> Rendered;

/// `/rows` keyed by its rows' ids, each stamped with its value: the one
/// field that changes.
fn keyed(rows: &[Row]) -> Rendered {
    html! {
        <ul>
            @for row in rows, key = row.id, memo = row.value {
                <li id={format!("row-{}", row.id)} phx-click="bump" phx-value-i={row.id}>"Row "{row.id}": "{row.value}</li>
            }
        </ul>
    }
}

/// The template to render and how many times, from the command line.
fn options(args: Vec<String>) -> Result<(View, usize), String> {
    let mut args = args.into_iter();
    let view: View = match args.next().as_deref() {
        Some("keyed") => keyed,
        Some("indexed") => rows_page,
        Some(other) => return Err(format!("the list is keyed or indexed, not {other}")),
        None => return Err("which list: keyed or indexed".into()),
    };
    let renders = match args.next() {
        Some(count) => count
            .parse()
            .map_err(|_| format!("RENDERS is a number of renders, not {count}"))?,
        None => return Err("how many renders".into()),
    };
    if let Some(extra) = args.next() {
        return Err(format!("unexpected argument {extra}"));
    }
    Ok((view, renders))
}

/// Renders `view` once, then `renders` times more with one row changed
/// each time, diffing each render with the one before as a view does (its
/// lists lent to the render, which changes the row in place); the diffs'
/// bytes.
fn run(view: View, renders: usize) -> usize {
    let mut rows = first_rows();
    let mut cache = RenderCache::default();
    let mut held = cache.render(|| view(&rows));
    let mut bytes = 0;
    let mut turn = 0;
    for _ in 0..renders {
        turn = (turn + STRIDE) % rows.len();
        rows[turn].value += 1;
        bytes += cache
            .render_diff(&mut held, || view(black_box(&rows)))
            .len();
    }
    bytes
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if asks_for_help(&args) {
        return print_help(&[ABOUT, USAGE, LISTS]);
    }
    match options(args) {
        Ok((view, renders)) => {
            println!("{}", run(view, renders));
            ExitCode::SUCCESS
        }
        Err(error) => usage_error(&error, USAGE),
    }
}
