//! The syntax tree of a `pde!` statement and its parser (syn 2, no semantic checks: names and
//! ranks are checked in [`crate::check`]).
//!
//! ```text
//! statement := "name" ":" STRING ";" section* term*
//! section   := "coords" "{" coord,* "}" | "params" "{" param,* "}"
//!            | "fields" "{" field,* "}" | "functions" "{" function,* "}"
//! coord     := IDENT "in" ( "[" num "," num "]" | "R" "^" INT | "box" "[" ("[" num "," num "]"),+ "]" )
//! param     := IDENT "in" "[" num "," num "]" | IDENT "given"
//! field     := IDENT ":" ( "scalar" | "vector" "(" INT ")" )
//! function  := IDENT | IDENT "(" "eval" ")"
//! term      := KIND IDENT weight? at? ":" body ";"
//! KIND      := "residual" | "initial" | "boundary" | "periodic" | "invariance"
//! weight    := "(" "weight" "=" ( num | "{" RUST_EXPR "}" ) ")"
//! at        := "at" IDENT "=" IDENT | "at" IDENT | "at" "all" ( "except" IDENT,+ )? | "in" IDENT
//! body      := expr ( "=" expr )?          (periodic: expr,+)
//! expr      := expr ("+"|"-") expr | expr ("*"|"/") expr | "-" expr | atom ( "[" INT "]" )*
//! atom      := num | IDENT | IDENT "(" expr,* ")" | "(" expr ")" | "{" RUST_EXPR "}"
//! ```

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, bracketed, parenthesized, Ident, LitInt, LitStr, Token};

/// A whole `pde!` statement.
pub struct Statement {
    pub name: LitStr,
    pub coords: Vec<CoordDecl>,
    pub params: Vec<ParamDecl>,
    pub fields: Vec<FieldDecl>,
    pub functions: Vec<FnDecl>,
    pub terms: Vec<Term>,
}

/// A signed numeric literal, kept with its span.
#[derive(Clone)]
pub struct Num {
    pub value: f64,
    pub span: Span,
}

pub struct CoordDecl {
    pub name: Ident,
    pub domain: DomainDecl,
}

pub enum DomainDecl {
    Interval(Num, Num),
    Box(Vec<(Num, Num)>),
    Real(usize),
}

impl DomainDecl {
    /// Number of input columns.
    pub fn dim(&self) -> usize {
        match self {
            DomainDecl::Interval(..) => 1,
            DomainDecl::Box(b) => b.len(),
            DomainDecl::Real(d) => *d,
        }
    }
}

pub struct ParamDecl {
    pub name: Ident,
    /// `Some((lo, hi))` for a conditioning input, `None` for `given`.
    pub range: Option<(Num, Num)>,
}

pub struct FieldDecl {
    pub name: Ident,
    /// `None` for a scalar field, `Some(k)` for `vector(k)`.
    pub components: Option<usize>,
}

pub struct FnDecl {
    pub name: Ident,
    /// Declared as `name(eval)`: called as `name(&Eval, Var, …)`.
    pub with_eval: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    Residual,
    Initial,
    Boundary,
    Periodic,
    Invariance,
}

/// Where a condition holds.
pub enum At {
    /// `at x = lo` / `at x = hi`.
    Face { coord: Ident, side: Ident },
    /// `at x`: both faces of `x`.
    Faces(Ident),
    /// `at all` / `at all except t, s`.
    All { all: Ident, except: Vec<Ident> },
    /// `in x` (periodic terms).
    Periodic(Ident),
}

pub enum Weight {
    Lit(Num),
    Rust(TokenStream),
}

