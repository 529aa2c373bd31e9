//! The expression grammar of a term (precedence climbing): `+ -` below `* /`, unary `-`,
//! postfix components `[i]`, calls, parentheses, numbers and `{ rust }` blocks.

use crate::parse::{parse_num, BinOp, Expr, Num};
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, bracketed, parenthesized, Ident, LitInt, Token};

impl Parse for Expr {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        parse_binary(input, 0)
    }
}

fn peek_op(input: ParseStream) -> Option<(BinOp, u8)> {
    if input.peek(Token![+]) && !input.peek(Token![+=]) {
        Some((BinOp::Add, 1))
    } else if input.peek(Token![-]) && !input.peek(Token![-=]) && !input.peek(Token![->]) {
        Some((BinOp::Sub, 1))
    } else if input.peek(Token![*]) && !input.peek(Token![*=]) {
        Some((BinOp::Mul, 2))
    } else if input.peek(Token![/]) && !input.peek(Token![/=]) {
        Some((BinOp::Div, 2))
    } else {
        None
    }
}

/// Precedence climbing: `+ -` (1) below `* /` (2), all left-associative.
fn parse_binary(input: ParseStream, min_prec: u8) -> syn::Result<Expr> {
    let mut lhs = parse_unary(input)?;
    while let Some((op, prec)) = peek_op(input) {
        if prec < min_prec {
            break;
        }
        let tok: proc_macro2::TokenTree = input.parse()?;
        let rhs = parse_binary(input, prec + 1)?;
        lhs = Expr::Bin {
            lhs: Box::new(lhs),
            op,
            span: tok.span(),
            rhs: Box::new(rhs),
        };
    }
    Ok(lhs)
}

fn parse_unary(input: ParseStream) -> syn::Result<Expr> {
    if input.peek(Token![-]) {
        let minus: Token![-] = input.parse()?;
        let expr = parse_unary(input)?;
        return Ok(Expr::Neg {
            span: minus.span,
            expr: Box::new(expr),
        });
    }
    let mut expr = parse_atom(input)?;
    while input.peek(syn::token::Bracket) {
        let content;
        let bracket = bracketed!(content in input);
        let i: LitInt = content.parse()?;
        let index = i.base10_parse::<usize>()?;
        expr = Expr::Index {
            base: Box::new(expr),
            index,
            span: bracket.span.join(),
        };
    }
    Ok(expr)
}

fn parse_atom(input: ParseStream) -> syn::Result<Expr> {
    let lookahead = input.lookahead1();
    if lookahead.peek(syn::LitFloat) || lookahead.peek(LitInt) {
        return Ok(Expr::Num(parse_num(input)?));
    }
    if lookahead.peek(syn::token::Paren) {
        let content;
        parenthesized!(content in input);
        let e = content.parse()?;
        if !content.is_empty() {
            return Err(content.error("expected `)`"));
        }
        return Ok(e);
    }
    if lookahead.peek(syn::token::Brace) {
        let content;
        let brace = braced!(content in input);
        let tokens: TokenStream = content.parse()?;
        return Ok(Expr::Rust {
            tokens,
            span: brace.span.join(),
        });
    }
    if lookahead.peek(Ident) {
        let name: Ident = input.parse()?;
        if input.peek(syn::token::Paren) {
            let content;
            parenthesized!(content in input);
            let args = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
            return Ok(Expr::Call {
                func: name,
                args: args.into_iter().collect(),
            });
        }
        return Ok(Expr::Name(name));
    }
    Err(lookahead.error())
}

impl ToTokens for Num {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let mut lit = proc_macro2::Literal::f64_suffixed(self.value.abs());
        lit.set_span(self.span);
        if self.value.is_sign_negative() {
            quote::quote_spanned!(self.span=> (-#lit)).to_tokens(tokens);
        } else {
            lit.to_tokens(tokens);
        }
    }
}
