using System.Globalization;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Abstractions.Preprocessing;
using Edu.Imaging.Preprocessing;
using Edu.Inference.Postprocessing;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using Edu.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Inference;

/// <summary>
/// Segments images with a model package: preprocessing (the package's pipeline) → padding to a multiple of
/// 2^depth → sliding windows with Gaussian importance weighting (optionally averaged over flips) →
/// sigmoid/threshold (binary) or softmax/argmax (multi-class) → labels mapped back through every
/// preprocessing step into the source geometry → optional largest-component post-processing.
/// A 2-D model segments a volume slice by slice. Calls to <see cref="Predict"/> are serialised per instance.
/// </summary>
public sealed class Predictor : IDisposable
{
    /// <summary>The input name <see cref="InvalidInputException"/>s about the image use (hosts replace it with the file name).</summary>
    public const string ImageInputName = "image";

    private readonly Module<Tensor, Tensor> _model;
    private readonly bool _ownsModel;
    private readonly Device _device;
    private readonly ScalarType _dtype;
    private readonly PreprocessingRunner _runner;
    private readonly IReadOnlyList<int>? _configuredPatch;
    private readonly IReadOnlyList<string>? _channelNames;
    private readonly Lock _gate = new();
    private bool _disposed;

    private Predictor(Module<Tensor, Tensor> model, ModelManifest manifest, PredictorOptions options,
        IEnumerable<IPreprocessingStep>? customSteps, bool ownsModel, Device device, string? packageDirectory)
    {
        _model = model;
        _ownsModel = ownsModel;
        _device = device;
        Manifest = manifest;
        Options = options;
        PackageDirectory = packageDirectory;
        string source = packageDirectory is null ? $"model '{manifest.Name}'" : Path.Combine(packageDirectory, ModelPackage.ManifestFile);
        var hp = manifest.Hyperparameters;
        if (hp.SpatialDims is not (2 or 3) || hp.InChannels < 1 || hp.Classes < 1 || hp.Depth < 1 || hp.Depth > 8)
            throw new InvalidInputException(source, $"hyperparameters {hp} cannot be run: spatial dims 2 or 3, at least one input channel and class, depth 1..8");
        var package = ManifestPreprocessing.FromManifest(manifest, source);
        Pipeline = options.Pipeline ?? package.Pipeline;
        _runner = new PreprocessingRunner(customSteps);
        foreach (var step in Pipeline.Steps)
            if (!_runner.Steps.ContainsKey(step.Name))
                throw new InvalidInputException(Pipeline.ToString(),
                    $"unknown preprocessing step '{step.Name}' (a plugin's step? pass the plugins' steps); known: {string.Join(", ", _runner.Steps.Keys.Order(StringComparer.Ordinal))}");
        _channelNames = package.ChannelNames;
        _configuredPatch = options.PatchSize ?? package.PatchSize;
        if (_configuredPatch is { } p && p.Count != 1 && p.Count != hp.SpatialDims)
            throw new InvalidInputException(options.PatchSize is null ? source : "patch size",
                $"[{string.Join(", ", p)}] has {p.Count} values; a {hp.SpatialDims}-D model needs {hp.SpatialDims} ([x, y{(hp.SpatialDims == 3 ? ", z" : "")}]) or one for every axis");
        var first = model.parameters().FirstOrDefault();
        _dtype = first?.dtype ?? ScalarType.Float32;
        if (first is not null && first.device.ToString() != device.ToString())
            throw new InvalidInputException("device", $"the model's weights are on {first.device}, but the options ask for {device}");
        if (options.BFloat16 && _dtype != ScalarType.BFloat16)
            throw new InvalidInputException("bfloat16", "applies to a predictor that owns its model (Predictor.Load), or to a model already cast to bfloat16");
        if (_ownsModel) _model.eval();
    }

    /// <summary>The package's manifest (name, version, architecture, labels…).</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The options in force.</summary>
    public PredictorOptions Options { get; }

    /// <summary>The preprocessing every image goes through (the package's unless <see cref="PredictorOptions.Pipeline"/> overrides it).</summary>
    public PreprocessingPipeline Pipeline { get; }

    /// <summary>The package folder the model came from, or null for an in-memory model.</summary>
    public string? PackageDirectory { get; }

