#!/usr/bin/python3
"""Writes tests/fixtures/lengths/*.safetensors: batches of different-length sequences run by PyTorch through
pack_padded_sequence(enforce_sorted=False) / pad_packed_sequence, for SimdRnn's lengths to match.

Inference/gradient cases (<name>.safetensors) hold the tensors of tools/pytorch/make_fixtures.py's cases plus
"lengths" (I64 [B], any order). x's padded positions hold random values (PyTorch never reads them). y is
pad_packed_sequence's output (zero past each length), h_n/c_n each row's state at its own last step, and out the
readout applied to y and then zeroed at padded positions. The gradients are those of
L = Σ y·dy + Σ h_n·dh_n + Σ c_n·dc_n + Σ out·dout, where dy and dout are random everywhere (padded positions
included: they must be ignored). grad.x is zero at padded positions.

Training cases (train_<name>.safetensors): a few optimizer steps on a loss over the valid positions only
(summed, or averaged over their number × O), as tools/pytorch/make_training_fixtures.py.

Run: /usr/bin/python3 tools/pytorch/make_length_fixtures.py
"""
import os
import sys

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(__file__))
import make_fixtures  # noqa: E402
from make_fixtures import write_safetensors  # noqa: E402

make_fixtures.DTYPES[torch.int64] = "I64"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "lengths")


def run_packed(rnn, x, lengths, h0, c0, batch_first, total):
    packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    if c0 is not None:
        y, (h_n, c_n) = rnn(packed, (h0, c0))
    elif h0 is not None:
        y, h_n = rnn(packed, h0)
        c_n = None
    else:
        y, state = rnn(packed)
        h_n, c_n = (state if isinstance(state, tuple) else (state, None))
    y, _ = pad_packed_sequence(y, batch_first=batch_first, total_length=total)
    return y, h_n, c_n


def mask_of(lengths, T, B, batch_first):
    t = torch.arange(T).unsqueeze(1)  # [T, 1]
    m = (t < lengths.unsqueeze(0)).float()  # [T, B]
    return m.t() if batch_first else m


def make_case(name, seed, cell, nonlinearity="tanh", num_layers=1, bidirectional=False, batch_first=False,
              head="none", with_h0=True, I=3, H=4, T=6, lengths=(3, 6, 1, 4), O=2):
    torch.manual_seed(seed)
    B, L, D = len(lengths), num_layers, 2 if bidirectional else 1
    lengths = torch.tensor(lengths, dtype=torch.int64)
    if cell == "rnn":
        rnn = nn.RNN(I, H, num_layers=L, nonlinearity=nonlinearity, batch_first=batch_first, bidirectional=bidirectional)
    elif cell == "gru":
        rnn = nn.GRU(I, H, num_layers=L, batch_first=batch_first, bidirectional=bidirectional)
    else:
        rnn = nn.LSTM(I, H, num_layers=L, batch_first=batch_first, bidirectional=bidirectional)
    head_module = nn.Linear(D * H, O) if head != "none" else None
    x = torch.randn(B, T, I) if batch_first else torch.randn(T, B, I)  # padded positions random too
    h0 = torch.randn(L * D, B, H) if with_h0 else None
    c0 = torch.randn(L * D, B, H) if with_h0 and cell == "lstm" else None
    x.requires_grad_(True)
    for s in (h0, c0):
        if s is not None:
            s.requires_grad_(True)

    y, h_n, c_n = run_packed(rnn, x, lengths, h0, c0, batch_first, T)
    mask = mask_of(lengths, T, B, batch_first).unsqueeze(-1)
    out = None
    if head_module is not None:
        out = head_module(y)
        if head == "sigmoid":
            out = torch.sigmoid(out)
        out = out * mask  # SimdRnn's readout is zero at padded positions too
    dy = torch.randn_like(y)
    dh_n = torch.randn_like(h_n)
    dc_n = torch.randn_like(c_n) if c_n is not None else None
    dout = torch.randn_like(out) if out is not None else None
    loss = (y * dy).sum() + (h_n * dh_n).sum()
    if c_n is not None:
        loss = loss + (c_n * dc_n).sum()
    if out is not None:
        loss = loss + (out * dout).sum()
    rnn.zero_grad()
    if head_module is not None:
        head_module.zero_grad()
    loss.backward()

    params = [("rnn." + n, p) for n, p in rnn.named_parameters()]
    if head_module is not None:
        params += [("head." + n, p) for n, p in head_module.named_parameters()]
    tensors = [(n, p.detach()) for n, p in params]
    tensors.append(("x", x.detach()))
    tensors.append(("lengths", lengths))
    if h0 is not None:
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
    if h0 is not None:
        tensors.append(("grad.h0", h0.grad.detach()))
    if c0 is not None:
        tensors.append(("grad.c0", c0.grad.detach()))
    meta = {
        "cell": cell, "nonlinearity": nonlinearity if cell == "rnn" else "tanh", "num_layers": str(L),
        "bidirectional": "true" if bidirectional else "false", "bias": "pair",
        "batch_first": "true" if batch_first else "false", "head": head, "input_size": str(I),
        "hidden_size": str(H), "seq_len": str(T), "batch": str(B), "zero_initial_state": "false" if with_h0 else "true",
        "torch_version": torch.__version__,
    }
    if cell == "gru":
        meta["linear_before_reset"] = "true"
    if head != "none":
        meta["output_size"] = str(O)
    path = os.path.join(OUT, name + ".safetensors")
    write_safetensors(path, tensors, meta)
    print("%-36s %6d bytes" % (name, os.path.getsize(path)))


