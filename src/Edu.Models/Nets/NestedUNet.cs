using Edu.Models.Blocks;
using Edu.Models.Onnx;
using Edu.Models.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Nets;

/// <summary>
/// The nested U-Net family (UNet++ topology, MODELS.md): an encoder <c>X[i,0]</c> and, for <c>j = 1..depth</c>,
/// <c>i = 0..depth−j</c>, nodes <c>X[i,j] = ConvBlock_{i,j}(node input)</c> with <c>u = Up_{i,j}(X[i+1,j−1])</c>. The
/// <see cref="NestedNode"/> is the variant: what a node's input is (the dense concatenation of UNet++, E-DU's MDE on the
/// mean of the dense skips, …) and which blocks it adds, one per encoder level (applied once to <c>X[i,0]</c>) or one per
/// node. Output <c>Head(X[0,depth])</c>; optional deep supervision with extra heads on <c>X[0,1..depth−1]</c>
/// (<see cref="IDeepSupervised"/>). State keys: <c>encoder</c>, <c>up.{i}_{j}</c>, <c>nodes.{i}_{j}</c>, <c>head</c>,
/// <c>aux_heads</c>, and the variant's <c>mde.{i}</c> (per level) or <c>mde.{i}_{j}</c> (per node). Modules are built and
/// registered in the order of the separate classes this replaced, so seeds and checkpoints carry over.
/// </summary>
public class NestedUNet : Module<Tensor, Tensor>, IDeepSupervised, IOnnxExportable
{
    private readonly int _spatialDims;
    private readonly int _depth;
    private readonly NestedNode _node;
    private readonly ModuleList<ConvBlock> _encoder;
    private readonly ModuleList<Module<Tensor, Tensor>>? _levelBlocks;
    private readonly NamedModules<Module<Tensor, Tensor>> _up;
    private readonly NamedModules<Module<Tensor, Tensor, Tensor>>? _nodeBlocks;
    private readonly NamedModules<ConvBlock> _nodes;
    private readonly Module<Tensor, Tensor> _head;
    private readonly ModuleList<Module<Tensor, Tensor>> _auxHeads;

    /// <summary>Builds the variant <paramref name="node"/>; <paramref name="name"/> is the module's name.</summary>
    public NestedUNet(string name, NestedNode node, int spatialDims, int inChannels, int classes, int? baseChannels = null, int depth = 4,
        bool deepSupervision = false) : base(name)
    {
        ArgumentNullException.ThrowIfNull(node);
        Layers.CheckDims(spatialDims);
        _spatialDims = spatialDims;
        _depth = depth;
        _node = node;
        DeepSupervision = deepSupervision;
        var f = Encoder.Widths(baseChannels ?? Encoder.DefaultBaseChannels(spatialDims), depth);
        _encoder = Encoder.Build(spatialDims, inChannels, f);
        if (node.HasLevelBlock)
            _levelBlocks = new ModuleList<Module<Tensor, Tensor>>(Enumerable.Range(0, depth).Select(i => node.LevelBlock(spatialDims, f[i])).ToArray());
        _up = new NamedModules<Module<Tensor, Tensor>>();
        _nodes = new NamedModules<ConvBlock>();
        if (node.HasNodeBlock) _nodeBlocks = new NamedModules<Module<Tensor, Tensor, Tensor>>();
        for (int j = 1; j <= depth; j++)
            for (int i = 0; i <= depth - j; i++)
            {
                _up.Add($"{i}_{j}", Layers.Up(spatialDims, f[i + 1], f[i]));
                _nodeBlocks?.Add($"{i}_{j}", node.NodeBlock(spatialDims, f[i]));
                _nodes.Add($"{i}_{j}", new ConvBlock(spatialDims, node.ConvBlockInput(j, f[i]), f[i]));
            }
        _head = Layers.Conv(spatialDims, f[0], classes, 1, bias: true);
        _auxHeads = new ModuleList<Module<Tensor, Tensor>>(deepSupervision
            ? Enumerable.Range(1, depth - 1).Select(_ => Layers.Conv(spatialDims, f[0], classes, 1, bias: true)).ToArray()
            : []);

        register_module("encoder", _encoder);
        if (_levelBlocks is not null) register_module("mde", _levelBlocks);
        register_module("up", _up);
        if (_nodeBlocks is not null) register_module("mde", _nodeBlocks);
        register_module("nodes", _nodes);
        register_module("head", _head);
        register_module("aux_heads", _auxHeads);
    }

