using SimdRnn.Kernels.Vectors;

namespace SimdRnn.Kernels;

/// <summary>How a <see cref="PackedMatrix"/> stores its elements (issue 11's recipes: <see cref="WeightQuantization"/>).</summary>
internal enum WeightFormat
{
    /// <summary>IEEE float32, exactly the master weights; no per-row scales.</summary>
    Float32,

    /// <summary>Each master element rounded to the nearest bfloat16, ties to even; no per-row scales.</summary>
    BFloat16,

    /// <summary>Symmetric int8 with one float32 scale per row: <c>s_r = max_j |w_rj| / 127</c>, <c>q_rj = round-half-to-even(w_rj / s_r)</c>.</summary>
    Int8,
}

/// <summary>
/// One weight matrix W [rows, cols] as the kernels stream it: its <see cref="Format"/>, the elements in that format
/// starting on a 64-byte boundary — row-major as PyTorch orders them (row i at <c>i·cols</c>) for fp32 and int8, in the
/// paired column layout for bf16 (<see cref="Gemv.PairedLength"/>: panels of rows, a 32-bit word per row and pair of
/// columns) — the per-row scales (<see cref="WeightFormat.Int8"/> only), and — only where a path uses them — fp32
/// copies of the effective weights: the transposed copy Wᵀ [cols, rows] and, for the reduced formats, the row-major
/// dequantized W.
/// </summary>
/// <remarks>
/// <para>
/// The effective weights are the values a format stands for: the master itself (fp32), the bfloat16 value widened
/// exactly (bf16), or <c>q_rj·s_r</c> rounded once to float32 (int8; the recipe's real product up to one float32
/// rounding, the same rounding the GEMV kernel's "apply s_r after the dot product" makes in another place).
/// </para>
/// <para>
/// One-row products (a streaming step of one stream, every recurrent step of a one-sequence run) read the stored
/// format through the GEMV kernels — fp32, or the reduced-precision ones that widen bf16/int8 in registers: those
/// products stream every weight once per step and are bound by memory, which the smaller format relieves. Multi-row
/// products <c>X·Wᵀ</c> (the input projection over T·B rows, batches) run on the fp32 GEMM kernels over the effective
/// weights' transposed copy (see <see cref="MatrixProducts.Multiply"/>): with more than one row they run as
/// <c>X·(Wᵀ)</c> on the kernel that broadcasts X and streams whole vectors of Wᵀ, 15–70% faster here than the
/// dot-product form over W's rows (docs/benchmarks.md), and they reuse each weight across rows, so they are not bound
/// by its size. A block of W's rows with more than one input row (<see cref="MatrixProducts.MultiplyRows"/>) is a block
/// of columns of the same transposed copy, on the same kernel. An int8 matrix with <see cref="QuantizesInputs"/> is the
/// exception: every product, one row or many, runs the int8×int16 integer kernels over the stored bytes, and it never
/// gets a float copy.
/// </para>
/// <para>
/// The fp32 copies are made on first use, lock-free: concurrent first users may each build one, one wins the
/// compare-exchange, and all see the same bits; after that, reading them allocates nothing. A matrix only ever used
/// one row at a time never gets them.
/// </para>
/// <para>
/// A matrix is immutable once shared: a network builds its own from its parameters and never changes them. The one
/// exception is <see cref="Refresh"/>, for the private fp32 copies a trainer owns and rewrites after each update (no
/// other thread sees those).
/// </para>
/// </remarks>
internal sealed class PackedMatrix
{
    private readonly AlignedFloats? _float32;
    private readonly AlignedBuffer<ushort>? _bfloat16;   // the paired column layout, panels of _panelRows rows
    private readonly int _panelRows;
    private readonly AlignedBuffer<sbyte>? _int8;
    private readonly float[] _scales;
    private AlignedFloats? _effective, _transposed;
    private AlignedBuffer<sbyte>? _int8Transposed;
    private readonly AlignedFloats?[] _panels = new AlignedFloats?[7]; // by log2 of the lanes: 1 … 64

