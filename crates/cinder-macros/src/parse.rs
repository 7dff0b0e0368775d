//! Parses the tokens of a template into nodes.
//!
//! Rust's tokenizer has already split the input; the parser rebuilds HTML
//! from the tokens and their source positions, so whitespace between tokens
//! comes out as it was written.

use proc_macro2::{Delimiter, Group, Ident, LineColumn, Literal, Span, TokenStream, TokenTree};
use syn::{Error, Result};

use crate::ast::{Attr, Component, Element, FieldValue, For, If, Match, Memo, Node, Slot};

const VOID_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Parses a whole template (or the body of a block).
pub fn parse_template(input: TokenStream) -> Result<Vec<Node>> {
    let base = input
        .clone()
        .into_iter()
        .next()
        .map_or(0, |t| start_of(&t).column);
    let mut parser = Parser::new(input, None, base);
    parser.children(&Parent::Root)
}

/// A component's fields and its `{..base}`, if any.
type ComponentAttrs = (Vec<(Ident, FieldValue)>, Option<TokenStream>);

/// What encloses the nodes being parsed, and so which closing tag ends them.
enum Parent {
    Root,
    Tag {
        close: String,
        span: Span,
        raw_text: bool,
    },
}

struct Parser {
    tokens: Vec<TokenTree>,
    pos: usize,
    /// Where the previous token ended; `None` at the start of a template,
    /// whose leading whitespace is not part of it.
    last_end: Option<LineColumn>,
    /// The column indentation is measured from.
    base: usize,
}

fn start_of(token: &TokenTree) -> LineColumn {
    match token {
        TokenTree::Group(g) => g.span_open().start(),
        other => other.span().start(),
    }
}

fn end_of(token: &TokenTree) -> LineColumn {
    match token {
        TokenTree::Group(g) => g.span_close().end(),
        other => other.span().end(),
    }
}

/// The whitespace written between two positions. A line's indentation is
/// counted from `base`, the column where the template starts, so a template
/// keeps its own layout wherever it sits in the Rust source.
fn gap(from: LineColumn, to: LineColumn, base: usize) -> String {
    if from.line == 0 && to.line == 0 {
        // Positions are unknown (an old compiler): keep tokens apart.
        return " ".into();
    }
    if to.line > from.line {
        let mut out = "\n".repeat(to.line - from.line);
        out.push_str(&" ".repeat(to.column.saturating_sub(base)));
        out
    } else {
        " ".repeat(to.column.saturating_sub(from.column))
    }
}

