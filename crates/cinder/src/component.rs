//! Function components: reusable pieces of template with attributes, an
//! inner block and named slots.
//!
//! A component is a struct whose fields are its attributes; the template
//! writes it as a tag whose name starts with a capital letter. Children
//! become the `inner_block` field and each `<:name>…</:name>` slot the field
//! `name`, both as [`Rendered`] trees (or `Option<Rendered>` for an optional
//! one, left out through `{..Default::default()}`). Attribute values go
//! through `Into`, so a `String` field takes `title="text"`.
//!
//! ```
//! use cinder::{html, Component, Rendered};
//!
//! struct Card {
//!     title: String,
//!     inner_block: Rendered,
//!     footer: Rendered,
//! }
//!
//! impl Component for Card {
//!     fn render(self) -> Rendered {
//!         html! {
//!             <section class="card">
//!                 <h2>{self.title}</h2>
//!                 {self.inner_block}
//!                 <footer>{self.footer}</footer>
//!             </section>
//!         }
//!     }
//! }
//!
//! let page = html! {
//!     <Card title="Hello">
//!         <p>Body</p>
//!         <:footer>Bye</:footer>
//!     </Card>
//! };
//! assert_eq!(
//!     page.to_html(),
//!     "<section class=\"card\">\n    <h2>Hello</h2>\n    <p>Body</p>\n    <footer>Bye</footer>\n</section>"
//! );
//! ```

use crate::rendered::Rendered;

/// A function component: a value that renders to a template.
pub trait Component {
    /// Renders the component.
    fn render(self) -> Rendered;
}
