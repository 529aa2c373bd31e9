//! Expansion of a checked statement into `::physgrad::problem` builder calls:
//!
//! ```text
//! { helpers; let mut p = Problem::new(name); let c0 = p.coord(..); …; let f0 = p.scalar_field(..);
//!   let σ0: Tensor = { … };
//!   { let needs = vec![Need::…]; p.residual(name, w, needs, move |ev| lhs − rhs); } …
//!   p }
//! ```
//!
//! Generated locals use `Span::mixed_site()`, so they cannot collide with the user's names and
//! user code in `{ … }` blocks cannot see them.

use crate::check::{Errors, NeedKey, NeedSet, Rank, Scope};
use crate::expr::TermCx;
use crate::parse::{At, DomainDecl, Statement, Term, TermKind, Weight};
use proc_macro2::TokenStream;
use quote::quote;

/// Names of generated locals.
pub mod ids {
    use proc_macro2::{Ident, Span};
    fn id(s: String) -> Ident {
        Ident::new(&s, Span::mixed_site())
    }
    pub fn problem() -> Ident {
        id("__pg_problem".into())
    }
    pub fn ev() -> Ident {
        id("__pg_ev".into())
    }
    pub fn needs() -> Ident {
        id("__pg_needs".into())
    }
    pub fn coord(i: usize) -> Ident {
        id(format!("__pg_coord{i}"))
    }
    pub fn param(i: usize) -> Ident {
        id(format!("__pg_param{i}"))
    }
    pub fn field(i: usize) -> Ident {
        id(format!("__pg_field{i}"))
    }
    /// A σ tensor, built once per statement.
    pub fn sigma(i: usize) -> Ident {
        id(format!("__pg_sigma{i}"))
    }
    /// A term's own clone of σ, moved into its closure.
    pub fn sigma_local(i: usize) -> Ident {
        id(format!("__pg_sigma_local{i}"))
    }
    /// A `{ … }` scalar of a term.
    pub fn konst(i: usize) -> Ident {
        id(format!("__pg_const{i}"))
    }
}

/// The σ blocks of a statement, deduplicated by their tokens.
#[derive(Default)]
pub struct Sigmas(pub Vec<TokenStream>);

impl Sigmas {
    pub fn index(&mut self, tokens: &TokenStream) -> usize {
        let key = tokens.to_string();
        if let Some(i) = self.0.iter().position(|t| t.to_string() == key) {
            return i;
        }
        self.0.push(tokens.clone());
        self.0.len() - 1
    }
}

