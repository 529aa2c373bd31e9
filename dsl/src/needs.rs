//! The differential operators of the DSL: each checks its field and coordinate arguments and
//! records the derivative needs it reads (`d`, `grad`, `div`, `lap`, and the built-ins
//! `fokker_planck`, `continuity`, `hjb`). Nothing is differentiated symbolically: every need is a
//! request that the builder computes once per batch.

use crate::check::{NeedKey, Rank};
use crate::expand::ids;
use crate::expr::{TermCx, Val};
use crate::parse::Expr;
use quote::quote;
use syn::Ident;

/// A name with an optional component: `u`, `u[1]`.
fn named(e: &Expr) -> Option<(&Ident, Option<usize>)> {
    match e {
        Expr::Name(id) => Some((id, None)),
        Expr::Index { base, index, .. } => match &**base {
            Expr::Name(id) => Some((id, Some(*index))),
            _ => None,
        },
        _ => None,
    }
}

impl TermCx<'_, '_> {
    /// A field argument: `(field, component)`.
    fn field_arg(&mut self, e: &Expr, op: &Ident) -> Option<(usize, Option<usize>)> {
        let Some((id, comp)) = named(e) else {
            self.errors.push(
                e.span(),
                format!(
                    "`{op}` takes a declared field (or a component `u[i]`) here, not an expression: \
                     the macro never differentiates expressions symbolically"
                ),
            );
            return None;
        };
        match self.scope.field(id) {
            Ok(f) => Some((f, comp)),
            Err(err) => {
                self.errors.add(err);
                None
            }
        }
    }

    /// A coordinate argument: `(coord, component)`.
    fn coord_arg(&mut self, e: &Expr, op: &Ident) -> Option<(usize, Option<usize>)> {
        let Some((id, comp)) = named(e) else {
            self.errors
                .push(e.span(), format!("`{op}` takes a declared coordinate here"));
            return None;
        };
        match self.scope.coord(id) {
            Ok(c) => Some((c, comp)),
            Err(err) => {
                self.errors.add(err);
                None
            }
        }
    }

    /// One input column `(coord, component)` for `d`.
    fn column(&mut self, e: &Expr, op: &Ident) -> Option<(usize, usize)> {
        let (c, comp) = self.coord_arg(e, op)?;
        let name = &self.scope.st.coords[c].name;
        let dim = self.scope.coord_dim(c);
        match (self.scope.is_interval(c), comp) {
            (true, None) => Some((c, 0)),
            (true, Some(_)) => {
                self.errors.push(
                    e.span(),
                    format!("`{name}` is a scalar coordinate and has no components"),
                );
                None
            }
            (false, None) => {
                self.errors.push(
                    e.span(),
                    format!(
                        "`{name}` is a vector coordinate of {dim} components: name one, e.g. \
                         `{op}(…, {name}[0])`, or use grad(…, {name}) for all of them"
                    ),
                );
                None
            }
            (false, Some(i)) if i >= dim => {
                self.errors.push(
                    e.span(),
                    format!("component {i} is out of range: `{name}` has {dim} components"),
                );
                None
            }
            (false, Some(i)) => Some((c, i)),
        }
    }

