#!/usr/bin/env python3
"""Implicit solves, physgrad against SciPy, measured side by side in one run.

Workload: the 2-D 5-point Poisson matrix on an N×N grid (Dirichlet, A = 4I − neighbours,
n = N²), right-hand side of ones, adjoint seed w ~ N(0, 1).

* physgrad (examples/linalg_workloads.rs): forward = `sparse_solve` on a tape (numeric
  factorisation + solve; the pattern and its symbolic analysis are built once per grid and
  reported separately); backward = the first-order sweep (one transposed solve with the stored
  factorisation + the values gradient).
* SciPy: forward = `splu(A)` + `lu.solve(b)`; adjoint = `lu.solve(w, trans='T')`.

Rounds alternate physgrad and SciPy so that drifts of a shared machine hit both; the table keeps
the median over rounds of each side's median. Writes the table between the linalg markers in
docs/benchmarks.md.

Usage: ~/.cache/physgrad-peers-venv/bin/python benches/peers/linalg.py [--quick] [--rounds R]
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time

import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as spl

BEGIN = "<!-- linalg:begin -->"
END = "<!-- linalg:end -->"
SIZES = [64, 256, 512]


def poisson(grid):
    one_d = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(grid, grid), dtype=np.float64)
    eye = sp.identity(grid, dtype=np.float64)
    return (sp.kron(eye, one_d) + sp.kron(one_d, eye)).tocsc()


def median(v):
    v = sorted(v)
    return v[len(v) // 2]


def scipy_rows(quick):
    rows = []
    for grid in SIZES:
        a = poisson(grid)
        n = grid * grid
        b = np.ones(n)
        w = np.random.default_rng(1).standard_normal(n)
        samples = 3 if quick else (7 if grid >= 512 else 21)
        fwd, bwd = [], []
        for s in range(samples + 1):
            t0 = time.perf_counter()
            lu = spl.splu(a)
            u = lu.solve(b)
            t1 = time.perf_counter()
            lam = lu.solve(w, trans="T")
            t2 = time.perf_counter()
            assert np.abs(a @ u - b).max() < 1e-8 and np.abs(a.T @ lam - w).max() < 1e-8
            if s > 0:
                fwd.append((t1 - t0) * 1e6)
                bwd.append((t2 - t1) * 1e6)
        rows.append({"lib": "scipy", "workload": f"poisson_{grid}", "fwd_us": median(fwd),
                     "bwd_us": median(bwd), "samples": samples, "version": scipy.__version__})
    return rows


def physgrad_rows(quick):
    cmd = os.environ.get("PHYSGRAD_LINALG_CMD",
                         "cargo run --release --quiet --example linalg_workloads --").split()
    cmd += ["--sizes", ",".join(map(str, SIZES))] + (["--quick"] if quick else [])
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def ms(v):
    return f"{v / 1000:.2f}" if v < 10_000 else f"{v / 1000:.0f}"


def table(rows, rounds, quick):
    acc = {}
    for r in rows:
        for field in ("fwd_us", "bwd_us", "analyse_us"):
            if field in r:
                acc.setdefault((r["lib"], r["workload"], field), []).append(r[field])
    get = lambda lib, w, f: median(acc[(lib, w, f)])
    version = next(r["version"] for r in rows if r["lib"] == "scipy")
    lines = [
        f"Measured {datetime.date.today()}, {os.cpu_count()} cores, SciPy {version} (SuperLU, "
        f"COLAMD), physgrad with faer 0.24.4 sparse Cholesky (AMD, `Par::Seq`) and LU (COLAMD)"
        f"{' (quick run)' if quick else ''}.",
        f"Command: `~/.cache/physgrad-peers-venv/bin/python benches/peers/linalg.py` "
        f"({rounds} alternating rounds; median over rounds of each side's median). Times in ms.",
        "fwd = factorise + solve; adj = the adjoint (transposed) solve — for physgrad the whole "
        "first-order backward sweep, which also forms the values gradient. The pattern analysis "
        "(ordering + symbolic factorisation) is done once per grid and listed apart; SciPy "
        "cannot reuse it, so it is inside SciPy's fwd.",
        "",
        "| N | n = N² | SciPy fwd | SciPy adj | SciPy total | physgrad Cholesky fwd | adj | total "
        "| **ratio to SciPy** | adj / fwd | physgrad LU total | LU ratio | analysis (once): Cholesky, LU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for g in SIZES:
        sf, sb = get("scipy", f"poisson_{g}", "fwd_us"), get("scipy", f"poisson_{g}", "bwd_us")
        cf, cb = (get("physgrad", f"poisson_cholesky_{g}", f) for f in ("fwd_us", "bwd_us"))
        lf, lb = (get("physgrad", f"poisson_lu_{g}", f) for f in ("fwd_us", "bwd_us"))
        ca = get("physgrad", f"poisson_cholesky_{g}", "analyse_us")
        la = get("physgrad", f"poisson_lu_{g}", "analyse_us")
        st, ct, lt = sf + sb, cf + cb, lf + lb
        lines.append(
            f"| {g} | {g * g:,} | {ms(sf)} | {ms(sb)} | {ms(st)} | {ms(cf)} | {ms(cb)} | {ms(ct)} "
            f"| **{ct / st:.2f}×** | {cb / cf:.2f} | {ms(lt)} | {lt / st:.2f}× | {ms(ca)}, {ms(la)} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rows = []
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
        rows += physgrad_rows(args.quick)
        rows += scipy_rows(args.quick)
    text = table(rows, args.rounds, args.quick)
    print(text)
    if args.no_write:
        return
    path = "docs/benchmarks.md"
    doc = open(path).read()
    if BEGIN not in doc or END not in doc:
        sys.exit(f"{path} lacks the {BEGIN} / {END} markers")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    os.replace(tmp, path)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
