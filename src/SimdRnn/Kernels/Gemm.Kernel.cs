using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

public static partial class Gemm
{
    /// <summary>
    /// The blocked GEMM kernels, written once for every width: the JIT compiles them once per
    /// <typeparamref name="TVector"/>, and the scalar twin is the same code at <see cref="ScalarFloat"/>. Arguments are
    /// assumed valid; the dot kernel needs <c>k ≥ Count</c> (or k = 0) and the broadcast kernels <c>n ≥ Count</c>
    /// (or an empty product), which the callers' <see cref="VectorWidth.For"/> guarantees.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>C += A·B and C += Aᵀ·B</b> (broadcast-A × vector-B): a micro-kernel keeps an R-row × 2-vector tile of C in
    /// 2R vector registers and, for each p of the inner dimension, broadcasts the R values A(i..i+R, p) and multiplies
    /// them into the 2 vectors B[p, j..j+2V) (2R independent FMA chains). The two forms differ only in the strides of
    /// A. R is a per-width choice (<see cref="WideTileRows"/>): 6 rows (12 accumulators, 15 of 16 registers) below 512
    /// bits, 8 rows (16 accumulators of AVX-512's 32 registers) at 512 bits. Four-row tiles take the rows that R-row
    /// tiles would leave partly empty. Cache blocking: the inner dimension in blocks of <see cref="DepthBlock"/> so
    /// the B sliver (DepthBlock × 2V floats, 16 KB) stays in L1 while every row tile reuses it; rows in blocks of
    /// <see cref="RowBlock"/> so the A block stays in L2 while every column sliver reuses it. Column tails: one vector
    /// at a time, the last one overlapping the previous and masked to its new lanes. Row tails: the missing rows
    /// repeat the last row (they load, compute and store the same values as it); a single row of A has its own kernel
    /// (<see cref="OneRow"/>), 8 vectors of columns at once. Every element of C is summed by fused multiply-adds over p
    /// in increasing order whatever the width, the tile, the block or the number of rows (NaN payloads aside), so these
    /// two kernels give the same bits at every width and every buffer offset, and a row the same bits alone as among
    /// other rows.
    /// </para>
    /// <para>
    /// <b>C = A·Bᵀ</b> (dot products): both factors are read along contiguous rows, so a micro-kernel takes 2 rows of A
    /// and 4 rows of B, keeps 8 vector accumulators, and reduces each group of 4 into 4 adjacent outputs at once
    /// (<see cref="IFloatVector{TSelf}.AddLaneSums"/>). The inner-dimension tail is one overlapping vector with both
    /// factors masked to the new lanes. B is walked in blocks of rows that fit in L2 (<see cref="DotBlockFloats"/>),
    /// while 2 rows of A stay in L1 across a whole block.
    /// </para>
    /// </remarks>
    internal static class Kernel<TVector> where TVector : struct, IFloatVector<TVector>
    {

        /// <summary>The inner-dimension block (kc) of the broadcast kernels: as deep as the 16 KB panel allows, at most 256.</summary>
        internal static int DepthBlock => PanelDepthBlock(TVector.Count);

        /// <summary>The row block (mc) of the broadcast kernels.</summary>
        internal const int RowBlock = 128;

        /// <summary>Row blocks of more rows than this pack each B sliver into the stack panel.</summary>
        internal const int PackRows = 8;

        /// <summary>B of at least this many floats (512 KiB, half of a 1 MiB L2) is prefetched sliver by sliver.</summary>
        internal const int PrefetchFloats = 128 * 1024;

        /// <summary>A 4 KiB page of floats: B's rows at least this far apart each sit in another page.</summary>
        internal const int PageFloats = 1024;

        /// <summary>The vectors of columns one pass of <see cref="OneRow"/> keeps in accumulators.</summary>
        private const int OneRowVectors = 8;

        /// <summary>The number of floats of B (rows × K) walked per block by the dot kernel: 192 KB, within L2.</summary>
        internal const int DotBlockFloats = 48 * 1024;

        /// <summary>
        /// The rows of the wide broadcast micro-tile at this width (2 vectors wide): 8 at 512 bits (16 accumulators of
        /// 32 registers), else 6 (12 of 16). A constant the JIT folds per width.
        /// </summary>
        /// <remarks>
        /// Chosen by an A/B probe on 2026-11-30 (Zen 4, 2 cores shared with other jobs at load ≈ 30: best of 15 alternating
        /// rounds, one process, so only the ordering within the run means anything). At 512 bits on 4096×64×384
        /// (M×K×N): 8×2 ran at 65 and 63 GFLOP/s (A·B, Aᵀ·B), 6×2 at 58–61 and 56–58, 12×2 at 63 and 66–67; on
        /// 4096×512×1536 8×2 and 12×2 were ≈ 10 % ahead of 6×2; on 64×128×384 and 64×128×512 all three tied (≈ 105,
        /// 12×2 a little behind). 8×2 takes fewer registers than 12×2 for the same result. At 256 bits 6×2 beat 4×2 on
        /// every shape (51 against 43, 103 against 97, 94 against 92, 31 against 28 GFLOP/s).
        /// </remarks>
        internal static int WideTileRows => TVector.Count == 16 ? 8 : 6;

        // ------------------------------------------------------------------ C = A·Bᵀ

        /// <summary>C[i,j] = (accumulate ? C[i,j] : 0) + Σ_p A[i,p]·B[j,p].</summary>
        public static void MultiplyTransposed(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c, bool accumulate)
        {
            if (m == 0 || n == 0) return;
            if (k == 0)
            {
                // The empty sum: an overwrite gives zeros, an accumulate changes nothing.
                if (!accumulate) c.Slice(0, m * n).Clear();
                return;
            }
            ref float aRef = ref MemoryMarshal.GetReference(a);
            ref float bRef = ref MemoryMarshal.GetReference(b);
            ref float cRef = ref MemoryMarshal.GetReference(c);
            TVector depthTail = TVector.TailMask(k);
            int blockRows = Math.Max(4, DotBlockFloats / k & ~3);
            for (int j0 = 0; j0 < n; j0 += blockRows)
            {
                int jEnd = Math.Min(n, j0 + blockRows);
                int i = 0;
                for (; i <= m - 2; i += 2)
                {
                    ref float a0 = ref Unsafe.Add(ref aRef, (nint)i * k);
                    ref float c0 = ref Unsafe.Add(ref cRef, (nint)i * n);
                    for (int j = j0; j < jEnd; j += 4)
                        DotTile2x4(ref a0, k, ref bRef, j, n - 1, depthTail, ref Unsafe.Add(ref c0, j), n, Math.Min(4, jEnd - j), accumulate);
                }
                if (i < m)
                {
                    // The last row when m is odd.
                    ref float a0 = ref Unsafe.Add(ref aRef, (nint)i * k);
                    ref float c0 = ref Unsafe.Add(ref cRef, (nint)i * n);
                    for (int j = j0; j < jEnd; j += 4)
                        DotTile1x4(ref a0, k, ref bRef, j, n - 1, depthTail, ref Unsafe.Add(ref c0, j), Math.Min(4, jEnd - j), accumulate);
                }
            }
        }

