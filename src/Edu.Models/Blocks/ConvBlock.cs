using Edu.Models.Onnx;
using Edu.Models.Runtime;
using TorchSharp.Utils;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Blocks;

/// <summary>
/// <c>Conv3(ci→co, no bias) → BN → ReLU → Conv3(co→co, no bias) → BN → ReLU</c>, padding 1. The input is put in the
/// layout <see cref="MemoryFormat"/> picks: a no-op when the caller already did (trainer, predictor), else one copy here.
/// </summary>
public sealed class ConvBlock : Module<Tensor, Tensor>
{
    [ComponentName(Name = "conv1")] private readonly Module<Tensor, Tensor> _conv1;
    [ComponentName(Name = "bn1")] private readonly Module<Tensor, Tensor> _bn1;
    [ComponentName(Name = "conv2")] private readonly Module<Tensor, Tensor> _conv2;
    [ComponentName(Name = "bn2")] private readonly Module<Tensor, Tensor> _bn2;

    public ConvBlock(int spatialDims, long inChannels, long outChannels) : base(nameof(ConvBlock))
    {
        _conv1 = Layers.Conv(spatialDims, inChannels, outChannels, 3, bias: false);
        _bn1 = Layers.BatchNorm(spatialDims, outChannels);
        _conv2 = Layers.Conv(spatialDims, outChannels, outChannels, 3, bias: false);
        _bn2 = Layers.BatchNorm(spatialDims, outChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = functional.relu(_bn1.forward(_conv1.forward(MemoryFormat.Apply(input))), inplace: true);
        x = functional.relu(_bn2.forward(_conv2.forward(x)), inplace: true);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The block in an ONNX graph; <paramref name="prefix"/> is its state-dict prefix.</summary>
    internal string ToOnnx(OnnxGraphBuilder g, string prefix, string x)
    {
        x = g.Relu(g.BatchNorm(g.Conv(x, _conv1, $"{prefix}.conv1"), _bn1, $"{prefix}.bn1"));
        return g.Relu(g.BatchNorm(g.Conv(x, _conv2, $"{prefix}.conv2"), _bn2, $"{prefix}.bn2"));
    }
}
