//! Interpolated values cannot inject markup: text, attribute values and
//! attribute names carrying XSS payloads come out inert.

use cinder::{diff, html, Raw};

const PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "' onmouseover='alert(1)",
    "</textarea><svg onload=alert(1)>",
    "&lt;already-escaped&gt;",
    "javascript:alert(1)//\"'<>&",
];

/// What a payload became can neither end the text or attribute value it sits
/// in nor open a tag: none of the characters that could do so survive.
fn assert_inert(fragment: &str, payload: &str) {
    for c in ['<', '>', '"', '\''] {
        assert!(
            !fragment.contains(c),
            "{payload:?} kept a raw {c:?}: {fragment}"
        );
    }
}

#[test]
fn text_is_escaped() {
    for payload in PAYLOADS {
        let page = html! { <p>{payload}</p> };
        let escaped = cinder::escape::escape(payload);
        assert_inert(&escaped, payload);
        assert_eq!(page.to_html(), format!("<p>{escaped}</p>"));
    }
}

#[test]
fn text_is_escaped_in_the_diff_too() {
    let page = html! { <p>{"<script>alert(1)</script>"}</p> };
    assert_eq!(
        diff::render(&page).as_str(),
        r#"{"0":"&lt;script&gt;alert(1)&lt;/script&gt;","s":["<p>","</p>"],"r":1}"#
    );
}

#[test]
fn attribute_values_are_escaped() {
    for payload in PAYLOADS {
        let page = html! { <a title={payload} href={*payload}>link</a> };
        let escaped = cinder::escape::escape(payload);
        assert_inert(&escaped, payload);
        assert_eq!(
            page.to_html(),
            format!("<a title=\"{escaped}\" href=\"{escaped}\">link</a>")
        );
    }
}

#[test]
fn literal_text_and_attribute_values_are_escaped_at_compile_time() {
    let page = html! { <p title="a\"b<c>">"<b>not bold</b> & more"</p> };
    assert_eq!(
        page.to_html(),
        "<p title=\"a&quot;b&lt;c&gt;\">&lt;b&gt;not bold&lt;/b&gt; &amp; more</p>"
    );
}

#[test]
fn attribute_names_that_would_break_the_tag_are_dropped() {
    let attrs = vec![
        ("data-ok", "1"),
        ("onclick=alert(1) x", "y"),
        ("\"><script>alert(1)</script>", "z"),
        ("a b", "c"),
        ("aria-label", "\"><img src=x onerror=alert(1)>"),
    ];
    let page = html! { <div {..attrs}>x</div> };
    let out = page.to_html();
    assert_eq!(
        out.matches('<').count(),
        2,
        "only the template's own tags: {out}"
    );
    assert_eq!(
        out,
        "<div data-ok=\"1\" aria-label=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\">x</div>"
    );
}

#[test]
fn raw_is_the_only_way_to_skip_escaping() {
    let trusted = "<em>fine</em>";
    let page = html! { <p>{Raw(trusted)}{trusted}</p> };
    assert_eq!(
        page.to_html(),
        "<p><em>fine</em>&lt;em&gt;fine&lt;/em&gt;</p>"
    );
}

#[test]
fn script_and_style_literals_are_not_escaped() {
    let page = html! { <script>"if (a < b && c) { go(\"x\") }"</script> };
    assert_eq!(
        page.to_html(),
        "<script>if (a < b && c) { go(\"x\") }</script>"
    );
}
