//! Turns parsed nodes into Rust that builds a `cinder::Rendered`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{Error, Result};

use crate::ast::{Attr, Component, Element, FieldValue, For, If, Match, Memo, Node};

/// The expression building the template made of `nodes`.
pub fn template(nodes: &[Node]) -> Result<TokenStream> {
    let mut builder = Builder::default();
    builder.nodes(nodes)?;
    Ok(builder.finish(is_root(nodes)))
}

/// A single element and nothing else, the shape the client calls a root.
fn is_root(nodes: &[Node]) -> bool {
    matches!(nodes, [Node::Element(_)])
}

#[derive(Default)]
struct Builder {
    statics: Vec<String>,
    current: String,
    dynamics: Vec<TokenStream>,
    /// For each dynamic, how a `for` in a page's first render can write it
    /// straight as HTML; `None` for one it cannot (a branch, a list, a
    /// component, an attribute list).
    interpolations: Vec<Option<Interpolation>>,
}

/// A value a template interpolates, which a `for`'s entry may write straight
/// into the page when the value's type is plain (an integer or a string).
struct Interpolation {
    /// The expression, as evaluated for its dynamic.
    value: TokenStream,
    span: Span,
    kind: InterpolationKind,
}

enum InterpolationKind {
    /// `{value}`: the value's text.
    Text,
    /// An argument of a `format!` attribute value.
    FormatArgument,
    /// `name={value}`: ` name="value"`.
    Attribute(String),
}

