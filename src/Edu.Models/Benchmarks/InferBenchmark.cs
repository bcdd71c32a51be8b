using System.Diagnostics;
using Edu.Models.Runtime;
using System.Text.Json.Serialization;
using Edu.Models.Blocks;
using Edu.Models.Catalogue;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Benchmarks;

/// <summary>Inference latency/throughput in one dtype.</summary>
public sealed record InferTiming(
    [property: JsonPropertyName("dtype")] string DType,
    [property: JsonPropertyName("median_ms")] double MedianMs,
    [property: JsonPropertyName("images_per_s")] double ImagesPerSecond);

/// <summary>Inference benchmark result: float32 and bfloat16 timings and their agreement.</summary>
public sealed record InferResult(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("dims")] int Dims,
    [property: JsonPropertyName("batch")] int Batch,
    [property: JsonPropertyName("size")] int Size,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("parameters")] long Parameters,
    [property: JsonPropertyName("timings")] IReadOnlyList<InferTiming> Timings,
    [property: JsonPropertyName("agreement_dice")] double AgreementDice,
    [property: JsonPropertyName("peak_rss_mb")] double PeakRssMb,
    [property: JsonPropertyName("memory_format")] string MemoryFormat = "",
    [property: JsonPropertyName("numerics")] string Numerics = "",
    [property: JsonPropertyName("cpu")] string Cpu = "");

/// <summary>
/// Eval-mode, no-grad forward passes in float32 and in bfloat16 (weights and input cast; on CPUs with AMX
/// LibTorch's oneDNN uses it). Agreement: Dice between the two thresholded (logit &gt; 0) masks.
/// </summary>
public static class InferBenchmark
{
    public static InferResult Run(ModelCatalogue catalogue, string model, int dims, int batch, int size, int threads,
        int steps, int warmup, Device device, int? baseChannels = null)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        torch.set_num_threads(threads);
        using var net = catalogue.Create(model, new ModelHyperparameters(dims, 1, 1, baseChannels), seed: 0);
        net.to(device);
        // a few training steps so BatchNorm statistics and weights are not at their initial values
        {
            var opt = KeptScalarAdam.Adam(net.parameters(), lr: 1e-3);
            for (int i = 0; i < 2; i++)
            {
                using var scope = NewDisposeScope();
                var xi = randn(dims == 2 ? [batch, 1, size, size] : [batch, 1, size, size, size], device: device);
                opt.zero_grad();
                Losses.BceDice(net.forward(xi), (xi > Scalars.Of(0.5)).to_type(ScalarType.Float32)).backward();
                opt.step();
            }
        }
        net.eval();
        long parameters = Layers.CountParameters(net);
        using var x = randn(dims == 2 ? [batch, 1, size, size] : [batch, 1, size, size, size], device: device);
        using var noGrad = no_grad();
        var timings = new List<InferTiming>();
        Tensor? mask32 = null, mask16 = null;
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            net.to(dtype);
            using var xd = x.to(dtype);
            var times = new List<double>();
            for (int i = 0; i < warmup + steps; i++)
            {
                var sw = Stopwatch.StartNew();
                using var scope = NewDisposeScope();
                var logits = net.forward(xd);
                var mask = (logits > Scalars.Of(0)).cpu();
                sw.Stop();
                if (i >= warmup) times.Add(sw.Elapsed.TotalMilliseconds);
                if (i == warmup + steps - 1)
                {
                    if (dtype == ScalarType.Float32) mask32 = mask.MoveToOuterDisposeScope();
                    else mask16 = mask.MoveToOuterDisposeScope();
                }
            }
            times.Sort();
            double median = times[times.Count / 2];
            timings.Add(new InferTiming(dtype == ScalarType.Float32 ? "float32" : "bfloat16", Math.Round(median, 2), Math.Round(batch * 1000.0 / median, 2)));
        }
        net.to(ScalarType.Float32);
        double agreement = Losses.Dice(mask32!, mask16!);
        mask32!.Dispose();
        mask16!.Dispose();
        return new InferResult(model, dims, batch, size, threads, device.ToString(), parameters, timings, Math.Round(agreement, 4), ProcessMemory.PeakRssMb(),
            Runtime.MemoryFormat.Name(Runtime.MemoryFormat.For(device.type, ScalarType.Float32, dims)),
            Runtime.CpuNumerics.Current?.Configuration ?? "unchecked", Runtime.CpuInfo.Current.Describe());
    }
}
