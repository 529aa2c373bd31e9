#!/usr/bin/env python3
"""PINN-sampling ODE and SDE losses: one training step of physgrad against PyTorch and JAX.

What one step is (issue 11, item 6; `examples/pinn_sampling`): the log-density path
    v(x, t) = t (log q(x) - log z) + (1 - t) log p0(x) + t (1 - t) w(x, t),   p0 = N(0, I),
with w: (x, t) -> R and a drift mu: (x, t) -> R^d, both the example's Fourier MLP (x embedding
Linear(d, 64); time embedding [sin(c t + phi), cos(c t + phi)] with 64 fixed frequencies
linspace(0.1, 100) and learned phases -> Linear(128, 64) -> GELU -> Linear(64, 64); the sum, then
4 x (GELU, Linear(64, 64)), then GELU, Linear(64, out); exact erf GELU), and a learned scalar
log z. With G = t grad log q - (1 - t) x + t (1 - t) grad_x w and
    lhs = log q - log z + |x|^2 / 2 + (d/2) log 2 pi + (1 - 2t) w + t (1 - t) d_t w,
the residuals are
    ODE (continuity):               r = lhs + div_x mu + G . mu
    SDE (Fokker-Planck, sigma = sqrt 2): r = lhs + div_x mu + G . mu - |G|^2
                                         - t Lap log q + (1 - t) d - t (1 - t) Lap_x w,
the loss is mean(r^2) over B = 512 collocation points (the example's default batch), and one
step is the loss, its gradient with respect to every weight (both networks and log z) and one
Adam step (lr 1e-3, PyTorch's defaults). log q, grad log q and Lap log q are the targets'
closed forms (gmm d = 2, mw5 d = 5, mw50 d = 50), computed inside every step on every side.

For each target the script draws all weights (Glorot-uniform matrices, uniform biases, normal
phases, a nonzero last layer so that every weight has a gradient) and the points (x uniform on the
target's collocation box, t uniform on [0, 1]) with a seeded NumPy generator and writes them to
files. physgrad (`pinn_sampling --time-step`, which runs the example's own `train_step`: the
`pde!` losses: forward jets, except nested reverse mode for w in the ODE loss), PyTorch and JAX then compute the same step on the same numbers,
and the script stops unless they agree on the loss to 1e-8 (relative), on the squared norm of
the weight gradient to 1e-6 and on the squared norm of the first Adam update to 1e-6. Only then
are timing rounds run, alternating physgrad / PyTorch (two ways) / JAX; each side reports the
median of REPS steps per round (physgrad's after one warm-up step, the peers' after the checks'
steps and JAX's compilation), and the median over rounds is compared.

* PyTorch autograd (eager, double backward): grad_x w and d_t w by one autograd.grad with
  create_graph, Lap_x w by d further grad calls (SDE only), div mu by d VJPs, loss.backward(),
  torch.optim.Adam.
* PyTorch torch.func (eager, vmapped per-point transforms): grad for (grad_x w, d_t w), jacfwd of
  it for the Hessian diagonal (SDE), jacfwd of mu for div mu, grad_and_value for the weights,
  torch.optim.Adam (foreach).
* JAX (jit): the same per-point transforms (jax.grad, jacfwd) under vmap, value_and_grad for the
  weights, the Adam update written out, all in one jitted step.

Threads: every library gets PHYSGRAD_TORCH_THREADS threads (default 1; otherwise it must be
the machine's core count): torch.set_num_threads, RAYON_NUM_THREADS for physgrad (whose step
deals its tapes to that many threads), and for JAX at 1 XLA's single-thread CPU flags, at the
core count XLA's default pool (one thread per core; the flags used to stay on, which left
JAX on one thread).

Run (from the repository root):
    cargo build --release --example pinn_sampling
    PHYSGRAD_TORCH_THREADS=1 ~/.cache/physgrad-peers-venv/bin/python -W ignore \
        benches/peers/pinn_peers.py [--targets gmm,mw5,mw50] [--losses ode,sde] \
        [--rounds 3] [--reps 5] [--check-only] [--also-bin old=/path/to/pinn_sampling]
Prints one JSON line per (target, loss) on stdout and a Markdown table on stderr.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

THREADS = int(os.environ.get("PHYSGRAD_TORCH_THREADS", "1"))
if THREADS == 1:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               " --xla_cpu_multi_thread_eigen=false"
                               " intra_op_parallelism_threads=1")
elif THREADS != os.cpu_count():
    # XLA's CPU client sizes its thread pool by the machine, not by a flag.
    sys.exit(f"PHYSGRAD_TORCH_THREADS={THREADS}: use 1 or the machine's {os.cpu_count()} cores")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.func as tf  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_enable_x64", True)
torch.set_num_threads(THREADS)
torch.set_default_dtype(torch.float64)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BIN = os.path.join(ROOT, "target", "release", "examples", "pinn_sampling")
CHANNELS, BLOCKS, BATCH = 64, 4, 512
FREQS = np.linspace(0.1, 100.0, CHANNELS)
LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8


# ---------------------------------------------------------------- targets (closed forms)
def target(name):
    """(d, factors, box): factors are ('mix', means, var), ('well', delta) or ('gauss',)."""
    if name == "gmm":
        return 2, [("mix", (-5.0, 0.0, 5.0), 0.3)] * 2, [(-7.74, 7.74)] * 2
    d, delta = {"mw5": (5, 4.0), "mw50": (50, 2.0)}[name]
    wells = 5
    w = math.sqrt(delta) + 2.5
    factors = [("well", delta) if i < wells else ("gauss",) for i in range(d)]
    box = [(-w, w) if i < wells else (-5.0, 5.0) for i in range(d)]
    return d, factors, box


def log_q_derivs(xp, factors, x):
    """log q [B], grad log q [B, d], Lap log q [B] with the array module `xp` (torch or jnp)."""
    cols = []
    for i, f in enumerate(factors):
        xi = x[:, i]
        if f[0] == "mix":
            _, means, var = f
            e = xp.stack([-(xi - m) ** 2 / (2 * var) for m in means], 1)
            top = e.max(1)
            top = top.values if hasattr(top, "values") else top
            r = xp.exp(e - top[:, None])
            s = r.sum(1)
            r = r / s[:, None]
            gk = xp.stack([-(xi - m) / var for m in means], 1)
            val = top + xp.log(s) - math.log(len(means)) - 0.5 * math.log(2 * math.pi * var)
            g = (r * gk).sum(1)
            h = (r * (gk * gk - 1.0 / var)).sum(1) - g * g
        elif f[0] == "well":
            u = xi * xi - f[1]
            val, g, h = -u * u, -4.0 * xi * u, -4.0 * (3.0 * xi * xi - f[1])
        else:
            val, g, h = -0.5 * xi * xi, -xi, -xp.ones_like(xi)
        cols.append((val, g, h))
    lq = sum(c[0] for c in cols)
    gq = xp.stack([c[1] for c in cols], 1)
    lap = sum(c[2] for c in cols)
    return lq, gq, lap


# ---------------------------------------------------------------- weights and points
def net_shapes(d, out):
    """The Fourier MLP's parameters in physgrad's store order."""
    c = CHANNELS
    shapes = [("phase", (c,)), ("time_in.w", (2 * c, c)), ("time_in.b", (c,)),
              ("time_out.w", (c, c)), ("time_out.b", (c,)), ("input.w", (d, c)), ("input.b", (c,))]
    for k in range(BLOCKS):
        shapes += [(f"block{k}.w", (c, c)), (f"block{k}.b", (c,))]
    return shapes + [("output.w", (c, out)), ("output.b", (out,))]


def init(d, box, seed):
    """Weights of w, then mu, then log z (store order), and the points [B, d + 1]."""
    rng = np.random.default_rng(seed)
    params = []
    for out in (1, d):
        for name, shape in net_shapes(d, out):
            if name == "phase":
                params.append(rng.standard_normal(shape))
            elif name.endswith(".w"):
                a = math.sqrt(6.0 / sum(shape)) * (0.3 if name.startswith("output") else 1.0)
                params.append(rng.uniform(-a, a, shape))
            else:
                params.append(rng.uniform(-0.1, 0.1, shape))
    params.append(np.array([0.3]))
    lo, hi = np.array(box).T
    x = np.empty((BATCH, d + 1))
    x[:, :d] = lo + (hi - lo) * rng.uniform(size=(BATCH, d))
    x[:, d] = rng.uniform(size=BATCH)
    return params, x


def split(params):
    """(w's list, mu's list, log z)."""
    n = len(net_shapes(1, 1))
    return params[:n], params[n:2 * n], params[2 * n]


# ---------------------------------------------------------------- the network and the residual
def fourier_mlp(xp, gelu, p, x, t):
    """f(x, t) for x [..., d], t [..., 1] (batched) or x [d], t [1] (one point)."""
    phase, wti, bti, wto, bto, win, bin_ = p[:7]
    arg = t * FREQ[xp] + phase
    e = xp.concatenate([xp.sin(arg), xp.cos(arg)], -1) if xp is jnp else \
        torch.cat([torch.sin(arg), torch.cos(arg)], -1)
    h = x @ win + bin_ + (gelu(e @ wti + bti) @ wto + bto)
    for k in range(BLOCKS):
        h = gelu(h) @ p[7 + 2 * k] + p[8 + 2 * k]
    return gelu(h) @ p[-2] + p[-1]


FREQ = {torch: torch.tensor(FREQS), jnp: jnp.asarray(FREQS)}


def residual(kind, d, logz, x, t, lq, gq, lapq, w, wt, wx, lapw, mu, div):
    """r of the ODE or SDE loss from the networks' values and derivatives (shapes [B] / [B, d])."""
    s = t * (1 - t)
    lhs = (lq - logz + 0.5 * (x * x).sum(-1) + 0.5 * d * math.log(2 * math.pi)
           + (1 - 2 * t) * w + s * wt)
    g = t[..., None] * gq - (1 - t)[..., None] * x + s[..., None] * wx
    r = lhs + div + (g * mu).sum(-1)
    if kind == "sde":
        r = r - (g * g).sum(-1) - (t * lapq - (1 - t) * d) - s * lapw
    return r


