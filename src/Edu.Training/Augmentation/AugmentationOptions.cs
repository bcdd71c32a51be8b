using System.Text.Json.Serialization;

namespace Edu.Training.Augmentation;

/// <summary>
/// On-the-fly augmentation, applied per sample with a seed derived from (run seed, epoch, step, sample).
/// Probabilities are per sample; 0 turns a transform off.
/// </summary>
public sealed record AugmentationOptions
{
    /// <summary>Share of samples whose patch is centred on a foreground voxel (nnU-Net's 1/3).</summary>
    [JsonPropertyName("foreground_share")] public double ForegroundShare { get; init; } = 1.0 / 3;

    /// <summary>Probability of mirroring along each axis. Null: 0.5, or 0 when a label name says left/right (mirroring would swap them).</summary>
    [JsonPropertyName("flip")] public double? FlipProbability { get; init; }

    /// <summary>Probability of an in-plane 90° rotation (square patches only). Null: like <see cref="FlipProbability"/>.</summary>
    [JsonPropertyName("rot90")] public double? Rot90Probability { get; init; }

    /// <summary>Probability of a small in-plane affine transform.</summary>
    [JsonPropertyName("affine")] public double AffineProbability { get; init; } = 0.3;

    /// <summary>Largest rotation of the affine transform, degrees.</summary>
    [JsonPropertyName("rotation_degrees")] public double RotationDegrees { get; init; } = 15;

    /// <summary>Scale range of the affine transform (0.9 to 1.1: ±0.1).</summary>
    [JsonPropertyName("scale_range")] public double ScaleRange { get; init; } = 0.1;

    /// <summary>Probability of a per-channel intensity scale (0.9–1.1) and shift (±0.1).</summary>
    [JsonPropertyName("intensity")] public double IntensityProbability { get; init; } = 0.3;

    /// <summary>Probability of a gamma change (γ in 0.7–1.5 on the patch's min–max range).</summary>
    [JsonPropertyName("gamma")] public double GammaProbability { get; init; } = 0.3;

    /// <summary>Probability of additive Gaussian noise (σ up to <see cref="NoiseSigma"/>).</summary>
    [JsonPropertyName("noise")] public double NoiseProbability { get; init; } = 0.15;

    /// <summary>Largest noise standard deviation (in preprocessed intensity units).</summary>
    [JsonPropertyName("noise_sigma")] public double NoiseSigma { get; init; } = 0.1;

    /// <summary>No augmentation at all (patches are still sampled at random).</summary>
    public static AugmentationOptions None { get; } = new()
    {
        FlipProbability = 0, Rot90Probability = 0, AffineProbability = 0, IntensityProbability = 0, GammaProbability = 0, NoiseProbability = 0,
    };
}
