namespace Edu.Models.Onnx;

/// <summary>
/// A net that can write itself as an ONNX inference graph: the same computation as its <c>forward</c> in eval mode, one
/// image tensor in, logits out. The built-in nets implement it; a plugin's net does so to be exported and served through
/// ONNX Runtime (<see cref="OnnxExporter"/> names a net that does not).
/// </summary>
public interface IOnnxExportable
{
    /// <summary>Adds the net's layers to <paramref name="graph"/> after <paramref name="input"/>; returns the logits' value name.</summary>
    string ToOnnx(OnnxGraphBuilder graph, string input);
}
