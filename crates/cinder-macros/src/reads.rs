//! What the body of a `for` reads from outside itself.
//!
//! A `for` without a memo stamp stamps each entry with the values its body
//! reads, so an entry whose values did not change is reused instead of
//! evaluated. That is only sound when the list of values is complete, so the
//! walk below accepts a small language it can see through (places, literals,
//! operators, calls, method calls, `format!`) and gives up on anything else:
//! closures, blocks, other macros and components may read what it cannot
//! list, and such a body is evaluated on every render as before.
//!
//! Calls through a path are taken to depend on their arguments only, as a
//! template's helpers do: `helpers::label(row.kind)` is re-evaluated when
//! `row.kind` changes. A call through a bare name (`label(row)`) may be a
//! closure that reads more, or a placement such as `live_component(…)` that
//! must run on every render, so it leaves the body untracked.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Expr, Pat};

use crate::ast::{Attr, Node};

/// The expressions a `for` body reads, each once; `None` when the body
/// does something whose inputs cannot be listed. Reads of the loop's own
/// bindings are included: they are what changes from one entry to the next.
pub fn body_reads(body: &[Node]) -> Option<Vec<TokenStream>> {
    let mut reads = Reads::default();
    reads.nodes(body)?;
    Some(reads.places)
}

#[derive(Default)]
struct Reads {
    places: Vec<TokenStream>,
    seen: HashSet<String>,
    /// Names bound inside the body (an inner `for`, a `match` arm, an
    /// `if let`), innermost last: what they hold comes from reads already
    /// listed, and they do not exist where the stamp is taken.
    bound: Vec<Vec<String>>,
}

impl Reads {
    fn nodes(&mut self, nodes: &[Node]) -> Option<()> {
        nodes.iter().try_for_each(|node| self.node(node))
    }

    fn node(&mut self, node: &Node) -> Option<()> {
        match node {
            Node::Html(_) | Node::Text(_) => Some(()),
            Node::Block(tokens, _) => self.tokens(tokens),
            Node::Element(element) => {
                for attr in &element.attrs {
                    match attr {
                        Attr::Static { .. } => {}
                        Attr::Dynamic { value, .. } => self.tokens(value)?,
                        Attr::Spread(list, _) => self.tokens(list)?,
                    }
                }
                self.nodes(&element.children)
            }
            // A component renders through code of its own, and a stateful
            // one expects to be updated on every render of its parent.
            Node::Component(_) | Node::Slot(_) => None,
            Node::If(chain) => {
                for (condition, body) in &chain.branches {
                    self.bound.push(Vec::new());
                    self.condition(&syn::parse2(condition.clone()).ok()?)?;
                    self.nodes(body)?;
                    self.bound.pop();
                }
                chain
                    .otherwise
                    .as_ref()
                    .map_or(Some(()), |body| self.nodes(body))
            }
            Node::Match(m) => {
                self.tokens(&m.scrutinee)?;
                for (arm, body) in &m.arms {
                    let (pattern, guard) = split_guard(arm);
                    self.bound.push(bindings(&parse_pattern(pattern)?)?);
                    if let Some(guard) = guard {
                        self.tokens(&guard)?;
                    }
                    self.nodes(body)?;
                    self.bound.pop();
                }
                Some(())
            }
            Node::Memo(m) => {
                self.tokens(&m.stamp)?;
                self.nodes(&m.body)
            }
            Node::For(f) => {
                self.tokens(&f.iter)?;
                self.bound
                    .push(bindings(&parse_pattern(f.pattern.clone())?)?);
                for option in [&f.key, &f.memo].into_iter().flatten() {
                    self.tokens(option)?;
                }
                self.nodes(&f.body)?;
                self.bound.pop();
                Some(())
            }
        }
    }

    fn tokens(&mut self, tokens: &TokenStream) -> Option<()> {
        self.expr(&syn::parse2(tokens.clone()).ok()?)
    }

    /// An `if` condition, whose `let` patterns bind names for the rest of
    /// the condition and the branch.
    fn condition(&mut self, condition: &Expr) -> Option<()> {
        match condition {
            Expr::Binary(binary) if matches!(binary.op, syn::BinOp::And(_)) => {
                self.condition(&binary.left)?;
                self.condition(&binary.right)
            }
            Expr::Let(binding) => {
                self.expr(&binding.expr)?;
                let names = bindings(&binding.pat)?;
                self.bound.last_mut()?.extend(names);
                Some(())
            }
            other => self.expr(other),
        }
    }

