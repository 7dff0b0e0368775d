//! Template mistakes are compile errors that point at the offending tokens.

#[test]
fn template_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
