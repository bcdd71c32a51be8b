using Edu.Models.Catalogue;
using Edu.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Tests.Nets;

/// <summary>
/// Every net, as the process runs it (the layout <see cref="MemoryFormat"/> picks, oneDNN as the self-check leaves it),
/// against the same net computed in float64, which ATen runs on its own reference kernels, never oneDNN. On a CPU whose
/// oneDNN kernels compute wrong gradients (docs/cpu.md: relative errors of 0.2–0.6, or NaN) this fails.
/// The gradients are compared with BatchNorm on fixed statistics (eval mode): with batch statistics the gradient of these
/// nets is so ill-conditioned in float32 that even ATen's own float32 kernels (oneDNN off) differ from float64 by up to
/// 2.5 % (measured, base 32); with fixed statistics every float32 path we have agrees within 6e-5. The training-mode
/// forward pass and BatchNorm's training-mode backward are compared too (the latter per block, where it is well-conditioned).
/// </summary>
public sealed class Float64AgreementTests
{
    private const double Tolerance = 1e-4;
    private static readonly ModelCatalogue Catalogue = ModelCatalogue.CreateBuiltIn();

    public static TheoryData<string, int, int> Cases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (string name in ModelCatalogue.BuiltInNames)
            foreach (int dims in new[] { 2, 3 })
                foreach (int width in new[] { 8, 32 })
                    data.Add(name, dims, width);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Output_and_every_parameter_gradient_agree_with_float64(string name, int dims, int baseChannels)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        // 2-D: a 1-channel image, 2 classes, depth 4 on 32²; 3-D: 2 channels, 3 classes, depth 3 on 16³ (BatchNorm needs > 1 value)
        var hp = dims == 2
            ? new ModelHyperparameters(2, 1, 2, baseChannels, Depth: 4)
            : new ModelHyperparameters(3, 2, 3, baseChannels, Depth: 3);
        long[] shape = dims == 2 ? [2, 1, 32, 32] : [2, 2, 16, 16, 16];
        using var single = Catalogue.Create(name, hp, seed: 5);
        using var reference = Catalogue.Create(name, hp, seed: 5);
        reference.to(ScalarType.Float64);
        using var generator = new Generator(77);
        var x = randn(shape, generator: generator);

        var failures = new List<string>();
        // eval mode first: BatchNorm at its initial statistics (the training-mode pass below moves them)
        var (out32, grads32) = EvalStep(single, x, seed: 78);
        var (out64, grads64) = EvalStep(reference, x.to(ScalarType.Float64), seed: 78);
        Compare("output", out32, out64, failures);
        Assert.Equal(grads64.Keys.Order(), grads32.Keys.Order());
        foreach (var (key, g) in grads64)
            Compare($"{key}.grad", grads32[key], g, failures);
        using (no_grad())
        {
            single.train();
            reference.train();
            Compare("training-mode output", single.forward(x), reference.forward(x.to(ScalarType.Float64)), failures);
        }
        Assert.True(failures.Count == 0, Describe($"{name} {dims}-D base {baseChannels}", failures));
    }

    [Theory]
    [InlineData(2, 1, 8)]
    [InlineData(2, 8, 24)]
    [InlineData(2, 16, 16)]
    [InlineData(3, 4, 8)]
    [InlineData(3, 16, 32)]
    public void A_conv_block_in_training_mode_agrees_with_float64(int dims, int inChannels, int outChannels)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        using var single = ModelCatalogue.Seeded(3, () => new Edu.Models.Blocks.ConvBlock(dims, inChannels, outChannels));
        using var reference = ModelCatalogue.Seeded(3, () => new Edu.Models.Blocks.ConvBlock(dims, inChannels, outChannels));
        reference.to(ScalarType.Float64);
        long[] shape = dims == 2 ? [4, inChannels, 24, 24] : [2, inChannels, 12, 12, 12];
        using var generator = new Generator(11);
        var x = randn(shape, generator: generator);
        var failures = new List<string>();
        var x32 = x.detach().requires_grad_();
        var x64 = x.to(ScalarType.Float64).detach().requires_grad_();
        var (out32, grads32) = Step(single, x32, seed: 12);
        var (out64, grads64) = Step(reference, x64, seed: 12);
        Compare("output", out32, out64, failures);
        if (inChannels > 1) Compare("input.grad", x32.grad!, x64.grad!, failures); // a 1-channel input's gradient is never needed
        foreach (var (key, g) in grads64)
            Compare($"{key}.grad", grads32[key], g, failures);
        Assert.True(failures.Count == 0, Describe($"ConvBlock {dims}-D {inChannels}→{outChannels}", failures));
    }

    private static string Describe(string what, List<string> failures) =>
        $"{what} ({MemoryFormat.DescribeCpu()}, {CpuInfo.Current.Describe()}): float32 differs from float64 beyond {Tolerance}:\n"
        + string.Join('\n', failures.Take(12));

    private static (Tensor Output, Dictionary<string, Tensor> Gradients) EvalStep(nn.Module<Tensor, Tensor> model, Tensor x, int seed)
    {
        model.eval();
        return Step(model, x, seed);
    }

    // one forward and backward of sum(output ⊙ R) for a fixed random R, in the module's current mode
    private static (Tensor Output, Dictionary<string, Tensor> Gradients) Step(nn.Module<Tensor, Tensor> model, Tensor x, int seed)
    {
        using var generator = new Generator((ulong)seed);
        model.zero_grad();
        var output = model.forward(x);
        var r = randn(output.shape, generator: generator).to(output.dtype);
        (output * r).sum().backward();
        var grads = model.named_parameters()
            .Where(p => p.parameter.grad is not null)
            .ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
        return (output.detach(), grads);
    }

    // max |a − b| / max |b|, the error of the whole tensor relative to its largest value
    private static void Compare(string what, Tensor a, Tensor reference, List<string> failures)
    {
        using var scope = NewDisposeScope();
        var a64 = a.to(ScalarType.Float64);
        double scale = reference.abs().max().item<double>();
        double diff = (a64 - reference).abs().max().item<double>();
        double error = scale == 0 ? diff : diff / scale;
        if (!(error <= Tolerance)) failures.Add($"  {what}: relative error {error:G3} (max |float64| {scale:G3})");
    }
}
