"""bnlab's curvature.csv (log.curvature_source "probe", run/curvature.h) against PyTorch in float64.

usage: curvature_torch.py RUN_DIR STEP [--offset K] [--eval-bn]

Loads RUN_DIR/checkpoints/step-STEP (the parameters the row of STEP was measured at: rows are logged before the
step's update), builds the network with torch.nn modules in float64 (scripts/torch_load.py's build: BatchNorm1d in
training mode, normalizing by the batch's own statistics, biased variance, as bnlab's Algorithm 1), takes the batch
the row measured — log.curvature_source "probe": the first min(log.probe_size, train.batch_size) test images;
"batch" (the step's own): the training set itself, which the run must have cut to one batch (data.train_limit =
train.batch_size), so that every step's batch is the same examples in another order — scaled in float32 as bnlab
does, and computes,
with exact Hessian-vector products (double backward, float64):
  loss, ‖g‖, the sharpness gᵀHg/‖g‖² and the top eigenvalue after the same 20 power iterations from g/‖g‖
  (the reference for bnlab's top_eig), and the converged top eigenvalue (up to 1000 iterations) for the report.
The tolerance of top_eig is derived, not chosen: per Hessian-vector product, bnlab's relative error is bounded by
  d_trunc  the central difference's truncation at h = 1e-3: ‖(g(θ+hv) − g(θ−hv))/2h − Hv‖ / ‖Hv‖ in float64;
  d_theta  θ ± hv rounded to float32 (θ a float32 checkpoint): the step actually taken is hv + r, r computed exactly,
           giving an error ‖Hr‖/h / ‖Hv‖;
  d_grad   the float32 gradient's rounding: ‖g32 − g64‖ (torch's float32 gradient against float64 at the same θ),
           entering each product as (e₊ − e₋)/2h, at most ‖g32 − g64‖/h / ‖Hv‖;
  (each at the converged direction, where ‖Hv‖ = |λ|, and the largest of the iterates' ‖Hv‖-relative values)
and a Rayleigh quotient after k products whose every product is off by a relative δ is off by at most (2k + 1)·δ
relative (each product moves the next iterate by at most δ, the quotient is first-order in the iterate: 2 per
iterate, 1 for the last product itself). tol(top_eig) = (2·20 + 1)·(d_trunc + d_theta + d_grad); tol(sharpness) =
(2 + 1)·(...) (one product, and the start vector g32/‖g32‖ off by ‖g32 − g64‖/‖g‖). Loss and ‖g‖: float32
rounding of sums of products, u·(Σ fan-in + batch) relative (u = 2^-24: 6.8e-5 on the paper's nets).
--offset K: the reference on probe images K.. (a planted error: the wrong batch); --eval-bn: BN by its running
statistics (a planted error: evaluation mode). Both must fail: the negative controls.
Prints one line per quantity and exits 0 if every one is within its tolerance, 1 if not.
"""
import json
import math
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from torch_load import build, read_safetensors  # noqa: E402

ITERS = 20  # run/curvature.h CURV_ITERS
H = 1e-3    # run/curvature.h CURV_FD_STEP


def idx(path):
    import gzip
    raw = gzip.open(path).read()
    magic = struct.unpack(">I", raw[:4])[0]
    dims = [struct.unpack(">I", raw[4 + 4 * i:8 + 4 * i])[0] for i in range(magic & 0xFF)]
    off = 4 + 4 * len(dims)
    t = torch.frombuffer(bytearray(raw[off:]), dtype=torch.uint8)
    return t.reshape(dims[0], -1) if len(dims) > 1 else t


