using Edu.Models.Blocks;
using Edu.Models.Onnx;
using Edu.Models.Runtime;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Nets;

/// <summary>
/// What feeds a node <c>X[i,j]</c> of a <see cref="NestedUNet"/>, and the blocks that takes. A new reading of the nested
/// family is one small subclass: the node input's channels, the input itself from the row of skips and the up-sampled
/// feature, and optionally one block per encoder level (applied once to <c>X[i,0]</c>, state keys <c>mde.{i}</c>) or one
/// block per node (state keys <c>mde.{i}_{j}</c>).
/// </summary>
public abstract class NestedNode
{
    /// <summary>Whether <see cref="LevelBlock"/> builds a block per encoder level.</summary>
    public virtual bool HasLevelBlock => false;

    /// <summary>Whether <see cref="NodeBlock"/> builds a block per node.</summary>
    public virtual bool HasNodeBlock => false;

    /// <summary>The block applied once to the encoder feature of a level with <paramref name="channels"/> channels.</summary>
    public virtual Module<Tensor, Tensor> LevelBlock(int spatialDims, long channels) => throw new NotSupportedException($"{GetType().Name} has no level block");

    /// <summary>The block of one node whose level has <paramref name="channels"/> channels (given the skip and <c>u</c>).</summary>
    public virtual Module<Tensor, Tensor, Tensor> NodeBlock(int spatialDims, long channels) => throw new NotSupportedException($"{GetType().Name} has no node block");

    /// <summary>Input channels of the ConvBlock of a node in column <paramref name="j"/> of a level of width <paramref name="f"/>.</summary>
    public abstract long ConvBlockInput(int j, long f);

    /// <summary>
    /// The ConvBlock's input from <paramref name="row"/> (<c>X[i,0..j−1]</c>, its first entry the level block's output where
    /// there is one), the up-sampled <paramref name="u"/> and the node's own block, if any.
    /// </summary>
    public abstract Tensor Input(Tensor[] row, Tensor u, Module<Tensor, Tensor, Tensor>? nodeBlock);

    /// <summary><see cref="Input"/> in an ONNX graph (<paramref name="blockPrefix"/>: the node block's state-dict prefix).</summary>
    public virtual string InputToOnnx(OnnxGraphBuilder graph, string[] row, string u, Module<Tensor, Tensor, Tensor>? nodeBlock, string blockPrefix) =>
        throw new NotSupportedException($"{GetType().Name} cannot be written as ONNX");

    /// <summary>The level block <paramref name="block"/> in an ONNX graph, applied to <paramref name="x"/>.</summary>
    public virtual string LevelBlockToOnnx(OnnxGraphBuilder graph, Module<Tensor, Tensor> block, string prefix, string x) =>
        block is MdeLite lite ? lite.ToOnnx(graph, prefix, x) : throw new NotSupportedException($"{block?.GetType().Name} cannot be written as ONNX");
}

/// <summary>UNet++ (<c>unetpp</c>): <c>cat(X[i,0..j−1], u)</c> into <c>ConvBlock((j+1)f_i → f_i)</c>.</summary>
public class DenseConcatNode : NestedNode
{
    /// <inheritdoc/>
    public override long ConvBlockInput(int j, long f) => (j + 1) * f;

    /// <inheritdoc/>
    public override Tensor Input(Tensor[] row, Tensor u, Module<Tensor, Tensor, Tensor>? nodeBlock) => cat([.. row, u], 1);

    /// <inheritdoc/>
    public override string InputToOnnx(OnnxGraphBuilder graph, string[] row, string u, Module<Tensor, Tensor, Tensor>? nodeBlock, string blockPrefix) =>
        graph.Concat([.. row, u]);
}

/// <summary>E-DU, first reading (<c>edu</c>): <c>MDE_{i,j}(mean(X[i,0..j−1]), u)</c> into <c>ConvBlock(f_i → f_i)</c>.</summary>
public sealed class MdeOnMeanNode : NestedNode
{
    /// <inheritdoc/>
    public override bool HasNodeBlock => true;

    /// <inheritdoc/>
    public override Module<Tensor, Tensor, Tensor> NodeBlock(int spatialDims, long channels) => new Mde(spatialDims, channels);

    /// <inheritdoc/>
    public override long ConvBlockInput(int j, long f) => f;

    /// <inheritdoc/>
    public override Tensor Input(Tensor[] row, Tensor u, Module<Tensor, Tensor, Tensor>? nodeBlock)
    {
        ArgumentNullException.ThrowIfNull(nodeBlock);
        var skip = row[0];
        if (row.Length > 1)
        {
            // the mean in one buffer: temporaries would stay alive in the dispose scope until the forward ends
            skip = row[0].add(row[1], Scalars.One);
            for (int k = 2; k < row.Length; k++) skip.add_(row[k], Scalars.One);
            skip.div_(Scalars.Of(row.Length)); // a process-wide scalar: a temporary one can be freed under LibTorch (Runtime.Scalars)
        }
        return nodeBlock.forward(skip, u);
    }

    /// <inheritdoc/>
    public override string InputToOnnx(OnnxGraphBuilder graph, string[] row, string u, Module<Tensor, Tensor, Tensor>? nodeBlock, string blockPrefix) =>
        ((Mde)(nodeBlock ?? throw new ArgumentNullException(nameof(nodeBlock)))).ToOnnx(graph, blockPrefix, graph.Mean(row), u);
}

/// <summary>E-DU, second reading, dense (<c>edu-dense</c>): UNet++ with <c>E_i = MdeLite_i(X[i,0])</c> in place of <c>X[i,0]</c>.</summary>
public sealed class EnhancedDenseNode : DenseConcatNode
{
    /// <inheritdoc/>
    public override bool HasLevelBlock => true;

    /// <inheritdoc/>
    public override Module<Tensor, Tensor> LevelBlock(int spatialDims, long channels) => new MdeLite(spatialDims, channels);
}

/// <summary>E-DU, second reading, lean (<c>edu-lean</c>): <c>cat(E_i, u)</c> into <c>ConvBlock(2f_i → f_i)</c>, no dense pathway.</summary>
public sealed class EnhancedLeanNode : NestedNode
{
    /// <inheritdoc/>
    public override bool HasLevelBlock => true;

    /// <inheritdoc/>
    public override Module<Tensor, Tensor> LevelBlock(int spatialDims, long channels) => new MdeLite(spatialDims, channels);

    /// <inheritdoc/>
    public override long ConvBlockInput(int j, long f) => 2 * f;

    /// <inheritdoc/>
    public override Tensor Input(Tensor[] row, Tensor u, Module<Tensor, Tensor, Tensor>? nodeBlock) => cat([row[0], u], 1);

    /// <inheritdoc/>
    public override string InputToOnnx(OnnxGraphBuilder graph, string[] row, string u, Module<Tensor, Tensor, Tensor>? nodeBlock, string blockPrefix) =>
        graph.Concat([row[0], u]);
}
