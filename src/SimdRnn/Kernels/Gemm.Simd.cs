using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SimdRnn.Kernels;

public static partial class Gemm
{
    /// <summary>
    /// The vectorized, blocked GEMM kernels. Arguments are assumed valid; any shape is accepted (shapes too small
    /// for one vector go to the scalar twins). Nothing is packed or allocated: the blocking below keeps the operands
    /// that are reused in L1/L2 where they already are.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>C += A·B and C += Aᵀ·B</b> (broadcast-A × vector-B): a micro-kernel keeps a 6-row × 2-vector tile of C in
    /// 12 vector registers and, for each p of the inner dimension, broadcasts the 6 values A(i..i+5, p) and multiplies
    /// them into the 2 vectors B[p, j..j+2V) (12 independent FMA chains; with the 2 B vectors and the broadcast, 15 of
    /// AVX2's 16 registers). The two forms differ only in the strides of A. Measured against 4 rows (8 chains) and 8
    /// rows (16 chains, for AVX-512's 32 registers) on 2026-11-27: 6 rows took 0.89×, 0.94× and 0.99× the time of 4
    /// rows at 4096×64×512, 64×128×384 and 64×128×512 (the input projection and the recurrent products of the batch
    /// benchmark); 8 rows took 1.07–1.11×. Four-row tiles take the rows that six-row tiles would leave partly empty.
    /// Cache blocking: the inner dimension in blocks of <see cref="DepthBlock"/> so the B sliver (DepthBlock × 2V
    /// floats, 16 KB at 8 lanes) stays in L1 while it is reused by every row tile; rows in blocks of
    /// <see cref="RowBlock"/> so the A block (RowBlock × DepthBlock floats, 128 KB) stays in L2 while it is reused by
    /// every column sliver. Column tails: one vector at a time, the last one overlapping the previous and masked to its
    /// new lanes. Row tails: the missing rows repeat the last row (they compute and store the same values).
    /// </para>
    /// <para>
    /// <b>C = A·Bᵀ</b> (dot products): both factors are read along contiguous rows, so a micro-kernel takes 2 rows of A
    /// and 4 rows of B, keeps 8 vector accumulators, and reduces each group of 4 into 4 adjacent outputs at once
    /// (horizontal adds on AVX / SSE3). The inner-dimension tail is one overlapping vector with both factors masked to
    /// the new lanes. B is walked in blocks of rows that fit in L2 (<see cref="DotBlockFloats"/>), while 2 rows of A
    /// stay in L1 across a whole block.
    /// </para>
    /// </remarks>
    internal static class Simd
    {
        /// <summary>The inner-dimension block (kc) of the broadcast kernels.</summary>
        internal const int DepthBlock = 256;

        /// <summary>The row block (mc) of the broadcast kernels.</summary>
        internal const int RowBlock = 128;

        /// <summary>Row blocks of more rows than this pack each B sliver into a stack buffer (DepthBlock × 2V floats, 16 KB at 8 lanes).</summary>
        internal const int PackRows = 8;

        /// <summary>The number of floats of B (rows × K) walked per block by the dot kernel: 192 KB, within L2.</summary>
        internal const int DotBlockFloats = 48 * 1024;

