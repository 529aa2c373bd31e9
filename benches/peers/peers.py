#!/usr/bin/env python3
"""Times the physgrad benchmark workloads in PyTorch (eager) and JAX (jit and eager), float64.

The workloads mirror benches/workloads.rs exactly:
  mlp_small_{fwd,grad}: tanh MLP 10→20→20→20→2, batch 64, loss = mean((mlp(x) − y)²)
  mlp_large_{fwd,grad}: tanh MLP 2→64→64→64→64→1, batch 4096
  tape_overhead: 100 elementwise ops (x·1.0001 + 0.001, then sin x, repeated) on 4 elements,
                 then the gradient of the sum; reported per op.
"grad" means loss and gradient with respect to every weight and bias.
  mlp_{small,large}_adam: one Adam training step (forward, backward, update; lr 1e-3, PyTorch's
                 defaults) of the same MLPs — torch.optim.Adam eagerly, and a jitted JAX step with
                 the same update written out (no optax) — mirroring benches/nn_workloads.rs.
  gen64_{fwd,grad}: a DCGAN-style 64×64 generator (z 32 → dense+ReLU → [64,4,4] → four 4×4
                 transposed convolutions, stride 2, padding 1, 64→32→16→8→1 channels, ReLU between,
                 tanh at the end), batch 16; "grad" is the gradient of mean(G(z)²). PyTorch only.

Prints one JSON line per (library, workload):
  {"lib", "workload", "median_us", "samples", "threads", "version"}
Set PHYSGRAD_TORCH_THREADS=n to fix PyTorch's intra-op thread count (default: library default).
Timing: warm-up, then blocks of calls of ~10 ms each until at least 20 blocks and 0.5 s; the
median over blocks of the time per call.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

CHAIN_OPS = 100


def median_us(fn, quick):
    min_samples, min_total = (5, 0.1) if quick else (20, 0.5)
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < (0.02 if quick else 0.1) or calls < 3:
        fn()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    block = max(1, math.ceil(0.01 / per_call))
    samples = []
    t0 = time.perf_counter()
    while len(samples) < min_samples or time.perf_counter() - t0 < min_total:
        t = time.perf_counter()
        for _ in range(block):
            fn()
        samples.append((time.perf_counter() - t) * 1e6 / block)
    return statistics.median(samples), len(samples)


def make_data(widths, batch, rng):
    params = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        params.append(rng.standard_normal((fan_in, fan_out)) / math.sqrt(fan_in))
        params.append(rng.standard_normal(fan_out) * 0.0)
    x = rng.standard_normal((batch, widths[0]))
    y = rng.standard_normal((batch, widths[-1]))
    return params, x, y


MLPS = {"mlp_small": ([10, 20, 20, 20, 2], 64), "mlp_large": ([2, 64, 64, 64, 64, 1], 4096)}


def emit(lib, workload, result, threads, version):
    us, n = result
    print(json.dumps({"lib": lib, "workload": workload, "median_us": round(us, 3), "samples": n,
                      "threads": threads, "version": version}), flush=True)


def run_torch(quick):
    import numpy as np
    import torch

    torch.set_default_dtype(torch.float64)
    if os.environ.get("PHYSGRAD_TORCH_THREADS"):
        # On a shared machine PyTorch's worker threads can stall at barriers when another process
        # holds a core; one thread gives a steadier (and for small workloads fairer) baseline.
        torch.set_num_threads(int(os.environ["PHYSGRAD_TORCH_THREADS"]))
    threads = torch.get_num_threads()
    version = torch.__version__
    rng = np.random.default_rng(0)
    for name, (widths, batch) in MLPS.items():
        params, x, y = make_data(widths, batch, rng)
        ps = [torch.tensor(p, requires_grad=True) for p in params]
        xt, yt = torch.tensor(x), torch.tensor(y)

        def loss():
            h = xt
            for i in range(0, len(ps), 2):
                h = h @ ps[i] + ps[i + 1]
                if i + 2 < len(ps):
                    h = torch.tanh(h)
            return ((h - yt) ** 2).mean()

        def fwd():
            with torch.no_grad():
                return loss().item()

        def grad():
            for p in ps:
                p.grad = None
            l = loss()
            l.backward()
            return l.item()

        emit("torch", name + "_fwd", median_us(fwd, quick), threads, version)
        emit("torch", name + "_grad", median_us(grad, quick), threads, version)

        opt = torch.optim.Adam(ps, lr=1e-3)

        def adam_step():
            opt.zero_grad(set_to_none=True)
            l = loss()
            l.backward()
            opt.step()
            return l.item()

        emit("torch", name + "_adam", median_us(adam_step, quick), threads, version)

    run_torch_generator(quick, threads, version)

    x0 = torch.tensor([0.1, 0.2, 0.3, 0.4])

    def chain():
        x = x0.clone().requires_grad_(True)
        h = x
        ops = 0
        while ops < CHAIN_OPS:
            h = h * 1.0001 + 0.001
            h = torch.sin(h)
            ops += 3
        h.sum().backward()
        return x.grad

    us, n = median_us(chain, quick)
    emit("torch", "tape_overhead", (us / CHAIN_OPS, n), threads, version)


def run_torch_generator(quick, threads, version):
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers = [nn.Linear(32, 64 * 16), nn.ReLU(), nn.Unflatten(1, (64, 4, 4))]
    chans = [64, 32, 16, 8, 1]
    for i in range(4):
        layers.append(nn.ConvTranspose2d(chans[i], chans[i + 1], 4, stride=2, padding=1))
        layers.append(nn.ReLU() if i < 3 else nn.Tanh())
    gen = nn.Sequential(*layers).double()
    z = torch.randn(16, 32, dtype=torch.float64)
    assert gen(z).shape == (16, 1, 64, 64)

    def fwd():
        with torch.no_grad():
            return gen(z)

    def grad():
        gen.zero_grad(set_to_none=True)
        l = gen(z).square().mean()
        l.backward()
        return l.item()

    emit("torch", "gen64_fwd", median_us(fwd, quick), threads, version)
    emit("torch", "gen64_grad", median_us(grad, quick), threads, version)


def jax_adam_step(loss):
    """A jitted Adam step (PyTorch's defaults, lr 1e-3) on a list of parameters."""
    import jax
    import jax.numpy as jnp

    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 1e-3

    def step(ps, ms, vs, t, x, y):
        l, gs = jax.value_and_grad(loss)(ps, x, y)
        t = t + 1
        ms = [m + (1 - b1) * (g - m) for m, g in zip(ms, gs)]
        vs = [b2 * v + (1 - b2) * g * g for v, g in zip(vs, gs)]
        size = lr / (1 - b1 ** t)
        bc2 = jnp.sqrt(1 - b2 ** t)
        ps = [p - size * (m / (jnp.sqrt(v) / bc2 + eps)) for p, m, v in zip(ps, ms, vs)]
        return ps, ms, vs, t, l

    return jax.jit(step)


def run_jax(quick):
    import os
    import jax
    import jax.numpy as jnp
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    version = jax.__version__
    threads = os.cpu_count()
    rng = np.random.default_rng(0)
    for name, (widths, batch) in MLPS.items():
        params, x, y = make_data(widths, batch, rng)
        ps = [jnp.asarray(p) for p in params]
        xj, yj = jnp.asarray(x), jnp.asarray(y)

        def loss(ps, x, y):
            h = x
            for i in range(0, len(ps), 2):
                h = h @ ps[i] + ps[i + 1]
                if i + 2 < len(ps):
                    h = jnp.tanh(h)
            return jnp.mean((h - y) ** 2)

        fwd = jax.jit(loss)
        vg = jax.jit(jax.value_and_grad(loss))
        emit("jax-jit", name + "_fwd", median_us(lambda: fwd(ps, xj, yj).block_until_ready(), quick), threads, version)
        emit("jax-jit", name + "_grad",
             median_us(lambda: jax.block_until_ready(vg(ps, xj, yj)), quick), threads, version)

        step = jax_adam_step(loss)
        state = [ps, [jnp.zeros_like(p) for p in ps], [jnp.zeros_like(p) for p in ps], jnp.asarray(0.0)]

        def adam_step():
            ps_, ms_, vs_, t_, l = step(*state, xj, yj)
            state[:] = [ps_, ms_, vs_, t_]
            return l.block_until_ready()

        emit("jax-jit", name + "_adam", median_us(adam_step, quick), threads, version)

    def chain(x):
        h = x
        ops = 0
        while ops < CHAIN_OPS:
            h = h * 1.0001 + 0.001
            h = jnp.sin(h)
            ops += 3
        return h.sum()

    x0 = jnp.asarray([0.1, 0.2, 0.3, 0.4])
    g_eager = jax.grad(chain)
    g_jit = jax.jit(jax.grad(chain))
    us, n = median_us(lambda: g_eager(x0).block_until_ready(), quick)
    emit("jax-eager", "tape_overhead", (us / CHAIN_OPS, n), threads, version)
    us, n = median_us(lambda: g_jit(x0).block_until_ready(), quick)
    # jit compiles the whole chain into one fused kernel: not a measure of per-op tape cost.
    emit("jax-jit", "tape_overhead_fused", (us / CHAIN_OPS, n), threads, version)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["torch", "jax"])
    ap.add_argument("--quick", action="store_true", help="fewer samples (for a smoke test)")
    args = ap.parse_args()
    if args.only in (None, "torch"):
        run_torch(args.quick)
    if args.only in (None, "jax"):
        run_jax(args.quick)


if __name__ == "__main__":
    sys.exit(main())
