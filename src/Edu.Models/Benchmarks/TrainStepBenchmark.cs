using System.Diagnostics;
using Edu.Models.Runtime;
using Edu.Models.Blocks;
using Edu.Models.Catalogue;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Benchmarks;

/// <summary>
/// The train-step protocol shared with <c>bench/pytorch_models.py</c>: random input and a random binary
/// target (K = 1), forward, BCE-with-logits + soft Dice loss, backward, Adam (lr 1e-3); <c>warmup</c>
/// untimed steps, then <c>steps</c> timed ones (the loss is synchronised every step by reading it back). The losses of
/// every step are reported: the same seed and configuration must give the same losses, on any CPU. With a
/// <see cref="TrainingPrecision"/> other than float32 the forward pass runs under autocast and the loss in float32, as in the
/// trainer (<see cref="MixedPrecision"/>); float16 adds loss scaling.
/// </summary>
public static class TrainStepBenchmark
{
    public static BenchResult Run(ModelCatalogue catalogue, string model, int dims, int batch, int size, int threads,
        int steps, int warmup, Device device, int inChannels = 1, int? baseChannels = null,
        TrainingPrecision precision = TrainingPrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(device);
        Precisions.CheckSupported(precision, device.type, CpuInfo.Current, dims);
        var mixed = new MixedPrecision(precision, device.type);
        torch.set_num_threads(threads);
        using var net = catalogue.Create(model, new ModelHyperparameters(dims, inChannels, 1, baseChannels), seed: 0);
        net.to(device);
        net.train();
        long parameters = Layers.CountParameters(net);
        var trainable = net.parameters().ToList();
        var optimizer = KeptScalarAdam.Adam(trainable, lr: 1e-3);
        var shape = dims == 2 ? new long[] { batch, inChannels, size, size } : new long[] { batch, inChannels, size, size, size };
        var tShape = (long[])shape.Clone();
        tShape[1] = 1;
        using var x = randn(shape, device: device);
        using var y = (randn(tShape, device: device) > Scalars.Of(0)).to_type(ScalarType.Float32);

        var times = new List<double>();
        var losses = new List<float>();
        for (int i = 0; i < warmup + steps; i++)
        {
            var sw = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                Tensor logits;
                using (mixed.ForwardScope())
                    logits = net.forward(x);
                var loss = Losses.BceDice(MixedPrecision.ToFloat32(logits), y);
                mixed.BackwardAndStep(loss, trainable, optimizer, clipNorm: null);
                losses.Add(loss.item<float>()); // also synchronises (CUDA), so the step is really done
            }
            sw.Stop();
            if (i >= warmup) times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        double median = times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
        return new BenchResult(model, dims, batch, size, threads, device.ToString(), parameters,
            Math.Round(median, 2), Math.Round(times[0], 2), Math.Round(times[^1], 2), ProcessMemory.PeakRssMb(), null,
            Runtime.MemoryFormat.Name(Runtime.MemoryFormat.For(device.type, Precisions.AutocastDtype(precision) ?? ScalarType.Float32, dims)),
            Runtime.CpuNumerics.Current?.Configuration ?? "unchecked", Runtime.CpuInfo.Current.Describe(), losses, Precisions.Name(precision),
            mixed.Scaler?.SkippedSteps);
    }
}