        /// <summary>
        /// C[r, j + t] = (accumulate ? C : 0) + Σ_p A[r, p]·B[j + t, p] for the rows r of A at <paramref name="a0"/> and
        /// the next one, and t &lt; <paramref name="width"/> ≤ 4 (rows of B past <paramref name="lastB"/> repeat it; they
        /// are computed, not stored).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void DotTile2x4(ref float a0, int k, ref float b, int j, int lastB, TVector depthTail, ref float c0, int ldc, int width, bool accumulate)
        {
            ref float a1 = ref Unsafe.Add(ref a0, k);
            ref float b0 = ref Unsafe.Add(ref b, (nint)j * k);
            ref float b1 = ref Unsafe.Add(ref b, (nint)Math.Min(j + 1, lastB) * k);
            ref float b2 = ref Unsafe.Add(ref b, (nint)Math.Min(j + 2, lastB) * k);
            ref float b3 = ref Unsafe.Add(ref b, (nint)Math.Min(j + 3, lastB) * k);
            TVector d00 = default, d01 = default, d02 = default, d03 = default;
            TVector d10 = default, d11 = default, d12 = default, d13 = default;
            nuint step = (nuint)TVector.Count, end = (nuint)(k - TVector.Count);
            nuint p = 0;
            for (; p <= end; p += step)
            {
                // d_rt += A[r, p..p+V) ⊙ B[t, p..p+V)
                TVector x0 = TVector.Load(ref a0, p), x1 = TVector.Load(ref a1, p);
                TVector y = TVector.Load(ref b0, p);
                TVector.Accumulate(ref d00, x0, y); TVector.Accumulate(ref d10, x1, y);
                y = TVector.Load(ref b1, p);
                TVector.Accumulate(ref d01, x0, y); TVector.Accumulate(ref d11, x1, y);
                y = TVector.Load(ref b2, p);
                TVector.Accumulate(ref d02, x0, y); TVector.Accumulate(ref d12, x1, y);
                y = TVector.Load(ref b3, p);
                TVector.Accumulate(ref d03, x0, y); TVector.Accumulate(ref d13, x1, y);
            }
            if (p < (nuint)k)
            {
                // One overlapping vector over the last V elements; both factors are zeroed in the lanes already summed
                // (zeroing both keeps an infinity there from turning 0·∞ into NaN).
                TVector x0 = TVector.Load(ref a0, end) & depthTail, x1 = TVector.Load(ref a1, end) & depthTail;
                TVector y = TVector.Load(ref b0, end) & depthTail;
                TVector.Accumulate(ref d00, x0, y); TVector.Accumulate(ref d10, x1, y);
                y = TVector.Load(ref b1, end) & depthTail;
                TVector.Accumulate(ref d01, x0, y); TVector.Accumulate(ref d11, x1, y);
                y = TVector.Load(ref b2, end) & depthTail;
                TVector.Accumulate(ref d02, x0, y); TVector.Accumulate(ref d12, x1, y);
                y = TVector.Load(ref b3, end) & depthTail;
                TVector.Accumulate(ref d03, x0, y); TVector.Accumulate(ref d13, x1, y);
            }
            StoreSums(d00, d01, d02, d03, ref c0, width, accumulate);
            StoreSums(d10, d11, d12, d13, ref Unsafe.Add(ref c0, ldc), width, accumulate);
        }

        /// <summary><see cref="DotTile2x4"/> for one row of A.</summary>
        private static void DotTile1x4(ref float a0, int k, ref float b, int j, int lastB, TVector depthTail, ref float c0, int width, bool accumulate)
        {
            ref float b0 = ref Unsafe.Add(ref b, (nint)j * k);
            ref float b1 = ref Unsafe.Add(ref b, (nint)Math.Min(j + 1, lastB) * k);
            ref float b2 = ref Unsafe.Add(ref b, (nint)Math.Min(j + 2, lastB) * k);
            ref float b3 = ref Unsafe.Add(ref b, (nint)Math.Min(j + 3, lastB) * k);
            TVector d0 = default, d1 = default, d2 = default, d3 = default;
            nuint step = (nuint)TVector.Count, end = (nuint)(k - TVector.Count);
            nuint p = 0;
            for (; p <= end; p += step)
            {
                // d_t += A[p..p+V) ⊙ B[t, p..p+V)
                TVector x0 = TVector.Load(ref a0, p);
                TVector.Accumulate(ref d0, x0, TVector.Load(ref b0, p));
                TVector.Accumulate(ref d1, x0, TVector.Load(ref b1, p));
                TVector.Accumulate(ref d2, x0, TVector.Load(ref b2, p));
                TVector.Accumulate(ref d3, x0, TVector.Load(ref b3, p));
            }
            if (p < (nuint)k)
            {
                TVector x0 = TVector.Load(ref a0, end) & depthTail;
                TVector.Accumulate(ref d0, x0, TVector.Load(ref b0, end) & depthTail);
                TVector.Accumulate(ref d1, x0, TVector.Load(ref b1, end) & depthTail);
                TVector.Accumulate(ref d2, x0, TVector.Load(ref b2, end) & depthTail);
                TVector.Accumulate(ref d3, x0, TVector.Load(ref b3, end) & depthTail);
            }
            StoreSums(d0, d1, d2, d3, ref c0, width, accumulate);
        }

        /// <summary>c[t] = (accumulate ? c[t] : 0) + Σ_lanes d_t for t &lt; <paramref name="width"/> ≤ 4.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreSums(TVector d0, TVector d1, TVector d2, TVector d3, ref float c, int width, bool accumulate)
        {
            if (width == 4 && accumulate)
            {
                TVector.AddLaneSums(d0, d1, d2, d3, ref c);
                return;
            }
            FourFloats sums = default;
            TVector.AddLaneSums(d0, d1, d2, d3, ref sums[0]);
            for (int t = 0; t < width; t++)
                Unsafe.Add(ref c, t) = accumulate ? Unsafe.Add(ref c, t) + sums[t] : sums[t];
        }

