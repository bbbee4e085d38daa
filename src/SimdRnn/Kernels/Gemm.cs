using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

/// <summary>
/// Dense matrix-matrix kernels (GEMM) over row-major, contiguous float32 matrices: the building blocks of sequence
/// mode (all time steps' input projections at once), batches, and back-propagation through time.
/// </summary>
/// <remarks>
/// <para>
/// Argument order is the same in all three methods: the first factor <c>a</c> followed by its shape <em>as stored</em>
/// (rows, then columns), the second factor <c>b</c> followed by its one dimension not already given, then the
/// output <c>c</c>. So <c>a</c> is <c>m × k</c> in <see cref="MultiplyTransposed"/> and <see cref="MultiplyAccumulate"/>
/// but <c>k × m</c> in <see cref="TransposedMultiplyAccumulate"/>; <c>b</c> is <c>n × k</c> in the first and <c>k × n</c>
/// in the other two; <c>c</c> is always <c>m × n</c>. Element <c>X[i, j]</c> of an <c>r × s</c> matrix is at <c>x[i * s + j]</c>.
/// </para>
/// <para>
/// Every method validates its arguments once, then runs a register-blocked, cache-blocked kernel written once for
/// every width (<see cref="VectorWidth"/>): the widest vector that fits the relevant dimension (K for
/// <see cref="MultiplyTransposed"/>, N for the other two), with fused multiply-add where the hardware has it, down to
/// the one-lane scalar twin. Any sizes ≥ 0 are accepted, including 0 and sizes that are not multiples of the vector width.
/// No method allocates. The output must not overlap either input. Sums are formed in float32 in an order that
/// depends on the path; each output element is within the usual dot-product forward error bound
/// <c>γ_(K+1) · (|C| + Σ_p |A·B|)</c>, <c>γ_n = n·u / (1 − n·u)</c>, <c>u = 2⁻²⁴</c>.
/// </para>
/// </remarks>
public static partial class Gemm
{
    /// <summary>
    /// Computes <c>C = A · Bᵀ</c>, or <c>C += A · Bᵀ</c> when <paramref name="accumulate"/> is true:
    /// <c>C[i, j] = (accumulate ? C[i, j] : 0) + Σ_p A[i, p] · B[j, p]</c>.
    /// For an input projection, <c>A</c> holds the inputs of all time steps and batch entries (<c>[T·B, I]</c>) and
    /// <c>B</c> the weights (<c>[G·H, I]</c>).
    /// </summary>
    /// <param name="a">The left factor <c>A</c>, <paramref name="m"/> × <paramref name="k"/>, row-major.</param>
    /// <param name="m">The number of rows of <c>A</c> and of <c>C</c> (M ≥ 0).</param>
    /// <param name="k">The shared inner dimension: the number of columns of <c>A</c> and of <c>B</c> (K ≥ 0).</param>
    /// <param name="b">The right factor <c>B</c>, <paramref name="n"/> × <paramref name="k"/>, row-major (it is used transposed).</param>
    /// <param name="n">The number of rows of <c>B</c> and of columns of <c>C</c> (N ≥ 0).</param>
    /// <param name="c">The output <c>C</c>, <paramref name="m"/> × <paramref name="n"/>, row-major; it must not overlap the inputs.</param>
    /// <param name="accumulate">True to add the product to <c>C</c>; false to overwrite <c>C</c> (its old contents are ignored).</param>
    /// <exception cref="ArgumentException">A length does not match the shape, or a dimension is negative.</exception>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c, bool accumulate)
    {
        CheckDimensions(m, k, n);
        Guard.Length(a, (long)m * k, nameof(a));
        Guard.Length(b, (long)n * k, nameof(b));
        Guard.Length(c, (long)m * n, nameof(c));
        MultiplyTransposedUnchecked(a, m, k, b, n, c, accumulate);
    }

    /// <summary>
    /// <see cref="MultiplyTransposed"/> without the checks (the callers inside the library validated once), at the
    /// widest width whose vector fits a row of length K.
    /// </summary>
    /// <remarks>
    /// The dot-product kernel runs at most at <c>Vector&lt;T&gt;</c>'s width: its 2×4 tile ends every output in a
    /// horizontal sum, and at 512 bits those folds cost more than the wider loads save (BenchmarkDotNet, 2026-11-30, AMD
    /// EPYC Zen 4: 32 against 54 GFLOP/s at 64×512×128 and 29 against 34 at 4096×384×64, docs/benchmarks.md). The
    /// networks do not use it: their multi-row products, whole matrices or blocks of rows of W, run on the broadcast
    /// kernel over Wᵀ (<see cref="MultiplyAccumulateColumnsUnchecked"/>), which does gain from 512 bits.
    /// </remarks>
    internal static void MultiplyTransposedUnchecked(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c, bool accumulate)
    {
        Width width = VectorWidth.For(k);
        if (width == Width.Bits512) width = Width.VectorT;
        MultiplyTransposedAt(width, a, m, k, b, n, c, accumulate);
    }

