using System.Runtime.CompilerServices;

namespace SimdRnn.Kernels.Vectors;

/// <summary>
/// A vector of <see cref="Count"/> floats at one fixed width: every operation a kernel needs, as static members, so
/// a kernel written once as a generic method over <c>TVector : IFloatVector&lt;TVector&gt;</c> is compiled by the JIT
/// once per width with no dispatch per element (the width structs are single-field wrappers the JIT keeps in
/// registers). The widths: <see cref="Float512"/> (<c>Vector512</c>), <see cref="FloatVector"/>
/// (<c>System.Numerics.Vector&lt;float&gt;</c>, 256 bits on x64, 128 on ARM64), <see cref="Float128"/>
/// (<c>Vector128</c>) and <see cref="ScalarFloat"/> (one lane: the scalar twin is the same code at width 1, so every
/// lane-wise kernel computes the same bits at every width).
/// </summary>
/// <remarks>
/// Masks (the results of comparisons, <see cref="TailMask"/>) are vectors whose lanes are all ones or all zeros.
/// <see cref="MultiplyAdd"/> is fused where the hardware has FMA, on every width alike (the scalar one included).
/// </remarks>
internal interface IFloatVector<TSelf> where TSelf : struct, IFloatVector<TSelf>
{
    /// <summary>The number of lanes.</summary>
    static abstract int Count { get; }

    /// <summary>True where this width runs on hardware vector instructions (always true for the scalar width).</summary>
    static abstract bool IsHardwareAccelerated { get; }

    static abstract TSelf Zero { get; }

    static abstract TSelf One { get; }

    /// <summary>Every lane <paramref name="value"/>.</summary>
    static abstract TSelf Create(float value);

    /// <summary>Loads <see cref="Count"/> floats from <c>source + offset</c> (no alignment needed, no bounds check).</summary>
    static abstract TSelf Load(ref float source, nuint offset);

    /// <summary>Stores <see cref="Count"/> floats at <c>destination + offset</c>.</summary>
    static abstract void Store(TSelf value, ref float destination, nuint offset);

    static abstract TSelf operator +(TSelf a, TSelf b);

    static abstract TSelf operator -(TSelf a, TSelf b);

    static abstract TSelf operator *(TSelf a, TSelf b);

    static abstract TSelf operator /(TSelf a, TSelf b);

    static abstract TSelf operator &(TSelf a, TSelf b);

    static abstract TSelf operator |(TSelf a, TSelf b);

    /// <summary><c>a &amp; ~b</c>, bitwise.</summary>
    static abstract TSelf AndNot(TSelf a, TSelf b);

    /// <summary><c>a·b + c</c>, fused (one rounding) where the hardware has FMA.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>
    /// <c>acc = MultiplyAdd(a, b, acc)</c> in place, the same bits. The kernels accumulate through this and
    /// <see cref="AccumulateLoaded"/> rather than <c>acc = MultiplyAdd(…, acc)</c>: a value that comes back wrapped in
    /// this struct loses the JIT's tie between the accumulator it reads and the one it writes, so it kept the product in
    /// another register and added a move per FMA, and it did not fold a wrapped load into the FMA's memory operand (the
    /// GEMV's inner loop took a load, an FMA and a move per vector, 8–15% slower at 256 bits than one
    /// <c>vfmadd231ps</c>; measured on a Zen 4, 2026-11-30). Writing the accumulator through a reference to its vector
    /// gives the one-instruction form at every width.
    /// </summary>
    static abstract void Accumulate(ref TSelf acc, TSelf a, TSelf b);

    /// <summary><c>acc = MultiplyAdd(Load(source, offset), x, acc)</c> in place, the load folded into the FMA (<see cref="Accumulate"/>).</summary>
    static abstract void AccumulateLoaded(ref TSelf acc, ref float source, nuint offset, TSelf x);

    static abstract TSelf Abs(TSelf x);

    static abstract TSelf SquareRoot(TSelf x);

    /// <summary>The IEEE minimum (NaN in either lane gives NaN; −0 &lt; +0).</summary>
    static abstract TSelf Min(TSelf a, TSelf b);

