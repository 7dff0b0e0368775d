//! One of two lists whose `for`s stand at the same line and column of two
//! files, with the same markup and reads (see `change_tracking.rs`).

use cinder::{html, Rendered};

/// The values as they are.
pub fn list(values: &[u32]) -> Rendered {
    html! { <ul>@for n in values { <li>{*n}</li> }</ul> }
}
