using Edu.Abstractions.Errors;
using Edu.Models.Checkpoints;
using Edu.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Inference;

/// <summary>
/// A net exported to ONNX and run by ONNX Runtime's CPU execution provider, behind TorchSharp's module interface so the
/// <see cref="Predictor"/> tiles, stitches and post-processes exactly as for the TorchSharp net. Each forward copies the
/// window batch out of LibTorch and the logits back (a few MB against the convolutions' cost). ONNX Runtime optimises the
/// graph when the session is made (Conv+BatchNorm folding, its blocked layout); it uses as many threads as LibTorch does.
/// </summary>
public sealed class OnnxRuntimeNet : Module<Tensor, Tensor>
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _options;

    /// <summary>A session for the serialised ONNX <paramref name="model"/> (input <c>image</c>, output <c>logits</c>).</summary>
    public OnnxRuntimeNet(byte[] model, int threads) : base(nameof(OnnxRuntimeNet))
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = Math.Max(1, threads),
            InterOpNumThreads = 1,
        };
        // no busy-waiting between runs: the predictor's stitching and a training job in the same worker need those cores
        _options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            _session = new InferenceSession(model, _options);
        }
        catch
        {
            _options.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <paramref name="net"/> (described by <paramref name="manifest"/>) exported to ONNX in a session using LibTorch's thread
    /// count, checked with <see cref="Verified"/>; the TorchSharp net is disposed. A net whose graph cannot be written or does
    /// not compute what the net computes is an <see cref="InvalidInputException"/> naming <paramref name="source"/>.
    /// </summary>
    public static OnnxRuntimeNet FromNet(Module<Tensor, Tensor> net, ModelManifest manifest, string source)
    {
        ArgumentNullException.ThrowIfNull(net);
        using (net)
            return Verified(net, manifest, source).Session;
    }

    /// <summary>
    /// Exports <paramref name="net"/> and runs the graph once against the net on a small seeded batch (the smallest size the
    /// net takes): a plugin's net that inherits a built-in graph but computes something else is refused here, not served. Returns
    /// the ONNX bytes and their session; a failure is an <see cref="InvalidInputException"/> naming <paramref name="source"/>.
    /// </summary>
    public static (byte[] Onnx, OnnxRuntimeNet Session) Verified(Module<Tensor, Tensor> net, ModelManifest manifest, string source)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(manifest);
        byte[] onnx;
        OnnxRuntimeNet session;
        try
        {
            onnx = OnnxExporter.ToBytes(net, manifest);
            session = new OnnxRuntimeNet(onnx, get_num_threads());
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException or InvalidOperationException or OnnxRuntimeException)
        {
            throw new InvalidInputException(source, $"cannot be written as ONNX for onnxruntime: {e.Message}", e);
        }
        try
        {
            var hp = manifest.Hyperparameters;
            long edge = 1L << hp.Depth;
            using var scope = NewDisposeScope();
            using var generator = new Generator(1234);
            using var noGrad = no_grad();
            var x = randn([1, hp.InChannels, .. Enumerable.Repeat(edge, hp.SpatialDims)], generator: generator);
            bool wasTraining = net.training;
            net.eval();
            var expected = net.forward(x).to(ScalarType.Float32);
            if (wasTraining) net.train();
            var actual = session.forward(x);
            double scale = Math.Max(1, expected.abs().max().item<float>());
            double worst = actual.shape.SequenceEqual(expected.shape) ? (actual - expected).abs().max().item<float>() : double.PositiveInfinity;
            if (!(worst <= 1e-3 * scale))
                throw new InvalidInputException(source,
                    $"its ONNX graph does not compute what the net computes (logits differ by {worst:G3} on a test batch); use the torch backend");
            return (onnx, session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The ONNX Runtime version in use.</summary>
    public static string RuntimeVersion => OrtEnv.Instance().GetVersionString();

    /// <summary>Logits for a float32 batch <c>[N, C, …]</c> on the CPU; returned on the CPU as float32.</summary>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.device_type != DeviceType.CPU)
            throw new InvalidOperationException($"ONNX Runtime runs on the CPU here; the input is on {input.device}");
        float[] data;
        using (var scope = NewDisposeScope())
            data = input.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(data, input.shape);
        using var run = new RunOptions();
        using var outputs = _session.Run(run, [OnnxExporter.InputName], [value], [OnnxExporter.OutputName]);
        var logits = outputs[0];
        long[] shape = logits.GetTensorTypeAndShape().Shape;
        return tensor(logits.GetTensorDataAsSpan<float>().ToArray(), shape, ScalarType.Float32);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _session.Dispose();
            _options.Dispose();
        }
        base.Dispose(disposing);
    }
}
