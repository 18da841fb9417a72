"""Loads a bnlab checkpoint into PyTorch and checks it against bnlab's own predictions.

Reads the safetensors file directly (8-byte header size, JSON header, raw little-endian tensors — no safetensors
package needed), builds the equivalent torch.nn.Sequential from the config stored in __metadata__, loads the
"layers.*" tensors with load_state_dict(strict=True), and, given bnlab's `predict` CSV for the same images, reports
the largest difference between the two sets of class probabilities (evaluation mode: BatchNorm1d with the running
statistics, i.e. Algorithm 2).

usage: python3 torch_load.py CHECKPOINT IDX_IMAGES_GZ BNLAB_PREDICTIONS_CSV
"""
import gzip
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}


def read_safetensors(path, dtypes=DTYPES):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    tensors = {}
    for name, t in header.items():
        if t["dtype"] not in dtypes:
            continue  # U32/U64 trainer state (unless the caller asks for them)
        b, e = t["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(body[b:e]), dtype=dtypes[t["dtype"]]).reshape(t["shape"])
    return tensors, meta


def build(meta):
    """The network as bnlab's layer registry describes it in the checkpoint: one torch.nn module per layer, computing
    the same in evaluation mode. A layer with no torch equivalent is an error, never skipped."""
    layers = []
    for i, m in enumerate(json.loads(meta["torch"])):
        if m is None or not hasattr(torch.nn, m["module"]):
            spec = json.loads(meta["config"])["model"]["layers"][i]
            why = m and m["module"]
            if spec["type"] == "batchnorm" and spec.get("normalize", "mean_variance") != "mean_variance":
                why = (f"normalize \"{spec['normalize']}\" is no torch.nn module; `bnlab fold` turns it into "
                       "nn.Linear layers")
            sys.exit(f"torch_load.py: layer {i} ({spec['type']}) has no torch.nn equivalent ({why})")
        layers.append(getattr(torch.nn, m["module"])(**m["args"]))
    return torch.nn.Sequential(*layers)


def main():
    ckpt, images, predictions = sys.argv[1:4]
    tensors, meta = read_safetensors(ckpt)
    config = json.loads(meta["config"])
    state = {k[len("layers."):]: v for k, v in tensors.items() if k.startswith("layers.")}
    raw = gzip.open(images).read()
    n, rows, cols = struct.unpack(">III", raw[4:16])
    x = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).reshape(n, rows * cols).float()
    x = x * config["data"]["scale"]  # the checkpoint's preprocessing (no binarize/standardize in this check)
    net = build(meta)
    net.load_state_dict(state, strict=True)
    net.eval()
    with torch.no_grad():
        p = torch.softmax(net(x), dim=1)
    ours = torch.tensor([[float(v) for v in line.split(",")[2:]] for line in open(predictions).read().splitlines()[1:]])
    diff = (p - ours).abs().max().item()
    agree = (p.argmax(1) == ours.argmax(1)).float().mean().item()
    print(f"loaded {len(state)} tensors strictly; {n} images: max |p_torch - p_bnlab| = {diff:.2e}, "
          f"same predicted class for {100 * agree:.2f}%")
    sys.exit(0 if diff < 1e-4 else 1)


if __name__ == "__main__":
    main()
