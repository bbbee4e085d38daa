#!/usr/bin/python3
"""Writes tests/fixtures/onnx-dynamic/: torch.onnx.export graphs with dynamic_axes (the initial state built at run
time by Shape/Gather/Unsqueeze/Concat/ConstantOfShape), with batch_first=True, and of packed sequences
(pack_padded_sequence(enforce_sorted=False) inside the model: the batch sorted by TopK of the lengths, sequence_lens
a Cast of them, the outputs put back by Gather with the inverse permutation). Each <name>.onnx is exported at one
T and B; <name>.safetensors holds PyTorch's outputs at another T and B (x, lengths, and the outputs by their graph
output names), so a test runs the model at a shape it was not exported at.

Run: /usr/bin/python3 tools/pytorch/make_onnx_dynamic_fixtures.py
"""
import os
import sys
import warnings

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(__file__))
import make_fixtures  # noqa: E402
from make_fixtures import write_safetensors  # noqa: E402

make_fixtures.DTYPES[torch.int64] = "I64"
warnings.filterwarnings("ignore")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "onnx-dynamic")


class Plain(nn.Module):
    """rnn(x) without an initial state, then a readout."""

    def __init__(self, rnn, head, sigmoid):
        super().__init__()
        self.rnn, self.head, self.sigmoid = rnn, head, sigmoid

    def forward(self, x):
        y, _ = self.rnn(x)
        out = self.head(y)
        return torch.sigmoid(out) if self.sigmoid else out


class Packed(nn.Module):
    """pack_padded_sequence → rnn → pad_packed_sequence; returns y and h_n."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, lengths):
        bf = self.rnn.batch_first
        packed = pack_padded_sequence(x, lengths, batch_first=bf, enforce_sorted=False)
        y, state = self.rnn(packed)
        y, _ = pad_packed_sequence(y, batch_first=bf, total_length=x.shape[1 if bf else 0])
        h_n = state[0] if isinstance(state, tuple) else state
        return y, h_n


def seq(T, B, I, bf):
    return torch.randn(B, T, I) if bf else torch.randn(T, B, I)


def plain_case(name, seed, rnn, sigmoid, export_tb, run_tb):
    torch.manual_seed(seed)
    bf = rnn.batch_first
    model = Plain(rnn, nn.Linear(rnn.hidden_size * (2 if rnn.bidirectional else 1), 2), sigmoid).eval()
    I = rnn.input_size
    axes = {0: "B", 1: "T"} if bf else {0: "T", 1: "B"}
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, (seq(*export_tb, I, bf),), path, opset_version=14, input_names=["x"], output_names=["out"],
                      dynamic_axes={"x": axes, "out": axes})
    x = seq(*run_tb, I, bf)
    with torch.no_grad():
        out = model(x)
    write_safetensors(os.path.join(OUT, name + ".safetensors"), [("x", x), ("out", out)],
                      {"exported_t_b": "%d,%d" % export_tb, "torch_version": torch.__version__})
    print(name, os.path.getsize(path))


def packed_case(name, seed, rnn, export_lengths, run_lengths, run_t):
    torch.manual_seed(seed)
    bf = rnn.batch_first
    model = Packed(rnn).eval()
    I = rnn.input_size
    axes = {0: "B", 1: "T"} if bf else {0: "T", 1: "B"}
    path = os.path.join(OUT, name + ".onnx")
    el = torch.tensor(export_lengths, dtype=torch.int64)
    torch.onnx.export(model, (seq(max(export_lengths), len(export_lengths), I, bf), el), path, opset_version=14,
                      input_names=["x", "lengths"], output_names=["y", "h_n"],
                      dynamic_axes={"x": axes, "lengths": {0: "B"}, "y": axes, "h_n": {1: "B"}})
    lengths = torch.tensor(run_lengths, dtype=torch.int64)
    x = seq(run_t, len(run_lengths), I, bf)
    with torch.no_grad():
        y, h_n = model(x, lengths)
    write_safetensors(os.path.join(OUT, name + ".safetensors"), [("x", x), ("lengths", lengths), ("y", y), ("h_n", h_n)],
                      {"torch_version": torch.__version__})
    print(name, os.path.getsize(path))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    plain_case("lstm_bi2_dynamic", 3001, nn.LSTM(3, 4, num_layers=2, bidirectional=True), False, (5, 2), (7, 3))
    plain_case("gru_batchfirst_dynamic", 3002, nn.GRU(3, 4, batch_first=True), True, (2, 5), (4, 6))
    plain_case("rnn_bi_batchfirst_dynamic", 3003, nn.RNN(3, 4, bidirectional=True, batch_first=True), False, (2, 5), (3, 4))
    packed_case("gru_packed", 3004, nn.GRU(3, 4), [5, 3], [3, 6, 1, 4], 6)
    packed_case("lstm_bi_packed_batchfirst", 3005, nn.LSTM(3, 4, bidirectional=True, batch_first=True), [4, 2, 3],
                [2, 5, 5, 1, 3], 5)


if __name__ == "__main__":
    main()
