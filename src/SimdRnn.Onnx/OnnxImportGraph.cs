using System.Globalization;
using SimdRnn.Interop;
using SimdRnn.Networks;
using SimdRnn.Onnx.Protos;

namespace SimdRnn.Onnx;

/// <summary>
/// Walks an ONNX graph in node order, giving every value a symbolic meaning (a constant, the input sequence, a layer's
/// output in some layout, a slice of the initial state, the final states, the readout) and refusing any node that
/// does not fit; then builds the <see cref="RecurrentNetwork"/> from the recurrent layers found.
/// </summary>
internal sealed class OnnxGraphReader
{
    private readonly GraphProto _graph;
    private readonly OnnxImportOptions _options;
    private readonly Dictionary<string, Sym> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);
    private readonly List<Layer> _layers = [];
    private readonly Dictionary<TensorProto, OnnxConstant> _read = new(ReferenceEqualityComparer.Instance);
    private bool _readoutRead, _readoutBiasRead;

    /// <summary>The most integers a Concat of integer constants (shape arithmetic) may yield; bounds what a chain of Concats allocates.</summary>
    private const int MaxFoldedInts = 64;
    private string? _dataInput;
    private bool _batchFirst;
    private string? _lengthsInput;
    private int _sorts, _unsorts; // torch.onnx's sort of a packed batch by length, and its undoing
    private bool _operatorBatchFirst; // layout = 1

    public OnnxGraphReader(GraphProto graph, OnnxImportOptions options)
    {
        _graph = graph;
        _options = options;
    }

    // ---- symbolic values ----

    private abstract record Sym;

    /// <summary>An initializer, read when a node consumes it (so an error names that node).</summary>
    private sealed record InitializerSym(TensorProto Tensor) : Sym;

    private sealed record ConstSym(OnnxConstant Value) : Sym;

    /// <summary>A graph input whose role (sequence, h0, c0) follows from its use.</summary>
    private sealed record InputSym(string Name) : Sym;

    /// <summary>Rows [Start, End) of axis 0 of a state input.</summary>
    private sealed record StateSliceSym(string Input, long Start, long End) : Sym;

    /// <summary>A sequence [T, B, F] (or [B, T, F]); layer −1 is the network's input; Flat = reshaped to [T·B, F] (same order).</summary>
    private sealed record SeqSym(int Layer, bool BatchFirst, bool Flat) : Sym;

    /// <summary>A recurrent node's Y [T, D, B, H], or [T, B, D, H] once transposed.</summary>
    private sealed record RawYSym(int Layer, bool Transposed) : Sym;

    /// <summary>The final h (or c) of layers First..Last, stacked on axis 0.</summary>
    private sealed record FinalStateSym(bool Cell, int First, int Last) : Sym;

    /// <summary>The readout over the top layer's output: weight [O, F] (PyTorch's nn.Linear), bias [O], optional sigmoid.</summary>
    /// <summary>A value computed at run time from shapes only (Shape, and Gather/Unsqueeze/Concat/Cast/ReduceProd/Range of it): a dimension such as B.</summary>
    private sealed record ShapeSym : Sym;

    /// <summary>Zeros of a run-time shape (ConstantOfShape with value 0, or Expand of a zero constant): the dynamic_axes idiom for "no initial state".</summary>
    private sealed record ZeroSym : Sym;

    /// <summary>A graph input of sequence lengths (possibly Cast), given at run time as the session's lengths.</summary>
    private sealed record LengthsSym(string Input) : Sym;

    /// <summary>torch.onnx's packed-sequence sort: TopK of the lengths gives the sorted lengths and the permutation.</summary>
    private sealed record SortSym(string Input, bool Permutation) : Sym;

    /// <summary>The inverse of the sort permutation (ScatterElements of a Range by the permutation).</summary>
    private sealed record UnsortSym(string Input) : Sym;

    private sealed record ReadoutSym(int Layer, bool BatchFirst, bool Flat, float[] Weight, int Outputs, float[] Bias, bool HasBias, bool Sigmoid) : Sym;

    private sealed class Layer
    {
        public required NodeProto Node { get; init; }
        public required CellKind Cell { get; init; }
        public required Nonlinearity Nonlinearity { get; init; }
        public required bool LinearBeforeReset { get; init; }
        public required int Directions { get; init; }
        public required int Hidden { get; init; }
        public required int Input { get; init; }
        public required float[] W { get; init; }
        public required float[] R { get; init; }
        public float[]? B { get; init; }
        public Sym? InitialH { get; init; }
        public Sym? InitialC { get; init; }
    }

    // ---- the walk ----

    public RecurrentNetwork Read()
    {
        foreach (var tensor in _graph.Initializer)
        {
            if (tensor.Name.Length == 0) throw new ModelFormatException("The graph has an initializer without a name.");
            _initializers[tensor.Name] = tensor;
            _values[tensor.Name] = new InitializerSym(tensor);
        }
        foreach (var input in _graph.Input)
            if (!_initializers.ContainsKey(input.Name)) _values[input.Name] = new InputSym(input.Name);

        foreach (var node in _graph.Node)
        {
            if (node.Domain.Length > 0 && node.Domain != "ai.onnx")
                throw Fail(node, $"operators of domain '{node.Domain}' are not part of the patterns the import reads.");
            Sym[] outputs = Visit(node);
            for (int k = 0; k < node.Output.Count; k++)
            {
                string name = node.Output[k];
                if (name.Length == 0) continue;
                if (_values.ContainsKey(name)) throw Fail(node, $"output '{name}' is already defined by an earlier node, input or initializer.");
                if (k >= outputs.Length) throw Fail(node, $"has {node.Output.Count} outputs; the import reads only the first {outputs.Length}.");
                _values[name] = outputs[k];
                _producers[name] = node;
            }
        }
        return Build();
    }

    private static ModelFormatException Fail(NodeProto node, string reason) => new($"{Describe(node)}: {reason}");

    private static string Describe(NodeProto node)
    {
        string name = node.Name.Length > 0 ? node.Name : node.Output.Count > 0 ? "→" + node.Output[0] : "(unnamed)";
        return $"Node '{name}' ({node.OpType})";
    }

    private Sym Value(NodeProto node, int index)
    {
        if (index >= node.Input.Count || node.Input[index].Length == 0) throw Fail(node, $"input {index} is missing.");
        string name = node.Input[index];
        return _values.TryGetValue(name, out var sym) ? sym : throw Fail(node, $"input '{name}' is not a graph input, an initializer or an earlier node's output.");
    }

    private Sym? OptionalValue(NodeProto node, int index) =>
        index < node.Input.Count && node.Input[index].Length > 0 ? Value(node, index) : null;

    private OnnxConstant? AsConstant(NodeProto node, Sym sym, string what) => sym switch
    {
        ConstSym c => c.Value,
        InitializerSym i => ReadInitializer(node, i.Tensor, what),
        _ => null,
    };

    /// <summary>An initializer is read once, however many nodes (or inputs of one node) use it.</summary>
    private OnnxConstant ReadInitializer(NodeProto node, TensorProto tensor, string what)
    {
        if (!_read.TryGetValue(tensor, out var value)) _read[tensor] = value = OnnxImportTensors.Read(tensor, $"{Describe(node)}: {what}");
        return value;
    }

    private OnnxConstant Constant(NodeProto node, int index, string what) =>
        AsConstant(node, Value(node, index), what) ?? throw Fail(node, $"{what} ('{node.Input[index]}') must be a constant (initializer or Constant node).");

    private float[] FloatConstant(NodeProto node, int index, string what, long[] dims)
    {
        var c = Constant(node, index, what);
        if (c.Floats is null) throw Fail(node, $"{what} ('{node.Input[index]}') must be float32.");
        if (!c.Dims.AsSpan().SequenceEqual(dims)) throw Fail(node, $"{what} ('{node.Input[index]}') has shape {c.ShapeText}, expected [{string.Join(", ", dims)}].");
        return c.Floats;
    }

    private long[] IntConstant(NodeProto node, int index, string what)
    {
        var c = Constant(node, index, what);
        return c.Ints ?? throw Fail(node, $"{what} ('{node.Input[index]}') must be an integer tensor.");
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    private static long IntAttribute(NodeProto node, string name, long fallback) => Attribute(node, name) is { } a ? a.I : fallback;

    private static long[]? IntsAttribute(NodeProto node, string name) => Attribute(node, name) is { } a ? [.. a.Ints] : null;

    private Sym[] Visit(NodeProto node)
    {
        switch (node.OpType)
        {
            case "RNN":
            case "GRU":
            case "LSTM":
                return Recurrent(node);
            case "Constant":
                return [new ConstSym(ConstantNode(node))];
            case "Identity":
                return [Value(node, 0)];
            case "Shape":
                Value(node, 0);
                return [new ShapeSym()];
            case "ConstantOfShape":
                return [ConstantOfShape(node)];
            case "Expand":
                return [Expand(node)];
            case "ReduceProd":
            case "Range":
                if (node.Input.Where(i => i.Length > 0).Select((_, k) => Value(node, k)).Any(v => v is ShapeSym)) return [new ShapeSym()];
                throw Fail(node, $"{node.OpType} is read only in shape arithmetic (of a Shape).");
            case "TopK":
                {
                    if (Value(node, 0) is LengthsSym lengths && Value(node, 1) is ShapeSym && IntAttribute(node, "largest", 1) == 1)
                        return [new SortSym(lengths.Input, false), new SortSym(lengths.Input, true)];
                    throw Fail(node, "TopK is read only as torch.onnx's sort of a packed batch by its lengths (k = B, largest).");
                }
            case "ScatterElements":
                {
                    if (Value(node, 0) is ZeroSym && Value(node, 1) is SortSym { Permutation: true } sort && Value(node, 2) is ShapeSym)
                        return [new UnsortSym(sort.Input)];
                    throw Fail(node, "ScatterElements is read only as the inverse of torch.onnx's packed-sequence sort.");
                }
            case "Cast":
                {
                    var source = Value(node, 0);
                    long target = IntAttribute(node, "to", 0);
                    bool integer = target is (int)TensorProto.Types.DataType.Int64 or (int)TensorProto.Types.DataType.Int32;
                    if (integer && source is InputSym lengthsInput && lengthsInput.Name != _dataInput) return [new LengthsSym(lengthsInput.Name)];
                    if (integer && source is LengthsSym or SortSym or UnsortSym or ShapeSym) return [source];
                    var c = AsConstant(node, source, "input");
                    long to = target;
                    if (c?.Ints is not null && to is (int)TensorProto.Types.DataType.Int64 or (int)TensorProto.Types.DataType.Int32) return [new ConstSym(c)];
                    if (c?.Floats is not null && to == (int)TensorProto.Types.DataType.Float) return [new ConstSym(c)];
                    throw Fail(node, "only casts of integer constants to int64/int32 and of float constants to float are read.");
                }
            case "Unsqueeze":
            case "Squeeze":
                return [Squeeze(node, node.OpType == "Unsqueeze")];
            case "Gather":
                return [Gather(node)];
            case "Concat":
                return [Concat(node)];
            case "Slice":
                return [Slice(node)];
            case "Transpose":
                return [Transpose(node)];
            case "Reshape":
                return [Reshape(node)];
            case "MatMul":
                return [MatMul(node)];
            case "Gemm":
                return [Gemm(node)];
            case "Add":
                return [Add(node)];
            case "Sigmoid":
                {
                    if (Value(node, 0) is ReadoutSym { Sigmoid: false } r) return [r with { Sigmoid = true }];
                    throw Fail(node, "a Sigmoid is read only after the readout's MatMul/Gemm (+ Add).");
                }
            default:
                throw Fail(node, "this operator is not part of the patterns the import reads (RNN/GRU/LSTM layers joined by Slice, Squeeze, Concat, " +
                                 "Transpose, Reshape, a MatMul/Gemm + Add (+ Sigmoid) readout, and constants).");
        }
    }

    private OnnxConstant ConstantNode(NodeProto node)
    {
        if (node.Attribute.Count != 1) throw Fail(node, "a Constant must have exactly one value attribute.");
        var a = node.Attribute[0];
        return a.Name switch
        {
            "value" when a.T is not null => OnnxImportTensors.Read(a.T, Describe(node)),
            "value_int" => new OnnxConstant([], null, [a.I]),
            "value_ints" => new OnnxConstant([a.Ints.Count], null, [.. a.Ints]),
            "value_float" => new OnnxConstant([], [a.F], null),
            "value_floats" => new OnnxConstant([a.Floats.Count], [.. a.Floats], null),
            _ => throw Fail(node, $"attribute '{a.Name}' is not a value the import reads (value, value_int(s), value_float(s))."),
        };
    }

    /// <summary>ConstantOfShape: zeros of a run-time shape (the initial state torch.onnx writes with dynamic_axes).</summary>
    private Sym ConstantOfShape(NodeProto node)
    {
        var shape = Value(node, 0);
        if (Attribute(node, "value") is { T: { } t })
        {
            var value = OnnxImportTensors.Read(t, Describe(node));
            bool zero = (value.Floats?.All(v => v == 0) ?? false) || (value.Ints?.All(v => v == 0) ?? false);
            if (!zero) throw Fail(node, "ConstantOfShape is read only with the value 0 (a zero initial state).");
        }
        if (shape is ShapeSym) return new ZeroSym();
        var c = AsConstant(node, shape, "shape") ?? throw Fail(node, "the shape must be a constant or computed from shapes.");
        if (c.Ints is null) throw Fail(node, "the shape must be an integer tensor.");
        return new ZeroSym();
    }

    /// <summary>Expand of an all-zero constant to a run-time shape: zeros (torch.onnx's initial state of a packed batch).</summary>
    private Sym Expand(NodeProto node)
    {
        var c = AsConstant(node, Value(node, 0), "input");
        bool zero = c is not null && ((c.Floats?.All(v => v == 0) ?? false) || (c.Ints?.All(v => v == 0) ?? false));
        if (!zero || Value(node, 1) is not (ShapeSym or ConstSym or InitializerSym))
            throw Fail(node, "Expand is read only as zeros of a shape (an initial state of zeros).");
        return new ZeroSym();
    }

    /// <summary>The axes of Squeeze/Unsqueeze: the second input (opset ≥ 13) or the attribute.</summary>
    private long[]? Axes(NodeProto node) => OptionalValue(node, 1) is not null ? IntConstant(node, 1, "axes") : IntsAttribute(node, "axes");

    private Sym Squeeze(NodeProto node, bool unsqueeze)
    {
        var input = Value(node, 0);
        if (input is ShapeSym) return input;
        long[]? axes = Axes(node);
        var c = AsConstant(node, input, "input");
        if (c?.Ints is not null && axes is not null)
        {
            // Integer constants: only the shape changes.
            var dims = c.Dims.ToList();
            if (unsqueeze)
            {
                int rank = dims.Count + axes.Length;
                foreach (long axis in axes.Select(a => a < 0 ? a + rank : a).Order())
                {
                    if (axis < 0 || axis > dims.Count) throw Fail(node, $"axis {axis} is out of range.");
                    dims.Insert((int)axis, 1);
                }
            }
            else
            {
                foreach (long axis in axes.Select(a => a < 0 ? a + c.Rank : a).OrderDescending())
                {
                    if (axis < 0 || axis >= dims.Count || dims[(int)axis] != 1) throw Fail(node, $"axis {axis} cannot be squeezed from {c.ShapeText}.");
                    dims.RemoveAt((int)axis);
                }
            }
            return new ConstSym(new OnnxConstant([.. dims], null, c.Ints));
        }
        if (!unsqueeze && input is RawYSym y && axes is [var a])
        {
            var layer = _layers[y.Layer];
            long axis = a < 0 ? a + 4 : a;
            if (layer.Directions == 1 && axis == (y.Transposed ? 2 : 1)) return new SeqSym(y.Layer, false, false);
            throw Fail(node, $"squeezing axis {a} of the recurrent output Y ({(layer.Directions == 2 ? "bidirectional" : "unidirectional")}) is not a pattern the import reads (axis 1 of a unidirectional [T, 1, B, H]).");
        }
        throw Fail(node, unsqueeze
            ? "Unsqueeze is read only on integer constants (shapes, indices)."
            : "Squeeze is read only on integer constants and on axis 1 of a unidirectional recurrent output Y.");
    }

    private Sym Gather(NodeProto node)
    {
        var dataSym = Value(node, 0);
        var indexSym = Value(node, 1);
        if (dataSym is ShapeSym) return new ShapeSym();
        if (indexSym is SortSym { Permutation: true } sort)
        {
            // x[:, perm] (x[perm] batch-first): the batch sorted by length. Each row runs with its own length, so
            // the order changes nothing as long as the outputs are put back (the matching Gather by the inverse).
            if (dataSym is not InputSym) throw Fail(node, "the packed-sequence sort is read only on the input sequence.");
            _sorts++;
            if (_lengthsInput is not null && _lengthsInput != sort.Input) throw Fail(node, "two different length inputs.");
            return dataSym;
        }
        if (indexSym is UnsortSym)
        {
            _unsorts++;
            return dataSym;
        }
        var data = AsConstant(node, dataSym, "data");
        var indices = AsConstant(node, Value(node, 1), "indices");
        long axis = IntAttribute(node, "axis", 0);
        if (data?.Ints is null || indices?.Ints is null || data.Rank != 1 || axis is not (0 or -1))
            throw Fail(node, "Gather is read only on a 1-D integer constant (shape arithmetic).");
        var result = new long[indices.Count];
        for (int k = 0; k < result.Length; k++)
        {
            long i = indices.Ints[k] < 0 ? indices.Ints[k] + data.Count : indices.Ints[k];
            if (i < 0 || i >= data.Count) throw Fail(node, $"index {indices.Ints[k]} is out of range for {data.ShapeText}.");
            result[k] = data.Ints[i];
        }
        return new ConstSym(new OnnxConstant(indices.Dims, null, result));
    }

    private Sym Concat(NodeProto node)
    {
        if (node.Input.Select((_, k) => OptionalValue(node, k)).Any(v => v is ShapeSym)) return new ShapeSym();
        long axis = IntAttribute(node, "axis", 0);
        var inputs = Enumerable.Range(0, node.Input.Count).Select(k => Value(node, k)).ToList();
        if (inputs.Count == 0) throw Fail(node, "has no inputs.");
        if (inputs.All(s => s is FinalStateSym))
        {
            if (axis != 0) throw Fail(node, $"final states are stacked on axis 0, not {axis}.");
            var states = inputs.Cast<FinalStateSym>().ToList();
            for (int k = 1; k < states.Count; k++)
                if (states[k].Cell != states[0].Cell || states[k].First != states[k - 1].Last + 1)
                    throw Fail(node, "the final states must be concatenated layer after layer, h with h and c with c.");
            return new FinalStateSym(states[0].Cell, states[0].First, states[^1].Last);
        }
        var constants = inputs.Select((s, k) => AsConstant(node, s, $"input {k}")).ToList();
        if (constants.All(c => c?.Ints is not null && c.Rank == 1) && axis is 0 or -1)
        {
            long total = constants.Sum(c => (long)c!.Count);
            if (total > MaxFoldedInts) throw Fail(node, $"concatenates {total} integers; shape arithmetic needs at most {MaxFoldedInts}.");
            return new ConstSym(new OnnxConstant([constants.Sum(c => c!.Count)], null, [.. constants.SelectMany(c => c!.Ints!)]));
        }
        throw Fail(node, "Concat is read only for the layers' final states (axis 0) and for 1-D integer constants.");
    }

    private Sym Slice(NodeProto node)
    {
        if (Value(node, 0) is ZeroSym) return new ZeroSym();
        var input = Value(node, 0);
        if (input is not InputSym state) throw Fail(node, "Slice is read only on an initial-state graph input (one layer's rows of axis 0).");
        long[] starts, ends;
        long[]? axes, steps;
        if (node.Input.Count >= 3)
        {
            starts = IntConstant(node, 1, "starts");
            ends = IntConstant(node, 2, "ends");
            axes = OptionalValue(node, 3) is not null ? IntConstant(node, 3, "axes") : null;
            steps = OptionalValue(node, 4) is not null ? IntConstant(node, 4, "steps") : null;
        }
        else
        {
            starts = IntsAttribute(node, "starts") ?? throw Fail(node, "has no starts.");
            ends = IntsAttribute(node, "ends") ?? throw Fail(node, "has no ends.");
            axes = IntsAttribute(node, "axes");
            steps = null;
        }
        if (starts.Length != 1 || ends.Length != 1 || axes is not (null or [0]) || steps is not (null or [1]))
            throw Fail(node, $"the slice of '{state.Name}' must take a range of axis 0 with step 1 (one layer's initial states).");
        return new StateSliceSym(state.Name, starts[0], ends[0]);
    }

    private Sym Transpose(NodeProto node)
    {
        var input = Value(node, 0);
        long[] perm = IntsAttribute(node, "perm") ?? [];
        bool swap = perm is [1, 0, 2];
        switch (input)
        {
            case InputSym x when swap:
                return new SeqSym(-1, false, false); // a batch-first input made sequence-first
            case SeqSym { Layer: >= 0, Flat: false } s when swap:
                return s with { BatchFirst = !s.BatchFirst };
            case ReadoutSym { Flat: false } r when swap:
                return r with { BatchFirst = !r.BatchFirst };
            case RawYSym { Transposed: false } y when perm is [0, 2, 1, 3]:
                return y with { Transposed = true };
        }
        throw Fail(node, $"Transpose(perm [{string.Join(", ", perm)}]) is read only as (1, 0, 2) on a sequence (batch-first input or output) and as (0, 2, 1, 3) on a recurrent output Y.");
    }

    private Sym Reshape(NodeProto node)
    {
        var input = Value(node, 0);
        long[] shape = IntConstant(node, 1, "shape");
        if (IntAttribute(node, "allowzero", 0) != 0) throw Fail(node, "allowzero = 1 is not read.");
        if (input is RawYSym { Transposed: true } y)
        {
            var layer = _layers[y.Layer];
            if (shape is [0, 0, var last] && (last == -1 || last == layer.Directions * layer.Hidden)) return new SeqSym(y.Layer, false, false);
            throw Fail(node, $"the transposed recurrent output [T, B, D, H] must be reshaped with [0, 0, -1] (to [T, B, D·H]), not [{string.Join(", ", shape)}].");
        }
        int width = input switch
        {
            SeqSym { Layer: >= 0 } s => _layers[s.Layer].Directions * _layers[s.Layer].Hidden,
            ReadoutSym r => r.Outputs,
            _ => -1,
        };
        if (width > 0 && shape is [-1, var w] && w == width)
        {
            return input switch
            {
                SeqSym s => s with { Flat = true },
                ReadoutSym r => r with { Flat = true },
                _ => throw new InvalidOperationException(),
            };
        }
        throw Fail(node, "Reshape is read only as [0, 0, -1] of a transposed recurrent output and as [-1, F] of a sequence (before a Gemm readout).");
    }

    private (SeqSym Source, int Width) ReadoutInput(NodeProto node)
    {
        if (Value(node, 0) is not SeqSym { Layer: >= 0 } s)
            throw Fail(node, "the readout's first input must be a recurrent layer's output sequence.");
        if (_readoutRead) throw Fail(node, "a second readout MatMul/Gemm; SimdRnn has one readout.");
        _readoutRead = true;
        var layer = _layers[s.Layer];
        return (s, layer.Directions * layer.Hidden);
    }

    private Sym MatMul(NodeProto node)
    {
        var (s, width) = ReadoutInput(node);
        var c = Constant(node, 1, "weight");
        if (c.Floats is null || c.Rank != 2 || c.Dims[0] != width || c.Dims[1] < 1)
            throw Fail(node, $"the readout weight ('{node.Input[1]}') must be a float32 [{width}, O] matrix, got {c.ShapeText}.");
        int o = (int)c.Dims[1];
        var weight = new float[o * width];
        for (int i = 0; i < width; i++)
            for (int j = 0; j < o; j++)
                weight[j * width + i] = c.Floats[i * o + j];
        return new ReadoutSym(s.Layer, s.BatchFirst, s.Flat, weight, o, new float[o], false, false);
    }

    private Sym Gemm(NodeProto node)
    {
        var (s, width) = ReadoutInput(node);
        if (IntAttribute(node, "transA", 0) != 0) throw Fail(node, "transA = 1 is not a readout.");
        bool transB = IntAttribute(node, "transB", 0) != 0;
        float alpha = Attribute(node, "alpha") is { } a ? a.F : 1f, beta = Attribute(node, "beta") is { } b ? b.F : 1f;
        var c = Constant(node, 1, "weight");
        long rows = transB ? c.Dims.ElementAtOrDefault(1) : c.Dims.ElementAtOrDefault(0);
        long o = transB ? c.Dims.ElementAtOrDefault(0) : c.Dims.ElementAtOrDefault(1);
        if (c.Floats is null || c.Rank != 2 || rows != width || o < 1)
            throw Fail(node, $"the readout weight ('{node.Input[1]}') must be a float32 {(transB ? $"[O, {width}]" : $"[{width}, O]")} matrix, got {c.ShapeText}.");
        var weight = new float[o * width];
        for (int j = 0; j < o; j++)
            for (int i = 0; i < width; i++)
                weight[j * width + i] = alpha * (transB ? c.Floats[j * width + i] : c.Floats[i * o + j]);
        var bias = new float[o];
        bool hasBias = false;
        if (OptionalValue(node, 2) is not null)
        {
            var cb = Constant(node, 2, "bias");
            if (cb.Floats is null || cb.Count != o || cb.Dims.Count(d => d != 1) > 1)
                throw Fail(node, $"the readout bias ('{node.Input[2]}') must be float32 with {o} elements, got {cb.ShapeText}.");
            for (int j = 0; j < o; j++) bias[j] = beta * cb.Floats[j];
            hasBias = true;
        }
        return new ReadoutSym(s.Layer, s.BatchFirst, s.Flat, weight, (int)o, bias, hasBias, false);
    }

    private Sym Add(NodeProto node)
    {
        Sym x = Value(node, 0), y = Value(node, 1);
        int index = x is ReadoutSym ? 1 : 0;
        if ((index == 1 ? x : y) is not ReadoutSym { Sigmoid: false } r)
            throw Fail(node, "Add is read only as the readout's bias (after its MatMul/Gemm, before a Sigmoid).");
        if (_readoutBiasRead) throw Fail(node, "a second Add of a readout bias; SimdRnn's readout has one bias.");
        _readoutBiasRead = true;
        var c = Constant(node, index, "bias");
        if (c.Floats is null || c.Count != r.Outputs || c.Dims.Count(d => d != 1) > 1)
            throw Fail(node, $"the readout bias ('{node.Input[index]}') must be float32 with {r.Outputs} elements, got {c.ShapeText}.");
        var bias = r.Bias.ToArray();
        for (int j = 0; j < bias.Length; j++) bias[j] += c.Floats[j];
        return r with { Bias = bias, HasBias = true };
    }

    // ---- recurrent nodes ----

    private static readonly HashSet<string> RecurrentAttributes = new(StringComparer.Ordinal)
    {
        "activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "layout", "linear_before_reset", "input_forget",
    };

    private Sym[] Recurrent(NodeProto node)
    {
        var cell = node.OpType switch { "GRU" => CellKind.Gru, "LSTM" => CellKind.Lstm, _ => CellKind.Rnn };
        int gates = cell switch { CellKind.Gru => 3, CellKind.Lstm => 4, _ => 1 };
        foreach (var a in node.Attribute)
        {
            if (!RecurrentAttributes.Contains(a.Name) || a.Name == "linear_before_reset" && cell != CellKind.Gru || a.Name == "input_forget" && cell != CellKind.Lstm)
                throw Fail(node, $"attribute '{a.Name}' is not one of {node.OpType}'s.");
        }
        if (Attribute(node, "clip") is not null)
            throw Fail(node, "the 'clip' attribute is set: ONNX clips the cell inputs to ±clip, which SimdRnn (like PyTorch) does not do.");
        if (Attribute(node, "activation_alpha") is { } alpha && (alpha.Floats.Count > 0 || alpha.HasF))
            throw Fail(node, "activation_alpha is set: only the default activations without parameters are read.");
        if (Attribute(node, "activation_beta") is { } beta && (beta.Floats.Count > 0 || beta.HasF))
            throw Fail(node, "activation_beta is set: only the default activations without parameters are read.");
        long layout = IntAttribute(node, "layout", 0);
        if (layout is not (0 or 1)) throw Fail(node, $"layout = {layout} is not 0 or 1.");
        if (IntAttribute(node, "input_forget", 0) != 0)
            throw Fail(node, "input_forget = 1 (coupled input and forget gates) has no PyTorch/SimdRnn equivalent.");
        string direction = Attribute(node, "direction") is { } dir ? dir.S.ToStringUtf8() : "forward";
        int directions = direction switch
        {
            "forward" => 1,
            "bidirectional" => 2,
            "reverse" => throw Fail(node, "direction 'reverse' alone is not a PyTorch layer (PyTorch runs the reverse direction only next to the forward one, bidirectional); reverse the sequence and use 'forward' instead."),
            _ => throw Fail(node, $"unknown direction '{direction}'."),
        };
        bool linearBeforeReset = cell != CellKind.Gru || IntAttribute(node, "linear_before_reset", 0) != 0; // the flag only matters for a GRU
        var nonlinearity = Activations(node, cell, directions);

        int maxInputs = cell == CellKind.Lstm ? 8 : 6;
        if (node.Input.Count > maxInputs) throw Fail(node, $"has {node.Input.Count} inputs; {node.OpType} takes at most {maxInputs}.");
        SequenceLengths(node);
        if (cell == CellKind.Lstm && OptionalValue(node, 7) is not null)
        {
            var peepholes = AsConstant(node, Value(node, 7), "P");
            if (peepholes?.Floats is null || peepholes.Floats.Any(v => v != 0))
                throw Fail(node, $"the peephole input P ('{node.Input[7]}') is given and not all zero: SimdRnn's LSTM is PyTorch's, which has no peepholes " +
                                 "(its cell, its backward pass and the PyTorch interchange would all need the extra P ⊙ c terms). P = 0 is read (it changes nothing).");
        }
        if (cell != CellKind.Lstm && node.Output.Count > 2) throw Fail(node, $"has {node.Output.Count} outputs; {node.OpType} has Y and Y_h.");
        if (cell == CellKind.Lstm && node.Output.Count > 3) throw Fail(node, $"has {node.Output.Count} outputs; LSTM has Y, Y_h and Y_c.");

        // X: the network's input (layer 0) or the previous layer's output.
        int index;
        if (layout == 1 && Value(node, 0) is not InputSym)
            throw Fail(node, "layout = 1 (batch-first inside the operator) is read on the first layer, fed by the graph input; stacked layers must use layout 0.");
        switch (Value(node, 0))
        {
            case InputSym x:
                SetDataInput(node, x.Name, layout == 1);
                _operatorBatchFirst = layout == 1;
                index = 0;
                break;
            case SeqSym { Layer: -1 }:
                SetDataInput(node, FindTransposedInput(node), true);
                index = 0;
                break;
            case SeqSym { Layer: >= 0, BatchFirst: false, Flat: false } s:
                index = s.Layer + 1;
                break;
            default:
                throw Fail(node, $"X ('{node.Input[0]}') must be the network's input sequence or the previous recurrent layer's output as [T, B, D·H].");
        }
        if (index < _layers.Count) throw Fail(node, $"a second recurrent node reads X ('{node.Input[0]}'): the import reads one chain of layers.");

        var wConst = Constant(node, 1, "W");
        if (wConst.Floats is null || wConst.Rank != 3 || wConst.Dims[0] != directions || wConst.Dims[1] < gates || wConst.Dims[1] % gates != 0 || wConst.Dims[2] < 1)
            throw Fail(node, $"W ('{node.Input[1]}') has shape {wConst.ShapeText}, expected float32 [{directions}, {gates}·H, I].");
        int hidden = (int)(wConst.Dims[1] / gates), input = (int)wConst.Dims[2];
        if (Attribute(node, "hidden_size") is { } hs && hs.I != hidden)
            throw Fail(node, $"hidden_size = {hs.I} but W ('{node.Input[1]}') has {wConst.Dims[1]} rows ({gates} gate(s) × {hidden}).");
        float[] r = FloatConstant(node, 2, "R", [directions, gates * hidden, hidden]);
        float[]? b = OptionalValue(node, 3) is not null ? FloatConstant(node, 3, "B", [directions, 2 * gates * hidden]) : null;
        if (index > 0)
        {
            var previous = _layers[index - 1];
            if (cell != previous.Cell || hidden != previous.Hidden || directions != previous.Directions || nonlinearity != previous.Nonlinearity || linearBeforeReset != previous.LinearBeforeReset)
                throw Fail(node, $"layer {index} differs from layer {index - 1} ({Describe(previous.Node)}) in operator, hidden size, direction, activation or linear_before_reset; SimdRnn stacks identical layers.");
            if (input != previous.Directions * previous.Hidden)
                throw Fail(node, $"W ('{node.Input[1]}') expects {input} inputs but the previous layer gives {previous.Directions * previous.Hidden}.");
        }
        var initialH = InitialState(node, 5, "initial_h");
        var initialC = cell == CellKind.Lstm ? InitialState(node, 6, "initial_c") : null;
        _layers.Add(new Layer
        {
            Node = node,
            Cell = cell,
            Nonlinearity = nonlinearity,
            LinearBeforeReset = linearBeforeReset,
            Directions = directions,
            Hidden = hidden,
            Input = input,
            W = wConst.Floats,
            R = r,
            B = b,
            InitialH = initialH,
            InitialC = initialC,
        });
        return cell == CellKind.Lstm
            ? [new RawYSym(index, false), new FinalStateSym(false, index, index), new FinalStateSym(true, index, index)]
            : [new RawYSym(index, false), new FinalStateSym(false, index, index)];
    }

    private string FindTransposedInput(NodeProto node)
    {
        // The Transpose that made the batch-first input sequence-first.
        string name = node.Input[0];
        while (_producers.TryGetValue(name, out var producer) && producer.Input.Count > 0)
        {
            name = producer.Input[0];
            if (_values.TryGetValue(name, out var sym) && sym is InputSym input) return input.Name;
        }
        throw Fail(node, "cannot find the graph input behind X.");
    }

    /// <summary>
    /// sequence_lens: absent, or the graph input of lengths (directly, through a Cast, or sorted by torch.onnx's
    /// packed-sequence export), the same for every layer; the lengths are then given at run time.
    /// </summary>
    private void SequenceLengths(NodeProto node)
    {
        var sym = OptionalValue(node, 4);
        string? input = sym switch
        {
            null => null,
            InputSym i when i.Name != _dataInput => i.Name,
            LengthsSym l => l.Input,
            SortSym { Permutation: false } s => s.Input,
            _ => throw Fail(node, $"sequence_lens ('{node.Input[4]}') must be a graph input of lengths (or a Cast of one); constant lengths are not read, pass them at run time."),
        };
        if (_layers.Count > 0 && input != _lengthsInput)
            throw Fail(node, "sequence_lens differs from the layer below's; SimdRnn runs every layer with the same lengths.");
        _lengthsInput = input;
    }

    /// <summary>The graph input of sequence lengths (null when the recurrent nodes take none).</summary>
    public string? LengthsInput => _lengthsInput;

    private void SetDataInput(NodeProto node, string name, bool batchFirst)
    {
        if (_dataInput is not null) throw Fail(node, $"a second recurrent node reads the graph input '{name}'.");
        _dataInput = name;
        _batchFirst = batchFirst;
    }

    private Sym? InitialState(NodeProto node, int index, string what)
    {
        var sym = OptionalValue(node, index);
        return sym switch
        {
            null or ZeroSym => null,
            InputSym or StateSliceSym => sym,
            _ => throw Fail(node, $"{what} ('{node.Input[index]}') must be a graph input or one layer's slice of it (constant initial states are not read)."),
        };
    }

    private Nonlinearity Activations(NodeProto node, CellKind cell, int directions)
    {
        var attribute = Attribute(node, "activations");
        string[] expected = cell switch { CellKind.Gru => ["Sigmoid", "Tanh"], CellKind.Lstm => ["Sigmoid", "Tanh", "Tanh"], _ => ["Tanh"] };
        if (attribute is null || attribute.Strings.Count == 0) return Nonlinearity.Tanh;
        string[] given = [.. attribute.Strings.Select(s => s.ToStringUtf8())];
        if (cell == CellKind.Rnn && given.Length == directions && given.All(a => string.Equals(a, given[0], StringComparison.OrdinalIgnoreCase)))
        {
            if (string.Equals(given[0], "Tanh", StringComparison.OrdinalIgnoreCase)) return Nonlinearity.Tanh;
            if (string.Equals(given[0], "Relu", StringComparison.OrdinalIgnoreCase)) return Nonlinearity.Relu;
        }
        bool defaults = given.Length == expected.Length * directions &&
                        given.Select((a, k) => string.Equals(a, expected[k % expected.Length], StringComparison.OrdinalIgnoreCase)).All(ok => ok);
        if (defaults) return Nonlinearity.Tanh;
        string want = cell == CellKind.Rnn ? "Tanh or Relu (the same for both directions)" : string.Join(", ", expected) + " per direction";
        throw Fail(node, $"activations [{string.Join(", ", given)}] are not read: SimdRnn's {node.OpType} uses {want}.");
    }

    // ---- the network ----

    private RecurrentNetwork Build()
    {
        if (_layers.Count == 0) throw new ModelFormatException("The graph has no RNN, GRU or LSTM node fed by a graph input.");
        var first = _layers[0];
        int count = _layers.Count, d = first.Directions, h = first.Hidden;
        CheckStates(l => l.InitialH, "initial_h");
        if (first.Cell == CellKind.Lstm) CheckStates(l => l.InitialC, "initial_c");

        ReadoutSym? readout = null;
        foreach (var output in _graph.Output)
        {
            if (!_values.TryGetValue(output.Name, out var sym)) throw new ModelFormatException($"Graph output '{output.Name}' is not produced by any node.");
            string where = _producers.TryGetValue(output.Name, out var node) ? $"{Describe(node)}: graph output '{output.Name}'" : $"Graph output '{output.Name}'";
            switch (sym)
            {
                case SeqSym { Layer: var l, BatchFirst: var bf } when l == count - 1:
                    if (bf != _batchFirst) throw new ModelFormatException($"{where} is {(bf ? "batch-first" : "sequence-first")} but the input is not; SimdRnn keeps one layout.");
                    break;
                case RawYSym { Layer: var l } when l == count - 1 && (!_batchFirst || _operatorBatchFirst):
                    // layout 0: [T, D, B, H] (D = 1 gives [T, 1, B, H]); layout 1: [B, T, D, H], which is SimdRnn's batch-first [B, T, D·H].
                    break;
                case FinalStateSym { First: 0, Last: var last } when last == count - 1:
                    break;
                case ReadoutSym r when r.Layer == count - 1:
                    if (r.BatchFirst != _batchFirst) throw new ModelFormatException($"{where} is {(r.BatchFirst ? "batch-first" : "sequence-first")} but the input is not; SimdRnn keeps one layout.");
                    if (readout is not null && (readout.Sigmoid != r.Sigmoid || !readout.Weight.AsSpan().SequenceEqual(r.Weight) || !readout.Bias.AsSpan().SequenceEqual(r.Bias)))
                        throw new ModelFormatException($"{where} is a second, different readout; SimdRnn has one.");
                    readout = r;
                    break;
                default:
                    throw new ModelFormatException($"{where} is not the top layer's output sequence, all layers' final states or the readout, which is what SimdRnn computes.");
            }
        }

        if (_sorts != _unsorts && _graph.Output.Count > 0 && _sorts > 0 && _unsorts == 0)
            throw new ModelFormatException("The input is sorted by length (torch.onnx's packed-sequence export) but no output is put back in the input's order.");
        bool hasB = _layers.Any(l => l.B is not null);
        var bias = _options.Bias ?? (hasB ? BiasMode.Pair : BiasMode.None);
        var spec = new RecurrentSpec(first.Cell, first.Input, h)
        {
            Layers = count,
            Bidirectional = d == 2,
            Nonlinearity = first.Nonlinearity,
            Bias = bias,
            LinearBeforeReset = first.LinearBeforeReset,
            ReadoutSize = readout?.Outputs ?? 0,
            ReadoutActivation = readout is { Sigmoid: true } ? ReadoutActivation.Sigmoid : ReadoutActivation.None,
            BatchFirst = _batchFirst,
        };
        int gates = spec.Gates, gh = gates * h;
        int[] perm = first.Cell switch { CellKind.Gru => [1, 0, 2], CellKind.Lstm => [0, 3, 1, 2], _ => [0] };
        var tensors = new Dictionary<string, (int[] Shape, float[] Data)>(StringComparer.Ordinal);
        for (int l = 0; l < count; l++)
        {
            var layer = _layers[l];
            for (int dir = 0; dir < d; dir++)
            {
                string suffix = string.Create(CultureInfo.InvariantCulture, $"_l{l}") + (dir == 1 ? "_reverse" : "");
                tensors["weight_ih" + suffix] = ([gh, layer.Input], Reorder(layer.W.AsSpan(dir * gh * layer.Input, gh * layer.Input), perm, h * layer.Input));
                tensors["weight_hh" + suffix] = ([gh, h], Reorder(layer.R.AsSpan(dir * gh * h, gh * h), perm, h * h));
                float[] b = layer.B ?? new float[d * 2 * gh];
                float[] wb = Reorder(b.AsSpan(dir * 2 * gh, gh), perm, h), rb = Reorder(b.AsSpan(dir * 2 * gh + gh, gh), perm, h);
                if (bias != BiasMode.None) tensors["bias_ih" + suffix] = ([gh], wb);
                else if (wb.Any(v => v != 0)) throw new ModelFormatException($"{Describe(layer.Node)}: the input bias (Wb of B) is not zero, so the network cannot be bias-free (OnnxImportOptions.Bias = None).");
                if (bias == BiasMode.Pair) tensors["bias_hh" + suffix] = ([gh], rb);
                else if (rb.Any(v => v != 0)) throw new ModelFormatException($"{Describe(layer.Node)}: the recurrent bias (Rb of B) is not zero, so the network cannot have one bias (OnnxImportOptions.Bias = {bias}).");
            }
        }
        if (readout is not null)
        {
            tensors["head.weight"] = ([readout.Outputs, d * h], readout.Weight);
            tensors["head.bias"] = ([readout.Outputs], readout.Bias);
        }
        try
        {
            spec.Validate();
            return RecurrentNetwork.FromTensors(spec, tensors);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"The graph describes an invalid network: {e.Message}", e);
        }
    }

    /// <summary>Every layer's initial state is absent, or all are layer l's rows of the same graph input.</summary>
    private void CheckStates(Func<Layer, Sym?> state, string what)
    {
        int count = _layers.Count;
        var states = _layers.Select(state).ToList();
        if (states.All(s => s is null)) return;
        string? input = null;
        for (int l = 0; l < count; l++)
        {
            var layer = _layers[l];
            int d = layer.Directions;
            string name;
            switch (states[l])
            {
                case null:
                    throw new ModelFormatException($"{Describe(layer.Node)}: {what} is absent while other layers have one; give every layer its initial state or none.");
                case InputSym whole when count == 1:
                    name = whole.Name;
                    break;
                case StateSliceSym slice:
                    long total = (long)count * d;
                    long start = slice.Start < 0 ? slice.Start + total : Math.Min(slice.Start, total);
                    long end = slice.End < 0 ? slice.End + total : Math.Min(slice.End, total);
                    if (start != (long)l * d || end != (long)(l + 1) * d)
                        throw new ModelFormatException($"{Describe(layer.Node)}: {what} takes rows {slice.Start}..{slice.End} of '{slice.Input}'; layer {l} of {count} needs rows {l * d}..{(l + 1) * d}.");
                    name = slice.Input;
                    break;
                default:
                    throw new ModelFormatException($"{Describe(layer.Node)}: {what} must be layer {l}'s rows of one [L·D, B, H] graph input.");
            }
            if (input is not null && input != name) throw new ModelFormatException($"{Describe(layer.Node)}: {what} comes from '{name}', the layer below's from '{input}'; SimdRnn takes one state input.");
            if (name == _dataInput) throw new ModelFormatException($"{Describe(layer.Node)}: {what} is the input sequence '{name}'.");
            input = name;
        }
    }

    /// <summary>A [G·H, cols] block matrix with ONNX's gate order put back into PyTorch's.</summary>
    private static float[] Reorder(ReadOnlySpan<float> onnx, int[] perm, int block)
    {
        var result = new float[onnx.Length];
        for (int k = 0; k < perm.Length; k++)
            onnx.Slice(k * block, block).CopyTo(result.AsSpan(perm[k] * block, block));
        return result;
    }
}
