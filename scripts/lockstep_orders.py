"""How far float32 rounding alone moves a run: PyTorch repeats a bnlab run's steps (as torch_lockstep.py does: from
its first checkpoint, the same batches in the same order, plain SGD) in float64 once and in float32 several times,
each float32 run summing every batch in another order (the batch's rows permuted, a fixed random permutation per
step and run; run 0 keeps bnlab's order). The rows' order changes only the order of the sums over the batch (the
mean loss, dW = X^T dY): in exact arithmetic every run is the same. At each checkpoint it prints, over all tensors,
the largest relative distance (max|a - b| / max|b|) from float64 of bnlab, of the same-order float32 run, and the
smallest and largest of the float32 runs in the other orders: the spread bnlab's own float32 run is to be judged by.

usage: python3 lockstep_orders.py RUN_DIR [ORDERS]     (ORDERS: float32 runs in permuted orders, default 8)
"""
import glob
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_lockstep as tl  # noqa: E402  (the same model, data and step)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    orders = int(sys.argv[2]) if len(sys.argv) == 3 else 8
    paths = sorted(glob.glob(os.path.join(glob.escape(sys.argv[1]), "checkpoints", "step-*.safetensors")))
    if len(paths) < 2:
        tl.refuse(f"{sys.argv[1]}: expected at least 2 checkpoints in checkpoints/, found {len(paths)}")
    ckpts = []
    for p in paths:
        tensors, meta = tl.read_safetensors(p)
        ckpts.append((int(meta["step"]), tensors))
    _, meta = tl.read_safetensors(paths[0])
    config = json.loads(meta["config"])
    tl.check_covered(config)
    torch.set_flush_denormal(bool(config["train"]["flush_denormals"]))
    x_all, y_all = tl.load_train(config)
    batch, lr = config["train"]["batch_size"], config["train"]["optimizer"]["lr"]
    per_epoch = x_all.shape[0] // batch
    start, first = ckpts[0]
    state = {k[len("layers."):]: v for k, v in first.items() if k.startswith("layers.")}
    nets = []  # (name, dtype, net, permutation generator or None)
    for k in range(-1, orders):
        dtype = torch.float64 if k < 0 else torch.float32
        net = tl.build(config, int(meta["input_features"]))
        net.load_state_dict(state, strict=True)
        gen = torch.Generator().manual_seed(1000 + k) if k > 0 else None
        nets.append(("f64" if k < 0 else f"f32-order{k}", dtype, net.to(dtype).train(), gen))

    def order_for(step):
        for c, t in ckpts:
            if c >= step + 1 and (c - 1) // per_epoch == step // per_epoch:
                return t["trainer.order"].long()
        tl.refuse(f"no checkpoint after step {step} in its epoch: checkpoint at least once an epoch")

    print(f"{sys.argv[1]}: lr {lr}, batch {batch}; max over tensors of max|a-b|/max|b| against float64")
    print(f"{'step':>6s} {'bnlab':>10s} {'f32 same order':>15s} {'f32 other orders: min':>22s} {'max':>10s} "
          f"{'bnlab inside':>13s}")
    done = start
    for c, bn_tensors in ckpts[1:]:
        for step in range(done, c):
            idx = order_for(step)[(step % per_epoch) * batch:(step % per_epoch + 1) * batch]
            for _, dtype, net, gen in nets:
                rows = idx if gen is None else idx[torch.randperm(len(idx), generator=gen)]
                net.zero_grad()
                torch.nn.functional.cross_entropy(net(x_all[rows].to(dtype)), y_all[rows]).backward()
                with torch.no_grad():
                    for p in net.parameters():
                        p -= lr * p.grad
        done = c
        ref = nets[0][2].state_dict()
        dist = {}
        for name, _, net, _ in nets[1:]:
            sd = net.state_dict()
            dist[name] = max(tl.rel(sd[k], ref[k]) for k in ref if not k.endswith("num_batches_tracked"))
        ours = max(tl.rel(bn_tensors["layers." + k], ref[k]) for k in ref if not k.endswith("num_batches_tracked"))
        others = [v for n, v in dist.items() if n != "f32-order0"]
        lo, hi = min(others + [dist["f32-order0"]]), max(others + [dist["f32-order0"]])
        inside = "yes" if lo <= ours <= hi else ("below" if ours < lo else "above")
        print(f"{c:6d} {ours:10.2e} {dist['f32-order0']:15.2e} {min(others):22.2e} {max(others):10.2e} "
              f"{inside:>13s}")


if __name__ == "__main__":
    main()
