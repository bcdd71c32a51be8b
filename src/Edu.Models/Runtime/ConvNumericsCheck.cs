using System.Globalization;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace Edu.Models.Runtime;

/// <summary>One convolution the check runs: its shape, layout and how far float32 lies from the float64 reference.</summary>
/// <param name="Name">A short label, e.g. <c>2d mb2 ic8 oc8 16^2 channels-last</c>.</param>
/// <param name="Dims">2 or 3.</param>
/// <param name="InChannels">Input channels.</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="Layout">The activation layout the float32 computation used.</param>
/// <param name="OutputError">Max |float32 − float64| / max |float64| of the output.</param>
/// <param name="InputGradientError">The same for the input gradient.</param>
/// <param name="WeightGradientError">The same for the weight gradient.</param>
/// <param name="Right">Every error within <see cref="ConvNumericsCheck.Tolerance"/> (and finite).</param>
public sealed record ConvCaseResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("dims")] int Dims,
    [property: JsonPropertyName("inChannels")] int InChannels,
    [property: JsonPropertyName("outChannels")] int OutChannels,
    [property: JsonPropertyName("layout")] string Layout,
    [property: JsonPropertyName("outputError")] double? OutputError,
    [property: JsonPropertyName("inputGradientError")] double? InputGradientError,
    [property: JsonPropertyName("weightGradientError")] double? WeightGradientError,
    [property: JsonPropertyName("right")] bool Right);

/// <summary>
/// The numeric self-check: a few float32 convolutions (forward, input gradient, weight gradient) in both layouts, compared
/// with the same computation in float64, which ATen runs on its own reference kernels, never oneDNN. It catches the oneDNN 3.7
/// fault of docs/cpu.md (wrong input gradients of k×k convolutions in the blocked layout on AVX-512) on whatever CPU runs it,
/// in well under a second. Draws its data from a private generator.
/// </summary>
public static class ConvNumericsCheck
{
    /// <summary>Largest accepted relative error (max-norm) between float32 and float64.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>
    /// The shapes: channel counts below and off multiples of 16 (where the fault shows), one on 16, a 3-D one, and a
    /// 1-channel input, whose NCHW and NHWC strides coincide (no trained path needs its input gradient; it is reported).
    /// </summary>
    private static readonly (int Dims, int Batch, int In, int Out, int Size)[] QuickShapes =
    [
        (2, 2, 8, 8, 16),
        (2, 2, 16, 24, 16),
        (2, 1, 32, 16, 12),
        (3, 1, 4, 8, 8),
        (3, 2, 16, 24, 8),
        (2, 2, 1, 8, 16),
    ];

    /// <summary>docs/cpu.md's grid: batch {1, 8} × in {1, 4, 8, 16, 32} × out {4, 8, 16, 24, 32} × size {16, 64}, 2-D, and a 3-D row.</summary>
    private static IEnumerable<(int Dims, int Batch, int In, int Out, int Size)> GridShapes()
    {
        foreach (int batch in new[] { 1, 8 })
            foreach (int cin in new[] { 1, 4, 8, 16, 32 })
                foreach (int cout in new[] { 4, 8, 16, 24, 32 })
                    foreach (int size in new[] { 16, 64 })
                        yield return (2, batch, cin, cout, size);
        foreach (int cout in new[] { 4, 8, 16, 24 })
            yield return (3, 2, 8, cout, 16);
    }

