using System.Buffers;
using SimdRnn.Cells;
using SimdRnn.Kernels;
using SimdRnn.Networks;

namespace SimdRnn.Training;

/// <summary>
/// Trains an Elman network by exact back-propagation through time and the clipped SGD update
/// <c>w ← w − lr · clamp(g, −c, c)</c>. The trainer owns a copy of the weights and every buffer an iteration needs,
/// so an iteration allocates nothing once the longest sequence has been seen; <see cref="ToNetwork"/> hands back an
/// immutable network. Not thread-safe; dispose it to return its pooled buffers.
/// </summary>
public sealed class ElmanTrainer : IDisposable
{
    private readonly ElmanLayout _layout;
    private readonly TrainerOptions _options;
    private readonly float[] _parameters;
    private readonly float[] _gradients;
    private readonly float[] _preActivation; // a_t, H
    private readonly float[] _hiddenGradient; // dL/dh_t, H
    private readonly float[] _preActivationGradient; // dL/da_t, H
    private readonly float[] _logitGradient; // dL/dz_t, O
    private float[] _hiddens = []; // h_0 .. h_T, (T+1)·H, pooled
    private float[] _logits = []; // z_1 .. z_T, T·O, pooled
    private float[] _outputs = []; // o_1 .. o_T, T·O, pooled
    private int _capacity; // the longest sequence the pooled buffers hold
    private bool _disposed;

