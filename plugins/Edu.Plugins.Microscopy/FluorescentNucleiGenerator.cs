using Edu.Abstractions.Imaging;
using Edu.Abstractions.Synthetic;
using Edu.Plugins.Shared;

namespace Edu.Plugins.Microscopy;

/// <summary>
/// Synthetic 16-bit fluorescence images of stained nuclei: elliptic nuclei with textured chromatin,
/// some placed in touching pairs, a dim uneven background, and Poisson (shot) noise.
/// Label 1 = nucleus (touching nuclei share the label; the image shows their boundary).
/// </summary>
public sealed class FluorescentNucleiGenerator : ISyntheticGenerator
{
    /// <inheritdoc />
    public string ModalityId => "microscopy";

    /// <inheritdoc />
    public int DefaultSize => 256;

    /// <inheritdoc />
    public SyntheticCase Generate(int seed, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 32);
        var r = new Random(seed);
        int n = size;
        var signal = new double[n * n];
        var labels = new float[n * n];
        var background = Raster.SmoothField(r, 4, n);
        for (int i = 0; i < n * n; i++) signal[i] = 120 + 30 * background(i % n, i / n);
        int count = Math.Max(3, n * n / 2500);
        double radius = n / 28.0;
        var nuclei = new List<(double X, double Y, double Rx, double Ry, double A, double B)>();
        for (int k = 0; k < count; k++)
        {
            double x = Raster.Uniform(r, radius, n - radius), y = Raster.Uniform(r, radius, n - radius);
            double rx = radius * Raster.Uniform(r, 0.8, 1.3), ry = radius * Raster.Uniform(r, 0.7, 1.1), a = Raster.Uniform(r, 0, Math.PI);
            double brightness = Raster.Uniform(r, 1500, 3500);
            nuclei.Add((x, y, rx, ry, a, brightness));
            if (k % 3 == 0)
            {
                // a touching neighbour: centre just under two radii away along a random direction
                double dir = Raster.Uniform(r, 0, 2 * Math.PI), dist = (rx + ry) * 0.95;
                nuclei.Add((x + dist * Math.Cos(dir), y + dist * Math.Sin(dir), rx * 0.9, ry, a + 0.5, brightness * Raster.Uniform(r, 0.7, 1.2)));
            }
        }
        var chromatin = Raster.SmoothField(r, 10, radius * 0.8);
        foreach (var (x0, y0, rx, ry, a, b) in nuclei)
        {
            double reach = Math.Max(rx, ry) + 1;
            for (int y = Math.Max(0, (int)(y0 - reach)); y <= Math.Min(n - 1, (int)(y0 + reach)); y++)
            {
                for (int x = Math.Max(0, (int)(x0 - reach)); x <= Math.Min(n - 1, (int)(x0 + reach)); x++)
                {
                    if (!Raster.InEllipse(x, y, x0, y0, rx, ry, a)) continue;
                    int i = y * n + x;
                    double edge = Raster.InEllipse(x, y, x0, y0, rx - 1.2, ry - 1.2, a) ? 1.0 : 0.6;
                    signal[i] = Math.Max(signal[i] * (labels[i] > 0 ? 0.5 : 1), b * edge * (1 + 0.2 * chromatin(x, y)));
                    labels[i] = 1;
                }
            }
        }
        var image = new float[n * n];
        for (int i = 0; i < n * n; i++) image[i] = (float)Math.Min(65535, Raster.Poisson(r, signal[i]));
        return new SyntheticCase(Raster.Plane(n, 1, image, PixelType.UInt16), Raster.Plane(n, 1, labels, PixelType.UInt8));
    }
}
