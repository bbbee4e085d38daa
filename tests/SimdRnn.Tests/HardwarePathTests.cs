using System.Numerics;
using System.Runtime.Intrinsics;
using SimdRnn.Kernels.Vectors;
using Xunit.Abstractions;

namespace SimdRnn.Tests;

/// <summary>
/// Says which kernel width this process runs at, and checks it against what was asked for: CI reruns the suite with
/// SIMDRNN_VECTOR_WIDTH = 256, 128 and 1 after the run at the machine's widest width, once with
/// DOTNET_EnableHWIntrinsic=0 (no hardware vectors at all), and runs the kernel tests of a linux-arm64 build under
/// emulation (Vector&lt;T&gt; = 4 lanes). A run that silently fell back to another width would test the wrong path.
/// </summary>
[Trait("Category", "Kernels")]
public class HardwarePathTests(ITestOutputHelper output)
{
    [Fact]
    public void The_kernel_width_is_the_one_asked_for()
    {
        string? requested = Environment.GetEnvironmentVariable(VectorWidth.EnvironmentVariable);
        output.WriteLine($"{VectorWidth.EnvironmentVariable}={requested ?? "(unset)"}: kernels at {VectorWidth.Maximum} " +
                         $"({VectorWidth.Bits(VectorWidth.Maximum)} bits), supported [{string.Join(", ", VectorWidth.Supported)}]; " +
                         $"Vector<float>.Count={Vector<float>.Count}, accelerated: Vector={Vector.IsHardwareAccelerated}, " +
                         $"Vector128={Vector128.IsHardwareAccelerated}, Vector256={Vector256.IsHardwareAccelerated}, Vector512={Vector512.IsHardwareAccelerated}");

        // The widths the runtime accelerates here, in bits, read from the runtime and not from VectorWidth: 512 where
        // Vector512 is accelerated (and wider than Vector<T>), Vector<T>'s width, 128, and the 32-bit scalar lane.
        var hardware = new List<int>();
        if (Vector512.IsHardwareAccelerated && Vector<float>.Count < 16) hardware.Add(512);
        if (Vector.IsHardwareAccelerated) hardware.Add(32 * Vector<float>.Count);
        if (Vector128.IsHardwareAccelerated && !hardware.Contains(128)) hardware.Add(128);
        hardware.Add(32);
        Assert.Equal(hardware, VectorWidth.Supported.Select(VectorWidth.Bits));

        // The maximum is the widest of them within the requested bits (all of them when nothing is requested).
        int cap = int.TryParse(requested, out int bits) && bits >= 1 ? bits : int.MaxValue;
        int expected = hardware.Where(b => b <= cap).DefaultIfEmpty(32).Max();
        Assert.Equal(expected, VectorWidth.Bits(VectorWidth.Maximum));

        // CI asks only for widths the machine has, so there the width must be exactly the requested one.
        if (Environment.GetEnvironmentVariable("SIMDRNN_EXPECT_EXACT_WIDTH") == "1" && cap != int.MaxValue)
            Assert.Equal(cap == 1 ? 32 : cap, VectorWidth.Bits(VectorWidth.Maximum));
    }

    [Fact]
    public void The_runtime_switches_are_in_force()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0")
        {
            // The software-vector fallback: nothing accelerated, every kernel on its one-lane twin.
            Assert.False(Vector.IsHardwareAccelerated);
            Assert.Equal([Width.Scalar], VectorWidth.Supported);
            Assert.Equal(Width.Scalar, VectorWidth.Maximum);
        }
        else if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            Assert.Equal(8, Vector<float>.Count);
        }
        else if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported)
        {
            Assert.Equal(4, Vector<float>.Count);
        }
    }
}