    /// <summary><see cref="MultiplyTransposed"/> without the checks, at <paramref name="width"/> (its lanes ≤ K, or K = 0).</summary>
    internal static void MultiplyTransposedAt(Width width, ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c, bool accumulate)
    {
        var call = new MultiplyTransposedCall(a, m, k, b, n, c, accumulate);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>
    /// Computes <c>C += A · B</c>: <c>C[i, j] += Σ_p A[i, p] · B[p, j]</c>
    /// (back-propagation through a projection: <c>dX += dP · W</c>).
    /// </summary>
    /// <param name="a">The left factor <c>A</c>, <paramref name="m"/> × <paramref name="k"/>, row-major.</param>
    /// <param name="m">The number of rows of <c>A</c> and of <c>C</c> (M ≥ 0).</param>
    /// <param name="k">The inner dimension: the number of columns of <c>A</c> and of rows of <c>B</c> (K ≥ 0).</param>
    /// <param name="b">The right factor <c>B</c>, <paramref name="k"/> × <paramref name="n"/>, row-major.</param>
    /// <param name="n">The number of columns of <c>B</c> and of <c>C</c> (N ≥ 0).</param>
    /// <param name="c">The accumulator <c>C</c>, <paramref name="m"/> × <paramref name="n"/>, row-major; it must not overlap the inputs.</param>
    /// <exception cref="ArgumentException">A length does not match the shape, or a dimension is negative.</exception>
    public static void MultiplyAccumulate(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c)
    {
        CheckDimensions(m, k, n);
        Guard.Length(a, (long)m * k, nameof(a));
        Guard.Length(b, (long)k * n, nameof(b));
        Guard.Length(c, (long)m * n, nameof(c));
        MultiplyAccumulateUnchecked(a, m, k, b, n, c);
    }

    /// <summary><see cref="MultiplyAccumulate"/> without the checks, at the widest width whose vector fits a row of C (N).</summary>
    internal static void MultiplyAccumulateUnchecked(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c) =>
        MultiplyAccumulateAt(VectorWidth.For(n), a, m, k, b, n, c);

    /// <summary>
    /// C[m×n] += A[m×k]·B[0..k, first .. first + n): <see cref="MultiplyAccumulate"/> over a block of n columns of a
    /// wider B (k × <paramref name="ldb"/>, row-major), without the checks, at the widest width whose vector fits n. Each
    /// element of C gets the bits the whole product would give it (sums over p in increasing order, whatever the block).
    /// </summary>
    /// <remarks>
    /// With a non-empty <paramref name="start"/> (n floats), C = start (in every row) + A·B instead: C's old contents
    /// are never read, and the bits are those of broadcasting start into C first (the chains begin from it). k must
    /// then be ≥ 1 (the caller writes an empty product's start itself).
    /// </remarks>
    internal static void MultiplyAccumulateColumnsUnchecked(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int ldb, int first, int n, Span<float> c,
        ReadOnlySpan<float> start = default) =>
        MultiplyAccumulateColumnsAt(VectorWidth.For(n), a, m, k, b, ldb, first, n, c, start);

    /// <summary><see cref="MultiplyAccumulateColumnsUnchecked"/> at <paramref name="width"/> (its lanes ≤ n).</summary>
    internal static void MultiplyAccumulateColumnsAt(Width width, ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int ldb, int first, int n, Span<float> c,
        ReadOnlySpan<float> start = default)
    {
        System.Diagnostics.Debug.Assert(k > 0 || start.IsEmpty, "an empty product with a start row: the caller writes the start");
        if (m == 0 || n == 0 || k == 0) return;
        var call = new MultiplyAccumulateColumnsCall(a.Slice(0, m * k), m, k, b.Slice(first, (k - 1) * ldb + n), ldb, n, c.Slice(0, m * n),
            start.IsEmpty ? default : start.Slice(0, n));
        VectorWidth.Run(width, ref call);
    }

    /// <summary><see cref="MultiplyAccumulate"/> without the checks, at <paramref name="width"/> (its lanes ≤ N, or an empty product).</summary>
    internal static void MultiplyAccumulateAt(Width width, ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c)
    {
        var call = new MultiplyAccumulateCall(a, m, k, b, n, c);
        VectorWidth.Run(width, ref call);
    }

    /// <summary>
    /// Computes <c>C += Aᵀ · B</c>: <c>C[i, j] += Σ_p A[p, i] · B[p, j]</c>
    /// (a weight gradient summed over all rows: <c>dW += dPᵀ · X</c>).
    /// </summary>
    /// <param name="a">The left factor <c>A</c>, <paramref name="k"/> × <paramref name="m"/>, row-major (it is used transposed).</param>
    /// <param name="k">The inner dimension: the number of rows of <c>A</c> and of <c>B</c> (K ≥ 0).</param>
    /// <param name="m">The number of columns of <c>A</c> and of rows of <c>C</c> (M ≥ 0).</param>
    /// <param name="b">The right factor <c>B</c>, <paramref name="k"/> × <paramref name="n"/>, row-major.</param>
    /// <param name="n">The number of columns of <c>B</c> and of <c>C</c> (N ≥ 0).</param>
    /// <param name="c">The accumulator <c>C</c>, <paramref name="m"/> × <paramref name="n"/>, row-major; it must not overlap the inputs.</param>
    /// <exception cref="ArgumentException">A length does not match the shape, or a dimension is negative.</exception>
    public static void TransposedMultiplyAccumulate(ReadOnlySpan<float> a, int k, int m, ReadOnlySpan<float> b, int n, Span<float> c)
    {
        CheckDimensions(m, k, n);
        Guard.Length(a, (long)k * m, nameof(a));
        Guard.Length(b, (long)k * n, nameof(b));
        Guard.Length(c, (long)m * n, nameof(c));
        TransposedMultiplyAccumulateUnchecked(a, k, m, b, n, c);
    }

    /// <summary><see cref="TransposedMultiplyAccumulate"/> without the checks, at the widest width whose vector fits a row of C (N).</summary>
    internal static void TransposedMultiplyAccumulateUnchecked(ReadOnlySpan<float> a, int k, int m, ReadOnlySpan<float> b, int n, Span<float> c) =>
        TransposedMultiplyAccumulateAt(VectorWidth.For(n), a, k, m, b, n, c);

    /// <summary><see cref="TransposedMultiplyAccumulate"/> without the checks, at <paramref name="width"/> (its lanes ≤ N, or an empty product).</summary>
    internal static void TransposedMultiplyAccumulateAt(Width width, ReadOnlySpan<float> a, int k, int m, ReadOnlySpan<float> b, int n, Span<float> c)
    {
        var call = new TransposedMultiplyAccumulateCall(a, k, m, b, n, c);
        VectorWidth.Run(width, ref call);
    }

    private readonly ref struct MultiplyTransposedCall(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c, bool accumulate) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _a = a, _b = b;
        private readonly Span<float> _c = c;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.MultiplyTransposed(_a, m, k, _b, n, _c, accumulate);
    }