# ---------------------------------------------------------------- PyTorch
def torch_gelu(h):
    return torch.nn.functional.gelu(h)


class TorchStep:
    """One training step in eager PyTorch; `mode` is 'autograd' or 'func'."""

    def __init__(self, kind, factors, d, params, x, mode):
        self.kind, self.factors, self.d, self.mode = kind, factors, d, mode
        self.params = [torch.tensor(a, requires_grad=True) for a in params]
        self.opt = torch.optim.Adam(self.params, lr=LR, betas=(BETA1, BETA2), eps=EPS,
                                    foreach=True)
        self.x = torch.tensor(x[:, :d])
        self.t = torch.tensor(x[:, d])

    def loss_autograd(self):
        d, (pw, pm, logz) = self.d, split(self.params)
        x = self.x.clone().requires_grad_(True)
        t = self.t.clone().requires_grad_(True)
        with torch.no_grad():
            lq, gq, lapq = log_q_derivs(torch, self.factors, self.x)
        w = fourier_mlp(torch, torch_gelu, pw, x, t[:, None])[:, 0]
        wx, wt = torch.autograd.grad(w.sum(), (x, t), create_graph=True)
        lapw = None
        if self.kind == "sde":
            lapw = sum(torch.autograd.grad(wx[:, i].sum(), x, create_graph=True)[0][:, i]
                       for i in range(d))
        mu = fourier_mlp(torch, torch_gelu, pm, x, t[:, None])
        div = sum(torch.autograd.grad(mu[:, j].sum(), x, create_graph=True)[0][:, j]
                  for j in range(d))
        r = residual(self.kind, d, logz[0], self.x, self.t, lq, gq, lapq, w, wt, wx, lapw, mu,
                     div)
        return (r * r).mean()

    def loss_func(self, params):
        d, (pw, pm, logz) = self.d, split(list(params))
        with torch.no_grad():
            lq, gq, lapq = log_q_derivs(torch, self.factors, self.x)

        def wfn(x, t):
            return fourier_mlp(torch, torch_gelu, pw, x, t[None])[0]

        def mufn(x, t):
            return fourier_mlp(torch, torch_gelu, pm, x, t[None])

        def point(x, t):
            wx, wt = tf.grad(wfn, argnums=(0, 1))(x, t)
            lapw = torch.zeros(()) if self.kind != "sde" else \
                torch.diagonal(tf.jacfwd(tf.grad(wfn), argnums=0)(x, t)).sum()
            div = torch.diagonal(tf.jacfwd(mufn, argnums=0)(x, t)).sum()
            return wfn(x, t), wt, wx, lapw, mufn(x, t), div

        w, wt, wx, lapw, mu, div = tf.vmap(point)(self.x, self.t)
        r = residual(self.kind, d, logz[0], self.x, self.t, lq, gq, lapq, w, wt, wx, lapw, mu,
                     div)
        return (r * r).mean()

    def __call__(self):
        """One step: returns (loss, squared gradient norm)."""
        self.opt.zero_grad(set_to_none=True)
        if self.mode == "autograd":
            loss = self.loss_autograd()
            loss.backward()
        else:
            grads, loss = tf.grad_and_value(self.loss_func)(tuple(p.detach()
                                                                 for p in self.params))
            for p, g in zip(self.params, grads):
                p.grad = g
        sq = sum(float((p.grad ** 2).sum()) for p in self.params)
        self.opt.step()
        return float(loss), sq

    def flat(self):
        return np.concatenate([p.detach().numpy().ravel() for p in self.params])


