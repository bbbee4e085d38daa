using System.Numerics;
using System.Runtime.Intrinsics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SimdRnn.Kernels;
using SimdRnn.Kernels.Vectors;
using SimdRnn.Tests.Support;
using Xunit.Abstractions;

namespace SimdRnn.Tests.Kernels;

/// <summary>
/// The activation kernels against double-precision tanh and logistic (never against our own code), on each path:
/// every width called directly (the scalar twin, 128 bits, Vector&lt;T&gt;, 512 bits, each only where the hardware
/// accelerates it; CI's AVX2-off and intrinsics-off runs cover the narrower paths) and the public dispatch; and the
/// widths against each other bit for bit (the lane math is one copy at every width).
/// </summary>
[Trait("Category", "Kernels")]
public sealed class ActivationTests
{
    /// <summary>The issue's bounds.</summary>
    private const double MaxAbsError = 3e-7;
    private const double MaxSmallRelError = 1e-6;
    private const float SmallLimit = 1e-3f;

    private readonly ITestOutputHelper output;

    public ActivationTests(ITestOutputHelper output) => this.output = output;

    public enum Fn { Tanh, Sigmoid }

    public enum Path { Scalar, Simd128, Simd, Simd512, Public }

    private static double Reference(Fn fn, float x) =>
        fn == Fn.Tanh ? Math.Tanh(x) : 1.0 / (1.0 + Math.Exp(-(double)x));

    /// <summary>Runs <paramref name="fn"/> over <paramref name="x"/> into <paramref name="y"/> on <paramref name="path"/>.</summary>
    private static void Run(Fn fn, Path path, ReadOnlySpan<float> x, Span<float> y)
    {
        if (path == Path.Public)
        {
            if (fn == Fn.Tanh) Activations.Tanh(x, y);
            else Activations.Sigmoid(x, y);
            return;
        }
        if (fn == Fn.Tanh) Activations.TanhAt(WidthOf(path), x, y);
        else Activations.SigmoidAt(WidthOf(path), x, y);
    }

    private static Width WidthOf(Path path) => path switch
    {
        Path.Simd512 => Width.Bits512,
        Path.Simd => Width.VectorT,
        Path.Simd128 => Width.Bits128,
        _ => Width.Scalar,
    };

    /// <summary>
    /// A width's kernel needs at least one full vector and a machine that accelerates it (elsewhere its checks pass
    /// vacuously); the public dispatch takes any length.
    /// </summary>
    private static bool Accepts(Path path, int length) =>
        path == Path.Public || (VectorWidth.Supported.Contains(WidthOf(path)) && VectorWidth.Lanes(WidthOf(path)) <= Math.Max(1, length));

    // ---------- the inputs ----------

    /// <summary>2^20 + 1 evenly spaced points over [−20, 20], then 2^18 uniform random floats in [−20, 20].</summary>
    private static float[] Sweep()
    {
        const int Dense = 1 << 20;
        var x = new float[Dense + 1 + (1 << 18)];
        for (int i = 0; i <= Dense; i++) x[i] = (float)(-20.0 + 40.0 * i / Dense);
        var rng = new Random(20240611);
        for (int i = Dense + 1; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 40.0 - 20.0);
        return x;
    }

    /// <summary>Both signs of 2^16 log-spaced magnitudes from float.Epsilon (subnormal) up to just below 1e-3.</summary>
    private static float[] SmallSweep()
    {
        const int N = 1 << 16;
        var x = new float[2 * N];
        double lo = Math.Log(float.Epsilon), hi = Math.Log(SmallLimit);
        for (int i = 0; i < N; i++)
        {
            float v = (float)Math.Exp(lo + (hi - lo) * i / N);
            if (v == 0f) v = float.Epsilon;
            x[2 * i] = v;
            x[2 * i + 1] = -v;
        }
        return x;
    }

