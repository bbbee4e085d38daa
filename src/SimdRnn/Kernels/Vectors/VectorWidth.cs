using System.Numerics;
using System.Runtime.Intrinsics;

namespace SimdRnn.Kernels.Vectors;

/// <summary>A kernel's vector width.</summary>
internal enum Width
{
    /// <summary>One lane: <see cref="ScalarFloat"/>.</summary>
    Scalar,

    /// <summary>4 lanes: <see cref="Float128"/>.</summary>
    Bits128,

    /// <summary><see cref="Vector{T}"/>'s width: <see cref="FloatVector"/> (256 bits on x64).</summary>
    VectorT,

    /// <summary>16 lanes: <see cref="Float512"/>.</summary>
    Bits512,
}

/// <summary>
/// Which width the kernels run at. The widest width the hardware accelerates is chosen once per process
/// (<c>Vector512</c> where the runtime reports it accelerated, which it does not on CPUs that slow down for
/// 512-bit work, then <c>Vector&lt;T&gt;</c>, then 128 bits, then one lane), unless the environment variable
/// <c>SIMDRNN_VECTOR_WIDTH</c> = <c>512</c>, <c>256</c>, <c>128</c> or <c>1</c> caps it (for tests and benchmarks;
/// a width the machine lacks falls back to the next narrower one it has). Each kernel call then takes the widest
/// allowed width whose vector fits its length (<see cref="For"/>): the choice is made once per call, never per element.
/// </summary>
internal static class VectorWidth
{
    /// <summary>The environment variable that caps the width.</summary>
    public const string EnvironmentVariable = "SIMDRNN_VECTOR_WIDTH";

    /// <summary>Runs <paramref name="call"/> at <paramref name="width"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static void Run<TCall>(Width width, ref TCall call) where TCall : IWidthCall, allows ref struct
    {
        switch (width)
        {
            case Width.Bits512: call.Run<Float512>(); break;
            case Width.VectorT: call.Run<FloatVector>(); break;
            case Width.Bits128: call.Run<Float128>(); break;
            default: call.Run<ScalarFloat>(); break;
        }
    }

    /// <summary>The widths this machine accelerates, widest first (the scalar width always).</summary>
    public static IReadOnlyList<Width> Supported { get; } = ListSupported();

    /// <summary>The widest width kernels may use in this process.</summary>
    public static Width Maximum { get; } = Choose(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>The lanes of <paramref name="width"/>.</summary>
    public static int Lanes(Width width) => width switch
    {
        Width.Bits512 => Float512.Count,
        Width.VectorT => FloatVector.Count,
        Width.Bits128 => Float128.Count,
        _ => 1,
    };

    /// <summary>The bits of <paramref name="width"/> (32 for one float lane).</summary>
    public static int Bits(Width width) => 32 * Lanes(width);

    /// <summary>The widest allowed width whose vector holds at most <paramref name="length"/> floats.</summary>
    public static Width For(int length)
    {
        Width w = Maximum;
        while (w != Width.Scalar && Lanes(w) > length) w = Narrower(w);
        return w;
    }

    /// <summary>The widest supported width of at most <paramref name="requested"/> bits (the widest of all when unset or not a number).</summary>
    internal static Width Choose(string? requested)
    {
        if (!int.TryParse(requested, out int bits) || bits < 1) return Supported[0];
        foreach (var w in Supported)
            if (w == Width.Scalar || Bits(w) <= bits) return w;
        return Width.Scalar;
    }

    private static Width Narrower(Width w)
    {
        for (int k = 0; k < Supported.Count - 1; k++)
            if (Supported[k] == w) return Supported[k + 1];
        return Width.Scalar;
    }

    private static Width[] ListSupported()
    {
        var list = new List<Width>(4);
        if (Float512.IsHardwareAccelerated && FloatVector.Count < Float512.Count) list.Add(Width.Bits512);
        if (FloatVector.IsHardwareAccelerated) list.Add(Width.VectorT);
        if (Float128.IsHardwareAccelerated && FloatVector.Count != Float128.Count) list.Add(Width.Bits128);
        list.Add(Width.Scalar);
        return [.. list];
    }
}

/// <summary>
/// A kernel call with its arguments bound, run at a width chosen by <see cref="VectorWidth.Run{TCall}"/>: the one
/// place where a width becomes a type argument.
/// </summary>
internal interface IWidthCall
{
    void Run<TVector>() where TVector : struct, IFloatVector<TVector>;
}