pub struct Term {
    pub kind: TermKind,
    pub keyword: Ident,
    pub name: Ident,
    pub weight: Option<Weight>,
    pub at: Option<At>,
    pub lhs: Vec<Expr>,
    /// `= rhs` with the span of `=`.
    pub rhs: Option<(Span, Expr)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// An expression of a term.
pub enum Expr {
    Num(Num),
    Name(Ident),
    Call {
        func: Ident,
        args: Vec<Expr>,
    },
    Index {
        base: Box<Expr>,
        index: usize,
        span: Span,
    },
    Neg {
        span: Span,
        expr: Box<Expr>,
    },
    Bin {
        lhs: Box<Expr>,
        op: BinOp,
        span: Span,
        rhs: Box<Expr>,
    },
    /// `{ rust expression }`.
    Rust {
        tokens: TokenStream,
        span: Span,
    },
}

impl Expr {
    /// A span covering the expression's first token (errors point there).
    pub fn span(&self) -> Span {
        match self {
            Expr::Num(n) => n.span,
            Expr::Name(i) | Expr::Call { func: i, .. } => i.span(),
            Expr::Index { base, .. } => base.span(),
            Expr::Neg { span, .. } | Expr::Rust { span, .. } => *span,
            Expr::Bin { lhs, .. } => lhs.span(),
        }
    }
}

pub fn parse_num(input: ParseStream) -> syn::Result<Num> {
    let neg: Option<Token![-]> = input.parse()?;
    let lookahead = input.lookahead1();
    let (value, span) = if lookahead.peek(syn::LitFloat) {
        let l: syn::LitFloat = input.parse()?;
        (l.base10_parse::<f64>()?, l.span())
    } else if lookahead.peek(LitInt) {
        let l: LitInt = input.parse()?;
        (l.base10_parse::<f64>()?, l.span())
    } else {
        return Err(lookahead.error());
    };
    let span = neg.map_or(span, |n| n.span);
    Ok(Num {
        value: if neg.is_some() { -value } else { value },
        span,
    })
}

fn parse_range(input: ParseStream) -> syn::Result<(Num, Num)> {
    let content;
    let bracket = bracketed!(content in input);
    let lo = parse_num(&content)?;
    content.parse::<Token![,]>()?;
    let hi = parse_num(&content)?;
    if !content.is_empty() {
        return Err(content.error("expected `]`: an interval is `[lo, hi]`"));
    }
    if lo.value.partial_cmp(&hi.value) != Some(std::cmp::Ordering::Less) {
        return Err(syn::Error::new(
            bracket.span.join(),
            "empty interval: `lo` must be below `hi`",
        ));
    }
    Ok((lo, hi))
}

fn keyword(input: ParseStream, word: &str) -> syn::Result<Ident> {
    let id: Ident = input.call(<Ident as syn::ext::IdentExt>::parse_any)?;
    if id != word {
        return Err(syn::Error::new(
            id.span(),
            format!("expected `{word}`, found `{id}`"),
        ));
    }
    Ok(id)
}

fn peek_word(input: ParseStream, word: &str) -> bool {
    input.cursor().ident().is_some_and(|(id, _)| id == word)
}

impl Parse for CoordDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        input.parse::<Token![in]>()?;
        let domain = if input.peek(syn::token::Bracket) {
            let (lo, hi) = parse_range(input)?;
            DomainDecl::Interval(lo, hi)
        } else if peek_word(input, "R") {
            input.parse::<Ident>()?;
            input.parse::<Token![^]>()?;
            let d: LitInt = input.parse()?;
            let dim = d.base10_parse::<usize>()?;
            if dim == 0 {
                return Err(syn::Error::new(d.span(), "R^0 has no coordinates"));
            }
            DomainDecl::Real(dim)
        } else if input.peek(Token![box]) {
            input.parse::<Token![box]>()?;
            let content;
            bracketed!(content in input);
            let ranges =
                Punctuated::<(Num, Num), Token![,]>::parse_terminated_with(&content, parse_range)?;
            DomainDecl::Box(ranges.into_iter().collect())
        } else {
            return Err(input.error("expected a domain: `[lo, hi]`, `R^d` or `box [[lo, hi], …]`"));
        };
        Ok(CoordDecl { name, domain })
    }
}

impl Parse for ParamDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        if peek_word(input, "given") {
            input.parse::<Ident>()?;
            return Ok(ParamDecl { name, range: None });
        }
        if !input.peek(Token![in]) {
            return Err(input.error("expected `in [lo, hi]` (a conditioning input) or `given`"));
        }
        input.parse::<Token![in]>()?;
        Ok(ParamDecl {
            name,
            range: Some(parse_range(input)?),
        })
    }
}

impl Parse for FieldDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let kind: Ident = input.parse()?;
        if kind == "scalar" {
            return Ok(FieldDecl {
                name,
                components: None,
            });
        }
        if kind != "vector" {
            return Err(syn::Error::new(
                kind.span(),
                "expected `scalar` or `vector(k)`",
            ));
        }
        let content;
        parenthesized!(content in input);
        let k: LitInt = content.parse()?;
        let n = k.base10_parse::<usize>()?;
        if n == 0 {
            return Err(syn::Error::new(
                k.span(),
                "a vector field needs at least one component",
            ));
        }
        Ok(FieldDecl {
            name,
            components: Some(n),
        })
    }
}