    /// <inheritdoc/>
    public bool DeepSupervision { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var outputs = ForwardAll(input);
        var result = outputs[0];
        for (int i = 1; i < outputs.Length; i++) result = result.add(outputs[i], Scalars.One); // a sum keeps the heads' memory layout; stack would not
        if (outputs.Length > 1) result = result.div(Scalars.Of(outputs.Length));
        return result.MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor[] ForwardAll(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = Enumerable.Range(0, _depth + 1).Select(i => new Tensor[_depth + 1 - i]).ToArray();
        var enc = Encoder.Run(_spatialDims, _encoder, input);
        for (int i = 0; i <= _depth; i++) x[i][0] = enc[i];
        // what the nodes of level i see of the encoder: X[i,0], or the level block's E_i = block(X[i,0]), computed once
        var skip0 = Enumerable.Range(0, _depth).Select(i => _levelBlocks is null ? x[i][0] : _levelBlocks[i].forward(x[i][0])).ToArray();
        for (int j = 1; j <= _depth; j++)
            for (int i = 0; i <= _depth - j; i++)
            {
                var u = _up.Get($"{i}_{j}").forward(x[i + 1][j - 1]);
                var row = new Tensor[j];
                row[0] = skip0[i];
                for (int k = 1; k < j; k++) row[k] = x[i][k];
                x[i][j] = _nodes.Get($"{i}_{j}").forward(_node.Input(row, u, _nodeBlocks?.Get($"{i}_{j}")));
            }
        var heads = new List<Tensor>();
        if (DeepSupervision)
            for (int j = 1; j < _depth; j++) heads.Add(_auxHeads[j - 1].forward(x[0][j]));
        heads.Add(_head.forward(x[0][_depth]));
        foreach (var h in heads) h.MoveToOuterDisposeScope();
        return heads.ToArray();
    }

    /// <inheritdoc/>
    public string ToOnnx(OnnxGraphBuilder graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var x = Enumerable.Range(0, _depth + 1).Select(i => new string[_depth + 1 - i]).ToArray();
        var enc = Encoder.ToOnnx(graph, _spatialDims, _encoder, input);
        for (int i = 0; i <= _depth; i++) x[i][0] = enc[i];
        var skip0 = Enumerable.Range(0, _depth).Select(i => _levelBlocks is null ? x[i][0] : _node.LevelBlockToOnnx(graph, _levelBlocks[i], $"mde.{i}", x[i][0])).ToArray();
        for (int j = 1; j <= _depth; j++)
            for (int i = 0; i <= _depth - j; i++)
            {
                var u = graph.ConvTranspose(x[i + 1][j - 1], _up.Get($"{i}_{j}"), $"up.{i}_{j}");
                var row = new string[j];
                row[0] = skip0[i];
                for (int k = 1; k < j; k++) row[k] = x[i][k];
                var nodeInput = _node.InputToOnnx(graph, row, u, _nodeBlocks?.Get($"{i}_{j}"), $"mde.{i}_{j}");
                x[i][j] = _nodes.Get($"{i}_{j}").ToOnnx(graph, $"nodes.{i}_{j}", nodeInput);
            }
        var heads = new List<string>();
        if (DeepSupervision)
            for (int j = 1; j < _depth; j++) heads.Add(graph.Conv(x[0][j], _auxHeads[j - 1], $"aux_heads.{j - 1}"));
        heads.Add(graph.Conv(x[0][_depth], _head, "head"));
        return graph.Mean(heads); // forward's average of the heads
    }
}
