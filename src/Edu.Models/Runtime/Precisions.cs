using Edu.Abstractions.Errors;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Runtime;

/// <summary>Names, parsing and the device rules of <see cref="TrainingPrecision"/>.</summary>
public static class Precisions
{
    /// <summary>The values users write: <c>fp32</c>, <c>bf16</c>, <c>fp16</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["fp32", "bf16", "fp16"];

    /// <summary>The option value for <paramref name="precision"/>.</summary>
    public static string Name(TrainingPrecision precision) => precision switch
    {
        TrainingPrecision.BFloat16 => "bf16",
        TrainingPrecision.Float16 => "fp16",
        _ => "fp32",
    };

    /// <summary>
    /// Parses <c>fp32</c>, <c>bf16</c>, <c>fp16</c> (also <c>float32</c>, <c>bfloat16</c>, <c>float16</c>, any case); anything else
    /// is an <see cref="InvalidInputException"/> naming <paramref name="input"/> and the values known.
    /// </summary>
    public static TrainingPrecision Parse(string? text, string input = "--precision") => text?.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" => TrainingPrecision.Float32,
        "bf16" or "bfloat16" => TrainingPrecision.BFloat16,
        "fp16" or "float16" => TrainingPrecision.Float16,
        _ => throw new InvalidInputException(input, $"'{text}' is not a precision: use {string.Join(", ", Names)}"),
    };

    /// <summary>The dtype autocast runs the forward pass in; null for float32 (no autocast).</summary>
    public static ScalarType? AutocastDtype(TrainingPrecision precision) => precision switch
    {
        TrainingPrecision.BFloat16 => ScalarType.BFloat16,
        TrainingPrecision.Float16 => ScalarType.Float16,
        _ => null,
    };

    /// <summary>
    /// Refuses, as an <see cref="InvalidInputException"/> naming <paramref name="input"/>, a precision the device cannot train
    /// right or usefully (docs/benchmarks.md, "Mixed precision on the CPU"; measured on an AMD EPYC Zen 4 with LibTorch 2.10):
    /// <list type="bullet">
    /// <item>float16 on a CPU without AVX512-FP16 or AMX-FP16: oneDNN falls back to reference kernels there, a 2-D U-Net
    /// step at 128², batch 4 took 17.6 s against 1.2 s in float32;</item>
    /// <item>bfloat16 for a 3-D net (<paramref name="spatialDims"/> = 3) on any CPU: the weight gradients of oneDNN 3.7's
    /// bfloat16 3-D convolutions (<c>jit_bf16:avx512_core_bf16, backward_weights</c>) were wrong, relative errors above 1
    /// in every step and values up to 1e36 or NaN now and then, while ATen's own bfloat16 kernels and oneDNN's 2-D ones
    /// agree with float32 to bfloat16 rounding. Not verified on other CPUs, so refused on all of them.</item>
    /// </list>
    /// <paramref name="spatialDims"/> null: the dimensionality is not known yet (checked again once it is).
    /// </summary>
    public static void CheckSupported(TrainingPrecision precision, DeviceType device, CpuInfo cpu, int? spatialDims = null, string input = "--precision")
    {
        ArgumentNullException.ThrowIfNull(cpu);
        if (device != DeviceType.CPU) return;
        if (precision == TrainingPrecision.Float16 && !HasFastFloat16(cpu))
            throw new InvalidInputException(input,
                "fp16 is not offered on this CPU: it has no AVX512-FP16 or AMX-FP16, and LibTorch's float16 convolutions there run " +
                "about 15× slower than float32; use bf16 (mixed precision without loss scaling) on the CPU, fp16 on CUDA");
        if (precision != TrainingPrecision.Float32 && spatialDims == 3)
            throw new InvalidInputException(input,
                $"{Name(precision)} is not offered for 3-D nets on the CPU: LibTorch 2.10's oneDNN computes wrong weight gradients for " +
                "bfloat16 3-D convolutions (measured: relative errors above 1, at times NaN; docs/benchmarks.md); train 3-D nets in " +
                "fp32 on the CPU, or in bf16/fp16 on CUDA (2-D nets, and 3-D data with --slices, train in bf16 on the CPU)");
    }

    /// <summary>The device type a <c>--device</c> value names (<c>cuda</c>, <c>cuda:N</c>: CUDA; anything else the CPU), without loading LibTorch.</summary>
    public static DeviceType DeviceTypeOf(string deviceSpec)
    {
        ArgumentNullException.ThrowIfNull(deviceSpec);
        return deviceSpec.Trim().StartsWith("cuda", StringComparison.OrdinalIgnoreCase) ? DeviceType.CUDA : DeviceType.CPU;
    }

    /// <summary>Whether the CPU has float16 arithmetic that oneDNN uses (AVX512-FP16, Intel Sapphire Rapids and later; AMX-FP16).</summary>
    public static bool HasFastFloat16(CpuInfo cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        return cpu.Flags.Contains("avx512_fp16") || cpu.Flags.Contains("amx_fp16");
    }
}
