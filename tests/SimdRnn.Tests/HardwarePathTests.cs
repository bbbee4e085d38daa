using System.Numerics;
using System.Runtime.Intrinsics;
using Xunit.Abstractions;

namespace SimdRnn.Tests;

/// <summary>
/// Says which kernel path this process runs, and checks it against the environment: CI reruns the kernel tests
/// in child processes with DOTNET_EnableAVX2=0 (4-lane vectors) and DOTNET_EnableHWIntrinsic=0 (scalar twins).
/// </summary>
[Trait("Category", "Kernels")]
public class HardwarePathTests(ITestOutputHelper output)
{
    [Fact]
    public void The_vector_width_follows_the_runtime_switches()
    {
        output.WriteLine($"Vector.IsHardwareAccelerated={Vector.IsHardwareAccelerated}, Vector<float>.Count={Vector<float>.Count}, " +
                         $"Vector256 accelerated={Vector256.IsHardwareAccelerated}, FMA={System.Runtime.Intrinsics.X86.Fma.IsSupported}");
        if (Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0")
            Assert.False(Vector.IsHardwareAccelerated);
        else if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX2") == "0")
            Assert.Equal(4, Vector<float>.Count);
        else if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            Assert.Equal(8, Vector<float>.Count);
    }
}
