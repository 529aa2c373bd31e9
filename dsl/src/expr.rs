//! Checking and expanding one term's expression: names, ranks and derivative needs are resolved
//! in one walk that emits the closure body (`Var` code on the `Eval` of the term).

use crate::check::{Errors, NeedKey, NeedSet, Rank, Scope};
use crate::expand::{ids, Sigmas};
use crate::parse::{BinOp, Expr};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

/// Emitted code: an `f64` expression (folded by rustc) or a `Var` expression.
#[derive(Clone)]
pub enum Code {
    Const(TokenStream),
    Var(TokenStream),
}

/// A checked value.
#[derive(Clone)]
pub struct Val {
    pub rank: Rank,
    pub code: Code,
}

impl Val {
    fn var(rank: Rank, code: TokenStream) -> Val {
        Val {
            rank,
            code: Code::Var(code),
        }
    }
    fn unknown() -> Val {
        Val::var(Rank::Unknown, quote!(::core::unreachable!()))
    }
    /// The value as a `Var` on the term's tape.
    pub fn to_var(&self) -> TokenStream {
        let ev = ids::ev();
        match &self.code {
            Code::Var(t) => t.clone(),
            Code::Const(c) => quote!(#ev.constant(#c)),
        }
    }
}

/// The state of one term while it is checked and expanded.
pub struct TermCx<'s, 'a> {
    pub scope: &'s Scope<'a>,
    pub errors: &'s mut Errors,
    pub sigmas: &'s mut Sigmas,
    pub needs: NeedSet,
    /// Rust `{ … }` scalars of this term, evaluated once when the problem is built.
    pub consts: Vec<TokenStream>,
    /// σ blocks used by this term's closure.
    pub used_sigmas: Vec<usize>,
}

impl TermCx<'_, '_> {
    fn fail(&mut self, e: syn::Error) -> Val {
        self.errors.add(e);
        Val::unknown()
    }

