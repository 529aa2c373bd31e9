"""What the stated grid problem of InvNet experiment 1 can reach at best, per case.

For one (c, nu) at a time, a single 64 x 64 field is fitted directly (no generator) to the same
loss as `examples/invnet_burgers.rs` -- Sobel first derivatives, the [1 2 1]/4-smoothed second
difference, replicate padding, the residual U_t + U U_x - nu U_xx on the whole grid, plus the
initial condition (weight 100) -- by L-BFGS (torch, 3000 iterations, float64), and compared
with the explicit Rusanov reference (zero-gradient ends, 1024 cells) by relative L2 error.
Variants: with the plain three-point U_xx, and with the residual restricted to t-interior rows.

Run: ~/.cache/physgrad-peers-venv/bin/python benches/peers/invnet_burgers_floor.py
"""
import numpy as np, torch, sys, time
torch.set_num_threads(1)
def ref(c, nu, n=1025, nx=64, nt=64, T=0.2):
    x = np.linspace(0,1,n); dx = x[1]-x[0]
    u = 0.5*(1-np.cos(2*np.pi*c*x))
    out = np.zeros((nx, nt)); k = (n-1)//nx
    t=0.0
    for j in range(nt):
        tj = j*T/nt
        while t < tj-1e-15:
            dt = min(0.45/(np.abs(u).max()/dx + 2*nu/dx**2), tj-t)
            g = np.concatenate([[u[0]],u,[u[-1]]])
            l, r = g[:-1], g[1:]
            F = 0.25*(l*l+r*r) - 0.5*np.maximum(abs(l),abs(r))*(r-l)
            u = u - dt/dx*(F[1:]-F[:-1]) + nu*dt/dx**2*(g[2:]-2*g[1:-1]+g[:-2])
            t += dt
        out[:, j] = u[::k][:nx]
    return out
def pad(f, ax):
    return torch.cat([f.narrow(ax,0,1), f, f.narrow(ax,f.shape[ax]-1,1)], ax)
def sh(f, ax, o):
    n=f.shape[ax]; p=pad(f,ax); return p.narrow(ax,1+o,n)
def smooth(f, ax): return 0.25*(sh(f,ax,-1)+2*f+sh(f,ax,1))
def d1(f, ax, h): return (sh(f,ax,1)-sh(f,ax,-1))/(2*h)
def d2(f, ax, h): return (sh(f,ax,1)-2*f+sh(f,ax,-1))/h**2
def solve(c, nu, smoothlap=True, excl=0, iters=3000):
    hx, ht = 1/64, 0.2/64
    x = torch.arange(64, dtype=torch.float64)/64
    ic = 0.5*(1-torch.cos(2*np.pi*c*x))
    U = ic[:,None].repeat(1,64).clone().requires_grad_(True)
    opt = torch.optim.LBFGS([U], lr=1, max_iter=iters, history_size=50, tolerance_grad=1e-14, tolerance_change=1e-16, line_search_fn='strong_wolfe')
    def loss():
        opt.zero_grad()
        ux = d1(smooth(U,1),0,hx); ut = d1(smooth(U,0),1,ht)
        uxx = d2(smooth(U,1),0,hx) if smoothlap else d2(U,0,hx)
        r = ut + U*ux - nu*uxx
        if excl: r = r[:, 1:-1]
        L = (r**2).mean() + 100*((U[:,0]-ic)**2).mean()
        L.backward(); return L
    opt.step(loss)
    return U.detach().numpy()
for c, nu in [(4,0.02),(6,0.002),(2,0.03),(5.5,0.006),(4,0.0)]:
    R = ref(c, nu); Rc = ref(c,nu,n=65)
    fl = np.linalg.norm(Rc-R)/np.linalg.norm(R)
    res = []
    for sl, ex in [(True,0),(False,0),(True,1)]:
        t0=time.time(); U = solve(c, nu, sl, ex); res.append((sl,ex,np.linalg.norm(U-R)/np.linalg.norm(R), time.time()-t0))
    print(c, nu, "coarse-ref err %.3f"%fl, " ".join("sl=%d ex=%d err=%.3f (%.0fs)"%r for r in res), flush=True)
