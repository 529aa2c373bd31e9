#!/usr/bin/env python3
"""Optimal transport: physgrad against POT on the same data, in one run on this machine.

For each dimension d and size n, Gaussian point clouds x ~ N(0, I), y ~ N(0.5, I) (n points
each, uniform weights, L1 ground cost) are drawn with a seeded NumPy generator and written to
files; `examples/ot_workloads` (physgrad) and POT then solve the same problem. Exact: POT's
`ot.emd2` with `numItermax` raised so it finishes, against `network_simplex`. Sinkhorn (n up to
--sinkhorn-max): POT's `ot.sinkhorn(..., method='sinkhorn_log')` against `sinkhorn_log`, same ε
(a fraction of the median cost) and the same stopping rule (2-norm of the column-marginal
violation <= tol). Both report medians of the same number of repetitions; the costs must agree.

Usage: ~/.cache/physgrad-peers-venv/bin/python benches/peers/ot_peers.py [--quick]
(after `cargo build --release --example ot_workloads`).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import ot

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BIN = os.path.join(ROOT, "target", "release", "examples", "ot_workloads")


def median_time(reps, f):
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], out


def pot_sinkhorn(a, b, M, eps, tol):
    P, log = ot.sinkhorn(a, b, M, eps, method="sinkhorn_log", numItermax=1_000_000,
                         stopThr=tol, log=True)
    if log["err"][-1] > tol:
        sys.exit(f"POT sinkhorn_log did not converge (err {log['err'][-1]:e})")
    return float(np.sum(P * M)), log["niter"]


def run(n, d, reps, sinkhorn, eps_frac, tol, tmp):
    rng = np.random.default_rng(1000 * n + d)
    x = rng.standard_normal((n, d))
    y = rng.standard_normal((n, d)) + 0.5
    xp, yp = os.path.join(tmp, "x.bin"), os.path.join(tmp, "y.bin")
    x.astype("<f8").tofile(xp)
    y.astype("<f8").tofile(yp)
    M = ot.dist(x, y, metric="cityblock")
    a = np.full(n, 1.0 / n)
    eps = eps_frac * float(np.median(M))
    cmd = [BIN, xp, yp, str(d), str(reps)] + ([repr(eps), repr(tol)] if sinkhorn else [])
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    ours = {r["method"]: r for r in map(json.loads, proc.stdout.splitlines()) if r}
    t_pot, c_pot = median_time(reps, lambda: ot.emd2(a, a, M, numItermax=1_000_000_000))
    c_ours = ours["exact"]["cost"]
    if abs(c_ours - c_pot) > 1e-9 * abs(c_pot):
        sys.exit(f"exact costs disagree at n={n}, d={d}: {c_ours!r} vs {c_pot!r}")
    row = {"n": n, "d": d, "exact_pg": ours["exact"]["seconds"], "exact_pot": t_pot,
           "pivots": ours["exact"]["iterations"], "cost": c_pot}
    if sinkhorn:
        t_s, (c_s, it) = median_time(reps, lambda: pot_sinkhorn(a, a, M, eps, tol))
        s = ours["sinkhorn"]
        if abs(s["cost"] - c_s) > 1e-4 * abs(c_s):
            sys.exit(f"sinkhorn costs disagree at n={n}, d={d}: {s['cost']!r} vs {c_s!r}")
        row.update(sk_pg=s["seconds"], sk_pot=t_s, sk_it_pg=s["iterations"], sk_it_pot=it,
                   eps=eps)
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def fmt(s):
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", default="64,256,1024,2048,5000")
    ap.add_argument("--sinkhorn-max", type=int, default=1024)
    ap.add_argument("--eps-frac", type=float, default=0.05, help="ε as a fraction of median cost")
    ap.add_argument("--tol", type=float, default=1e-6)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes = [s for s in sizes if s <= 256]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in (2, 10):
            for n in sizes:
                reps = 1 if n >= 2048 else (3 if n >= 1024 else 7)
                rows.append(run(n, d, reps, n <= args.sinkhorn_max, args.eps_frac, args.tol, tmp))
    print(f"POT {ot.__version__}, NumPy {np.__version__}; ε = {args.eps_frac} × median cost, "
          f"tol = {args.tol:g}\n")
    print("| d | n | physgrad exact | POT `emd2` | ratio | pivots | physgrad Sinkhorn | POT "
          "`sinkhorn_log` | ratio | iterations (physgrad / POT) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        sk = ("| — | — | — | — |" if "sk_pg" not in r else
              f"| {fmt(r['sk_pg'])} | {fmt(r['sk_pot'])} | {r['sk_pg'] / r['sk_pot']:.2f}× | "
              f"{r['sk_it_pg']} / {r['sk_it_pot']} |")
        print(f"| {r['d']} | {r['n']} | {fmt(r['exact_pg'])} | {fmt(r['exact_pot'])} | "
              f"{r['exact_pg'] / r['exact_pot']:.2f}× | {r['pivots']} " + sk)


if __name__ == "__main__":
    main()