    /// Checks and expands `e`.
    pub fn expr(&mut self, e: &Expr) -> Val {
        match e {
            Expr::Num(n) => Val {
                rank: Rank::Const,
                code: Code::Const(quote!(#n)),
            },
            Expr::Rust { tokens, .. } => {
                let k = ids::konst(self.consts.len());
                self.consts.push(tokens.clone());
                Val {
                    rank: Rank::Const,
                    code: Code::Const(quote!(#k)),
                }
            }
            Expr::Name(id) => self.name(id),
            Expr::Index { base, index, span } => self.index(base, *index, *span),
            Expr::Neg { expr, .. } => {
                let v = self.expr(expr);
                let code = match v.code {
                    Code::Const(c) => Code::Const(quote!((-#c))),
                    Code::Var(c) => Code::Var(quote!((-#c))),
                };
                Val { rank: v.rank, code }
            }
            Expr::Bin { lhs, op, span, rhs } => {
                let (a, b) = (self.expr(lhs), self.expr(rhs));
                self.binary(a, *op, *span, b)
            }
            Expr::Call { func, args } => self.call(func, args),
        }
    }

    fn name(&mut self, id: &Ident) -> Val {
        use crate::check::Entity;
        if id == "PI" {
            return Val {
                rank: Rank::Const,
                code: Code::Const(quote!(::core::f64::consts::PI)),
            };
        }
        let ev = ids::ev();
        match self.scope.lookup(id) {
            Err(e) => self.fail(e),
            Ok(Entity::Coord(c)) => {
                let rank = if self.scope.is_interval(c) {
                    Rank::Scalar
                } else {
                    Rank::Vector(self.scope.coord_dim(c))
                };
                let cid = ids::coord(c);
                Val::var(rank, quote!(#ev.coord(#cid)))
            }
            Ok(Entity::Param(p)) => {
                let pid = ids::param(p);
                // A conditioning input varies per point; a `given` value is one Var supplied at
                // evaluation time (e.g. log Z) and broadcasts like a constant.
                let given = self.scope.st.params[p].range.is_none();
                Val::var(
                    if given { Rank::Const } else { Rank::Scalar },
                    quote!(#ev.param(#pid)),
                )
            }
            Ok(Entity::Field(f)) => {
                let rank = self.scope.components(f).map_or(Rank::Scalar, Rank::Vector);
                self.need_val(NeedKey::Value(f), rank)
            }
            Ok(Entity::Function(_)) => self.fail(syn::Error::new(
                id.span(),
                format!("`{id}` is a function: call it as `{id}(…)`"),
            )),
        }
    }

    fn index(&mut self, base: &Expr, index: usize, span: Span) -> Val {
        let v = self.expr(base);
        match v.rank {
            Rank::Vector(k) if index >= k => self.fail(syn::Error::new(
                span,
                format!("component {index} is out of range: a vector of {k} components has indices 0..{k}"),
            )),
            Rank::Vector(_) | Rank::Unknown => {
                let x = v.to_var();
                Val::var(if v.rank == Rank::Unknown { Rank::Unknown } else { Rank::Scalar }, quote!(__pg_component(#x, #index)))
            }
            _ => self.fail(syn::Error::new(
                span,
                format!("cannot index {}: `[i]` selects a component of a vector", v.rank.describe()),
            )),
        }
    }

    fn binary(&mut self, a: Val, op: BinOp, span: Span, b: Val) -> Val {
        let additive = matches!(op, BinOp::Add | BinOp::Sub);
        if additive && !a.rank.agrees(b.rank) {
            let verb = if op == BinOp::Add { "add" } else { "subtract" };
            return self.fail(syn::Error::new(
                span,
                format!(
                    "rank mismatch: cannot {verb} {} and {}; `+` and `-` need equal ranks \
                     (a scalar equation needs scalar terms: did you mean dot(…), div(…) or lap(…)?)",
                    a.rank.describe(),
                    b.rank.describe()
                ),
            ));
        }
        if let (Rank::Vector(k), Rank::Vector(m)) = (a.rank, b.rank) {
            if k != m {
                return self.fail(syn::Error::new(
                    span,
                    format!(
                        "rank mismatch: a vector of {k} components and a vector of {m} components"
                    ),
                ));
            }
        }
        let rank = a.rank.join(b.rank);
        let o = match op {
            BinOp::Add => quote!(+),
            BinOp::Sub => quote!(-),
            BinOp::Mul => quote!(*),
            BinOp::Div => quote!(/),
        };
        let code = match (&a.code, &b.code) {
            (Code::Const(x), Code::Const(y)) => Code::Const(quote!((#x #o #y))),
            (Code::Const(x), Code::Var(y)) | (Code::Var(x), Code::Const(y)) => {
                Code::Var(quote!((#x #o #y)))
            }
            (Code::Var(x), Code::Var(y)) => {
                Code::Var(quote!({ let (__pg_l, __pg_r) = __pg_align(#x, #y); __pg_l #o __pg_r }))
            }
        };
        Val { rank, code }
    }

    fn arity(&mut self, func: &Ident, args: &[Expr], n: usize, usage: &str) -> bool {
        if args.len() == n {
            return true;
        }
        let s = if n == 1 { "" } else { "s" };
        self.errors.push(
            func.span(),
            format!("`{func}` takes {n} argument{s}: {usage}"),
        );
        false
    }

    fn call(&mut self, func: &Ident, args: &[Expr]) -> Val {
        let name = func.to_string();
        match name.as_str() {
            "d" | "d2" => self.derivative(func, args),
            "grad" | "div" | "lap" => self.field_operator(func, args),
            "fokker_planck" | "continuity" | "hjb" => self.builtin(func, args),
            "dot" | "norm" | "sum" | "mean" | "pow" => self.reduction(func, args),
            "sin" | "cos" | "exp" | "log" | "tanh" | "sqrt" | "abs" | "sigmoid" => {
                if !self.arity(func, args, 1, &format!("{name}(x)")) {
                    return Val::unknown();
                }
                let v = self.expr(&args[0]);
                let code = match (&v.code, name.as_str()) {
                    (Code::Const(c), "sigmoid") => {
                        Code::Const(quote!((1.0 / (1.0 + (-(#c)).exp()))))
                    }
                    (Code::Const(c), "log") => Code::Const(quote!(f64::ln(#c))),
                    (Code::Const(c), _) => Code::Const(quote!(f64::#func(#c))),
                    (Code::Var(c), "log") => Code::Var(quote!(#c.ln())),
                    (Code::Var(c), _) => Code::Var(quote!(#c.#func())),
                };
                Val { rank: v.rank, code }
            }
            _ => self.user_call(func, args),
        }
    }

    fn user_call(&mut self, func: &Ident, args: &[Expr]) -> Val {
        let decl = self.scope.st.functions.iter().find(|f| f.name == *func);
        let Some(with_eval) = decl.map(|f| f.with_eval) else {
            let e = self.scope.unknown_operator(func);
            return self.fail(e);
        };
        let vals: Vec<TokenStream> = args.iter().map(|a| self.expr(a).to_var()).collect();
        let ev = ids::ev();
        let code = if with_eval {
            quote!(#func(#ev, #(#vals),*))
        } else {
            quote!(#func(#(#vals),*))
        };
        Val::var(Rank::Unknown, code)
    }

    /// `dot`, `norm`, `sum`, `mean`, `pow`.
    fn reduction(&mut self, func: &Ident, args: &[Expr]) -> Val {
        let name = func.to_string();
        let n = if matches!(name.as_str(), "dot" | "pow") {
            2
        } else {
            1
        };
        let usage = match name.as_str() {
            "dot" => "dot(a, b) with two vectors",
            "pow" => "pow(base, exponent)",
            "norm" => "norm(v) with a vector v",
            _ => "a single expression",
        };
        if !self.arity(func, args, n, usage) {
            return Val::unknown();
        }
        let vals: Vec<Val> = args.iter().map(|a| self.expr(a)).collect();
        let a = &vals[0];
        match name.as_str() {
            "sum" | "mean" => {
                let code = match &a.code {
                    Code::Const(c) => Code::Const(c.clone()),
                    Code::Var(v) => Code::Var(quote!(#v.#func())),
                };
                Val {
                    rank: if a.rank == Rank::Const {
                        Rank::Const
                    } else {
                        Rank::Scalar
                    },
                    code,
                }
            }
            "pow" => {
                let b = &vals[1];
                let code = match (&a.code, &b.code) {
                    (Code::Const(x), Code::Const(y)) => Code::Const(quote!(f64::powf(#x, #y))),
                    (Code::Var(x), Code::Const(y)) => Code::Var(quote!(#x.powf(#y))),
                    _ => {
                        let (x, y) = (a.to_var(), b.to_var());
                        Code::Var(
                            quote!({ let (__pg_l, __pg_r) = __pg_align(#x, #y); __pg_l.pow(__pg_r) }),
                        )
                    }
                };
                Val {
                    rank: a.rank.join(b.rank),
                    code,
                }
            }
            _ => self.dot_norm(func, &vals),
        }
    }

    fn dot_norm(&mut self, func: &Ident, vals: &[Val]) -> Val {
        for v in vals {
            if matches!(v.rank, Rank::Scalar | Rank::Const) {
                let hint = if func == "norm" {
                    " (use abs(…) for a scalar)"
                } else {
                    " (use `*` for scalars)"
                };
                return self.fail(syn::Error::new(
                    func.span(),
                    format!(
                        "`{func}` needs vectors, but an argument is {}{hint}",
                        v.rank.describe()
                    ),
                ));
            }
        }
        let a = vals[0].to_var();
        if func == "norm" {
            return Val::var(
                Rank::Scalar,
                quote!({ let __pg_v = #a; __pg_dot(__pg_v, __pg_v).sqrt() }),
            );
        }
        if let (Rank::Vector(k), Rank::Vector(m)) = (vals[0].rank, vals[1].rank) {
            if k != m {
                return self.fail(syn::Error::new(
                    func.span(),
                    format!("`dot` of a vector of {k} components and a vector of {m} components"),
                ));
            }
        }
        let b = vals[1].to_var();
        Val::var(Rank::Scalar, quote!(__pg_dot(#a, #b)))
    }

    /// Registers a σ block (a Rust expression evaluating to a `Tensor`).
    pub fn sigma(&mut self, e: &Expr, func: &Ident) -> Option<usize> {
        let Expr::Rust { tokens, .. } = e else {
            self.errors.push(e.span(), format!("`{func}`: σ is a Rust expression of type `Tensor` in braces, e.g. `{{ sigma.clone() }}`"));
            return None;
        };
        let k = self.sigmas.index(tokens);
        if !self.used_sigmas.contains(&k) {
            self.used_sigmas.push(k);
        }
        Some(k)
    }
}
