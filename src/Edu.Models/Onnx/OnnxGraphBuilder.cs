using System.Runtime.InteropServices;
using Edu.Models.Onnx.Proto;
using Google.Protobuf;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Onnx;

/// <summary>
/// Builds one ONNX inference graph (opset <see cref="Opset"/>) from a net's layers, in the order the net computes them.
/// Values are named by the ONNX output they come from; weights become float32 initializers named by their state-dict key
/// (<c>encoder.0.conv1.weight</c>), so a graph reads like the net. Every layer is written as it computes in eval mode:
/// BatchNorm with its running statistics, MDE's three depthwise filters folded into the one kernel they equal.
/// </summary>
public sealed class OnnxGraphBuilder
{
    /// <summary>The operator set the graph is written for (ONNX 1.12, the first with opset 17, reads it).</summary>
    public const int Opset = 17;

    private readonly GraphProto _graph = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _nodes;

    /// <summary>A graph named <paramref name="name"/>.</summary>
    public OnnxGraphBuilder(string name) => _graph.Name = name;

    /// <summary>The graph built so far.</summary>
    public GraphProto Graph => _graph;

    /// <summary>
    /// Declares a float32 graph input or output <c>[batch, channels, (depth,) height, width]</c>: the batch and spatial axes
    /// are named (any size), the channel count fixed.
    /// </summary>
    public static ValueInfoProto ImageValue(string name, long channels, int spatialDims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = channels });
        foreach (string axis in spatialDims == 3 ? new[] { "depth", "height", "width" } : ["height", "width"])
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = axis });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>Adds a graph input; returns its name.</summary>
    public string Input(ValueInfoProto value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Claim(value.Name);
        _graph.Input.Add(value);
        return value.Name;
    }

    /// <summary>Makes <paramref name="value"/> (a node's output) the graph output named by <paramref name="declared"/>.</summary>
    public void Output(string value, ValueInfoProto declared)
    {
        ArgumentNullException.ThrowIfNull(declared);
        Node("Identity", [value], declared.Name);
        _graph.Output.Add(declared);
    }

    /// <summary>Stores <paramref name="tensor"/> as a float32 initializer named <paramref name="name"/>; returns the name.</summary>
    public string Constant(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Claim(name);
        using var values = tensor.detach().to(ScalarType.Float32).cpu().contiguous();
        float[] data = values.data<float>().ToArray();
        // raw_data is little-endian by the format; so is every machine .NET and LibTorch run on here (x86-64, arm64)
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
        proto.Dims.AddRange(values.shape);
        _graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>Adds a node <paramref name="op"/> with one output; returns the output's name (<paramref name="output"/> or a fresh one).</summary>
    public string Node(string op, IReadOnlyList<string> inputs, string? output = null, params AttributeProto[] attributes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        string result = output ?? $"{op.ToLowerInvariant()}_{_nodes}";
        Claim(result);
        var node = new NodeProto { OpType = op, Name = $"{op}_{_nodes++}" };
        node.Input.AddRange(inputs);
        node.Output.Add(result);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return result;
    }

    /// <summary>
    /// A convolution layer made by <see cref="Blocks.Layers.Conv"/> (stride 1, "same" padding, odd kernel);
    /// <paramref name="prefix"/> names its weights.
    /// </summary>
    public string Conv(string x, Module<Tensor, Tensor> conv, string prefix)
    {
        var layer = conv as Convolution ?? throw new ArgumentException($"{prefix}: {conv?.GetType().Name} is not a convolution", nameof(conv));
        return Conv(x, Constant($"{prefix}.weight", layer.weight!), layer.bias is null ? null : Constant($"{prefix}.bias", layer.bias), layer.weight!.shape, groups: 1);
    }

    /// <summary>
    /// A stride-1 "same" convolution with the initializer <paramref name="weight"/> of shape <paramref name="shape"/>;
    /// depthwise when <paramref name="groups"/> is the channel count.
    /// </summary>
    public string Conv(string x, string weight, string? bias, long[] shape, long groups)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var kernel = shape[2..];
        if (kernel.Any(k => k % 2 == 0)) throw new ArgumentException($"kernel [{string.Join(", ", kernel)}] is not odd: no \"same\" padding", nameof(shape));
        var pads = kernel.Select(k => k / 2).ToArray();
        return Node("Conv", bias is null ? [x, weight] : [x, weight, bias], null,
            Ints("kernel_shape", kernel), Ints("pads", [.. pads, .. pads]), Ints("strides", kernel.Select(_ => 1L)), Int("group", groups));
    }

    /// <summary>The transposed convolution of <see cref="Blocks.Layers.Up"/> (kernel 2, stride 2, with bias).</summary>
    public string ConvTranspose(string x, Module<Tensor, Tensor> up, string prefix)
    {
        var layer = up as Convolution ?? throw new ArgumentException($"{prefix}: {up?.GetType().Name} is not a transposed convolution", nameof(up));
        var kernel = layer.weight!.shape[2..];
        if (kernel.Any(k => k != 2)) throw new ArgumentException($"{prefix}: kernel [{string.Join(", ", kernel)}] is not the 2×2 up-sampling", nameof(up));
        string w = Constant($"{prefix}.weight", layer.weight), b = Constant($"{prefix}.bias", layer.bias!);
        return Node("ConvTranspose", [x, w, b], null, Ints("kernel_shape", kernel), Ints("strides", kernel));
    }

    /// <summary>Batch normalisation with the running statistics (inference).</summary>
    public string BatchNorm(string x, Module<Tensor, Tensor> bn, string prefix)
    {
        var layer = bn as BatchNorm ?? throw new ArgumentException($"{prefix}: {bn?.GetType().Name} is not batch normalisation", nameof(bn));
        if (layer.running_mean is null || layer.running_var is null || layer.weight is null || layer.bias is null)
            throw new ArgumentException($"{prefix}: batch normalisation without affine weights or running statistics cannot be exported", nameof(bn));
        return Node("BatchNormalization",
            [x, Constant($"{prefix}.weight", layer.weight), Constant($"{prefix}.bias", layer.bias),
             Constant($"{prefix}.running_mean", layer.running_mean), Constant($"{prefix}.running_var", layer.running_var)],
            null, Float("epsilon", (float)layer.eps));
    }

    /// <summary>Max-pool, kernel 2, stride 2 (<see cref="Blocks.Layers.Down"/>).</summary>
    public string Down(string x, int spatialDims)
    {
        long[] two = [.. Enumerable.Repeat(2L, spatialDims)];
        return Node("MaxPool", [x], null, Ints("kernel_shape", two), Ints("strides", two));
    }

    /// <summary>ReLU.</summary>
    public string Relu(string x) => Node("Relu", [x]);

    /// <summary>Logistic sigmoid.</summary>
    public string Sigmoid(string x) => Node("Sigmoid", [x]);

    /// <summary>Element-wise sum.</summary>
    public string Add(string a, string b) => Node("Add", [a, b]);

    /// <summary>Element-wise (broadcast) product.</summary>
    public string Mul(string a, string b) => Node("Mul", [a, b]);

    /// <summary>Element-wise mean of the inputs (one input: itself).</summary>
    public string Mean(IReadOnlyList<string> values) => values.Count == 1 ? values[0] : Node("Mean", values);

    /// <summary>Concatenation along the channels.</summary>
    public string Concat(IReadOnlyList<string> values) => Node("Concat", values, null, Int("axis", 1));

    private void Claim(string name)
    {
        if (!_names.Add(name)) throw new InvalidOperationException($"the ONNX graph already has a value named '{name}'");
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}
