using Edu.Abstractions.Imaging;
using Edu.Abstractions.Preprocessing;

namespace Edu.Plugins.Ultrasound;

/// <summary>
/// <c>despeckle(radius=R)</c>: a (2R+1)² median filter per slice and channel, the classic first step
/// against ultrasound speckle. An intensity step: geometry is unchanged, so labels invert as they are.
/// </summary>
public sealed class DespeckleStep : IPreprocessingStep
{
    /// <inheritdoc />
    public string Name => "despeckle";

    /// <inheritdoc />
    public string Description => "despeckle(radius=1): median filter over a (2·radius+1)² window, per slice and channel";

    /// <inheritdoc />
    public PreprocessingStepResult Apply(ImageVolume image, PreprocessingStepSpec spec)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(spec);
        double r = spec.GetDouble("radius", 1);
        if (r is < 0 or > 5 || r != Math.Floor(r))
            throw new Edu.Abstractions.Errors.InvalidInputException($"despeckle(radius={r})", "radius must be a whole number from 0 to 5");
        int radius = (int)r, w = image.Size.X, h = image.Size.Y;
        int planes = image.Channels * image.Size.Z;
        var output = new float[image.Voxels.Length];
        var window = new float[(2 * radius + 1) * (2 * radius + 1)];
        for (int p = 0; p < planes; p++)
        {
            int offset = p * w * h;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int n = 0;
                    for (int dy = -radius; dy <= radius; dy++)
                        for (int dx = -radius; dx <= radius; dx++)
                        {
                            int yy = Math.Clamp(y + dy, 0, h - 1), xx = Math.Clamp(x + dx, 0, w - 1);
                            window[n++] = image.Voxels[offset + yy * w + xx];
                        }
                    Array.Sort(window, 0, n);
                    output[offset + y * w + x] = window[n / 2];
                }
        }
        var result = new ImageVolume(image.Geometry, image.Channels, output, image.SourcePixelType, image.Metadata);
        return new PreprocessingStepResult(result, new AppliedStep(spec, image.Geometry, image.Channels, new Dictionary<string, string>()));
    }

    /// <inheritdoc />
    public ImageVolume InvertLabels(ImageVolume labels, AppliedStep applied) => labels;
}