        /// <summary>C[i,j] = (accumulate ? C[i,j] : 0) + Σ_p A[i,p]·B[j,p].</summary>
        public static void MultiplyTransposed(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c, bool accumulate)
        {
            if (m == 0 || n == 0) return;
            if (k < Vector<float>.Count)
            {
                // Covers K = 0 (C = 0 or unchanged) and rows shorter than one vector.
                Scalar.MultiplyTransposed(a, m, k, b, n, c, accumulate);
                return;
            }
            ref float aRef = ref MemoryMarshal.GetReference(a);
            ref float bRef = ref MemoryMarshal.GetReference(b);
            ref float cRef = ref MemoryMarshal.GetReference(c);
            var depthTail = VectorTail.NewLanes(k);
            int blockRows = Math.Max(4, DotBlockFloats / k & ~3);
            for (int j0 = 0; j0 < n; j0 += blockRows)
            {
                int jEnd = Math.Min(n, j0 + blockRows);
                for (int i = 0; i < m; i += 2)
                {
                    nint a0 = (nint)i * k, a1 = (nint)Math.Min(i + 1, m - 1) * k;
                    nint c0 = (nint)i * n, c1 = (nint)Math.Min(i + 1, m - 1) * n;
                    for (int j = j0; j < jEnd; j += 4)
                    {
                        // Rows of B past the end repeat the last one; only the real outputs are stored.
                        int last = n - 1;
                        DotTile(ref aRef, a0, a1, ref bRef,
                            (nint)j * k, (nint)Math.Min(j + 1, last) * k, (nint)Math.Min(j + 2, last) * k, (nint)Math.Min(j + 3, last) * k,
                            k, depthTail, out var s0, out var s1);
                        StoreDots(s0, s1, ref cRef, c0 + j, c1 + j, Math.Min(4, jEnd - j), accumulate);
                    }
                }
            }
        }

        /// <summary>C[i,j] += Σ_p A[i,p]·B[p,j].</summary>
        public static void MultiplyAccumulate(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, Span<float> c)
        {
            if (m == 0 || n == 0 || k == 0) return;
            if (n < Vector<float>.Count)
            {
                Scalar.MultiplyAccumulate(a, m, k, b, n, c);
                return;
            }
            // A(i, p) = a[i·k + p]
            BroadcastProduct(ref MemoryMarshal.GetReference(a), k, 1, m, k, ref MemoryMarshal.GetReference(b), n, ref MemoryMarshal.GetReference(c));
        }

        /// <summary>C[i,j] += Σ_p A[p,i]·B[p,j].</summary>
        public static void TransposedMultiplyAccumulate(ReadOnlySpan<float> a, int k, int m, ReadOnlySpan<float> b, int n, Span<float> c)
        {
            if (m == 0 || n == 0 || k == 0) return;
            if (n < Vector<float>.Count)
            {
                Scalar.TransposedMultiplyAccumulate(a, k, m, b, n, c);
                return;
            }
            // A(i, p) = a[p·m + i]
            BroadcastProduct(ref MemoryMarshal.GetReference(a), 1, m, m, k, ref MemoryMarshal.GetReference(b), n, ref MemoryMarshal.GetReference(c));
        }