    private readonly ref struct MultiplyAccumulateCall(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _a = a, _b = b;
        private readonly Span<float> _c = c;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.MultiplyAccumulate(_a, m, k, _b, n, _c);
    }

    /// <summary>The depth (rows of B) of the broadcast kernels' blocks at <paramref name="lanes"/> lanes: as deep as a 16 KB sliver of 2 vectors allows, at most 256.</summary>
    internal static int PanelDepthBlock(int lanes) => Math.Min(256, SliverPanelFloats / (SliverVectors * lanes));

    /// <summary>The floats of the broadcast kernels' stack panel for one sliver: 16 KB, half of a 32 KB L1.</summary>
    internal const int SliverPanelFloats = 4096;

    /// <summary>The vectors of a B sliver (the columns of a broadcast micro-tile).</summary>
    internal const int SliverVectors = 2;

    /// <summary>The floats of <see cref="BuildPanels"/>'s layout for B [k × n] at <paramref name="lanes"/> lanes: its full slivers of 2 vectors.</summary>
    internal static int PanelLength(int lanes, int k, int n) => k * (n / (SliverVectors * lanes) * (SliverVectors * lanes));

    /// <summary>
    /// B [k × n]'s full slivers (2 vectors of <paramref name="lanes"/> wide), in the order the broadcast kernels
    /// read them: per depth block (<see cref="PanelDepthBlock"/>), per sliver, its kc rows of 2V floats one after
    /// another — what the kernels would otherwise copy into their stack panel for every row block.
    /// </summary>
    internal static void BuildPanels(int lanes, ReadOnlySpan<float> b, int k, int n, Span<float> panels)
    {
        int wide = SliverVectors * lanes, depth = PanelDepthBlock(lanes), slivers = n / wide, at = 0;
        for (int p0 = 0; p0 < k; p0 += depth)
        {
            int kc = Math.Min(depth, k - p0);
            for (int s = 0; s < slivers; s++)
                for (int p = p0; p < p0 + kc; p++, at += wide)
                    b.Slice(p * n + s * wide, wide).CopyTo(panels.Slice(at, wide));
        }
    }

