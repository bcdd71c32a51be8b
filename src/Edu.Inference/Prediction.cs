using Edu.Abstractions.Imaging;

namespace Edu.Inference;

/// <summary>
/// What <see cref="Predictor.Predict"/> returns: plain managed data, no tensors, safe to keep and to send anywhere.
/// </summary>
public sealed class Prediction
{
    /// <summary>Creates a prediction.</summary>
    public Prediction(ImageVolume labels, IReadOnlyList<LabelStatistics> statistics, ImageVolume? probabilities, int windows, int windowsPerBatch = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowsPerBatch, 1);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(statistics);
        Labels = labels;
        Statistics = statistics;
        Probabilities = probabilities;
        Windows = windows;
        WindowsPerBatch = windowsPerBatch;
    }

    /// <summary>
    /// One channel of integer label values (0 background) in the source image's geometry: same size, spacing,
    /// origin and direction as the image passed to <see cref="Predictor.Predict"/>. Pixel type UInt8 (UInt16 above 255 labels).
    /// </summary>
    public ImageVolume Labels { get; }

    /// <summary>Voxel count and volume in ml for every foreground label the model knows (zero when absent), by label value.</summary>
    public IReadOnlyList<LabelStatistics> Statistics { get; }

    /// <summary>
    /// With <see cref="PredictorOptions.ReturnProbabilities"/>: probabilities in the source geometry (nearest-neighbour
    /// through geometric steps), one channel per class (K ≥ 2) or the foreground probability (binary); otherwise null.
    /// </summary>
    public ImageVolume? Probabilities { get; }

    /// <summary>Windows the network ran (flips not counted).</summary>
    public int Windows { get; }

    /// <summary>Windows per forward pass (<see cref="PredictorOptions.BatchSize"/>, or the size <see cref="WindowBatch.Choose"/> picked).</summary>
    public int WindowsPerBatch { get; }
}
