using Edu.Abstractions.Imaging;
using Edu.Abstractions.Synthetic;

namespace Edu.Plugins.Ultrasound;

/// <summary>
/// Synthetic B-mode images (8-bit): a fan-shaped field of view from a probe at the top, tissue whose
/// echogenicity varies smoothly and falls off with depth, fully developed speckle (Rayleigh-distributed
/// multiplicative noise with a lateral grain), and one hypoechoic lesion (a dark ellipse) with a brighter band behind it
/// (posterior acoustic enhancement). Label 1 = lesion, exact. Deterministic for a seed.
/// </summary>
public sealed class SpeckleLesionGenerator : ISyntheticGenerator
{
    /// <inheritdoc />
    public string ModalityId => "ultrasound";

    /// <inheritdoc />
    public int DefaultSize => 256;

    /// <inheritdoc />
    public SyntheticCase Generate(int seed, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 32);
        var r = new Random(seed);
        int n = size;
        var image = new float[n * n];
        var labels = new float[n * n];
        double apexX = n / 2.0, apexY = -n * 0.15, halfAngle = Uniform(r, 0.55, 0.7), maxDepth = n * 1.12;
        double lx = n * Uniform(r, 0.35, 0.65), ly = n * Uniform(r, 0.35, 0.65);
        double rx = n * Uniform(r, 0.07, 0.14), ry = n * Uniform(r, 0.05, 0.11), tilt = Uniform(r, -0.6, 0.6);
        double contrast = Uniform(r, 0.15, 0.35);
        double k1 = Uniform(r, 2, 5) * Math.PI / n, k2 = Uniform(r, 2, 5) * Math.PI / n, ph = Uniform(r, 0, Math.PI * 2);
        float[] speckle = Speckle(r, n);
        for (int y = 0; y < n; y++)
        {
            for (int x = 0; x < n; x++)
            {
                int i = y * n + x;
                double dx = x - apexX, dy = y - apexY;
                double depth = Math.Sqrt(dx * dx + dy * dy), angle = Math.Atan2(dx, dy);
                if (Math.Abs(angle) > halfAngle || depth > maxDepth) continue; // outside the fan: black
                double c = Math.Cos(tilt), s = Math.Sin(tilt);
                double u = ((x - lx) * c + (y - ly) * s) / rx, v = (-(x - lx) * s + (y - ly) * c) / ry;
                bool lesion = u * u + v * v <= 1;
                double echo = 0.55 + 0.12 * Math.Sin(k1 * x + ph) * Math.Cos(k2 * y);
                echo *= Math.Exp(-0.9 * depth / n); // attenuation with depth
                if (lesion)
                {
                    echo *= contrast;
                    labels[i] = 1;
                }
                else if (y > ly && Math.Abs(x - lx) < rx * 0.8 && y < ly + n * 0.25)
                    echo *= 1.25; // posterior acoustic enhancement behind the fluid-like lesion
                image[i] = (float)Math.Round(Math.Clamp(echo * speckle[i], 0, 1) * 255);
            }
        }
        var geometry = ImageGeometry.Identity(new VolumeSize(n, n, 1));
        return new SyntheticCase(new ImageVolume(geometry, 1, image, PixelType.UInt8), new ImageVolume(geometry, 1, labels, PixelType.UInt8));
    }

    /// <summary>
    /// Fully developed speckle with a grain: the magnitude of a complex Gaussian field smoothed by a
    /// point-spread function wider laterally (x) than axially (y), as a transducer's is. The magnitude is
    /// Rayleigh-distributed; it is scaled to mean 1.
    /// </summary>
    private static float[] Speckle(Random r, int n)
    {
        double[] lateral = [1, 2, 3, 2, 1], axial = [1, 2, 1];
        var re = new double[n * n];
        var im = new double[n * n];
        for (int i = 0; i < re.Length; i++)
        {
            double u1 = 1.0 - r.NextDouble(), u2 = r.NextDouble(), m = Math.Sqrt(-2.0 * Math.Log(u1));
            re[i] = m * Math.Cos(2 * Math.PI * u2);
            im[i] = m * Math.Sin(2 * Math.PI * u2);
        }
        var magnitude = new float[n * n];
        double sum = 0;
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
            {
                double a = 0, b = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -2; dx <= 2; dx++)
                    {
                        int j = Math.Clamp(y + dy, 0, n - 1) * n + Math.Clamp(x + dx, 0, n - 1);
                        double w = axial[dy + 1] * lateral[dx + 2];
                        a += w * re[j];
                        b += w * im[j];
                    }
                magnitude[y * n + x] = (float)Math.Sqrt(a * a + b * b);
                sum += magnitude[y * n + x];
            }
        float mean = (float)(sum / magnitude.Length);
        for (int i = 0; i < magnitude.Length; i++) magnitude[i] /= mean;
        return magnitude;
    }

    private static double Uniform(Random r, double lo, double hi) => lo + (hi - lo) * r.NextDouble();
}
