//! Compile-time behaviour of `#[actor]`: what compiles (`ui/pass`) and the error, at the
//! offending token, for what does not (`ui/fail`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
