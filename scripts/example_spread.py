"""How far apart a trained network keeps different examples: for each layer, the standard deviation over the first
1,000 training images of each unit's output, averaged over the units, and the share of those images given the most
common predicted class (evaluation mode; PyTorch rebuilds the network as scripts/torch_lockstep.py does, so it reads
renorm and ghost layers too). A network that maps every image to nearly the same vector shows spreads near 0 and a
share near 1.

usage: python3 example_spread.py CHECKPOINT...
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_lockstep import build, load_train, read_safetensors  # noqa: E402


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        tensors, meta = read_safetensors(path)
        config = json.loads(meta["config"])
        net = build(config, int(meta["input_features"]))
        net.load_state_dict({k[len("layers."):]: v for k, v in tensors.items() if k.startswith("layers.")})
        net.eval()
        h = load_train(config)[0][:1000]
        spreads = []
        with torch.no_grad():
            for i, layer in enumerate(net):
                h = layer(h)
                spreads.append(f"{i} {config['model']['layers'][i]['type']} {h.std(0).mean().item():.3f}")
        share = h.argmax(1).bincount().max().item() / h.shape[0]
        print(f"{path}: spread over examples per layer: {', '.join(spreads)}; most common class {share:.2f}")


if __name__ == "__main__":
    main()
