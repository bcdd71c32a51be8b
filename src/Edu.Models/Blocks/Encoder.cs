using Edu.Models.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Edu.Models.Blocks;

/// <summary>
/// The encoder every U-Net-family net shares: <c>X[i,0] = ConvBlock(i == 0 ? cin : f_{i-1}, f_i)</c> applied
/// to <c>Down(X[i-1,0])</c> (the input for i = 0), with <c>f_i = base · 2^i</c>, i = 0..depth.
/// </summary>
public static class Encoder
{
    /// <summary>Channel widths <c>f_0..f_depth</c>.</summary>
    public static long[] Widths(int baseChannels, int depth)
    {
        if (baseChannels < 1) throw new ArgumentOutOfRangeException(nameof(baseChannels), baseChannels, "must be at least 1");
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), depth, "must be at least 1");
        return Enumerable.Range(0, depth + 1).Select(i => (long)baseChannels << i).ToArray();
    }

    /// <summary>The spec's default base width: 32 in 2-D, 16 in 3-D.</summary>
    public static int DefaultBaseChannels(int spatialDims) => spatialDims == 3 ? 16 : 32;

    /// <summary>The encoder's conv blocks, one per level.</summary>
    public static ModuleList<ConvBlock> Build(int spatialDims, long inChannels, long[] widths) =>
        new(widths.Select((f, i) => new ConvBlock(spatialDims, i == 0 ? inChannels : widths[i - 1], f)).ToArray());

    /// <summary>Runs the encoder; returns <c>X[0,0]..X[depth,0]</c>.</summary>
    public static Tensor[] Run(int spatialDims, ModuleList<ConvBlock> blocks, Tensor input)
    {
        var features = new Tensor[blocks.Count];
        for (int i = 0; i < blocks.Count; i++)
            features[i] = blocks[i].forward(i == 0 ? input : Layers.Down(spatialDims, features[i - 1]));
        return features;
    }

    /// <summary><see cref="Run"/> in an ONNX graph; the blocks' state-dict prefix is <c>encoder.{i}</c>.</summary>
    internal static string[] ToOnnx(OnnxGraphBuilder g, int spatialDims, ModuleList<ConvBlock> blocks, string input)
    {
        var features = new string[blocks.Count];
        for (int i = 0; i < blocks.Count; i++)
            features[i] = blocks[i].ToOnnx(g, $"encoder.{i}", i == 0 ? input : g.Down(features[i - 1], spatialDims));
        return features;
    }
}