    /// <summary>
    /// Loads a model package (<paramref name="path"/> is the package folder or a training run whose package is in
    /// <c>RUN/model/</c>, see <see cref="ModelPackageLocator"/>) onto <see cref="PredictorOptions.Device"/>. The predictor
    /// owns the model. <paramref name="customSteps"/> are preprocessing steps from plugins (the standard steps are built in);
    /// <paramref name="catalogue"/> defaults to the built-in nets.
    /// </summary>
    public static Predictor Load(string path, PredictorOptions? options = null, IEnumerable<IPreprocessingStep>? customSteps = null,
        ModelCatalogue? catalogue = null)
    {
        options ??= new PredictorOptions();
        options.Validate();
        TorchRuntime.EnsureLoaded();
        if (InferenceBackends.Unsupported(options.Backend, options.Device, options.BFloat16) is { } reason)
            throw new InvalidInputException("backend", reason);
        var device = DeviceSpec.Parse(options.Device, "device");
        string directory = ModelPackageLocator.Resolve(path);
        var (manifest, model) = ModelPackage.Load(directory, catalogue ?? ModelCatalogue.CreateBuiltIn());
        if (options.Backend == InferenceBackend.OnnxRuntime)
            model = OnnxRuntimeNet.FromNet(model, manifest, directory);
        try
        {
            model.to(device);
            if (options.BFloat16) model.to(ScalarType.BFloat16);
            return new Predictor(model, manifest, options, customSteps, ownsModel: true, device, directory);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Wraps a model already in memory (e.g. the trainer's) with its manifest. The predictor does not own or move the
    /// model: its weights must be on <see cref="PredictorOptions.Device"/>. Each <see cref="Predict"/> switches it to eval
    /// mode and restores training mode afterwards if it was training.
    /// </summary>
    public static Predictor Create(Module<Tensor, Tensor> model, ModelManifest manifest, PredictorOptions? options = null,
        IEnumerable<IPreprocessingStep>? customSteps = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(manifest);
        options ??= new PredictorOptions();
        options.Validate();
        return new Predictor(model, manifest, options, customSteps, ownsModel: false, DeviceSpec.Parse(options.Device, "device"), null);
    }

    /// <summary>
    /// Segments <paramref name="image"/> (any geometry, 2-D or 3-D, the channels the model was trained on) and returns
    /// labels in its geometry. Cancellation is checked between window batches; <paramref name="progress"/> hears after each.
    /// An image whose channel count does not fit the model is an <see cref="InvalidInputException"/>; a model whose output
    /// (logits) holds NaN or ∞ is a <see cref="NumericsException"/> naming the model, and no labels are made.
    /// </summary>
    public Prediction Predict(ImageVolume image, CancellationToken cancellationToken = default, IProgress<PredictionProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var hp = Manifest.Hyperparameters;
        var (pre, applied) = _runner.Run(image, Pipeline);
        if (pre.Channels != hp.InChannels)
            throw new InvalidInputException(ImageInputName,
                $"has {image.Channels} channel(s){(pre.Channels != image.Channels ? $" ({pre.Channels} after preprocessing '{Pipeline}')" : "")}, " +
                $"but model '{Manifest.Name}' expects {hp.InChannels}{(_channelNames is { Count: > 0 } names ? $" ({string.Join(", ", names)})" : "")}");
        if (pre.Voxels.Any(v => !float.IsFinite(v)))
            throw new InvalidInputException(ImageInputName, "has NaN or infinite values after preprocessing; the model cannot segment it");

        float[] labelGrid;
        float[]? probGrid;
        int windows, perBatch;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            bool wasTraining = _model.training;
            if (wasTraining) _model.eval();
            try
            {
                (labelGrid, probGrid, windows, perBatch) = RunNetwork(pre, cancellationToken, progress);
            }
            finally
            {
                if (wasTraining) _model.train();
            }
        }

        int maxLabel = hp.Classes == 1 ? 1 : hp.Classes - 1;
        var pixel = maxLabel > 255 ? PixelType.UInt16 : PixelType.UInt8;
        var labels = _runner.RestoreLabels(new ImageVolume(pre.Geometry, 1, labelGrid, pixel), applied);
        if (labels.Size != image.Size)
            throw new InvalidOperationException($"restoring labels gave size {labels.Size}, not the image's {image.Size}");
        labels = new ImageVolume(image.Geometry, 1, labels.Voxels, pixel, LabelMetadata());
        if (Options.KeepLargestComponent)
            ConnectedComponents.KeepLargest(labels.Voxels, labels.Size, Options.Connectivity);

        ImageVolume? probabilities = null;
        if (probGrid is not null)
        {
            int k = probGrid.Length / (int)pre.Size.VoxelCount;
            long n = image.Size.VoxelCount;
            var all = new float[n * k];
            for (int c = 0; c < k; c++)
            {
                var channel = new ImageVolume(pre.Geometry, 1, probGrid.AsSpan(c * (int)pre.Size.VoxelCount, (int)pre.Size.VoxelCount).ToArray(), PixelType.Float32);
                _runner.RestoreLabels(channel, applied).Voxels.CopyTo(all, c * n);
            }
            probabilities = new ImageVolume(image.Geometry, k, all, PixelType.Float32, LabelMetadata());
        }
        return new Prediction(labels, Statistics(labels, maxLabel), probabilities, windows, perBatch);
    }

    /// <summary>Disposes the model when the predictor owns it (<see cref="Load"/>).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (_ownsModel) _model.Dispose();
        }
    }

