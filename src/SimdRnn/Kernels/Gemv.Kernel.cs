using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

public static partial class Gemv
{
    /// <summary>
    /// The GEMV kernels, written once for every width. Arguments are assumed valid and <c>cols ≥ TVector.Count</c>
    /// (so every row holds at least one whole vector and a row's last, overlapping vector stays inside the row).
    /// </summary>
    internal static class Kernel<TVector> where TVector : struct, IFloatVector<TVector>
    {
        /// <summary>y[i] += Σ_j W[i,j]·x[j], eight rows per pass so each load of x feeds eight rows.</summary>
        public static void MultiplyAccumulate(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
        {
            ref float wRef = ref MemoryMarshal.GetReference(w);
            ref float xRef = ref MemoryMarshal.GetReference(x);
            ref float yRef = ref MemoryMarshal.GetReference(y);
            int count = TVector.Count;
            nuint n = (nuint)cols, step = (nuint)count, last = (nuint)(cols - count);
            bool hasTail = cols % count != 0;
            // The tail vector covers columns [cols − Count, cols); its lanes already counted by the whole vectors
            // are zeroed in both x and W (0·0 = 0, so an infinity or NaN there cannot leak in through 0·∞).
            TVector tailMask = TVector.TailMask(cols);
            TVector xTail = TVector.Load(ref xRef, last) & tailMask;

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
                TVector s0 = default, s1 = default, s2 = default, s3 = default;
                TVector s4 = default, s5 = default, s6 = default, s7 = default;
                for (nuint j = 0; j + step <= n; j += step)
                {
                    TVector xa = TVector.Load(ref xRef, j);
                    TVector.AccumulateLoaded(ref s0, ref r0, j, xa);
                    TVector.AccumulateLoaded(ref s1, ref r1, j, xa);
                    TVector.AccumulateLoaded(ref s2, ref r2, j, xa);
                    TVector.AccumulateLoaded(ref s3, ref r3, j, xa);
                    TVector.AccumulateLoaded(ref s4, ref r4, j, xa);
                    TVector.AccumulateLoaded(ref s5, ref r5, j, xa);
                    TVector.AccumulateLoaded(ref s6, ref r6, j, xa);
                    TVector.AccumulateLoaded(ref s7, ref r7, j, xa);
                }
                if (hasTail)
                {
                    // The new lanes of the overlapping last vector: columns [cols − cols % Count, cols).
                    TVector.Accumulate(ref s0, TVector.Load(ref r0, last) & tailMask, xTail);
                    TVector.Accumulate(ref s1, TVector.Load(ref r1, last) & tailMask, xTail);
                    TVector.Accumulate(ref s2, TVector.Load(ref r2, last) & tailMask, xTail);
                    TVector.Accumulate(ref s3, TVector.Load(ref r3, last) & tailMask, xTail);
                    TVector.Accumulate(ref s4, TVector.Load(ref r4, last) & tailMask, xTail);
                    TVector.Accumulate(ref s5, TVector.Load(ref r5, last) & tailMask, xTail);
                    TVector.Accumulate(ref s6, TVector.Load(ref r6, last) & tailMask, xTail);
                    TVector.Accumulate(ref s7, TVector.Load(ref r7, last) & tailMask, xTail);
                }
                // y[i + K] += Σ_lanes sK
                TVector.AddLaneSums(s0, s1, s2, s3, ref Unsafe.Add(ref yRef, i));
                TVector.AddLaneSums(s4, s5, s6, s7, ref Unsafe.Add(ref yRef, i + 4));
            }

            if (i <= rows - 4)
            {
                // Four of the leftover rows (rows % 8 ≥ 4), two vectors deep for eight chains.
                ref float r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                ref float r1 = ref Unsafe.Add(ref r0, cols);
                ref float r2 = ref Unsafe.Add(ref r1, cols);
                ref float r3 = ref Unsafe.Add(ref r2, cols);
                // sK (even vectors) and tK (odd vectors) hold lane-wise partial sums of Σ_j W[i+K, j]·x[j].
                TVector s0 = default, s1 = default, s2 = default, s3 = default;
                TVector t0 = default, t1 = default, t2 = default, t3 = default;
                nuint j = 0;
                for (; j + 2 * step <= n; j += 2 * step)
                {
                    TVector xa = TVector.Load(ref xRef, j);
                    TVector xb = TVector.Load(ref xRef, j + step);
                    TVector.AccumulateLoaded(ref s0, ref r0, j, xa);
                    TVector.AccumulateLoaded(ref s1, ref r1, j, xa);
                    TVector.AccumulateLoaded(ref s2, ref r2, j, xa);
                    TVector.AccumulateLoaded(ref s3, ref r3, j, xa);
                    TVector.AccumulateLoaded(ref t0, ref r0, j + step, xb);
                    TVector.AccumulateLoaded(ref t1, ref r1, j + step, xb);
                    TVector.AccumulateLoaded(ref t2, ref r2, j + step, xb);
                    TVector.AccumulateLoaded(ref t3, ref r3, j + step, xb);
                }
                if (j + step <= n)
                {
                    // One more whole vector: columns [j, j + Count).
                    TVector xa = TVector.Load(ref xRef, j);
                    TVector.AccumulateLoaded(ref s0, ref r0, j, xa);
                    TVector.AccumulateLoaded(ref s1, ref r1, j, xa);
                    TVector.AccumulateLoaded(ref s2, ref r2, j, xa);
                    TVector.AccumulateLoaded(ref s3, ref r3, j, xa);
                }
                if (hasTail)
                {
                    TVector.Accumulate(ref t0, TVector.Load(ref r0, last) & tailMask, xTail);
                    TVector.Accumulate(ref t1, TVector.Load(ref r1, last) & tailMask, xTail);
                    TVector.Accumulate(ref t2, TVector.Load(ref r2, last) & tailMask, xTail);
                    TVector.Accumulate(ref t3, TVector.Load(ref r3, last) & tailMask, xTail);
                }
                // y[i + K] += Σ_lanes (sK + tK)
                TVector.AddLaneSums(s0 + t0, s1 + t1, s2 + t2, s3 + t3, ref Unsafe.Add(ref yRef, i));
                i += 4;
            }

            for (; i < rows; i++)
            {
                // The last leftover rows (rows % 4), one at a time: y[i] += Σ_j W[i,j]·x[j], two chains.
                ref float r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                TVector s0 = default, t0 = default;
                nuint j = 0;
                for (; j + 2 * step <= n; j += 2 * step)
                {
                    TVector.Accumulate(ref s0, TVector.Load(ref r0, j), TVector.Load(ref xRef, j));
                    TVector.Accumulate(ref t0, TVector.Load(ref r0, j + step), TVector.Load(ref xRef, j + step));
                }
                if (j + step <= n)
                    TVector.Accumulate(ref s0, TVector.Load(ref r0, j), TVector.Load(ref xRef, j));
                if (hasTail)
                    TVector.Accumulate(ref t0, TVector.Load(ref r0, last) & tailMask, xTail);
                Unsafe.Add(ref yRef, i) += TVector.Sum(s0 + t0);
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
            int count = TVector.Count;
            nuint n = (nuint)cols, step = (nuint)count, last = (nuint)(cols - count);
            bool hasTail = cols % count != 0;
            TVector newLanes = TVector.TailMask(cols);

            int i = 0;
            for (; i <= rows - 4; i += 4)
            {
                ref float r0 = ref Unsafe.Add(ref wRef, (nint)i * cols);
                ref float r1 = ref Unsafe.Add(ref r0, cols);
                ref float r2 = ref Unsafe.Add(ref r1, cols);
                ref float r3 = ref Unsafe.Add(ref r2, cols);
                var x0 = TVector.Create(Unsafe.Add(ref xRef, i));
                var x1 = TVector.Create(Unsafe.Add(ref xRef, i + 1));
                var x2 = TVector.Create(Unsafe.Add(ref xRef, i + 2));
                var x3 = TVector.Create(Unsafe.Add(ref xRef, i + 3));
                for (nuint j = 0; j + step <= n; j += step)
                {
                    // y[j..j+C) += x[i]·W[i, j..j+C) + … + x[i+3]·W[i+3, j..j+C)
                    TVector yv = TVector.Load(ref yRef, j);
                    TVector.AccumulateLoaded(ref yv, ref r0, j, x0);
                    TVector.AccumulateLoaded(ref yv, ref r1, j, x1);
                    TVector.AccumulateLoaded(ref yv, ref r2, j, x2);
                    TVector.AccumulateLoaded(ref yv, ref r3, j, x3);
                    TVector.Store(yv, ref yRef, j);
                }
                if (hasTail)
                {
                    // The overlapping last vector: only its new lanes take the update, the others keep y.
                    TVector old = TVector.Load(ref yRef, last);
                    TVector yv = old;
                    TVector.AccumulateLoaded(ref yv, ref r0, last, x0);
                    TVector.AccumulateLoaded(ref yv, ref r1, last, x1);
                    TVector.AccumulateLoaded(ref yv, ref r2, last, x2);
                    TVector.AccumulateLoaded(ref yv, ref r3, last, x3);
                    TVector.Store(TVector.ConditionalSelect(newLanes, yv, old), ref yRef, last);
                }
            }

            for (; i < rows; i++)
            {
                // The leftover rows (rows % 4): y[j] += W[i,j]·x[i].
                AxpyRow(ref Unsafe.Add(ref wRef, (nint)i * cols), TVector.Create(Unsafe.Add(ref xRef, i)), ref yRef, n, step, last, hasTail, newLanes);
            }
        }

        /// <summary>G[i,j] += a[i]·b[j]: one axpy per row.</summary>
        public static void AddOuterProduct(Span<float> g, int rows, int cols, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            ref float gRef = ref MemoryMarshal.GetReference(g);
            ref float aRef = ref MemoryMarshal.GetReference(a);
            ref float bRef = ref MemoryMarshal.GetReference(b);
            int count = TVector.Count;
            nuint n = (nuint)cols, step = (nuint)count, last = (nuint)(cols - count);
            bool hasTail = cols % count != 0;
            TVector newLanes = TVector.TailMask(cols);
            for (int i = 0; i < rows; i++)
            {
                // G[i, :] += a[i]·b
                AxpyRow(ref bRef, TVector.Create(Unsafe.Add(ref aRef, i)), ref Unsafe.Add(ref gRef, (nint)i * cols), n, step, last, hasTail, newLanes);
            }
        }

        /// <summary>
        /// z[j] += s·v[j] for j in [0, n): two vectors per iteration, then at most one whole vector, then the new lanes
        /// of the overlapping last vector (the other lanes keep their updated value).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AxpyRow(ref float v, TVector s, ref float z, nuint n, nuint step, nuint last, bool hasTail, TVector newLanes)
        {
            nuint j = 0;
            for (; j + 2 * step <= n; j += 2 * step)
            {
                TVector.Store(TVector.MultiplyAdd(TVector.Load(ref v, j), s, TVector.Load(ref z, j)), ref z, j);
                TVector.Store(TVector.MultiplyAdd(TVector.Load(ref v, j + step), s, TVector.Load(ref z, j + step)), ref z, j + step);
            }
            if (j + step <= n)
                TVector.Store(TVector.MultiplyAdd(TVector.Load(ref v, j), s, TVector.Load(ref z, j)), ref z, j);
            if (hasTail)
            {
                TVector old = TVector.Load(ref z, last);
                TVector.Store(TVector.ConditionalSelect(newLanes, TVector.MultiplyAdd(TVector.Load(ref v, last), s, old), old), ref z, last);
            }
        }
    }
}
