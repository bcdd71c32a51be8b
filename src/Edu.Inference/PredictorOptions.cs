using Edu.Abstractions.Errors;
using Edu.Abstractions.Preprocessing;
using Edu.Inference.Postprocessing;

namespace Edu.Inference;

/// <summary>
/// How a <see cref="Predictor"/> runs. Defaults follow nnU-Net: overlap 0.5 with Gaussian importance
/// weighting (σ = patch / 8), no test-time augmentation, threshold 0.5 for binary models.
/// </summary>
public sealed record PredictorOptions
{
    /// <summary>Largest default window per axis when neither the options nor the package give a patch size (2-D models).</summary>
    public const int DefaultMaxPatch2D = 512;

    /// <summary>Largest default window per axis when neither the options nor the package give a patch size (3-D models).</summary>
    public const int DefaultMaxPatch3D = 128;

    /// <summary>Where tensors live: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (parsed with <c>DeviceSpec.Parse</c>).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// Sliding-window size in voxels of the preprocessed image, ordered [x, y] (2-D) or [x, y, z] (3-D), or one
    /// value for every axis. Null: the package's training patch size (<see cref="ManifestPreprocessing.PatchSize"/>),
    /// else the whole image capped at <see cref="DefaultMaxPatch2D"/> / <see cref="DefaultMaxPatch3D"/>. Rounded
    /// down to a multiple of 2^depth (at least 2^depth) and never larger than the padded image.
    /// </summary>
    public IReadOnlyList<int>? PatchSize { get; init; }

    /// <summary>Share of a window that overlaps its neighbour, 0 to 0.9: the step is patch · (1 − overlap).</summary>
    public double Overlap { get; init; } = 0.5;

    /// <summary>Weight window logits with a Gaussian (σ = patch / 8) when stitching; off: every voxel weighs 1.</summary>
    public bool GaussianWeighting { get; init; } = true;

    /// <summary>Test-time augmentation: average the logits over every combination of flips of the spatial axes (4 passes in 2-D, 8 in 3-D).</summary>
    public bool FlipTta { get; init; }

    /// <summary>Probability above which a voxel is foreground for a binary (1-logit) model.</summary>
    public float Threshold { get; init; } = 0.5f;

    /// <summary>Keep only the largest connected component of each label (others become background).</summary>
    public bool KeepLargestComponent { get; init; }

    /// <summary>Neighbourhood for <see cref="KeepLargestComponent"/>; default face (4 in 2-D, 6 in 3-D).</summary>
    public Connectivity Connectivity { get; init; } = Connectivity.Face;

    /// <summary>
    /// What runs the net: TorchSharp (default) or ONNX Runtime (CPU only; the package's net is exported to ONNX when it is
    /// loaded). Only for a predictor that loads its package (<see cref="Predictor.Load"/>).
    /// </summary>
    public InferenceBackend Backend { get; init; } = InferenceBackend.Torch;

    /// <summary>Run the net in bfloat16 (weights and inputs cast; logits back in float32). Only for a predictor that owns its model.</summary>
    public bool BFloat16 { get; init; }

    /// <summary>
    /// Sliding windows per forward pass; 0 (default): sized to memory by <see cref="WindowBatch.Choose"/> (as many as
    /// fit a share of the memory, at most <see cref="WindowBatch.MaxWindows"/>). On the CPU one window per pass
    /// costs 3.5× the time of 32 per pass for a 64×64 window of a small net (docs/benchmarks.md, "Windows per pass").
    /// </summary>
    public int BatchSize { get; init; }

    /// <summary>Return the probability map (one channel per class; foreground only for binary models) in the source geometry.</summary>
    public bool ReturnProbabilities { get; init; }

    /// <summary>Preprocessing to use instead of the package's (the package's is what the model was trained with: override with care).</summary>
    public PreprocessingPipeline? Pipeline { get; init; }

    /// <summary>Checks every value; a bad one is an <see cref="InvalidInputException"/> naming the option.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Device);
        if (!(Overlap >= 0 && Overlap <= 0.9))
            throw new InvalidInputException("overlap", $"{Overlap} is not between 0 and 0.9");
        if (!(Threshold > 0 && Threshold < 1))
            throw new InvalidInputException("threshold", $"{Threshold} is not strictly between 0 and 1");
        if (BatchSize is < 0 or > 256)
            throw new InvalidInputException("windows per batch", $"{BatchSize} is not between 1 and 256 (0: sized to memory)");
        if (PatchSize is { } p && (p.Count is < 1 or > 3 || p.Any(v => v is < 1 or > 4096)))
            throw new InvalidInputException("patch size", $"[{string.Join(", ", p)}] needs 1 to 3 values between 1 and 4096");
    }
}