    private Dictionary<string, string> LabelMetadata() => new()
    {
        ["Model"] = $"{Manifest.Name}:{Manifest.Version}",
        ["Architecture"] = Manifest.Architecture,
    };

    private List<LabelStatistics> Statistics(ImageVolume labels, int maxLabel)
    {
        var counts = new long[maxLabel + 1];
        foreach (float v in labels.Voxels)
        {
            int l = (int)v;
            if (l > 0 && l <= maxLabel) counts[l]++;
        }
        double ml = labels.Geometry.VoxelVolumeMl;
        var stats = new List<LabelStatistics>(maxLabel);
        for (int l = 1; l <= maxLabel; l++)
        {
            string key = l.ToString(CultureInfo.InvariantCulture);
            string name = Manifest.Labels.TryGetValue(key, out var n) ? n : $"label {key}";
            stats.Add(new LabelStatistics(l, name, counts[l], counts[l] * ml));
        }
        return stats;
    }

    private (float[] Labels, float[]? Probabilities, int Windows, int PerBatch) RunNetwork(ImageVolume pre, CancellationToken cancellationToken,
        IProgress<PredictionProgress>? progress)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var hp = Manifest.Hyperparameters;
        var s = pre.Size;
        int classes = hp.Classes;
        bool twoD = hp.SpatialDims == 2;
        int items = twoD ? s.Z : 1;
        int[] spatial = twoD ? [s.Y, s.X] : [s.Z, s.Y, s.X];
        int dims = spatial.Length;

        var x = tensor(pre.Voxels, [pre.Channels, s.Z, s.Y, s.X], ScalarType.Float32, _device);
        x = twoD ? x.permute(1, 0, 2, 3) : x.unsqueeze(0); // [N, C, *spatial]

        int multiple = 1 << hp.Depth;
        int[] patch = EffectivePatch(spatial, multiple);
        int[] padded = spatial.Select((v, i) => Math.Max(v, patch[i])).ToArray();
        int[] lower = padded.Select((p, i) => (p - spatial[i]) / 2).ToArray();
        if (padded.SequenceEqual(spatial) is false)
        {
            var pad = new long[2 * dims];
            for (int i = 0; i < dims; i++)
            {
                int fromLast = dims - 1 - i;
                pad[2 * fromLast] = lower[i];
                pad[2 * fromLast + 1] = padded[i] - spatial[i] - lower[i];
            }
            x = functional.pad(x, pad, PaddingModes.Constant, 0);
        }

        var starts = Cartesian(padded.Select((p, i) => SlidingWindow.Starts(p, patch[i], Options.Overlap)).ToArray());
        var weight = Options.GaussianWeighting
            ? tensor(SlidingWindow.GaussianWeights(patch), patch.Select(p => (long)p).ToArray(), ScalarType.Float32, _device)
            : ones(patch.Select(p => (long)p).ToArray(), ScalarType.Float32, _device);
        var accumulated = zeros([items, classes, .. padded.Select(p => (long)p)], ScalarType.Float32, _device);
        var weightSum = zeros(padded.Select(p => (long)p).ToArray(), ScalarType.Float32, _device);
        foreach (var start in starts)
            Region(weightSum, 0, start, patch).add_(weight, Scalars.One);

