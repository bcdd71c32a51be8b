using Edu.Abstractions.Imaging;

namespace Edu.Plugins.Shared;

/// <summary>Small drawing and noise helpers for the synthetic generators; all randomness comes from the caller's <see cref="Random"/>.</summary>
internal static class Raster
{
    /// <summary>A standard normal sample (Box–Muller).</summary>
    public static double Gauss(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A Poisson sample; normal approximation above 30.</summary>
    public static double Poisson(Random random, double lambda)
    {
        if (lambda <= 0) return 0;
        if (lambda > 30) return Math.Max(0, Math.Round(lambda + Math.Sqrt(lambda) * Gauss(random)));
        double l = Math.Exp(-lambda), p = 1;
        int k = 0;
        do { k++; p *= random.NextDouble(); } while (p > l);
        return k - 1;
    }

    /// <summary>Uniform in [lo, hi).</summary>
    public static double Uniform(Random random, double lo, double hi) => lo + (hi - lo) * random.NextDouble();

    /// <summary>Whether (x, y) lies in the ellipse centred at (cx, cy) with radii (rx, ry) rotated by angle.</summary>
    public static bool InEllipse(double x, double y, double cx, double cy, double rx, double ry, double angle = 0)
    {
        double dx = x - cx, dy = y - cy, c = Math.Cos(angle), s = Math.Sin(angle);
        double u = (dx * c + dy * s) / rx, v = (-dx * s + dy * c) / ry;
        return u * u + v * v <= 1;
    }

    /// <summary>Sets every pixel of a disc (on a w×h plane at offset) to value.</summary>
    public static void Disc(float[] plane, int w, int h, double cx, double cy, double r, float value, int offset = 0)
    {
        int x0 = Math.Max(0, (int)Math.Floor(cx - r)), x1 = Math.Min(w - 1, (int)Math.Ceiling(cx + r));
        int y0 = Math.Max(0, (int)Math.Floor(cy - r)), y1 = Math.Min(h - 1, (int)Math.Ceiling(cy + r));
        double r2 = r * r;
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r2) plane[offset + y * w + x] = value;
    }

    /// <summary>A smooth random field in about [-1, 1]: a sum of a few random sinusoids.</summary>
    public static Func<double, double, double> SmoothField(Random random, int waves, double scale)
    {
        var f = new (double Kx, double Ky, double Phase)[waves];
        for (int i = 0; i < waves; i++)
        {
            double a = Uniform(random, 0, Math.PI * 2), k = Uniform(random, 0.5, 1.5) * 2 * Math.PI / scale;
            f[i] = (k * Math.Cos(a), k * Math.Sin(a), Uniform(random, 0, Math.PI * 2));
        }
        return (x, y) =>
        {
            double s = 0;
            foreach (var (kx, ky, p) in f) s += Math.Sin(kx * x + ky * y + p);
            return s / Math.Sqrt(waves);
        };
    }

    /// <summary>A 2-D image or label volume with unit spacing.</summary>
    public static ImageVolume Plane(int size, int channels, float[] voxels, PixelType type) =>
        new(ImageGeometry.Identity(new VolumeSize(size, size, 1)), channels, voxels, type);

    /// <summary>A 3-D volume with the given spacing, axis-aligned, centred on the world origin.</summary>
    public static ImageVolume Volume(int nx, int ny, int nz, double[] spacing, int channels, float[] voxels, PixelType type)
    {
        double[] origin = [-(nx - 1) * spacing[0] / 2, -(ny - 1) * spacing[1] / 2, -(nz - 1) * spacing[2] / 2];
        return new(new ImageGeometry(new VolumeSize(nx, ny, nz), spacing, origin, [1, 0, 0, 0, 1, 0, 0, 0, 1]), channels, voxels, type);
    }
}