        /// <summary>
        /// C[i, j] += Σ_p A(i, p)·B[p, j] with A(i, p) = a[i·rowStride + p·depthStride], B row-major k × n,
        /// C row-major m × n, n ≥ Vector&lt;float&gt;.Count.
        /// </summary>
        private static void BroadcastProduct(ref float a, nint rowStride, nint depthStride, int m, int k, ref float b, int n, ref float c)
        {
            int count = Vector<float>.Count, wide = 2 * count;
            var columnTail = VectorTail.NewLanes(n);
            var allLanes = Vector<int>.AllBitsSet;
            Span<float> panel = stackalloc float[DepthBlock * 2 * Vector<float>.Count];
            ref float panelRef = ref MemoryMarshal.GetReference(panel);
            for (int p0 = 0; p0 < k; p0 += DepthBlock)
            {
                int kc = Math.Min(DepthBlock, k - p0);
                ref float aBlock = ref Unsafe.Add(ref a, p0 * depthStride);
                ref float bBlock = ref Unsafe.Add(ref b, (nint)p0 * n);
                for (int i0 = 0; i0 < m; i0 += RowBlock)
                {
                    int iEnd = Math.Min(m, i0 + RowBlock);
                    // Packing a sliver costs one copy of it and pays back from a few row tiles on.
                    bool pack = iEnd - i0 > PackRows;
                    int j = 0;
                    for (; j <= n - wide; j += wide)
                    {
                        scoped ref float sliver = ref Unsafe.Add(ref bBlock, j);
                        nint ldb = n;
                        if (pack)
                        {
                            // panel[p·2V + t] = B[p0 + p, j + t]: the sliver contiguous, so its rows cannot collide in L1
                            // (rows n floats apart do when n·4 is a multiple of a large power of two).
                            for (int p = 0; p < kc; p++)
                            {
                                ref float row = ref Unsafe.Add(ref sliver, (nint)p * n);
                                Vector.LoadUnsafe(ref row).StoreUnsafe(ref panelRef, (nuint)(p * wide));
                                Vector.LoadUnsafe(ref row, (nuint)count).StoreUnsafe(ref panelRef, (nuint)(p * wide + count));
                            }
                            sliver = ref panelRef;
                            ldb = wide;
                        }
                        // Six rows at a time, and four-row tiles where they avoid repeated rows: the last 8 rows as
                        // 4 + 4 and the last 4 as 4, so that every even row count is covered without waste (64 rows:
                        // ten 6-row tiles and one 4-row tile; 32: four and two) and an odd one wastes one row.
                        for (int i = i0; i < iEnd;)
                        {
                            int left = iEnd - i;
                            if (left > 4 && (left > 8 || left % 6 is 0 or 5))
                            {
                                Tile6x2(ref aBlock, rowStride, depthStride, i, iEnd - 1, ref sliver, ldb, kc, ref Unsafe.Add(ref c, j), n);
                                i += 6;
                            }
                            else
                            {
                                Tile4x2(ref aBlock, rowStride, depthStride, i, iEnd - 1, ref sliver, ldb, kc, ref Unsafe.Add(ref c, j), n);
                                i += 4;
                            }
                        }
                    }
                    if (j <= n - count)
                    {
                        for (int i = i0; i < iEnd; i += 4)
                            Tile4x1(ref aBlock, rowStride, depthStride, i, iEnd - 1, ref Unsafe.Add(ref bBlock, j), n, kc, ref Unsafe.Add(ref c, j), n, allLanes);
                        j += count;
                    }
                    if (j < n)
                    {
                        // The last vector overlaps the one before; only its new lanes are written.
                        int lastColumn = n - count;
                        for (int i = i0; i < iEnd; i += 4)
                            Tile4x1(ref aBlock, rowStride, depthStride, i, iEnd - 1, ref Unsafe.Add(ref bBlock, lastColumn), n, kc, ref Unsafe.Add(ref c, lastColumn), n, columnTail);
                    }
                }
            }
        }

