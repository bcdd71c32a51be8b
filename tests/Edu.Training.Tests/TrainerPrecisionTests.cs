using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Models.Catalogue;
using Edu.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Training.Tests;

/// <summary><c>--precision</c> in the trainer: bf16 runs the training forward passes in bfloat16, learns, and records the precision; bad values are refused.</summary>
public sealed class TrainerPrecisionTests
{
    private static TrainingOptions Tiny(string dataset, int epochs, string precision) => new()
    {
        Dataset = dataset,
        Model = DtypeProbe.Name,
        BaseChannels = 4,
        Depth = 2,
        Epochs = epochs,
        BatchSize = 4,
        StepsPerEpoch = 4,
        LearningRate = 0.01,
        Threads = 1,
        Seed = 3,
        ValidationFraction = 0.25,
        Precision = precision,
    };

    [Fact]
    public void Bf16_training_runs_the_forward_pass_in_bfloat16_lowers_the_loss_and_keeps_float32_weights()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 8, 32);
        var probe = new ConcurrentQueue<(bool Training, ScalarType Dtype)>();
        var trainer = new Trainer(DtypeProbe.Catalogue(probe));
        var result = trainer.Run(Tiny(data, 5, "bf16"), t.Sub("run"));

        Assert.True(result.History[^1].TrainLoss < result.History[0].TrainLoss * 0.8, $"loss {result.History[0].TrainLoss} → {result.History[^1].TrainLoss}");
        Assert.Equal(20, probe.Count(p => p.Training)); // 5 epochs × 4 steps
        Assert.All(probe.Where(p => p.Training), p => Assert.Equal(ScalarType.BFloat16, p.Dtype));
        Assert.All(probe.Where(p => !p.Training), p => Assert.Equal(ScalarType.Float32, p.Dtype)); // validation stays float32
        Assert.Contains(probe, p => !p.Training);

        Assert.All(File.ReadAllLines(Path.Combine(result.RunDirectory, RunFolder.Log)),
            line => Assert.Equal("bf16", JsonDocument.Parse(line).RootElement.GetProperty("precision").GetString()));
        using (var options = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.RunDirectory, RunFolder.Options))))
            Assert.Equal("bf16", options.RootElement.GetProperty("precision").GetString());
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.ModelDirectory, "model.json"))))
            Assert.Equal("bf16", manifest.RootElement.GetProperty("training_precision").GetString());
        // the master weights are float32: every floating tensor of the checkpoint and of the package (BatchNorm's counters are int64)
        foreach (string weights in new[] { Path.Combine(result.RunDirectory, "checkpoints", "last", "weights.safetensors"), Path.Combine(result.ModelDirectory, "weights.safetensors") })
        {
            var dtypes = SafetensorsDtypes(weights);
            Assert.Contains("F32", dtypes);
            Assert.All(dtypes, d => Assert.True(d is "F32" or "I64", $"{weights}: a tensor in {d}"));
        }
    }

    [Fact]
    public void Fp32_training_runs_in_float32_and_says_so()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 8, 32);
        var probe = new ConcurrentQueue<(bool Training, ScalarType Dtype)>();
        var result = new Trainer(DtypeProbe.Catalogue(probe)).Run(Tiny(data, 1, "fp32"), t.Sub("run"));
        Assert.All(probe, p => Assert.Equal(ScalarType.Float32, p.Dtype));
        Assert.Equal("fp32", result.History[0].Precision);
    }

    [Theory]
    [InlineData("fp8")]
    [InlineData("double")]
    public void An_unknown_precision_is_refused_naming_the_option(string precision)
    {
        using var t = new TempFolder();
        var options = Tiny(t.Sub("data"), 1, precision);
        var e = Assert.Throws<InvalidInputException>(() => new Trainer(DtypeProbe.Catalogue(new())).Check(options));
        Assert.Equal("--precision", e.Input);
        Assert.Throws<InvalidInputException>(() => new Trainer().Run(options with { Model = "unet" }, t.Sub("run")));
        Assert.False(Directory.Exists(t.Sub("run")));
    }

    [Fact]
    public void Fp16_is_refused_on_a_cpu_without_float16_arithmetic()
    {
        using var t = new TempFolder();
        var options = Tiny(t.Sub("data"), 1, "fp16") with { Model = "unet" };
        if (Precisions.HasFastFloat16(CpuInfo.Current))
            new Trainer().Check(options); // offered where the CPU has AVX512-FP16 / AMX-FP16
        else
            Assert.Contains("fp16 is not offered on this CPU", Assert.Throws<InvalidInputException>(() => new Trainer().Check(options)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bf16_for_a_3d_net_on_the_cpu_is_refused_before_the_first_step_and_leaves_no_run_folder()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 4, 16, depth: 8);
        var options = Tiny(data, 1, "bf16") with { Model = "unet", PatchSize = 8 };
        var e = Assert.Throws<InvalidInputException>(() => new Trainer().Run(options, t.Sub("run")));
        Assert.Contains("3-D", e.Problem, StringComparison.Ordinal);
        Assert.False(Directory.Exists(t.Sub("run")));
    }

    private static IEnumerable<string> SafetensorsDtypes(string path)
    {
        var bytes = File.ReadAllBytes(path);
        long length = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)length));
        return header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__").Select(p => p.Value.GetProperty("dtype").GetString()!).ToList();
    }

    /// <summary>A U-Net that records the dtype of its logits on every forward pass (and whether it was a training one).</summary>
    private sealed class DtypeProbe : Module<Tensor, Tensor>
    {
        public const string Name = "dtype-probe";
        private readonly Module<Tensor, Tensor> inner;
        private readonly ConcurrentQueue<(bool, ScalarType)> _seen;

        private DtypeProbe(Module<Tensor, Tensor> net, ConcurrentQueue<(bool, ScalarType)> seen) : base(nameof(DtypeProbe))
        {
            inner = net;
            _seen = seen;
            RegisterComponents();
        }

        public static ModelCatalogue Catalogue(ConcurrentQueue<(bool, ScalarType)> seen) => ModelCatalogue.CreateWith(
        [
            (Name, "U-Net that records its logits' dtype", h => new DtypeProbe(ModelCatalogue.CreateBuiltIn().Create("unet", new ModelHyperparameters(
                int.Parse(h["spatial_dims"], System.Globalization.CultureInfo.InvariantCulture), int.Parse(h["in_channels"], System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(h["classes"], System.Globalization.CultureInfo.InvariantCulture), int.Parse(h["base_channels"], System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(h["depth"], System.Globalization.CultureInfo.InvariantCulture))), seen)),
        ]);

        public override Tensor forward(Tensor input)
        {
            var logits = inner.forward(input);
            _seen.Enqueue((training && is_grad_enabled(), logits.dtype));
            return logits;
        }
    }
}
