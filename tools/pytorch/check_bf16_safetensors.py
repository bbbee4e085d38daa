#!/usr/bin/python3
"""Checks by hand that PyTorch loads a bf16 network SimdRnn saved (PyTorchModel.Save of a WithWeightFormat(BFloat16)
network) and computes SimdRnn's outputs with it. No safetensors package needed: the file is read with a few lines.

    dotnet run -c Release --project tools/ReducedPrecisionAccuracy -- bf16-sample /tmp/bf16
    /usr/bin/python3 tools/pytorch/check_bf16_safetensors.py /tmp/bf16
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        chunk = bytearray(data[a:b])
        if info["dtype"] == "BF16":
            t = torch.frombuffer(chunk, dtype=torch.bfloat16) if len(chunk) else torch.empty(0, dtype=torch.bfloat16)
        elif info["dtype"] == "F32":
            t = torch.from_numpy(np.frombuffer(bytes(chunk), dtype="<f4").copy())
        else:
            raise ValueError(info["dtype"])
        tensors[name] = t.reshape(info["shape"])
    return tensors, meta


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "/tmp/bf16"
    state, meta = read_safetensors(os.path.join(folder, "gru_bf16.safetensors"))
    io, _ = read_safetensors(os.path.join(folder, "gru_bf16_io.safetensors"))
    print("metadata:", meta)
    print({k: (str(v.dtype), list(v.shape)) for k, v in state.items()})
    assert all(v.dtype == torch.bfloat16 for k, v in state.items() if ".weight_" in k)
    assert all(v.dtype == torch.float32 for k, v in state.items() if ".bias_" in k or k.startswith("head."))

    H, I = int(meta["hidden_size"]), int(meta["input_size"])
    rnn = nn.GRU(I, H, num_layers=int(meta["num_layers"]))
    head = nn.Linear(H, int(meta["output_size"]))
    # load_state_dict copies each tensor into the module's float32 parameters (bf16 widens exactly).
    rnn.load_state_dict({k[len("rnn."):]: v for k, v in state.items() if k.startswith("rnn.")})
    head.load_state_dict({k[len("head."):]: v for k, v in state.items() if k.startswith("head.")})
    # The loaded fp32 weights are exactly the bf16 values.
    for k, v in state.items():
        if ".weight_" in k:
            assert torch.equal(getattr(rnn, k[len("rnn."):]), v.float()), k
            assert torch.equal(v.float().bfloat16().float(), v.float())
    with torch.no_grad():
        y, _ = rnn(io["x"])
        out = torch.sigmoid(head(y))
    err = (out - io["out"]).abs().max().item()
    print("PyTorch (fp32 arithmetic on the loaded bf16 weights) vs SimdRnn bf16 network: max |Δout| = %.3g" % err)
    assert err < 1e-5, err
    # Loading into a bfloat16 module works too (the weights are then stored as bfloat16).
    rnn16 = nn.GRU(I, H, num_layers=int(meta["num_layers"])).to(torch.bfloat16)
    rnn16.load_state_dict({k[len("rnn."):]: v for k, v in state.items() if k.startswith("rnn.")})
    print("loaded into a bfloat16 nn.GRU as well: OK")


if __name__ == "__main__":
    main()