    private PackedMatrix(WeightFormat format, int rows, int cols, AlignedFloats? float32, AlignedBuffer<ushort>? bfloat16, AlignedBuffer<sbyte>? int8, float[] scales,
        bool quantizesInputs = false)
    {
        Format = format;
        QuantizesInputs = quantizesInputs;
        Rows = rows;
        Cols = cols;
        _float32 = float32;
        _bfloat16 = bfloat16;
        _panelRows = Gemv.PairedPanelRows(VectorWidth.Maximum);
        _int8 = int8;
        _scales = scales;
        MatrixProducts.ReserveZeros(rows); // an overwriting product with this matrix starts from that many zeros
    }

    /// <summary>A <see cref="WeightFormat.Float32"/> matrix holding a copy of <paramref name="master"/> [rows, cols], row-major.</summary>
    /// <exception cref="ArgumentException">The length is not rows·cols, or a dimension is negative.</exception>
    public static PackedMatrix FromFloat32(ReadOnlySpan<float> master, int rows, int cols)
    {
        CheckShape(master, rows, cols);
        return new PackedMatrix(WeightFormat.Float32, rows, cols, new AlignedFloats(master), null, null, []);
    }

    /// <summary>
    /// A matrix of <paramref name="format"/> made from the fp32 <paramref name="master"/> [rows, cols] by that format's
    /// recipe (<see cref="WeightQuantization"/>).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The length is not rows·cols, a dimension is negative, or (int8) an element is NaN or ±∞ (the message names its
    /// row and column).
    /// </exception>
    public static PackedMatrix From(WeightFormat format, ReadOnlySpan<float> master, int rows, int cols)
    {
        switch (format)
        {
            case WeightFormat.Float32:
                return FromFloat32(master, rows, cols);
            case WeightFormat.BFloat16:
            {
                CheckShape(master, rows, cols);
                return FromBFloat16Rows(master, rows, cols);
            }
            case WeightFormat.Int8:
            {
                CheckShape(master, rows, cols);
                var q = new AlignedBuffer<sbyte>(rows * cols, Gemv.Int8ReadSlack);
                var scales = new float[rows];
                WeightQuantization.QuantizeRows(master, rows, cols, q.Span, scales);
                return new PackedMatrix(format, rows, cols, null, null, q, scales);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "Not a weight format.");
        }
    }

    /// <summary>
    /// A matrix of the same format holding rows [block·stride + first, block·stride + first + count) of this one for
    /// block = 0 … blocks − 1, one block after another — a worker's rows of every gate. The stored elements (and
    /// int8 row scales) are copied as they are, so the slice's effective weights are this matrix's, bit for bit.
    /// </summary>
    public PackedMatrix GatherRows(int blocks, int stride, int first, int count)
    {
        int rows = blocks * count, n = Cols;
        switch (Format)
        {
            case WeightFormat.BFloat16:
            {
                // The rows' effective values are bfloat16 values, which round to themselves: repacking them is exact.
                var gathered = new float[rows * n];
                for (int b = 0; b < blocks; b++)
                    for (int r = 0; r < count; r++)
                        for (int j = 0; j < n; j++)
                            gathered[(b * count + r) * n + j] = Effective(b * stride + first + r, j);
                return FromBFloat16Rows(gathered, rows, n);
            }
            case WeightFormat.Int8:
            {
                var q = new AlignedBuffer<sbyte>(rows * n, Gemv.Int8ReadSlack);
                var scales = new float[rows];
                for (int b = 0; b < blocks; b++)
                {
                    Int8Data.Slice((b * stride + first) * n, count * n).CopyTo(q.Span.Slice(b * count * n, count * n));
                    RowScales.Slice(b * stride + first, count).CopyTo(scales.AsSpan(b * count, count));
                }
                return new PackedMatrix(Format, rows, n, null, null, q, scales, QuantizesInputs);
            }
            default:
            {
                var data = new AlignedFloats(rows * n);
                for (int b = 0; b < blocks; b++)
                    Data.Slice((b * stride + first) * n, count * n).CopyTo(data.Span.Slice(b * count * n, count * n));
                return new PackedMatrix(Format, rows, n, data, null, null, []);
            }
        }
    }

