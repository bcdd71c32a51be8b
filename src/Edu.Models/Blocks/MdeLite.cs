using Edu.Models.Onnx;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Blocks;

/// <summary>
/// MDE's residual enhancement alone (MODELS.md, "second reading"): <c>h = e + Σ_k α_k ⊙ (e − G_k ∗ e)</c> for k ∈ {3,5,7},
/// with learnable depthwise Gaussians <c>G_k</c> (initialised as in <see cref="Mde"/>) and <c>α</c> (<c>[3, C]</c>) initialised
/// to 0, so the block is the identity at initialisation. Computed as ONE depthwise convolution with the fused kernel
/// <c>δ + Σ_k α_k ⊙ (δ − pad(G_k))</c>, through MDE's own path (<see cref="Mde.FuseKernel"/>, <see cref="Mde.Depthwise"/>:
/// FFT in 3-D on the CPU). No pointwise convolution, no BatchNorm: <c>86 C</c> parameters in 2-D, <c>498 C</c> in 3-D.
/// State keys: <c>kernel3</c>, <c>kernel5</c>, <c>kernel7</c>, <c>alpha</c>.
/// </summary>
public sealed class MdeLite : Module<Tensor, Tensor>
{
    private readonly int _spatialDims;
    private readonly long _channels;
    [ComponentName(Name = "kernel3")] private readonly Parameter _kernel3;
    [ComponentName(Name = "kernel5")] private readonly Parameter _kernel5;
    [ComponentName(Name = "kernel7")] private readonly Parameter _kernel7;
    [ComponentName(Name = "alpha")] private readonly Parameter _alpha;

    public MdeLite(int spatialDims, long channels) : base(nameof(MdeLite))
    {
        Layers.CheckDims(spatialDims);
        _spatialDims = spatialDims;
        _channels = channels;
        _kernel3 = new Parameter(Mde.GaussianKernel(spatialDims, channels, 3));
        _kernel5 = new Parameter(Mde.GaussianKernel(spatialDims, channels, 5));
        _kernel7 = new Parameter(Mde.GaussianKernel(spatialDims, channels, 7));
        _alpha = new Parameter(zeros(3, channels));
        RegisterComponents();
    }

    /// <summary>The depthwise kernels G_3, G_5, G_7 (shape <c>[C, 1, k, …]</c>) and the weights α (<c>[3, C]</c>).</summary>
    public (Parameter G3, Parameter G5, Parameter G7, Parameter Alpha) EnhancementParameters => (_kernel3, _kernel5, _kernel7, _alpha);

    /// <summary>The fused 7×7(×7) depthwise kernel <c>δ + Σ_k α_k ⊙ (δ − pad(G_k))</c>, differentiable in the parameters.</summary>
    public Tensor FusedKernel() => Mde.FuseKernel(_spatialDims, _channels, _kernel3, _kernel5, _kernel7, _alpha, 1);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return Mde.Depthwise(_spatialDims, input, FusedKernel().to(input.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>The block in an ONNX graph: one depthwise convolution with the fused kernel (<c>{prefix}.fused_kernel</c>).</summary>
    internal string ToOnnx(OnnxGraphBuilder g, string prefix, string x)
    {
        using var noGrad = no_grad();
        using var kernel = FusedKernel();
        return g.Conv(x, g.Constant($"{prefix}.fused_kernel", kernel), null, kernel.shape, groups: _channels);
    }
}
