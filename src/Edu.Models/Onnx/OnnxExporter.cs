using System.Reflection;
using System.Text.Json;
using Edu.Models.Checkpoints;
using Edu.Models.Onnx.Proto;
using Google.Protobuf;
using static TorchSharp.torch.nn;
using Tensor = TorchSharp.torch.Tensor;

namespace Edu.Models.Onnx;

/// <summary>
/// Writes a net as an ONNX model (IR version 8, opset 17): input <c>image</c> <c>[batch, channels, (depth,) height, width]</c>
/// float32, output <c>logits</c> <c>[batch, classes, …]</c>, the batch and spatial sizes free (multiples of 2^depth, as for the
/// net itself). The package's <c>model.json</c> travels in the metadata (<c>edu.manifest</c>), so the file says what its
/// labels and preprocessing are. The net must implement <see cref="IOnnxExportable"/> (every built-in net does).
/// </summary>
public static class OnnxExporter
{
    /// <summary>The graph input's name.</summary>
    public const string InputName = "image";

    /// <summary>The graph output's name.</summary>
    public const string OutputName = "logits";

    /// <summary>The metadata key holding the package manifest (JSON).</summary>
    public const string ManifestKey = "edu.manifest";

    // IR version 8 is what ONNX 1.12 (Debian 12's python3-onnx) writes for opset 17
    private const long IrVersion = 8;

    /// <summary>Builds the ONNX model of <paramref name="net"/>, described by <paramref name="manifest"/>.</summary>
    public static ModelProto Export(Module<Tensor, Tensor> net, ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(manifest);
        var exportable = net as IOnnxExportable
            ?? throw new NotSupportedException($"architecture '{manifest.Architecture}' ({net.GetType().Name}) cannot be written as ONNX: it does not implement {nameof(IOnnxExportable)}");
        var hp = manifest.Hyperparameters;
        var graph = new OnnxGraphBuilder($"{manifest.Name}-{manifest.Version}");
        string input = graph.Input(OnnxGraphBuilder.ImageValue(InputName, hp.InChannels, hp.SpatialDims));
        using (TorchSharp.torch.no_grad())
        using (TorchSharp.torch.NewDisposeScope()) // the detached, converted copies of the weights
            graph.Output(exportable.ToOnnx(graph, input), OnnxGraphBuilder.ImageValue(OutputName, hp.Classes, hp.SpatialDims));
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "EDU.Framework",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            Domain = "org.edu-framework",
            DocString = $"{manifest.Architecture} {hp.SpatialDims}-D, {hp.InChannels} channel(s) in, {hp.Classes} logit channel(s) out; sizes multiples of {1 << hp.Depth}",
            Graph = graph.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxGraphBuilder.Opset });
        model.MetadataProps.Add(new StringStringEntryProto { Key = ManifestKey, Value = JsonSerializer.Serialize(manifest, TrainingCheckpoint.JsonOptions) });
        return model;
    }

    /// <summary>The serialised ONNX model of <paramref name="net"/>.</summary>
    public static byte[] ToBytes(Module<Tensor, Tensor> net, ModelManifest manifest) => Export(net, manifest).ToByteArray();
}
