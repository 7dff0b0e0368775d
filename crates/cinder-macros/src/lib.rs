//! Procedural macros for Cinder. Use them through the `cinder` crate, which
//! re-exports them and documents the template language.

mod ast;
mod codegen;
mod parse;
mod reads;

use proc_macro::TokenStream;

/// Writes HTML with embedded Rust and builds a `cinder::Rendered` tree.
///
/// The template language is described in the `cinder` crate's documentation.
#[proc_macro]
pub fn html(input: TokenStream) -> TokenStream {
    parse::parse_template(input.into())
        .and_then(|nodes| codegen::template(&nodes))
        .unwrap_or_else(|err| {
            // Several errors are several `compile_error!`s; a block keeps the
            // expansion one expression.
            let errors = err.into_compile_error();
            quote::quote!({ #errors })
        })
        .into()
}
