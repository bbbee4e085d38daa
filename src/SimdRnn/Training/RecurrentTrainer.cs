using SimdRnn.Networks;

namespace SimdRnn.Training;

/// <summary>
/// Trains a <see cref="RecurrentNetwork"/> (any cell, stack, direction and readout) by exact back-propagation
/// through time, with clipped SGD or Adam. The trainer owns a copy of the weights, the gradients, the optimizer state
/// and every buffer a pass needs (pooled, grown only for a longer or wider batch), so an iteration allocates nothing
/// in steady state. <see cref="ToNetwork"/> hands back an immutable network. One thread at a time; dispose it to
/// return its buffers.
/// </summary>
/// <remarks>
/// Two ways to train: <see cref="ComputeGradients(ReadOnlySpan{float}, int, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/> / <see cref="TrainStep(ReadOnlySpan{float}, int, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/> with targets and a loss on the
/// network's output, or <see cref="Forward(ReadOnlySpan{float}, int, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float})"/> then <see cref="Backward"/> with any upstream gradients (of the output,
/// the top layer's output and the final states), which also yields the gradients of the inputs and initial states.
/// </remarks>
public sealed class RecurrentTrainer : IDisposable
{
    private readonly RecurrentLayout _layout;
    private readonly RecurrentSpec _spec;
    private readonly SequenceEngine _engine;
    private readonly SequenceBackward _backward; // back-propagation through _engine's history
    private readonly Optimizer _optimizer;
    private readonly float[] _gradients;
    // The fp32 master weights (the optimizer updates them; back-propagation streams them, 64-byte aligned) and the
    // trainer's own packed copies the forward pass runs on, refreshed in place after every update.
    private readonly AlignedFloats _parameters;
    private readonly NetworkWeights _weights;
    private float[] _output = [], _layerOutput = [], _finalHidden = [], _finalCell = [];
    private float[] _dOutput = [], _dTop = [], _inputGradient = [];
    private int _steps, _batch;
    private bool _forwardDone, _disposed;