fn is_punct(token: Option<&TokenTree>, ch: char) -> bool {
    matches!(token, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

fn is_ident(token: Option<&TokenTree>, name: &str) -> bool {
    matches!(token, Some(TokenTree::Ident(i)) if i == name)
}

fn string_value(lit: &Literal) -> Option<String> {
    match syn::Lit::new(lit.clone()) {
        syn::Lit::Str(s) => Some(s.value()),
        _ => None,
    }
}

fn ident_text(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
}

impl Parser {
    fn new(input: TokenStream, last_end: Option<LineColumn>, base: usize) -> Self {
        Parser {
            tokens: input.into_iter().collect(),
            pos: 0,
            last_end,
            base,
        }
    }

    fn peek(&self) -> Option<&TokenTree> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, ahead: usize) -> Option<&TokenTree> {
        self.tokens.get(self.pos + ahead)
    }

    fn next(&mut self) -> Option<TokenTree> {
        let token = self.tokens.get(self.pos).cloned();
        if let Some(t) = &token {
            self.pos += 1;
            self.last_end = Some(end_of(t));
        }
        token
    }

    fn end_span(&self) -> Span {
        self.tokens
            .last()
            .map_or_else(Span::call_site, TokenTree::span)
    }

    /// Whitespace between the previous token and the next one, as a node.
    fn push_gap(&self, nodes: &mut Vec<Node>) {
        if let (Some(from), Some(next)) = (self.last_end, self.peek()) {
            let space = gap(from, start_of(next), self.base);
            if !space.is_empty() {
                push_html(nodes, &space);
            }
        }
    }

    fn children(&mut self, parent: &Parent) -> Result<Vec<Node>> {
        let mut nodes = Vec::new();
        loop {
            let Some(token) = self.peek().cloned() else {
                return match parent {
                    Parent::Root => Ok(nodes),
                    Parent::Tag { close, span, .. } => Err(Error::new(
                        *span,
                        format!("unclosed tag: `<{close}>` has no matching `</{close}>`"),
                    )),
                };
            };
            self.push_gap(&mut nodes);
            match &token {
                TokenTree::Punct(p) if p.as_char() == '<' => {
                    if is_punct(self.peek_at(1), '/') {
                        self.closing_tag(parent)?;
                        return Ok(nodes);
                    }
                    nodes.push(self.tag()?);
                }
                TokenTree::Punct(p) if p.as_char() == '@' && self.control_follows() => {
                    nodes.push(self.control()?);
                }
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                    self.next();
                    nodes.push(block(g)?);
                }
                TokenTree::Literal(lit) if string_value(lit).is_some() => {
                    self.next();
                    let text = string_value(lit).unwrap_or_default();
                    let raw = matches!(parent, Parent::Tag { raw_text: true, .. });
                    nodes.push(if raw {
                        Node::Html(text)
                    } else {
                        Node::Text(text)
                    });
                }
                _ => {
                    let text = self.bare_text();
                    push_html(&mut nodes, &text);
                }
            }
        }
    }

    fn control_follows(&self) -> bool {
        ["if", "for", "match", "memo"]
            .iter()
            .any(|k| is_ident(self.peek_at(1), k))
    }

    /// Bare text up to the next tag, block, string literal or `@` keyword.
    fn bare_text(&mut self) -> String {
        let mut out = String::new();
        while let Some(token) = self.peek().cloned() {
            let stop = match &token {
                TokenTree::Punct(p) => {
                    p.as_char() == '<' || (p.as_char() == '@' && self.control_follows())
                }
                TokenTree::Group(g) => g.delimiter() == Delimiter::Brace,
                TokenTree::Literal(lit) => string_value(lit).is_some(),
                TokenTree::Ident(_) => false,
            };
            if stop {
                break;
            }
            if !out.is_empty() {
                if let Some(from) = self.last_end {
                    out.push_str(&gap(from, start_of(&token), self.base));
                }
            }
            self.next();
            token_text(&token, &mut out, self.base);
        }
        out
    }

    fn closing_tag(&mut self, parent: &Parent) -> Result<()> {
        // `<` and `/`
        self.next();
        self.next();
        let (name, span) = self.tag_name()?;
        self.expect_punct('>', "expected `>` to end the closing tag")?;
        match parent {
            Parent::Root => Err(Error::new(
                span,
                format!("unexpected closing tag `</{name}>`: no tag is open"),
            )),
            Parent::Tag {
                close,
                span: open_span,
                ..
            } if *close != name => {
                let mut err = Error::new(
                    span,
                    format!("mismatched closing tag: expected `</{close}>`, found `</{name}>`"),
                );
                err.combine(Error::new(
                    *open_span,
                    format!("`<{close}>` is opened here"),
                ));
                Err(err)
            }
            Parent::Tag { .. } => Ok(()),
        }
    }

    fn expect_punct(&mut self, ch: char, message: &str) -> Result<Span> {
        match self.next() {
            Some(TokenTree::Punct(p)) if p.as_char() == ch => Ok(p.span()),
            Some(other) => Err(Error::new(other.span(), message)),
            None => Err(Error::new(self.end_span(), message)),
        }
    }

    /// A tag or attribute name: `div`, `phx-click`, `xml:lang`, `:footer`,
    /// `ui::Card`. Returns the name as written and its first token's span.
    fn tag_name(&mut self) -> Result<(String, Span)> {
        let mut name = String::new();
        let span = self.peek().map_or_else(|| self.end_span(), TokenTree::span);
        if is_punct(self.peek(), ':') && !is_punct(self.peek_at(1), ':') {
            self.next();
            name.push(':');
        }
        self.name_into(&mut name, "expected a tag name")?;
        Ok((name, span))
    }

    fn name_into(&mut self, name: &mut String, message: &str) -> Result<()> {
        self.name_part(name, message)?;
        loop {
            let joiner = match self.peek() {
                Some(TokenTree::Punct(p)) if matches!(p.as_char(), '-' | ':' | '.') => p.as_char(),
                _ => return Ok(()),
            };
            if !matches!(
                self.peek_at(1),
                Some(TokenTree::Ident(_)) | Some(TokenTree::Literal(_)) | Some(TokenTree::Punct(_))
            ) {
                return Ok(());
            }
            self.next();
            name.push(joiner);
            if joiner == ':' && is_punct(self.peek(), ':') {
                self.next();
                name.push(':');
            }
            self.name_part(name, message)?;
        }
    }

    fn name_part(&mut self, name: &mut String, message: &str) -> Result<()> {
        match self.next() {
            Some(TokenTree::Ident(i)) => name.push_str(&ident_text(&i)),
            Some(TokenTree::Literal(l)) if string_value(&l).is_none() => {
                name.push_str(&l.to_string())
            }
            Some(other) => return Err(Error::new(other.span(), message)),
            None => return Err(Error::new(self.end_span(), message)),
        }
        Ok(())
    }

    fn tag(&mut self) -> Result<Node> {
        self.next();
        if is_punct(self.peek(), '!') {
            return self.declaration();
        }
        let is_slot = is_punct(self.peek(), ':');
        let (name, span) = self.tag_name()?;
        if is_slot {
            return self.slot(name, span);
        }
        let first = name.chars().next().unwrap_or('a');
        if first.is_ascii_uppercase() || name.contains("::") {
            return self.component(name, span);
        }
        self.element(name, span)
    }

    /// `<!DOCTYPE html>` or `<!-- comment -->`.
    fn declaration(&mut self) -> Result<Node> {
        self.next();
        let mut out = String::from("<!");
        while let Some(token) = self.peek().cloned() {
            if is_punct(Some(&token), '>') {
                self.next();
                out.push('>');
                return Ok(Node::Html(out));
            }
            if out.len() > 2 {
                if let Some(from) = self.last_end {
                    out.push_str(&gap(from, start_of(&token), self.base));
                }
            }
            self.next();
            match &token {
                TokenTree::Literal(lit) if string_value(lit).is_some() => {
                    out.push_str(&string_value(lit).unwrap_or_default());
                }
                other => token_text(other, &mut out, self.base),
            }
        }
        Err(Error::new(
            self.end_span(),
            "unterminated `<!`: expected `>`",
        ))
    }

    fn element(&mut self, name: String, span: Span) -> Result<Node> {
        let attrs = self.attrs()?;
        let void = VOID_ELEMENTS.contains(&name.to_ascii_lowercase().as_str());
        if self.self_closing()? || void {
            return Ok(Node::Element(Element {
                name,
                attrs,
                children: Vec::new(),
                void,
            }));
        }
        let raw_text = matches!(name.as_str(), "script" | "style");
        let parent = Parent::Tag {
            close: name.clone(),
            span,
            raw_text,
        };
        let children = self.children(&parent)?;
        Ok(Node::Element(Element {
            name,
            attrs,
            children,
            void: false,
        }))
    }

    /// Consumes `>` or `/>`; returns whether the tag closed itself.
    fn self_closing(&mut self) -> Result<bool> {
        if is_punct(self.peek(), '/') {
            self.next();
            self.expect_punct('>', "expected `>` after `/`")?;
            return Ok(true);
        }
        self.expect_punct('>', "expected `>`, an attribute, or `{..attrs}`")?;
        Ok(false)
    }

    fn attrs(&mut self) -> Result<Vec<Attr>> {
        let mut attrs = Vec::new();
        loop {
            match self.peek().cloned() {
                Some(TokenTree::Punct(p)) if matches!(p.as_char(), '>' | '/') => return Ok(attrs),
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                    self.next();
                    attrs.push(Attr::Spread(spread(&g)?, g.span()));
                }
                Some(_) => attrs.push(self.attr()?),
                None => {
                    return Err(Error::new(
                        self.end_span(),
                        "unterminated tag: expected `>`",
                    ))
                }
            }
        }
    }

    fn attr(&mut self) -> Result<Attr> {
        let mut name = String::new();
        if is_punct(self.peek(), '@') {
            self.next();
            name.push('@');
        }
        self.name_into(&mut name, "expected an attribute name, `>` or `{..attrs}`")?;
        if !is_punct(self.peek(), '=') {
            return Ok(Attr::Static { name, value: None });
        }
        self.next();
        match self.next() {
            Some(TokenTree::Literal(lit)) => {
                let value = string_value(&lit).unwrap_or_else(|| lit.to_string());
                Ok(Attr::Static {
                    name,
                    value: Some(value),
                })
            }
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                if g.stream().is_empty() {
                    return Err(Error::new(g.span(), "empty `{}`: put an expression inside"));
                }
                Ok(Attr::Dynamic {
                    name,
                    value: g.stream(),
                    span: g.span(),
                })
            }
            Some(other) => Err(Error::new(
                other.span(),
                format!("the value of `{name}` must be a string literal or a `{{expression}}`"),
            )),
            None => Err(Error::new(
                self.end_span(),
                format!("expected a value for `{name}`"),
            )),
        }
    }

    fn component(&mut self, name: String, span: Span) -> Result<Node> {
        let path = component_path(&name, span)?;
        let (fields, base) = self.component_attrs()?;
        let children = if self.self_closing()? {
            Vec::new()
        } else {
            self.children(&Parent::Tag {
                close: name,
                span,
                raw_text: false,
            })?
        };
        Ok(Node::Component(Component {
            path,
            fields,
            base,
            children,
        }))
    }

    fn component_attrs(&mut self) -> Result<ComponentAttrs> {
        let mut fields = Vec::new();
        let mut base = None;
        loop {
            match self.peek().cloned() {
                Some(TokenTree::Punct(p)) if matches!(p.as_char(), '>' | '/') => {
                    return Ok((fields, base))
                }
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                    self.next();
                    base = Some(spread(&g)?);
                }
                Some(TokenTree::Ident(field)) => {
                    self.next();
                    if is_punct(self.peek(), '-') {
                        return Err(Error::new(
                            field.span(),
                            "component attributes are struct fields: use a Rust identifier such as `on_click`",
                        ));
                    }
                    fields.push((field.clone(), self.field_value(&field)?));
                }
                Some(other) => {
                    return Err(Error::new(
                        other.span(),
                        "expected a component attribute, `>` or `{..base}`",
                    ))
                }
                None => {
                    return Err(Error::new(
                        self.end_span(),
                        "unterminated tag: expected `>`",
                    ))
                }
            }
        }
    }

    fn field_value(&mut self, field: &Ident) -> Result<FieldValue> {
        if !is_punct(self.peek(), '=') {
            return Ok(FieldValue::Flag(field.span()));
        }
        self.next();
        match self.next() {
            Some(TokenTree::Literal(lit)) => Ok(FieldValue::Literal(lit)),
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                Ok(FieldValue::Expr(g.stream()))
            }
            Some(other) => Err(Error::new(
                other.span(),
                "a component attribute value is a literal or a `{expression}`",
            )),
            None => Err(Error::new(self.end_span(), "expected a value")),
        }
    }

    fn slot(&mut self, name: String, span: Span) -> Result<Node> {
        let ident = Ident::new(name.trim_start_matches(':'), span);
        self.self_closing()
            .and_then(|closed| {
                if closed {
                    Ok(Vec::new())
                } else {
                    self.children(&Parent::Tag {
                        close: name,
                        span,
                        raw_text: false,
                    })
                }
            })
            .map(|children| {
                Node::Slot(Slot {
                    name: ident,
                    children,
                })
            })
    }

    fn control(&mut self) -> Result<Node> {
        self.next();
        let keyword = match self.next() {
            Some(TokenTree::Ident(i)) => i,
            _ => unreachable!("control_follows checked the keyword"),
        };
        match keyword.to_string().as_str() {
            "if" => self.if_chain(),
            "for" => self.for_loop(&keyword),
            "memo" => self.memo_block(&keyword),
            _ => self.match_expr(&keyword),
        }
    }

    /// Tokens up to the next top-level `{…}`, and that group.
    fn header_and_body(&mut self, what: &str, span: Span) -> Result<(TokenStream, Group)> {
        let mut header = TokenStream::new();
        while let Some(token) = self.next() {
            match token {
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                    if header.is_empty() {
                        return Err(Error::new(g.span(), format!("expected {what} before `{{`")));
                    }
                    return Ok((header, g));
                }
                other => header.extend([other]),
            }
        }
        Err(Error::new(
            span,
            format!("expected {what} followed by a `{{ … }}` block"),
        ))
    }

    fn if_chain(&mut self) -> Result<Node> {
        let mut branches = Vec::new();
        let span = self.tokens[self.pos - 1].span();
        let (cond, body) = self.header_and_body("a condition", span)?;
        branches.push((cond, body_nodes(&body, self.base)?));
        let mut otherwise = None;
        while is_ident(self.peek(), "else") {
            let else_span = self.next().map_or(span, |t| t.span());
            if is_ident(self.peek(), "if") {
                self.next();
                let (cond, body) = self.header_and_body("a condition", else_span)?;
                branches.push((cond, body_nodes(&body, self.base)?));
            } else {
                match self.next() {
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                        otherwise = Some(body_nodes(&g, self.base)?);
                        break;
                    }
                    _ => {
                        return Err(Error::new(
                            else_span,
                            "expected `{ … }` or `if` after `else`",
                        ))
                    }
                }
            }
        }
        Ok(Node::If(If {
            branches,
            otherwise,
        }))
    }

    fn match_expr(&mut self, keyword: &Ident) -> Result<Node> {
        let (scrutinee, arms_group) = self.header_and_body("an expression", keyword.span())?;
        let mut arms = Vec::new();
        let mut parser = Parser::new(arms_group.stream(), None, self.base);
        while parser.peek().is_some() {
            let mut pattern = TokenStream::new();
            loop {
                match parser.next() {
                    Some(TokenTree::Punct(p))
                        if p.as_char() == '=' && is_punct(parser.peek(), '>') =>
                    {
                        parser.next();
                        break;
                    }
                    Some(other) => pattern.extend([other]),
                    None => {
                        return Err(Error::new(
                            arms_group.span_close(),
                            "expected `=> { … }` after the pattern",
                        ))
                    }
                }
            }
            let body = match parser.next() {
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                    body_nodes(&g, self.base)?
                }
                Some(other) => {
                    return Err(Error::new(
                        other.span(),
                        "a match arm's markup goes in `{ … }`",
                    ))
                }
                None => {
                    return Err(Error::new(
                        arms_group.span_close(),
                        "expected `{ … }` after `=>`",
                    ))
                }
            };
            if is_punct(parser.peek(), ',') {
                parser.next();
            }
            arms.push((pattern, body));
        }
        Ok(Node::Match(Match { scrutinee, arms }))
    }

    fn memo_block(&mut self, keyword: &Ident) -> Result<Node> {
        let (stamp, body) = self.header_and_body("a stamp", keyword.span())?;
        Ok(Node::Memo(Memo {
            stamp,
            body: body_nodes(&body, self.base)?,
            site: site_of(keyword.span()),
        }))
    }

    fn for_loop(&mut self, keyword: &Ident) -> Result<Node> {
        let (header, body) = self.header_and_body("`pattern in iterator`", keyword.span())?;
        let tokens: Vec<TokenTree> = header.into_iter().collect();
        let Some(in_at) = tokens.iter().position(|t| is_ident(Some(t), "in")) else {
            return Err(Error::new(
                keyword.span(),
                "expected `@for pattern in iterator { … }`",
            ));
        };
        let pattern: TokenStream = tokens[..in_at].iter().cloned().collect();
        let mut parts = split_options(&tokens[in_at + 1..]);
        let iter = parts.remove(0).1;
        let mut key = None;
        let mut memo = None;
        for (name, value) in parts {
            match name.as_deref() {
                Some("key") => key = Some(value),
                Some("memo") => memo = Some(value),
                _ => {
                    return Err(Error::new(
                        keyword.span(),
                        "`@for` options are `key = …` and `memo = …`",
                    ))
                }
            }
        }
        if pattern.is_empty() || iter.is_empty() {
            return Err(Error::new(
                keyword.span(),
                "expected `@for pattern in iterator { … }`",
            ));
        }
        let site = site_of(keyword.span());
        Ok(Node::For(For {
            pattern,
            iter,
            key,
            memo,
            body: body_nodes(&body, self.base)?,
            site,
        }))
    }
}