    /// <summary>How the elements are stored.</summary>
    public WeightFormat Format { get; }

    /// <summary>
    /// Whether products with this (<see cref="WeightFormat.Int8"/>) matrix quantize each input row to int16 first and
    /// sum in integers (<see cref="Gemv.MultiplyAccumulateInt8QuantizedInputUnchecked"/>; every matrix of the
    /// <c>Int8WithInt16Activations</c> precision), in every path, one row or many.
    /// </summary>
    public bool QuantizesInputs { get; }

    /// <summary>
    /// This int8 matrix (the same stored elements and scales, shared) with <see cref="QuantizesInputs"/> set.
    /// </summary>
    /// <exception cref="InvalidOperationException">The matrix is not <see cref="WeightFormat.Int8"/>.</exception>
    public PackedMatrix WithQuantizedInputs()
    {
        if (Format != WeightFormat.Int8 || _int8 is null) throw new InvalidOperationException("Only int8 matrices quantize their inputs.");
        // The integer kernels read rows in whole vectors past their end: every int8 buffer is allocated with this slack.
        if (_int8.Slack < Gemv.Int8ReadSlack) throw new InvalidOperationException("The int8 elements lack the kernels' read slack.");
        return QuantizesInputs ? this : new PackedMatrix(Format, Rows, Cols, null, null, _int8, _scales, quantizesInputs: true);
    }

    /// <summary>The number of rows (outputs of <c>W·x</c>).</summary>
    public int Rows { get; }

    /// <summary>The number of columns (inputs of <c>W·x</c>).</summary>
    public int Cols { get; }

    /// <summary>
    /// The effective weights [rows, cols] as float32, row-major, 64-byte aligned: for <see cref="WeightFormat.Float32"/>
    /// the stored elements themselves; for the reduced formats a dequantized copy made on first use, then kept.
    /// </summary>
    public ReadOnlySpan<float> Data => (_float32 ?? Volatile.Read(ref _effective) ?? BuildEffective()).Span;

    /// <summary>
    /// The bfloat16 bits in the paired column layout with panels of <see cref="PanelRows"/> rows
    /// (<see cref="Gemv.PairedLength"/>), 64-byte aligned (<see cref="WeightFormat.BFloat16"/>; empty otherwise).
    /// </summary>
    public ReadOnlySpan<ushort> PairedBFloat16Data => _bfloat16 is null ? default : _bfloat16.Span;

    /// <summary>
    /// The rows of a panel of <see cref="PairedBFloat16Data"/>: eight vectors of the widest width this process runs
    /// (<see cref="VectorWidth.Maximum"/>), fixed when the matrix is built.
    /// </summary>
    public int PanelRows => _panelRows;

    /// <summary>The int8 weights q [rows, cols], row-major, 64-byte aligned (<see cref="WeightFormat.Int8"/>; empty otherwise).</summary>
    public ReadOnlySpan<sbyte> Int8Data => _int8 is null ? default : _int8.Span;

    /// <summary>One scale per row for <see cref="WeightFormat.Int8"/> (effective weight <c>q_rj·s_r</c>); empty for the other formats.</summary>
    public ReadOnlySpan<float> RowScales => _scales;

    /// <summary>The bytes the stored format takes (elements plus scales), what a one-row product streams per call.</summary>
    public long StoredBytes => Format switch
    {
        WeightFormat.BFloat16 => 2L * Gemv.PairedLength(Rows, Cols), // an odd column count pads each row by one half
        WeightFormat.Int8 => (long)Rows * Cols + 4L * Rows,
        _ => 4L * Rows * Cols,
    };

