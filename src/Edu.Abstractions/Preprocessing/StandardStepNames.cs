namespace Edu.Abstractions.Preprocessing;

/// <summary>
/// Names of the standard preprocessing steps the framework implements (in Edu.Imaging). Plugins
/// use them in default pipelines and may not register custom steps under these names.
/// </summary>
public static class StandardStepNames
{
    /// <summary><c>clip(min=, max=)</c>: clamp intensities (CT in HU).</summary>
    public const string Clip = "clip";
    /// <summary><c>window(center=, width=)</c>: clamp to a display window and scale it to [0, 1].</summary>
    public const string Window = "window";
    /// <summary><c>zscore(mask=none|nonzero)</c>: per channel, subtract the mean and divide by the standard deviation, optionally over a mask only.</summary>
    public const string ZScore = "zscore";
    /// <summary><c>percentile(low=, high=)</c>: per channel, map the low..high percentiles to 0..1 and clamp.</summary>
    public const string Percentile = "percentile";
    /// <summary><c>scale(factor=, offset=)</c>: v · factor + offset (e.g. 8-bit RGB to [0, 1]).</summary>
    public const string Scale = "scale";
    /// <summary><c>resample(spacing=XxYxZ)</c>: linear resampling to a target spacing in mm (2-D images ignore z).</summary>
    public const string Resample = "resample";
    /// <summary><c>resize(size=WxH, pad=)</c>: in-plane resize keeping the aspect ratio, then centred padding to W×H.</summary>
    public const string Resize = "resize";
    /// <summary><c>rgb</c>: grey to three equal channels (RGB unchanged).</summary>
    public const string Rgb = "rgb";
    /// <summary><c>grey</c>: RGB to one luminance channel (grey unchanged).</summary>
    public const string Grey = "grey";

    /// <summary>Every standard name.</summary>
    public static IReadOnlyList<string> All { get; } = [Clip, Window, ZScore, Percentile, Scale, Resample, Resize, Rgb, Grey];
}