/// Where a `for` or a `memo` is in the program: its file, line and column,
/// hashed. The file counts: two `for`s at the same line and column of two
/// files must not take each other's entries.
fn site_of(span: Span) -> u64 {
    let start = span.start();
    crate::codegen::fingerprint(
        &[
            span.file(),
            start.line.to_string(),
            start.column.to_string(),
        ],
        false,
    )
}

/// Splits `iter, key = a, memo = b` into the iterator and named options.
fn split_options(tokens: &[TokenTree]) -> Vec<(Option<String>, TokenStream)> {
    let mut parts = vec![(None, TokenStream::new())];
    let mut i = 0;
    while i < tokens.len() {
        let option = is_punct(tokens.get(i), ',')
            && matches!(tokens.get(i + 1), Some(TokenTree::Ident(n)) if n == "key" || n == "memo")
            && is_punct(tokens.get(i + 2), '=');
        if option {
            parts.push((Some(tokens[i + 1].to_string()), TokenStream::new()));
            i += 3;
            continue;
        }
        if let Some(last) = parts.last_mut() {
            last.1.extend([tokens[i].clone()]);
        }
        i += 1;
    }
    parts
}

/// `Card` or `ui::Card` as a path, every segment spanned at the tag name.
fn component_path(name: &str, span: Span) -> Result<TokenStream> {
    let mut path = TokenStream::new();
    for (i, segment) in name.split("::").enumerate() {
        if syn::parse_str::<Ident>(segment).is_err() {
            return Err(Error::new(
                span,
                format!("`{name}` is not a component path"),
            ));
        }
        if i > 0 {
            path.extend(quote::quote!(::));
        }
        path.extend([TokenTree::Ident(Ident::new(segment, span))]);
    }
    Ok(path)
}