    fn expr(&mut self, expr: &Expr) -> Option<()> {
        match expr {
            Expr::Lit(_) => Some(()),
            // `Self::LIMIT`, `Kind::Open`: constants and variants.
            Expr::Path(path) if path.qself.is_some() || path.path.segments.len() > 1 => Some(()),
            Expr::Path(_) | Expr::Field(_) if place_root(expr).is_some() => self.place(expr),
            Expr::Field(field) => self.expr(&field.base),
            Expr::MethodCall(call) => {
                self.expr(&call.receiver)?;
                call.args.iter().try_for_each(|arg| self.expr(arg))
            }
            Expr::Call(call) if is_named_function(&call.func) => {
                call.args.iter().try_for_each(|arg| self.expr(arg))
            }
            Expr::Reference(r) => self.expr(&r.expr),
            Expr::Unary(u) => self.expr(&u.expr),
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Cast(c) => self.expr(&c.expr),
            Expr::Binary(b) => {
                self.expr(&b.left)?;
                self.expr(&b.right)
            }
            Expr::Index(i) => {
                self.expr(&i.expr)?;
                self.expr(&i.index)
            }
            Expr::Range(r) => {
                for end in [&r.start, &r.end].into_iter().flatten() {
                    self.expr(end)?;
                }
                Some(())
            }
            Expr::Tuple(t) => t.elems.iter().try_for_each(|e| self.expr(e)),
            Expr::Array(a) => a.elems.iter().try_for_each(|e| self.expr(e)),
            Expr::Macro(m) => self.format_macro(&m.mac),
            _ => None,
        }
    }

    /// Lists a place (`name`, `row.name`, `self.rows`) as a read unless its
    /// root is bound inside the body or is a constant.
    fn place(&mut self, expr: &Expr) -> Option<()> {
        let root = place_root(expr)?;
        if !self.is_bound(&root) && !is_constant(&root) {
            self.push(expr.to_token_stream());
        }
        Some(())
    }

    fn push(&mut self, place: TokenStream) {
        if self.seen.insert(place.to_string()) {
            self.places.push(place);
        }
    }

    fn is_bound(&self, name: &str) -> bool {
        self.bound.iter().flatten().any(|bound| bound == name)
    }

    /// `format!` and `format_args!`, whose arguments and the names their
    /// string captures are the reads; any other macro may read anything.
    fn format_macro(&mut self, mac: &syn::Macro) -> Option<()> {
        if !is_std_format(&mac.path) {
            return None;
        }
        let (text, args) = crate::codegen::format_string_and_args(mac)?;
        let mut named = Vec::new();
        for arg in args {
            match arg {
                Expr::Assign(assign) => {
                    named.push(assign.left.to_token_stream().to_string());
                    self.expr(&assign.right)?;
                }
                positional => self.expr(&positional)?,
            }
        }
        for name in captured_names(&text.value()) {
            if !named.contains(&name) {
                let ident = syn::Ident::new(&name, text.span());
                self.expr(&syn::parse_quote!(#ident))?;
            }
        }
        Some(())
    }
}

/// `format`, `format_args`, or either through `std`, `alloc` or `core`: a
/// macro of the same name elsewhere may do anything.
fn is_std_format(path: &syn::Path) -> bool {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match names.as_slice() {
        [.., last] if !matches!(last.as_str(), "format" | "format_args") => false,
        [_] => true,
        [krate, _] => matches!(krate.as_str(), "std" | "alloc" | "core"),
        _ => false,
    }
}

/// The root name of a chain of fields on a name (`row` in `row.a.b`).
fn place_root(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(path) if path.qself.is_none() => Some(path.path.get_ident()?.to_string()),
        Expr::Field(field) => place_root(&field.base),
        _ => None,
    }
}

/// A name written in capitals is a constant, a unit struct or a variant.
fn is_constant(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
}

/// `path::to::function`, `Self::helper` and `Some`: a function or
/// constructor named by a path, which computes from its arguments alone.
fn is_named_function(func: &Expr) -> bool {
    let Expr::Path(path) = func else {
        return false;
    };
    path.qself.is_some()
        || path.path.segments.len() > 1
        || path
            .path
            .get_ident()
            .is_some_and(|i| is_constant(&i.to_string()))
}

/// The names a `format!` string captures: `{name}`, `{name:?}`, and widths
/// or precisions such as `{:width$}`.
fn captured_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(after) = rest.strip_prefix('{') {
            rest = after;
            continue;
        }
        let Some(close) = rest.find('}') else {
            break;
        };
        let (argument, spec) = rest[..close]
            .split_once(':')
            .unwrap_or((&rest[..close], ""));
        names.extend(identifier(argument.trim()));
        // Only what precedes a `$` names an argument: `{:w$e}` is the
        // argument `w` written as `e`xponent.
        let parts: Vec<&str> = spec.split('$').collect();
        for part in &parts[..parts.len() - 1] {
            let tail = part.rsplit(|c: char| !(c.is_alphanumeric() || c == '_'));
            names.extend(tail.take(1).filter_map(identifier));
        }
        rest = &rest[close + 1..];
    }
    names
}

fn identifier(text: &str) -> Option<String> {
    let first = text.chars().next()?;
    let valid = (first.is_alphabetic() || first == '_')
        && text.chars().all(|c| c.is_alphanumeric() || c == '_');
    valid.then(|| text.to_owned())
}

