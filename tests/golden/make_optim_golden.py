#!/usr/bin/env python3
"""Reference optimiser trajectories from PyTorch, for tests/nn/optim.rs.

Run once (float64, CPU) with the peers' virtualenv:
    ~/.cache/physgrad-peers-venv/bin/python tests/golden/make_optim_golden.py > tests/golden/optim.txt

Problem: p ∈ R⁵, gradient g(p) = a·p³ − b (elementwise; the gradient of Σ a p⁴/4 − b p), set
explicitly as p.grad so that only the optimisers' arithmetic is compared. Each line is
    <config> <step> <p0> … <p4>
with the parameters after that step, printed with repr (round-trips exactly).
"""
import torch

torch.set_default_dtype(torch.float64)
P0 = [0.5, -1.2, 2.0, 0.1, -0.7]
A = [1.0, 0.5, 2.0, 3.0, 0.25]
B = [0.3, -0.2, 1.0, 0.0, 0.5]
STEPS = 30

CONFIGS = {
    "adam": lambda p: torch.optim.Adam([p], lr=0.1),
    "adam_l2": lambda p: torch.optim.Adam([p], lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    "adamw": lambda p: torch.optim.AdamW([p], lr=0.05, weight_decay=0.1),
    "rmsprop": lambda p: torch.optim.RMSprop([p], lr=0.01),
    "rmsprop_centered_momentum": lambda p: torch.optim.RMSprop(
        [p], lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.05, momentum=0.9, centered=True),
    "sgd_nesterov": lambda p: torch.optim.SGD([p], lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.01),
}


def main():
    a, b = torch.tensor(A), torch.tensor(B)
    print(f"# torch {torch.__version__}; g(p) = a*p*p*p - b; p0 = {P0}; a = {A}; b = {B}")
    for name, make in CONFIGS.items():
        p = torch.tensor(P0, requires_grad=True)
        opt = make(p)
        for step in range(1, STEPS + 1):
            with torch.no_grad():
                p.grad = a * p * p * p - b
            opt.step()
            print(name, step, " ".join(repr(v) for v in p.detach().tolist()))


if __name__ == "__main__":
    main()
