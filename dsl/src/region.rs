//! Where a term holds: the `at …` clause of conditions (`Region`) and the `in x: needs` list of
//! periodic terms.

use crate::check::{Errors, NeedKey, Scope};
use crate::expand::ids;
use crate::expr::TermCx;
use crate::parse::{At, Expr, Term, TermKind};
use proc_macro2::TokenStream;
use quote::quote;

/// The `Region` of a condition, checked against the declared coordinates; `None` for interior
/// terms (or after an error).
pub fn region(scope: &Scope, t: &Term, errors: &mut Errors) -> Option<TokenStream> {
    let p = quote!(::physgrad::problem);
    let kw = &t.keyword;
    match (t.kind, &t.at) {
        (TermKind::Residual | TermKind::Invariance, None) => None,
        (TermKind::Residual | TermKind::Invariance, Some(_)) => {
            errors.push(kw.span(), format!("`{kw}` holds on the whole domain: `at …` is for `initial` and `boundary` terms"));
            None
        }
        (TermKind::Periodic, Some(At::Periodic(c))) => {
            let ok = coord(scope, c, errors).filter(|&i| interval(scope, i, c, errors));
            ok.map(|_| TokenStream::new())
        }
        (TermKind::Initial | TermKind::Boundary, None) => {
            errors.push(t.name.span(), format!("`{kw}` needs a region, e.g. `at t = lo`, `at x = hi`, `at x` or `at all except t`"));
            None
        }
        (TermKind::Initial, Some(at)) if !matches!(at, At::Face { .. }) => {
            errors.push(
                kw.span(),
                "an initial condition holds on one face: write `at t = lo`",
            );
            None
        }
        (_, Some(At::Face { coord: c, side })) => face(scope, c, side, errors),
        (_, Some(At::Faces(c))) => {
            let i = coord(scope, c, errors)?;
            if !bounded(scope, i, c, errors) {
                return None;
            }
            let others = (0..scope.st.coords.len())
                .filter(|&j| j != i)
                .map(ids::coord);
            Some(quote!(#p::Region::AllFacesExcept(::std::vec![#(#others),*])))
        }
        (_, Some(At::All { all, except })) => {
            let ids: Vec<usize> = except
                .iter()
                .filter_map(|c| coord(scope, c, errors))
                .collect();
            if ids.len() != except.len() {
                return None;
            }
            if (0..scope.st.coords.len()).all(|j| ids.contains(&j) || !scope.is_bounded(j)) {
                errors.push(
                    all.span(),
                    "no face is left: every bounded coordinate is excluded",
                );
                return None;
            }
            let ids = ids.into_iter().map(ids::coord);
            Some(quote!(#p::Region::AllFacesExcept(::std::vec![#(#ids),*])))
        }
        (_, Some(At::Periodic(_))) | (TermKind::Periodic, None) => {
            unreachable!("the parser pairs `in` with periodic terms")
        }
    }
}

/// `at c = lo|hi`: one face of an interval coordinate.
fn face(
    scope: &Scope,
    c: &syn::Ident,
    side: &syn::Ident,
    errors: &mut Errors,
) -> Option<TokenStream> {
    let p = quote!(::physgrad::problem);
    let i = coord(scope, c, errors)?;
    let side = match side.to_string().as_str() {
        "lo" => quote!(#p::Side::Lo),
        "hi" => quote!(#p::Side::Hi),
        s => {
            errors.push(
                side.span(),
                format!("unknown boundary `{s}` of `{c}`: an interval has the faces `lo` and `hi`"),
            );
            return None;
        }
    };
    if !interval(scope, i, c, errors) {
        return None;
    }
    let id = ids::coord(i);
    Some(quote!(#p::Region::Face(#id, #side)))
}

fn coord(scope: &Scope, c: &syn::Ident, errors: &mut Errors) -> Option<usize> {
    match scope.coord(c) {
        Ok(i) => Some(i),
        Err(_) if scope.lookup(c).is_err() => {
            let hint = crate::check::suggest(
                &c.to_string(),
                scope
                    .st
                    .coords
                    .iter()
                    .map(|d| d.name.to_string())
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            );
            errors.push(
                c.span(),
                format!("condition on an undeclared coordinate `{c}`{hint}"),
            );
            None
        }
        Err(e) => {
            errors.add(e);
            None
        }
    }
}

fn interval(scope: &Scope, i: usize, c: &syn::Ident, errors: &mut Errors) -> bool {
    if scope.is_interval(i) {
        return true;
    }
    let what = if scope.is_bounded(i) {
        "a box: name its faces with `at c` or `at all`"
    } else {
        "unbounded (R^d) and has no boundary"
    };
    errors.push(
        c.span(),
        format!("`{c}` is not an interval coordinate: it is {what}"),
    );
    false
}

fn bounded(scope: &Scope, i: usize, c: &syn::Ident, errors: &mut Errors) -> bool {
    if scope.is_bounded(i) {
        return true;
    }
    errors.push(
        c.span(),
        format!("`{c}` is unbounded (R^d) and has no boundary"),
    );
    false
}

/// One entry of a periodic term's list: a field value or a single derivative need.
pub fn periodic_need(cx: &mut TermCx, e: &Expr) {
    let ok = match e {
        Expr::Name(id) => cx.scope.field(id).map(|f| {
            cx.needs.index(NeedKey::Value(f));
        }),
        Expr::Call { func, .. } if matches!(func.to_string().as_str(), "d" | "d2" | "grad" | "div" | "lap") => {
            cx.expr(e);
            Ok(())
        }
        _ => Err(syn::Error::new(e.span(), "a periodic term lists fields and derivatives (`u`, `d(u, x)`, `grad(u, x)`, …), not expressions")),
    };
    if let Err(err) = ok {
        cx.errors.add(err);
    }
}