        /// <summary>
        /// C[r, 0..2V) += Σ_{p&lt;kc} A(r, p)·B[p, 0..2V) for the rows r = i..i+3 (rows past <paramref name="lastRow"/>
        /// repeat it: they load, compute and store the same values as it).
        /// </summary>
        private static void Tile4x2(ref float a, nint rowStride, nint depthStride, int i, int lastRow, ref float b, nint ldb, int kc, ref float c, nint ldc)
        {
            int count = Vector<float>.Count;
            int r1 = Math.Min(i + 1, lastRow), r2 = Math.Min(i + 2, lastRow), r3 = Math.Min(i + 3, lastRow);
            nint a0 = i * rowStride, a1 = r1 * rowStride, a2 = r2 * rowStride, a3 = r3 * rowStride;
            ref float c0 = ref Unsafe.Add(ref c, i * ldc);
            ref float c1 = ref Unsafe.Add(ref c, r1 * ldc);
            ref float c2 = ref Unsafe.Add(ref c, r2 * ldc);
            ref float c3 = ref Unsafe.Add(ref c, r3 * ldc);
            var c00 = Vector.LoadUnsafe(ref c0); var c01 = Vector.LoadUnsafe(ref c0, (nuint)count);
            var c10 = Vector.LoadUnsafe(ref c1); var c11 = Vector.LoadUnsafe(ref c1, (nuint)count);
            var c20 = Vector.LoadUnsafe(ref c2); var c21 = Vector.LoadUnsafe(ref c2, (nuint)count);
            var c30 = Vector.LoadUnsafe(ref c3); var c31 = Vector.LoadUnsafe(ref c3, (nuint)count);
            ref float ap = ref a;
            ref float bp = ref b;
            for (int p = 0; p < kc; p++)
            {
                // C[r, :] += A(r, p) · B[p, :]
                var b0 = Vector.LoadUnsafe(ref bp);
                var b1 = Vector.LoadUnsafe(ref bp, (nuint)count);
                var x = new Vector<float>(Unsafe.Add(ref ap, a0));
                c00 = Vector.MultiplyAddEstimate(x, b0, c00); c01 = Vector.MultiplyAddEstimate(x, b1, c01);
                x = new Vector<float>(Unsafe.Add(ref ap, a1));
                c10 = Vector.MultiplyAddEstimate(x, b0, c10); c11 = Vector.MultiplyAddEstimate(x, b1, c11);
                x = new Vector<float>(Unsafe.Add(ref ap, a2));
                c20 = Vector.MultiplyAddEstimate(x, b0, c20); c21 = Vector.MultiplyAddEstimate(x, b1, c21);
                x = new Vector<float>(Unsafe.Add(ref ap, a3));
                c30 = Vector.MultiplyAddEstimate(x, b0, c30); c31 = Vector.MultiplyAddEstimate(x, b1, c31);
                ap = ref Unsafe.Add(ref ap, depthStride);
                bp = ref Unsafe.Add(ref bp, ldb);
            }
            // Rows 3, 2, 1 first: a repeated row is stored last by row i itself, with the same value.
            c30.StoreUnsafe(ref c3); c31.StoreUnsafe(ref c3, (nuint)count);
            c20.StoreUnsafe(ref c2); c21.StoreUnsafe(ref c2, (nuint)count);
            c10.StoreUnsafe(ref c1); c11.StoreUnsafe(ref c1, (nuint)count);
            c00.StoreUnsafe(ref c0); c01.StoreUnsafe(ref c0, (nuint)count);
        }

