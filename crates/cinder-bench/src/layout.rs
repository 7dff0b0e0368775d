//! The live layout the benchmarks put a page in, to measure what a layout
//! costs: `cinder-bench-server --layout header` serves its pages in it, and
//! the diff benchmarks render a table in it.

use cinder::live::{default_layout, Flash};
use cinder::{html, Rendered};

/// `page` in `<main>` under a header, with the flash above it as
/// [`default_layout`] shows it: the shape of an application's live layout.
///
/// ```
/// use cinder::html;
/// use cinder::live::Flash;
///
/// let page = cinder_bench::layout::header_layout(&Flash::default(), html! { <p>"hi"</p> });
/// assert!(page.to_html().ends_with("<main><p>hi</p></main>"));
/// ```
pub fn header_layout(flash: &Flash, page: Rendered) -> Rendered {
    html! {
        <header><a href="/">"Cinder"</a></header>
        <main>{default_layout(flash, page)}</main>
    }
}