    /// `d(u, x)`, `d(u, x, y)`, `d2(u, x, y)`: one first or second (pure or mixed) derivative.
    pub fn derivative(&mut self, func: &Ident, args: &[Expr]) -> Val {
        let second_only = func == "d2";
        if args.len() != 3 && (second_only || args.len() != 2) {
            let usage = if second_only {
                "`d2` takes 3 arguments: d2(u, x, y)"
            } else {
                "`d` takes 2 or 3 arguments: d(u, x) or d(u, x, y)"
            };
            return self.fail_at(func, usage.into());
        }
        let field = self.field_arg(&args[0], func);
        let cols: Vec<_> = args[1..].iter().map(|a| self.column(a, func)).collect();
        let Some((f, comp)) = field else {
            return self.unknown_val();
        };
        let fname = self.scope.st.fields[f].name.to_string();
        let comp = match (self.scope.components(f), comp) {
            (None, None) => 0,
            (None, Some(_)) => return self.fail_at_expr(&args[0], format!("`{fname}` is a scalar field and has no components")),
            (Some(k), None) => {
                return self.fail_at_expr(
                    &args[0],
                    format!("`{fname}` is a vector field of {k} components: differentiate one component, e.g. `{func}({fname}[0], …)`"),
                )
            }
            (Some(k), Some(i)) if i >= k => {
                return self.fail_at_expr(&args[0], format!("component {i} is out of range: `{fname}` has {k} components"))
            }
            (Some(_), Some(i)) => i,
        };
        let cols: Option<Vec<(usize, usize)>> = cols.into_iter().collect();
        let Some(cols) = cols else {
            return self.unknown_val();
        };
        let key = match cols[..] {
            [c] => NeedKey::D {
                field: f,
                comp,
                coord: c,
            },
            [a, b] => NeedKey::D2 {
                field: f,
                comp,
                a,
                b,
            },
            _ => unreachable!("arity checked above"),
        };
        self.need_val(key, Rank::Scalar)
    }

    /// A whole field and a whole coordinate, as `grad`, `div`, `lap` and the built-ins take them.
    fn whole(
        &mut self,
        field: &Expr,
        coord: &Expr,
        op: &Ident,
        vector: bool,
    ) -> Option<(usize, usize)> {
        let f = self.field_arg(field, op);
        let c = self.coord_arg(coord, op);
        let ((f, fcomp), (c, ccomp)) = (f?, c?);
        let fname = self.scope.st.fields[f].name.to_string();
        if fcomp.is_some() || ccomp.is_some() {
            let e = if fcomp.is_some() { field } else { coord };
            self.errors.push(
                e.span(),
                format!("`{op}` takes a whole field and a whole coordinate, not a component"),
            );
            return None;
        }
        let dim = self.scope.coord_dim(c);
        match (self.scope.components(f), vector) {
            (Some(k), false) => {
                let hint = if op == "grad" || op == "lap" {
                    format!("; did you mean div({fname}, …)?")
                } else {
                    String::new()
                };
                self.errors.push(field.span(), format!("`{op}` needs a scalar field, but `{fname}` is a vector field of {k} components{hint}"));
                None
            }
            (None, true) => {
                let hint = if op == "div" {
                    format!("; did you mean grad({fname}, …) or lap({fname}, …)?")
                } else {
                    String::new()
                };
                self.errors.push(
                    field.span(),
                    format!("`{op}` needs a vector field, but `{fname}` is a scalar field{hint}"),
                );
                None
            }
            (Some(k), true) if k != dim => {
                let cname = &self.scope.st.coords[c].name;
                self.errors.push(
                    field.span(),
                    format!("`{op}`: `{fname}` has {k} components but `{cname}` has {dim}"),
                );
                None
            }
            _ => Some((f, c)),
        }
    }

    /// `grad(u, x)` `[B, dim]`, `div(mu, x)` `[B]`, `lap(u, x)` `[B]`.
    pub fn field_operator(&mut self, func: &Ident, args: &[Expr]) -> Val {
        if args.len() != 2 {
            return self.fail_at(
                func,
                format!("`{func}` takes 2 arguments: {func}(field, coordinate)"),
            );
        }
        let vector = func == "div";
        let Some((field, coord)) = self.whole(&args[0], &args[1], func, vector) else {
            return self.unknown_val();
        };
        match func.to_string().as_str() {
            "grad" => self.need_val(
                NeedKey::Grad { field, coord },
                Rank::Vector(self.scope.coord_dim(coord)),
            ),
            "div" => self.need_val(NeedKey::Div { field, coord }, Rank::Scalar),
            _ => self.need_val(NeedKey::Lap { field, coord }, Rank::Scalar),
        }
    }

