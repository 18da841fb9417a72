"""Training in lockstep with PyTorch: PyTorch repeats a bnlab run's steps and every parameter and running statistic
is compared with bnlab's checkpoints.

PyTorch starts from the run's first checkpoint (weights, running statistics, num_batches_tracked), takes the same
batches in the same order (each checkpoint's trainer.order: the epoch's shuffle, batch s of an epoch is
order[sB:(s+1)B]) and the same plain-SGD step, through the last checkpoint; at every checkpoint it compares. It runs
twice, in float32 and in float64. float32 against float64 measures what float32 rounding alone does to this run (two
float32 programs that sum in different orders drift apart by that much, and chaotic training amplifies it step by
step); bnlab passes when its own distance to float64 is within FACTOR times that, or below FLOOR.

The normalizations: BatchNorm1d and LayerNorm are torch.nn's; the others follow their papers' formulas (RMSNorm:
x / sqrt(mean(x^2) + eps) * g; Batch Renorm: r and d clipped, held constant in backprop, r_max/d_max on the schedule
of nn/bnvariants.h counted in num_batches_tracked; ghost BN: BatchNorm1d over blocks of k rows, a last block of one
row joining the one before; constant_stats: BN with the batch mean and variance detached; the ablation ladder's
options of a standard BN layer as nn/bnvariants.h states them: AblationBatchNorm below).

usage: python3 torch_lockstep.py RUN_DIR [--csv OUT.csv] [--ignore-options]
  --ignore-options: a negative control. Repeat the run with plain BatchNorm1d wherever the run had ablation options
  (normalize, affine, statistics, freeze_stats_after): the check must then fail.
  OUT.csv: step,tensor,bnlab_vs_f64,torch32_vs_f64,bnlab_vs_torch32 (relative: max|a - b| / max|b|)
exit 0 when every tensor agrees at every checkpoint, 1 otherwise (also when float32's own drift exceeds CHAOS: the
run is chaotic by then and nothing can be concluded), 2 for a run this check does not cover.
"""
import csv
import glob
import gzip
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_load  # noqa: E402  (the safetensors reader, shared)

FACTOR = 10.0  # bnlab may drift from float64 up to 10x as far as PyTorch's own float32 run does
FLOOR = 1e-5  # ... or by 1e-5 relative (84 float32 ulps): a few steps in, before the drift is measurable
CHAOS = 1e-3  # float32 alone moved the run this far: past here agreement says nothing, the run amplifies rounding
DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "U32": torch.int32}


def read_safetensors(path):
    return torch_load.read_safetensors(path, DTYPES)  # with trainer.order (U32): the batches of each step


def refuse(msg):
    print(f"torch_lockstep.py: {msg}", file=sys.stderr)
    sys.exit(2)


def momentum_of(spec):
    return None if spec["momentum"] == "cumulative" else spec["momentum"]


def update_momentum(m, nbt):
    return 1.0 / float(nbt) if m is None else m  # None: the cumulative average, as torch.nn.BatchNorm1d


class RMSNorm(torch.nn.Module):
    """Zhang & Sennrich (2019), eq. 4: y = x / sqrt(mean_j x_j^2 + eps) * g."""

    def __init__(self, f, eps):
        super().__init__()
        self.eps = eps
        self.weight = torch.nn.Parameter(torch.ones(f))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + self.eps) * self.weight


class GhostBatchNorm(torch.nn.BatchNorm1d):
    """BatchNorm1d over blocks of k rows in training, each block moving the running statistics."""

    def __init__(self, f, eps, momentum, k):
        super().__init__(f, eps=eps, momentum=momentum)
        self.k = k

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        b, k = x.shape[0], self.k
        nb = b // k if b % k == 1 and b > k else (b + k - 1) // k
        sizes = [k] * (nb - 1) + [b - (nb - 1) * k]
        return torch.cat([super(GhostBatchNorm, self).forward(p) for p in torch.split(x, sizes)])


class ConstantStatsBatchNorm(torch.nn.BatchNorm1d):
    """BN whose batch mean and variance are constants in backprop (the paper's §2 warning)."""

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        mu, var = x.mean(0).detach(), x.var(0, unbiased=False).detach()
        with torch.no_grad():
            self.num_batches_tracked += 1
            m = update_momentum(self.momentum, self.num_batches_tracked.item())
            n = x.shape[0]
            self.running_mean += m * (mu - self.running_mean)
            self.running_var += m * (var * n / (n - 1) - self.running_var)
        return (x - mu) / torch.sqrt(var + self.eps) * self.weight + self.bias