/// Expands a parsed statement, or returns all its errors combined.
pub fn statement(st: &Statement) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let scope = Scope::build(st, &mut errors);
    let mut sigmas = Sigmas::default();
    let terms: Vec<TokenStream> = st
        .terms
        .iter()
        .map(|t| term(&scope, t, &mut errors, &mut sigmas))
        .collect();
    if let Some(e) = errors.finish() {
        return Err(e);
    }
    let pb = ids::problem();
    let p = quote!(::physgrad::problem);
    let name = &st.name;
    let coords = st.coords.iter().enumerate().map(|(i, c)| {
        let (id, n) = (ids::coord(i), c.name.to_string());
        let domain = match &c.domain {
            DomainDecl::Interval(lo, hi) => quote!(#p::Domain::Interval(#lo, #hi)),
            DomainDecl::Box(r) => {
                let (lo, hi): (Vec<_>, Vec<_>) = r.iter().cloned().unzip();
                quote!(#p::Domain::Box(::std::vec![#((#lo, #hi)),*]))
            }
            DomainDecl::Real(d) => quote!(#p::Domain::Real(#d)),
        };
        quote!(let #id = #pb.coord(#n, #domain);)
    });
    let params = st.params.iter().enumerate().map(|(i, a)| {
        let (id, n) = (ids::param(i), a.name.to_string());
        let kind = match &a.range {
            Some((lo, hi)) => quote!(#p::ParamKind::Input { lo: #lo, hi: #hi }),
            None => quote!(#p::ParamKind::Given),
        };
        quote!(let #id = #pb.param(#n, #kind);)
    });
    let fields = st.fields.iter().enumerate().map(|(i, f)| {
        let (id, n) = (ids::field(i), f.name.to_string());
        match f.components {
            None => quote!(let #id = #pb.scalar_field(#n);),
            Some(k) => quote!(let #id = #pb.vector_field(#n, #k);),
        }
    });
    let sigma_lets = sigmas.0.iter().enumerate().map(|(i, t)| {
        let id = ids::sigma(i);
        quote!(let #id: ::physgrad::Tensor = { #t };)
    });
    Ok(quote!({
        #HELPERS
        let mut #pb = #p::Problem::new(#name);
        #(#coords)* #(#params)* #(#fields)* #(#sigma_lets)*
        #(#terms)*
        #pb
    }))
}

/// Runtime helpers shared by the closures of one statement (components, per-point dot, and
/// broadcasting a per-point scalar against a per-point vector).
const HELPERS: Helpers = Helpers;
struct Helpers;

impl quote::ToTokens for Helpers {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(quote! {
            /// Component `i` of the last axis, dropping that axis.
            #[allow(dead_code)]
            fn __pg_component<'t>(v: ::physgrad::Var<'t>, i: usize) -> ::physgrad::Var<'t> {
                let shape = v.shape();
                let last = shape.len() - 1;
                v.slice(last, i..i + 1).reshape(&shape[..last])
            }
            /// Sum over the last axis of `a ⊙ b` (a per-point dot product).
            #[allow(dead_code)]
            fn __pg_dot<'t>(a: ::physgrad::Var<'t>, b: ::physgrad::Var<'t>) -> ::physgrad::Var<'t> {
                let last = a.ndim().max(b.ndim()) - 1;
                (a * b).sum_axes(&[last], false)
            }
            /// Gives the operand with one axis fewer a trailing unit axis (per-point scalar ⊙ vector).
            #[allow(dead_code)]
            fn __pg_align<'t>(a: ::physgrad::Var<'t>, b: ::physgrad::Var<'t>) -> (::physgrad::Var<'t>, ::physgrad::Var<'t>) {
                let unsqueeze = |v: ::physgrad::Var<'t>| {
                    let mut s = v.shape().to_vec();
                    s.push(1);
                    v.reshape(&s)
                };
                match (a.ndim(), b.ndim()) {
                    (m, n) if m > 0 && m + 1 == n => (unsqueeze(a), b),
                    (m, n) if n > 0 && n + 1 == m => (a, unsqueeze(b)),
                    _ => (a, b),
                }
            }
        });
    }
}

fn weight(t: &Term) -> TokenStream {
    match &t.weight {
        None => quote!(1.0f64),
        Some(Weight::Lit(n)) => quote!(#n),
        Some(Weight::Rust(r)) => quote!({ let w: f64 = { #r }; w }),
    }
}

/// The need list of a term as `Need` values.
fn need_tokens(needs: &NeedSet) -> Vec<TokenStream> {
    let p = quote!(::physgrad::problem);
    needs
        .0
        .iter()
        .map(|k| match *k {
            NeedKey::Value(f) => {
                let f = ids::field(f);
                quote!(#p::Need::Value(#f))
            }
            NeedKey::D { field, comp, coord: (c, k) } => {
                let (f, c) = (ids::field(field), ids::coord(c));
                quote!(#p::Need::D { field: #f, field_comp: #comp, coord: #c, component: #k })
            }
            NeedKey::D2 { field, comp, a: (ca, ka), b: (cb, kb) } => {
                let (f, ca, cb) = (ids::field(field), ids::coord(ca), ids::coord(cb));
                quote!(#p::Need::D2 { field: #f, field_comp: #comp, a: (#ca, #ka), b: (#cb, #kb) })
            }
            NeedKey::Grad { field, coord } => {
                let (f, c) = (ids::field(field), ids::coord(coord));
                quote!(#p::Need::Grad { field: #f, coord: #c })
            }
            NeedKey::Div { field, coord } => {
                let (f, c) = (ids::field(field), ids::coord(coord));
                quote!(#p::Need::Div { field: #f, coord: #c })
            }
            NeedKey::Lap { field, coord } => {
                let (f, c) = (ids::field(field), ids::coord(coord));
                quote!(#p::Need::Lap { field: #f, coord: #c })
            }
            NeedKey::Diffusion { field, coord, sigma } => {
                let (f, c, s) = (ids::field(field), ids::coord(coord), ids::sigma(sigma));
                quote!(#p::Need::Diffusion { field: #f, coord: #c, sigma: ::core::clone::Clone::clone(&#s) })
            }
        })
        .collect()
}

/// Checks and expands one term into a block that registers it on the problem.
fn term(scope: &Scope, t: &Term, errors: &mut Errors, sigmas: &mut Sigmas) -> TokenStream {
    let region = crate::region::region(scope, t, errors);
    let mut cx = TermCx {
        scope,
        errors,
        sigmas,
        needs: NeedSet::default(),
        consts: vec![],
        used_sigmas: vec![],
    };
    let (pb, n, ev) = (ids::problem(), ids::needs(), ids::ev());
    let (name, w) = (t.name.to_string(), weight(t));
    if t.kind == TermKind::Periodic {
        for e in &t.lhs {
            crate::region::periodic_need(&mut cx, e);
        }
        let needs = need_tokens(&cx.needs);
        let Some(At::Periodic(c)) = &t.at else {
            return TokenStream::new();
        };
        let Ok(c) = scope.coord(c) else {
            return TokenStream::new();
        };
        let c = ids::coord(c);
        return quote!(#pb.periodic(#name, #w, #c, ::std::vec![#(#needs),*]););
    }
    let lhs = cx.expr(&t.lhs[0]);
    let body = match &t.rhs {
        None => lhs,
        Some((eq, rhs)) => {
            let rhs = cx.expr(rhs);
            if !lhs.rank.agrees(rhs.rank) {
                cx.errors.push(
                    *eq,
                    format!(
                        "{} `{}` of the wrong rank: the left side is {} but the right side is {}",
                        t.keyword,
                        t.name,
                        lhs.rank.describe(),
                        rhs.rank.describe()
                    ),
                );
            }
            let (l, r) = (lhs.to_var(), rhs.to_var());
            let rank = lhs.rank.join(rhs.rank);
            crate::expr::Val {
                rank,
                code: crate::expr::Code::Var(quote!((#l - #r))),
            }
        }
    };
    if body.rank == Rank::Const {
        cx.errors.push(
            t.name.span(),
            format!("term `{}` does not depend on any field", t.name),
        );
    }
    let code = body.to_var();
    let needs = need_tokens(&cx.needs);
    let consts = cx.consts.iter().enumerate().map(|(i, c)| {
        let k = ids::konst(i);
        quote!(let #k: f64 = { #c };)
    });
    let sigma_clones = cx.used_sigmas.iter().map(|&s| {
        let (l, g) = (ids::sigma_local(s), ids::sigma(s));
        quote!(let #l = ::core::clone::Clone::clone(&#g);)
    });
    let call = match (t.kind, region) {
        (TermKind::Residual, _) => {
            quote!(#pb.residual(#name, #w, ::std::vec![#(#needs),*], move |#ev| #code))
        }
        (TermKind::Invariance, _) => {
            quote!(#pb.invariance(#name, #w, ::std::vec![#(#needs),*], move |#ev| #code))
        }
        (_, Some(region)) => {
            quote!(#pb.condition(#name, #w, #region, ::std::vec![#(#needs),*], move |#ev| #code))
        }
        (_, None) => return TokenStream::new(),
    };
    quote!({
        #(#consts)*
        #(#sigma_clones)*
        let #n: ::std::vec::Vec<::physgrad::problem::Need> = ::std::vec![#(#needs),*];
        #call;
    })
}