fn body_nodes(group: &Group, base: usize) -> Result<Vec<Node>> {
    let mut parser = Parser::new(group.stream(), None, base);
    parser.children(&Parent::Root)
}

fn block(group: &Group) -> Result<Node> {
    if group.stream().is_empty() {
        return Err(Error::new(
            group.span(),
            "empty `{}`: put an expression inside",
        ));
    }
    Ok(Node::Block(group.stream(), group.span()))
}

/// The expression of `{..expr}`.
fn spread(group: &Group) -> Result<TokenStream> {
    let mut tokens = group.stream().into_iter();
    let dots = (tokens.next(), tokens.next());
    match dots {
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == '.' && b.as_char() == '.' => {
            let rest: TokenStream = tokens.collect();
            if rest.is_empty() {
                return Err(Error::new(group.span(), "expected an expression after `..`"));
            }
            Ok(rest)
        }
        _ => Err(Error::new(
            group.span(),
            "inside a tag, `{…}` must spread attributes: write `{..attrs}`, or `name={value}` for one attribute",
        )),
    }
}

fn push_html(nodes: &mut Vec<Node>, text: &str) {
    if let Some(Node::Html(last)) = nodes.last_mut() {
        last.push_str(text);
    } else {
        nodes.push(Node::Html(text.to_owned()));
    }
}

