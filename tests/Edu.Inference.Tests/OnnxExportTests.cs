using System.Diagnostics;
using Edu.Abstractions.Errors;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using Edu.Models.Onnx;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Inference.Tests;

/// <summary>
/// Every built-in net written as ONNX and run by ONNX Runtime gives TorchSharp's logits within 1e-4; Debian's ONNX checker
/// accepts the file; the predictor's onnxruntime backend segments like the torch one.
/// </summary>
public sealed class OnnxExportTests
{
    private static readonly ModelCatalogue Catalogue = ModelCatalogue.CreateBuiltIn();

    public static TheoryData<string, int, bool> Nets()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (string name in ModelCatalogue.BuiltInNames)
            foreach (int dims in new[] { 2, 3 })
                data.Add(name, dims, false);
        data.Add("edu-dense", 2, true); // deep supervision: the heads' mean
        data.Add("edu", 3, true);
        return data;
    }

    [Theory]
    [MemberData(nameof(Nets))]
    public void OnnxRuntime_gives_TorchSharps_logits(string architecture, int dims, bool deepSupervision)
    {
        var hp = new ModelHyperparameters(dims, 2, 3, 4, dims == 2 ? 3 : 2, deepSupervision);
        using var net = TrainedLooking(architecture, hp);
        long[] shape = dims == 2 ? [3, 2, 40, 24] : [2, 2, 16, 12, 20];
        using var x = Normal(7, shape);
        using var expected = Forward(net, x);

        using var onnx = new OnnxRuntimeNet(OnnxExporter.ToBytes(net, TestImages.Manifest(architecture, hp)), 2);
        using var actual = onnx.forward(x);

        Assert.Equal(expected.shape, actual.shape);
        double worst = (actual - expected).abs().max().item<float>();
        double scale = expected.abs().max().item<float>();
        Assert.True(scale > 0.1, $"logits too small ({scale}) to tell the graphs apart");
        Assert.True(worst <= 1e-4 * Math.Max(1, scale), $"{architecture} {dims}-D: ONNX Runtime differs from TorchSharp by {worst:G3} (logits up to {scale:G3})");
    }

    [Fact]
    public void The_graph_uses_the_listed_operators_names_weights_by_state_dict_key_and_carries_the_manifest()
    {
        var hp = new ModelHyperparameters(2, 1, 1, 4, 2);
        using var net = Catalogue.Create("attention-unet-mde", hp, 5);
        var manifest = TestImages.Manifest("attention-unet-mde", hp);
        var model = OnnxExporter.Export(net, manifest);

        Assert.Equal(OnnxGraphBuilder.Opset, Assert.Single(model.OpsetImport).Version);
        var ops = model.Graph.Node.Select(n => n.OpType).ToHashSet();
        Assert.Subset(new HashSet<string> { "Conv", "BatchNormalization", "Relu", "MaxPool", "ConvTranspose", "Add", "Mul", "Sigmoid", "Identity" }, ops);
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet();
        Assert.Contains("encoder.0.conv1.weight", initializers);
        Assert.Contains("gate.1.psi_bn.running_var", initializers);
        Assert.Contains("mde.0.fused_kernel", initializers); // the three depthwise filters folded into one kernel
        Assert.DoesNotContain("mde.0.kernel3", initializers);
        var fused = model.Graph.Initializer.Single(t => t.Name == "mde.0.fused_kernel");
        Assert.Equal(new long[] { 4, 1, 7, 7 }, fused.Dims);
        Assert.Equal(manifest.Name, System.Text.Json.JsonDocument.Parse(model.MetadataProps.Single(p => p.Key == OnnxExporter.ManifestKey).Value).RootElement.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("edu-dense", 2)]
    [InlineData("attention-unet-mde", 3)]
    public void Debians_onnx_checker_accepts_the_file(string architecture, int dims)
    {
        var hp = new ModelHyperparameters(dims, 1, 2, 4, 2);
        using var net = Catalogue.Create(architecture, hp, 9);
        using var dir = new TempDir();
        string path = dir.File("model.onnx");
        File.WriteAllBytes(path, OnnxExporter.ToBytes(net, TestImages.Manifest(architecture, hp)));

        var (exit, output) = Python(
            "import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); "
            + "onnx.shape_inference.infer_shapes(m, strict_mode=True); print(m.ir_version, m.opset_import[0].version, len(m.graph.node))", path);

        Assert.True(exit == 0, output);
        var fields = output.Trim().Split(' ');
        Assert.Equal("8", fields[0]);
        Assert.Equal("17", fields[1]);
        Assert.True(int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture) > 20, output);
    }

    [Fact]
    public void The_onnxruntime_backend_segments_like_torch()
    {
        using var dir = new TempDir();
        var hp = new ModelHyperparameters(2, 1, 1, 4, 2);
        string package = dir.File("pkg");
        using (var net = TrainedLooking("edu-dense", hp))
            ModelPackage.Save(package, TestImages.Manifest("edu-dense", hp, "zscore", [32, 32]), net);
        var image = TestImages.Pattern(45, 38, 2);

        using var torchPredictor = Predictor.Load(package, new PredictorOptions { ReturnProbabilities = true, FlipTta = true });
        using var ortPredictor = Predictor.Load(package, new PredictorOptions { ReturnProbabilities = true, FlipTta = true, Backend = InferenceBackend.OnnxRuntime });
        var a = torchPredictor.Predict(image);
        var b = ortPredictor.Predict(image);

        Assert.Equal(a.Windows, b.Windows);
        double worst = a.Probabilities!.Voxels.Zip(b.Probabilities!.Voxels, (p, q) => Math.Abs(p - q)).Max();
        Assert.True(worst < 1e-5, $"probabilities differ by {worst}");
        Assert.Equal(a.Labels.Voxels, b.Labels.Voxels);
    }

    [Fact]
    public void Onnxruntime_on_cuda_or_in_bfloat16_is_refused_by_name()
    {
        using var dir = new TempDir();
        var hp = new ModelHyperparameters(2, 1, 1, 4, 2);
        string package = dir.File("pkg");
        using (var net = Catalogue.Create("unet", hp, 1))
            ModelPackage.Save(package, TestImages.Manifest("unet", hp), net);

        var cuda = Assert.Throws<InvalidInputException>(() => Predictor.Load(package, new PredictorOptions { Backend = InferenceBackend.OnnxRuntime, Device = "cuda" }));
        Assert.Equal("backend", cuda.Input);
        var bf16 = Assert.Throws<InvalidInputException>(() => Predictor.Load(package, new PredictorOptions { Backend = InferenceBackend.OnnxRuntime, BFloat16 = true }));
        Assert.Contains("bfloat16", bf16.Message, StringComparison.Ordinal);
        Assert.Equal("backend", Assert.Throws<InvalidInputException>(() => InferenceBackends.Parse("tensorrt")).Input);
    }

    [Fact]
    public void A_net_without_an_onnx_graph_is_named()
    {
        using var net = Sequential(("conv", Conv2d(1, 1, 3, padding: 1)));
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(net, TestImages.Manifest("plugin-net", new ModelHyperparameters())));
        Assert.Contains("plugin-net", e.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(IOnnxExportable), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plugin_net_that_inherits_a_built_in_graph_but_computes_something_else_is_refused()
    {
        var hp = new ModelHyperparameters(2, 1, 1, 4, 2);
        using var net = ModelCatalogue.Seeded(3, () => new Doubled(hp));
        net.eval();

        var e = Assert.Throws<InvalidInputException>(() => OnnxRuntimeNet.Verified(net, TestImages.Manifest("doubled", hp), "plugin package"));

        Assert.Equal("plugin package", e.Input);
        Assert.Contains("does not compute what the net computes", e.Message, StringComparison.Ordinal);
        using var honest = TrainedLooking("unetpp", hp);
        var (onnx, session) = OnnxRuntimeNet.Verified(honest, TestImages.Manifest("unetpp", hp), "built-in");
        session.Dispose();
        Assert.NotEmpty(onnx);
    }

    // UNet++ whose forward doubles the logits: it inherits UNet++'s ONNX graph, which does not
    private sealed class Doubled(ModelHyperparameters hp)
        : Edu.Models.Nets.NestedUNet("Doubled", new Edu.Models.Nets.DenseConcatNode(), hp.SpatialDims, hp.InChannels, hp.Classes, hp.BaseChannels, hp.Depth)
    {
        public override Tensor forward(Tensor input) => base.forward(input).mul(Edu.Models.Runtime.Scalars.Of(2));
    }

    // a seeded net with the parts that are identities or no-ops at initialisation made non-trivial: BatchNorm running
    // statistics, MDE gains and MdeLite's α (0 at initialisation: the block would vanish from the comparison)
    private static Module<Tensor, Tensor> TrainedLooking(string architecture, ModelHyperparameters hp)
    {
        var net = Catalogue.Create(architecture, hp, 11);
        using var noGrad = no_grad();
        using var generator = new Generator(4242);
        foreach (var (name, buffer) in net.named_buffers())
        {
            if (name.EndsWith("running_mean", StringComparison.Ordinal)) buffer.copy_(randn(buffer.shape, generator: generator) * 0.1);
            if (name.EndsWith("running_var", StringComparison.Ordinal)) buffer.copy_(rand(buffer.shape, generator: generator) + 0.5);
        }
        foreach (var (name, p) in net.named_parameters())
            if (name.EndsWith(".alpha", StringComparison.Ordinal) || name.EndsWith(".gain", StringComparison.Ordinal))
                p.copy_(randn(p.shape, generator: generator) * 0.5);
        net.eval();
        return net;
    }

    private static Tensor Forward(Module<Tensor, Tensor> net, Tensor x)
    {
        using var noGrad = no_grad();
        return net.forward(x).contiguous();
    }

    private static Tensor Normal(ulong seed, long[] shape)
    {
        using var generator = new Generator(seed);
        return randn(shape, generator: generator);
    }

    private static (int Exit, string Output) Python(string script, params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000)) { process.Kill(true); return (-1, "python3 timed out"); }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
