namespace SimdRnn.Kernels;

/// <summary>
/// The two reduced-precision weight recipes for inference (issue 11): bfloat16 and int8 with one scale per row. The
/// fp32 master weights stay the truth (training, gradients and the default networks use them); these turn a copy of a
/// row-major matrix into the stored format the reduced-precision GEMV kernels read
/// (<see cref="Gemv.MultiplyAccumulatePairedBFloat16"/> over bf16 in the paired column layout;
/// <see cref="Gemv.MultiplyAccumulateInt8"/> over row-major int8 with its row scales).
/// </summary>
/// <remarks>
/// <para><b>bf16.</b> Every element is rounded to the nearest bfloat16 (8 significand bits, float32's exponent range),
/// ties to even, by IEEE 754 round-to-nearest on the bits: <c>bits + 0x7FFF + ((bits &gt;&gt; 16) &amp; 1)</c>, keep
/// the high 16 bits. That one rule covers normal and subnormal values and ±0 (the sign is kept); a finite value that
/// rounds above the largest bfloat16 (≥ 0x7F7F8000 in magnitude, i.e. ≥ (2 − 2^-8)·2^127) becomes ±∞, as IEEE
/// round-to-nearest gives; ±∞ stay ±∞. NaN stays NaN (its sign and top 7 payload bits kept, the quiet bit set), where
/// the bit rule alone could carry a NaN into ∞ or into the sign bit. Non-finite master weights are therefore
/// <b>propagated</b> exactly: bfloat16 represents them, and a NaN or ∞ weight reaches the outputs it feeds the same
/// way it would in fp32. Widening back is exact: <c>bits &lt;&lt; 16</c>.</para>
/// <para><b>int8.</b> For each row r: <c>s_r = max_j |w_rj| / 127</c>, the float32 quotient (rounded to nearest); a row
/// of zeros keeps <c>s_r = 0</c> and <c>q_rj = 0</c>, and so does a row whose <c>max_j |w_rj| / 127</c> rounds to 0
/// in float32 (max below 127·2^-150, i.e. about 8.9e-44: its weights are 0 to within the format anyway). Otherwise
/// <c>q_rj = round-half-to-even(w_rj / s_r)</c>, clamped to [−127, 127], where the quotient is the real quotient of
/// the two float32 values (computed in double, which rounds to the same integer and finds the same ties: a quotient of
/// two float32 values that is not a half-integer is at least 2^-26 away from one, far beyond double's rounding of
/// 2^-46 near 127). The clamp only acts when <c>s_r</c> is subnormal and lost bits (e.g. max = 1.4·127·2^-149 gives
/// s_r = 2^-149). The effective weight is the real product <c>q_rj · s_r</c>. Non-finite master weights are
/// <b>refused</b> with an <see cref="ArgumentException"/> naming the first offending element's row and column (row-major
/// order): an ∞ makes the row's scale ∞ (every finite weight of the row would become 0 and the ∞ itself ∞ / ∞ = NaN), and NaN has no int8 form.</para>
/// </remarks>
internal static class WeightQuantization
{
    /// <summary>The largest magnitude of an int8 weight: the format is symmetric, [−127, 127].</summary>
    public const int Int8Limit = 127;

