//! Compile-error tests of `pde!`: each `ui/*.rs` is one user mistake, its `.stderr` the pinned
//! message at the user's token. The failing cases stop in the macro, so this test builds only
//! this crate (not physgrad). Re-pin after an intended message change with
//! `TRYBUILD=overwrite cargo test -p physgrad-dsl`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