        // ------------------------------------------------------------------ C += A·B, C += Aᵀ·B

        /// <summary>C[i,j] += Σ_p A[i,p]·B[p,j].</summary>
        public static void MultiplyAccumulate(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c) =>
            MultiplyAccumulate(a, m, k, b, n, n, c);

        /// <summary>
        /// C[i,j] = S[i,j] + Σ_p A[i,p]·B[p,j] with B's rows <paramref name="ldb"/> ≥ n floats apart (a block of columns
        /// of a wider B), where S is C itself (C +=) when <paramref name="start"/> is empty, else <paramref name="start"/>
        /// in every row (a bias, or zeros: C's old contents are then never read). The start only sets where each sum's
        /// chain of fused multiply-adds begins, so C = start; C += A·B gives the same bits.
        /// </summary>
        public static void MultiplyAccumulate(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, nint ldb, int n, Span<float> c,
            ReadOnlySpan<float> start = default)
        {
            if (m == 0 || n == 0 || k == 0) return;
            // A(i, p) = a[i·k + p]
            if (ldb == n)
                BroadcastProduct(ref MemoryMarshal.GetReference(a), k, 1, m, k, ref MemoryMarshal.GetReference(b), n, ref MemoryMarshal.GetReference(c), default(DenseRows), ref Unsafe.NullRef<float>(), ref StartOrNull(start));
            else
                BroadcastProduct(ref MemoryMarshal.GetReference(a), k, 1, m, k, ref MemoryMarshal.GetReference(b), n, ref MemoryMarshal.GetReference(c), new StridedRows(ldb), ref Unsafe.NullRef<float>(), ref StartOrNull(start));
        }

        /// <summary>The broadcast driver's start: the row's first float, or a null reference for none (C +=).</summary>
        private static ref float StartOrNull(ReadOnlySpan<float> start) =>
            ref start.IsEmpty ? ref Unsafe.NullRef<float>() : ref MemoryMarshal.GetReference(start);

        /// <summary>
        /// C[i,j] += Σ_p A[i,p]·B[p,j] with B dense [k × n] and its full slivers also pre-packed in
        /// <paramref name="panels"/> (<see cref="BuildPanels"/> at this width): the row tiles read them instead of
        /// packing a sliver per row block. The same sums in the same order, so the same bits.
        /// </summary>
        public static void MultiplyAccumulatePanels(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, ReadOnlySpan<float> panels, int n, Span<float> c,
            ReadOnlySpan<float> start = default)
        {
            if (m == 0 || n == 0 || k == 0) return;
            BroadcastProduct(ref MemoryMarshal.GetReference(a), k, 1, m, k, ref MemoryMarshal.GetReference(b), n, ref MemoryMarshal.GetReference(c),
                default(PanelRows), ref MemoryMarshal.GetReference(panels), ref StartOrNull(start));
        }

        /// <summary>C[i,j] += Σ_p A[p,i]·B[p,j].</summary>
        public static void TransposedMultiplyAccumulate(ReadOnlySpan<float> a, int k, int m, ReadOnlySpan<float> b, int n, Span<float> c)
        {
            if (m == 0 || n == 0 || k == 0) return;
            // A(i, p) = a[p·m + i]
            BroadcastProduct(ref MemoryMarshal.GetReference(a), 1, m, m, k, ref MemoryMarshal.GetReference(b), n, ref MemoryMarshal.GetReference(c), default(DenseRows), ref Unsafe.NullRef<float>(), ref Unsafe.NullRef<float>());
        }

        /// <summary>The distance between B's rows in the broadcast kernels.</summary>
        internal interface IRowStride
        {
            nint Of(int n);

            /// <summary>Whether B's full slivers come pre-packed (a constant per type, folded by the JIT).</summary>
            bool HasPanels { get; }
        }

        /// <summary>B dense: rows n floats apart.</summary>
        internal readonly struct DenseRows : IRowStride
        {
            public nint Of(int n) => n;

            public bool HasPanels => false;
        }

        /// <summary>B a block of columns of a wider matrix: rows ldb floats apart.</summary>
        internal readonly struct StridedRows(nint ldb) : IRowStride
        {
            private readonly nint _ldb = ldb;

            public nint Of(int n) => _ldb;

            public bool HasPanels => false;
        }

        /// <summary>B dense, its full slivers pre-packed (<see cref="BuildPanels"/>); the column tails read B itself.</summary>
        internal readonly struct PanelRows : IRowStride
        {
            public nint Of(int n) => n;

            public bool HasPanels => true;
        }

        /// <summary>
        /// True when the next row tile of a row block with <paramref name="left"/> rows left should be the wide one
        /// (<paramref name="rows"/> rows) rather than a four-row one: always from rows + 4 rows left on, and near the end
        /// whichever wastes fewer repeated rows (ties to the wide tile). With 6 rows: 8 rows left go as 4 + 4, 7 as
        /// 4 + 4 (one repeated), 9 as 6 + 4 (one repeated), 5 as one 6 (one repeated).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static bool UseWideTile(int left, int rows)
        {
            if (left <= 4) return false;
            if (left >= rows + 4) return true;
            // The wide tile then at most one four-row tile, against four-row tiles only.
            int wideWaste = left <= rows ? rows - left : rows + 4 - left;
            int narrowWaste = (4 - left % 4) % 4;
            return wideWaste <= narrowWaste;
        }

