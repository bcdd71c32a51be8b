using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Runtime;

/// <summary>How the channels of a 4-D (N,C,H,W) or 5-D (N,C,D,H,W) activation lie in memory.</summary>
public enum ActivationLayout
{
    /// <summary>NCHW / NCDHW, LibTorch's default: each channel a contiguous plane.</summary>
    ChannelsFirst,

    /// <summary>NHWC / NDHWC strides (PyTorch's <c>channels_last</c>, <c>channels_last_3d</c>): the channels of a voxel side by side.</summary>
    ChannelsLast,
}

/// <summary>
/// The one place that decides the memory layout of activations. On the CPU it is the faster of the two layouts measured on
/// the CPU's class (docs/cpu.md), among those the numeric self-check (<see cref="CpuNumerics"/>) finds right:
/// channels-last with oneDNN at an AVX-512 level, in 2-D and 3-D (oneDNN 3.7's blocked-layout input gradients are wrong on
/// some AVX-512 CPUs, and channels-last is faster there anyway); below AVX-512, channels-last in 3-D and channels-first in
/// 2-D (faster at 256², the usual 2-D patch). On CUDA channels-last pays off with half precision (cuDNN's tensor-core
/// kernels are NHWC); float32 stays channels-first. Callers of a net put its input in this layout once (<see cref="Apply"/>;
/// <see cref="Blocks.ConvBlock"/> repeats it as a no-op guard); ATen keeps it through convolution, batch norm, ReLU,
/// pooling, transposed convolution and <c>cat</c>.
/// </summary>
public static class MemoryFormat
{
    [ThreadStatic] private static int _conversions;
    private static ActivationLayout? _cpuOverride = ParseOverride(Environment.GetEnvironmentVariable(OverrideVariable));
    private static readonly ActivationLayout?[] Decided = new ActivationLayout?[4]; // by spatial dims: what the self-check settled on

    /// <summary>
    /// Environment variable that forces the CPU layout (<c>channels-last</c> or <c>channels-first</c>) in 2-D and 3-D, for
    /// benchmarks that compare the two; the numeric self-check still verifies it (and runs without oneDNN where it is wrong).
    /// </summary>
    public const string OverrideVariable = "EDU_MEMORY_FORMAT";

    /// <summary>The layout activations with <paramref name="spatialDims"/> spatial axes get on <paramref name="device"/> in <paramref name="dtype"/>.</summary>
    public static ActivationLayout For(DeviceType device, ScalarType dtype, int spatialDims) => device switch
    {
        DeviceType.CPU => Cpu(spatialDims),
        DeviceType.CUDA => dtype is ScalarType.Float16 or ScalarType.BFloat16 ? ActivationLayout.ChannelsLast : ActivationLayout.ChannelsFirst,
        _ => ActivationLayout.ChannelsFirst,
    };

    /// <summary>The CPU layout for 2-D (<paramref name="spatialDims"/> = 2) or 3-D activations in this process.</summary>
    public static ActivationLayout Cpu(int spatialDims) =>
        _cpuOverride ?? (spatialDims is 2 or 3 ? Decided[spatialDims] : null) ?? Preferred(spatialDims, CpuInfo.Current);

    /// <summary>
    /// The faster layout on a CPU like <paramref name="cpu"/> (docs/cpu.md): channels-last where oneDNN runs at an AVX-512
    /// level, and in 3-D everywhere; channels-first for 2-D below AVX-512.
    /// </summary>
    public static ActivationLayout Preferred(int spatialDims, CpuInfo cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        return spatialDims == 3 || cpu.OneDnnIsa.StartsWith("AVX512", StringComparison.Ordinal)
            ? ActivationLayout.ChannelsLast
            : ActivationLayout.ChannelsFirst;
    }

    /// <summary>Whether the user forced the CPU layout (<see cref="OverrideVariable"/> or <see cref="OverrideCpu"/>).</summary>
    public static bool IsOverridden => _cpuOverride is not null;

    /// <summary>Sets the CPU layout for this process (a benchmark's <c>--memory-format</c>); null restores the policy.</summary>
    public static void OverrideCpu(ActivationLayout? layout) => _cpuOverride = layout;

    /// <summary>The self-check's choice for <paramref name="spatialDims"/> when the preferred layout computes wrong on this CPU.</summary>
    internal static void Decide(int spatialDims, ActivationLayout layout) => Decided[spatialDims] = layout;

    /// <summary>"channels-last" when both dimensionalities use it, else e.g. "2-D channels-first, 3-D channels-last".</summary>
    public static string DescribeCpu() => Cpu(2) == Cpu(3) ? Name(Cpu(2)) : $"2-D {Name(Cpu(2))}, 3-D {Name(Cpu(3))}";