        /// <summary>
        /// C[r, 0..2V) += Σ_{p&lt;kc} A(r, p)·B[p, 0..2V) for the rows r = i..i+5 (rows past <paramref name="lastRow"/>
        /// repeat it), in 12 accumulators: 12 independent FMA chains per 2 loads of B and 6 broadcasts of A.
        /// </summary>
        private static void Tile6x2(ref float a, nint rowStride, nint depthStride, int i, int lastRow, ref float b, nint ldb, int kc, ref float c, nint ldc)
        {
            int count = Vector<float>.Count;
            int r1 = Math.Min(i + 1, lastRow), r2 = Math.Min(i + 2, lastRow), r3 = Math.Min(i + 3, lastRow);
            int r4 = Math.Min(i + 4, lastRow), r5 = Math.Min(i + 5, lastRow);
            nint a0 = i * rowStride, a1 = r1 * rowStride, a2 = r2 * rowStride, a3 = r3 * rowStride, a4 = r4 * rowStride, a5 = r5 * rowStride;
            ref float c0 = ref Unsafe.Add(ref c, i * ldc);
            ref float c1 = ref Unsafe.Add(ref c, r1 * ldc);
            ref float c2 = ref Unsafe.Add(ref c, r2 * ldc);
            ref float c3 = ref Unsafe.Add(ref c, r3 * ldc);
            ref float c4 = ref Unsafe.Add(ref c, r4 * ldc);
            ref float c5 = ref Unsafe.Add(ref c, r5 * ldc);
            var c00 = Vector.LoadUnsafe(ref c0); var c01 = Vector.LoadUnsafe(ref c0, (nuint)count);
            var c10 = Vector.LoadUnsafe(ref c1); var c11 = Vector.LoadUnsafe(ref c1, (nuint)count);
            var c20 = Vector.LoadUnsafe(ref c2); var c21 = Vector.LoadUnsafe(ref c2, (nuint)count);
            var c30 = Vector.LoadUnsafe(ref c3); var c31 = Vector.LoadUnsafe(ref c3, (nuint)count);
            var c40 = Vector.LoadUnsafe(ref c4); var c41 = Vector.LoadUnsafe(ref c4, (nuint)count);
            var c50 = Vector.LoadUnsafe(ref c5); var c51 = Vector.LoadUnsafe(ref c5, (nuint)count);
            ref float ap = ref a;
            ref float bp = ref b;
            for (int p = 0; p < kc; p++)
            {
                // C[r, :] += A(r, p) · B[p, :]
                var b0 = Vector.LoadUnsafe(ref bp);
                var b1 = Vector.LoadUnsafe(ref bp, (nuint)count);
                var x = new Vector<float>(Unsafe.Add(ref ap, a0));
                c00 = Vector.MultiplyAddEstimate(x, b0, c00); c01 = Vector.MultiplyAddEstimate(x, b1, c01);
                x = new Vector<float>(Unsafe.Add(ref ap, a1));
                c10 = Vector.MultiplyAddEstimate(x, b0, c10); c11 = Vector.MultiplyAddEstimate(x, b1, c11);
                x = new Vector<float>(Unsafe.Add(ref ap, a2));
                c20 = Vector.MultiplyAddEstimate(x, b0, c20); c21 = Vector.MultiplyAddEstimate(x, b1, c21);
                x = new Vector<float>(Unsafe.Add(ref ap, a3));
                c30 = Vector.MultiplyAddEstimate(x, b0, c30); c31 = Vector.MultiplyAddEstimate(x, b1, c31);
                x = new Vector<float>(Unsafe.Add(ref ap, a4));
                c40 = Vector.MultiplyAddEstimate(x, b0, c40); c41 = Vector.MultiplyAddEstimate(x, b1, c41);
                x = new Vector<float>(Unsafe.Add(ref ap, a5));
                c50 = Vector.MultiplyAddEstimate(x, b0, c50); c51 = Vector.MultiplyAddEstimate(x, b1, c51);
                ap = ref Unsafe.Add(ref ap, depthStride);
                bp = ref Unsafe.Add(ref bp, ldb);
            }
            // Rows 5 down to 1 first: a repeated row is stored last by row i itself, with the same value.
            c50.StoreUnsafe(ref c5); c51.StoreUnsafe(ref c5, (nuint)count);
            c40.StoreUnsafe(ref c4); c41.StoreUnsafe(ref c4, (nuint)count);
            c30.StoreUnsafe(ref c3); c31.StoreUnsafe(ref c3, (nuint)count);
            c20.StoreUnsafe(ref c2); c21.StoreUnsafe(ref c2, (nuint)count);
            c10.StoreUnsafe(ref c1); c11.StoreUnsafe(ref c1, (nuint)count);
            c00.StoreUnsafe(ref c0); c01.StoreUnsafe(ref c0, (nuint)count);
        }

        /// <summary>
        /// C[r, 0..V) += Σ_{p&lt;kc} A(r, p)·B[p, 0..V) for the rows r = i..i+3 (as <see cref="Tile6x2"/>), writing only
        /// the lanes set in <paramref name="store"/>.
        /// </summary>
        private static void Tile4x1(ref float a, nint rowStride, nint depthStride, int i, int lastRow, ref float b, nint ldb, int kc, ref float c, nint ldc, Vector<int> store)
        {
            int r1 = Math.Min(i + 1, lastRow), r2 = Math.Min(i + 2, lastRow), r3 = Math.Min(i + 3, lastRow);
            nint a0 = i * rowStride, a1 = r1 * rowStride, a2 = r2 * rowStride, a3 = r3 * rowStride;
            ref float c0 = ref Unsafe.Add(ref c, i * ldc);
            ref float c1 = ref Unsafe.Add(ref c, r1 * ldc);
            ref float c2 = ref Unsafe.Add(ref c, r2 * ldc);
            ref float c3 = ref Unsafe.Add(ref c, r3 * ldc);
            var o0 = Vector.LoadUnsafe(ref c0);
            var o1 = Vector.LoadUnsafe(ref c1);
            var o2 = Vector.LoadUnsafe(ref c2);
            var o3 = Vector.LoadUnsafe(ref c3);
            Vector<float> s0 = o0, s1 = o1, s2 = o2, s3 = o3;
            ref float ap = ref a;
            ref float bp = ref b;
            for (int p = 0; p < kc; p++)
            {
                // C[r, :] += A(r, p) · B[p, :]
                var bv = Vector.LoadUnsafe(ref bp);
                s0 = Vector.MultiplyAddEstimate(new Vector<float>(Unsafe.Add(ref ap, a0)), bv, s0);
                s1 = Vector.MultiplyAddEstimate(new Vector<float>(Unsafe.Add(ref ap, a1)), bv, s1);
                s2 = Vector.MultiplyAddEstimate(new Vector<float>(Unsafe.Add(ref ap, a2)), bv, s2);
                s3 = Vector.MultiplyAddEstimate(new Vector<float>(Unsafe.Add(ref ap, a3)), bv, s3);
                ap = ref Unsafe.Add(ref ap, depthStride);
                bp = ref Unsafe.Add(ref bp, ldb);
            }
            Vector.ConditionalSelect(store, s3, o3).StoreUnsafe(ref c3);
            Vector.ConditionalSelect(store, s2, o2).StoreUnsafe(ref c2);
            Vector.ConditionalSelect(store, s1, o1).StoreUnsafe(ref c1);
            Vector.ConditionalSelect(store, s0, o0).StoreUnsafe(ref c0);
        }

