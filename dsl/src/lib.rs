//! The `pde!` macro of physgrad: state a physics-informed problem the way a paper writes it, get
//! a compile error at your token when it is wrong, and get a [`physgrad::problem::Problem`] that
//! evaluates on neural fields and on grid fields.
//!
//! Depend on `physgrad` and write `physgrad::pde! { … }`; this crate is its implementation and
//! expands to paths under `::physgrad::problem`, so it cannot be used on its own. The grammar,
//! every operator and every compile error are documented in `docs/dsl.md` of the physgrad
//! repository.
//!
//! The macro never differentiates symbolically: for each term it collects the set of derivative
//! *needs* (`∂u/∂x`, `∇u`, `div μ`, `Δu`, `tr(σσᵀ∇²v)`, …), each once, and the builder computes
//! every need once per batch.
//!
//! [`physgrad::problem::Problem`]: https://docs.rs/physgrad

mod check;
mod expand;
mod expr;
mod needs;
mod parse;
mod parse_expr;
mod region;

use proc_macro::TokenStream;

/// States a problem declaratively and expands to a `physgrad::problem::Problem`.
///
/// ```ignore
/// let problem = physgrad::pde! {
///     name: "burgers";
///     coords { x in [0.0, 1.0], t in [0.0, 0.2] }
///     params { nu in [0.001, 0.05] }
///     fields { u: scalar }
///     residual momentum (weight = 1.0): d(u, t) + u * d(u, x) - nu * d(u, x, x) = 0;
///     initial ic at t = lo: u = -sin(PI * x);
///     boundary walls at x: u = 0;
/// };
/// ```
#[proc_macro]
pub fn pde(input: TokenStream) -> TokenStream {
    let statement = syn::parse_macro_input!(input as parse::Statement);
    match expand::statement(&statement) {
        Ok(tokens) => tokens.into(),
        Err(e) => {
            // Several `compile_error!`s in statement position, then a diverging tail, so the
            // expansion stays one expression and only the user's errors are reported.
            let errors = e.into_iter().map(|e| e.into_compile_error());
            quote::quote!({ #(#errors;)* ::core::unreachable!() }).into()
        }
    }
}