        /// <summary>
        /// C[i, j] = S[i, j] + Σ_p A(i, p)·B[p, j] with A(i, p) = a[i·rowStride + p·depthStride], B's k rows of n columns
        /// <paramref name="rows"/>.Of(n) ≥ n floats apart, C row-major m × n, n ≥ Count; S is C (+=) when
        /// <paramref name="start"/> is a null reference, else the n floats at <paramref name="start"/> in every row:
        /// the first depth block's tiles load their accumulators from there instead of from C. The row stride of B is a
        /// type parameter so that the common dense case compiles to the code it had before blocks of columns existed (a
        /// runtime ldb parameter cost the projection GEMM 3–7%, RevisionAB).
        /// </summary>
        private static void BroadcastProduct<TRows>(ref float a, nint rowStride, nint depthStride, int m, int k, ref float b, int n, ref float c, TRows rows,
            ref float panels, ref float start)
            where TRows : struct, IRowStride
        {
            nint ldb = rows.Of(n);
            bool hasStart = !Unsafe.IsNullRef(ref start);
            if (m == 1)
            {
                OneRow(ref a, depthStride, k, ref b, ldb, n, ref c, ref hasStart ? ref start : ref c);
                return;
            }
            int count = TVector.Count, wide = SliverVectors * count, depthBlock = DepthBlock, tileRows = WideTileRows;
            int fullWidth = n / wide * wide; // the columns of the full slivers (the pre-packed layout's row length)
            TVector columnTail = TVector.TailMask(n);
            TVector allLanes = TVector.GreaterThanOrEqual(TVector.Zero, TVector.Zero);
            Span<float> panel = stackalloc float[SliverPanelFloats];
            // Hints only where the hardware prefetchers fail: B larger than half an L2 and its rows a page or more apart.
            bool streamed = (long)k * ldb >= PrefetchFloats && ldb >= PageFloats;
            ref float panelRef = ref MemoryMarshal.GetReference(panel);
            for (int p0 = 0; p0 < k; p0 += depthBlock)
            {
                int kc = Math.Min(depthBlock, k - p0);
                // Where the accumulators start: the start row (the same for every row: ldInit = 0) in the first depth
                // block, else the partial sums in C.
                bool fromStart = hasStart && p0 == 0;
                ref float init = ref fromStart ? ref start : ref c;
                nint ldInit = fromStart ? 0 : n;
                ref float aBlock = ref Unsafe.Add(ref a, p0 * depthStride);
                ref float bBlock = ref Unsafe.Add(ref b, p0 * ldb);
                for (int i0 = 0; i0 < m; i0 += RowBlock)
                {
                    int iEnd = Math.Min(m, i0 + RowBlock);
                    // Packing a sliver costs one copy of it and pays back from a few row tiles on.
                    bool pack = iEnd - i0 > PackRows;
                    int j = 0;
                    for (; j <= n - wide; j += wide)
                    {
                        scoped ref float sliver = ref Unsafe.Add(ref bBlock, j);
                        nint sliverStride = ldb;
                        if (rows.HasPanels)
                        {
                            // Block p0's slivers follow the p0 full-depth rows of the blocks before it (fullWidth floats
                            // each); the slivers before column j in this block hold kc·j floats.
                            sliver = ref Unsafe.Add(ref panels, p0 * fullWidth + j * kc);
                            sliverStride = wide;
                        }
                        else if (pack)
                        {
                            // panel[p·2V + t] = B[p0 + p, j + t]: the sliver contiguous, so its rows cannot collide in L1
                            // (rows ldb floats apart do when ldb·4 is a multiple of a large power of two). The next
                            // sliver's pieces of the same rows are asked into L2 meanwhile: the row tiles of this one
                            // hide their latency (4–11% on a 512→512 sequence, whose input projection reads Wᵀ from
                            // L3). Only for a B larger than half an L2: from L2 the hints cost more than they save.
                            PackSliver(ref sliver, ldb, kc, ref panelRef, prefetchNext: streamed && j + 2 * wide <= n);
                            sliver = ref panelRef;
                            sliverStride = wide;
                        }
                        ref float cSliver = ref Unsafe.Add(ref c, j);
                        ref float initSliver = ref Unsafe.Add(ref init, j);
                        for (int i = i0; i < iEnd;)
                        {
                            if (UseWideTile(iEnd - i, tileRows))
                            {
                                if (tileRows == 8) Tile8x2(ref aBlock, rowStride, depthStride, i, iEnd - 1, ref sliver, sliverStride, kc, ref cSliver, n, ref initSliver, ldInit);
                                else Tile6x2(ref aBlock, rowStride, depthStride, i, iEnd - 1, ref sliver, sliverStride, kc, ref cSliver, n, ref initSliver, ldInit);
                                i += tileRows;
                            }
                            else
                            {
                                Tile4x2(ref aBlock, rowStride, depthStride, i, iEnd - 1, ref sliver, sliverStride, kc, ref cSliver, n, ref initSliver, ldInit);
                                i += 4;
                            }
                        }
                    }
                    if (j <= n - count)
                    {
                        // One whole vector of columns left.
                        for (int i = i0; i < iEnd; i += 4)
                            Tile4x1(ref aBlock, rowStride, depthStride, i, iEnd - 1, ref Unsafe.Add(ref bBlock, j), ldb, kc, ref Unsafe.Add(ref c, j), n, ref Unsafe.Add(ref init, j), ldInit, allLanes);
                        j += count;
                    }
                    if (j < n)
                    {
                        // The last vector overlaps the one before; only its new lanes are written (the others, already
                        // computed by the vector before, are reloaded from C).
                        int lastColumn = n - count;
                        for (int i = i0; i < iEnd; i += 4)
                            Tile4x1(ref aBlock, rowStride, depthStride, i, iEnd - 1, ref Unsafe.Add(ref bBlock, lastColumn), ldb, kc, ref Unsafe.Add(ref c, lastColumn), n, ref Unsafe.Add(ref init, lastColumn), ldInit, columnTail);
                    }
                }
            }
        }

        /// <summary>
        /// panel[p·2V + t] = B[p, t] for p &lt; kc, t &lt; 2V (B's rows <paramref name="ldb"/> floats apart), and with
        /// <paramref name="prefetchNext"/> asking for B[p, 2V..4V) in L2 on the way. Not inlined, so that the driver's loop
        /// over slivers compiles as it did without the hints.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void PackSliver(ref float sliver, nint ldb, int kc, ref float panel, bool prefetchNext)
        {
            int count = TVector.Count, wide = SliverVectors * count;
            for (int p = 0; p < kc; p++)
            {
                ref float row = ref Unsafe.Add(ref sliver, p * ldb);
                TVector.Store(TVector.Load(ref row, 0), ref panel, (nuint)(p * wide));
                TVector.Store(TVector.Load(ref row, (nuint)count), ref panel, (nuint)(p * wide + count));
                if (prefetchNext) Prefetch.ToL2(ref Unsafe.Add(ref row, wide), wide * sizeof(float));
            }
        }