class AblationBatchNorm(torch.nn.Module):
    """BN's ablation ladder (nn/bnvariants.h), from its formulas: normalize by (m, s), the batch's mean and
    1/sqrt(var + eps) or, for statistics "population" and after freeze_stats_after batches, the running ones (as
    constants: no gradient flows into them); xhat = (x - m) s ("mean_variance"), x - m ("mean"), x s ("variance");
    y = weight xhat + bias, weight and bias trained ("learned"), kept ("frozen": requires_grad False) or absent
    ("none"). Running statistics as BatchNorm1d's, not moved once frozen; inference from the running statistics."""

    def __init__(self, f, spec):
        super().__init__()
        self.eps, self.momentum = spec["eps"], momentum_of(spec)
        self.norm = spec.get("normalize", "mean_variance")
        self.affine = spec.get("affine", "learned")
        self.population = spec.get("statistics", "batch") == "population"
        self.freeze = spec.get("freeze_stats_after", 0)
        if self.affine != "none":
            self.weight = torch.nn.Parameter(torch.ones(f), requires_grad=self.affine == "learned")
            self.bias = torch.nn.Parameter(torch.zeros(f), requires_grad=self.affine == "learned")
        self.register_buffer("running_mean", torch.zeros(f))
        self.register_buffer("running_var", torch.ones(f))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x):
        frozen = self.freeze > 0 and self.num_batches_tracked.item() >= self.freeze
        if not self.training or self.population or frozen:
            m, s = self.running_mean.clone(), torch.rsqrt(self.running_var + self.eps)
        else:
            m, s = x.mean(0), torch.rsqrt(x.var(0, unbiased=False) + self.eps)
        if self.training:
            with torch.no_grad():
                self.num_batches_tracked += 1
                if not frozen:
                    mu, var, n = x.mean(0), x.var(0, unbiased=False), x.shape[0]
                    mom = update_momentum(self.momentum, self.num_batches_tracked.item())
                    self.running_mean += mom * (mu - self.running_mean)
                    self.running_var += mom * (var * n / (n - 1) - self.running_var)
        xhat = (x - m) * s if self.norm == "mean_variance" else x - m if self.norm == "mean" else x * s
        return xhat if self.affine == "none" else xhat * self.weight + self.bias


ABLATION_KEYS = ("normalize", "affine", "statistics", "freeze_stats_after")
IGNORE_OPTIONS = False  # --ignore-options


class BatchRenorm(torch.nn.Module):
    """Ioffe (2017), Algorithm 1: xhat = (x - mu_B) / sigma_B * r + d with r, d clipped and constant in backprop."""

    def __init__(self, f, spec):
        super().__init__()
        self.eps, self.momentum, self.spec = spec["eps"], momentum_of(spec), spec
        self.weight = torch.nn.Parameter(torch.ones(f))
        self.bias = torch.nn.Parameter(torch.zeros(f))
        self.register_buffer("running_mean", torch.zeros(f))
        self.register_buffer("running_std", torch.ones(f))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def limits(self, t):
        """r_max, d_max at step t: 1 and 0 until renorm_start, then linear to their limits (as bnvariants.h)."""
        s = self.spec
        def frac(full):
            return 0.0 if t < s["renorm_start"] else 1.0 if full <= s["renorm_start"] else \
                min(1.0, (t - s["renorm_start"]) / (full - s["renorm_start"]))
        r_max = torch.tensor(1.0 + (s["r_max"] - 1.0) * frac(s["r_max_step"]), dtype=torch.float32)
        d_max = torch.tensor(s["d_max"] * frac(s["d_max_step"]), dtype=torch.float32)
        return r_max.item(), d_max.item()  # rounded to float32 as bnlab's are

    def forward(self, x):
        if not self.training:
            return (x - self.running_mean) / self.running_std * self.weight + self.bias
        mu, var = x.mean(0), x.var(0, unbiased=False)
        sigma = torch.sqrt(var + self.eps)
        r_max, d_max = self.limits(self.num_batches_tracked.item())
        with torch.no_grad():
            r = torch.clamp(sigma / self.running_std, 1.0 / r_max, r_max)
            d = torch.clamp((mu - self.running_mean) / self.running_std, -d_max, d_max)
            self.num_batches_tracked += 1
            m = update_momentum(self.momentum, self.num_batches_tracked.item())
            self.running_mean += m * (mu - self.running_mean)
            self.running_std += m * (sigma - self.running_std)
        return ((x - mu) / sigma * r + d) * self.weight + self.bias