        /// <summary>
        /// The 2 × 4 dot products s_r[t] = Σ_p A[a_r + p]·B[b_t + p] over p &lt; k (k ≥ Vector&lt;float&gt;.Count),
        /// for 2 rows of A and 4 rows of B given by their offsets.
        /// </summary>
        private static void DotTile(ref float a, nint a0, nint a1, ref float b, nint b0, nint b1, nint b2, nint b3, int k, Vector<int> depthTail,
            out Vector128<float> s0, out Vector128<float> s1)
        {
            int count = Vector<float>.Count;
            Vector<float> d00 = default, d01 = default, d02 = default, d03 = default;
            Vector<float> d10 = default, d11 = default, d12 = default, d13 = default;
            ref float ar0 = ref Unsafe.Add(ref a, a0);
            ref float ar1 = ref Unsafe.Add(ref a, a1);
            ref float br0 = ref Unsafe.Add(ref b, b0);
            ref float br1 = ref Unsafe.Add(ref b, b1);
            ref float br2 = ref Unsafe.Add(ref b, b2);
            ref float br3 = ref Unsafe.Add(ref b, b3);
            nuint p = 0, end = (nuint)(k - count);
            for (; p <= end; p += (nuint)count)
            {
                // d_rt += A[r, p..p+V) ⊙ B[t, p..p+V)
                var x0 = Vector.LoadUnsafe(ref ar0, p);
                var x1 = Vector.LoadUnsafe(ref ar1, p);
                var y = Vector.LoadUnsafe(ref br0, p);
                d00 = Vector.MultiplyAddEstimate(x0, y, d00); d10 = Vector.MultiplyAddEstimate(x1, y, d10);
                y = Vector.LoadUnsafe(ref br1, p);
                d01 = Vector.MultiplyAddEstimate(x0, y, d01); d11 = Vector.MultiplyAddEstimate(x1, y, d11);
                y = Vector.LoadUnsafe(ref br2, p);
                d02 = Vector.MultiplyAddEstimate(x0, y, d02); d12 = Vector.MultiplyAddEstimate(x1, y, d12);
                y = Vector.LoadUnsafe(ref br3, p);
                d03 = Vector.MultiplyAddEstimate(x0, y, d03); d13 = Vector.MultiplyAddEstimate(x1, y, d13);
            }
            if ((int)p < k)
            {
                // One overlapping vector over the last V elements; both factors are zeroed in the lanes already summed
                // (zeroing both keeps an infinity there from turning the product into NaN).
                var x0 = Vector.ConditionalSelect(depthTail, Vector.LoadUnsafe(ref ar0, end), Vector<float>.Zero);
                var x1 = Vector.ConditionalSelect(depthTail, Vector.LoadUnsafe(ref ar1, end), Vector<float>.Zero);
                var y = Vector.ConditionalSelect(depthTail, Vector.LoadUnsafe(ref br0, end), Vector<float>.Zero);
                d00 = Vector.MultiplyAddEstimate(x0, y, d00); d10 = Vector.MultiplyAddEstimate(x1, y, d10);
                y = Vector.ConditionalSelect(depthTail, Vector.LoadUnsafe(ref br1, end), Vector<float>.Zero);
                d01 = Vector.MultiplyAddEstimate(x0, y, d01); d11 = Vector.MultiplyAddEstimate(x1, y, d11);
                y = Vector.ConditionalSelect(depthTail, Vector.LoadUnsafe(ref br2, end), Vector<float>.Zero);
                d02 = Vector.MultiplyAddEstimate(x0, y, d02); d12 = Vector.MultiplyAddEstimate(x1, y, d12);
                y = Vector.ConditionalSelect(depthTail, Vector.LoadUnsafe(ref br3, end), Vector<float>.Zero);
                d03 = Vector.MultiplyAddEstimate(x0, y, d03); d13 = Vector.MultiplyAddEstimate(x1, y, d13);
            }
            s0 = Sum4(d00, d01, d02, d03);
            s1 = Sum4(d10, d11, d12, d13);
        }

