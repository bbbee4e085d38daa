namespace SimdRnn.Interop;

/// <summary>
/// The element types a safetensors header may declare (its <c>dtype</c> strings). <see cref="SafetensorsFile"/> converts
/// the floating-point ones (<see cref="F16"/>, <see cref="BF16"/>, <see cref="F32"/>, <see cref="F64"/>) to float32; the
/// others are recognized (so a file holding them still opens) but not converted.
/// </summary>
#pragma warning disable CA1720 // the member names are the format's own type names
public enum SafetensorsDType
{
    /// <summary><c>BOOL</c>: one byte per element.</summary>
    Bool,

    /// <summary><c>U8</c>: unsigned 8-bit integer.</summary>
    U8,

    /// <summary><c>I8</c>: signed 8-bit integer.</summary>
    I8,

    /// <summary><c>F8_E5M2</c>: 8-bit float, 5 exponent and 2 mantissa bits.</summary>
    F8E5M2,

    /// <summary><c>F8_E4M3</c>: 8-bit float, 4 exponent and 3 mantissa bits.</summary>
    F8E4M3,

    /// <summary><c>I16</c>: signed 16-bit integer.</summary>
    I16,

    /// <summary><c>U16</c>: unsigned 16-bit integer.</summary>
    U16,

    /// <summary><c>F16</c>: IEEE 754 binary16 (<see cref="Half"/>).</summary>
    F16,

    /// <summary><c>BF16</c>: bfloat16, the high 16 bits of a float32.</summary>
    BF16,

    /// <summary><c>I32</c>: signed 32-bit integer.</summary>
    I32,

    /// <summary><c>U32</c>: unsigned 32-bit integer.</summary>
    U32,

    /// <summary><c>F32</c>: IEEE 754 binary32 (<see cref="float"/>).</summary>
    F32,

    /// <summary><c>F64</c>: IEEE 754 binary64 (<see cref="double"/>).</summary>
    F64,

    /// <summary><c>I64</c>: signed 64-bit integer.</summary>
    I64,

    /// <summary><c>U64</c>: unsigned 64-bit integer.</summary>
    U64,
}
#pragma warning restore CA1720

/// <summary>The format's names and sizes of <see cref="SafetensorsDType"/>.</summary>
internal static class SafetensorsDTypes
{
    public static int SizeOf(SafetensorsDType type) => type switch
    {
        SafetensorsDType.Bool or SafetensorsDType.U8 or SafetensorsDType.I8
            or SafetensorsDType.F8E5M2 or SafetensorsDType.F8E4M3 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.I64 or SafetensorsDType.U64 or SafetensorsDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not a safetensors dtype."),
    };

    public static string Name(SafetensorsDType type) => type switch
    {
        SafetensorsDType.Bool => "BOOL",
        SafetensorsDType.F8E5M2 => "F8_E5M2",
        SafetensorsDType.F8E4M3 => "F8_E4M3",
        _ => type.ToString(),
    };

    public static bool TryParse(string name, out SafetensorsDType type)
    {
        switch (name)
        {
            case "BOOL": type = SafetensorsDType.Bool; return true;
            case "U8": type = SafetensorsDType.U8; return true;
            case "I8": type = SafetensorsDType.I8; return true;
            case "F8_E5M2": type = SafetensorsDType.F8E5M2; return true;
            case "F8_E4M3": type = SafetensorsDType.F8E4M3; return true;
            case "I16": type = SafetensorsDType.I16; return true;
            case "U16": type = SafetensorsDType.U16; return true;
            case "F16": type = SafetensorsDType.F16; return true;
            case "BF16": type = SafetensorsDType.BF16; return true;
            case "I32": type = SafetensorsDType.I32; return true;
            case "U32": type = SafetensorsDType.U32; return true;
            case "F32": type = SafetensorsDType.F32; return true;
            case "F64": type = SafetensorsDType.F64; return true;
            case "I64": type = SafetensorsDType.I64; return true;
            case "U64": type = SafetensorsDType.U64; return true;
            default: type = default; return false;
        }
    }

    public static bool IsFloat(SafetensorsDType type) =>
        type is SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F32 or SafetensorsDType.F64;
}
