#!/usr/bin/env python3
"""Runs the physgrad workload timer and the PyTorch/JAX timers back to back, then writes the
ratio table between the markers in docs/benchmarks.md (and prints it). Standard library only.

Usage: python3 benches/peers/compare.py --python VENV/bin/python [--quick]
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

BEGIN = "<!-- peers:begin -->"
END = "<!-- peers:end -->"
WORKLOADS = ["mlp_small_fwd", "mlp_small_grad", "mlp_large_fwd", "mlp_large_grad", "tape_overhead",
             "mlp_small_adam", "mlp_large_adam", "gen64_fwd", "gen64_grad"]


def run_json(cmd):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"command failed with exit code {proc.returncode}: {' '.join(cmd)}")
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if not rows:
        sys.exit(f"no JSON lines from: {' '.join(cmd)}")
    return rows


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fmt_us(v):
    return "—" if v is None else (f"{v:.3f}" if v < 10 else f"{v:,.1f}")


def fmt_ratio(a, b):
    if a is None or b is None:
        return "—"
    r = a / b
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable, help="interpreter with torch and jax")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternate physgrad and the peers this many times and keep the median of each "
                         "library's medians, so that slow drifts of a shared machine hit both sides")
    args = ap.parse_args()
    extra = ["--quick"] if args.quick else []
    cargo = os.environ.get("PHYSGRAD_CMD", "cargo run --release --quiet --example peer_workloads --").split()
    rows = []
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
        rows += run_json(cargo + extra)
        rows += run_json([args.python, "benches/peers/peers.py"] + extra)
    by_key = {}
    for r in rows:
        by_key.setdefault((r["lib"], r["workload"]), []).append(r["median_us"])
    t = {k: {"median_us": sorted(v)[len(v) // 2]} for k, v in by_key.items()}
    get = lambda lib, w: t.get((lib, w), {}).get("median_us")
    versions = {r["lib"]: r["version"] for r in rows}
    threads = {r["lib"]: r["threads"] for r in rows}
    lines = [
        f"Measured {datetime.date.today()} on {cpu_model()}, {os.cpu_count()} cores; "
        f"physgrad {versions.get('physgrad')}, PyTorch {versions.get('torch')} "
        f"({threads.get('torch')} threads), JAX {versions.get('jax-jit')}"
        f"{' (quick run)' if args.quick else ''}.",
        f"Command: `bash benches/peers/run.sh`. Times are medians per call in µs (median over "
        f"{args.rounds} alternating rounds of each library's median); a ratio below 1 means physgrad is faster.",
        "",
        "| workload | physgrad µs | PyTorch µs | JAX jit µs | physgrad / PyTorch | physgrad / JAX jit |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for w in WORKLOADS:
        p, to, jj = get("physgrad", w), get("torch", w), get("jax-jit", w)
        lines.append(f"| {w} | {fmt_us(p)} | {fmt_us(to)} | {fmt_us(jj)} | {fmt_ratio(p, to)} | {fmt_ratio(p, jj)} |")
    je, jf = get("jax-eager", "tape_overhead"), get("jax-jit", "tape_overhead_fused")
    lines.append("")
    lines.append(f"`tape_overhead` is per primitive op, forward and backward. JAX has no tape: op-by-op "
                 f"(eager) `jax.grad` costs {fmt_us(je)} µs per op ({fmt_ratio(get('physgrad', 'tape_overhead'), je)} "
                 f"for physgrad); under `jit` the chain is fused into one kernel ({fmt_us(jf)} µs per op), "
                 f"which measures compilation, not tape cost.")
    for w in ["mlp_small", "mlp_large"]:
        f, g = get("physgrad", w + "_fwd"), get("physgrad", w + "_grad")
        if f and g:
            lines.append(f"physgrad gradient/forward time ratio, {w}: {g / f:.2f} (cheap-gradient target ≤ 3).")
    table = "\n".join(lines)
    print(table)
    if args.no_write:
        return
    path = "docs/benchmarks.md"
    text = open(path).read() if os.path.exists(path) else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        sys.exit(f"{path} lacks the {BEGIN} / {END} markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{head}{BEGIN}\n{table}\n{END}{tail}")
    os.replace(tmp, path)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
