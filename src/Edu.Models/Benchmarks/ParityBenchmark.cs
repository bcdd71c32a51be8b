using System.Text.Json.Serialization;
using Edu.Models.Blocks;
using Edu.Models.Catalogue;
using Edu.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Benchmarks;

/// <summary>One device's run of the parity check: its per-step losses and its final mask, compared with the first device's.</summary>
public sealed record ParityDeviceRun(
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("losses")] IReadOnlyList<float> Losses,
    [property: JsonPropertyName("max_abs_loss_diff")] double MaxAbsLossDiff,
    [property: JsonPropertyName("first_loss_abs_diff")] double FirstLossAbsDiff,
    [property: JsonPropertyName("mask_voxels")] long MaskVoxels,
    [property: JsonPropertyName("mask_differing_voxels")] long MaskDifferingVoxels,
    [property: JsonPropertyName("mask_agreement_dice")] double MaskAgreementDice);

/// <summary>The parity check's result: every device against the first, and whether they agree within the tolerances.</summary>
public sealed record ParityResult(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("dims")] int Dims,
    [property: JsonPropertyName("batch")] int Batch,
    [property: JsonPropertyName("size")] int Size,
    [property: JsonPropertyName("steps")] int Steps,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("tf32")] bool Tf32,
    [property: JsonPropertyName("loss_tolerance")] double LossTolerance,
    [property: JsonPropertyName("mask_tolerance")] double MaskTolerance,
    [property: JsonPropertyName("runs")] IReadOnlyList<ParityDeviceRun> Runs,
    [property: JsonPropertyName("max_first_loss_abs_diff")] double MaxFirstLossAbsDiff,
    [property: JsonPropertyName("max_abs_loss_diff")] double MaxAbsLossDiff,
    [property: JsonPropertyName("max_mask_differing_fraction")] double MaxMaskDifferingFraction,
    [property: JsonPropertyName("pass")] bool Pass,
    [property: JsonPropertyName("cpu")] string Cpu);

/// <summary>
/// The same training on several devices (CPU against CUDA, or CPU against CPU as a control): the net is built from the
/// same seed on each (identical initial weights, as <see cref="ModelCatalogue.Create"/> guarantees), the batches are drawn
/// once on the CPU from a private generator and copied to each device, and each device takes <c>steps</c> Adam steps on
/// the benchmark loss (<see cref="Losses.BceDice"/>); then the eval-mode mask (logit &gt; 0) of one held-out batch is
/// compared. Passes when the first losses (same weights, same batch: only the kernels differ) agree within
/// <c>lossTolerance</c> and the masks differ in at most <c>maskTolerance</c> of their voxels. Later losses are reported,
/// not judged: rounding differences grow with every step.
/// </summary>
public static class ParityBenchmark
{
    public static ParityResult Run(ModelCatalogue catalogue, string model, IReadOnlyList<Device> devices, int dims, int batch, int size,
        int steps, long seed, int? baseChannels = null, double lossTolerance = 1e-3, double maskTolerance = 1e-3, bool tf32 = false)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(devices);
        if (devices.Count < 2) throw new ArgumentException("at least two devices are compared", nameof(devices));
        // TF32 rounds a float32 matmul/convolution input to 10 mantissa bits on Ampere and later GPUs: off unless asked for,
        // so the check compares float32 with float32. Both switches are process-wide; they are put back afterwards.
        bool cudnnTf32 = torch.backends.cudnn.allow_tf32, matmulTf32 = torch.backends.cuda.matmul.allow_tf32;
        torch.backends.cudnn.allow_tf32 = tf32;
        torch.backends.cuda.matmul.allow_tf32 = tf32;
        try
        {
            var shape = dims == 2 ? new long[] { batch, 1, size, size } : new long[] { batch, 1, size, size, size };
            using var generator = new Generator((ulong)seed);
            var inputs = new List<Tensor>();
            var targets = new List<Tensor>();
            for (int i = 0; i < steps; i++)
            {
                var x = randn(shape, generator: generator);
                inputs.Add(x);
                targets.Add((x.narrow(1, 0, 1) > Scalars.Of(0.5)).to_type(ScalarType.Float32));
            }
            using var held = randn(shape, generator: generator);
            try
            {
                var runs = new List<(string Device, float[] Losses, Tensor Mask)>();
                try
                {
                    foreach (var device in devices)
                        runs.Add(RunOn(catalogue, model, device, dims, baseChannels, seed, inputs, targets, held));
                    return Compare(model, dims, batch, size, steps, seed, tf32, lossTolerance, maskTolerance, runs);
                }
                finally
                {
                    foreach (var r in runs) r.Mask.Dispose();
                }
            }
            finally
            {
                foreach (var t in inputs.Concat(targets)) t.Dispose();
            }
        }
        finally
        {
            torch.backends.cudnn.allow_tf32 = cudnnTf32;
            torch.backends.cuda.matmul.allow_tf32 = matmulTf32;
        }
    }

    private static (string Device, float[] Losses, Tensor Mask) RunOn(ModelCatalogue catalogue, string model, Device device, int dims,
        int? baseChannels, long seed, List<Tensor> inputs, List<Tensor> targets, Tensor held)
    {
        using var net = catalogue.Create(model, new ModelHyperparameters(dims, 1, 1, baseChannels), seed: seed);
        net.to(device);
        net.train();
        var optimizer = KeptScalarAdam.Adam(net.parameters(), lr: 1e-3);
        var losses = new float[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = Losses.BceDice(net.forward(MemoryFormat.Apply(inputs[i].to(device))), targets[i].to(device));
            loss.backward();
            optimizer.step();
            losses[i] = loss.item<float>();
        }
        net.eval();
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        var mask = (net.forward(MemoryFormat.Apply(held.to(device))) > Scalars.Of(0)).cpu().contiguous();
        return (device.ToString(), losses, mask.MoveToOuterDisposeScope());
    }

    private static ParityResult Compare(string model, int dims, int batch, int size, int steps, long seed, bool tf32, double lossTolerance,
        double maskTolerance, List<(string Device, float[] Losses, Tensor Mask)> runs)
    {
        var reference = runs[0];
        long voxels = reference.Mask.numel();
        var rows = new List<ParityDeviceRun>();
        double maxFirst = 0, maxAll = 0, maxMask = 0;
        foreach (var r in runs)
        {
            double all = 0;
            for (int i = 0; i < r.Losses.Length; i++)
                all = Math.Max(all, Math.Abs((double)r.Losses[i] - reference.Losses[i]));
            double first = Math.Abs((double)r.Losses[0] - reference.Losses[0]);
            long differing;
            using (var ne = r.Mask.ne(reference.Mask))
            using (var count = ne.sum())
                differing = count.item<long>();
            double dice = Losses.Dice(r.Mask, reference.Mask);
            // NaN losses never agree: a NaN difference counts as infinitely far.
            if (double.IsNaN(all)) all = double.PositiveInfinity;
            if (double.IsNaN(first)) first = double.PositiveInfinity;
            rows.Add(new ParityDeviceRun(r.Device, r.Losses, all, first, voxels, differing, Math.Round(dice, 6)));
            maxFirst = Math.Max(maxFirst, first);
            maxAll = Math.Max(maxAll, all);
            maxMask = Math.Max(maxMask, (double)differing / voxels);
        }
        bool pass = maxFirst <= lossTolerance && maxMask <= maskTolerance;
        return new ParityResult(model, dims, batch, size, steps, seed, tf32, lossTolerance, maskTolerance,
            rows, maxFirst, maxAll, maxMask, pass, CpuInfo.Current.Describe());
    }
}
