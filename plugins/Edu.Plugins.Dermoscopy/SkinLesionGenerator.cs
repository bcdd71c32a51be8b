using Edu.Abstractions.Imaging;
using Edu.Abstractions.Synthetic;
using Edu.Plugins.Shared;

namespace Edu.Plugins.Dermoscopy;

/// <summary>
/// Synthetic dermoscopy (8-bit RGB): skin with uneven lighting and a dark vignette, an irregular
/// pigmented lesion with a darker network, and dark hairs crossing it. Label 1 = lesion (hairs over
/// the lesion stay lesion, as in ISIC ground truth).
/// </summary>
public sealed class SkinLesionGenerator : ISyntheticGenerator
{
    /// <inheritdoc />
    public string ModalityId => "dermoscopy";

    /// <inheritdoc />
    public int DefaultSize => 256;

    /// <inheritdoc />
    public SyntheticCase Generate(int seed, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 32);
        var r = new Random(seed);
        int n = size, plane = n * n;
        var image = new float[3 * plane];
        var labels = new float[plane];
        double cx = n * Raster.Uniform(r, 0.4, 0.6), cy = n * Raster.Uniform(r, 0.4, 0.6), radius = n * Raster.Uniform(r, 0.18, 0.3);
        var harmonics = Enumerable.Range(2, 4).Select(k => (K: k, A: Raster.Uniform(r, 0, 0.12), P: Raster.Uniform(r, 0, 2 * Math.PI))).ToArray();
        double lx = Raster.Uniform(r, -1, 1), ly = Raster.Uniform(r, -1, 1);
        var network = Raster.SmoothField(r, 12, n * 0.05);
        double[] skin = [Raster.Uniform(r, 200, 235), Raster.Uniform(r, 150, 180), Raster.Uniform(r, 130, 160)];
        double[] pigment = [Raster.Uniform(r, 90, 130), Raster.Uniform(r, 55, 80), Raster.Uniform(r, 35, 60)];
        var hair = new bool[plane];
        int hairs = r.Next(2, 8);
        for (int h = 0; h < hairs; h++)
        {
            double x = Raster.Uniform(r, 0, n), y = Raster.Uniform(r, 0, n), a = Raster.Uniform(r, 0, 2 * Math.PI), bend = Raster.Uniform(r, -0.01, 0.01);
            double width = Math.Max(0.6, n / 300.0);
            for (int s = 0; s < 2 * n; s++)
            {
                x += Math.Cos(a); y += Math.Sin(a); a += bend;
                int x0 = (int)x, y0 = (int)y;
                for (int yy = (int)(y0 - width); yy <= y0 + width; yy++)
                    for (int xx = (int)(x0 - width); xx <= x0 + width; xx++)
                        if (xx >= 0 && yy >= 0 && xx < n && yy < n) hair[yy * n + xx] = true;
            }
        }
        for (int y = 0; y < n; y++)
        {
            for (int x = 0; x < n; x++)
            {
                int i = y * n + x;
                double dx = x - cx, dy = y - cy, theta = Math.Atan2(dy, dx);
                double edge = radius * (1 + harmonics.Sum(h => h.A * Math.Sin(h.K * theta + h.P)));
                double d = Math.Sqrt(dx * dx + dy * dy);
                bool lesion = d <= edge;
                labels[i] = lesion ? 1 : 0;
                double u = (x - n / 2.0) / n, v = (y - n / 2.0) / n;
                double light = 1 + 0.15 * (lx * u + ly * v) - 0.6 * (u * u + v * v);
                for (int c = 0; c < 3; c++)
                {
                    double value = lesion ? pigment[c] * (1 + 0.25 * network(x, y) - 0.2 * (1 - d / edge)) : skin[c];
                    if (hair[i]) value = 35 + 10 * c;
                    value = value * light + 4 * Raster.Gauss(r);
                    image[c * plane + i] = (float)Math.Round(Math.Clamp(value, 0, 255));
                }
            }
        }
        return new SyntheticCase(Raster.Plane(n, 3, image, PixelType.UInt8), Raster.Plane(n, 1, labels, PixelType.UInt8));
    }
}
