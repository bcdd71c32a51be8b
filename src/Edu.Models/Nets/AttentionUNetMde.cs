using Edu.Models.Blocks;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Nets;

/// <summary>Attention U-Net with MDE (<c>attention-unet-mde</c>): <c>D[i] = ConvBlock(f_i → f_i)(MDE_i(Gate_i(u, X[i,0]), u))</c>.</summary>
public sealed class AttentionUNetMde : Module<Tensor, Tensor>
{
    private readonly int _spatialDims;
    [ComponentName(Name = "encoder")] private readonly ModuleList<ConvBlock> _encoder;
    [ComponentName(Name = "up")] private readonly ModuleList<Module<Tensor, Tensor>> _up;
    [ComponentName(Name = "gate")] private readonly ModuleList<AttentionGate> _gate;
    [ComponentName(Name = "mde")] private readonly ModuleList<Mde> _mde;
    [ComponentName(Name = "decoder")] private readonly ModuleList<ConvBlock> _decoder;
    [ComponentName(Name = "head")] private readonly Module<Tensor, Tensor> _head;

    public AttentionUNetMde(int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4) : base(nameof(AttentionUNetMde))
    {
        Layers.CheckDims(spatialDims);
        _spatialDims = spatialDims;
        var f = Encoder.Widths(baseChannels ?? Encoder.DefaultBaseChannels(spatialDims), depth);
        _encoder = Encoder.Build(spatialDims, inChannels, f);
        _up = new ModuleList<Module<Tensor, Tensor>>(Enumerable.Range(0, depth).Select(i => Layers.Up(spatialDims, f[i + 1], f[i])).ToArray());
        _gate = new ModuleList<AttentionGate>(Enumerable.Range(0, depth).Select(i => new AttentionGate(spatialDims, f[i])).ToArray());
        _mde = new ModuleList<Mde>(Enumerable.Range(0, depth).Select(i => new Mde(spatialDims, f[i])).ToArray());
        _decoder = new ModuleList<ConvBlock>(Enumerable.Range(0, depth).Select(i => new ConvBlock(spatialDims, f[i], f[i])).ToArray());
        _head = Layers.Conv(spatialDims, f[0], classes, 1, bias: true);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = Encoder.Run(_spatialDims, _encoder, input);
        var d = x[^1];
        for (int i = _decoder.Count - 1; i >= 0; i--)
        {
            var u = _up[i].forward(d);
            d = _decoder[i].forward(_mde[i].forward(_gate[i].forward(u, x[i]), u));
        }
        return _head.forward(d).MoveToOuterDisposeScope();
    }
}
