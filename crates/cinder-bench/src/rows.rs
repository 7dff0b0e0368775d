//! The `/rows` page's state and template, shared by the benchmark server,
//! the diff benchmarks and `cinder-list-renders`, so that each measures the
//! page Phoenix LiveView was measured on.

use cinder::{html, Rendered};

/// How many rows `/rows` shows.
pub const ROWS: u32 = 100;

/// One row of `/rows`.
pub struct Row {
    /// Its id, from 1; the `bump` event names it.
    pub id: u32,
    /// How many times it was bumped.
    pub value: u64,
}

/// The rows `/rows` starts with: ids 1 to [`ROWS`], each at 0.
pub fn first_rows() -> Vec<Row> {
    (1..=ROWS).map(|id| Row { id, value: 0 }).collect()
}

/// The `/rows` template: an ordinary `for` without keys or memos, as a
/// first version of a page usually is; its stamps come from what its body
/// reads.
///
/// ```
/// use cinder_bench::rows::{first_rows, rows_page};
///
/// let html = rows_page(&first_rows()).to_html();
/// assert!(html.contains(r#"phx-value-i="1">Row 1: 0</li>"#));
/// assert!(html.contains(">Row 100: 0</li>"));
/// ```
pub fn rows_page(rows: &[Row]) -> Rendered {
    html! {
        <ul>
            @for row in rows {
                <li id={format!("row-{}", row.id)} phx-click="bump" phx-value-i={row.id}>"Row "{row.id}": "{row.value}</li>
            }
        </ul>
    }
}