def norm_module(spec, f):
    kind = spec["type"]
    if kind == "layernorm":
        return torch.nn.LayerNorm(f, eps=spec["eps"])
    if kind == "rmsnorm":
        return RMSNorm(f, spec["eps"])
    variant = spec.get("variant", "standard")
    if variant == "renorm":
        return BatchRenorm(f, spec)
    if variant == "ghost":
        return GhostBatchNorm(f, spec["eps"], momentum_of(spec), spec["ghost_batch"])
    if variant == "constant_stats":
        return ConstantStatsBatchNorm(f, eps=spec["eps"], momentum=momentum_of(spec))
    if any(k in spec for k in ABLATION_KEYS) and not IGNORE_OPTIONS:
        return AblationBatchNorm(f, spec)
    return torch.nn.BatchNorm1d(f, eps=spec["eps"], momentum=momentum_of(spec))


def build(config, features):
    layers, f = [], features
    for i, spec in enumerate(config["model"]["layers"]):
        kind = spec["type"]
        if kind == "dense":
            layers.append(torch.nn.Linear(f, spec["units"], bias=spec["bias"]))
            f = spec["units"]
        elif kind in ("batchnorm", "layernorm", "rmsnorm"):
            layers.append(norm_module(spec, f))
        elif kind in ("sigmoid", "relu", "tanh"):
            layers.append({"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[kind]())
        else:
            refuse(f"model.layers[{i}]: a {kind} layer draws random numbers; this check covers deterministic layers")
    return torch.nn.Sequential(*layers)


def check_covered(config):
    t, d = config["train"], config["data"]
    o = t["optimizer"]
    if o["momentum"] != 0 or o["weight_decay"] != 0 or t["lr_schedule"]["type"] != "constant":
        refuse("train.optimizer: expected plain SGD at a constant lr (momentum 0, weight_decay 0), found "
               f"{json.dumps(o)} with schedule {t['lr_schedule']['type']}")
    if d["format"] != "idx" or d["binarize"] or d["standardize"] or d["train_limit"]:
        refuse("data: expected IDX pixels times data.scale (no binarize, standardize or train_limit)")


def load_train(config):
    d = config["data"]
    raw = gzip.open(d["train_images"]).read()
    n, rows, cols = struct.unpack(">III", raw[4:16])
    pixels = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).reshape(n, rows * cols)
    labels = torch.frombuffer(bytearray(gzip.open(d["train_labels"]).read()[8:]), dtype=torch.uint8).long()
    return pixels.float() * torch.tensor(d["scale"], dtype=torch.float32), labels  # bnlab: (float)p * (float)scale


def rel(a, ref):
    """max |a - ref| / max |ref| (0 for an all-zero ref equal to a)."""
    a, ref = a.double(), ref.double()
    scale = ref.abs().max().item()
    diff = (a - ref).abs().max().item()
    return diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))


