using System.Diagnostics;
using System.Text.Json.Serialization;
using Edu.Models.Benchmarks;
using Edu.Models.Blocks;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using Edu.Models.Onnx;
using Edu.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Inference.Benchmarks;

/// <summary>One backend's inference timing.</summary>
public sealed record BackendTiming(
    [property: JsonPropertyName("backend")] string Backend,
    [property: JsonPropertyName("median_ms")] double MedianMs,
    [property: JsonPropertyName("min_ms")] double MinMs,
    [property: JsonPropertyName("images_per_s")] double ImagesPerSecond);

/// <summary>TorchSharp against ONNX Runtime on the same net, weights and batches.</summary>
public sealed record OnnxRuntimeBenchResult(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("dims")] int Dims,
    [property: JsonPropertyName("batch")] int Batch,
    [property: JsonPropertyName("size")] int Size,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("parameters")] long Parameters,
    [property: JsonPropertyName("onnx_bytes")] long OnnxBytes,
    [property: JsonPropertyName("export_ms")] double ExportMs,
    [property: JsonPropertyName("session_ms")] double SessionMs,
    [property: JsonPropertyName("timings")] IReadOnlyList<BackendTiming> Timings,
    [property: JsonPropertyName("max_abs_diff")] double MaxAbsDiff,
    [property: JsonPropertyName("logit_std")] double LogitStd,
    [property: JsonPropertyName("foreground_share")] double ForegroundShare,
    [property: JsonPropertyName("agreement_dice")] double AgreementDice,
    [property: JsonPropertyName("peak_rss_mb")] double PeakRssMb,
    [property: JsonPropertyName("onnxruntime")] string OnnxRuntimeVersion,
    [property: JsonPropertyName("memory_format")] string MemoryFormat,
    [property: JsonPropertyName("cpu")] string Cpu);

/// <summary>
/// Eval-mode float32 forward passes of one net on the CPU through TorchSharp and through ONNX Runtime (the net exported
/// with <see cref="OnnxExporter"/>), alternating step by step so that other load on the machine weighs on both alike.
/// The ONNX Runtime time includes the copies in and out of LibTorch that <see cref="OnnxRuntimeNet"/> makes.
/// </summary>
public static class OnnxRuntimeBenchmark
{
    /// <summary>
    /// Runs the comparison. The net is built with seed 0 and given the spread of a trained one where initialisation leaves
    /// an identity or no-op (BatchNorm running statistics, MDE gains and MdeLite's α, drawn from a private generator), so the
    /// logits vary and their difference means something.
    /// </summary>
    public static OnnxRuntimeBenchResult Run(ModelCatalogue catalogue, string model, int dims, int batch, int size, int threads, int steps, int warmup,
        int? baseChannels = null)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        set_num_threads(threads);
        var hp = new ModelHyperparameters(dims, 1, 1, baseChannels);
        using var generator = new Generator(0);
        long[] shape = dims == 2 ? [batch, 1, size, size] : [batch, 1, size, size, size];
        using var net = catalogue.Create(model, hp, seed: 0);
        using (no_grad())
        {
            foreach (var (name, buffer) in net.named_buffers())
            {
                if (name.EndsWith("running_mean", StringComparison.Ordinal)) buffer.copy_(randn(buffer.shape, generator: generator).mul_(Scalars.Of(0.1)));
                if (name.EndsWith("running_var", StringComparison.Ordinal)) buffer.copy_(rand(buffer.shape, generator: generator).add_(Scalars.Of(0.5), Scalars.One));
            }
            foreach (var (name, p) in net.named_parameters())
                if (name.EndsWith(".alpha", StringComparison.Ordinal) || name.EndsWith(".gain", StringComparison.Ordinal))
                    p.copy_(randn(p.shape, generator: generator).mul_(Scalars.Of(0.5)));
        }
        net.eval();
        var manifest = new ModelManifest { Name = model, Version = "bench", Architecture = model, Hyperparameters = hp.Resolved() };
        var clock = Stopwatch.StartNew();
        byte[] onnx = OnnxExporter.ToBytes(net, manifest);
        double exportMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        using var session = new OnnxRuntimeNet(onnx, threads);
        double sessionMs = clock.Elapsed.TotalMilliseconds;

        using var x = randn(shape, generator: generator);
        using var xTorch = MemoryFormat.Apply(x); // the layout the predictor gives the net
        using var noGrad = no_grad();
        var torchTimes = new List<double>();
        var ortTimes = new List<double>();
        Tensor? torchLogits = null, ortLogits = null;
        for (int i = 0; i < warmup + steps; i++)
        {
            bool last = i == warmup + steps - 1;
            var t = Time(() => net.forward(xTorch), last, ref torchLogits);
            var o = Time(() => session.forward(x), last, ref ortLogits);
            if (i >= warmup) { torchTimes.Add(t); ortTimes.Add(o); }
        }
        double maxAbs = (torchLogits! - ortLogits!).abs().max().item<float>();
        using var torchMask = torchLogits! > Scalars.Of(0);
        using var ortMask = ortLogits! > Scalars.Of(0);
        double agreement = Losses.Dice(torchMask, ortMask);
        double logitStd = torchLogits!.std().item<float>();
        double foreground = torchMask.to_type(ScalarType.Float32).mean().item<float>();
        torchLogits!.Dispose();
        ortLogits!.Dispose();
        return new OnnxRuntimeBenchResult(model, dims, batch, size, threads, Layers.CountParameters(net), onnx.LongLength,
            Math.Round(exportMs, 1), Math.Round(sessionMs, 1), [Timing("torch", torchTimes, batch), Timing("onnxruntime", ortTimes, batch)],
            maxAbs, logitStd, Math.Round(foreground, 4), Math.Round(agreement, 4), ProcessMemory.PeakRssMb(), OnnxRuntimeNet.RuntimeVersion,
            MemoryFormat.Name(MemoryFormat.For(DeviceType.CPU, ScalarType.Float32, dims)), CpuInfo.Current.Describe());
    }

    private static double Time(Func<Tensor> forward, bool keep, ref Tensor? kept)
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        var logits = forward();
        _ = logits.sum().item<float>(); // the result is there
        double ms = clock.Elapsed.TotalMilliseconds;
        if (keep) kept = logits.contiguous().MoveToOuterDisposeScope();
        return ms;
    }

    private static BackendTiming Timing(string backend, List<double> times, int batch)
    {
        times.Sort();
        double median = times[times.Count / 2];
        return new BackendTiming(backend, Math.Round(median, 2), Math.Round(times[0], 2), Math.Round(batch * 1000.0 / median, 2));
    }
}