impl Parse for FnDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        let mut with_eval = false;
        if input.peek(syn::token::Paren) {
            let content;
            parenthesized!(content in input);
            keyword(&content, "eval")?;
            with_eval = true;
        }
        Ok(FnDecl { name, with_eval })
    }
}

fn section<T: Parse>(input: ParseStream) -> syn::Result<Vec<T>> {
    let content;
    braced!(content in input);
    Ok(Punctuated::<T, Token![,]>::parse_terminated(&content)?
        .into_iter()
        .collect())
}

impl Parse for Statement {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        keyword(input, "name")?;
        input.parse::<Token![:]>()?;
        let name: LitStr = input.parse()?;
        input.parse::<Token![;]>()?;
        let mut st = Statement {
            name,
            coords: vec![],
            params: vec![],
            fields: vec![],
            functions: vec![],
            terms: vec![],
        };
        while !input.is_empty() {
            let word: Ident = input
                .fork()
                .call(<Ident as syn::ext::IdentExt>::parse_any)?;
            match word.to_string().as_str() {
                "coords" | "params" | "fields" | "functions" => {
                    input.call(<Ident as syn::ext::IdentExt>::parse_any)?;
                    match word.to_string().as_str() {
                        "coords" => st.coords.extend(section(input)?),
                        "params" => st.params.extend(section(input)?),
                        "fields" => st.fields.extend(section(input)?),
                        _ => st.functions.extend(section(input)?),
                    }
                }
                _ => st.terms.push(input.parse()?),
            }
        }
        Ok(st)
    }
}

fn term_kind(word: &Ident) -> syn::Result<TermKind> {
    Ok(match word.to_string().as_str() {
        "residual" => TermKind::Residual,
        "initial" => TermKind::Initial,
        "boundary" => TermKind::Boundary,
        "periodic" => TermKind::Periodic,
        "invariance" => TermKind::Invariance,
        _ => {
            return Err(syn::Error::new(
                word.span(),
                format!(
                    "expected a section (`coords`, `params`, `fields`, `functions`) or a term \
                     (`residual`, `initial`, `boundary`, `periodic`, `invariance`), found `{word}`"
                ),
            ))
        }
    })
}

fn parse_weight(input: ParseStream) -> syn::Result<Weight> {
    let content;
    parenthesized!(content in input);
    keyword(&content, "weight")?;
    content.parse::<Token![=]>()?;
    if content.peek(syn::token::Brace) {
        let inner;
        braced!(inner in content);
        return Ok(Weight::Rust(inner.parse()?));
    }
    Ok(Weight::Lit(parse_num(&content)?))
}

fn parse_at(input: ParseStream, kind: TermKind) -> syn::Result<Option<At>> {
    if kind == TermKind::Periodic {
        input.parse::<Token![in]>()?;
        return Ok(Some(At::Periodic(input.parse()?)));
    }
    if !peek_word(input, "at") {
        return Ok(None);
    }
    input.parse::<Ident>()?;
    let coord: Ident = input.parse()?;
    if coord == "all" {
        let mut except = vec![];
        if peek_word(input, "except") {
            input.parse::<Ident>()?;
            except.push(input.parse()?);
            while input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
                except.push(input.parse()?);
            }
        }
        return Ok(Some(At::All { all: coord, except }));
    }
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        return Ok(Some(At::Face {
            coord,
            side: input.parse()?,
        }));
    }
    Ok(Some(At::Faces(coord)))
}

impl Parse for Term {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let keyword: Ident = input.call(<Ident as syn::ext::IdentExt>::parse_any)?;
        let kind = term_kind(&keyword)?;
        let name: Ident = input.parse()?;
        let weight = if input.peek(syn::token::Paren) {
            Some(parse_weight(input)?)
        } else {
            None
        };
        let at = parse_at(input, kind)?;
        input.parse::<Token![:]>()?;
        let mut lhs = vec![input.parse::<Expr>()?];
        let mut rhs = None;
        if kind == TermKind::Periodic {
            while input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
                lhs.push(input.parse()?);
            }
        } else if input.peek(Token![=]) {
            let eq: Token![=] = input.parse()?;
            rhs = Some((eq.span, input.parse()?));
        }
        input.parse::<Token![;]>()?;
        Ok(Term {
            kind,
            keyword,
            name,
            weight,
            at,
            lhs,
            rhs,
        })
    }
}
