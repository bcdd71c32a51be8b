using Edu.Abstractions.Imaging;
using Edu.Abstractions.Synthetic;
using Edu.Plugins.Shared;

namespace Edu.Plugins.Fundus;

/// <summary>
/// Synthetic colour fundus photographs (8-bit RGB): an orange-red retina inside a circular field of
/// view, a bright optic disc, a pale crescent of peripapillary atrophy beside it, a darker macula,
/// and vessels branching out of the disc. Labels: 1 = optic disc, 2 = atrophy, 3 = vessel
/// (vessels drawn over the disc or atrophy are labelled vessel).
/// </summary>
public sealed class FundusGenerator : ISyntheticGenerator
{
    /// <inheritdoc />
    public string ModalityId => "fundus";

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
        bool rightEye = r.Next(2) == 0;
        double dx = n * (rightEye ? 0.66 : 0.34) + n * Raster.Uniform(r, -0.03, 0.03), dy = n * Raster.Uniform(r, 0.45, 0.55);
        double discR = n * Raster.Uniform(r, 0.06, 0.08);
        double atrophyR = discR * Raster.Uniform(r, 1.3, 1.7), atrophyDir = rightEye ? Math.PI : 0;
        double mx = n - dx, my = dy;
        var vessel = new bool[plane];
        for (int b = 0; b < 8; b++)
        {
            double a = b * Math.PI / 4 + Raster.Uniform(r, -0.3, 0.3), x = dx, y = dy, w = n * Raster.Uniform(r, 0.006, 0.012);
            for (int s = 0; s < n; s++)
            {
                a += Raster.Uniform(r, -0.08, 0.08);
                x += Math.Cos(a); y += Math.Sin(a);
                if (x < 0 || y < 0 || x >= n || y >= n) break;
                Mark(vessel, n, x, y, w);
                if (s > n / 6 && r.NextDouble() < 0.01) w = Math.Max(n / 400.0, w * 0.8);
            }
        }
        var texture = Raster.SmoothField(r, 8, n * 0.1);
        double fov = n * 0.48;
        for (int y = 0; y < n; y++)
        {
            for (int x = 0; x < n; x++)
            {
                int i = y * n + x;
                double rr = Math.Sqrt((x - n / 2.0) * (x - n / 2.0) + (y - n / 2.0) * (y - n / 2.0));
                if (rr > fov)
                {
                    image[i] = image[plane + i] = image[2 * plane + i] = 0;
                    continue;
                }
                double ddx = x - dx, ddy = y - dy, dd = Math.Sqrt(ddx * ddx + ddy * ddy);
                double angle = Math.Abs(Math.IEEERemainder(Math.Atan2(ddy, ddx) - atrophyDir, 2 * Math.PI));
                int label = dd <= discR ? 1 : dd <= atrophyR && angle < 1.2 ? 2 : 0;
                if (vessel[i]) label = 3;
                labels[i] = label;
                double mac = Math.Exp(-((x - mx) * (x - mx) + (y - my) * (y - my)) / (2 * (n * 0.06) * (n * 0.06)));
                double edge = 1 - 0.5 * Math.Pow(rr / fov, 3);
                double[] rgb = label switch
                {
                    1 => [245, 215, 150],
                    2 => [230, 180, 130],
                    3 => [150, 35, 20],
                    _ => [200 - 60 * mac, 85 - 35 * mac, 35 - 10 * mac],
                };
                for (int c = 0; c < 3; c++)
                {
                    double v = rgb[c] * edge * (1 + 0.05 * texture(x, y)) + 3 * Raster.Gauss(r);
                    image[c * plane + i] = (float)Math.Round(Math.Clamp(v, 0, 255));
                }
            }
        }
        return new SyntheticCase(Raster.Plane(n, 3, image, PixelType.UInt8), Raster.Plane(n, 1, labels, PixelType.UInt8));
    }

    private static void Mark(bool[] mask, int n, double cx, double cy, double r)
    {
        for (int y = Math.Max(0, (int)(cy - r)); y <= Math.Min(n - 1, (int)(cy + r)); y++)
            for (int x = Math.Max(0, (int)(cx - r)); x <= Math.Min(n - 1, (int)(cx + r)); x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r + 1) mask[y * n + x] = true;
    }
}