# ---------------------------------------------------------------- JAX
def jax_gelu(h):
    return jax.nn.gelu(h, approximate=False)


class JaxStep:
    """One jitted training step (loss, gradient, Adam update)."""

    def __init__(self, kind, factors, d, params, x):
        self.params = [jnp.asarray(a) for a in params]
        self.m = [jnp.zeros_like(a) for a in self.params]
        self.v = [jnp.zeros_like(a) for a in self.params]
        self.k = jnp.asarray(0.0)
        self.x, self.t = jnp.asarray(x[:, :d]), jnp.asarray(x[:, d])

        def loss(params, xs, ts):
            pw, pm, logz = split(params)
            lq, gq, lapq = log_q_derivs(jnp, factors, xs)

            def wfn(x, t):
                return fourier_mlp(jnp, jax_gelu, pw, x, t[None])[0]

            def mufn(x, t):
                return fourier_mlp(jnp, jax_gelu, pm, x, t[None])

            def point(x, t):
                wx, wt = jax.grad(wfn, argnums=(0, 1))(x, t)
                lapw = 0.0 if kind != "sde" else jnp.trace(jax.jacfwd(jax.grad(wfn))(x, t))
                div = jnp.trace(jax.jacfwd(mufn)(x, t))
                return wfn(x, t), wt, wx, lapw, mufn(x, t), div

            w, wt, wx, lapw, mu, div = jax.vmap(point)(xs, ts)
            r = residual(kind, d, logz[0], xs, ts, lq, gq, lapq, w, wt, wx, lapw, mu, div)
            return jnp.mean(r * r)

        def step(ps, ms, vs, k, xs, ts):
            val, gs = jax.value_and_grad(loss)(ps, xs, ts)
            k = k + 1
            ms = [m + (1 - BETA1) * (g - m) for m, g in zip(ms, gs)]
            vs = [BETA2 * v + (1 - BETA2) * g * g for v, g in zip(vs, gs)]
            size = LR / (1 - BETA1 ** k)
            bc2 = jnp.sqrt(1 - BETA2 ** k)
            ps = [p - size * (m / (jnp.sqrt(v) / bc2 + EPS)) for p, m, v in zip(ps, ms, vs)]
            sq = sum(jnp.sum(g * g) for g in gs)
            return ps, ms, vs, k, val, sq

        self.step = jax.jit(step)

    def __call__(self):
        self.params, self.m, self.v, self.k, val, sq = self.step(
            self.params, self.m, self.v, self.k, self.x, self.t)
        jax.block_until_ready(self.params)
        return float(val), float(sq)

    def flat(self):
        return np.concatenate([np.asarray(p).ravel() for p in self.params])


