namespace SimdRnn.Kernels;

/// <summary>How a <see cref="PackedMatrix"/> stores its elements. Lower-precision formats are added as members.</summary>
internal enum WeightFormat
{
    /// <summary>IEEE float32, exactly the master weights; no per-row scales.</summary>
    Float32,
}

/// <summary>
/// One weight matrix W [rows, cols] as the kernels stream it: its <see cref="Format"/>, the row-major elements exactly as
/// PyTorch stores them (row i at <c>i·cols</c>) starting on a 64-byte boundary, room for per-row scales (empty for
/// <see cref="WeightFormat.Float32"/>), and — only where a path uses it — the transposed copy Wᵀ [cols, rows].
/// </summary>
/// <remarks>
/// <para>
/// The transposed copy serves the multi-row products <c>X·Wᵀ</c> (see <see cref="MatrixProducts.Multiply"/>): with
/// more than one row they run as <c>X·(Wᵀ)</c> on the GEMM kernel that broadcasts X and streams whole vectors of Wᵀ,
/// 15–70% faster here than the dot-product form over W's rows (docs/benchmarks.md). Single rows (a streaming step of
/// one stream) use W itself through GEMV, so a matrix only ever used that way never gets the copy. It is made on first
/// use, lock-free: concurrent first users may each build one, one wins the compare-exchange, and all see the same
/// bits; after that, reading it allocates nothing.
/// </para>
/// <para>
/// A matrix is immutable once shared: a network builds its own from its parameters and never changes them. The one
/// exception is <see cref="Refresh"/>, for the private copies a trainer owns and rewrites after each update (no other
/// thread sees those).
/// </para>
/// </remarks>
internal sealed class PackedMatrix
{
    private readonly AlignedFloats _data;
    private AlignedFloats? _transposed;

    private PackedMatrix(WeightFormat format, int rows, int cols, AlignedFloats data)
    {
        Format = format;
        Rows = rows;
        Cols = cols;
        _data = data;
    }

    /// <summary>A <see cref="WeightFormat.Float32"/> matrix holding a copy of <paramref name="master"/> [rows, cols], row-major.</summary>
    /// <exception cref="ArgumentException">The length is not rows·cols, or a dimension is negative.</exception>
    public static PackedMatrix FromFloat32(ReadOnlySpan<float> master, int rows, int cols)
    {
        Guard.NonNegative(rows, nameof(rows));
        Guard.NonNegative(cols, nameof(cols));
        Guard.Length(master, (long)rows * cols, nameof(master));
        return new PackedMatrix(WeightFormat.Float32, rows, cols, new AlignedFloats(master));
    }

    /// <summary>How the elements are stored.</summary>
    public WeightFormat Format { get; }

    /// <summary>The number of rows (outputs of <c>W·x</c>).</summary>
    public int Rows { get; }

    /// <summary>The number of columns (inputs of <c>W·x</c>).</summary>
    public int Cols { get; }

    /// <summary>The elements [rows, cols], row-major, 64-byte aligned (<see cref="WeightFormat.Float32"/>).</summary>
    public ReadOnlySpan<float> Data => _data.Span;

    /// <summary>One scale per row for formats that store scaled integers; empty for <see cref="WeightFormat.Float32"/>.</summary>
    public ReadOnlySpan<float> RowScales => ReadOnlySpan<float>.Empty;

    /// <summary>Whether the transposed copy has been made (by a path that used it).</summary>
    public bool HasTransposed => Volatile.Read(ref _transposed) is not null;

    /// <summary>Wᵀ [cols, rows], row-major, 64-byte aligned; made on first use, then kept.</summary>
    public ReadOnlySpan<float> Transposed => (Volatile.Read(ref _transposed) ?? BuildTransposed()).Span;

    /// <summary>
    /// Rewrites the elements from new master values (and the transposed copy, if one was made), allocating nothing.
    /// Only for a private copy no other thread reads (a trainer's weights after an update).
    /// </summary>
    public void Refresh(ReadOnlySpan<float> master)
    {
        master.Slice(0, Rows * Cols).CopyTo(_data.Span);
        if (_transposed is { } transposed) Transpose(_data.Span, Rows, Cols, transposed.Span);
    }

    private AlignedFloats BuildTransposed()
    {
        var built = new AlignedFloats(Rows * Cols);
        Transpose(_data.Span, Rows, Cols, built.Span);
        // Publish once: a thread that lost the race uses the winner's copy (identical bits) and drops its own.
        return Interlocked.CompareExchange(ref _transposed, built, null) ?? built;
    }

    /// <summary>destination[j, i] = source[i, j] for a rows × cols source.</summary>
    private static void Transpose(ReadOnlySpan<float> source, int rows, int cols, Span<float> destination)
    {
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> row = source.Slice(i * cols, cols);
            for (int j = 0; j < cols; j++) destination[j * rows + i] = row[j];
        }
    }
}
