using TorchSharp.Utils;
using Edu.Models.Onnx;
using Edu.Models.Runtime;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Blocks;

/// <summary>
/// Additive attention gate (Oktay et al.): <c>ψ = σ(BN(Conv1(ReLU(BN(Wg g) + BN(Wx x)))))</c>, output <c>x ⊙ ψ</c>;
/// inner width <c>F = C / 2</c>. Forward takes <c>(g, x)</c>: the gating (decoder) and the skip feature.
/// </summary>
public sealed class AttentionGate : Module<Tensor, Tensor, Tensor>
{
    [ComponentName(Name = "wg")] private readonly Module<Tensor, Tensor> _wg;
    [ComponentName(Name = "wg_bn")] private readonly Module<Tensor, Tensor> _wgBn;
    [ComponentName(Name = "wx")] private readonly Module<Tensor, Tensor> _wx;
    [ComponentName(Name = "wx_bn")] private readonly Module<Tensor, Tensor> _wxBn;
    [ComponentName(Name = "psi")] private readonly Module<Tensor, Tensor> _psi;
    [ComponentName(Name = "psi_bn")] private readonly Module<Tensor, Tensor> _psiBn;

    public AttentionGate(int spatialDims, long channels) : base(nameof(AttentionGate))
    {
        long inner = Math.Max(1, channels / 2);
        _wg = Layers.Conv(spatialDims, channels, inner, 1, bias: true);
        _wgBn = Layers.BatchNorm(spatialDims, inner);
        _wx = Layers.Conv(spatialDims, channels, inner, 1, bias: true);
        _wxBn = Layers.BatchNorm(spatialDims, inner);
        _psi = Layers.Conv(spatialDims, inner, 1, 1, bias: true);
        _psiBn = Layers.BatchNorm(spatialDims, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor g, Tensor x)
    {
        using var scope = NewDisposeScope();
        var a = functional.relu(_wgBn.forward(_wg.forward(g)).add(_wxBn.forward(_wx.forward(x)), Scalars.One));
        var psi = functional.sigmoid(_psiBn.forward(_psi.forward(a)));
        return (x * psi).MoveToOuterDisposeScope();
    }

    /// <summary>The gate in an ONNX graph: <c>x ⊙ ψ(g, x)</c>; <paramref name="prefix"/> is its state-dict prefix.</summary>
    internal string ToOnnx(OnnxGraphBuilder g, string prefix, string gating, string x)
    {
        var a = g.Relu(g.Add(g.BatchNorm(g.Conv(gating, _wg, $"{prefix}.wg"), _wgBn, $"{prefix}.wg_bn"),
                             g.BatchNorm(g.Conv(x, _wx, $"{prefix}.wx"), _wxBn, $"{prefix}.wx_bn")));
        var psi = g.Sigmoid(g.BatchNorm(g.Conv(a, _psi, $"{prefix}.psi"), _psiBn, $"{prefix}.psi_bn"));
        return g.Mul(x, psi);
    }
}