        /// <summary>[Σ lanes of v0, Σ v1, Σ v2, Σ v3]: horizontal adds on AVX (8 lanes) or SSE3 (4 lanes), else lane sums.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector128<float> Sum4(Vector<float> v0, Vector<float> v1, Vector<float> v2, Vector<float> v3)
        {
            if (Vector<float>.Count == 8 && Avx.IsSupported)
            {
                // hadd(x, y) = [x0+x1, x2+x3, y0+y1, y2+y3 | x4+x5, x6+x7, y4+y5, y6+y7]; twice gives the 4 sums split
                // over the two 128-bit halves.
                var h01 = Avx.HorizontalAdd(v0.AsVector256(), v1.AsVector256());
                var h23 = Avx.HorizontalAdd(v2.AsVector256(), v3.AsVector256());
                var h = Avx.HorizontalAdd(h01, h23);
                return h.GetLower() + h.GetUpper();
            }
            if (Vector<float>.Count == 4 && Sse3.IsSupported)
            {
                var h01 = Sse3.HorizontalAdd(v0.AsVector128(), v1.AsVector128());
                var h23 = Sse3.HorizontalAdd(v2.AsVector128(), v3.AsVector128());
                return Sse3.HorizontalAdd(h01, h23);
            }
            return Vector128.Create(Vector.Sum(v0), Vector.Sum(v1), Vector.Sum(v2), Vector.Sum(v3));
        }

        /// <summary>
        /// C[c_r + t] = (accumulate ? C[c_r + t] : 0) + s_r[t] for t &lt; width ≤ 4. Both rows are read before either is
        /// written, so a repeated row (c1 = c0) stores the same value twice instead of adding twice.
        /// </summary>
        private static void StoreDots(Vector128<float> s0, Vector128<float> s1, ref float c, nint c0, nint c1, int width, bool accumulate)
        {
            if (width == 4)
            {
                if (accumulate)
                {
                    var o0 = Vector128.LoadUnsafe(ref c, (nuint)c0);
                    var o1 = Vector128.LoadUnsafe(ref c, (nuint)c1);
                    s0 += o0;
                    s1 += o1;
                }
                s1.StoreUnsafe(ref c, (nuint)c1);
                s0.StoreUnsafe(ref c, (nuint)c0);
                return;
            }
            for (int t = 0; t < width; t++)
            {
                float v0 = s0.GetElement(t), v1 = s1.GetElement(t);
                if (accumulate)
                {
                    v0 += Unsafe.Add(ref c, c0 + t);
                    v1 += Unsafe.Add(ref c, c1 + t);
                }
                Unsafe.Add(ref c, c1 + t) = v1;
                Unsafe.Add(ref c, c0 + t) = v0;
            }
        }
    }
}
