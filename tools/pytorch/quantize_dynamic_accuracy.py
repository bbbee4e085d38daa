#!/usr/bin/python3
"""PyTorch's quantize_dynamic (qint8) beside SimdRnn's reduced-precision weights (issue 11, docs/accuracy.md).

Run with the system Python (torch 1.13, Debian: engines qnnpack and onednn, no fbgemm):

    /usr/bin/python3 tools/pytorch/quantize_dynamic_accuracy.py [scratch-folder] [--engine qnnpack|onednn]

It builds, deterministically, a 512→512 nn.GRU and nn.LSTM (one layer, PyTorch's default init U(±1/√H)) each with a
sigmoid readout nn.Linear(512, 1), and writes their state_dicts to the scratch folder (default artifacts/quantized;
~7–9 MB each, not committed) for tools/ReducedPrecisionAccuracy to run SimdRnn's formats on the same models. Then it
measures torch.quantization.quantize_dynamic({nn.GRU, nn.LSTM}, dtype=torch.qint8) — the recurrent module quantized,
the readout kept fp32, as SimdRnn does — against the fp32 module on the same inputs:

  * error growth: one sequence (B = 1) of T = 1000 steps; max |y_int8 − y_fp32| over the 512 outputs at t = 1, 10,
    100, 1000 (and the max over all steps up to t);
  * decision flips: 10^4 sequences of T = 20; the sigmoid readout at the last step thresholded at 0.5; the share of
    sequences whose decision differs from fp32's.

Inputs are uniform in [−1, 1) from splitmix64 (the same generator in tools/ReducedPrecisionAccuracy), so both tools
see the same inputs without storing them. The numbers go to tools/pytorch/quantize_dynamic_results.json (committed).
"""
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
H = 512
STEPS_LONG = 1000
CHECKPOINTS = [1, 10, 100, 1000]
FLIP_SEQUENCES = 10_000
FLIP_STEPS = 20
SEED_LONG = 1
SEED_FLIPS = 2

MASK = (1 << 64) - 1


def splitmix_uniform(seed, n):
    """n float32 values uniform in [-1, 1): splitmix64 of state seed + k·golden (k = 1..n), top 24 bits."""
    k = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + k * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -24)
    return u * np.float32(2) - np.float32(1)


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        data = t.detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


class Model(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(H, H)
        self.head = nn.Linear(H, 1)

    def forward(self, x):
        y, _ = self.rnn(x)
        return y, torch.sigmoid(self.head(y))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    engine = "qnnpack"
    if "--engine" in sys.argv:
        engine = sys.argv[sys.argv.index("--engine") + 1]
        args = [a for a in args if a != engine]
    scratch = args[0] if args else os.path.join(ROOT, "artifacts", "quantized")
    os.makedirs(scratch, exist_ok=True)
    torch.backends.quantized.engine = engine
    torch.set_num_threads(1)
    results = {"torch": torch.__version__, "engine": engine, "date": time.strftime("%Y-%m-%d"), "hidden": H, "models": {}}
    x_long = torch.from_numpy(splitmix_uniform(SEED_LONG, STEPS_LONG * H)).view(STEPS_LONG, 1, H)
    for index, cell in enumerate(["gru", "lstm"]):
        torch.manual_seed(100 + index)
        model = Model(cell).eval()
        meta = {"format": "pt", "cell": cell, "head": "sigmoid", "num_layers": "1", "bidirectional": "false",
                "bias": "pair", "batch_first": "false", "input_size": str(H), "hidden_size": str(H), "output_size": "1"}
        write_safetensors(os.path.join(scratch, f"{cell}_512.safetensors"),
                          [(n, t) for n, t in model.state_dict().items()], meta)
        quantized = torch.quantization.quantize_dynamic(model, {nn.GRU, nn.LSTM}, dtype=torch.qint8)
        with torch.no_grad():
            y32, _ = model(x_long)
            y8, _ = quantized(x_long)
            diff = (y8 - y32).abs().view(STEPS_LONG, H)
            growth = {}
            for t in CHECKPOINTS:
                growth[str(t)] = {"at": float(diff[t - 1].max()), "upTo": float(diff[:t].max()),
                                  "rmsAt": float(diff[t - 1].pow(2).mean().sqrt())}
            flips, near = 0, 0
            batch = 1000
            for start in range(0, FLIP_SEQUENCES, batch):
                # Sequence s (0-based) has inputs splitmix(SEED_FLIPS · 2^32 + s) of T·H values, [T, H].
                xs = np.stack([splitmix_uniform(SEED_FLIPS * 2 ** 32 + s, FLIP_STEPS * H).reshape(FLIP_STEPS, H)
                               for s in range(start, start + batch)], axis=1)
                xb = torch.from_numpy(xs)
                _, p32 = model(xb)
                _, p8 = quantized(xb)
                d32 = p32[-1, :, 0] >= 0.5
                d8 = p8[-1, :, 0] >= 0.5
                flips += int((d32 != d8).sum())
        results["models"][cell] = {"growth": growth, "flips": flips, "sequences": FLIP_SEQUENCES, "flipSteps": FLIP_STEPS,
                                   "flipRate": flips / FLIP_SEQUENCES}
        print(cell, json.dumps(results["models"][cell]))
    with open(os.path.join(ROOT, "tools", "pytorch", "quantize_dynamic_results.json"), "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