def main():
    global IGNORE_OPTIONS
    if "--ignore-options" in sys.argv:
        IGNORE_OPTIONS = True
        sys.argv.remove("--ignore-options")
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--csv"):
        sys.exit(__doc__)
    paths = sorted(glob.glob(os.path.join(glob.escape(sys.argv[1]), "checkpoints", "step-*.safetensors")))
    if len(paths) < 2:
        refuse(f"{sys.argv[1]}: expected at least 2 checkpoints in checkpoints/, found {len(paths)}")
    ckpts = []
    for p in paths:
        tensors, meta = read_safetensors(p)
        ckpts.append((int(meta["step"]), tensors))
    _, meta = read_safetensors(paths[0])
    config = json.loads(meta["config"])
    check_covered(config)
    torch.set_flush_denormal(bool(config["train"]["flush_denormals"]))
    x_all, y_all = load_train(config)
    batch, lr = config["train"]["batch_size"], config["train"]["optimizer"]["lr"]
    per_epoch = x_all.shape[0] // batch
    start, first = ckpts[0]
    state = {k[len("layers."):]: v for k, v in first.items() if k.startswith("layers.")}
    nets = {}
    for name, dtype in (("torch32", torch.float32), ("f64", torch.float64)):
        net = build(config, int(meta["input_features"]))
        # --ignore-options on affine "none": BatchNorm1d's weight and bias, absent from the run, start at 1 and 0 (the
        # fixed values of "none") and then learn.
        net.load_state_dict(state, strict=not IGNORE_OPTIONS)
        nets[name] = net.to(dtype).train()

    def order_for(step):  # the order of step's epoch: any later checkpoint of the same epoch holds it
        for c, t in ckpts:
            if c >= step + 1 and (c - 1) // per_epoch == step // per_epoch:
                return t["trainer.order"].long()
        refuse(f"no checkpoint after step {step} in its epoch: checkpoint at least once an epoch")

    rows, worst, failed, done, last_loss = [], {}, [], start, {}
    for c, bn_tensors in ckpts[1:]:
        for step in range(done, c):
            idx = order_for(step)[(step % per_epoch) * batch:(step % per_epoch + 1) * batch]
            for net in nets.values():
                dtype = next(net.parameters()).dtype
                net.zero_grad()
                loss = torch.nn.functional.cross_entropy(net(x_all[idx].to(dtype)), y_all[idx])
                loss.backward()
                with torch.no_grad():
                    for p in net.parameters():
                        if p.requires_grad:  # frozen gamma/beta (affine "frozen") stay
                            p -= lr * p.grad
                last_loss[dtype] = loss.item()
        done = c
        ref = nets["f64"].state_dict()
        t32 = nets["torch32"].state_dict()
        for k in ref:
            if IGNORE_OPTIONS and "layers." + k not in bn_tensors:
                continue  # a plain layer's weight or bias where the run had none
            ours = bn_tensors["layers." + k]
            if k.endswith("num_batches_tracked"):
                if ours.item() != ref[k].item():
                    failed.append(f"step {c}: {k} is {ours.item()} in bnlab, {ref[k].item()} in PyTorch")
                continue
            r_b, r_t, r_bt = rel(ours, ref[k]), rel(t32[k], ref[k]), rel(ours, t32[k])
            rows.append((c, k, r_b, r_t, r_bt))
            w = worst.setdefault(k, [0.0, 0.0, 0.0, 0.0])
            w[0], w[1], w[2] = max(w[0], r_b), max(w[1], r_t), max(w[2], r_bt)
            w[3] = max(w[3], r_b / max(r_t, FLOOR / FACTOR))
            if r_t > CHAOS:
                failed.append(f"step {c}: {k}: float32 rounding alone moved it by {r_t:.2e} (> {CHAOS:g}): this "
                              "run amplifies rounding by then, and agreement would prove nothing; check fewer steps")
            elif not r_b <= max(FACTOR * r_t, FLOOR):
                failed.append(f"step {c}: {k}: bnlab is {r_b:.2e} from float64, PyTorch float32 {r_t:.2e} "
                              f"(allowed {max(FACTOR * r_t, FLOOR):.2e})")
    if len(sys.argv) == 4:
        with open(sys.argv[3], "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["step", "tensor", "bnlab_vs_f64", "torch32_vs_f64", "bnlab_vs_torch32"])
            w.writerows((c, k, f"{a:.3e}", f"{b:.3e}", f"{d:.3e}") for c, k, a, b, d in rows)
    print(f"{sys.argv[1]}: steps {start}..{ckpts[-1][0]} in lockstep, {len(ckpts) - 1} checkpoints compared; "
          "max relative difference over the checkpoints (max|a-b|/max|b|):")
    print(f"  {'tensor':28s} {'bnlab-f64':>10s} {'torch32-f64':>12s} {'bnlab-torch32':>14s}")
    for k, (a, b, d, _) in worst.items():
        print(f"  {k:28s} {a:10.2e} {b:12.2e} {d:14.2e}")
    print(f"  training loss of step {ckpts[-1][0]}: PyTorch float32 {last_loss[torch.float32]:.6f}, "
          f"float64 {last_loss[torch.float64]:.6f}")
    if failed:
        print(f"FAILED ({len(failed)}): " + "; ".join(failed[:5]))
        sys.exit(1)
    print(f"agree: every tensor within max({FACTOR:g} x float32's own drift, {FLOOR:g}) at every checkpoint")


if __name__ == "__main__":
    main()