def main():
    args = sys.argv[1:]
    offset = 0
    eval_bn = "--eval-bn" in args
    if "--offset" in args:
        offset = int(args[args.index("--offset") + 1])
    run, step = args[0], int(args[1])
    tensors, meta = read_safetensors(os.path.join(run, "checkpoints", f"step-{step:09d}.safetensors"))
    cfg = json.loads(meta["config"])
    rows = [r.split(",") for r in open(os.path.join(run, "curvature.csv")).read().splitlines()]
    col = {k: i for i, k in enumerate(rows[0])}
    row = next(r for r in rows[1:] if int(r[col["step"]]) == step)
    ours = {k: float(row[col[k]]) for k in ("batch_loss", "grad_norm", "sharpness", "top_eig")}

    d = cfg["data"]
    assert not d.get("binarize") and not d.get("standardize"), "only scaling is reproduced here"
    if cfg["log"].get("curvature_source") == "probe":
        B, images, labels = min(cfg["log"]["probe_size"], cfg["train"]["batch_size"]), "test_images", "test_labels"
    else:
        # The step's own batch: reproducible when the training set is one batch (data.train_limit = batch size):
        # every step's batch is those examples in some order, and the batch loss, BN's batch statistics and so the
        # Hessian do not depend on the order.
        B, images, labels = cfg["train"]["batch_size"], "train_images", "train_labels"
        assert d.get("train_limit") == B, "source batch: the run must have data.train_limit = train.batch_size"
    x32 = idx(d[images])[offset:offset + B].float() * torch.tensor(d["scale"], dtype=torch.float32)
    y = idx(d[labels])[offset:offset + B].long()

    state = {k[len("layers."):]: v for k, v in tensors.items() if k.startswith("layers.")}

    def net_of(dtype):
        net = build(meta)
        net.load_state_dict(state, strict=True)
        net = net.to(dtype)
        net.eval() if eval_bn else net.train()
        return net

    net = net_of(torch.float64)
    params = [p for p in net.parameters()]
    theta32 = torch.cat([p.detach().reshape(-1) for p in params]).float()  # the checkpoint's float32 values
    x = x32.double()

    def loss_at(ps, xx=x):
        # a functional forward with the parameters ps (same modules, train-mode BN on this batch)
        out, k = xx, 0
        for m in net:
            if isinstance(m, torch.nn.Linear):
                w, b = ps[k], (ps[k + 1] if m.bias is not None else None)
                k += 2 if m.bias is not None else 1
                out = torch.nn.functional.linear(out, w, b)
            elif isinstance(m, torch.nn.BatchNorm1d):
                w, b = (ps[k], ps[k + 1]) if m.affine else (None, None)
                k += 2 if m.affine else 0
                out = torch.nn.functional.batch_norm(out, m.running_mean.to(out.dtype), m.running_var.to(out.dtype), w, b,
                                                     training=not eval_bn, momentum=0.0, eps=m.eps)
            else:
                out = m(out)
        return torch.nn.functional.cross_entropy(out, y)

    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]

    def unflat(v):
        return [t.reshape(s) for t, s in zip(torch.split(v, sizes), shapes)]

    def grad(theta, dtype=torch.float64, xx=x):
        ps = [t.clone().to(dtype).requires_grad_(True) for t in unflat(theta)]
        L = loss_at(ps, xx.to(dtype))
        gs = torch.autograd.grad(L, ps)
        return L.detach(), torch.cat([g.reshape(-1) for g in gs])

    theta = theta32.double()
    ps = [t.clone().requires_grad_(True) for t in unflat(theta)]
    L = loss_at(ps)
    gs = torch.autograd.grad(L, ps, create_graph=True)
    gflat = torch.cat([g.reshape(-1) for g in gs])

    def hvp(v):
        hv = torch.autograd.grad(gflat, ps, grad_outputs=v, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv]).detach()

    g64 = gflat.detach()
    _, g32 = grad(theta32, torch.float32, x32)
    dg = (g32.double() - g64).norm().item()
    gn = g64.norm().item()

    # The same algorithm, exact products: 20 iterations from g/‖g‖.
    v = g64 / gn
    hv = hvp(v)
    sharp = torch.dot(v, hv).item()
    lam, hvs = sharp, [hv.norm().item()]
    for _ in range(1, ITERS):
        v = hv / hv.norm()
        hv = hvp(v)
        lam = torch.dot(v, hv).item()
        hvs.append(hv.norm().item())
    lam20, v20 = lam, v
    # Converged (for the report: how far 20 iterations are from the eigenvalue itself).
    conv, prev = lam, None
    for k in range(1000):
        v = hv / hv.norm()
        hv = hvp(v)
        prev, conv = conv, torch.dot(v, hv).item()
        if abs(conv - prev) <= 1e-12 * abs(conv):
            break
    iters_conv = ITERS + k + 1

    # The per-product error terms, at the 20th iterate (and the iterates' smallest ‖Hv‖ for d_grad's worst case).
    hv20 = hvp(v20)
    nhv = hv20.norm().item()
    _, gp = grad(theta + H * v20)
    _, gm = grad(theta - H * v20)
    d_trunc = ((gp - gm) / (2 * H) - hv20).norm().item() / nhv
    r = ((theta + H * v20).float().double() - (theta - H * v20).float().double()) / 2 - H * v20
    d_theta = hvp(r).norm().item() / H / nhv
    d_grad = dg / H / min(hvs)
    delta = d_trunc + d_theta + d_grad
    tol_eig = (2 * ITERS + 1) * delta
    tol_sharp = 3 * delta + dg / gn
    # Loss and ‖g‖: float32 sums of products, each of n terms off by at most γ_n ≈ n·u relative (u = 2^-24; Higham's
    # bound |fl(xᵀy) − xᵀy| ≤ γ_n |x|ᵀ|y|, read relative to the result: no cancellation assumed), chained through
    # every dense layer's fan-in and the batch mean.
    fan_in = sum(m.in_features for m in net if isinstance(m, torch.nn.Linear))
    tol_f32 = 2.0 ** -24 * (fan_in + B)

    fails = 0

    def report(name, ours_v, ref, tol, extra=""):
        nonlocal fails
        rel = abs(ours_v - ref) / abs(ref)
        ok = rel <= tol
        fails += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: bnlab {ours_v:.9g}, float64 torch {ref:.9g}, relative difference "
              f"{rel:.2e}, tolerance {tol:.2e}{extra}")

    tag = f"{run} step {step}" + (f" (planted: probe images from {offset})" if offset else "") + \
        (" (planted: BN in evaluation mode)" if eval_bn else "")
    print(f"{tag}: {sum(sizes)} parameters, batch {B}; per-product error bounds d_trunc {d_trunc:.2e}, "
          f"d_theta {d_theta:.2e}, d_grad {d_grad:.2e} (‖g32 − g64‖ = {dg:.2e}, ‖g‖ = {gn:.3g})")
    report("batch_loss", ours["batch_loss"], L.item(), tol_f32)
    report("grad_norm", ours["grad_norm"], gn, tol_f32)
    report("sharpness", ours["sharpness"], sharp, tol_sharp)
    report("top_eig", ours["top_eig"], lam20, tol_eig,
           f"; converged eigenvalue {conv:.9g} after {iters_conv} iterations ({abs(lam20 - conv) / abs(conv):.2e} "
           f"from the 20-iteration value)")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