    /// `fokker_planck(v, mu, x, {σ})`, `continuity(v, mu, x)`, `hjb(phi, x, {σ})`: the operators of
    /// `physgrad::pde::operators` on the needs ∇ₓv, μ, div μ and tr(σσᵀ∇²v).
    pub fn builtin(&mut self, func: &Ident, args: &[Expr]) -> Val {
        let name = func.to_string();
        let (n, usage) = match name.as_str() {
            "fokker_planck" => (4, "fokker_planck(v, mu, x, { sigma })"),
            "continuity" => (3, "continuity(v, mu, x)"),
            _ => (3, "hjb(phi, x, { sigma })"),
        };
        if args.len() != n {
            return self.fail_at(func, format!("`{func}` takes {n} arguments: {usage}"));
        }
        let ops = quote!(::physgrad::pde::operators);
        if name == "hjb" {
            return self.hjb(func, args);
        }
        let v = self.whole(&args[0], &args[2], func, false);
        let mu = self.whole(&args[1], &args[2], func, true);
        let sigma = if n == 4 {
            self.sigma(&args[3], func).map(Some)
        } else {
            Some(None)
        };
        let (Some((v, x)), Some((mu, _)), Some(sigma)) = (v, mu, sigma) else {
            return self.unknown_val();
        };
        let g = self
            .need_val(NeedKey::Grad { field: v, coord: x }, Rank::Scalar)
            .to_var();
        let m = self.need_val(NeedKey::Value(mu), Rank::Scalar).to_var();
        let dv = self
            .need_val(
                NeedKey::Div {
                    field: mu,
                    coord: x,
                },
                Rank::Scalar,
            )
            .to_var();
        let code = match sigma {
            None => quote!(#ops::continuity(#g, #m, #dv)),
            Some(s) => {
                let tr = self
                    .need_val(
                        NeedKey::Diffusion {
                            field: v,
                            coord: x,
                            sigma: s,
                        },
                        Rank::Scalar,
                    )
                    .to_var();
                let sid = ids::sigma_local(s);
                quote!(#ops::fokker_planck(#g, #m, #dv, ::core::option::Option::Some(&#sid), ::core::option::Option::Some(#tr)))
            }
        };
        Val {
            rank: Rank::Scalar,
            code: crate::expr::Code::Var(code),
        }
    }

    /// `hjb(phi, x, {σ})`: `−½‖∇Φ‖² − ½ tr(σσᵀ∇²Φ)` on the needs `Grad` and `Diffusion`.
    fn hjb(&mut self, func: &Ident, args: &[Expr]) -> Val {
        let ops = quote!(::physgrad::pde::operators);
        let phi = self.whole(&args[0], &args[1], func, false);
        let sigma = self.sigma(&args[2], func);
        let (Some((phi, x)), Some(s)) = (phi, sigma) else {
            return self.unknown_val();
        };
        let g = self
            .need_val(
                NeedKey::Grad {
                    field: phi,
                    coord: x,
                },
                Rank::Vector(1),
            )
            .to_var();
        let tr = self
            .need_val(
                NeedKey::Diffusion {
                    field: phi,
                    coord: x,
                    sigma: s,
                },
                Rank::Scalar,
            )
            .to_var();
        Val {
            rank: Rank::Scalar,
            code: crate::expr::Code::Var(quote!(#ops::hjb(#g, #tr))),
        }
    }

    /// A term-level need as a value (panics never: the index was just inserted).
    pub fn need_val(&mut self, key: NeedKey, rank: Rank) -> Val {
        let i = self.needs.index(key);
        let (ev, n) = (ids::ev(), ids::needs());
        Val {
            rank,
            code: crate::expr::Code::Var(quote!(#ev.get(&#n[#i]))),
        }
    }

    fn fail_at(&mut self, func: &Ident, message: String) -> Val {
        self.errors.push(func.span(), message);
        self.unknown_val()
    }

    fn fail_at_expr(&mut self, e: &Expr, message: String) -> Val {
        self.errors.push(e.span(), message);
        self.unknown_val()
    }

    fn unknown_val(&self) -> Val {
        Val {
            rank: Rank::Unknown,
            code: crate::expr::Code::Var(quote!(::core::unreachable!())),
        }
    }
}
