// Where this file lives: at the library's root, not in Interop/, because two layers throw it — the model readers in
// Interop (safetensors, PyTorch files) and the streaming-state snapshots in Networks (StateSerializer) — and Networks
// must not depend on Interop (the arrows point one way: kernels ← cells ← networks ← training/interop). Its namespace
// and full name stay SimdRnn.Interop.ModelFormatException: it is public API, and moving it to another namespace would
// break every caller's `using` and catch clause (source and binary compatibility). An internal base type would not
// help: callers catch this exact type. So the file moved; the type did not.
namespace SimdRnn.Interop;

/// <summary>
/// A model file is malformed: truncated, a header that is not what the format requires, a tensor whose declared type,
/// shape or location is invalid, or a tensor missing or of the wrong kind for what was asked. The message says what is
/// wrong and, where one is involved, names the tensor. I/O failures (a missing file, a read error) are not this type:
/// they surface as the <see cref="IOException"/> that caused them.
/// </summary>
public sealed class ModelFormatException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public ModelFormatException() : base("The model file is malformed.")
    {
    }

    /// <summary>Creates the exception with a message that says what is wrong.</summary>
    /// <param name="message">What is wrong, naming the tensor where one is involved.</param>
    public ModelFormatException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that revealed the problem.</summary>
    /// <param name="message">What is wrong, naming the tensor where one is involved.</param>
    /// <param name="innerException">The error that revealed the problem (for example a JSON syntax error).</param>
    public ModelFormatException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
