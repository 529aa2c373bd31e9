#!/usr/bin/env python3
"""PhysGNN experiment 1's training iteration: physgrad against JAX + POT, in one run.

One iteration = 32 latent draws through the generator (MLP 10→20→20→20→2, tanh, |·|), the
coefficient a(x) = 1 − 0.9 exp(−(x − μ)²/(2σ²)) at 101 midpoints, 32 tridiagonal solves
(100 nodes), the 32×32 L2 cost matrix against a batch of observed solutions, the exact plan,
the gradient of ⟨P, C(θ(w))⟩ with P held constant, and one Adam step (lr 1e-3, β₁ = 0.5).

JAX side: `jax.jit` for the forward pass (cost matrix) and for the gradient + Adam update,
`jax.lax.linalg.tridiagonal_solve` for the solver, POT's exact `ot.emd` for the plan (float64
throughout). physgrad side: `examples/physgnn_poisson1d --time-iteration` (the same iteration
as the example's training loop). Both report the median over repetitions of the mean time per
iteration; the script runs them back to back and prints the ratio.

Usage: cargo build --release --example physgnn_poisson1d
       ~/.cache/physgrad-peers-venv/bin/python benches/peers/physgnn_peers.py [--iters 300 --reps 5]
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np

import jax
import jax.numpy as jnp
import ot

jax.config.update("jax_enable_x64", True)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BIN = os.path.join(ROOT, "target", "release", "examples", "physgnn_poisson1d")
N, B, LATENT, WIDTHS = 100, 32, 10, [10, 20, 20, 20, 2]
H = 1.0 / (N + 1)
XM = (jnp.arange(N + 1) + 0.5) * H


def init(rng):
    params = []
    for i, o in zip(WIDTHS[:-1], WIDTHS[1:]):
        lim = np.sqrt(6.0 / (i + o))
        params.append((jnp.asarray(rng.uniform(-lim, lim, (i, o))), jnp.zeros(o)))
    return params


def generator(params, z):
    h = z
    for w, b in params[:-1]:
        h = jnp.tanh(h @ w + b)
    w, b = params[-1]
    return jnp.abs(h @ w + b)


def solve(theta):
    mu, s = theta[:, 0:1], theta[:, 1:2]
    a = 1.0 - 0.9 * jnp.exp(-((XM - mu) ** 2) / (2.0 * s * s))
    diag = (a[:, :-1] + a[:, 1:]) / H**2
    off = -a[:, 1:-1] / H**2
    zero = jnp.zeros((theta.shape[0], 1))
    lower = jnp.concatenate([zero, off], axis=1)
    upper = jnp.concatenate([off, zero], axis=1)
    rhs = jnp.ones((theta.shape[0], N, 1))
    return jax.lax.linalg.tridiagonal_solve(lower, diag, upper, rhs)[..., 0]


def cost(params, z, y):
    u = solve(generator(params, z))
    return jnp.sqrt(jnp.sum((u[:, None, :] - y[None, :, :]) ** 2, axis=-1))


@jax.jit
def forward(params, z, y):
    return cost(params, z, y)


@jax.jit
def update(params, m, v, t, z, y, plan):
    g = jax.grad(lambda p: jnp.sum(plan * cost(p, z, y)))(params)
    b1, b2, lr, eps = 0.5, 0.999, 1e-3, 1e-8
    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
    c1, c2 = 1 - b1**t, 1 - b2**t
    params = jax.tree_util.tree_map(
        lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), params, m, v)
    return params, m, v


def jax_iteration_times(iters, reps, seed=0):
    rng = np.random.default_rng(seed)
    params = init(rng)
    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)
    mus = rng.dirichlet([1.0, 2.0, 3.0], 5000)[:, :2]
    data = np.asarray(solve(jnp.asarray(mus)))
    w = np.full(B, 1.0 / B)
    t = 0

    def step():
        nonlocal params, m, v, t
        z = jnp.asarray(rng.uniform(-1, 1, (B, LATENT)))
        y = jnp.asarray(data[rng.integers(0, len(data), B)])
        c = np.asarray(forward(params, z, y))
        plan = jnp.asarray(ot.emd(w, w, c))
        t += 1
        params, m, v = update(params, m, v, float(t), z, y, plan)
        jax.block_until_ready(params)

    for _ in range(50):
        step()
    per = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters):
            step()
        per.append((time.perf_counter() - t0) / iters)
    return per


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    out = subprocess.run([BIN, "--time-iteration", str(args.iters), str(args.reps)],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    rust = [json.loads(l) for l in out.splitlines() if l.startswith("{")][0]
    per = sorted(jax_iteration_times(args.iters, args.reps))
    jax_us = per[len(per) // 2] * 1e6
    print(json.dumps({"lib": "jax+pot", "workload": "physgnn1d_iteration", "median_us": jax_us,
                      "version": f"jax {jax.__version__}, POT {ot.__version__}"}))
    print(json.dumps(rust))
    print(f"physgnn 1-D iteration: physgrad {rust['median_us']:.1f} us, JAX+POT {jax_us:.1f} us, "
          f"ratio {rust['median_us'] / jax_us:.3f}x")


if __name__ == "__main__":
    main()
