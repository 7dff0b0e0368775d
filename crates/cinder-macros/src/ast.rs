//! The parsed form of a template.

use proc_macro2::{Span, TokenStream};

/// One node of a template.
pub enum Node {
    /// HTML written as is (bare text, doctype, comments, whitespace).
    Html(String),
    /// Text from a string literal, escaped unless inside `<script>`/`<style>`.
    Text(String),
    /// `{expr}`, with the span of its braces.
    Block(TokenStream, Span),
    Element(Element),
    Component(Component),
    /// `<:name>…</:name>`, only valid as a direct child of a component.
    Slot(Slot),
    If(If),
    Match(Match),
    For(For),
    Memo(Memo),
}

pub struct Element {
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
    pub void: bool,
}

pub enum Attr {
    Static {
        name: String,
        value: Option<String>,
    },
    Dynamic {
        name: String,
        value: TokenStream,
        span: Span,
    },
    Spread(TokenStream, Span),
}

pub struct Component {
    pub path: TokenStream,
    pub fields: Vec<(proc_macro2::Ident, FieldValue)>,
    pub base: Option<TokenStream>,
    pub children: Vec<Node>,
}

pub enum FieldValue {
    Literal(proc_macro2::Literal),
    Expr(TokenStream),
    Flag(Span),
}

pub struct Slot {
    pub name: proc_macro2::Ident,
    pub children: Vec<Node>,
}

pub struct If {
    /// `(condition, body)` for `if` and each `else if`.
    pub branches: Vec<(TokenStream, Vec<Node>)>,
    pub otherwise: Option<Vec<Node>>,
}

pub struct Match {
    pub scrutinee: TokenStream,
    pub arms: Vec<(TokenStream, Vec<Node>)>,
}

pub struct For {
    pub pattern: TokenStream,
    pub iter: TokenStream,
    pub key: Option<TokenStream>,
    pub memo: Option<TokenStream>,
    pub body: Vec<Node>,
    pub site: u64,
}

/// `@memo stamp { … }`: markup rendered again only when `stamp` changes.
pub struct Memo {
    pub stamp: TokenStream,
    pub body: Vec<Node>,
    pub site: u64,
}