        /// <summary>
        /// C[r, 0..2V) = S[r] + Σ_{p&lt;kc} A(r, p)·B[p, 0..2V) for the rows r = i..i+3 (rows past <paramref name="lastRow"/>
        /// repeat it: they load, compute and store the same values as it), in 8 accumulators; S[r] is read at
        /// <paramref name="init"/> + r·<paramref name="ldInit"/> (C itself, or a start row with ldInit = 0).
        /// </summary>
        private static void Tile4x2(ref float a, nint rowStride, nint depthStride, int i, int lastRow, ref float b, nint ldb, int kc, ref float c, nint ldc,
            ref float init, nint ldInit)
        {
            nuint v = (nuint)TVector.Count;
            int r1 = Math.Min(i + 1, lastRow), r2 = Math.Min(i + 2, lastRow), r3 = Math.Min(i + 3, lastRow);
            nint a0 = i * rowStride, a1 = r1 * rowStride, a2 = r2 * rowStride, a3 = r3 * rowStride;
            ref float c0 = ref Unsafe.Add(ref c, i * ldc);
            ref float c1 = ref Unsafe.Add(ref c, r1 * ldc);
            ref float c2 = ref Unsafe.Add(ref c, r2 * ldc);
            ref float c3 = ref Unsafe.Add(ref c, r3 * ldc);
            TVector c00 = TVector.Load(ref Unsafe.Add(ref init, i * ldInit), 0), c01 = TVector.Load(ref Unsafe.Add(ref init, i * ldInit), v);
            TVector c10 = TVector.Load(ref Unsafe.Add(ref init, r1 * ldInit), 0), c11 = TVector.Load(ref Unsafe.Add(ref init, r1 * ldInit), v);
            TVector c20 = TVector.Load(ref Unsafe.Add(ref init, r2 * ldInit), 0), c21 = TVector.Load(ref Unsafe.Add(ref init, r2 * ldInit), v);
            TVector c30 = TVector.Load(ref Unsafe.Add(ref init, r3 * ldInit), 0), c31 = TVector.Load(ref Unsafe.Add(ref init, r3 * ldInit), v);
            ref float ap = ref a;
            ref float bp = ref b;
            for (int p = 0; p < kc; p++)
            {
                // C[r, :] += A(r, p) · B[p, :]
                TVector b0 = TVector.Load(ref bp, 0), b1 = TVector.Load(ref bp, v);
                TVector x = TVector.Create(Unsafe.Add(ref ap, a0));
                TVector.Accumulate(ref c00, x, b0); TVector.Accumulate(ref c01, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a1));
                TVector.Accumulate(ref c10, x, b0); TVector.Accumulate(ref c11, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a2));
                TVector.Accumulate(ref c20, x, b0); TVector.Accumulate(ref c21, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a3));
                TVector.Accumulate(ref c30, x, b0); TVector.Accumulate(ref c31, x, b1);
                ap = ref Unsafe.Add(ref ap, depthStride);
                bp = ref Unsafe.Add(ref bp, ldb);
            }
            // Rows 3, 2, 1 first: a repeated row is stored last by row i itself, with the same value.
            TVector.Store(c30, ref c3, 0); TVector.Store(c31, ref c3, v);
            TVector.Store(c20, ref c2, 0); TVector.Store(c21, ref c2, v);
            TVector.Store(c10, ref c1, 0); TVector.Store(c11, ref c1, v);
            TVector.Store(c00, ref c0, 0); TVector.Store(c01, ref c0, v);
        }

        /// <summary>
        /// C[r, 0..2V) = S[r] + Σ_{p&lt;kc} A(r, p)·B[p, 0..2V) for the rows r = i..i+5 (rows past <paramref name="lastRow"/>
        /// repeat it; S as in <see cref="Tile4x2"/>), in 12 accumulators: 12 independent FMA chains per 2 loads of B and
        /// 6 broadcasts of A.
        /// </summary>
        private static void Tile6x2(ref float a, nint rowStride, nint depthStride, int i, int lastRow, ref float b, nint ldb, int kc, ref float c, nint ldc,
            ref float init, nint ldInit)
        {
            nuint v = (nuint)TVector.Count;
            int r1 = Math.Min(i + 1, lastRow), r2 = Math.Min(i + 2, lastRow), r3 = Math.Min(i + 3, lastRow);
            int r4 = Math.Min(i + 4, lastRow), r5 = Math.Min(i + 5, lastRow);
            nint a0 = i * rowStride, a1 = r1 * rowStride, a2 = r2 * rowStride, a3 = r3 * rowStride, a4 = r4 * rowStride, a5 = r5 * rowStride;
            ref float c0 = ref Unsafe.Add(ref c, i * ldc);
            ref float c1 = ref Unsafe.Add(ref c, r1 * ldc);
            ref float c2 = ref Unsafe.Add(ref c, r2 * ldc);
            ref float c3 = ref Unsafe.Add(ref c, r3 * ldc);
            ref float c4 = ref Unsafe.Add(ref c, r4 * ldc);
            ref float c5 = ref Unsafe.Add(ref c, r5 * ldc);
            TVector c00 = TVector.Load(ref Unsafe.Add(ref init, i * ldInit), 0), c01 = TVector.Load(ref Unsafe.Add(ref init, i * ldInit), v);
            TVector c10 = TVector.Load(ref Unsafe.Add(ref init, r1 * ldInit), 0), c11 = TVector.Load(ref Unsafe.Add(ref init, r1 * ldInit), v);
            TVector c20 = TVector.Load(ref Unsafe.Add(ref init, r2 * ldInit), 0), c21 = TVector.Load(ref Unsafe.Add(ref init, r2 * ldInit), v);
            TVector c30 = TVector.Load(ref Unsafe.Add(ref init, r3 * ldInit), 0), c31 = TVector.Load(ref Unsafe.Add(ref init, r3 * ldInit), v);
            TVector c40 = TVector.Load(ref Unsafe.Add(ref init, r4 * ldInit), 0), c41 = TVector.Load(ref Unsafe.Add(ref init, r4 * ldInit), v);
            TVector c50 = TVector.Load(ref Unsafe.Add(ref init, r5 * ldInit), 0), c51 = TVector.Load(ref Unsafe.Add(ref init, r5 * ldInit), v);
            ref float ap = ref a;
            ref float bp = ref b;
            for (int p = 0; p < kc; p++)
            {
                // C[r, :] += A(r, p) · B[p, :]
                TVector b0 = TVector.Load(ref bp, 0), b1 = TVector.Load(ref bp, v);
                TVector x = TVector.Create(Unsafe.Add(ref ap, a0));
                TVector.Accumulate(ref c00, x, b0); TVector.Accumulate(ref c01, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a1));
                TVector.Accumulate(ref c10, x, b0); TVector.Accumulate(ref c11, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a2));
                TVector.Accumulate(ref c20, x, b0); TVector.Accumulate(ref c21, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a3));
                TVector.Accumulate(ref c30, x, b0); TVector.Accumulate(ref c31, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a4));
                TVector.Accumulate(ref c40, x, b0); TVector.Accumulate(ref c41, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a5));
                TVector.Accumulate(ref c50, x, b0); TVector.Accumulate(ref c51, x, b1);
                ap = ref Unsafe.Add(ref ap, depthStride);
                bp = ref Unsafe.Add(ref bp, ldb);
            }
            // Rows 5 down to 1 first: a repeated row is stored last by row i itself, with the same value.
            TVector.Store(c50, ref c5, 0); TVector.Store(c51, ref c5, v);
            TVector.Store(c40, ref c4, 0); TVector.Store(c41, ref c4, v);
            TVector.Store(c30, ref c3, 0); TVector.Store(c31, ref c3, v);
            TVector.Store(c20, ref c2, 0); TVector.Store(c21, ref c2, v);
            TVector.Store(c10, ref c1, 0); TVector.Store(c11, ref c1, v);
            TVector.Store(c00, ref c0, 0); TVector.Store(c01, ref c0, v);
        }

        /// <summary>
        /// C[r, 0..2V) = S[r] + Σ_{p&lt;kc} A(r, p)·B[p, 0..2V) for the rows r = i..i+7 (rows past <paramref name="lastRow"/>
        /// repeat it; S as in <see cref="Tile4x2"/>), in 16 accumulators: with the 2 B vectors and the broadcast, 19 of
        /// AVX-512's 32 registers.
        /// </summary>
        private static void Tile8x2(ref float a, nint rowStride, nint depthStride, int i, int lastRow, ref float b, nint ldb, int kc, ref float c, nint ldc,
            ref float init, nint ldInit)
        {
            nuint v = (nuint)TVector.Count;
            int r1 = Math.Min(i + 1, lastRow), r2 = Math.Min(i + 2, lastRow), r3 = Math.Min(i + 3, lastRow);
            int r4 = Math.Min(i + 4, lastRow), r5 = Math.Min(i + 5, lastRow), r6 = Math.Min(i + 6, lastRow), r7 = Math.Min(i + 7, lastRow);
            nint a0 = i * rowStride, a1 = r1 * rowStride, a2 = r2 * rowStride, a3 = r3 * rowStride;
            nint a4 = r4 * rowStride, a5 = r5 * rowStride, a6 = r6 * rowStride, a7 = r7 * rowStride;
            ref float c0 = ref Unsafe.Add(ref c, i * ldc);
            ref float c1 = ref Unsafe.Add(ref c, r1 * ldc);
            ref float c2 = ref Unsafe.Add(ref c, r2 * ldc);
            ref float c3 = ref Unsafe.Add(ref c, r3 * ldc);
            ref float c4 = ref Unsafe.Add(ref c, r4 * ldc);
            ref float c5 = ref Unsafe.Add(ref c, r5 * ldc);
            ref float c6 = ref Unsafe.Add(ref c, r6 * ldc);
            ref float c7 = ref Unsafe.Add(ref c, r7 * ldc);
            TVector c00 = TVector.Load(ref Unsafe.Add(ref init, i * ldInit), 0), c01 = TVector.Load(ref Unsafe.Add(ref init, i * ldInit), v);
            TVector c10 = TVector.Load(ref Unsafe.Add(ref init, r1 * ldInit), 0), c11 = TVector.Load(ref Unsafe.Add(ref init, r1 * ldInit), v);
            TVector c20 = TVector.Load(ref Unsafe.Add(ref init, r2 * ldInit), 0), c21 = TVector.Load(ref Unsafe.Add(ref init, r2 * ldInit), v);
            TVector c30 = TVector.Load(ref Unsafe.Add(ref init, r3 * ldInit), 0), c31 = TVector.Load(ref Unsafe.Add(ref init, r3 * ldInit), v);
            TVector c40 = TVector.Load(ref Unsafe.Add(ref init, r4 * ldInit), 0), c41 = TVector.Load(ref Unsafe.Add(ref init, r4 * ldInit), v);
            TVector c50 = TVector.Load(ref Unsafe.Add(ref init, r5 * ldInit), 0), c51 = TVector.Load(ref Unsafe.Add(ref init, r5 * ldInit), v);
            TVector c60 = TVector.Load(ref Unsafe.Add(ref init, r6 * ldInit), 0), c61 = TVector.Load(ref Unsafe.Add(ref init, r6 * ldInit), v);
            TVector c70 = TVector.Load(ref Unsafe.Add(ref init, r7 * ldInit), 0), c71 = TVector.Load(ref Unsafe.Add(ref init, r7 * ldInit), v);
            ref float ap = ref a;
            ref float bp = ref b;
            for (int p = 0; p < kc; p++)
            {
                // C[r, :] += A(r, p) · B[p, :]
                TVector b0 = TVector.Load(ref bp, 0), b1 = TVector.Load(ref bp, v);
                TVector x = TVector.Create(Unsafe.Add(ref ap, a0));
                TVector.Accumulate(ref c00, x, b0); TVector.Accumulate(ref c01, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a1));
                TVector.Accumulate(ref c10, x, b0); TVector.Accumulate(ref c11, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a2));
                TVector.Accumulate(ref c20, x, b0); TVector.Accumulate(ref c21, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a3));
                TVector.Accumulate(ref c30, x, b0); TVector.Accumulate(ref c31, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a4));
                TVector.Accumulate(ref c40, x, b0); TVector.Accumulate(ref c41, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a5));
                TVector.Accumulate(ref c50, x, b0); TVector.Accumulate(ref c51, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a6));
                TVector.Accumulate(ref c60, x, b0); TVector.Accumulate(ref c61, x, b1);
                x = TVector.Create(Unsafe.Add(ref ap, a7));
                TVector.Accumulate(ref c70, x, b0); TVector.Accumulate(ref c71, x, b1);
                ap = ref Unsafe.Add(ref ap, depthStride);
                bp = ref Unsafe.Add(ref bp, ldb);
            }
            // Rows 7 down to 1 first: a repeated row is stored last by row i itself, with the same value.
            TVector.Store(c70, ref c7, 0); TVector.Store(c71, ref c7, v);
            TVector.Store(c60, ref c6, 0); TVector.Store(c61, ref c6, v);
            TVector.Store(c50, ref c5, 0); TVector.Store(c51, ref c5, v);
            TVector.Store(c40, ref c4, 0); TVector.Store(c41, ref c4, v);
            TVector.Store(c30, ref c3, 0); TVector.Store(c31, ref c3, v);
            TVector.Store(c20, ref c2, 0); TVector.Store(c21, ref c2, v);
            TVector.Store(c10, ref c1, 0); TVector.Store(c11, ref c1, v);
            TVector.Store(c00, ref c0, 0); TVector.Store(c01, ref c0, v);
        }

        /// <summary>
        /// C[r, 0..V) = S[r] + Σ_{p&lt;kc} A(r, p)·B[p, 0..V) for the rows r = i..i+3 (as <see cref="Tile4x2"/>), writing
        /// only the lanes set in <paramref name="store"/> (the others keep the value C holds: with a start row, what the
        /// vector before this overlapping one wrote).
        /// </summary>
        private static void Tile4x1(ref float a, nint rowStride, nint depthStride, int i, int lastRow, ref float b, nint ldb, int kc, ref float c, nint ldc,
            ref float init, nint ldInit, TVector store)
        {
            int r1 = Math.Min(i + 1, lastRow), r2 = Math.Min(i + 2, lastRow), r3 = Math.Min(i + 3, lastRow);
            nint a0 = i * rowStride, a1 = r1 * rowStride, a2 = r2 * rowStride, a3 = r3 * rowStride;
            ref float c0 = ref Unsafe.Add(ref c, i * ldc);
            ref float c1 = ref Unsafe.Add(ref c, r1 * ldc);
            ref float c2 = ref Unsafe.Add(ref c, r2 * ldc);
            ref float c3 = ref Unsafe.Add(ref c, r3 * ldc);
            TVector o0 = TVector.Load(ref c0, 0), o1 = TVector.Load(ref c1, 0), o2 = TVector.Load(ref c2, 0), o3 = TVector.Load(ref c3, 0);
            TVector s0 = TVector.Load(ref Unsafe.Add(ref init, i * ldInit), 0), s1 = TVector.Load(ref Unsafe.Add(ref init, r1 * ldInit), 0);
            TVector s2 = TVector.Load(ref Unsafe.Add(ref init, r2 * ldInit), 0), s3 = TVector.Load(ref Unsafe.Add(ref init, r3 * ldInit), 0);
            ref float ap = ref a;
            ref float bp = ref b;
            for (int p = 0; p < kc; p++)
            {
                // C[r, :] += A(r, p) · B[p, :]
                TVector bv = TVector.Load(ref bp, 0);
                TVector.Accumulate(ref s0, TVector.Create(Unsafe.Add(ref ap, a0)), bv);
                TVector.Accumulate(ref s1, TVector.Create(Unsafe.Add(ref ap, a1)), bv);
                TVector.Accumulate(ref s2, TVector.Create(Unsafe.Add(ref ap, a2)), bv);
                TVector.Accumulate(ref s3, TVector.Create(Unsafe.Add(ref ap, a3)), bv);
                ap = ref Unsafe.Add(ref ap, depthStride);
                bp = ref Unsafe.Add(ref bp, ldb);
            }
            TVector.Store(TVector.ConditionalSelect(store, s3, o3), ref c3, 0);
            TVector.Store(TVector.ConditionalSelect(store, s2, o2), ref c2, 0);
            TVector.Store(TVector.ConditionalSelect(store, s1, o1), ref c1, 0);
            TVector.Store(TVector.ConditionalSelect(store, s0, o0), ref c0, 0);
        }

        /// <summary>
        /// C[0, j] = S[j] + Σ_p A(0, p)·B[p, j] (S at <paramref name="init"/>: C itself, or a start row) for a single row of A (a stream of its own, a one-row readout gradient). A row
        /// tile would repeat the row into all its rows, and one row's two chains would wait on the FMA latency; here the
        /// columns go in passes of <see cref="OneRowVectors"/> vectors (as many independent chains), then one vector at a
        /// time, the last one overlapping and masked to its new lanes. Each element is the same chain of fused
        /// multiply-adds over p in increasing order as in the tiles (their depth blocks only store and reload it), so a
        /// row gets the same bits alone as among other rows.
        /// </summary>
        private static void OneRow(ref float a, nint depthStride, int k, ref float b, nint ldb, int n, ref float c, ref float init)
        {
            int count = TVector.Count, block = OneRowVectors * count;
            int j = 0;
            for (; j <= n - block; j += block) OneRowBlock(ref a, depthStride, k, ref Unsafe.Add(ref b, j), ldb, ref Unsafe.Add(ref c, j), ref Unsafe.Add(ref init, j));
            TVector allLanes = TVector.GreaterThanOrEqual(TVector.Zero, TVector.Zero);
            for (; j <= n - count; j += count) OneRowVector(ref a, depthStride, k, ref Unsafe.Add(ref b, j), ldb, ref Unsafe.Add(ref c, j), ref Unsafe.Add(ref init, j), allLanes);
            if (j < n)
            {
                // The last vector overlaps the one before; only its new lanes are written.
                int lastColumn = n - count;
                OneRowVector(ref a, depthStride, k, ref Unsafe.Add(ref b, lastColumn), ldb, ref Unsafe.Add(ref c, lastColumn), ref Unsafe.Add(ref init, lastColumn), TVector.TailMask(n));
            }
        }

        /// <summary>
        /// c[j] += Σ_p a[p]·float32(q[p, j]·s[j]) for j &lt; n (n ≥ Count): <see cref="OneRow"/> over an int8 B whose
        /// column j has the scale s[j], rows <paramref name="ldb"/> bytes apart. The effective weight is formed in
        /// registers exactly as the fp32 copy holds it (the int8 widened exactly, times its scale, rounded once), then
        /// the same fused multiply-add chain over p: the bits of <see cref="OneRow"/> over that copy.
        /// </summary>
        public static void OneRowInt8(ReadOnlySpan<float> a, int k, ReadOnlySpan<sbyte> q, nint ldb, int n, ReadOnlySpan<float> scales, Span<float> c)
        {
            ref float aRef = ref MemoryMarshal.GetReference(a);
            ref sbyte qRef = ref MemoryMarshal.GetReference(q);
            ref float sRef = ref MemoryMarshal.GetReference(scales);
            ref float cRef = ref MemoryMarshal.GetReference(c);
            int count = TVector.Count, block = 4 * count;
            int j = 0;
            for (; j <= n - block; j += block)
                OneRowInt8Block(ref aRef, k, ref Unsafe.Add(ref qRef, j), ldb, ref Unsafe.Add(ref sRef, j), ref Unsafe.Add(ref cRef, j));
            TVector allLanes = TVector.GreaterThanOrEqual(TVector.Zero, TVector.Zero);
            for (; j <= n - count; j += count)
                OneRowInt8Vector(ref aRef, k, ref Unsafe.Add(ref qRef, j), ldb, ref Unsafe.Add(ref sRef, j), ref Unsafe.Add(ref cRef, j), allLanes);
            if (j < n)
            {
                // The last vector overlaps the one before; only its new lanes are written.
                int last = n - count;
                OneRowInt8Vector(ref aRef, k, ref Unsafe.Add(ref qRef, last), ldb, ref Unsafe.Add(ref sRef, last), ref Unsafe.Add(ref cRef, last), TVector.TailMask(n));
            }
        }

        /// <summary>c[0..4V) += Σ_{p&lt;k} a[p]·float32(q[p, 0..4V)·s[0..4V)), in 4 accumulators (the scales in 4 more registers).</summary>
        private static void OneRowInt8Block(ref float a, int k, ref sbyte q, nint ldb, ref float s, ref float c)
        {
            nuint v = (nuint)TVector.Count;
            TVector s0 = TVector.Load(ref s, 0), s1 = TVector.Load(ref s, v), s2 = TVector.Load(ref s, 2 * v), s3 = TVector.Load(ref s, 3 * v);
            TVector c0 = TVector.Load(ref c, 0), c1 = TVector.Load(ref c, v), c2 = TVector.Load(ref c, 2 * v), c3 = TVector.Load(ref c, 3 * v);
            ref sbyte qp = ref q;
            for (int p = 0; p < k; p++)
            {
                // c += a[p] · (q[p, :] · s)
                TVector x = TVector.Create(Unsafe.Add(ref a, p));
                TVector.Accumulate(ref c0, x, TVector.LoadInt8(ref qp, 0) * s0);
                TVector.Accumulate(ref c1, x, TVector.LoadInt8(ref qp, v) * s1);
                TVector.Accumulate(ref c2, x, TVector.LoadInt8(ref qp, 2 * v) * s2);
                TVector.Accumulate(ref c3, x, TVector.LoadInt8(ref qp, 3 * v) * s3);
                qp = ref Unsafe.Add(ref qp, ldb);
            }
            TVector.Store(c0, ref c, 0); TVector.Store(c1, ref c, v); TVector.Store(c2, ref c, 2 * v); TVector.Store(c3, ref c, 3 * v);
        }

        /// <summary>c[0..V) += Σ_{p&lt;k} a[p]·float32(q[p, 0..V)·s[0..V)), written where <paramref name="store"/> is set.</summary>
        private static void OneRowInt8Vector(ref float a, int k, ref sbyte q, nint ldb, ref float s, ref float c, TVector store)
        {
            TVector scale = TVector.Load(ref s, 0), old = TVector.Load(ref c, 0), sum = old;
            ref sbyte qp = ref q;
            for (int p = 0; p < k; p++)
            {
                TVector.Accumulate(ref sum, TVector.Create(Unsafe.Add(ref a, p)), TVector.LoadInt8(ref qp, 0) * scale);
                qp = ref Unsafe.Add(ref qp, ldb);
            }
            TVector.Store(TVector.ConditionalSelect(store, sum, old), ref c, 0);
        }

        /// <summary>C[0, 0..8V) = S[0..8V) + Σ_{p&lt;k} A(0, p)·B[p, 0..8V), in 8 accumulators (S at <paramref name="init"/>).</summary>
        private static void OneRowBlock(ref float a, nint depthStride, int k, ref float b, nint ldb, ref float c, ref float init)
        {
            nuint v = (nuint)TVector.Count;
            TVector s0 = TVector.Load(ref init, 0), s1 = TVector.Load(ref init, v), s2 = TVector.Load(ref init, 2 * v), s3 = TVector.Load(ref init, 3 * v);
            TVector s4 = TVector.Load(ref init, 4 * v), s5 = TVector.Load(ref init, 5 * v), s6 = TVector.Load(ref init, 6 * v), s7 = TVector.Load(ref init, 7 * v);
            ref float ap = ref a;
            ref float bp = ref b;
            for (int p = 0; p < k; p++)
            {
                // C[0, :] += A(0, p) · B[p, :]
                TVector x = TVector.Create(ap);
                TVector.AccumulateLoaded(ref s0, ref bp, 0, x); TVector.AccumulateLoaded(ref s1, ref bp, v, x);
                TVector.AccumulateLoaded(ref s2, ref bp, 2 * v, x); TVector.AccumulateLoaded(ref s3, ref bp, 3 * v, x);
                TVector.AccumulateLoaded(ref s4, ref bp, 4 * v, x); TVector.AccumulateLoaded(ref s5, ref bp, 5 * v, x);
                TVector.AccumulateLoaded(ref s6, ref bp, 6 * v, x); TVector.AccumulateLoaded(ref s7, ref bp, 7 * v, x);
                ap = ref Unsafe.Add(ref ap, depthStride);
                bp = ref Unsafe.Add(ref bp, ldb);
            }
            TVector.Store(s0, ref c, 0); TVector.Store(s1, ref c, v); TVector.Store(s2, ref c, 2 * v); TVector.Store(s3, ref c, 3 * v);
            TVector.Store(s4, ref c, 4 * v); TVector.Store(s5, ref c, 5 * v); TVector.Store(s6, ref c, 6 * v); TVector.Store(s7, ref c, 7 * v);
        }

        /// <summary>C[0, 0..V) = S[0..V) + Σ_{p&lt;k} A(0, p)·B[p, 0..V), written where <paramref name="store"/> is set (S at <paramref name="init"/>).</summary>
        private static void OneRowVector(ref float a, nint depthStride, int k, ref float b, nint ldb, ref float c, ref float init, TVector store)
        {
            TVector old = TVector.Load(ref c, 0), sum = TVector.Load(ref init, 0);
            ref float ap = ref a;
            ref float bp = ref b;
            for (int p = 0; p < k; p++)
            {
                TVector.AccumulateLoaded(ref sum, ref bp, 0, TVector.Create(ap));
                ap = ref Unsafe.Add(ref ap, depthStride);
                bp = ref Unsafe.Add(ref bp, ldb);
            }
            TVector.Store(TVector.ConditionalSelect(store, sum, old), ref c, 0);
        }
    }

    /// <summary>Four floats on the stack: the lane sums of a dot tile's partial last group of columns.</summary>
    [InlineArray(4)]
    private struct FourFloats
    {
        private float _element;
    }
}