    /// <summary>Whether the transposed copy has been made (by a path that used it).</summary>
    public bool HasTransposed => Volatile.Read(ref _transposed) is not null;

    /// <summary>Whether the row-major dequantized copy has been made (reduced formats; a path that used <see cref="Data"/>).</summary>
    public bool HasEffective => Volatile.Read(ref _effective) is not null;

    /// <summary>The effective weights transposed, Wᵀ [cols, rows], row-major, 64-byte aligned; made on first use, then kept.</summary>
    public ReadOnlySpan<float> Transposed => (Volatile.Read(ref _transposed) ?? BuildTransposed()).Span;

    /// <summary>
    /// The transposed copy's full slivers pre-packed for the broadcast GEMM kernel at <paramref name="lanes"/> lanes
    /// (<see cref="Gemm.BuildPanels"/>), so that multi-row products read them instead of copying a sliver per row
    /// block; made on first use at that width, then kept.
    /// </summary>
    public ReadOnlySpan<float> Panels(int lanes)
    {
        int slot = System.Numerics.BitOperations.Log2((uint)lanes);
        return (Volatile.Read(ref _panels[slot]) ?? BuildPanels(slot, lanes)).Span;
    }

    /// <summary>Whether the panels for <paramref name="lanes"/> lanes have been made.</summary>
    public bool HasPanels(int lanes) => Volatile.Read(ref _panels[System.Numerics.BitOperations.Log2((uint)lanes)]) is not null;

    private AlignedFloats BuildPanels(int slot, int lanes)
    {
        var built = new AlignedFloats(Gemm.PanelLength(lanes, Cols, Rows));
        Gemm.BuildPanels(lanes, Transposed, Cols, Rows, built.Span);
        // Publish once: a thread that lost the race uses the winner's copy (identical bits) and drops its own.
        return Interlocked.CompareExchange(ref _panels[slot], built, null) ?? built;
    }

    /// <summary>
    /// An int8 matrix's stored elements transposed, qᵀ [cols, rows], row-major, 64-byte aligned (column r has the scale
    /// <see cref="RowScales"/>[r]); made on first use, then kept. Empty for the other formats.
    /// </summary>
    public ReadOnlySpan<sbyte> Int8Transposed => _int8 is null ? default : (Volatile.Read(ref _int8Transposed) ?? BuildInt8Transposed()).Span;

    /// <summary>
    /// Rewrites the elements from new master values (and the transposed copy and its panels, if made), allocating nothing.
    /// Only for a private <see cref="WeightFormat.Float32"/> copy no other thread reads (a trainer's weights after an update).
    /// </summary>
    /// <exception cref="InvalidOperationException">The matrix is not <see cref="WeightFormat.Float32"/> (trainers keep fp32 weights).</exception>
    public void Refresh(ReadOnlySpan<float> master)
    {
        if (_float32 is null) throw new InvalidOperationException($"Only float32 weights are refreshed in place; this matrix is {Format}.");
        master.Slice(0, Rows * Cols).CopyTo(_float32.Span);
        if (_transposed is { } transposed)
        {
            Transpose(_float32.Span, Rows, Cols, transposed.Span);
            for (int slot = 0; slot < _panels.Length; slot++)
                if (_panels[slot] is { } panels) Gemm.BuildPanels(1 << slot, transposed.Span, Cols, Rows, panels.Span);
        }
    }

    /// <summary>The effective value of element (row, col) (for tests and tools; not a hot path).</summary>
    public float Effective(int row, int col) => Format switch
    {
        WeightFormat.BFloat16 => WeightQuantization.FromBFloat16(_bfloat16!.Span[Gemv.PairedIndex(Rows, Cols, _panelRows, row, col)]),
        WeightFormat.Int8 => _int8!.Span[row * Cols + col] * _scales[row],
        _ => _float32!.Span[row * Cols + col],
    };

