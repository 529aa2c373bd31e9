//! The operations on [`Var`](crate::Var): a small closed set of primitives, each with its forward
//! and its VJP side by side, and compositions that need no derivative code.
//!
//! Every VJP is written with primitives, so gradients of every order come from this table alone.
//! `g` is the upstream gradient, `y` the op's output; `⇓` means "summed back to the operand's
//! shape" for broadcast operands.
//!
//! | primitive | forward | VJP |
//! |---|---|---|
//! | `add` `a + b` | broadcast | `ā = g⇓`, `b̄ = g⇓` |
//! | `sub` `a − b` | broadcast | `ā = g⇓`, `b̄ = −g⇓` |
//! | `mul` `a · b` | broadcast | `ā = (g·b)⇓`, `b̄ = (g·a)⇓` |
//! | `div` `a / b` | broadcast | `ā = (g/b)⇓`, `b̄ = (−g·y/b)⇓` |
//! | `pow` `aᵇ` | broadcast | `ā = (g·b·aᵇ⁻¹)⇓`, `b̄ = (g·y·ln a)⇓` |
//! | `maximum`, `minimum` | broadcast | `g` to the selected operand; **ties split ½–½** |
//! | `neg` `−a` | | `−g` |
//! | `exp` | vectorised | `g·y` |
//! | `log` (`ln`) | | `g/a` |
//! | `sin`, `cos` | | `g·cos a`, `−g·sin a` |
//! | `sin_cos` `y = [sin a, cos a]` (last axis) | one call each | `rot_dot(g, y)` |
//! | `rot_dot(g, y)` `g_s·y_c − g_c·y_s` | bilinear | `rot_scale(h, y)`, `−rot_scale(h, g)` |
//! | `rot_scale(u, v)` `[u·v_c, −u·v_s]` | bilinear | `rot_dot(h, v)`, `−rot_scale(u, h)` |
//! | `tanh` | vectorised | `tanh_backward(g, y)` |
//! | `tanh_backward` `g·(1−y²)` | fused | `ḡ·(1−y²)`, `−2·ḡ·g·y` |
//! | `add_tanh` `tanh(h + b)` | fused, `b` broadcast to `h` | `h̄ = tanh_backward(g, y)`, `b̄ = h̄⇓` |
//! | `sqrt` | | `g/(2y)` |
//! | `erf` | piecewise polynomials | `g·(2/√π)·exp(−a²)` |
//! | `normal_pdf` `φ(a)` | vectorised `exp` | `−g·a·y` |
//! | `normal_cdf(a, φ)` `Φ(a)` | `erf` reusing `φ` | `g·φ` (none for the hint `φ`) |
//! | `gelu⁽ⁿ⁾(a, Φ, φ)` | fused | `g·gelu⁽ⁿ⁺¹⁾(a, Φ, φ)` (none for the hints) |
//! | `abs` | | `g·sign a` (0 at 0) |
//! | `select(c, a, b)` | `c ≠ 0 ? a : b`, broadcast | `select(c, g, 0)⇓`, `select(c, 0, g)⇓` |
//! | comparisons `gt ge lt le eq_mask` | `Tensor` masks | none (not differentiable) |
//! | `sum_to(shape)` | adjoint of broadcasting | `broadcast_to(g)` |
//! | `broadcast_to(shape)` | | `sum_to(g)` |
//! | `max_axes` | | `g` to the maxima, split equally among ties |
//! | `reshape` | | `reshape(g)` |
//! | `permute` | | inverse `permute(g)` |
//! | `slice` | | `pad(g)` |
//! | `pad` | zero padding | `slice(g)` |
//! | `concat` | | one `slice(g)` per operand |
//! | `gather` (index-select) | | `scatter_add(g)` |
//! | `scatter_add` | | `gather(g)` |
//! | `matmul` `op(A)·op(B)` (batched, faer) | | one product each, see [`matmul`](self) |
//!
//! Compositions (no derivative code): `sum`, `sum_axes`, `mean`, `mean_axes`, `max`, `powf`,
//! `square`, `sigmoid`, `softplus`, `relu`, `leaky_relu`, `silu`, `logsumexp`, `softmax`, `mse`,
//! `norm`, `dot`, `t`, `flatten`, `gelu` (`gelu⁽⁰⁾`), and the matmul conveniences
//! (rank-1 operands, batch broadcasting).

mod arith;
mod compare;
mod composite;
mod elementwise;
mod matmul;
mod reduce;
mod shape;
mod special;
mod trig;
