using Edu.Abstractions.Imaging;
using Edu.Abstractions.Synthetic;
using Edu.Plugins.Shared;

namespace Edu.Plugins.Endoscopy;

/// <summary>
/// Synthetic colonoscopy frames (8-bit RGB): pink mucosa with folds and vessels, a darker lumen,
/// one raised polyp shaded by the light, specular highlights, and a black border outside the
/// circular field of view. Label 1 = polyp (highlights on the polyp stay polyp).
/// </summary>
public sealed class PolypGenerator : ISyntheticGenerator
{
    /// <inheritdoc />
    public string ModalityId => "endoscopy";

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
        double lumX = n * Raster.Uniform(r, 0.3, 0.7), lumY = n * Raster.Uniform(r, 0.3, 0.7);
        double px = n * Raster.Uniform(r, 0.3, 0.7), py = n * Raster.Uniform(r, 0.3, 0.7);
        double prx = n * Raster.Uniform(r, 0.08, 0.18), pry = prx * Raster.Uniform(r, 0.7, 1.0), pa = Raster.Uniform(r, 0, Math.PI);
        var folds = Raster.SmoothField(r, 6, n * 0.3);
        var vessels = Raster.SmoothField(r, 10, n * 0.08);
        var highlights = new List<(double X, double Y, double R)>();
        for (int k = r.Next(3, 9); k > 0; k--)
        {
            bool onPolyp = k % 2 == 0;
            double hx = onPolyp ? px + Raster.Uniform(r, -0.5, 0.5) * prx : n * Raster.Uniform(r, 0.1, 0.9);
            double hy = onPolyp ? py + Raster.Uniform(r, -0.5, 0.5) * pry : n * Raster.Uniform(r, 0.1, 0.9);
            highlights.Add((hx, hy, n * Raster.Uniform(r, 0.005, 0.02)));
        }
        double fov = n * 0.52;
        for (int y = 0; y < n; y++)
        {
            for (int x = 0; x < n; x++)
            {
                int i = y * n + x;
                double rr = Math.Sqrt((x - n / 2.0) * (x - n / 2.0) + (y - n / 2.0) * (y - n / 2.0));
                bool polyp = Raster.InEllipse(x, y, px, py, prx, pry, pa);
                labels[i] = polyp ? 1 : 0;
                double lum = Math.Exp(-((x - lumX) * (x - lumX) + (y - lumY) * (y - lumY)) / (2 * (n * 0.12) * (n * 0.12)));
                double shade = 1 - 0.75 * lum + 0.08 * folds(x, y);
                double[] rgb = [205, 120, 110];
                if (Math.Abs(vessels(x, y)) < 0.05) { rgb[0] = 170; rgb[1] = 70; rgb[2] = 75; }
                if (polyp)
                {
                    double dx = (x - px) / prx, dy = (y - py) / pry;
                    double height = Math.Sqrt(Math.Max(0, 1 - dx * dx - dy * dy));
                    shade = 0.75 + 0.35 * height - 0.15 * dx;
                    rgb = [215, 135, 115];
                }
                bool specular = highlights.Any(h => (x - h.X) * (x - h.X) + (y - h.Y) * (y - h.Y) <= h.R * h.R);
                for (int c = 0; c < 3; c++)
                {
                    double v = specular ? 250 : rgb[c] * shade + 5 * Raster.Gauss(r);
                    if (rr > fov) v = 2;
                    image[c * plane + i] = (float)Math.Round(Math.Clamp(v, 0, 255));
                }
            }
        }
        return new SyntheticCase(Raster.Plane(n, 3, image, PixelType.UInt8), Raster.Plane(n, 1, labels, PixelType.UInt8));
    }
}