# ---------------------------------------------------------------- driver
def physgrad(name, kind, wp, xp, reps, binary=BIN):
    env = dict(os.environ, RAYON_NUM_THREADS=str(THREADS))
    out = subprocess.run([binary, "--time-step", name, kind, wp, xp, str(reps)],
                         stdout=subprocess.PIPE, text=True, check=True, env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")][0]


def median_time(reps, f):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def agree(what, a, b, tol):
    if not abs(a - b) <= tol * abs(b):
        sys.exit(f"{what} disagree: {a!r} vs {b!r} (relative {abs(a - b) / abs(b):.2e})")


def run(name, kind, rounds, reps, tmp, check_only, extra):
    d, factors, box = target(name)
    params, x = init(d, box, 1000 + d)
    flat0 = np.concatenate([a.ravel() for a in params])
    wp, xp = os.path.join(tmp, f"w_{name}.bin"), os.path.join(tmp, f"x_{name}.bin")
    flat0.astype("<f8").tofile(wp)
    x.astype("<f8").tofile(xp)
    ours = physgrad(name, kind, wp, xp, 1)
    for label, binary in extra.items():  # another build must compute the same step
        other = physgrad(name, kind, wp, xp, 1, binary)
        for what, tol in [("loss", 1e-8), ("grad_sq", 1e-6), ("step_sq", 1e-6)]:
            agree(f"{name}/{kind} {what} {label}/physgrad", other[what], ours[what], tol)
    sides = {"torch": TorchStep(kind, factors, d, params, x, "autograd"),
             "func": TorchStep(kind, factors, d, params, x, "func"),
             "jax": JaxStep(kind, factors, d, params, x)}
    checks = {}
    for lib, f in sides.items():
        loss, sq = f()  # the first step from the file's weights (JAX: also compiles)
        checks[lib] = (loss, sq, float(((f.flat() - flat0) ** 2).sum()))
    ref = checks["torch"]
    worst = [0.0, 0.0, 0.0]
    for lib, vals in [("physgrad", (ours["loss"], ours["grad_sq"], ours["step_sq"]))] + \
            list(checks.items()):
        for i, (what, tol) in enumerate([("loss", 1e-8), ("grad_sq", 1e-6),
                                         ("adam step_sq", 1e-6)]):
            agree(f"{name}/{kind} {what} {lib}/torch", vals[i], ref[i], tol)
            worst[i] = max(worst[i], abs(vals[i] - ref[i]) / abs(ref[i]))
    print(json.dumps({"target": name, "loss_kind": kind, "d": d, "check": "ok", "loss": ref[0],
                      "grad_sq": ref[1], "step_sq": ref[2], "params": int(flat0.size),
                      "worst_rel": worst}), file=sys.stderr, flush=True)
    if check_only:
        return None
    times = {k: [] for k in ["physgrad", *extra, *sides]}
    for _ in range(rounds):
        times["physgrad"].append(physgrad(name, kind, wp, xp, reps)["seconds"])
        for label, binary in extra.items():
            times[label].append(physgrad(name, kind, wp, xp, reps, binary)["seconds"])
        for lib, f in sides.items():
            times[lib].append(median_time(reps, f))
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    best_torch = min(med["torch"], med["func"])
    row = {"target": name, "loss_kind": kind, "d": d, "batch": BATCH, "threads": THREADS,
           "rounds": rounds, "reps": reps, **{f"{k}_s": v for k, v in med.items()},
           "physgrad/torch_autograd": med["physgrad"] / med["torch"],
           "physgrad/torch_func": med["physgrad"] / med["func"],
           "physgrad/torch_best": med["physgrad"] / best_torch,
           "physgrad/jax": med["physgrad"] / med["jax"],
           **{f"{k}/torch_autograd": med[k] / med["torch"] for k in extra},
           **{f"{k}/jax": med[k] / med["jax"] for k in extra},
           "rounds_s": times}
    print(json.dumps(row), flush=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--targets", default="gmm,mw5,mw50")
    ap.add_argument("--losses", default="ode,sde")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--check-only", action="store_true")
    ap.add_argument("--also-bin", action="append", default=[], metavar="LABEL=PATH",
                    help="another pinn_sampling build to time in the same rounds (e.g. the "
                         "previous commit's), after checking it computes the same step")
    args = ap.parse_args()
    extra = dict(b.split("=", 1) for b in args.also_bin)
    print(f"# threads {THREADS} (torch, RAYON_NUM_THREADS, XLA); torch {torch.__version__}, "
          f"jax {jax.__version__}; load {os.getloadavg()}", file=sys.stderr, flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.targets.split(","):
            for kind in args.losses.split(","):
                rows.append(run(name, kind, args.rounds, args.reps, tmp, args.check_only,
                                extra))
    if args.check_only:
        return
    print(f"# load {os.getloadavg()}", file=sys.stderr)
    print("| loss | target (d) | physgrad | PyTorch autograd | PyTorch func | JAX jit | "
          "/ autograd | / func | / JAX |", file=sys.stderr)
    for r in rows:
        ms = {k: f"{r[k + '_s'] * 1e3:.4g} ms" for k in ("physgrad", "torch", "func", "jax")}
        print(f"| {r['loss_kind']} | {r['target']} ({r['d']}) | {ms['physgrad']} | {ms['torch']} "
              f"| {ms['func']} | {ms['jax']} | {r['physgrad/torch_autograd']:.3g} | "
              f"{r['physgrad/torch_func']:.3g} | {r['physgrad/jax']:.3g} |", file=sys.stderr)
    for label in extra:
        print(f"\n| loss | target (d) | {label} | / autograd | / JAX |", file=sys.stderr)
        for r in rows:
            print(f"| {r['loss_kind']} | {r['target']} ({r['d']}) | "
                  f"{r[label + '_s'] * 1e3:.4g} ms | {r[label + '/torch_autograd']:.3g} | "
                  f"{r[label + '/jax']:.3g} |", file=sys.stderr)


if __name__ == "__main__":
    main()