impl Interpolation {
    /// The dynamic made of `value`: the value's expression, or a name it
    /// is bound to.
    fn dynamic(&self, value: &impl quote::ToTokens) -> TokenStream {
        let span = self.span;
        match &self.kind {
            InterpolationKind::Text => quote_spanned!(span=> ::cinder::__private::dynamic(#value)),
            // `(&&AttrText(..))` picks the integer writer when the argument
            // is an integer, `Display` otherwise (method lookup tries
            // `&AttrText` first).
            InterpolationKind::FormatArgument => quote_spanned!(span=> {
                #[allow(unused_imports)]
                use ::cinder::__private::{AttrDisplay as _, AttrInteger as _};
                (&&::cinder::__private::AttrText(#value)).attr_text()
            }),
            InterpolationKind::Attribute(attr) => {
                quote_spanned!(span=> ::cinder::__private::attr(#attr, #value))
            }
        }
    }
}

impl Builder {
    fn html(&mut self, text: &str) {
        self.current.push_str(text);
    }

    fn dynamic(&mut self, expr: TokenStream) {
        self.push_dynamic(expr, None);
    }

    /// A dynamic made of one value, which a `for` may write straight.
    fn interpolation(&mut self, interpolation: Interpolation) {
        let expr = interpolation.dynamic(&interpolation.value);
        self.push_dynamic(expr, Some(interpolation));
    }

    fn push_dynamic(&mut self, expr: TokenStream, interpolation: Option<Interpolation>) {
        self.statics.push(std::mem::take(&mut self.current));
        self.dynamics.push(expr);
        self.interpolations.push(interpolation);
    }

    fn finish(mut self, root: bool) -> TokenStream {
        let (statics, dynamics) = self.parts();
        let template = template_static(&statics, root);
        let allow = allow_user_style();
        quote! {{
            #template
            #allow
            let __cinder_dynamics = ::std::vec![#(#dynamics),*];
            ::cinder::Rendered::new(&__CINDER_TEMPLATE, __cinder_dynamics)
        }}
    }

    fn parts(&mut self) -> (Vec<String>, Vec<TokenStream>) {
        let mut statics = std::mem::take(&mut self.statics);
        statics.push(std::mem::take(&mut self.current));
        (statics, std::mem::take(&mut self.dynamics))
    }

    fn nodes(&mut self, nodes: &[Node]) -> Result<()> {
        for node in nodes {
            self.node(node)?;
        }
        Ok(())
    }

    fn node(&mut self, node: &Node) -> Result<()> {
        match node {
            Node::Html(html) => self.html(html),
            Node::Text(text) => self.html(&escape(text, false)),
            Node::Block(expr, span) => self.interpolation(Interpolation {
                value: borrow_place(expr, *span),
                span: *span,
                kind: InterpolationKind::Text,
            }),
            Node::Element(element) => self.element(element)?,
            Node::Component(component) => self.dynamic(component_call(component)?),
            Node::Slot(slot) => {
                return Err(Error::new(
                    slot.name.span(),
                    format!(
                        "slot `<:{}>` must be a direct child of a component",
                        slot.name
                    ),
                ))
            }
            Node::If(chain) => self.dynamic(if_chain(chain)?),
            Node::Match(m) => self.dynamic(match_expr(m)?),
            Node::For(f) => self.dynamic(for_loop(f)?),
            Node::Memo(m) => self.dynamic(memo_block(m)?),
        }
        Ok(())
    }

    fn element(&mut self, element: &Element) -> Result<()> {
        self.html(&format!("<{}", element.name));
        for attr in &element.attrs {
            match attr {
                Attr::Static { name, value: None } => self.html(&format!(" {name}")),
                Attr::Static {
                    name,
                    value: Some(v),
                } => self.html(&format!(" {name}=\"{}\"", escape(v, true))),
                Attr::Dynamic { name, value, span } => match split_format(value) {
                    // `name={format!("row-{}", id)}` is always present: its
                    // literal parts are statics, only the arguments change.
                    Some((parts, args)) => {
                        self.html(&format!(" {name}=\"{}", escape(&parts[0], true)));
                        for (arg, part) in args.iter().zip(&parts[1..]) {
                            self.interpolation(Interpolation {
                                value: quote_spanned!(*span=> &(#arg)),
                                span: *span,
                                kind: InterpolationKind::FormatArgument,
                            });
                            self.html(&escape(part, true));
                        }
                        self.html("\"");
                    }
                    None => self.interpolation(Interpolation {
                        value: quote_spanned!(*span=> &(#value)),
                        span: *span,
                        kind: InterpolationKind::Attribute(name.clone()),
                    }),
                },
                Attr::Spread(list, span) => {
                    let list = borrow_place(list, *span);
                    self.dynamic(quote_spanned!(*span=> ::cinder::__private::attr_list(#list)));
                }
            }
        }
        self.html(">");
        if element.void {
            return Ok(());
        }
        self.nodes(&element.children)?;
        self.html(&format!("</{}>", element.name));
        Ok(())
    }
}

/// The literal parts and the arguments of `format!("…", args…)` when its
/// string holds only `{}` and `{name}` placeholders (and `{{`, `}}`):
/// `parts` has one more element than `args`. `None` for anything else,
/// which then renders as a whole dynamic attribute.
fn split_format(value: &TokenStream) -> Option<(Vec<String>, Vec<TokenStream>)> {
    let mac: syn::ExprMacro = syn::parse2(value.clone()).ok()?;
    if !mac.mac.path.is_ident("format") {
        return None;
    }
    let (literal, exprs) = format_string_and_args(&mac.mac)?;
    let mut positional = exprs.into_iter().map(|expr| quote!(#expr));
    let text = literal.value();
    let mut parts = vec![String::new()];
    let mut args = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                parts.last_mut()?.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                parts.last_mut()?.push('}');
            }
            '{' => {
                let mut inside = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    inside.push(c);
                }
                if inside.is_empty() {
                    args.push(positional.next()?);
                } else {
                    let ident: syn::Ident = syn::parse_str(&inside).ok()?;
                    args.push(quote!(#ident));
                }
                parts.push(String::new());
            }
            '}' => return None,
            c => parts.last_mut()?.push(c),
        }
    }
    // Arguments left over are a mistake `format!` itself reports.
    if positional.next().is_some() {
        return None;
    }
    Some((parts, args))
}

/// The string literal of a `format!`-like macro call and the arguments
/// after it; `None` when the first argument is not a string literal.
pub fn format_string_and_args(mac: &syn::Macro) -> Option<(syn::LitStr, Vec<syn::Expr>)> {
    let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
    let exprs = syn::parse::Parser::parse2(parser, mac.tokens.clone()).ok()?;
    let mut exprs = exprs.into_iter();
    let syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(literal),
        ..
    }) = exprs.next()?
    else {
        return None;
    };
    Some((literal, exprs.collect()))
}

/// User expressions keep their spans for good error messages, so lints would
/// blame the user for the borrows and wrappers the macro adds around them.
fn allow_user_style() -> TokenStream {
    quote!(#[allow(unused_parens, unused_braces, clippy::needless_borrow, clippy::needless_borrows_for_generic_args)])
}

/// `static __CINDER_TEMPLATE: Template = …;` with its fingerprint.
fn template_static(statics: &[String], root: bool) -> TokenStream {
    let fingerprint = fingerprint(statics, root);
    quote! {
        static __CINDER_TEMPLATE: ::cinder::Template =
            ::cinder::Template::new(&[#(#statics),*], #fingerprint, #root);
    }
}

/// FNV-1a over the statics and root flag; must match `cinder::rendered::fingerprint`.
pub(crate) fn fingerprint(statics: &[String], root: bool) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |byte: u8| {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    };
    for part in statics {
        for byte in part.bytes() {
            feed(byte);
        }
        feed(0xff);
    }
    feed(u8::from(root));
    hash
}

/// Escapes literal text at compile time. Quotes only matter inside an
/// attribute value, and the macro always writes those in double quotes.
fn escape(text: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attribute => out.push_str("&quot;"),
            other => out.push(other),
        }
    }
    out
}

/// Place expressions (`name`, `row.name`, `rows[0]`) are borrowed so the
/// template does not move out of them; other expressions are taken by value.
fn borrow_place(tokens: &TokenStream, span: Span) -> TokenStream {
    match syn::parse2::<syn::Expr>(tokens.clone()) {
        Ok(syn::Expr::Path(_) | syn::Expr::Field(_) | syn::Expr::Index(_)) => {
            quote_spanned!(span=> &(#tokens))
        }
        Ok(_) => quote_spanned!(span=> (#tokens)),
        Err(_) => quote_spanned!(span=> { #tokens }),
    }
}

fn nested(nodes: &[Node]) -> Result<TokenStream> {
    let tree = template(nodes)?;
    Ok(quote!(::cinder::Dynamic::Nested(::std::boxed::Box::new(#tree))))
}

fn if_chain(chain: &If) -> Result<TokenStream> {
    let mut out = TokenStream::new();
    for (i, (cond, body)) in chain.branches.iter().enumerate() {
        let body = nested(body)?;
        if i > 0 {
            out.extend(quote!(else));
        }
        out.extend(quote!(if #cond { #body }));
    }
    let otherwise = match &chain.otherwise {
        Some(body) => nested(body)?,
        None => quote!(::cinder::Dynamic::empty()),
    };
    Ok(quote!(#out else { #otherwise }))
}

fn match_expr(m: &Match) -> Result<TokenStream> {
    let scrutinee = &m.scrutinee;
    let arms = m
        .arms
        .iter()
        .map(|(pattern, body)| {
            let body = nested(body)?;
            Ok(quote!(#pattern => { #body }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(quote!(match #scrutinee { #(#arms)* }))
}

/// A `@memo` block: the previous render's tree while the stamp stays the
/// same, the body rendered otherwise. Written inline, not as a closure, so
/// that `?` in the body means what it means elsewhere in the template.
fn memo_block(m: &Memo) -> Result<TokenStream> {
    let mut body = Builder::default();
    body.nodes(&m.body)?;
    // The markup counts in the site, as for a `for`: two blocks a macro
    // writes at one place keep apart.
    let mut statics = body.statics.clone();
    statics.push(body.current.clone());
    let site = m.site ^ fingerprint(&statics, true);
    let tree = body.finish(is_root(&m.body));
    let stamp = &m.stamp;
    let stamp_value = syn::Ident::new("__cinder_block_stamp", Span::mixed_site());
    let reused = syn::Ident::new("__cinder_reused", Span::mixed_site());
    let start = syn::Ident::new("__cinder_block_start", Span::mixed_site());
    Ok(quote! {{
        let #stamp_value = ::cinder::__private::memo(&(#stamp));
        match ::cinder::__private::memo_block_reused(#site, #stamp_value) {
            ::core::result::Result::Ok(#reused) => #reused,
            ::core::result::Result::Err(#start) => ::cinder::__private::memo_block_rendered(
                #site,
                #stamp_value,
                #start,
                ::cinder::Dynamic::Nested(::std::boxed::Box::new(#tree)),
            ),
        }
    }})
}

fn for_loop(f: &For) -> Result<TokenStream> {
    let mut body = Builder::default();
    body.nodes(&f.body)?;
    let interpolations = std::mem::take(&mut body.interpolations);
    let (statics, dynamics) = body.parts();
    let template = template_static(&statics, is_root(&f.body));
    let list = syn::Ident::new("__cinder_list", Span::mixed_site());
    let key = syn::Ident::new("__cinder_key", Span::mixed_site());
    let memo = syn::Ident::new("__cinder_memo", Span::mixed_site());
    let entries = syn::Ident::new("__cinder_entries", Span::mixed_site());
    // Whether the list writes its entries' HTML as they come: in a page's
    // first render, where nothing reuses an entry or reads its stamp.
    let written = syn::Ident::new("__cinder_written", Span::mixed_site());
    // Sizes the list's storage, so a list of known length is built without
    // growing.
    let hint = syn::Ident::new("__cinder_hint", Span::mixed_site());
    let (pattern, iter) = (&f.pattern, &f.iter);
    let key_expr = match &f.key {
        Some(k) => quote!(::cinder::__private::key(&(#k))),
        None => quote!(#list.next_index_key()),
    };
    let allow = allow_user_style();
    let site = f.site ^ fingerprint(&statics, false);
    // The stamps' secrets, read once for the whole loop.
    let seed = syn::Ident::new("__cinder_seed", Span::mixed_site());
    let mut prelude = TokenStream::new();
    // An array, not a `Vec`: the entry's shared block is then allocated once.
    let dynamics = quote!({
        #allow
        let __cinder_dynamics: [::cinder::Dynamic; _] = [#(#dynamics),*];
        __cinder_dynamics
    });
    // The list's builder; the entry's stamp and the test that reuses the
    // previous render's entry instead, if the list has them; and how the
    // evaluated entry is added.
    let (builder, stamp, reuse, add_entry) = match &f.memo {
        Some(stamp) => (
            quote!(::cinder::__private::ListBuilder::memoized(&__CINDER_TEMPLATE, #hint, #site)),
            quote!(let #memo = ::cinder::__private::memo(&(#stamp));),
            Some(quote!(#list.reuse(#key, #memo))),
            quote!(#list.push_memo(#key, #memo, #dynamics);),
        ),
        None => match crate::reads::body_reads(&f.body) {
            Some(reads) => {
                prelude = quote!(let #seed = ::cinder::__private::StampSeed::get(););
                (
                    quote!(::cinder::__private::ListBuilder::tracked(&__CINDER_TEMPLATE, #hint, #site)),
                    quote! {
                        let #memo = if #written {
                            ::core::option::Option::None
                        } else {
                            #[allow(unused_imports)]
                            use ::cinder::__private::{FedRead as _, UnfedRead as _};
                            let mut __cinder_reads = ::cinder::__private::ReadStamp::seeded(#seed);
                            #allow
                            {
                                #((&::cinder::__private::Read(&(#reads))).feed(&mut __cinder_reads);)*
                            }
                            __cinder_reads.finish()
                        };
                    },
                    Some(quote!(#list.reuse_read(#key, #memo))),
                    quote!(#list.push_read(#key, #memo, #dynamics);),
                )
            }
            None => (
                quote!(::cinder::__private::ListBuilder::shared(&__CINDER_TEMPLATE, #hint, #site)),
                TokenStream::new(),
                None,
                quote!(#list.push(#key, #dynamics);),
            ),
        },
    };
    let mut entry = match reuse {
        Some(reuse) => quote! {
            #stamp
            if #written || !#reuse {
                #add_entry
            }
        },
        None => add_entry,
    };
    if let Some(values) = interpolations.into_iter().collect::<Option<Vec<_>>>() {
        let written_list = syn::Ident::new("__cinder_written_list", Span::mixed_site());
        let written_entry = written_entry(&values, &statics, &written_list);
        // Told apart by the flag read once for the loop: a connected
        // render's entries then cost no look at the list to be added.
        entry = quote! {
            if #written {
                if let ::core::option::Option::Some(#written_list) = #list.written_list() {
                    #written_entry
                }
                #list.end_written_entry();
            } else {
                #entry
            }
        };
    }
    Ok(quote! {{
        #template
        let #entries = ::core::iter::IntoIterator::into_iter(#iter);
        let #hint = ::core::iter::Iterator::size_hint(&#entries).0;
        let mut #list = #builder;
        let #written = #list.writes_html();
        #prelude
        for #pattern in #entries {
            let #key = #key_expr;
            #entry
        }
        #list.finish()
    }})
}

/// A `for`'s entry made only of interpolated `values`, between `statics`,
/// written into `written`, the list being written in a page's first render:
/// its values evaluated in order, and each, before the next is evaluated,
/// written straight when its type is plain (an integer or a string, known
/// as the code is compiled), else made into a dynamic and written. The
/// entry's values are evaluated here or in the array of dynamics that keeps
/// the entry, never both.
fn written_entry(
    values: &[Interpolation],
    statics: &[String],
    written: &syn::Ident,
) -> TokenStream {
    let out = quote!(#written.html());
    let mut entry = write_literal(&out, &statics[values.len()]);
    let allow = allow_user_style();
    for (i, value) in values.iter().enumerate().rev() {
        // The name has its value's span, so that an error about the
        // value points at it in the template: a name of the macro's own
        // would point at the whole macro. Only the entry's later values
        // are in its scope, and none of them names it.
        let name = syn::Ident::new(&format!("__cinder_value{i}"), value.span);
        let expr = &value.value;
        let made = value.dynamic(&name);
        let before = write_literal(&out, &statics[i]);
        let write = quote!((&&::cinder::__private::Plain(&#name)).write_plain(#out););
        // An attribute's opening goes out with the static before it, in
        // one copy: the test of `plain` is known as the code is compiled,
        // so only one of the two branches is kept.
        let plain = match &value.kind {
            InterpolationKind::Attribute(attr) => {
                let open = write_literal(&out, &format!("{} {attr}=\"", statics[i]));
                quote!(#open #write #out.push(b'"');)
            }
            _ => quote!(#before #write),
        };
        // Bound by a `match`, whose temporaries live to its end, as
        // they did in the array of dynamics; the value itself is let
        // go, written or made, before the next one is evaluated.
        entry = quote! {
            #allow
            match #expr {
                #name => {
                    if (&&::cinder::__private::Plain(&#name)).plain() {
                        #plain
                    } else {
                        #before
                        #written.write_dynamic(#made);
                    }
                    #entry
                }
            }
        };
    }
    quote!({
        #[allow(unused_imports)]
        use ::cinder::__private::{NotPlain as _, WritesPlain as _};
        #entry
    })
}

/// Appends `literal`, a static of the template, to `out`; nothing when it
/// is empty.
fn write_literal(out: &TokenStream, literal: &str) -> TokenStream {
    if literal.is_empty() {
        return TokenStream::new();
    }
    let bytes = syn::LitByteStr::new(literal.as_bytes(), Span::call_site());
    quote!(#out.extend_from_slice(#bytes);)
}

fn component_call(component: &Component) -> Result<TokenStream> {
    let path = &component.path;
    let mut fields: Vec<TokenStream> = component
        .fields
        .iter()
        .map(|(name, value)| {
            let value = match value {
                FieldValue::Literal(lit) => quote!(::core::convert::Into::into(#lit)),
                FieldValue::Expr(expr) => quote!(::core::convert::Into::into(#expr)),
                FieldValue::Flag(span) => quote_spanned!(*span=> true),
            };
            quote!(#name: #value)
        })
        .collect();
    let mut inner = Vec::new();
    for child in &component.children {
        match child {
            Node::Slot(slot) => {
                let name = &slot.name;
                let tree = template_refs(&trim(&slot.children))?;
                fields.push(quote!(#name: ::core::convert::Into::into(#tree)));
            }
            other => inner.push(other),
        }
    }
    let inner = trim_refs(inner);
    if !inner.is_empty() {
        let tree = template_refs(&inner)?;
        fields.push(quote!(inner_block: ::core::convert::Into::into(#tree)));
    }
    let base = component.base.as_ref().map(|b| quote!(..#b));
    let allow = allow_user_style();
    Ok(quote!({
        #allow
        let __cinder_component = #path { #(#fields,)* #base };
        ::cinder::__private::component(__cinder_component)
    }))
}

/// Children without the whitespace that only lays out the source.
fn trim(nodes: &[Node]) -> Vec<&Node> {
    trim_refs(nodes.iter().collect())
}

fn trim_refs(mut nodes: Vec<&Node>) -> Vec<&Node> {
    let blank = |n: &&Node| matches!(n, Node::Html(h) if h.trim().is_empty());
    while nodes.first().is_some_and(blank) {
        nodes.remove(0);
    }
    while nodes.last().is_some_and(blank) {
        nodes.pop();
    }
    nodes
}

fn template_refs(nodes: &[&Node]) -> Result<TokenStream> {
    let mut builder = Builder::default();
    for node in nodes {
        builder.node(node)?;
    }
    Ok(builder.finish(matches!(nodes, [Node::Element(_)])))
}