fn parse_pattern(tokens: TokenStream) -> Option<Pat> {
    syn::parse::Parser::parse2(Pat::parse_multi_with_leading_vert, tokens).ok()
}

/// A `match` arm's pattern and its `if` guard, if any.
fn split_guard(arm: &TokenStream) -> (TokenStream, Option<TokenStream>) {
    let tokens: Vec<TokenTree> = arm.clone().into_iter().collect();
    let guard_at = tokens
        .iter()
        .position(|t| matches!(t, TokenTree::Ident(i) if i == "if"));
    match guard_at {
        Some(at) => (
            tokens[..at].iter().cloned().collect(),
            Some(tokens[at + 1..].iter().cloned().collect()),
        ),
        None => (arm.clone(), None),
    }
}

/// The names a pattern binds; `None` for a pattern the walk does not know.
fn bindings(pattern: &Pat) -> Option<Vec<String>> {
    let mut names = Vec::new();
    bind(pattern, &mut names)?;
    Some(names)
}

fn bind(pattern: &Pat, names: &mut Vec<String>) -> Option<()> {
    match pattern {
        Pat::Ident(ident) => {
            names.push(ident.ident.to_string());
            ident
                .subpat
                .as_ref()
                .map_or(Some(()), |(_, sub)| bind(sub, names))
        }
        Pat::Tuple(t) => t.elems.iter().try_for_each(|p| bind(p, names)),
        Pat::TupleStruct(t) => t.elems.iter().try_for_each(|p| bind(p, names)),
        Pat::Struct(s) => s.fields.iter().try_for_each(|f| bind(&f.pat, names)),
        Pat::Slice(s) => s.elems.iter().try_for_each(|p| bind(p, names)),
        Pat::Or(o) => o.cases.iter().try_for_each(|p| bind(p, names)),
        Pat::Reference(r) => bind(&r.pat, names),
        Pat::Paren(p) => bind(&p.pat, names),
        Pat::Type(t) => bind(&t.pat, names),
        Pat::Wild(_) | Pat::Lit(_) | Pat::Range(_) | Pat::Rest(_) | Pat::Path(_) => Some(()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_template;
    use quote::quote;

    /// The reads of the body of the template's one `for`, as text.
    fn reads_of(template: TokenStream) -> Option<Vec<String>> {
        let nodes = parse_template(template).expect("a template");
        let [Node::For(f)] = nodes.as_slice() else {
            panic!("expected one `for`");
        };
        let reads = body_reads(&f.body)?;
        Some(
            reads
                .iter()
                .map(|r| r.to_string().replace(' ', ""))
                .collect(),
        )
    }

    #[test]
    fn fields_of_the_row_and_outer_names_are_read_once() {
        let reads = reads_of(quote! {
            @for row in rows {
                <li id={format!("row-{}", row.id)} class={selected}>{row.id}": "{row.value}</li>
            }
        });
        assert_eq!(reads.unwrap(), ["row.id", "selected", "row.value"]);
    }

    #[test]
    fn format_strings_capture_names_and_widths() {
        let reads = reads_of(quote! {
            @for row in rows { {format!("{prefix}-{:>width$}-{n}", row.id, n = row.n)} }
        });
        assert_eq!(reads.unwrap(), ["row.id", "row.n", "prefix", "width"]);
        let exponent = reads_of(quote!(@for row in rows { {std::format!("{:w$e}", row.x)} }));
        assert_eq!(exponent.unwrap(), ["row.x", "w"]);
    }

    #[test]
    fn names_bound_inside_the_body_are_not_reads() {
        let reads = reads_of(quote! {
            @for group in groups {
                @for item in &group.items { <i>{item.name}{total}</i> }
                @if let Some(note) = &group.note && note.len() > 0 { <b>{note}</b> }
                @match group.kind { Kind::Open(n) if n > limit => { {n} } _ => {} }
            }
        });
        assert_eq!(
            reads.unwrap(),
            ["group.items", "total", "group.note", "group.kind", "limit"]
        );
    }

    #[test]
    fn functions_named_by_a_path_compute_from_their_arguments() {
        let reads = reads_of(quote! {
            @for row in rows { {helpers::label(row.kind)}{Self::LIMIT}{Some(row.n)} }
        });
        assert_eq!(reads.unwrap(), ["row.kind", "row.n"]);
    }

    #[test]
    fn bodies_the_walk_cannot_see_through_have_no_reads() {
        for body in [
            quote!({ row.items.iter().map(|i| i.len()).sum::<usize>() }),
            quote!({
                {
                    let n = row.n;
                    n
                }
            }),
            quote!({
                if row.on {
                    "on"
                } else {
                    "off"
                }
            }),
            quote!({ my_macro!(row) }),
            quote!({ other::format!("{}", row.n) }),
            quote!({ label(row) }),
            quote!({ live_component::<Card>(row.id, ()) }),
            quote!(<Badge n={row.n} />),
        ] {
            let template = quote!(@for row in rows { #body });
            assert_eq!(reads_of(template.clone()), None, "{template}");
        }
    }
}
