using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SimdRnn.Kernels;

public static partial class Gemv
{
    /// <summary>
    /// The vectorized GEMV kernels. Arguments are assumed valid and <c>cols ≥ Vector&lt;float&gt;.Count</c>
    /// (so every row holds at least one whole vector and a row's last, overlapping vector stays inside the row).
    /// They are written with <see cref="Vector{T}"/> (8 lanes with AVX2, 4 with SSE/NEON, software otherwise);
    /// only the horizontal sums of <see cref="MultiplyAccumulate"/> use x86 shuffles where available.
    /// </summary>
    internal static class Simd
    {
        /// <summary>y[i] += Σ_j W[i,j]·x[j], eight rows per pass so each load of x feeds eight rows.</summary>
        public static void MultiplyAccumulate(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
        {
            ref float wRef = ref MemoryMarshal.GetReference(w);
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            int count = Vector<float>.Count;
            nuint n = (nuint)cols, step = (nuint)count, last = (nuint)(cols - count);
            bool hasTail = cols % count != 0;
            // The tail vector covers columns [cols − Count, cols); its lanes already counted by the whole vectors
            // are zeroed in both x and W (0·0 = 0, so an infinity or NaN there cannot leak in through 0·∞).
            Vector<float> tailMask = Vector.AsVectorSingle(VectorTail.NewLanes(cols));
            Vector<float> xTail = Vector.LoadUnsafe(ref xRef, last) & tailMask;

            int i = 0;
            for (; i <= rows - 8; i += 8)
            {
                ref float r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                ref float r1 = ref Unsafe.Add(ref r0, cols);
                ref float r2 = ref Unsafe.Add(ref r1, cols);
                ref float r3 = ref Unsafe.Add(ref r2, cols);
                ref float r4 = ref Unsafe.Add(ref r3, cols);
                ref float r5 = ref Unsafe.Add(ref r4, cols);
                ref float r6 = ref Unsafe.Add(ref r5, cols);
                ref float r7 = ref Unsafe.Add(ref r6, cols);
                // sK holds lane-wise partial sums of Σ_j W[i+K, j]·x[j]: eight rows share each load of x, and their
                // eight independent FMA chains hide the FMA latency.
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
                Vector<float> s4 = default, s5 = default, s6 = default, s7 = default;
                for (nuint j = 0; j + step <= n; j += step)
                {
                    Vector<float> xa = Vector.LoadUnsafe(ref xRef, j);
                    s0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r0, j), xa, s0);
                    s1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r1, j), xa, s1);
                    s2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r2, j), xa, s2);
                    s3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r3, j), xa, s3);
                    s4 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r4, j), xa, s4);
                    s5 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r5, j), xa, s5);
                    s6 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r6, j), xa, s6);
                    s7 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r7, j), xa, s7);
                }
                if (hasTail)
                {
                    // The new lanes of the overlapping last vector: columns [cols − cols % Count, cols).
                    s0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r0, last) & tailMask, xTail, s0);
                    s1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r1, last) & tailMask, xTail, s1);
                    s2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r2, last) & tailMask, xTail, s2);
                    s3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r3, last) & tailMask, xTail, s3);
                    s4 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r4, last) & tailMask, xTail, s4);
                    s5 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r5, last) & tailMask, xTail, s5);
                    s6 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r6, last) & tailMask, xTail, s6);
                    s7 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r7, last) & tailMask, xTail, s7);
                }
                // y[i + K] += Σ_lanes sK
                AddLaneSums(s0, s1, s2, s3, ref Unsafe.Add(ref yRef, i));
                AddLaneSums(s4, s5, s6, s7, ref Unsafe.Add(ref yRef, i + 4));
            }

            if (i <= rows - 4)
            {
                // Four of the leftover rows (rows % 8 ≥ 4), two vectors deep for eight chains.
                ref float r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                ref float r1 = ref Unsafe.Add(ref r0, cols);
                ref float r2 = ref Unsafe.Add(ref r1, cols);
                ref float r3 = ref Unsafe.Add(ref r2, cols);
                // sK (even vectors) and tK (odd vectors) hold lane-wise partial sums of Σ_j W[i+K, j]·x[j]:
                // eight independent FMA chains hide the FMA latency.
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
                Vector<float> t0 = default, t1 = default, t2 = default, t3 = default;
                nuint j = 0;
                for (; j + 2 * step <= n; j += 2 * step)
                {
                    Vector<float> xa = Vector.LoadUnsafe(ref xRef, j);
                    Vector<float> xb = Vector.LoadUnsafe(ref xRef, j + step);
                    s0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r0, j), xa, s0);
                    s1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r1, j), xa, s1);
                    s2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r2, j), xa, s2);
                    s3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r3, j), xa, s3);
                    t0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r0, j + step), xb, t0);
                    t1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r1, j + step), xb, t1);
                    t2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r2, j + step), xb, t2);
                    t3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r3, j + step), xb, t3);
                }
                if (j + step <= n)
                {
                    // One more whole vector: columns [j, j + Count).
                    Vector<float> xa = Vector.LoadUnsafe(ref xRef, j);
                    s0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r0, j), xa, s0);
                    s1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r1, j), xa, s1);
                    s2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r2, j), xa, s2);
                    s3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r3, j), xa, s3);
                }
                if (hasTail)
                {
                    // The new lanes of the overlapping last vector: columns [cols − cols % Count, cols).
                    t0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r0, last) & tailMask, xTail, t0);
                    t1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r1, last) & tailMask, xTail, t1);
                    t2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r2, last) & tailMask, xTail, t2);
                    t3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r3, last) & tailMask, xTail, t3);
                }
                // y[i + K] += Σ_lanes (sK + tK)
                AddLaneSums(s0 + t0, s1 + t1, s2 + t2, s3 + t3, ref Unsafe.Add(ref yRef, i));
                i += 4;
            }

            for (; i < rows; i++)
            {
                // The last leftover rows (rows % 4), one at a time: y[i] += Σ_j W[i,j]·x[j], two chains.
                ref float r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                Vector<float> s0 = default, t0 = default;
                nuint j = 0;
                for (; j + 2 * step <= n; j += 2 * step)
                {
                    s0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r0, j), Vector.LoadUnsafe(ref xRef, j), s0);
                    t0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r0, j + step), Vector.LoadUnsafe(ref xRef, j + step), t0);
                }
                if (j + step <= n)
                    s0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r0, j), Vector.LoadUnsafe(ref xRef, j), s0);
                if (hasTail)
                    t0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r0, last) & tailMask, xTail, t0);
                Unsafe.Add(ref yRef, i) += Vector.Sum(s0 + t0);
            }
        }

        /// <summary>
        /// y[i + K] += Σ_lanes aK for K = 0..3. With AVX (or SSE3 for 4 lanes) the four horizontal sums are one
        /// transpose-add: three horizontal adds (and one 128-bit add) give the four sums side by side, added to y with
        /// one 4-float load and store.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddLaneSums(Vector<float> a0, Vector<float> a1, Vector<float> a2, Vector<float> a3, ref float y)
        {
            if (Vector<float>.Count == 8 && Avx.IsSupported)
            {
                // Per 128-bit half: hadd(p, q) = [p0+p1, p2+p3, q0+q1, q2+q3].
                Vector256<float> h01 = Avx.HorizontalAdd(a0.AsVector256(), a1.AsVector256());
                Vector256<float> h23 = Avx.HorizontalAdd(a2.AsVector256(), a3.AsVector256());
                // h = [Σa0[0..3], Σa1[0..3], Σa2[0..3], Σa3[0..3] | the same over lanes 4..7]
                Vector256<float> h = Avx.HorizontalAdd(h01, h23);
                (Vector128.LoadUnsafe(ref y) + (h.GetLower() + h.GetUpper())).StoreUnsafe(ref y);
            }
            else if (Vector<float>.Count == 4 && Sse3.IsSupported)
            {
                // hadd(hadd(a0, a1), hadd(a2, a3)) = [Σa0, Σa1, Σa2, Σa3]
                Vector128<float> h = Sse3.HorizontalAdd(
                    Sse3.HorizontalAdd(a0.AsVector128(), a1.AsVector128()),
                    Sse3.HorizontalAdd(a2.AsVector128(), a3.AsVector128()));
                (Vector128.LoadUnsafe(ref y) + h).StoreUnsafe(ref y);
            }
            else
            {
                y += Vector.Sum(a0);
                Unsafe.Add(ref y, 1) += Vector.Sum(a1);
                Unsafe.Add(ref y, 2) += Vector.Sum(a2);
                Unsafe.Add(ref y, 3) += Vector.Sum(a3);
            }
        }

        /// <summary>
        /// y[j] += Σ_i W[i,j]·x[i]: axpy over rows, four rows per pass so each vector of y is loaded and stored once
        /// per four rows.
        /// </summary>
        public static void MultiplyTransposedAccumulate(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
        {
            ref float wRef = ref MemoryMarshal.GetReference(w);
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            int count = Vector<float>.Count;
            nuint n = (nuint)cols, step = (nuint)count, last = (nuint)(cols - count);
            bool hasTail = cols % count != 0;
            Vector<int> newLanes = VectorTail.NewLanes(cols);

            int i = 0;
            for (; i <= rows - 4; i += 4)
            {
                ref float r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                ref float r1 = ref Unsafe.Add(ref r0, cols);
                ref float r2 = ref Unsafe.Add(ref r1, cols);
                ref float r3 = ref Unsafe.Add(ref r2, cols);
                var x0 = new Vector<float>(Unsafe.Add(ref xRef, i));
                var x1 = new Vector<float>(Unsafe.Add(ref xRef, i + 1));
                var x2 = new Vector<float>(Unsafe.Add(ref xRef, i + 2));
                var x3 = new Vector<float>(Unsafe.Add(ref xRef, i + 3));
                nuint j = 0;
                for (; j + step <= n; j += step)
                {
                    // y[j..j+C) += x[i]·W[i, j..j+C) + … + x[i+3]·W[i+3, j..j+C)
                    Vector<float> yv = Vector.LoadUnsafe(ref yRef, j);
                    yv = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r0, j), x0, yv);
                    yv = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r1, j), x1, yv);
                    yv = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r2, j), x2, yv);
                    yv = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r3, j), x3, yv);
                    yv.StoreUnsafe(ref yRef, j);
                }
                if (hasTail)
                {
                    // The overlapping last vector: only its new lanes take the update, the others keep y.
                    Vector<float> old = Vector.LoadUnsafe(ref yRef, last);
                    Vector<float> yv = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r0, last), x0, old);
                    yv = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r1, last), x1, yv);
                    yv = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r2, last), x2, yv);
                    yv = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref r3, last), x3, yv);
                    Vector.ConditionalSelect(newLanes, yv, old).StoreUnsafe(ref yRef, last);
                }
            }

            for (; i < rows; i++)
            {
                // The leftover rows (rows % 4): y[j] += W[i,j]·x[i].
                ref float r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                var x0 = new Vector<float>(Unsafe.Add(ref xRef, i));
                AxpyRow(ref r0, x0, ref yRef, n, step, last, hasTail, newLanes);
            }
        }

        /// <summary>G[i,j] += a[i]·b[j]: one axpy per row.</summary>
        public static void AddOuterProduct(Span<float> g, int rows, int cols, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            ref float gRef = ref MemoryMarshal.GetReference(g);
            ref float aRef = ref MemoryMarshal.GetReference(a);
            ref float bRef = ref MemoryMarshal.GetReference(b);
            int count = Vector<float>.Count;
            nuint n = (nuint)cols, step = (nuint)count, last = (nuint)(cols - count);
            bool hasTail = cols % count != 0;
            Vector<int> newLanes = VectorTail.NewLanes(cols);
            for (int i = 0; i < rows; i++)
            {
                // G[i, :] += a[i]·b
                AxpyRow(ref bRef, new Vector<float>(Unsafe.Add(ref aRef, i)), ref Unsafe.Add(ref gRef, (nint)i * cols), n, step, last, hasTail, newLanes);
            }
        }

        /// <summary>
        /// z[j] += s·v[j] for j in [0, n): two vectors per iteration, then at most one whole vector, then the new lanes
        /// of the overlapping last vector (the other lanes keep their updated value).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AxpyRow(ref float v, Vector<float> s, ref float z, nuint n, nuint step, nuint last, bool hasTail, Vector<int> newLanes)
        {
            nuint j = 0;
            for (; j + 2 * step <= n; j += 2 * step)
            {
                Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref v, j), s, Vector.LoadUnsafe(ref z, j)).StoreUnsafe(ref z, j);
                Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref v, j + step), s, Vector.LoadUnsafe(ref z, j + step)).StoreUnsafe(ref z, j + step);
            }
            if (j + step <= n)
                Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref v, j), s, Vector.LoadUnsafe(ref z, j)).StoreUnsafe(ref z, j);
            if (hasTail)
            {
                Vector<float> old = Vector.LoadUnsafe(ref z, last);
                Vector.ConditionalSelect(newLanes, Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref v, last), s, old), old).StoreUnsafe(ref z, last);
            }
        }
    }
}
