using Edu.Abstractions.Errors;
using Edu.Models.Runtime;
using TorchSharp;

namespace Edu.Models.Tests.Runtime;

/// <summary>The <c>--precision</c> values and which device/CPU/dimensionality each is offered on.</summary>
public sealed class PrecisionsTests
{
    private static CpuInfo Cpu(string flags) => CpuInfo.Parse($"vendor_id\t: GenuineIntel\nmodel name\t: Test CPU\nflags\t\t: {flags}\n", null);

    [Theory]
    [InlineData("fp32", TrainingPrecision.Float32)]
    [InlineData("BF16", TrainingPrecision.BFloat16)]
    [InlineData("bfloat16", TrainingPrecision.BFloat16)]
    [InlineData(" fp16 ", TrainingPrecision.Float16)]
    public void Known_values_parse(string text, TrainingPrecision expected)
    {
        Assert.Equal(expected, Precisions.Parse(text));
        Assert.Equal(expected, Precisions.Parse(Precisions.Name(expected))); // the name written to options.json reads back
    }

    [Theory]
    [InlineData("fp8")]
    [InlineData("half")]
    [InlineData("")]
    [InlineData(null)]
    public void Unknown_values_are_refused_naming_the_option_and_the_known_values(string? text)
    {
        var e = Assert.Throws<InvalidInputException>(() => Precisions.Parse(text, "precision"));
        Assert.Equal("precision", e.Input);
        Assert.Contains("fp32, bf16, fp16", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fp16_on_a_cpu_without_float16_arithmetic_is_refused_and_allowed_where_it_has_it()
    {
        var zen4 = Cpu("sse4_1 avx avx2 fma avx512f avx512bw avx512vl avx512dq avx512_vnni avx512_bf16");
        var e = Assert.Throws<InvalidInputException>(() => Precisions.CheckSupported(TrainingPrecision.Float16, DeviceType.CPU, zen4, 2));
        Assert.Contains("bf16", e.Problem, StringComparison.Ordinal);
        Precisions.CheckSupported(TrainingPrecision.Float16, DeviceType.CPU, Cpu("avx2 fma avx512f avx512_fp16"), 2);
        Precisions.CheckSupported(TrainingPrecision.Float16, DeviceType.CUDA, zen4, 3);
        Precisions.CheckSupported(TrainingPrecision.BFloat16, DeviceType.CPU, zen4, 2);
        Precisions.CheckSupported(TrainingPrecision.BFloat16, DeviceType.CPU, zen4); // dimensionality not known yet
    }

    [Fact]
    public void Reduced_precision_3d_training_on_the_cpu_is_refused()
    {
        var cpu = Cpu("avx2 fma avx512f avx512bw avx512vl avx512dq avx512_bf16 amx_tile amx_int8 amx_bf16");
        var e = Assert.Throws<InvalidInputException>(() => Precisions.CheckSupported(TrainingPrecision.BFloat16, DeviceType.CPU, cpu, 3));
        Assert.Equal("--precision", e.Input);
        Assert.Contains("3-D", e.Problem, StringComparison.Ordinal);
        Precisions.CheckSupported(TrainingPrecision.Float32, DeviceType.CPU, cpu, 3);
        Precisions.CheckSupported(TrainingPrecision.BFloat16, DeviceType.CUDA, cpu, 3);
    }
}