    /// <summary>
    /// bf16 of row-major <paramref name="master"/>: each element rounded to the nearest bfloat16 (ties to even), stored in
    /// the paired column layout (an odd last column's high halves stay zero).
    /// </summary>
    private static PackedMatrix FromBFloat16Rows(ReadOnlySpan<float> master, int rows, int cols)
    {
        var bits = new AlignedBuffer<ushort>(Gemv.PairedLength(rows, cols));
        var matrix = new PackedMatrix(WeightFormat.BFloat16, rows, cols, null, bits, null, []);
        Span<ushort> paired = bits.Span;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++)
                paired[Gemv.PairedIndex(rows, cols, matrix._panelRows, r, j)] = WeightQuantization.ToBFloat16(master[r * cols + j]);
        return matrix;
    }

    private static void CheckShape(ReadOnlySpan<float> master, int rows, int cols)
    {
        Guard.NonNegative(rows, nameof(rows));
        Guard.NonNegative(cols, nameof(cols));
        Guard.Length(master, (long)rows * cols, nameof(master));
    }

    private AlignedFloats BuildEffective()
    {
        var built = new AlignedFloats(Rows * Cols);
        Dequantize(built.Span);
        // Publish once: a thread that lost the race uses the winner's copy (identical bits) and drops its own.
        return Interlocked.CompareExchange(ref _effective, built, null) ?? built;
    }

    /// <summary>destination[r, j] = the effective weight (r, j): bf16 widened exactly, or float32(q_rj·s_r).</summary>
    private void Dequantize(Span<float> destination)
    {
        if (_bfloat16 is not null)
        {
            ReadOnlySpan<ushort> bits = _bfloat16.Span;
            for (int r = 0; r < Rows; r++)
                for (int j = 0; j < Cols; j++)
                    destination[r * Cols + j] = WeightQuantization.FromBFloat16(bits[Gemv.PairedIndex(Rows, Cols, _panelRows, r, j)]);
            return;
        }
        ReadOnlySpan<sbyte> q = _int8!.Span;
        for (int r = 0; r < Rows; r++)
        {
            float scale = _scales[r];
            for (int j = 0; j < Cols; j++) destination[r * Cols + j] = q[r * Cols + j] * scale;
        }
    }

    private AlignedFloats BuildTransposed()
    {
        var built = new AlignedFloats(Rows * Cols);
        if (_float32 is not null)
        {
            Transpose(_float32.Span, Rows, Cols, built.Span);
        }
        else
        {
            // Dequantize into a scratch row-major copy (not kept: the transposed copy is all multi-row X·Wᵀ needs).
            var effective = Volatile.Read(ref _effective);
            if (effective is not null)
            {
                Transpose(effective.Span, Rows, Cols, built.Span);
            }
            else
            {
                var scratch = new float[Rows * Cols];
                Dequantize(scratch);
                Transpose(scratch, Rows, Cols, built.Span);
            }
        }
        // Publish once: a thread that lost the race uses the winner's copy (identical bits) and drops its own.
        return Interlocked.CompareExchange(ref _transposed, built, null) ?? built;
    }

    private AlignedBuffer<sbyte> BuildInt8Transposed()
    {
        var built = new AlignedBuffer<sbyte>(Rows * Cols);
        Transpose<sbyte>(_int8!.Span, Rows, Cols, built.Span);
        // Publish once: a thread that lost the race uses the winner's copy (identical bytes) and drops its own.
        return Interlocked.CompareExchange(ref _int8Transposed, built, null) ?? built;
    }

    /// <summary>destination[j, i] = source[i, j] for a rows × cols source.</summary>
    private static void Transpose<T>(ReadOnlySpan<T> source, int rows, int cols, Span<T> destination) where T : unmanaged
    {
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<T> row = source.Slice(i * cols, cols);
            for (int j = 0; j < cols; j++) destination[j * rows + i] = row[j];
        }
    }
}
