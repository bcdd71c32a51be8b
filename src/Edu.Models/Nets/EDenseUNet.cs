using Edu.Models.Blocks;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Nets;

/// <summary>
/// E-DU, enhanced dense U-Net (<c>edu</c>): UNet++ topology with MDE on every dense skip,
/// <c>X[i,j] = ConvBlock(f_i → f_i)(MDE_{i,j}(mean(X[i,0..j−1]), Up_{i,j}(X[i+1,j−1])))</c>, output <c>Head(X[0,depth])</c>. Optional deep supervision: extra heads on <c>X[0,1..depth−1]</c>
/// (see <see cref="IDeepSupervised"/>). State keys: <c>nodes.{i}_{j}</c>, <c>mde.{i}_{j}</c>, <c>up.{i}_{j}</c>.
/// </summary>
public sealed class EDenseUNet : Module<Tensor, Tensor>, IDeepSupervised
{
    private readonly int _spatialDims;
    private readonly int _depth;
    [ComponentName(Name = "encoder")] private readonly ModuleList<ConvBlock> _encoder;
    [ComponentName(Name = "up")] private readonly NamedModules<Module<Tensor, Tensor>> _up;
    [ComponentName(Name = "mde")] private readonly NamedModules<Mde> _mde;
    [ComponentName(Name = "nodes")] private readonly NamedModules<ConvBlock> _nodes;
    [ComponentName(Name = "head")] private readonly Module<Tensor, Tensor> _head;
    [ComponentName(Name = "aux_heads")] private readonly ModuleList<Module<Tensor, Tensor>> _auxHeads;

    public EDenseUNet(int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4, bool deepSupervision = false)
        : base(nameof(EDenseUNet))
    {
        Layers.CheckDims(spatialDims);
        _spatialDims = spatialDims;
        _depth = depth;
        DeepSupervision = deepSupervision;
        var f = Encoder.Widths(baseChannels ?? Encoder.DefaultBaseChannels(spatialDims), depth);
        _encoder = Encoder.Build(spatialDims, inChannels, f);
        _up = new NamedModules<Module<Tensor, Tensor>>();
        _nodes = new NamedModules<ConvBlock>();
        _mde = new NamedModules<Mde>();
        for (int j = 1; j <= depth; j++)
            for (int i = 0; i <= depth - j; i++)
            {
                _up.Add($"{i}_{j}", Layers.Up(spatialDims, f[i + 1], f[i]));
                _mde.Add($"{i}_{j}", new Mde(spatialDims, f[i]));
                _nodes.Add($"{i}_{j}", new ConvBlock(spatialDims, f[i], f[i]));
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
        var x = Grid();
        var enc = Encoder.Run(_spatialDims, _encoder, input);
        for (int i = 0; i <= _depth; i++) x[i][0] = enc[i];
        for (int j = 1; j <= _depth; j++)
            for (int i = 0; i <= _depth - j; i++)
            {
                var u = _up.Get($"{i}_{j}").forward(x[i + 1][j - 1]);
                var skip = x[i][0];
                if (j > 1)
                {
                    // the mean in one buffer: temporaries would stay alive in the dispose scope until the forward ends
                    skip = x[i][0] + x[i][1];
                    for (int k = 2; k < j; k++) skip.add_(x[i][k]);
                    skip.div_(j);
                }
                x[i][j] = _nodes.Get($"{i}_{j}").forward(_mde.Get($"{i}_{j}").forward(skip, u));
            }
        var heads = new List<Tensor>();
        if (DeepSupervision)
            for (int j = 1; j < _depth; j++) heads.Add(_auxHeads[j - 1].forward(x[0][j]));
        heads.Add(_head.forward(x[0][_depth]));
        foreach (var h in heads) h.MoveToOuterDisposeScope();
        return heads.ToArray();
    }

    private Tensor[][] Grid() => Enumerable.Range(0, _depth + 1).Select(i => new Tensor[_depth + 1 - i]).ToArray();
}