    /// <summary>Creates a trainer starting from the weights of <paramref name="initial"/> (copied).</summary>
    /// <param name="initial">The starting network; it is not modified.</param>
    /// <param name="options">Hyper-parameters; null for the seed document's (clipped SGD, lr 0.1, clip 5, BCE summed).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public RecurrentTrainer(RecurrentNetwork initial, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        Options = options ?? new TrainerOptions();
        Options.Validate();
        _layout = initial.Layout;
        _spec = _layout.Spec;
        _parameters = new AlignedFloats(initial.Parameters);
        _gradients = new float[_layout.Count];
        _weights = new NetworkWeights(_layout, _parameters.Span);
        _engine = new SequenceEngine(_layout, training: true);
        _backward = new SequenceBackward(_engine);
        _optimizer = new Optimizer(Options, _layout.Count);
    }

    /// <summary>The hyper-parameters.</summary>
    public TrainerOptions Options { get; }

    /// <summary>Rows per chunk of the forward pass's input projection (0: automatic; tests of chunk boundaries).</summary>
    internal int ProjectionChunkRowsForTests { set => _engine.ProjectionChunkRowsOverride = value; }

    /// <summary>The architecture.</summary>
    public RecurrentSpec Spec => _spec;

    /// <summary>The current parameters, laid out as <see cref="RecurrentNetwork.Tensors"/>.</summary>
    public ReadOnlySpan<float> Parameters => _parameters.Span;

    /// <summary>The gradients of the last <see cref="Backward"/> (before clipping), laid out like <see cref="Parameters"/>.</summary>
    public ReadOnlySpan<float> Gradients => _gradients;

    /// <summary>The number of updates applied so far.</summary>
    public int UpdateCount => _optimizer.Steps;

    internal Optimizer OptimizerState => _optimizer;

    /// <summary>The gradient of the tensor called <paramref name="name"/>.</summary>
    /// <param name="name">A PyTorch parameter name, e.g. <c>weight_ih_l0</c>.</param>
    /// <returns>The gradient's elements.</returns>
    /// <exception cref="KeyNotFoundException">No such tensor.</exception>
    public ReadOnlySpan<float> Gradient(string name)
    {
        var slot = _layout.Find(name) ?? throw new KeyNotFoundException($"The network has no tensor '{name}'.");
        return _gradients.AsSpan(slot.Offset, slot.Length);
    }

    /// <summary>The network's output of the last <see cref="Forward(ReadOnlySpan{float}, int, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float})"/> ([T, B, O] or [T, B, D·H], in the spec's layout).</summary>
    public ReadOnlySpan<float> Output => _output.AsSpan(0, _steps * _batch * _spec.OutputSize);

    /// <summary>The top layer's output of the last <see cref="Forward(ReadOnlySpan{float}, int, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float})"/> [T, B, D·H] (the same as <see cref="Output"/> without a readout).</summary>
    public ReadOnlySpan<float> LayerOutput => _spec.ReadoutSize > 0 ? _layerOutput.AsSpan(0, _steps * _batch * _spec.LayerOutputSize) : Output;

    /// <summary>h_T of the last <see cref="Forward(ReadOnlySpan{float}, int, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float})"/>, [L·D, B, H].</summary>
    public ReadOnlySpan<float> FinalHidden => _finalHidden.AsSpan(0, StateLength);

    /// <summary>c_T of the last <see cref="Forward(ReadOnlySpan{float}, int, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float})"/>, [L·D, B, H] (LSTM; empty otherwise).</summary>
    public ReadOnlySpan<float> FinalCell => _spec.HasCellState ? _finalCell.AsSpan(0, StateLength) : default;

    /// <summary>dL/dx of the last <see cref="Backward"/>, in the input's layout.</summary>
    public ReadOnlySpan<float> InputGradient => _inputGradient.AsSpan(0, _steps * _batch * _spec.InputSize);

    /// <summary>dL/dh_0 of the last <see cref="Backward"/>, [L·D, B, H].</summary>
    public ReadOnlySpan<float> InitialHiddenGradient => _backward.InitialHiddenGradient;

    /// <summary>dL/dc_0 of the last <see cref="Backward"/>, [L·D, B, H] (LSTM; empty otherwise).</summary>
    public ReadOnlySpan<float> InitialCellGradient => _backward.InitialCellGradient;

    private int StateLength => _spec.Layers * _spec.Directions * _batch * _spec.HiddenSize;

    /// <summary>Runs the sequences forward from the initial states (empty = zeros), keeping what back-propagation needs.</summary>
    /// <param name="input">[T, B, I] (or [B, T, I] when batch-first).</param>
    /// <param name="batch">B.</param>
    /// <param name="initialHidden">h_0 [L·D, B, H], or empty.</param>
    /// <param name="initialCell">c_0 [L·D, B, H] (LSTM), or empty.</param>
    /// <exception cref="ArgumentException">A length does not fit; nothing changes then.</exception>
    public void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default) =>
        Forward(input, batch, default, initialHidden, initialCell);

    /// <summary>
    /// Runs sequences of different lengths forward (packed-sequence semantics, as
    /// <see cref="RecurrentSession.Run(ReadOnlySpan{float}, int, ReadOnlySpan{int}, Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, Span{float})"/>),
    /// keeping what back-propagation needs; <see cref="Backward"/> then sends no gradient through padded positions
    /// (their upstream gradients are ignored, their input gradients are zero).
    /// </summary>
    /// <param name="input">[T, B, I] (or [B, T, I] when batch-first); padded positions may hold anything.</param>
    /// <param name="batch">B.</param>
    /// <param name="lengths">B lengths in 1..T, in any order; empty = every sequence is T long.</param>
    /// <param name="initialHidden">h_0 [L·D, B, H], or empty.</param>
    /// <param name="initialCell">c_0 [L·D, B, H] (LSTM), or empty.</param>
    /// <exception cref="ArgumentException">A length does not fit; nothing changes then.</exception>
    public void Forward(ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int steps = SequenceArguments.Steps(_spec, input, batch);
        if (!lengths.IsEmpty) SequenceArguments.Lengths(lengths, steps, batch, nameof(lengths));
        SequenceArguments.State(_spec, initialHidden, batch, false, nameof(initialHidden));
        SequenceArguments.State(_spec, initialCell, batch, true, nameof(initialCell));
        ForwardUnchecked(input, steps, batch, initialHidden, initialCell, lengths);
    }

    private void ForwardUnchecked(ReadOnlySpan<float> input, int steps, int batch, ReadOnlySpan<float> initialHidden, ReadOnlySpan<float> initialCell, ReadOnlySpan<int> lengths = default)
    {
        _steps = steps;
        _batch = batch;
        int rows = steps * batch;
        PooledFloats.Grow(ref _output, rows * _spec.OutputSize);
        PooledFloats.Grow(ref _layerOutput, _spec.ReadoutSize > 0 ? rows * _spec.LayerOutputSize : 0);
        PooledFloats.Grow(ref _finalHidden, StateLength);
        PooledFloats.Grow(ref _finalCell, _spec.HasCellState ? StateLength : 0);
        PooledFloats.Grow(ref _dOutput, rows * Math.Max(_spec.OutputSize, _spec.LayerOutputSize));
        PooledFloats.Grow(ref _dTop, rows * _spec.LayerOutputSize);
        PooledFloats.Grow(ref _inputGradient, rows * _spec.InputSize);

        // The engine keeps layer 0's input for back-propagation: a sequence-first copy.
        Span<float> sequenceFirst = _engine.InputBuffer(steps, batch);
        if (_spec.BatchFirst) SequenceLayout.SwapLeadingAxes(input, batch, steps, _spec.InputSize, sequenceFirst);
        else input.CopyTo(sequenceFirst);
        SequenceEngine.ClearPaddedRows(sequenceFirst, steps, batch, _spec.InputSize, lengths); // padded inputs (NaN too) never reach dW_ih
        _engine.Forward(_weights, sequenceFirst, steps, batch, initialHidden, initialCell, default, default, lengths);
        _engine.CopyFinalHidden(_finalHidden);
        if (_spec.HasCellState) _engine.CopyFinalCell(_finalCell);
        if (_spec.ReadoutSize > 0)
        {
            ToCallerLayout(_engine.ReadoutOutput, _spec.ReadoutSize, _output);
            ToCallerLayout(_engine.TopOutput, _spec.LayerOutputSize, _layerOutput);
        }
        else
        {
            ToCallerLayout(_engine.TopOutput, _spec.LayerOutputSize, _output);
        }
        _forwardDone = true;
    }

    /// <summary>
    /// Exact back-propagation through the last <see cref="Forward(ReadOnlySpan{float}, int, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float})"/> for the scalar loss whose gradients are given:
    /// of the output (<paramref name="outputGradient"/>, like <see cref="Output"/>), of the top layer's output when
    /// the network has a readout (<paramref name="layerOutputGradient"/>), and of the final states. Any may be empty
    /// (zero). Overwrites <see cref="Gradients"/>, <see cref="InputGradient"/> and the initial-state gradients.
    /// </summary>
    /// <param name="outputGradient">dL/d<see cref="Output"/>, or empty.</param>
    /// <param name="layerOutputGradient">dL/d<see cref="LayerOutput"/> (with a readout only), or empty.</param>
    /// <param name="finalHiddenGradient">dL/dh_T [L·D, B, H], or empty.</param>
    /// <param name="finalCellGradient">dL/dc_T [L·D, B, H] (LSTM), or empty.</param>
    /// <exception cref="InvalidOperationException">No forward pass was run.</exception>
    /// <exception cref="ArgumentException">A length does not fit; nothing changes then.</exception>
    public void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> layerOutputGradient = default,
        ReadOnlySpan<float> finalHiddenGradient = default, ReadOnlySpan<float> finalCellGradient = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_forwardDone) throw new InvalidOperationException("Run Forward before Backward.");
        SequenceArguments.OptionalPerStep(outputGradient, _steps, _batch, _spec.OutputSize, nameof(outputGradient));
        if (_spec.ReadoutSize > 0) SequenceArguments.OptionalPerStep(layerOutputGradient, _steps, _batch, _spec.LayerOutputSize, nameof(layerOutputGradient));
        else if (!layerOutputGradient.IsEmpty) throw new ArgumentException("Without a readout, pass the gradient as outputGradient.", nameof(layerOutputGradient));
        SequenceArguments.State(_spec, finalHiddenGradient, _batch, false, nameof(finalHiddenGradient));
        SequenceArguments.State(_spec, finalCellGradient, _batch, true, nameof(finalCellGradient));

        ReadOnlySpan<float> dReadout = default, dTop = default;
        if (_spec.ReadoutSize > 0)
        {
            dReadout = SequenceFirst(outputGradient, _spec.ReadoutSize, _dOutput);
            dTop = SequenceFirst(layerOutputGradient, _spec.LayerOutputSize, _dTop);
        }
        else
        {
            dTop = SequenceFirst(outputGradient, _spec.LayerOutputSize, _dTop);
        }
        BackwardUnchecked(dReadout, dTop, finalHiddenGradient, finalCellGradient, readoutGradientIsLogit: false);
    }

    private void BackwardUnchecked(ReadOnlySpan<float> dReadout, ReadOnlySpan<float> dTop, ReadOnlySpan<float> dFinalHidden, ReadOnlySpan<float> dFinalCell, bool readoutGradientIsLogit)
    {
        Array.Clear(_gradients);
        _backward.Backward(_parameters.Span, _gradients, _engine.InputBuffer(_steps, _batch), dReadout, dTop, dFinalHidden, dFinalCell, readoutGradientIsLogit);
        ToCallerLayout(_backward.InputGradient, _spec.InputSize, _inputGradient);
    }

    /// <summary>
    /// Forward from the initial states, the loss of the output against <paramref name="targets"/> (same layout as
    /// <see cref="Output"/>), and exact BPTT of that loss into <see cref="Gradients"/>. The weights are not changed.
    /// Binary cross-entropy needs a sigmoid readout (its gradient is taken at the logit: o − t).
    /// </summary>
    /// <param name="input">[T, B, I] (or batch-first).</param>
    /// <param name="batch">B.</param>
    /// <param name="targets">Like <see cref="Output"/>.</param>
    /// <param name="initialHidden">h_0, or empty.</param>
    /// <param name="initialCell">c_0 (LSTM), or empty.</param>
    /// <returns>The loss and the mean squared error, measured before any update.</returns>
    /// <exception cref="ArgumentException">A length does not fit; nothing changes then.</exception>
    /// <exception cref="InvalidOperationException">Binary cross-entropy without a sigmoid readout.</exception>
    public LossReport ComputeGradients(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> targets,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default) =>
        ComputeGradients(input, batch, default, targets, initialHidden, initialCell);

    /// <summary>
    /// <see cref="ComputeGradients(ReadOnlySpan{float}, int, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/>
    /// for sequences of different lengths: the loss counts valid positions only (t &lt; length_b; the mean divides by
    /// their number times the output width), and padded targets, like padded inputs, may hold anything.
    /// </summary>
    /// <param name="input">[T, B, I] (or batch-first).</param>
    /// <param name="batch">B.</param>
    /// <param name="lengths">B lengths in 1..T, in any order; empty = every sequence is T long.</param>
    /// <param name="targets">Like <see cref="Output"/>.</param>
    /// <param name="initialHidden">h_0, or empty.</param>
    /// <param name="initialCell">c_0 (LSTM), or empty.</param>
    /// <returns>The loss and the mean squared error over the valid positions, measured before any update.</returns>
    /// <exception cref="ArgumentException">A length does not fit; nothing changes then.</exception>
    /// <exception cref="InvalidOperationException">Binary cross-entropy without a sigmoid readout.</exception>
    public LossReport ComputeGradients(ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, ReadOnlySpan<float> targets,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        bool bce = Options.Loss == LossKind.BinaryCrossEntropy;
        if (bce && !(_spec.ReadoutSize > 0 && _spec.ReadoutActivation == ReadoutActivation.Sigmoid))
            throw new InvalidOperationException("Binary cross-entropy needs a sigmoid readout; use LossKind.SquaredError for other outputs.");
        int steps = SequenceArguments.Steps(_spec, input, batch);
        SequenceArguments.PerStep(targets, steps, batch, _spec.OutputSize, nameof(targets));
        if (!lengths.IsEmpty) SequenceArguments.Lengths(lengths, steps, batch, nameof(lengths));
        SequenceArguments.State(_spec, initialHidden, batch, false, nameof(initialHidden));
        SequenceArguments.State(_spec, initialCell, batch, true, nameof(initialCell));
        ForwardUnchecked(input, steps, batch, initialHidden, initialCell, lengths);

        // The loss, element by element in the caller's layout; its gradient lands sequence-first in _dOutput.
        int rows = steps * batch, width = _spec.OutputSize, n = rows * width;
        ReadOnlySpan<float> outputs = Output;
        ReadOnlySpan<float> logits = bce ? _engine.ReadoutLogits : default;
        Span<float> gradient = _dOutput.AsSpan(0, n);
        int valid = ValidElements(lengths, steps, batch, width);
        double scale = Options.Reduction == LossReduction.Mean && valid > 0 ? 1.0 / valid : 1.0;
        double loss = 0, squaredError = 0;
        for (int k = 0; k < n; k++)
        {
            int sf = SequenceFirstIndex(k, steps, batch, width);
            if (IsPaddedElement(lengths, sf, batch, width))
            {
                gradient[sf] = 0;
                continue;
            }
            double o = outputs[k], t = targets[k], error = o - t;
            squaredError += error * error;
            if (bce)
            {
                // −[t·log σ(z) + (1−t)·log(1−σ(z))] = max(z, 0) − t·z + log(1 + e^(−|z|)); d/dz = σ(z) − t
                double z = logits[sf];
                loss += Math.Max(z, 0) - t * z + Math.Log(1 + Math.Exp(-Math.Abs(z)));
                gradient[sf] = (float)(error * scale);
            }
            else
            {
                loss += error * error;
                gradient[sf] = (float)(2 * error * scale);
            }
        }
        if (_spec.ReadoutSize > 0) BackwardUnchecked(gradient, default, default, default, readoutGradientIsLogit: bce);
        else BackwardUnchecked(default, gradient, default, default, readoutGradientIsLogit: false);
        return new LossReport(loss * scale, valid > 0 ? squaredError / valid : 0);
    }

    /// <summary>The number of loss elements at valid positions: Σ_b length_b · width (T·B·width without lengths).</summary>
    private static int ValidElements(ReadOnlySpan<int> lengths, int steps, int batch, int width)
    {
        if (lengths.IsEmpty) return steps * batch * width;
        int total = 0;
        foreach (int length in lengths) total += length * width;
        return total;
    }

    /// <summary>Whether sequence-first element <paramref name="sf"/> lies at a padded position (t ≥ length_b).</summary>
    private static bool IsPaddedElement(ReadOnlySpan<int> lengths, int sf, int batch, int width)
    {
        if (lengths.IsEmpty) return false;
        int row = sf / width;
        return row / batch >= lengths[row % batch];
    }

    /// <summary>
    /// Applies the update rule (clipped SGD or Adam) with the gradients of the last backward pass, unless a gradient
    /// is not finite: then nothing changes (weights, optimizer moments and step count) and the result is false.
    /// </summary>
    /// <returns>Whether the update was applied.</returns>
    public bool ApplyGradients()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Kernels.Elementwise.AllFinite(_gradients)) return false;
        _optimizer.Apply(_parameters.Span, _gradients);
        _weights.Refresh(_parameters.Span);
        return true;
    }

    /// <summary>
    /// One iteration: <see cref="ComputeGradients(ReadOnlySpan{float}, int, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/> then <see cref="ApplyGradients"/>. An iteration whose loss or
    /// gradients are not finite changes nothing and says so in <see cref="LossReport.Updated"/>.
    /// </summary>
    /// <param name="input">[T, B, I] (or batch-first).</param>
    /// <param name="batch">B.</param>
    /// <param name="targets">Like <see cref="Output"/>.</param>
    /// <param name="initialHidden">h_0, or empty.</param>
    /// <param name="initialCell">c_0 (LSTM), or empty.</param>
    /// <returns>The losses measured before the update.</returns>
    public LossReport TrainStep(ReadOnlySpan<float> input, int batch, ReadOnlySpan<float> targets,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default) =>
        TrainStep(input, batch, default, targets, initialHidden, initialCell);

    /// <summary>
    /// One iteration over sequences of different lengths: <see cref="ComputeGradients(ReadOnlySpan{float}, int, ReadOnlySpan{int}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/>
    /// then <see cref="ApplyGradients"/>.
    /// </summary>
    /// <param name="input">[T, B, I] (or batch-first).</param>
    /// <param name="batch">B.</param>
    /// <param name="lengths">B lengths in 1..T, in any order; empty = every sequence is T long.</param>
    /// <param name="targets">Like <see cref="Output"/>.</param>
    /// <param name="initialHidden">h_0, or empty.</param>
    /// <param name="initialCell">c_0 (LSTM), or empty.</param>
    /// <returns>The losses measured before the update.</returns>
    public LossReport TrainStep(ReadOnlySpan<float> input, int batch, ReadOnlySpan<int> lengths, ReadOnlySpan<float> targets,
        ReadOnlySpan<float> initialHidden = default, ReadOnlySpan<float> initialCell = default)
    {
        var report = ComputeGradients(input, batch, lengths, targets, initialHidden, initialCell);
        bool updated = double.IsFinite(report.Loss) && ApplyGradients();
        return report with { Updated = updated };
    }

    /// <summary>An immutable network holding a copy of the current weights.</summary>
    /// <returns>The network.</returns>
    public RecurrentNetwork ToNetwork()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return RecurrentNetwork.Wrap(_layout, _parameters.Span);
    }

    /// <summary>Returns the pooled buffers.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _engine.Dispose();
        _backward.Dispose();
        PooledFloats.Return(ref _output); PooledFloats.Return(ref _layerOutput); PooledFloats.Return(ref _finalHidden); PooledFloats.Return(ref _finalCell);
        PooledFloats.Return(ref _dOutput); PooledFloats.Return(ref _dTop); PooledFloats.Return(ref _inputGradient);
    }

    private int SequenceFirstIndex(int k, int steps, int batch, int width)
    {
        if (!_spec.BatchFirst) return k;
        int row = k / width, column = k % width;
        int b = row / steps, t = row % steps;
        return (t * batch + b) * width + column;
    }

    private void ToCallerLayout(ReadOnlySpan<float> sequenceFirst, int width, Span<float> destination)
    {
        int n = _steps * _batch * width;
        if (_spec.BatchFirst) SequenceLayout.SwapLeadingAxes(sequenceFirst.Slice(0, n), _steps, _batch, width, destination);
        else sequenceFirst.Slice(0, n).CopyTo(destination);
    }

    private ReadOnlySpan<float> SequenceFirst(ReadOnlySpan<float> callerLayout, int width, Span<float> buffer)
    {
        if (callerLayout.IsEmpty || !_spec.BatchFirst) return callerLayout;
        SequenceLayout.SwapLeadingAxes(callerLayout, _batch, _steps, width, buffer);
        return buffer.Slice(0, callerLayout.Length);
    }

}