    /// <summary>
    /// C[m × n] += A[m × k]·B[k × n] at <paramref name="width"/> (lanes ≤ n) with B's full slivers pre-packed by
    /// <see cref="BuildPanels"/> at that width: the bits of <see cref="MultiplyAccumulateColumnsUnchecked"/> (a non-empty
    /// <paramref name="start"/> as there). Unchecked.
    /// </summary>
    internal static void MultiplyAccumulatePanelsAt(Width width, ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, ReadOnlySpan<float> panels, int n, Span<float> c,
        ReadOnlySpan<float> start = default)
    {
        System.Diagnostics.Debug.Assert(k > 0 || start.IsEmpty, "an empty product with a start row: the caller writes the start");
        if (m == 0 || n == 0 || k == 0) return;
        System.Diagnostics.Debug.Assert(panels.Length == PanelLength(VectorWidth.Lanes(width), k, n), "panels built for another width or shape");
        var call = new MultiplyAccumulatePanelsCall(a.Slice(0, m * k), m, k, b.Slice(0, k * n), panels, n, c.Slice(0, m * n), start.IsEmpty ? default : start.Slice(0, n));
        VectorWidth.Run(width, ref call);
    }

    private readonly ref struct MultiplyAccumulatePanelsCall(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, ReadOnlySpan<float> panels, int n, Span<float> c,
        ReadOnlySpan<float> start) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _a = a, _b = b, _panels = panels, _start = start;
        private readonly Span<float> _c = c;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.MultiplyAccumulatePanels(_a, m, k, _b, _panels, n, _c, _start);
    }

    /// <summary>
    /// c[j] += Σ_p a[p]·(q[p, first + j]·s[first + j]) for j in [0, n): one row times a block of columns of an int8 Wᵀ
    /// [k × ldb] whose column j has the scale s[j] (W's row scales). Each effective weight is formed as float32(q·s),
    /// exactly as the effective weights' fp32 copy holds it, then one fused multiply-add over p in increasing order: so
    /// the result has the bits of <see cref="MultiplyAccumulateColumnsUnchecked"/> over that copy, at a quarter of
    /// the bytes. Unchecked; <paramref name="scales"/> starts at column <paramref name="first"/>.
    /// </summary>
    internal static void MultiplyAccumulateOneRowInt8Unchecked(ReadOnlySpan<float> a, int k, ReadOnlySpan<sbyte> q, int ldb, int first, int n,
        ReadOnlySpan<float> scales, Span<float> c)
    {
        if (n == 0 || k == 0) return;
        var call = new OneRowInt8Call(a.Slice(0, k), k, q.Slice(first, (k - 1) * ldb + n), ldb, n, scales.Slice(0, n), c.Slice(0, n));
        VectorWidth.Run(VectorWidth.For(n), ref call);
    }

    private readonly ref struct OneRowInt8Call(ReadOnlySpan<float> a, int k, ReadOnlySpan<sbyte> q, int ldb, int n, ReadOnlySpan<float> scales, Span<float> c) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _a = a, _scales = scales;
        private readonly ReadOnlySpan<sbyte> _q = q;
        private readonly Span<float> _c = c;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.OneRowInt8(_a, k, _q, ldb, n, _scales, _c);
    }

    private readonly ref struct MultiplyAccumulateColumnsCall(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int ldb, int n, Span<float> c,
        ReadOnlySpan<float> start) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _a = a, _b = b, _start = start;
        private readonly Span<float> _c = c;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.MultiplyAccumulate(_a, m, k, _b, ldb, n, _c, _start);
    }

    private readonly ref struct TransposedMultiplyAccumulateCall(ReadOnlySpan<float> a, int k, int m, ReadOnlySpan<float> b, int n, Span<float> c) : IWidthCall
    {
        private readonly ReadOnlySpan<float> _a = a, _b = b;
        private readonly Span<float> _c = c;

        public void Run<TVector>() where TVector : struct, IFloatVector<TVector> => Kernel<TVector>.TransposedMultiplyAccumulate(_a, k, m, _b, n, _c);
    }

    private static void CheckDimensions(int m, int k, int n)
    {
        Guard.NonNegative(m, nameof(m));
        Guard.NonNegative(k, nameof(k));
        Guard.NonNegative(n, nameof(n));
    }
}