    /// <summary>The IEEE maximum (NaN in either lane gives NaN; −0 &lt; +0).</summary>
    static abstract TSelf Max(TSelf a, TSelf b);

    /// <summary><c>a &lt; b ? a : b</c> per lane: <paramref name="b"/> when either is NaN (x86's minps).</summary>
    static abstract TSelf MinNative(TSelf a, TSelf b);

    /// <summary><c>a &gt; b ? a : b</c> per lane: <paramref name="b"/> when either is NaN (x86's maxps).</summary>
    static abstract TSelf MaxNative(TSelf a, TSelf b);

    static abstract TSelf GreaterThan(TSelf a, TSelf b);

    static abstract TSelf GreaterThanOrEqual(TSelf a, TSelf b);

    static abstract TSelf LessThan(TSelf a, TSelf b);

    /// <summary><c>mask ? a : b</c> per lane, bitwise.</summary>
    static abstract TSelf ConditionalSelect(TSelf mask, TSelf a, TSelf b);

    /// <summary>The sum of the lanes (in a width-specific order).</summary>
    static abstract float Sum(TSelf x);

    /// <summary>
    /// <c>y[K] += Σ_lanes aK</c> for K = 0..3: the four horizontal sums of a four-row dot-product kernel, stored
    /// together where the width has a transpose-add for it.
    /// </summary>
    static abstract void AddLaneSums(TSelf a0, TSelf a1, TSelf a2, TSelf a3, ref float y);

    /// <summary>
    /// The mask of the last, overlapping vector of a span of <paramref name="length"/> ≥ Count elements whose first
    /// <c>length − length % Count</c> elements were done already: the lanes that are new (none when Count divides
    /// <paramref name="length"/>: then there is no tail, and callers skip it).
    /// </summary>
    static abstract TSelf TailMask(int length);

    /// <summary>
    /// 2^n from t = 1.5·2^23 + n (n an integer in [−126, 127], as the rounding trick leaves it): the bits of t
    /// shifted left by 23 plus the bits of 1f.
    /// </summary>
    static abstract TSelf PowerOfTwoFromRounded(TSelf t);

    /// <summary>
    /// Loads <see cref="Count"/> signed bytes from <c>source + offset</c>, each sign-extended and converted exactly to
    /// float (no alignment needed, no bounds check; reads <see cref="Count"/> bytes and no more).
    /// </summary>
    static abstract TSelf LoadInt8(ref sbyte source, nuint offset);

    /// <summary>
    /// Each lane of <paramref name="pairs"/> read as two bfloat16 values (low half, high half): the low halves as floats
    /// (the lane's bits shifted left by 16). With <see cref="BFloat16FromHighHalves"/> this widens 2·Count bfloat16
    /// values loaded as Count floats without a shuffle: the even elements (little-endian) here, the odd ones there.
    /// </summary>
    static abstract TSelf BFloat16FromLowHalves(TSelf pairs);

    /// <summary>The high halves of <paramref name="pairs"/>' lanes as floats (the low 16 bits cleared).</summary>
    static abstract TSelf BFloat16FromHighHalves(TSelf pairs);
}

/// <summary>Span helpers shared by the width-generic drivers.</summary>
internal static class VectorSpan<TVector> where TVector : struct, IFloatVector<TVector>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Load(ReadOnlySpan<float> span, int offset) =>
        TVector.Load(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(span), (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(TVector value, Span<float> span, int offset) =>
        TVector.Store(value, ref System.Runtime.InteropServices.MemoryMarshal.GetReference(span), (nuint)offset);

    /// <summary>
    /// The next offset of a loop over <paramref name="length"/> ≥ Count elements that visits 0, Count, 2·Count, … and
    /// finishes with one overlapping vector at length − Count; −1 when done. Loops that read and write different
    /// spans may visit a lane twice (they write the same value twice).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Next(int offset, int length)
    {
        int last = length - TVector.Count;
        if (offset >= last) return -1;
        return Math.Min(offset + TVector.Count, last);
    }
}