/// A bare token as HTML text, with the spacing inside groups kept.
fn token_text(token: &TokenTree, out: &mut String, base: usize) {
    match token {
        TokenTree::Ident(i) => out.push_str(&ident_text(i)),
        TokenTree::Literal(l) => out.push_str(&l.to_string()),
        TokenTree::Punct(p) => out.push(p.as_char()),
        TokenTree::Group(g) => {
            let (open, close) = match g.delimiter() {
                Delimiter::Parenthesis => ("(", ")"),
                Delimiter::Bracket => ("[", "]"),
                Delimiter::Brace => ("{", "}"),
                Delimiter::None => ("", ""),
            };
            out.push_str(open);
            let mut last = g.span_open().end();
            for inner in g.stream() {
                out.push_str(&gap(last, start_of(&inner), base));
                token_text(&inner, out, base);
                last = end_of(&inner);
            }
            out.push_str(&gap(last, g.span_close().start(), base));
            out.push_str(close);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> LineColumn {
        LineColumn { line, column }
    }

    #[test]
    fn gaps_on_one_line_are_spaces() {
        assert_eq!(gap(at(1, 4), at(1, 4), 0), "");
        assert_eq!(gap(at(1, 4), at(1, 7), 0), "   ");
    }

    #[test]
    fn gaps_across_lines_keep_indentation_from_the_base() {
        assert_eq!(gap(at(1, 20), at(2, 12), 8), "\n    ");
        assert_eq!(gap(at(1, 20), at(3, 8), 8), "\n\n");
    }

    #[test]
    fn for_options_split_at_top_level_commas_only() {
        let tokens: Vec<TokenTree> = "rows.iter().map(|(a, b)| a), key = row.id, memo = (1, 2)"
            .parse::<TokenStream>()
            .unwrap()
            .into_iter()
            .collect();
        let parts = split_options(&tokens);
        let names: Vec<_> = parts.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(names, [None, Some("key".into()), Some("memo".into())]);
        assert_eq!(parts[1].1.to_string(), "row . id");
    }
}
