#!/usr/bin/python3
"""Writes tests/fixtures/training/*.safetensors: a few optimizer steps taken by PyTorch, for SimdRnn's trainer to match.

Each case: a model (nn.GRU / nn.LSTM / nn.RNN + nn.Linear head with sigmoid), data x [T,B,I] and targets [T,B,O],
the loss (binary cross-entropy on the sigmoid outputs, or squared error; summed or averaged over all elements),
element-wise gradient clipping (torch.nn.utils.clip_grad_value_), and an optimizer (SGD or Adam) run for STEPS steps.
Stored: the initial state_dict under "rnn."/"head.", x, target, the loss of every step ("losses" [STEPS]), and the
final parameters under "final.rnn."/"final.head.". Run: /usr/bin/python3 tools/pytorch/make_training_fixtures.py
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from make_fixtures import write_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "training")
STEPS = 5

CASES = [
    # name, cell, loss, reduction, optimizer, lr, clip
    ("gru_bce_sum_sgd", "gru", "bce", "sum", "sgd", 0.1, 5.0),
    ("lstm_bce_mean_adam", "lstm", "bce", "mean", "adam", 0.01, 5.0),
    ("rnn_mse_sum_sgd_noclip", "rnn", "mse", "sum", "sgd", 0.05, None),
    ("gru_mse_mean_adam_clip", "gru", "mse", "mean", "adam", 0.02, 0.05),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for seed, (name, cell, loss_kind, reduction, opt_kind, lr, clip) in enumerate(CASES):
        torch.manual_seed(100 + seed)
        I, H, O, T, B = 3, 6, 2, 4, 3
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[cell](I, H)
        head = nn.Linear(H, O)
        x = torch.randn(T, B, I)
        target = torch.rand(T, B, O)
        initial = [("rnn." + k, v.detach().clone()) for k, v in rnn.state_dict().items()]
        initial += [("head." + k, v.detach().clone()) for k, v in head.state_dict().items()]
        params = list(rnn.parameters()) + list(head.parameters())
        opt = torch.optim.SGD(params, lr=lr) if opt_kind == "sgd" else torch.optim.Adam(params, lr=lr)
        losses = []
        for _ in range(STEPS):
            opt.zero_grad()
            y, _ = rnn(x)
            logits = head(y)
            if loss_kind == "bce":
                loss = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction=reduction)
            else:
                loss = nn.functional.mse_loss(torch.sigmoid(logits), target, reduction=reduction)
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_value_(params, clip)
            opt.step()
            losses.append(loss.item())
        final = [("final.rnn." + k, v.detach().clone()) for k, v in rnn.state_dict().items()]
        final += [("final.head." + k, v.detach().clone()) for k, v in head.state_dict().items()]
        tensors = initial + [("x", x), ("target", target), ("losses", torch.tensor(losses))] + final
        metadata = {"cell": cell, "head": "sigmoid", "loss": loss_kind, "reduction": reduction, "optimizer": opt_kind,
                    "lr": repr(lr), "clip": "none" if clip is None else repr(clip), "steps": str(STEPS),
                    "batch": str(B), "torch_version": torch.__version__}
        write_safetensors(os.path.join(OUT, name + ".safetensors"), tensors, metadata)
        print(name, losses)


if __name__ == "__main__":
    main()