    /// <summary>Creates a trainer starting from the weights of <paramref name="initial"/> (copied).</summary>
    /// <param name="initial">The starting network; it is not modified.</param>
    /// <param name="options">Hyper-parameters; null for the seed document's (lr 0.1, clip 5, BCE summed).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public ElmanTrainer(ElmanNetwork initial, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _options = options ?? new TrainerOptions();
        _options.Validate();
        _layout = initial.Layout;
        _parameters = initial.ParameterSpan.ToArray();
        _gradients = new float[_layout.Count];
        _preActivation = new float[_layout.H];
        _hiddenGradient = new float[_layout.H];
        _preActivationGradient = new float[_layout.H];
        _logitGradient = new float[_layout.O];
    }

    /// <summary>The hyper-parameters.</summary>
    public TrainerOptions Options => _options;

    /// <summary>The current weights, tensor by tensor.</summary>
    public ElmanTensors Weights => _layout.View(_parameters);

    /// <summary>The gradients of the last <see cref="ComputeGradients"/> (before clipping), laid out like <see cref="Weights"/>.</summary>
    public ElmanTensors Gradients => _layout.View(_gradients);

    /// <summary>
    /// Runs the sequence forward from a zero hidden state and back-propagates exactly through time, leaving the
    /// gradient of the loss in <see cref="Gradients"/>. The weights are not changed.
    /// </summary>
    /// <param name="inputs">T input vectors of length I, time-major (T·I floats, T ≥ 0).</param>
    /// <param name="targets">T target vectors of length O (T·O floats).</param>
    /// <returns>The loss and the mean squared error of this forward pass.</returns>
    /// <exception cref="ArgumentException">A length does not fit; nothing is changed then.</exception>
    public LossReport ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int steps = CheckSequence(inputs, targets);
        EnsureCapacity(steps);
        Forward(inputs, steps);
        return Backward(inputs, targets, steps);
    }

    /// <summary>Applies the clipped SGD update with the gradients of the last <see cref="ComputeGradients"/>.</summary>
    public void ApplyGradients()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ClippedSgd.Update(_parameters, _gradients, _options.LearningRate, _options.GradientClip);
    }

    /// <summary>One training iteration: <see cref="ComputeGradients"/> then <see cref="ApplyGradients"/>.</summary>
    /// <param name="inputs">T input vectors of length I (T·I floats).</param>
    /// <param name="targets">T target vectors of length O (T·O floats).</param>
    /// <returns>The losses measured before the update, as the seed document reports them.</returns>
    /// <exception cref="ArgumentException">A length does not fit; nothing is changed then.</exception>
    public LossReport TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        var report = ComputeGradients(inputs, targets);
        ApplyGradients();
        return report;
    }

    /// <summary>An immutable network holding a copy of the current weights.</summary>
    /// <returns>The new network.</returns>
    public ElmanNetwork ToNetwork()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ElmanNetwork(_layout, _parameters);
    }

    /// <summary>Returns the pooled sequence buffers.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        ReturnBuffers();
    }

    private int CheckSequence(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        if (inputs.Length % _layout.I != 0)
            throw new ArgumentException($"Expected a multiple of the input size {_layout.I}, got length {inputs.Length}.", nameof(inputs));
        int steps = inputs.Length / _layout.I;
        Guard.Length(targets, (long)steps * _layout.O, nameof(targets));
        return steps;
    }

    private void EnsureCapacity(int steps)
    {
        if (steps <= _capacity && _hiddens.Length > 0) return;
        int capacity = Math.Max(steps, Math.Max(4, _capacity * 2));
        ReturnBuffers();
        _hiddens = ArrayPool<float>.Shared.Rent((capacity + 1) * _layout.H);
        _logits = ArrayPool<float>.Shared.Rent(capacity * _layout.O);
        _outputs = ArrayPool<float>.Shared.Rent(capacity * _layout.O);
        _capacity = capacity;
    }

    private void ReturnBuffers()
    {
        if (_hiddens.Length > 0) ArrayPool<float>.Shared.Return(_hiddens);
        if (_logits.Length > 0) ArrayPool<float>.Shared.Return(_logits);
        if (_outputs.Length > 0) ArrayPool<float>.Shared.Return(_outputs);
        _hiddens = _logits = _outputs = [];
        _capacity = 0;
    }

    // Forward, keeping every step: h_0 = 0; h_t = tanh(Wxh·x_t + Whh·h_{t−1} + bh); z_t = Why·h_t + by; o_t = σ(z_t).
    private void Forward(ReadOnlySpan<float> inputs, int steps)
    {
        int h = _layout.H, o = _layout.O, i = _layout.I;
        Span<float> hiddens = _hiddens.AsSpan(0, (steps + 1) * h);
        hiddens.Slice(0, h).Clear();
        for (int t = 0; t < steps; t++)
        {
            ElmanCell.Hidden(_layout, _parameters, inputs.Slice(t * i, i), hiddens.Slice(t * h, h), hiddens.Slice((t + 1) * h, h), _preActivation);
            ElmanCell.Logits(_layout, _parameters, hiddens.Slice((t + 1) * h, h), _logits.AsSpan(t * o, o));
        }
        Activations.Sigmoid(_logits.AsSpan(0, steps * o), _outputs.AsSpan(0, steps * o));
    }

    // Exact BPTT, from t = T down to 1, with δ_t = dL/dh_t carried back through Whh:
    //   dz_t = dL/dz_t;  dWhy += dz_t·h_tᵀ;  dby += dz_t
    //   δ_t += Whyᵀ·dz_t;  da_t = (1 − h_t²) ⊙ δ_t
    //   dWxh += da_t·x_tᵀ;  dWhh += da_t·h_{t−1}ᵀ;  dbh += da_t;  δ_{t−1} = Whhᵀ·da_t
    private LossReport Backward(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int steps)
    {
        int h = _layout.H, o = _layout.O, i = _layout.I;
        Span<float> g = _gradients;
        g.Clear();
        Span<float> dWxh = _layout.Wxh(g), dWhh = _layout.Whh(g), dbh = _layout.Bh(g), dWhy = _layout.Why(g), dby = _layout.By(g);
        ReadOnlySpan<float> p = _parameters;
        ReadOnlySpan<float> whh = _layout.Whh(p), why = _layout.Why(p);
        ReadOnlySpan<float> hiddens = _hiddens;
        Span<float> delta = _hiddenGradient, da = _preActivationGradient, dz = _logitGradient;
        delta.Clear();

        double scale = _options.Reduction == LossReduction.Mean && steps > 0 ? 1.0 / ((double)steps * o) : 1.0;
        double loss = 0, squaredError = 0;
        for (int t = steps - 1; t >= 0; t--)
        {
            ReadOnlySpan<float> ht = hiddens.Slice((t + 1) * h, h);
            for (int k = 0; k < o; k++)
            {
                double z = _logits[t * o + k], out_ = _outputs[t * o + k], target = targets[t * o + k];
                double error = out_ - target;
                squaredError += error * error;
                if (_options.Loss == LossKind.BinaryCrossEntropy)
                {
                    // −[t·log σ(z) + (1−t)·log(1−σ(z))] = max(z, 0) − t·z + log(1 + e^(−|z|)); d/dz = σ(z) − t
                    loss += Math.Max(z, 0) - target * z + Math.Log(1 + Math.Exp(-Math.Abs(z)));
                    dz[k] = (float)(error * scale);
                }
                else
                {
                    // (σ(z) − t)²; d/dz = 2(σ(z) − t)·σ(z)·(1 − σ(z))
                    loss += error * error;
                    dz[k] = (float)(2 * error * out_ * (1 - out_) * scale);
                }
            }
            Gemv.AddOuterProduct(dWhy, o, h, dz, ht);
            Elementwise.Accumulate(dz, dby);
            Gemv.MultiplyTransposedAccumulate(why, o, h, dz, delta);
            Elementwise.TanhBackward(ht, delta, da);
            Gemv.AddOuterProduct(dWxh, h, i, da, inputs.Slice(t * i, i));
            Gemv.AddOuterProduct(dWhh, h, h, da, hiddens.Slice(t * h, h));
            Elementwise.Accumulate(da, dbh);
            delta.Clear();
            if (t > 0) Gemv.MultiplyTransposedAccumulate(whh, h, h, da, delta);
        }
        double elements = (double)steps * o;
        return new LossReport(loss * scale, elements > 0 ? squaredError / elements : 0);
    }
}
