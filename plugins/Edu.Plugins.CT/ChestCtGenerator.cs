using Edu.Abstractions.Imaging;
using Edu.Abstractions.Synthetic;
using Edu.Plugins.Shared;

namespace Edu.Plugins.CT;

/// <summary>
/// Synthetic chest CT in HU: air around an elliptic body of soft tissue, two lungs at about −850 HU
/// with vessels, a vertebra of bone, and one to four solid nodules in the lungs; Gaussian noise.
/// Spacing 0.7 × 0.7 × 2.5 mm; size × size × max(8, size / 8) voxels. Labels: 1 = lung, 2 = nodule.
/// </summary>
public sealed class ChestCtGenerator : ISyntheticGenerator
{
    /// <inheritdoc />
    public string ModalityId => "ct";

    /// <inheritdoc />
    public int DefaultSize => 128;

    /// <inheritdoc />
    public SyntheticCase Generate(int seed, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 32);
        var r = new Random(seed);
        int n = size, nz = Math.Max(8, size / 8);
        double[] spacing = [0.7, 0.7, 2.5];
        var image = new float[n * n * nz];
        var labels = new float[n * n * nz];
        double cx = n / 2.0, cy = n * 0.52;
        double bodyRx = n * Raster.Uniform(r, 0.42, 0.46), bodyRy = n * Raster.Uniform(r, 0.3, 0.34);
        double lungRx = n * 0.15, lungRy = n * 0.2, lungDx = n * 0.2;
        double zc = (nz - 1) / 2.0, lungRz = nz * 0.6;
        int count = r.Next(1, 5);
        var nodules = new List<(double X, double Y, double Z, double R)>();
        for (int k = 0; k < count; k++)
        {
            double side = r.Next(2) == 0 ? -1 : 1;
            double rad = Raster.Uniform(r, 3, 8) / 0.7 * (n / 128.0);
            nodules.Add((cx + side * lungDx + Raster.Uniform(r, -0.5, 0.5) * lungRx, cy + Raster.Uniform(r, -0.5, 0.5) * lungRy,
                zc + Raster.Uniform(r, -0.3, 0.3) * nz, Math.Max(1.5, rad)));
        }
        var vessels = Raster.SmoothField(r, 8, n * 0.15);
        for (int z = 0; z < nz; z++)
        {
            double dz = (z - zc) / lungRz, shrink = Math.Sqrt(Math.Max(0, 1 - dz * dz));
            for (int y = 0; y < n; y++)
            {
                for (int x = 0; x < n; x++)
                {
                    int i = (z * n + y) * n + x;
                    double hu = -1000, lab = 0;
                    if (Raster.InEllipse(x, y, cx, cy, bodyRx, bodyRy))
                    {
                        hu = Raster.InEllipse(x, y, cx, cy, bodyRx, bodyRy) && !Raster.InEllipse(x, y, cx, cy, bodyRx - n * 0.03, bodyRy - n * 0.03) ? -100 : 40;
                        if (shrink > 0 && (Raster.InEllipse(x, y, cx - lungDx, cy, lungRx * shrink, lungRy * shrink)
                                        || Raster.InEllipse(x, y, cx + lungDx, cy, lungRx * shrink, lungRy * shrink)))
                        {
                            hu = vessels(x, y + 3 * z) > 1.2 ? -300 : -850;
                            lab = 1;
                            foreach (var (nx, ny, nzc, nr) in nodules)
                            {
                                double ddz = (z - nzc) * spacing[2] / spacing[0];
                                if ((x - nx) * (x - nx) + (y - ny) * (y - ny) + ddz * ddz <= nr * nr) { hu = 30; lab = 2; }
                            }
                        }
                        if (Raster.InEllipse(x, y, cx, cy + bodyRy * 0.75, n * 0.05, n * 0.05)) hu = 700;
                    }
                    image[i] = (float)Math.Round(hu + 20 * Raster.Gauss(r));
                    labels[i] = (float)lab;
                }
            }
        }
        return new SyntheticCase(Raster.Volume(n, n, nz, spacing, 1, image, PixelType.Int16),
            Raster.Volume(n, n, nz, spacing, 1, labels, PixelType.UInt8));
    }
}