    /// <summary>The option value users write for <paramref name="layout"/>: <c>channels-last</c> or <c>channels-first</c>.</summary>
    public static string Name(ActivationLayout layout) => layout == ActivationLayout.ChannelsLast ? "channels-last" : "channels-first";

    /// <summary>Parses <c>channels-last</c> / <c>channels-first</c> (also <c>nhwc</c> / <c>nchw</c>); null for anything else.</summary>
    public static ActivationLayout? Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "channels-last" or "channels_last" or "nhwc" or "ndhwc" => ActivationLayout.ChannelsLast,
        "channels-first" or "channels_first" or "nchw" or "ncdhw" or "contiguous" => ActivationLayout.ChannelsFirst,
        _ => null,
    };

    /// <summary>
    /// <paramref name="x"/> in the layout the policy picks for its device, dtype (autocast's, inside an <see cref="Autocast"/>
    /// scope) and dimensionality: the same tensor when it already is (no copy), else one copy. Tensors that are not 4-D or 5-D are returned as they are.
    /// </summary>
    public static Tensor Apply(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        long dims = x.dim();
        if (dims is not (4 or 5)) return x;
        // under autocast the convolutions run in autocast's dtype, whatever the input's (a float32 input to a bfloat16 net on CUDA)
        var dtype = x.is_floating_point() && Autocast.Current(x.device_type) is { } autocast ? autocast : x.dtype;
        return For(x.device_type, dtype, (int)dims - 2) == ActivationLayout.ChannelsLast ? ToChannelsLast(x) : ToChannelsFirst(x);
    }

    /// <summary><paramref name="x"/> with NHWC (NDHWC) strides; the same tensor when it has them.</summary>
    public static Tensor ToChannelsLast(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (IsChannelsLast(x) || x.dim() is not (4 or 5)) return x;
        _conversions++;
        // one channel: the memory of a contiguous tensor is already in channels-last order, only the strides must say so
        // (the permute below would leave them as they are, since contiguous() ignores the stride of a size-1 axis)
        if (x.shape[1] == 1 && x.is_contiguous()) return x.as_strided(x.shape, ChannelsLastStrides(x.shape));
        return x.dim() switch
        {
            4 => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
            _ => x.permute(0, 2, 3, 4, 1).contiguous().permute(0, 4, 1, 2, 3),
        };
    }

    // ATen's get_channels_last_strides_2d/3d: channels fastest, then x, y (, z), then the batch
    private static long[] ChannelsLastStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        strides[1] = 1;
        long next = shape[1];
        for (int d = shape.Length - 1; d >= 2; d--)
        {
            strides[d] = next;
            next *= shape[d];
        }
        strides[0] = next;
        return strides;
    }

    /// <summary><paramref name="x"/> contiguous in the default (channels-first) order; the same tensor when it is.</summary>
    public static Tensor ToChannelsFirst(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.is_contiguous()) return x;
        _conversions++;
        return x.contiguous();
    }

    /// <summary>
    /// A contiguous copy of <paramref name="x"/> in the layout of <paramref name="like"/> (for results computed out of place,
    /// such as MDE's Fourier path, whose one copy can as well land in the layout the net runs in). Not counted as a conversion.
    /// </summary>
    public static Tensor ContiguousLike(Tensor x, Tensor like)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(like);
        if (x.dim() is not (4 or 5) || !IsChannelsLast(like)) return x.contiguous();
        return x.dim() == 4
            ? x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
            : x.permute(0, 2, 3, 4, 1).contiguous().permute(0, 4, 1, 2, 3);
    }

    /// <summary>How many copies <see cref="Apply"/> made on this thread so far (a net's forward should make one, at its input).</summary>
    public static int ConversionsOnThisThread => _conversions;

    /// <summary>
    /// Whether <paramref name="x"/> (4-D or 5-D) has channels-last strides, by ATen's own rule
    /// (<c>is_channels_last_strides_2d/3d</c>): ambiguous cases such as N×1×1×1 count as channels-first.
    /// </summary>
    public static bool IsChannelsLast(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        long[] sizes = x.shape;
        long[] strides = x.stride();
        int[] order = sizes.Length switch
        {
            4 => [1, 3, 2, 0],
            5 => [1, 4, 3, 2, 0],
            _ => [],
        };
        if (order.Length == 0 || strides[1] == 0) return false;
        long min = 0;
        foreach (int d in order)
        {
            if (sizes[d] == 0 || strides[d] < min) return false;
            if (d == 0 && min == strides[1]) return false;
            min = strides[d];
            if (sizes[d] > 1) min *= sizes[d];
        }
        return true;
    }

    private static ActivationLayout? ParseOverride(string? text) => string.IsNullOrWhiteSpace(text) ? null : Parse(text);
}
