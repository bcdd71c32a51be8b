using Edu.Abstractions.Imaging;
using Edu.Abstractions.Preprocessing;

namespace Edu.Imaging.Preprocessing;

/// <summary>
/// The standard voxel-wise steps: <c>clip</c>, <c>window</c>, <c>zscore</c>, <c>percentile</c>,
/// <c>scale</c>, and the channel steps <c>rgb</c> and <c>grey</c>. None moves voxels, so the inverse
/// on labels is the identity.
/// </summary>
public sealed class IntensityStep : IPreprocessingStep
{
    /// <summary>Creates the step for one of the standard names it implements.</summary>
    public IntensityStep(string name)
    {
        if (name is not (StandardStepNames.Clip or StandardStepNames.Window or StandardStepNames.ZScore or StandardStepNames.Percentile
            or StandardStepNames.Scale or StandardStepNames.Rgb or StandardStepNames.Grey))
            throw new ArgumentException($"'{name}' is not a voxel-wise standard step", nameof(name));
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Description => Name switch
    {
        StandardStepNames.Clip => "clip(min=, max=): clamp intensities",
        StandardStepNames.Window => "window(center=, width=): clamp to the window and scale it to [0, 1]",
        StandardStepNames.ZScore => "zscore(mask=none|nonzero): per channel (v - mean) / std, statistics over the mask; outside the mask stays 0",
        StandardStepNames.Percentile => "percentile(low=, high=): per channel map the percentiles to [0, 1] and clamp",
        StandardStepNames.Scale => "scale(factor=, offset=): v * factor + offset",
        StandardStepNames.Rgb => "rgb: one channel to three equal ones",
        _ => "grey: three channels to one luminance channel (0.299 R + 0.587 G + 0.114 B)",
    };

    /// <inheritdoc />
    public PreprocessingStepResult Apply(ImageVolume image, PreprocessingStepSpec spec)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(spec);
        var applied = new AppliedStep(spec, image.Geometry, image.Channels, new Dictionary<string, string>());
        float[] v = (float[])image.Voxels.Clone();
        int channels = image.Channels;
        int n = checked((int)image.Size.VoxelCount);
        switch (Name)
        {
            case StandardStepNames.Clip:
                {
                    float lo = (float)spec.GetDouble("min", double.NegativeInfinity), hi = (float)spec.GetDouble("max", double.PositiveInfinity);
                    for (int i = 0; i < v.Length; i++) v[i] = Math.Clamp(v[i], lo, hi);
                    break;
                }
            case StandardStepNames.Window:
                {
                    double c = spec.GetDouble("center"), w = spec.GetDouble("width"), lo = c - w / 2;
                    for (int i = 0; i < v.Length; i++) v[i] = (float)Math.Clamp((v[i] - lo) / w, 0, 1);
                    break;
                }
            case StandardStepNames.Scale:
                {
                    double f = spec.GetDouble("factor"), o = spec.GetDouble("offset", 0);
                    for (int i = 0; i < v.Length; i++) v[i] = (float)(v[i] * f + o);
                    break;
                }
            case StandardStepNames.ZScore:
                {
                    bool nonzero = spec.GetString("mask", "none") == "nonzero";
                    var mask = new bool[n];
                    for (int i = 0; i < n; i++)
                    {
                        bool any = !nonzero;
                        for (int c = 0; c < channels && !any; c++) any = image.Voxels[c * n + i] != 0;
                        mask[i] = any;
                    }
                    for (int c = 0; c < channels; c++)
                    {
                        var ch = v.AsSpan(c * n, n);
                        double sum = 0, sq = 0;
                        long count = 0;
                        for (int i = 0; i < n; i++) if (mask[i]) { sum += ch[i]; sq += (double)ch[i] * ch[i]; count++; }
                        double mean = count > 0 ? sum / count : 0, std = count > 0 ? Math.Sqrt(Math.Max(0, sq / count - mean * mean)) : 1;
                        if (std < 1e-8) std = 1;
                        for (int i = 0; i < n; i++) ch[i] = mask[i] ? (float)((ch[i] - mean) / std) : 0;
                    }
                    break;
                }
            case StandardStepNames.Percentile:
                {
                    double low = spec.GetDouble("low", 0.5), high = spec.GetDouble("high", 99.5);
                    for (int c = 0; c < channels; c++)
                    {
                        var ch = v.AsSpan(c * n, n);
                        float[] sorted = ch.ToArray();
                        Array.Sort(sorted);
                        double lo = sorted[(int)Math.Round(low / 100 * (n - 1))], hi = sorted[(int)Math.Round(high / 100 * (n - 1))];
                        double range = hi - lo > 1e-8 ? hi - lo : 1;
                        for (int i = 0; i < n; i++) ch[i] = (float)Math.Clamp((ch[i] - lo) / range, 0, 1);
                    }
                    break;
                }
            case StandardStepNames.Rgb:
                if (channels == 1)
                {
                    v = [.. image.Voxels, .. image.Voxels, .. image.Voxels];
                    channels = 3;
                }
                break;
            case StandardStepNames.Grey:
                if (channels == 3)
                {
                    var grey = new float[n];
                    for (int i = 0; i < n; i++) grey[i] = 0.299f * v[i] + 0.587f * v[n + i] + 0.114f * v[2 * n + i];
                    v = grey;
                    channels = 1;
                }
                break;
        }
        return new PreprocessingStepResult(new ImageVolume(image.Geometry, channels, v, image.SourcePixelType, image.Metadata), applied);
    }

    /// <inheritdoc />
    public ImageVolume InvertLabels(ImageVolume labels, AppliedStep applied) => labels;
}
