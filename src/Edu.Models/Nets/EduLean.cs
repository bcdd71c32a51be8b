using Edu.Models.Blocks;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Nets;

/// <summary>
/// E-DU, second reading, lean (<c>edu-lean</c>, MODELS.md): nested decoders without UNet++'s dense pathway, MDE bridging the
/// semantic gap instead: <c>E_i = MdeLite_i(X[i,0])</c>, <c>X[i,j] = ConvBlock(2f_i → f_i)(cat(E_i, Up_{i,j}(X[i+1,j−1])))</c>,
/// output <c>Head(X[0,depth])</c>. Optional deep supervision as in <see cref="UNetPlusPlus"/>.
/// State keys: <c>encoder.{i}</c>, <c>mde.{i}</c> (i = 0..depth−1), <c>nodes.{i}_{j}</c>, <c>up.{i}_{j}</c>, <c>head</c>.
/// </summary>
public sealed class EduLean : Module<Tensor, Tensor>, IDeepSupervised
{
    private readonly int _spatialDims;
    private readonly int _depth;
    [ComponentName(Name = "encoder")] private readonly ModuleList<ConvBlock> _encoder;
    [ComponentName(Name = "mde")] private readonly ModuleList<MdeLite> _mde;
    [ComponentName(Name = "up")] private readonly NamedModules<Module<Tensor, Tensor>> _up;
    [ComponentName(Name = "nodes")] private readonly NamedModules<ConvBlock> _nodes;
    [ComponentName(Name = "head")] private readonly Module<Tensor, Tensor> _head;
    [ComponentName(Name = "aux_heads")] private readonly ModuleList<Module<Tensor, Tensor>> _auxHeads;

    public EduLean(int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4, bool deepSupervision = false)
        : base(nameof(EduLean))
    {
        Layers.CheckDims(spatialDims);
        _spatialDims = spatialDims;
        _depth = depth;
        DeepSupervision = deepSupervision;
        var f = Encoder.Widths(baseChannels ?? Encoder.DefaultBaseChannels(spatialDims), depth);
        _encoder = Encoder.Build(spatialDims, inChannels, f);
        _mde = new ModuleList<MdeLite>(Enumerable.Range(0, depth).Select(i => new MdeLite(spatialDims, f[i])).ToArray());
        _up = new NamedModules<Module<Tensor, Tensor>>();
        _nodes = new NamedModules<ConvBlock>();
        for (int j = 1; j <= depth; j++)
            for (int i = 0; i <= depth - j; i++)
            {
                _up.Add($"{i}_{j}", Layers.Up(spatialDims, f[i + 1], f[i]));
                _nodes.Add($"{i}_{j}", new ConvBlock(spatialDims, 2 * f[i], f[i]));
            }
        _head = Layers.Conv(spatialDims, f[0], classes, 1, bias: true);
        _auxHeads = new ModuleList<Module<Tensor, Tensor>>(deepSupervision
            ? Enumerable.Range(1, depth - 1).Select(_ => Layers.Conv(spatialDims, f[0], classes, 1, bias: true)).ToArray()
            : []);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public bool DeepSupervision { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var outputs = ForwardAll(input);
        var result = outputs[0];
        for (int i = 1; i < outputs.Length; i++) result = result + outputs[i]; // a sum keeps the heads' memory layout; stack would not
        if (outputs.Length > 1) result = result / outputs.Length;
        return result.MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor[] ForwardAll(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = Enumerable.Range(0, _depth + 1).Select(i => new Tensor[_depth + 1 - i]).ToArray();
        var enc = Encoder.Run(_spatialDims, _encoder, input);
        for (int i = 0; i <= _depth; i++) x[i][0] = enc[i];
        var e = Enumerable.Range(0, _depth).Select(i => _mde[i].forward(x[i][0])).ToArray(); // E_i, once per level
        for (int j = 1; j <= _depth; j++)
            for (int i = 0; i <= _depth - j; i++)
            {
                var u = _up.Get($"{i}_{j}").forward(x[i + 1][j - 1]);
                x[i][j] = _nodes.Get($"{i}_{j}").forward(cat([e[i], u], 1));
            }
        var heads = new List<Tensor>();
        if (DeepSupervision)
            for (int j = 1; j < _depth; j++) heads.Add(_auxHeads[j - 1].forward(x[0][j]));
        heads.Add(_head.forward(x[0][_depth]));
        foreach (var h in heads) h.MoveToOuterDisposeScope();
        return heads.ToArray();
    }
}
