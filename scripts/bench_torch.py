"""PyTorch reference for scripts/bench.sh: the paper's network (784-100-100-100-10 sigmoid, optional BatchNorm1d
between each Linear and its sigmoid, bias dropped before BN), SGD lr 0.5, softmax cross-entropy, on the shipped
MNIST subset's pixels, timed like `bnlab bench` (warm-up, then the best of 5 repeats of `steps` steps).

usage: python3 bench_torch.py DATA_DIR BATCH BN(0|1) THREADS STEPS [REPEATS]
prints: microseconds per training step

usage: python3 bench_torch.py run DATA_DIR BN(0|1) STEPS EVAL_EVERY [THREADS [SEED]]
a whole Fig. 1 run as `bnlab compare configs/fig1.json` does it (batch 60, THREADS threads, default one), with the
whole test set of DATA_DIR evaluated every EVAL_EVERY steps in batches of 1000 (model.eval(), no_grad: the mean
cross-entropy and the accuracy, as bnlab's metrics rows) — but none of bnlab's other logging (layer statistics,
percentiles, ICS). prints: seconds
"""
import gzip
import sys
import time

import torch


def load(path, offset):
    with gzip.open(path, "rb") as f:
        return f.read()[offset:]


def build(data_dir, bn, threads, seed=1):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    pixels = torch.frombuffer(bytearray(load(f"{data_dir}/train-images-idx3-ubyte.gz", 16)), dtype=torch.uint8)
    labels = torch.frombuffer(bytearray(load(f"{data_dir}/train-labels-idx1-ubyte.gz", 8)), dtype=torch.uint8)
    x_all = pixels.view(-1, 784).float() / 255.0
    y_all = labels.long()
    layers = []
    width = 784
    for _ in range(3):
        layers.append(torch.nn.Linear(width, 100, bias=not bn))
        if bn:
            layers.append(torch.nn.BatchNorm1d(100))
        layers.append(torch.nn.Sigmoid())
        width = 100
    layers.append(torch.nn.Linear(100, 10))
    net = torch.nn.Sequential(*layers)
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.normal_(m.weight, std=0.01)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
    return net, x_all, y_all


def stepper(net, x_all, y_all, batch):
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x_all.shape[0] // batch
    order = torch.randperm(x_all.shape[0])
    state = {"step": 0}

    def step():
        i = state["step"] % n
        if i == 0:
            order.copy_(torch.randperm(x_all.shape[0]))
        idx = order[i * batch:(i + 1) * batch]
        x, y = x_all[idx], y_all[idx]  # gather per step, as bnlab does
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        state["step"] += 1

    return step


def run(data_dir, bn, steps, eval_every, threads, seed):
    t0 = time.perf_counter()
    net, x_all, y_all = build(data_dir, bn, threads, seed)
    tx = torch.frombuffer(bytearray(load(f"{data_dir}/t10k-images-idx3-ubyte.gz", 16)), dtype=torch.uint8)
    ty = torch.frombuffer(bytearray(load(f"{data_dir}/t10k-labels-idx1-ubyte.gz", 8)), dtype=torch.uint8).long()
    tx = tx.view(-1, 784).float() / 255.0
    step = stepper(net, x_all, y_all, 60)
    for s in range(1, steps + 1):
        step()
        if s % eval_every == 0:
            net.eval()
            loss, hits = 0.0, 0
            with torch.no_grad():
                for i in range(0, len(ty), 1000):
                    z = net(tx[i:i + 1000])
                    loss += torch.nn.functional.cross_entropy(z, ty[i:i + 1000], reduction="sum").item()
                    hits += (z.argmax(1) == ty[i:i + 1000]).sum().item()
            net.train()
    print(f"{time.perf_counter() - t0:.2f}")


def main():
    if sys.argv[1] == "run":
        threads = int(sys.argv[6]) if len(sys.argv) > 6 else 1
        seed = int(sys.argv[7]) if len(sys.argv) > 7 else 1
        run(sys.argv[2], sys.argv[3] == "1", int(sys.argv[4]), int(sys.argv[5]), threads, seed)
        return
    data_dir, batch, bn, threads, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4]), int(sys.argv[5])
    repeats = int(sys.argv[6]) if len(sys.argv) > 6 else 5
    net, x_all, y_all = build(data_dir, bn, threads)
    step = stepper(net, x_all, y_all, batch)
    for _ in range(steps // 4 + 10):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - t0) / steps)
    print(f"{1e6 * min(times):.1f}")


if __name__ == "__main__":
    main()
