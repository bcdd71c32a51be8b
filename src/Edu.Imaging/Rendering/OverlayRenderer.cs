using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats.Png;

namespace Edu.Imaging.Rendering;

/// <summary>
/// Draws a label volume over an image as an RGB picture of one slice: the image windowed to grey (or
/// its own RGB), each label in a distinct colour blended with <see cref="OverlayOptions.Alpha"/>,
/// outlines optional. For review of segmentations, not for measurement.
/// </summary>
public static class OverlayRenderer
{
    private static readonly (byte R, byte G, byte B)[] Palette =
    [
        (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
        (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40),
    ];

    /// <summary>The colour of label <paramref name="label"/> (≥ 1): a fixed table, then golden-ratio hues.</summary>
    public static (byte R, byte G, byte B) ColorOf(int label)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(label, 1);
        if (label <= Palette.Length)
            return Palette[label - 1];
        double hue = (label * 0.618033988749895) % 1.0;
        return FromHsv(hue, 0.75, 0.95);
    }

    /// <summary>
    /// Renders one slice as a 3-channel UInt8 volume (Z = 1). <paramref name="labels"/> must have the
    /// image's size and one channel; label 0 is background.
    /// </summary>
    public static ImageVolume Render(ImageVolume image, ImageVolume labels, OverlayOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(labels);
        options ??= new OverlayOptions();
        if (labels.Size != image.Size)
            throw new InvalidInputException("labels", $"label size {labels.Size} differs from image size {image.Size}");
        if (labels.Channels != 1)
            throw new InvalidInputException("labels", $"a label volume has one channel, not {labels.Channels}");
        if (options.Alpha is < 0 or > 1 || float.IsNaN(options.Alpha))
            throw new InvalidInputException("alpha", $"{options.Alpha} is not between 0 and 1");
        var size = image.Size;
        int plane = size.X * size.Y;
        int z = options.Slice ?? BusiestSlice(labels);
        if (z < 0 || z >= size.Z)
            throw new InvalidInputException("slice", $"{z} is outside 0..{size.Z - 1}");
        var label = labels.Voxels.AsSpan(z * plane, plane);
        var rgb = new float[3 * plane];
        FillBackground(image, z, options, rgb);
        float a = options.Alpha;
        for (int i = 0; i < plane; i++)
        {
            int l = (int)label[i];
            if (l <= 0)
                continue;
            bool edge = options.Contour && IsEdge(label, i, size.X, size.Y);
            if (!edge && !options.Fill)
                continue;
            var (r, g, b) = ColorOf(l);
            float w = edge ? 1 : a;
            rgb[i] = MathF.Round((1 - w) * rgb[i] + w * r);
            rgb[plane + i] = MathF.Round((1 - w) * rgb[plane + i] + w * g);
            rgb[2 * plane + i] = MathF.Round((1 - w) * rgb[2 * plane + i] + w * b);
        }
        var g2 = image.Geometry;
        var geometry = new ImageGeometry(new VolumeSize(size.X, size.Y, 1), [.. g2.Spacing], [.. g2.Origin], [.. g2.Direction]);
        return new ImageVolume(geometry, 3, rgb, PixelType.UInt8, new Dictionary<string, string> { ["Slice"] = z.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    /// <summary>Renders as <see cref="Render"/> and writes an RGB PNG.</summary>
    public static void WritePng(ImageVolume image, ImageVolume labels, string path, OverlayOptions? options = null, CancellationToken cancellationToken = default) =>
        new PngWriter().Write(Render(image, labels, options), path, cancellationToken);

    private static int BusiestSlice(ImageVolume labels)
    {
        var size = labels.Size;
        int plane = size.X * size.Y, best = size.Z / 2, bestCount = 0;
        for (int z = 0; z < size.Z; z++)
        {
            int count = 0;
            foreach (float v in labels.Voxels.AsSpan(z * plane, plane))
            {
                if (v > 0)
                    count++;
            }
            if (count > bestCount)
                (best, bestCount) = (z, count);
        }
        return best;
    }

    private static void FillBackground(ImageVolume image, int z, OverlayOptions options, float[] rgb)
    {
        var size = image.Size;
        int plane = size.X * size.Y;
        long volume = size.VoxelCount;
        if (image.Channels >= 3)
        {
            for (int c = 0; c < 3; c++)
            {
                var src = image.Voxels.AsSpan((int)(c * volume + (long)z * plane), plane);
                var (lo, hi) = options.Window ?? (0, Math.Max(255, Max(src)));
                for (int i = 0; i < plane; i++)
                    rgb[c * plane + i] = Scale(src[i], lo, hi);
            }
            return;
        }
        var grey = image.Voxels.AsSpan(z * plane, plane);
        var (low, high) = options.Window ?? Percentiles(grey);
        for (int i = 0; i < plane; i++)
            rgb[i] = rgb[plane + i] = rgb[2 * plane + i] = Scale(grey[i], low, high);
    }

    private static float Scale(float v, double lo, double hi)
    {
        if (!(hi > lo))
            return v > lo ? 255 : 0;
        return (float)Math.Round(Math.Clamp((v - lo) / (hi - lo), 0, 1) * 255);
    }

    private static double Max(ReadOnlySpan<float> s)
    {
        float m = float.MinValue;
        foreach (float v in s) m = Math.Max(m, v);
        return m;
    }

    private static (double, double) Percentiles(ReadOnlySpan<float> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return (sorted[(int)(0.01 * (sorted.Length - 1))], sorted[(int)(0.99 * (sorted.Length - 1))]);
    }

    private static bool IsEdge(ReadOnlySpan<float> label, int i, int width, int height)
    {
        int x = i % width, y = i / width;
        float l = label[i];
        return x == 0 || y == 0 || x == width - 1 || y == height - 1
            || label[i - 1] != l || label[i + 1] != l || label[i - width] != l || label[i + width] != l;
    }

    private static (byte, byte, byte) FromHsv(double h, double s, double v)
    {
        int sector = (int)(h * 6) % 6;
        double f = h * 6 - Math.Floor(h * 6), p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
        var (r, g, b) = sector switch
        {
            0 => (v, t, p),
            1 => (q, v, p),
            2 => (p, v, t),
            3 => (p, q, v),
            4 => (t, p, v),
            _ => (v, p, q),
        };
        return ((byte)Math.Round(r * 255), (byte)Math.Round(g * 255), (byte)Math.Round(b * 255));
    }
}