def make_training_case(name, seed, cell, loss_kind, reduction, opt_kind, lr, bidirectional=False, batch_first=False,
                       I=3, H=5, O=2, T=5, lengths=(2, 5, 3), steps=4):
    torch.manual_seed(seed)
    B, D = len(lengths), 2 if bidirectional else 1
    lengths = torch.tensor(lengths, dtype=torch.int64)
    rnn = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[cell](I, H, batch_first=batch_first, bidirectional=bidirectional)
    head = nn.Linear(D * H, O)
    x = torch.randn(B, T, I) if batch_first else torch.randn(T, B, I)
    target = torch.rand(B, T, O) if batch_first else torch.rand(T, B, O)
    mask = mask_of(lengths, T, B, batch_first).unsqueeze(-1).expand(-1, -1, O)
    valid = mask.sum()
    initial = [("rnn." + k, v.detach().clone()) for k, v in rnn.state_dict().items()]
    initial += [("head." + k, v.detach().clone()) for k, v in head.state_dict().items()]
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=lr) if opt_kind == "sgd" else torch.optim.Adam(params, lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        y, _, _ = run_packed(rnn, x, lengths, None, None, batch_first, T)
        logits = head(y)
        if loss_kind == "bce":
            each = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        else:
            each = (torch.sigmoid(logits) - target) ** 2
        loss = (each * mask).sum()
        if reduction == "mean":
            loss = loss / valid
        loss.backward()
        opt.step()
        losses.append(loss.item())
    final = [("final.rnn." + k, v.detach().clone()) for k, v in rnn.state_dict().items()]
    final += [("final.head." + k, v.detach().clone()) for k, v in head.state_dict().items()]
    tensors = initial + [("x", x), ("target", target), ("lengths", lengths), ("losses", torch.tensor(losses))] + final
    meta = {"cell": cell, "head": "sigmoid", "loss": loss_kind, "reduction": reduction, "optimizer": opt_kind,
            "lr": repr(lr), "clip": "none", "steps": str(steps), "batch": str(B),
            "bidirectional": "true" if bidirectional else "false", "batch_first": "true" if batch_first else "false",
            "torch_version": torch.__version__}
    path = os.path.join(OUT, "train_" + name + ".safetensors")
    write_safetensors(path, tensors, meta)
    print("%-36s %6d bytes  losses %s" % ("train_" + name, os.path.getsize(path), losses))


def main():
    os.makedirs(OUT, exist_ok=True)
    make_case("rnn_tanh_bi2_h0_head", 2001, "rnn", num_layers=2, bidirectional=True, head="sigmoid")
    make_case("rnn_relu_single", 2002, "rnn", nonlinearity="relu", with_h0=False)
    make_case("gru_bi2_h0", 2003, "gru", num_layers=2, bidirectional=True, lengths=(5, 2, 6, 1, 3))
    make_case("gru_batchfirst_head_linear", 2004, "gru", batch_first=True, head="linear", with_h0=False,
              T=7, lengths=(4, 2, 5))  # the longest sequence is shorter than T
    make_case("lstm_bi2_h0_head", 2005, "lstm", num_layers=2, bidirectional=True, head="sigmoid")
    make_case("lstm_batchfirst_bi", 2006, "lstm", bidirectional=True, batch_first=True, with_h0=False,
              lengths=(2, 5, 5, 1), T=5)
    make_case("lstm_single_h0", 2007, "lstm", lengths=(6, 1), I=2, H=3)
    make_training_case("gru_bce_mean_sgd", 2101, "gru", "bce", "mean", "sgd", 0.1)
    make_training_case("lstm_mse_sum_adam_bi_batchfirst", 2102, "lstm", "mse", "sum", "adam", 0.01,
                       bidirectional=True, batch_first=True)


if __name__ == "__main__":
    main()
