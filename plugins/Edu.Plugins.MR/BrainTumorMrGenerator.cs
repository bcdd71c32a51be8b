using Edu.Abstractions.Imaging;
using Edu.Abstractions.Synthetic;
using Edu.Plugins.Shared;

namespace Edu.Plugins.MR;

/// <summary>
/// Synthetic BraTS-like brain MR: four channels (T1, T1ce, T2, FLAIR) over an ellipsoidal brain with
/// zero background, and a tumour of three nested sub-regions with their typical contrasts: necrotic
/// core (1), peritumoural edema (2, bright on T2/FLAIR) and an enhancing rim (3, bright on T1ce).
/// Spacing 1 mm isotropic; size × size × max(8, size / 8) voxels.
/// </summary>
public sealed class BrainTumorMrGenerator : ISyntheticGenerator
{
    private static readonly double[][] Contrast =
    [
        // brain, necrosis, edema, enhancing   for T1, T1ce, T2, FLAIR
        [500, 250, 380, 450],
        [520, 260, 400, 1100],
        [700, 1300, 1200, 900],
        [600, 700, 1150, 800],
    ];

    /// <inheritdoc />
    public string ModalityId => "mr";

    /// <inheritdoc />
    public int DefaultSize => 128;

    /// <inheritdoc />
    public SyntheticCase Generate(int seed, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 32);
        var r = new Random(seed);
        int n = size, nz = Math.Max(8, size / 8);
        long plane = (long)n * n * nz;
        var image = new float[4 * plane];
        var labels = new float[plane];
        double cx = n / 2.0, cy = n / 2.0, cz = (nz - 1) / 2.0;
        double brx = n * Raster.Uniform(r, 0.36, 0.42), bry = n * Raster.Uniform(r, 0.42, 0.46), brz = nz * 0.55;
        double tx = cx + Raster.Uniform(r, -0.4, 0.4) * brx * 0.6, ty = cy + Raster.Uniform(r, -0.4, 0.4) * bry * 0.6, tz = cz;
        double edema = n * Raster.Uniform(r, 0.12, 0.18), rim = edema * Raster.Uniform(r, 0.5, 0.65), core = rim * Raster.Uniform(r, 0.45, 0.65);
        double zScale = n / (double)nz * 0.5;
        var wobble = Raster.SmoothField(r, 6, n * 0.2);
        var bias = Raster.SmoothField(r, 3, n * 1.2);
        for (int z = 0; z < nz; z++)
        {
            for (int y = 0; y < n; y++)
            {
                for (int x = 0; x < n; x++)
                {
                    long i = ((long)z * n + y) * n + x;
                    double ex = (x - cx) / brx, ey = (y - cy) / bry, ez = (z - cz) / brz;
                    if (ex * ex + ey * ey + ez * ez > 1) continue;
                    double dz = (z - tz) * zScale;
                    double d = Math.Sqrt((x - tx) * (x - tx) + (y - ty) * (y - ty) + dz * dz) * (1 + 0.15 * wobble(x, y + z));
                    int region = d <= core ? 1 : d <= rim ? 3 : d <= edema ? 2 : 0;
                    labels[i] = region;
                    int column = region switch { 1 => 1, 2 => 2, 3 => 3, _ => 0 };
                    double field = 1 + 0.08 * bias(x, y);
                    for (int c = 0; c < 4; c++)
                    {
                        double v = Contrast[c][column] * field + 25 * Raster.Gauss(r);
                        image[c * plane + i] = (float)Math.Max(1, Math.Round(v));
                    }
                }
            }
        }
        double[] spacing = [1, 1, 1];
        return new SyntheticCase(Raster.Volume(n, n, nz, spacing, 4, image, PixelType.Int16),
            Raster.Volume(n, n, nz, spacing, 1, labels, PixelType.UInt8));
    }
}