    /// <summary>
    /// Runs every shape in both layouts on the CPU (<paramref name="thorough"/>: the whole grid, a few seconds); changes
    /// nothing global.
    /// </summary>
    public static IReadOnlyList<ConvCaseResult> Run(bool thorough = false)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(20261205);
        var results = new List<ConvCaseResult>();
        foreach (var shape in thorough ? GridShapes() : QuickShapes)
            foreach (var layout in new[] { ActivationLayout.ChannelsFirst, ActivationLayout.ChannelsLast })
                results.Add(RunCase(shape, layout, generator));
        return results;
    }

    /// <summary>Whether the 1-channel case (ambiguous strides) is part of <paramref name="result"/>.</summary>
    public static bool IsSingleChannelInput(ConvCaseResult result) => result.InChannels == 1;

    private static ConvCaseResult RunCase((int Dims, int Batch, int In, int Out, int Size) s, ActivationLayout layout, Generator generator)
    {
        using var scope = NewDisposeScope();
        long[] spatial = Enumerable.Repeat((long)s.Size, s.Dims).ToArray();
        long[] kernel = Enumerable.Repeat(3L, s.Dims).ToArray();
        var x64 = randn([s.Batch, s.In, .. spatial], dtype: ScalarType.Float64, generator: generator);
        var w64 = randn([s.Out, s.In, .. kernel], dtype: ScalarType.Float64, generator: generator).div(Scalars.Of(Math.Sqrt(s.In * Math.Pow(3, s.Dims))));
        var g64 = randn([s.Batch, s.Out, .. spatial], dtype: ScalarType.Float64, generator: generator);

        var (o64, gx64, gw64) = ConvWithGradients(x64, w64, g64, s.Dims);

        Tensor Prepared(Tensor t) => layout == ActivationLayout.ChannelsLast
            ? MemoryFormat.ToChannelsLast(t.to(ScalarType.Float32))
            : t.to(ScalarType.Float32).contiguous();
        var x32 = Prepared(x64);
        var w32 = w64.to(ScalarType.Float32);
        var g32 = Prepared(g64);
        long voxels = spatial.Aggregate(1L, (a, b) => a * b), taps = kernel.Aggregate(1L, (a, b) => a * b);
        PoisonFreedMemory([s.Batch * Round16(s.In) * voxels, s.Batch * Round16(s.Out) * voxels, Round16(s.In) * Round16(s.Out) * taps]);
        var (o32, gx32, gw32) = ConvWithGradients(x32, w32, g32, s.Dims);

        double? eo = RelativeError(o32, o64), ex = RelativeError(gx32, gx64), ew = RelativeError(gw32, gw64);
        bool right = new[] { eo, ex, ew }.All(e => e is double v && v <= Tolerance);
        string name = string.Create(CultureInfo.InvariantCulture, $"{s.Dims}d mb{s.Batch} ic{s.In} oc{s.Out} {s.Size}^{s.Dims} {MemoryFormat.Name(layout)}");
        return new ConvCaseResult(name, s.Dims, s.In, s.Out, MemoryFormat.Name(layout), eo, ex, ew, right);
    }

    private static long Round16(long channels) => (channels + 15) / 16 * 16;

    // oneDNN's blocked layouts pad channels to a multiple of 16, and LibTorch's CPU allocator is malloc: a kernel that reads
    // padding it never wrote reads whatever an earlier tensor left there. A fresh process hands out zeroed pages, where such
    // a read goes unnoticed; in a training loop it reads old activations. So the freed memory the buffers of the case will
    // get is filled with NaN first (the sizes it asks for, and twice them), so that such a read shows.
    private static void PoisonFreedMemory(long[] elements)
    {
        var filled = elements.SelectMany(n => new[] { n, 2 * n }).Select(n => full([n], Scalars.Of(float.NaN))).ToList();
        foreach (var t in filled) t.Dispose();
    }

    private static (Tensor Output, Tensor InputGradient, Tensor WeightGradient) ConvWithGradients(Tensor x, Tensor w, Tensor gradOutput, int dims)
    {
        var input = x.detach().requires_grad_();
        var weight = w.detach().requires_grad_();
        var output = dims == 2
            ? nn.functional.conv2d(input, weight, padding: [1, 1])
            : nn.functional.conv3d(input, weight, padding: [1, 1, 1]);
        var grads = autograd.grad([output], [input, weight], [gradOutput]);
        return (output.detach(), grads[0], grads[1]);
    }

    // max |a − b| / max |b| in float64; null when a holds NaN or an infinity
    private static double? RelativeError(Tensor a, Tensor reference)
    {
        using var scope = NewDisposeScope();
        var a64 = a.to(ScalarType.Float64);
        if (!a64.isfinite().all().item<bool>()) return null;
        double scale = reference.abs().max().item<double>();
        double diff = (a64 - reference).abs().max().item<double>();
        return scale == 0 ? diff : diff / scale;
    }
}