        var work = new List<(int Item, int[] Start)>(items * starts.Count);
        for (int n = 0; n < items; n++)
            foreach (var start in starts)
                work.Add((n, start));
        long[] expected = [0, classes, .. patch.Select(p => (long)p)];
        int perBatch = Options.BatchSize > 0
            ? Options.BatchSize
            : WindowBatch.Choose(patch, hp.EffectiveBaseChannels);
        perBatch = Math.Max(1, Math.Min(perBatch, work.Count));
        for (int b = 0; b < work.Count; b += perBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            var chunk = work.GetRange(b, Math.Min(perBatch, work.Count - b));
            var input = stack(chunk.Select(w => Region(x.select(0, w.Item), 1, w.Start, patch)), 0);
            var output = Forward(input, dims);
            expected[0] = chunk.Count;
            if (!output.shape.SequenceEqual(expected))
                throw new InvalidInputException(PackageDirectory ?? Manifest.Name,
                    $"the model returned logits of shape [{string.Join(", ", output.shape)}] for windows of [{string.Join(", ", input.shape)}]; expected [{string.Join(", ", expected)}]");
            if (!isfinite(output).all().item<bool>())
                throw new NumericsException($"model '{Manifest.Name}' version '{Manifest.Version}'{(PackageDirectory is null ? "" : $" ({PackageDirectory})")}: "
                    + "its output (logits) holds NaN or infinite values; no labels are made from it (are its weights finite?)");
            for (int j = 0; j < chunk.Count; j++)
                Region(accumulated.select(0, chunk[j].Item), 1, chunk[j].Start, patch).add_(output[j] * weight, Scalars.One);
            progress?.Report(new PredictionProgress(b + chunk.Count, work.Count));
        }

        var logits = accumulated.div_(weightSum); // in place: no second full-size copy
        for (int i = 0; i < dims; i++)
            logits = logits.narrow(2 + i, lower[i], spatial[i]);
        // labels straight from the logits (sigmoid is monotonic: p > t ⇔ logit > log(t / (1 − t))); probabilities only on request
        using var logitThreshold = Math.Log(Options.Threshold / (1.0 - Options.Threshold)).ToScalar();
        Tensor labels = classes == 1
            ? (logits > logitThreshold).to(ScalarType.Float32).squeeze(1)
            : logits.argmax(1).to(ScalarType.Float32);
        float[] labelArray = labels.cpu().contiguous().data<float>().ToArray();
        float[]? probArray = null;
        if (Options.ReturnProbabilities)
        {
            var probabilities = classes == 1 ? sigmoid(logits) : softmax(logits, 1);
            var p = twoD ? probabilities.permute(1, 0, 2, 3) : probabilities.squeeze(0); // [K, Z, Y, X]
            probArray = p.cpu().contiguous().data<float>().ToArray();
        }
        return (labelArray, probArray, work.Count, perBatch);
    }

    private Tensor Forward(Tensor input, int dims)
    {
        // the net's layout, once per batch; flips keep it (docs/cpu.md). ONNX Runtime takes plain NCHW: no round trip through channels-last
        var x = _model is OnnxRuntimeNet ? input.to(_dtype) : MemoryFormat.Apply(input.to(_dtype));
        var sum = _model.forward(x).to(ScalarType.Float32);
        if (!Options.FlipTta) return sum;
        int passes = 1 << dims;
        for (int mask = 1; mask < passes; mask++)
        {
            long[] axes = Enumerable.Range(0, dims).Where(a => (mask & (1 << a)) != 0).Select(a => (long)(2 + a)).ToArray();
            sum = sum.add(_model.forward(x.flip(axes)).to(ScalarType.Float32).flip(axes), Scalars.One);
        }
        return sum.div(Scalars.Of(passes));
    }

    private int[] EffectivePatch(int[] spatial, int multiple)
    {
        int dims = spatial.Length;
        var patch = new int[dims];
        for (int i = 0; i < dims; i++)
        {
            int wanted = _configuredPatch switch
            {
                null => dims == 2 ? PredictorOptions.DefaultMaxPatch2D : PredictorOptions.DefaultMaxPatch3D,
                { Count: 1 } p => p[0],
                var p => p[dims - 1 - i], // given [x, y(, z)]; spatial is [(z,) y, x]
            };
            int rounded = Math.Max(multiple, wanted / multiple * multiple);
            int whole = (spatial[i] + multiple - 1) / multiple * multiple;
            patch[i] = Math.Min(rounded, whole);
        }
        return patch;
    }

    private static Tensor Region(Tensor t, int firstSpatialDim, int[] start, int[] patch)
    {
        for (int i = 0; i < start.Length; i++)
            t = t.narrow(firstSpatialDim + i, start[i], patch[i]);
        return t;
    }

    private static List<int[]> Cartesian(int[][] axes)
    {
        var result = new List<int[]> { Array.Empty<int>() };
        foreach (var axis in axes)
            result = [.. result.SelectMany(prefix => axis.Select(v => (int[])[.. prefix, v]))];
        return result;
    }
}
