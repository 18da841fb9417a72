"""PyTorch reference for scripts/bench.sh: the paper's network (784-100-100-100-10 sigmoid, optional BatchNorm1d
between each Linear and its sigmoid, bias dropped before BN), SGD lr 0.5, softmax cross-entropy, on the shipped
MNIST subset's pixels, timed like `bnlab bench` (warm-up, then the median over repeats of `steps` steps).

usage: python3 bench_torch.py DATA_DIR BATCH BN(0|1) THREADS STEPS [REPEATS]
prints: microseconds per training step
"""
import gzip
import statistics
import sys
import time

import torch


def load(path, offset):
    with gzip.open(path, "rb") as f:
        return f.read()[offset:]


def main():
    data_dir, batch, bn, threads, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4]), int(sys.argv[5])
    repeats = int(sys.argv[6]) if len(sys.argv) > 6 else 5
    torch.set_num_threads(threads)
    torch.manual_seed(1)
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

    for _ in range(steps // 4 + 10):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - t0) / steps)
    print(f"{1e6 * statistics.median(times):.1f}")


if __name__ == "__main__":
    main()
