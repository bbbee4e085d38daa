#!/usr/bin/python3
"""Writes the PyTorch reference fixtures under tests/fixtures/pytorch (and, where it works, tests/fixtures/onnx).

Run from anywhere with the system Python (torch 1.13):  /usr/bin/python3 tools/pytorch/make_fixtures.py
Each fixture is a safetensors file written by the minimal writer below (no safetensors package).
The output is deterministic: every case seeds torch with its own seed.
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "pytorch")
ONNX_OUT = os.path.join(ROOT, "tests", "fixtures", "onnx")

DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: reinterpret the bits
        t = t.view(torch.int16)
    data = t.numpy().tobytes()
    assert sys.byteorder == "little"
    return data


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor) in the order to write; metadata: dict str -> str."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors:
        data = tensor_bytes(t)
        header[name] = {
            "dtype": DTYPES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    if metadata:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


class ManualGru(nn.Module):
    """A GRU with PyTorch's parameters (rows r, z, n) evaluated by hand, so either reset placement works.

    linear_before_reset=True is PyTorch's cell:  n = tanh(W_in x + b_in + r * (W_hn h + b_hn));
    linear_before_reset=False is ONNX's default: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn).
    """

    def __init__(self, input_size, hidden_size, num_layers, bias, batch_first, bidirectional, linear_before_reset):
        super().__init__()
        # Borrow nn.GRU for the parameter names, shapes and initialization.
        self.rnn = nn.GRU(input_size, hidden_size, num_layers=num_layers, bias=bias,
                          batch_first=batch_first, bidirectional=bidirectional)
        self.linear_before_reset = linear_before_reset

    def forward(self, x, h0):
        g = self.rnn
        H = g.hidden_size
        D = 2 if g.bidirectional else 1
        if g.batch_first:
            x = x.transpose(0, 1)
        T = x.shape[0]
        layer_in = x
        finals = []
        for layer in range(g.num_layers):
            outs = []
            for d in range(D):
                sfx = "_l%d%s" % (layer, "_reverse" if d == 1 else "")
                w_ih = getattr(g, "weight_ih" + sfx)
                w_hh = getattr(g, "weight_hh" + sfx)
                b_ih = getattr(g, "bias_ih" + sfx) if g.bias else None
                b_hh = getattr(g, "bias_hh" + sfx) if g.bias else None
                h = h0[layer * D + d]
                steps = [None] * T
                order = range(T - 1, -1, -1) if d == 1 else range(T)
                for t in order:
                    gi = layer_in[t] @ w_ih.t()
                    if b_ih is not None:
                        gi = gi + b_ih
                    i_r, i_z, i_n = gi.split(H, dim=-1)
                    w_hr, w_hz, w_hn = w_hh.split(H, dim=0)
                    if b_hh is not None:
                        b_hr, b_hz, b_hn = b_hh.split(H)
                    else:
                        b_hr = b_hz = b_hn = torch.zeros(H)
                    r = torch.sigmoid(i_r + h @ w_hr.t() + b_hr)
                    z = torch.sigmoid(i_z + h @ w_hz.t() + b_hz)
                    if self.linear_before_reset:
                        n = torch.tanh(i_n + r * (h @ w_hn.t() + b_hn))
                    else:
                        n = torch.tanh(i_n + (r * h) @ w_hn.t() + b_hn)
                    h = (1 - z) * n + z * h
                    steps[t] = h
                outs.append(torch.stack(steps))
                finals.append(h)
            layer_in = torch.cat(outs, dim=-1)
        y = layer_in
        if g.batch_first:
            y = y.transpose(0, 1)
        return y, torch.stack(finals)


class Model(nn.Module):
    def __init__(self, rnn, head, head_kind):
        super().__init__()
        self.rnn = rnn
        if head is not None:
            self.head = head
        self.head_kind = head_kind

    def forward(self, x, h0, c0=None):
        if c0 is not None:
            y, (h_n, c_n) = self.rnn(x, (h0, c0))
        else:
            y, h_n = self.rnn(x, h0)
            c_n = None
        out = None
        if self.head_kind != "none":
            out = self.head(y)
            if self.head_kind == "sigmoid":
                out = torch.sigmoid(out)
        return y, h_n, c_n, out


class OnnxWrapper(nn.Module):
    def __init__(self, model, lstm):
        super().__init__()
        self.model = model
        self.lstm = lstm

    def forward(self, x, h0, c0=None):
        y, h_n, c_n, out = self.model(x, h0, c0)
        result = [y, h_n]
        if c_n is not None:
            result.append(c_n)
        if out is not None:
            result.append(out)
        return tuple(result)


def make_case(name, seed, cell, nonlinearity="tanh", num_layers=1, bidirectional=False, bias="pair",
              batch_first=False, head="none", linear_before_reset=True, input_size=3, hidden_size=4,
              seq_len=5, batch=1, zero_state=False, out_size=2, onnx=True):
    torch.manual_seed(seed)
    I, H, T, B, L = input_size, hidden_size, seq_len, batch, num_layers
    D = 2 if bidirectional else 1
    has_bias = bias != "none"
    custom = cell == "gru" and not linear_before_reset
    if cell == "rnn":
        rnn = nn.RNN(I, H, num_layers=L, nonlinearity=nonlinearity, bias=has_bias,
                     batch_first=batch_first, bidirectional=bidirectional)
    elif cell == "gru" and linear_before_reset:
        rnn = nn.GRU(I, H, num_layers=L, bias=has_bias, batch_first=batch_first, bidirectional=bidirectional)
    elif cell == "gru":
        rnn = ManualGru(I, H, L, has_bias, batch_first, bidirectional, linear_before_reset=False)
    elif cell == "lstm":
        rnn = nn.LSTM(I, H, num_layers=L, bias=has_bias, batch_first=batch_first, bidirectional=bidirectional)
    else:
        raise ValueError(cell)
    params_owner = rnn.rnn if custom else rnn
    if bias == "single":
        with torch.no_grad():
            for pname, p in params_owner.named_parameters():
                if pname.startswith("bias_hh"):
                    p.zero_()
    head_module = nn.Linear(D * H, out_size) if head != "none" else None
    model = Model(rnn, head_module, head)

    x = torch.randn(B, T, I) if batch_first else torch.randn(T, B, I)
    if zero_state:
        h0 = torch.zeros(L * D, B, H)
        c0 = torch.zeros(L * D, B, H) if cell == "lstm" else None
    else:
        h0 = torch.randn(L * D, B, H)
        c0 = torch.randn(L * D, B, H) if cell == "lstm" else None
    x.requires_grad_(True)
    h0.requires_grad_(True)
    if c0 is not None:
        c0.requires_grad_(True)

    y, h_n, c_n, out = model(x, h0, c0)
    dy = torch.randn_like(y)
    dh_n = torch.randn_like(h_n)
    dc_n = torch.randn_like(c_n) if c_n is not None else None
    dout = torch.randn_like(out) if out is not None else None
    loss = (y * dy).sum() + (h_n * dh_n).sum()
    if c_n is not None:
        loss = loss + (c_n * dc_n).sum()
    if out is not None:
        loss = loss + (out * dout).sum()
    model.zero_grad()
    loss.backward()

    # Parameters under their PyTorch state_dict names with the rnn./head. prefixes.
    params = []
    for pname, p in params_owner.named_parameters():
        if bias == "single" and pname.startswith("bias_hh"):
            continue
        params.append(("rnn." + pname, p))
    if head_module is not None:
        for pname, p in head_module.named_parameters():
            params.append(("head." + pname, p))

    tensors = [(n, p.detach()) for n, p in params]
    tensors.append(("x", x.detach()))
    tensors.append(("h0", h0.detach()))
    if c0 is not None:
        tensors.append(("c0", c0.detach()))
    tensors.append(("y", y.detach()))
    tensors.append(("h_n", h_n.detach()))
    if c_n is not None:
        tensors.append(("c_n", c_n.detach()))
    if out is not None:
        tensors.append(("out", out.detach()))
    tensors.append(("dy", dy))
    tensors.append(("dh_n", dh_n))
    if dc_n is not None:
        tensors.append(("dc_n", dc_n))
    if dout is not None:
        tensors.append(("dout", dout))
    for n, p in params:
        tensors.append(("grad." + n, p.grad.detach()))
    tensors.append(("grad.x", x.grad.detach()))
    tensors.append(("grad.h0", h0.grad.detach()))
    if c0 is not None:
        tensors.append(("grad.c0", c0.grad.detach()))
    for n, t in tensors:
        assert t.dtype == torch.float32, n

    meta = {
        "cell": cell,
        "nonlinearity": nonlinearity if cell == "rnn" else "tanh",
        "num_layers": str(L),
        "bidirectional": "true" if bidirectional else "false",
        "bias": bias,
        "batch_first": "true" if batch_first else "false",
        "head": head,
        "input_size": str(I),
        "hidden_size": str(H),
        "seq_len": str(T),
        "batch": str(B),
    }
    if cell == "gru":
        meta["linear_before_reset"] = "true" if linear_before_reset else "false"
    if head != "none":
        meta["output_size"] = str(out_size)
    meta["zero_initial_state"] = "true" if zero_state else "false"
    meta["torch_version"] = torch.__version__
    path = os.path.join(OUT, name + ".safetensors")
    write_safetensors(path, tensors, meta)
    size = os.path.getsize(path)
    assert size < 100 * 1024, (name, size)
    print("%-28s %6d bytes  %d tensors" % (name, size, len(tensors)))

    if onnx and not custom and EXPORT_ONNX:
        export_onnx(name, model, x.detach(), h0.detach(), None if c0 is None else c0.detach(), cell == "lstm")
    return meta


def export_onnx(name, model, x, h0, c0, lstm):
    try:
        os.makedirs(ONNX_OUT, exist_ok=True)
        wrapper = OnnxWrapper(model, lstm).eval()
        args = (x, h0, c0) if lstm else (x, h0)
        input_names = ["x", "h0"] + (["c0"] if lstm else [])
        output_names = ["y", "h_n"] + (["c_n"] if lstm else []) + (["out"] if model.head_kind != "none" else [])
        path = os.path.join(ONNX_OUT, name + ".onnx")
        torch.onnx.export(wrapper, args, path, opset_version=14, input_names=input_names,
                          output_names=output_names, do_constant_folding=True)
    except Exception as e:  # the ONNX fixtures are optional
        print("  onnx export of %s failed: %s" % (name, e))


def check_manual_gru():
    """The hand-written GRU with linear_before_reset=True must agree with nn.GRU (validates ManualGru)."""
    torch.manual_seed(99)
    m = ManualGru(5, 7, 2, True, False, True, linear_before_reset=True)
    x = torch.randn(4, 3, 5)
    h0 = torch.randn(4, 3, 7)
    y_ref, h_ref = m.rnn(x, h0)
    y, h = m(x, h0)
    assert torch.allclose(y, y_ref, atol=1e-6) and torch.allclose(h, h_ref, atol=1e-6)
    mb = ManualGru(3, 4, 1, True, True, False, linear_before_reset=True)
    xb = torch.randn(2, 5, 3)
    hb = torch.randn(1, 2, 4)
    yb_ref, hb_ref = mb.rnn(xb, hb)
    yb, hbm = mb(xb, hb)
    assert torch.allclose(yb, yb_ref, atol=1e-6) and torch.allclose(hbm, hb_ref, atol=1e-6)


def write_dtypes():
    torch.manual_seed(7)
    base = torch.randn(2, 6, dtype=torch.float64) * 3
    special = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-6,  # 1e-6: F16 subnormal
                            70000.0, -1.0 / 3.0, 65504.0, 1e-40, 3.0e38, 1.0 + 2.0 ** -9],
                           dtype=torch.float64).reshape(2, 6)
    f64 = torch.cat([base, special]).contiguous()  # [4, 6]
    f32 = f64.float()
    f16 = f32.half()
    bf16 = f32.bfloat16()
    tensors = [
        ("f32", f32), ("f16", f16), ("bf16", bf16), ("f64", f64),
        # What PyTorch itself gives when widening/narrowing to float32: the reader must match these bit for bit
        # (except NaN payloads).
        ("f16_as_f32", f16.float()), ("bf16_as_f32", bf16.float()), ("f64_as_f32", f64.float()),
    ]
    meta = {"about": "one tensor in four dtypes; *_as_f32 are PyTorch's own conversions to float32",
            "torch_version": torch.__version__}
    path = os.path.join(OUT, "dtypes.safetensors")
    write_safetensors(path, tensors, meta)
    print("%-28s %6d bytes" % ("dtypes", os.path.getsize(path)))


EXPORT_ONNX = "--no-onnx" not in sys.argv


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_grad_enabled(True)
    check_manual_gru()
    cells = [("rnn_tanh", "rnn", "tanh"), ("rnn_relu", "rnn", "relu"), ("gru", "gru", "tanh"), ("lstm", "lstm", "tanh")]
    seed = 1000
    for prefix, cell, nl in cells:
        common = dict(cell=cell, nonlinearity=nl)
        seed += 10
        make_case(prefix + "_single", seed + 1, **common)
        make_case(prefix + "_nobias", seed + 2, bias="none", batch=2, zero_state=True, **common)
        make_case(prefix + "_onebias", seed + 3, bias="single", batch=2, **common)
        make_case(prefix + "_bi2", seed + 4, num_layers=2, bidirectional=True, batch=3,
                  input_size=5, hidden_size=7, seq_len=4, **common)
        make_case(prefix + "_batchfirst", seed + 5, batch_first=True, batch=2, **common)
        make_case(prefix + "_head_sigmoid", seed + 6, head="sigmoid", batch=2, **common)
        make_case(prefix + "_head_linear", seed + 7, head="linear", batch=2, **common)
    # ONNX's default GRU (linear_before_reset = 0), which PyTorch lacks: evaluated by hand, autograd gradients.
    seed += 10
    make_case("gru_lbr0_single", seed + 1, cell="gru", linear_before_reset=False)
    make_case("gru_lbr0_bi2", seed + 2, cell="gru", linear_before_reset=False, num_layers=2, bidirectional=True,
              batch=3, input_size=5, hidden_size=7, seq_len=4)
    make_case("gru_lbr0_onebias", seed + 3, cell="gru", linear_before_reset=False, bias="single", batch=2)
    make_case("gru_lbr0_head_sigmoid", seed + 4, cell="gru", linear_before_reset=False, head="sigmoid",
              batch_first=True, batch=2)
    write_dtypes()


if __name__ == "__main__":
    main()
