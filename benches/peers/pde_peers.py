#!/usr/bin/env python3
"""Fokker–Planck residual loss + weight gradient: physgrad against PyTorch and JAX, one run.

The workload (issue 6, item 5): v: (x, t) -> R and mu: (x, t) -> R^d, MLPs with four hidden tanh
layers of width 64, batch B = 1024 points (x, t) in R^(d+1), sigma = sqrt(2) I, so
    P_FP(v) = -div_x mu - grad_x v . mu + |grad_x v|^2 + Lap_x v,
    loss    = mean((d_t v - P_FP(v))^2),
and one step is the loss plus its gradient with respect to every weight of v and mu.

For each d the script draws the weights (Glorot-uniform, uniform biases) and the points with a
seeded NumPy generator and writes them to files; `examples/pde_workloads` (physgrad: forward jets
and nested reverse mode), PyTorch and JAX then compute the same loss on the same numbers, and
the script stops unless the three loss values agree to 1e-8 (relative) and the squared norms of
the weight gradients to 1e-6. Timing rounds then alternate physgrad / PyTorch / JAX; each
reports the median of REPS steps per round, and the medians over rounds are compared.

* PyTorch: double backward. grad v by one autograd.grad(create_graph=True), the Laplacian by d
  further grad calls (one per coordinate), div mu by d VJPs, then loss.backward().
* JAX (jit): per point, grad v by jax.grad, the Laplacian by jvp-of-grad along each unit vector
  (vmapped over the d directions), div mu by jacfwd; value_and_grad w.r.t. the parameters.

Threads: every library gets PHYSGRAD_TORCH_THREADS threads (default 1): torch.set_num_threads,
RAYON_NUM_THREADS for physgrad, and XLA's CPU intra-op flags for JAX.

Usage: ~/.cache/physgrad-peers-venv/bin/python benches/peers/pde_peers.py [--dims 2,10,50]
       [--rounds 3] [--reps 5]      (after `cargo build --release --example pde_workloads`)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

THREADS = int(os.environ.get("PHYSGRAD_TORCH_THREADS", "1"))
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_cpu_multi_thread_eigen=false"
                           f" intra_op_parallelism_threads={THREADS}")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_enable_x64", True)
torch.set_num_threads(THREADS)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BIN = os.path.join(ROOT, "target", "release", "examples", "pde_workloads")
WIDTH, DEPTH, BATCH = 64, 4, 1024


def init(d, seed):
    """Weights of v then mu, layer by layer, W [in, out] and b [out] (physgrad's store order)."""
    rng = np.random.default_rng(seed)
    nets = []
    for out in (1, d):
        widths = [d + 1] + [WIDTH] * DEPTH + [out]
        layers = []
        for i, o in zip(widths[:-1], widths[1:]):
            a = np.sqrt(6.0 / (i + o))
            layers.append((rng.uniform(-a, a, (i, o)), rng.uniform(-0.1, 0.1, o)))
        nets.append(layers)
    x = rng.standard_normal((BATCH, d + 1))
    x[:, d] = rng.uniform(0.0, 1.0, BATCH)
    return nets, x


def flat(nets):
    return np.concatenate([a.ravel() for layers in nets for w, b in layers for a in (w, b)])


# ---------------------------------------------------------------- PyTorch (double backward)
def torch_mlp(layers, h):
    for k, (w, b) in enumerate(layers):
        h = h @ w + b
        if k + 1 < len(layers):
            h = torch.tanh(h)
    return h


def torch_step(tv, tm, x_np, d):
    xt = torch.tensor(x_np, requires_grad=True)
    v = torch_mlp(tv, xt)[:, 0]
    g = torch.autograd.grad(v.sum(), xt, create_graph=True)[0]
    gx, dt = g[:, :d], g[:, d]
    lap = sum(torch.autograd.grad(gx[:, i].sum(), xt, create_graph=True)[0][:, i]
              for i in range(d))
    mu = torch_mlp(tm, xt)
    div = sum(torch.autograd.grad(mu[:, j].sum(), xt, create_graph=True)[0][:, j]
              for j in range(d))
    p = -div - (gx * mu).sum(1) + (gx * gx).sum(1) + lap
    loss = ((dt - p) ** 2).mean()
    loss.backward()
    params = [a for layers in (tv, tm) for w, b in layers for a in (w, b)]
    sq = sum(float((a.grad ** 2).sum()) for a in params if a.grad is not None)
    for a in params:
        a.grad = None
    return float(loss), sq


# ---------------------------------------------------------------- JAX (jit)
def jax_mlp(layers, h):
    for k, (w, b) in enumerate(layers):
        h = h @ w + b
        if k + 1 < len(layers):
            h = jnp.tanh(h)
    return h


def make_jax(d):
    eye = jnp.eye(d + 1)[:d]

    def point(pv, pm, x):
        v = lambda y: jax_mlp(pv, y)[0]  # noqa: E731
        gv = jax.grad(v)
        g = gv(x)
        lap = jnp.sum(jax.vmap(lambda e: jax.jvp(gv, (x,), (e,))[1])(eye)[:, :d].diagonal())
        mu_fn = lambda y: jax_mlp(pm, y)  # noqa: E731
        mu = mu_fn(x)
        div = jnp.trace(jax.jacfwd(mu_fn)(x)[:, :d])
        gx, dt = g[:d], g[d]
        p = -div - gx @ mu + gx @ gx + lap
        return (dt - p) ** 2

    def loss(params, xs):
        pv, pm = params
        return jnp.mean(jax.vmap(lambda x: point(pv, pm, x))(xs))

    vg = jax.jit(jax.value_and_grad(loss))

    def step(params, xs):
        val, grads = vg(params, xs)
        val = jax.block_until_ready(val)
        sq = sum(float(jnp.sum(a ** 2)) for a in jax.tree_util.tree_leaves(grads))
        return float(val), sq

    return step


def median_time(reps, f):
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], out


