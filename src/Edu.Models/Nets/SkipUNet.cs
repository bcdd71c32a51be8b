using Edu.Models.Blocks;
using Edu.Models.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Nets;

/// <summary>
/// The U-Net family (MODELS.md): one encoder–decoder whose skip connection is the variant. For each level
/// <c>i = depth−1 .. 0</c>, <c>u = Up_i(D[i+1])</c>, the skip <c>s = X[i,0]</c>, gated first when <see cref="SkipKind.Gate"/>
/// is in the kind (<c>s = Gate_i(u, X[i,0])</c>), and then either <c>D[i] = ConvBlock(2f_i → f_i)(cat(s, u))</c> or, with
/// <see cref="SkipKind.Mde"/>, <c>D[i] = ConvBlock(f_i → f_i)(MDE_i(s, u))</c>. Output <c>Head(D[0])</c>.
/// State keys: <c>encoder</c>, <c>up</c>, <c>gate</c> (gated kinds), <c>mde</c> (MDE kinds), <c>decoder</c>, <c>head</c>, built
/// and registered in that order, so a seed gives the same weights as the four separate classes this replaced.
/// </summary>
public class SkipUNet : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly int _spatialDims;
    private readonly ModuleList<ConvBlock> _encoder;
    private readonly ModuleList<Module<Tensor, Tensor>> _up;
    private readonly ModuleList<AttentionGate>? _gate;
    private readonly ModuleList<Mde>? _mde;
    private readonly ModuleList<ConvBlock> _decoder;
    private readonly Module<Tensor, Tensor> _head;

    /// <summary>Builds the <paramref name="skip"/> variant; <paramref name="name"/> is the module's name.</summary>
    public SkipUNet(string name, SkipKind skip, int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4) : base(name)
    {
        Layers.CheckDims(spatialDims);
        _spatialDims = spatialDims;
        Skip = skip;
        var f = Encoder.Widths(baseChannels ?? Encoder.DefaultBaseChannels(spatialDims), depth);
        var levels = Enumerable.Range(0, depth);
        _encoder = Encoder.Build(spatialDims, inChannels, f);
        _up = new ModuleList<Module<Tensor, Tensor>>(levels.Select(i => Layers.Up(spatialDims, f[i + 1], f[i])).ToArray());
        if (skip.HasFlag(SkipKind.Gate))
            _gate = new ModuleList<AttentionGate>(levels.Select(i => new AttentionGate(spatialDims, f[i])).ToArray());
        if (skip.HasFlag(SkipKind.Mde))
            _mde = new ModuleList<Mde>(levels.Select(i => new Mde(spatialDims, f[i])).ToArray());
        // MDE fuses skip and decoder feature by addition: the block after it sees f_i channels, not 2 f_i
        _decoder = new ModuleList<ConvBlock>(levels.Select(i => new ConvBlock(spatialDims, _mde is null ? 2 * f[i] : f[i], f[i])).ToArray());
        _head = Layers.Conv(spatialDims, f[0], classes, 1, bias: true);

        register_module("encoder", _encoder);
        register_module("up", _up);
        if (_gate is not null) register_module("gate", _gate);
        if (_mde is not null) register_module("mde", _mde);
        register_module("decoder", _decoder);
        register_module("head", _head);
    }

    /// <summary>The skip connection of this variant.</summary>
    public SkipKind Skip { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = Encoder.Run(_spatialDims, _encoder, input);
        var d = x[^1];
        for (int i = _decoder.Count - 1; i >= 0; i--)
        {
            var u = _up[i].forward(d);
            var s = _gate is null ? x[i] : _gate[i].forward(u, x[i]);
            d = _decoder[i].forward(_mde is null ? cat([s, u], 1) : _mde[i].forward(s, u));
        }
        return _head.forward(d).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public string ToOnnx(OnnxGraphBuilder graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var x = Encoder.ToOnnx(graph, _spatialDims, _encoder, input);
        var d = x[^1];
        for (int i = _decoder.Count - 1; i >= 0; i--)
        {
            var u = graph.ConvTranspose(d, _up[i], $"up.{i}");
            var s = _gate is null ? x[i] : _gate[i].ToOnnx(graph, $"gate.{i}", u, x[i]);
            d = _decoder[i].ToOnnx(graph, $"decoder.{i}", _mde is null ? graph.Concat([s, u]) : _mde[i].ToOnnx(graph, $"mde.{i}", s, u));
        }
        return graph.Conv(d, _head, "head");
    }
}

/// <summary>The skip connection of a <see cref="SkipUNet"/>: concatenation, gated, MDE, or both.</summary>
[Flags]
public enum SkipKind
{
    /// <summary>Plain U-Net: <c>cat(X[i,0], u)</c>.</summary>
    Concat = 0,

    /// <summary>Attention gate on the skip before it is used.</summary>
    Gate = 1,

    /// <summary>MDE fuses the skip with the decoder feature instead of concatenation.</summary>
    Mde = 2,

    /// <summary>Gate, then MDE.</summary>
    GateMde = Gate | Mde,
}