    /// <summary>
    /// The nearest bfloat16 to <paramref name="value"/>, ties to even (the bits; see the class remarks for NaN, ∞,
    /// overflow, subnormals and ±0).
    /// </summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            // Keep the sign and the top payload bits, set the quiet bit (bit 22 of float32 = bit 6 of bfloat16): the
            // result is a NaN even when the payload lived only in the low 16 bits.
            return (ushort)((bits >> 16) | 0x0040);
        }
        // Round to nearest, ties to even: add just under half an ulp of bfloat16 (0x7FFF), plus one more when the kept
        // part is odd, and truncate. A carry out of the significand bumps the exponent (up to ∞ for the largest values).
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)(bits >> 16);
    }

    /// <summary>The float32 value of bfloat16 <paramref name="bits"/> (exact: <c>bits &lt;&lt; 16</c>).</summary>
    public static float FromBFloat16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>
    /// Rounds every element of <paramref name="source"/> to the nearest bfloat16, ties to even (see the class remarks),
    /// into <paramref name="destination"/>. NaN and ±∞ are propagated.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void ToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        Length(destination.Length, source.Length, nameof(destination));
        for (int k = 0; k < source.Length; k++) destination[k] = ToBFloat16(source[k]);
    }

    /// <summary>Widens every bfloat16 of <paramref name="source"/> to float32 (exact) into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void FromBFloat16(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        Length(destination.Length, source.Length, nameof(destination));
        for (int k = 0; k < source.Length; k++) destination[k] = FromBFloat16(source[k]);
    }

    /// <summary>
    /// Quantizes the row-major <paramref name="rows"/> × <paramref name="cols"/> matrix <paramref name="w"/> to int8
    /// with one scale per row: <c>s_r = max_j |w_rj| / 127</c> (float32), <c>q_rj = round-half-to-even(w_rj / s_r)</c>
    /// clamped to [−127, 127]; a row of zeros gets <c>s_r = 0</c>, <c>q = 0</c> (see the class remarks). The effective
    /// weight is <c>q_rj · s_r</c>.
    /// </summary>
    /// <param name="w">The fp32 matrix, <paramref name="rows"/> × <paramref name="cols"/>, row-major; every element finite.</param>
    /// <param name="rows">The number of rows (≥ 0).</param>
    /// <param name="cols">The number of columns (≥ 0).</param>
    /// <param name="q">The int8 matrix, same shape and layout.</param>
    /// <param name="scales">The per-row scales, length <paramref name="rows"/>.</param>
    /// <exception cref="ArgumentException">
    /// A length does not match the shape, or an element of <paramref name="w"/> is NaN or ±∞ (the message names the
    /// first one's row and column). Nothing is written then.
    /// </exception>
    public static void QuantizeRows(ReadOnlySpan<float> w, int rows, int cols, Span<sbyte> q, Span<float> scales)
    {
        Guard.NonNegative(rows, nameof(rows));
        Guard.NonNegative(cols, nameof(cols));
        long size = (long)rows * cols;
        Length(w.Length, size, nameof(w));
        Length(q.Length, size, nameof(q));
        Length(scales.Length, rows, nameof(scales));

        // Refuse before writing anything: the first non-finite element in row-major order.
        for (int k = 0; k < w.Length; k++)
        {
            if (!float.IsFinite(w[k]))
            {
                throw new ArgumentException(
                    $"Element at row {k / cols}, column {k % cols} is {w[k]}: int8 weights need finite values (an infinity makes the row's scale infinite; NaN has no int8 form). Use the fp32 or bf16 weights instead.",
                    nameof(w));
            }
        }

        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = w.Slice(r * cols, cols);
            Span<sbyte> qRow = q.Slice(r * cols, cols);

            // s_r = max_j |w_rj| / 127, in float32.
            float max = 0f;
            foreach (float v in row) max = Math.Max(max, Math.Abs(v));
            float scale = max / Int8Limit;
            scales[r] = scale;
            if (scale == 0f)
            {
                // A zero row (or one whose scale underflows): q = 0.
                qRow.Clear();
                continue;
            }

            // q_rj = round-half-to-even(w_rj / s_r), the quotient in double (exact enough to round and find ties as
            // the real quotient would), clamped to [−127, 127].
            double divisor = scale;
            for (int j = 0; j < cols; j++)
            {
                double rounded = Math.Round(row[j] / divisor, MidpointRounding.ToEven);
                qRow[j] = (sbyte)Math.Clamp(rounded, -Int8Limit, Int8Limit);
            }
        }
    }

    private static void Length(int actual, long expected, string name)
    {
        if (actual != expected)
            throw new ArgumentException($"Expected length {expected}, got {actual}.", name);
    }
}