def physgrad(wp, xp, d, reps, methods):
    env = dict(os.environ, RAYON_NUM_THREADS=str(THREADS))
    proc = subprocess.run([BIN, wp, xp, str(d), str(reps)] + methods, stdout=subprocess.PIPE,
                          text=True, check=True, env=env)
    return {r["method"]: r for r in map(json.loads, proc.stdout.splitlines()) if r}


def agree(name, a, b, tol):
    if abs(a - b) > tol * abs(b):
        sys.exit(f"{name} disagree: {a!r} vs {b!r}")


def run(d, rounds, reps, methods, tmp):
    nets, x = init(d, 100 + d)
    wp, xp = os.path.join(tmp, f"w{d}.bin"), os.path.join(tmp, f"x{d}.bin")
    flat(nets).astype("<f8").tofile(wp)
    x.astype("<f8").tofile(xp)
    tv, tm = ([(torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True))
               for w, b in layers] for layers in nets)
    jp = tuple([(jnp.asarray(w), jnp.asarray(b)) for w, b in layers] for layers in nets)
    jstep, jx = make_jax(d), jnp.asarray(x)
    ours = physgrad(wp, xp, d, 1, methods)
    lt, st = torch_step(tv, tm, x, d)
    lj, sj = jstep(jp, jx)  # also compiles
    for m, r in ours.items():
        agree(f"d={d} loss physgrad-{m}/torch", r["loss"], lt, 1e-8)
        agree(f"d={d} grad physgrad-{m}/torch", r["grad_sq"], st, 1e-6)
    agree(f"d={d} loss jax/torch", lj, lt, 1e-8)
    agree(f"d={d} grad jax/torch", sj, st, 1e-6)
    print(json.dumps({"d": d, "check": "ok", "loss": lt, "grad_sq": st}), file=sys.stderr)
    times = {m: [] for m in methods + ["torch", "jax"]}
    for _ in range(rounds):
        for m, r in physgrad(wp, xp, d, reps, methods).items():
            times[m].append(r["seconds"])
        times["torch"].append(median_time(reps, lambda: torch_step(tv, tm, x, d))[0])
        times["jax"].append(median_time(reps, lambda: jstep(jp, jx))[0])
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    row = {"d": d, "batch": BATCH, "threads": THREADS, **{f"{k}_s": v for k, v in med.items()}}
    for m in methods:
        row[f"{m}/torch"] = med[m] / med["torch"]
        row[f"{m}/jax"] = med[m] / med["jax"]
    print(json.dumps(row), flush=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dims", default="2,10,50")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--methods", default="jet,nested")
    args = ap.parse_args()
    methods = args.methods.split(",")
    print(f"# threads {THREADS} (torch, RAYON_NUM_THREADS, XLA); torch {torch.__version__}, "
          f"jax {jax.__version__}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(int(d), args.rounds, args.reps, methods, tmp) for d in args.dims.split(",")]
    print("| d | " + " | ".join(f"{m}/PyTorch | {m}/JAX" for m in methods) +
          " | PyTorch | JAX |", file=sys.stderr)
    for r in rows:
        cells = " | ".join(f"{r[f'{m}/torch']:.3g} | {r[f'{m}/jax']:.3g}" for m in methods)
        print(f"| {r['d']} | {cells} | {r['torch_s'] * 1e3:.4g} ms | {r['jax_s'] * 1e3:.4g} ms |",
              file=sys.stderr)


if __name__ == "__main__":
    main()