    /// <summary>Random bit patterns: every finite float, whatever its magnitude, equally likely per exponent.</summary>
    private static float[] RandomBits(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            float v;
            do v = BitConverter.Int32BitsToSingle(rng.Next() ^ (rng.Next(2) << 31)); while (!float.IsFinite(v));
            x[i] = v;
        }
        return x;
    }

    private static readonly float[] Extremes =
    [
        0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -1e-40f, 1.1754942E-38f, -1.1754942E-38f, 1e-30f, -1e-30f,
        0.4f, -0.4f, 0.39999998f, -0.39999998f, 9f, -9f, 10f, -10f, 20f, -20f, 50f, -50f, 86.5f, -86.5f, 87.5f, -87.5f,
        88.8f, -88.8f, 100f, -100f, 104f, -104f, 1e30f, -1e30f, float.MaxValue, float.MinValue,
        float.PositiveInfinity, float.NegativeInfinity,
    ];

    // ---------- measurement ----------

    private readonly record struct Errors(double MaxAbs, float ArgAbs, double MaxRel, float ArgRel, int OutOfRange);

    private static Errors Measure(Fn fn, Path path, float[] x)
    {
        var y = new float[x.Length];
        Run(fn, path, x, y);
        double maxAbs = 0, maxRel = 0;
        float argAbs = 0, argRel = 0;
        int outOfRange = 0;
        double lo = fn == Fn.Tanh ? -1 : 0;
        for (int i = 0; i < x.Length; i++)
        {
            double want = Reference(fn, x[i]);
            double abs = Math.Abs(y[i] - want);
            if (!(abs <= maxAbs)) { maxAbs = abs; argAbs = x[i]; }
            if (x[i] != 0 && Math.Abs(x[i]) < SmallLimit)
            {
                double rel = abs / Math.Abs(want);
                if (!(rel <= maxRel)) { maxRel = rel; argRel = x[i]; }
            }
            if (!(y[i] >= lo && y[i] <= 1)) outOfRange++;
        }
        return new Errors(maxAbs, argAbs, maxRel, argRel, outOfRange);
    }

    public static TheoryData<Fn, Path> AllPaths()
    {
        var data = new TheoryData<Fn, Path>();
        foreach (var fn in new[] { Fn.Tanh, Fn.Sigmoid })
            foreach (var path in new[] { Path.Scalar, Path.Simd128, Path.Simd, Path.Simd512, Path.Public })
                data.Add(fn, path);
        return data;
    }

    // ---------- bounds ----------

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void AbsoluteErrorOverMinus20To20IsWithinBoundAndRangeHolds(Fn fn, Path path)
    {
        if (!Accepts(path, 1 << 20)) return;
        var e = Measure(fn, path, Sweep());
        output.WriteLine($"{fn} {path}: max abs error {e.MaxAbs:E3} at x = {e.ArgAbs:R} (Vector<float>.Count = {Vector<float>.Count})");
        Assert.True(e.MaxAbs <= MaxAbsError, $"{fn} {path}: max abs error {e.MaxAbs:E3} at x = {e.ArgAbs:R}");
        Assert.Equal(0, e.OutOfRange);
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void RelativeErrorForSmallArgumentsIsWithinBound(Fn fn, Path path)
    {
        if (!Accepts(path, 1 << 16)) return;
        var e = Measure(fn, path, SmallSweep());
        output.WriteLine($"{fn} {path}: max relative error for 0 < |x| < 1e-3: {e.MaxRel:E3} at x = {e.ArgRel:R}");
        Assert.True(e.MaxRel <= MaxSmallRelError, $"{fn} {path}: max relative error {e.MaxRel:E3} at x = {e.ArgRel:R}");
        Assert.Equal(0, e.OutOfRange);
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void WholeFloatRangeIsAccurateAndInRange(Fn fn, Path path)
    {
        // Random bit patterns reach every binade, huge and subnormal; the absolute bound still holds there.
        float[] x = [.. RandomBits(1 << 16, 7 + (int)fn), .. Extremes];
        if (!Accepts(path, x.Length)) return;
        var e = Measure(fn, path, x);
        Assert.True(e.MaxAbs <= MaxAbsError, $"{fn} {path}: max abs error {e.MaxAbs:E3} at x = {e.ArgAbs:R}");
        Assert.Equal(0, e.OutOfRange);
    }

    // ---------- exact edges ----------

    /// <summary>Each path applied to one value (padded with other values to a full vector for the simd kernel).</summary>
    private static float Apply(Fn fn, Path path, float value)
    {
        int n = Vector512<float>.Count + 3;
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = i * 0.37f - 1f;
        x[n - 1] = value;   // the overlapping last vector
        x[1] = value;       // a full vector
        var y = new float[n];
        Run(fn, path, x, y);
        Assert.Equal(BitConverter.SingleToInt32Bits(y[1]), BitConverter.SingleToInt32Bits(y[n - 1]));
        return y[1];
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void ExactEdges(Fn fn, Path path)
    {
        if (!Accepts(path, Vector512<float>.Count + 3)) return;
        if (fn == Fn.Tanh)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(0f), BitConverter.SingleToInt32Bits(Apply(fn, path, 0f)));
            Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(Apply(fn, path, -0f)));
            Assert.Equal(1f, Apply(fn, path, float.PositiveInfinity));
            Assert.Equal(-1f, Apply(fn, path, float.NegativeInfinity));
            Assert.Equal(1f, Apply(fn, path, 50f));
            Assert.Equal(-1f, Apply(fn, path, -50f));
            Assert.Equal(1f, Apply(fn, path, float.MaxValue));
            Assert.Equal(-1f, Apply(fn, path, 1e30f * -1f));
            Assert.Equal(1e-40f, Apply(fn, path, 1e-40f));      // tanh(x) = x for subnormal x
            Assert.Equal(-float.Epsilon, Apply(fn, path, -float.Epsilon));
        }
        else
        {
            Assert.Equal(0f, Apply(fn, path, float.NegativeInfinity));
            Assert.Equal(1f, Apply(fn, path, float.PositiveInfinity));
            Assert.Equal(0.5f, Apply(fn, path, 0f));
            Assert.Equal(0.5f, Apply(fn, path, -0f));
            Assert.Equal(1f, Apply(fn, path, 50f));
            Assert.Equal(1f, Apply(fn, path, float.MaxValue));
            Assert.Equal(0f, Apply(fn, path, float.MinValue));
            Assert.Equal(0f, Apply(fn, path, -1e30f));
            float tiny = Apply(fn, path, -100f);
            Assert.True(tiny >= 0f && tiny < 1e-37f, $"sigmoid(−100) = {tiny:R}");
            float small = Apply(fn, path, -50f);
            Assert.True(Math.Abs(small - Reference(fn, -50f)) <= 1e-6 * Reference(fn, -50f), $"sigmoid(−50) = {small:R}");
        }
        Assert.True(float.IsNaN(Apply(fn, path, float.NaN)));
        Assert.True(float.IsNaN(Apply(fn, path, -float.NaN)));
    }

    // ---------- lengths, tails and aliasing ----------

    private static readonly Gen<float> Moderate = Gen.Choose(-2_000_000, 2_000_000).Select(i => i / 100_000f);

    private static readonly Gen<float> AnyBits =
        Gen.Choose(0, 0xFFFF).SelectMany(hi => Gen.Choose(0, 0xFFFF).Select(lo => BitConverter.Int32BitsToSingle((hi << 16) | lo)));

    private static readonly Gen<float> Special = Gen.Elements(Extremes);

    private static readonly Arbitrary<(float[] X, bool InPlace)> Inputs =
        Gen.Choose(0, 67)
            .SelectMany(n => Gen.Frequency((6, Moderate), (2, AnyBits), (1, Special)).ArrayOf(n))
            .SelectMany(x => Gen.Elements(false, true).Select(inPlace => (x, inPlace)))
            .ToArbitrary();

    private static bool CloseTo(Fn fn, float x, float y)
    {
        if (float.IsNaN(x)) return float.IsNaN(y);
        double want = Reference(fn, x);
        double err = Math.Abs(y - want);
        bool inRange = y >= (fn == Fn.Tanh ? -1f : 0f) && y <= 1f;
        bool relOk = x == 0 || Math.Abs(x) >= SmallLimit || err <= MaxSmallRelError * Math.Abs(want);
        return inRange && err <= MaxAbsError && relOk;
    }

    private static bool CheckAll(Fn fn, Path path, (float[] X, bool InPlace) input)
    {
        var (x, inPlace) = input;
        if (!Accepts(path, x.Length)) return true;
        var source = (float[])x.Clone();
        var y = inPlace ? source : new float[x.Length];
        Run(fn, path, source, y);
        for (int i = 0; i < x.Length; i++)
            if (!CloseTo(fn, x[i], y[i])) return false;
        return true;
    }

    [Property(MaxTest = 300)]
    public Property TanhOfRandomSpansMatchesDoublePrecision() =>
        Prop.ForAll(Inputs, input => CheckAll(Fn.Tanh, Path.Public, input) && CheckAll(Fn.Tanh, Path.Simd, input) && CheckAll(Fn.Tanh, Path.Simd512, input) && CheckAll(Fn.Tanh, Path.Simd128, input) && CheckAll(Fn.Tanh, Path.Scalar, input));

    [Property(MaxTest = 300)]
    public Property SigmoidOfRandomSpansMatchesDoublePrecision() =>
        Prop.ForAll(Inputs, input => CheckAll(Fn.Sigmoid, Path.Public, input) && CheckAll(Fn.Sigmoid, Path.Simd, input) && CheckAll(Fn.Sigmoid, Path.Simd512, input) && CheckAll(Fn.Sigmoid, Path.Simd128, input) && CheckAll(Fn.Sigmoid, Path.Scalar, input));

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void EveryLengthUpTo67InPlaceAndOutOfPlaceAgree(Fn fn, Path path)
    {
        for (int n = 0; n <= 67; n++)
        {
            if (!Accepts(path, n)) continue;
            var x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (i * 0.731f) % 12f - 6f;
            var y = new float[n];
            Run(fn, path, x, y);
            var inPlace = (float[])x.Clone();
            Run(fn, path, inPlace, inPlace);
            for (int i = 0; i < n; i++)
            {
                Assert.True(CloseTo(fn, x[i], y[i]), $"{fn} {path} n = {n}, i = {i}: {y[i]:R} for x = {x[i]:R}");
                Assert.Equal(BitConverter.SingleToInt32Bits(y[i]), BitConverter.SingleToInt32Bits(inPlace[i]));
            }
        }
    }

    [Fact]
    public void EveryWidthComputesTheSameBits()
    {
        // One copy of the lane math (Activations.Lanes<TVector>) with fused multiply-adds on every width, the scalar
        // one included: every lane of every width, in every position of the overlapping tail, gives the scalar
        // width's bits (NaN compared as NaN: its payload is not part of the contract).
        float[] x = [.. Sweep().AsSpan(0, 1 << 16), .. Extremes, .. RandomBits(4096, 3), float.NaN, -float.NaN];
        foreach (var fn in new[] { Fn.Tanh, Fn.Sigmoid })
        {
            var scalar = new float[x.Length];
            Run(fn, Path.Scalar, x, scalar);
            foreach (var width in Widths.Fitting(x.Length))
            {
                var y = new float[x.Length];
                if (fn == Fn.Tanh) Activations.TanhAt(width, x, y);
                else Activations.SigmoidAt(width, x, y);
                for (int i = 0; i < x.Length; i++)
                    Assert.True(SameBits(y[i], scalar[i]), $"{fn} {width} x = {x[i]:R}: {y[i]:R}, scalar width {scalar[i]:R}");
            }
        }
    }

    [Property(MaxTest = 200)]
    public Property EveryWidthComputesTheSameBitsOnRandomSpans() => Prop.ForAll(Inputs, input =>
    {
        // The same on spans of 0..67 elements (every tail of every width), in place and out of place.
        foreach (var fn in new[] { Fn.Tanh, Fn.Sigmoid })
        {
            var scalar = new float[input.X.Length];
            Run(fn, Path.Scalar, input.X, scalar);
            foreach (var width in Widths.Fitting(input.X.Length))
            {
                var y = (float[])input.X.Clone();
                if (fn == Fn.Tanh) Activations.TanhAt(width, input.InPlace ? y : input.X, y);
                else Activations.SigmoidAt(width, input.InPlace ? y : input.X, y);
                for (int i = 0; i < y.Length; i++)
                    if (!SameBits(y[i], scalar[i])) return false;
            }
        }
        return true;
    });

    private static bool SameBits(float a, float b) =>
        BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || (float.IsNaN(a) && float.IsNaN(b));

    [Fact]
    public void The512BitKernelsAreTakenOnlyWhereTheHardwareAcceleratesThem()
    {
        // CI reruns the suite with the width capped and with DOTNET_EnableAVX512=0: in those processes the 16-lane
        // width must be off, and the dispatch must then take the narrower kernels.
        output.WriteLine($"Vector512 accelerated: {Vector512.IsHardwareAccelerated}; Vector<float>.Count = {Vector<float>.Count}; widths {string.Join(", ", VectorWidth.Supported)}; maximum {VectorWidth.Maximum}");
        Assert.Equal(Vector512.IsHardwareAccelerated && Vector<float>.Count < 16, VectorWidth.Supported.Contains(Width.Bits512));
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") == "0" || Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0")
            Assert.DoesNotContain(Width.Bits512, VectorWidth.Supported);
    }

    // ---------- validation and allocation ----------

    [Fact]
    public void LengthMismatchNamesY()
    {
        var x = new float[10];
        var y = new float[9];
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Activations.Tanh(x, y)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Activations.Sigmoid(x, y)).ParamName);
    }

    [Fact]
    public void PartialOverlapIsRejected()
    {
        var buffer = new float[40];
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Activations.Tanh(buffer.AsSpan(0, 20), buffer.AsSpan(1, 20))).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Activations.Sigmoid(buffer.AsSpan(1, 20), buffer.AsSpan(0, 20))).ParamName);
    }

    [Fact]
    public void EmptySpansAreFine()
    {
        Activations.Tanh([], []);
        Activations.Sigmoid([], []);
    }

    [Fact]
    public void DoesNotAllocate()
    {
        var x = new float[4099];
        var y = new float[4099];
        for (int i = 0; i < x.Length; i++) x[i] = i * 0.01f - 20f;
        for (int i = 0; i < 3; i++) { Activations.Tanh(x, y); Activations.Sigmoid(x, y); Activations.Tanh(y, y); }
        Assert.Equal(0, SimdRnn.Tests.Support.Allocations.Of(() => { Activations.Tanh(x, y); Activations.Sigmoid(x, y); Activations.Sigmoid(y, y); }, 10));
        foreach (var width in Widths.Fitting(x.Length))
            Assert.Equal(0, SimdRnn.Tests.Support.Allocations.Of(() => { Activations.TanhAt(width, x, y); Activations.SigmoidAt(width, x, y); Activations.TanhAt(width, y, y); }, 10));
    }
}
