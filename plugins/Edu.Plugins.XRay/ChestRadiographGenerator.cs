using Edu.Abstractions.Imaging;
using Edu.Abstractions.Synthetic;
using Edu.Plugins.Shared;

namespace Edu.Plugins.XRay;

/// <summary>
/// Synthetic PA chest radiographs (8-bit): a bright body with a mediastinum and spine, two dark lung
/// fields crossed by curved ribs, smooth exposure variation and noise. Labels: 1 = left lung (image
/// right), 2 = right lung (image left), exact regardless of the ribs over them.
/// </summary>
public sealed class ChestRadiographGenerator : ISyntheticGenerator
{
    /// <inheritdoc />
    public string ModalityId => "xray";

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
        double cx = n * (0.5 + Raster.Uniform(r, -0.03, 0.03));
        double lungY = n * (0.47 + Raster.Uniform(r, -0.03, 0.03));
        double rightX = cx - n * Raster.Uniform(r, 0.17, 0.2), leftX = cx + n * Raster.Uniform(r, 0.17, 0.2);
        double rxR = n * Raster.Uniform(r, 0.12, 0.15), ryR = n * Raster.Uniform(r, 0.24, 0.29);
        double rxL = n * Raster.Uniform(r, 0.11, 0.14), ryL = n * Raster.Uniform(r, 0.23, 0.28);
        double tilt = Raster.Uniform(r, -0.1, 0.1);
        double ribPeriod = n * Raster.Uniform(r, 0.065, 0.085), ribPhase = Raster.Uniform(r, 0, 2 * Math.PI);
        double heartX = cx + n * 0.05, heartY = lungY + n * 0.12;
        var exposure = Raster.SmoothField(r, 5, n * 0.6);
        for (int y = 0; y < n; y++)
        {
            for (int x = 0; x < n; x++)
            {
                int i = y * n + x;
                double v = 0.05;
                if (Raster.InEllipse(x, y, cx, n * 0.6, n * 0.46, n * 0.62)) v = 0.6;
                bool right = Raster.InEllipse(x, y, rightX, lungY, rxR, ryR, -tilt);
                bool left = Raster.InEllipse(x, y, leftX, lungY, rxL, ryL, tilt);
                if (right || left)
                {
                    v = 0.22;
                    labels[i] = left ? 1 : 2;
                }
                if (Raster.InEllipse(x, y, heartX, heartY, n * 0.12, n * 0.1)) v = Math.Max(v, 0.68);
                if (v > 0.1)
                {
                    double curved = y - 0.9 * (x - cx) * (x - cx) / n;
                    if (Math.Sin(2 * Math.PI * curved / ribPeriod + ribPhase) > 0.7) v += 0.14;
                    if (Math.Abs(x - cx) < n * 0.035) v += 0.15;
                }
                v += 0.04 * exposure(x, y) + 0.02 * Raster.Gauss(r);
                image[i] = (float)Math.Round(Math.Clamp(v, 0, 1) * 255);
            }
        }
        return new SyntheticCase(Raster.Plane(n, 1, image, PixelType.UInt8), Raster.Plane(n, 1, labels, PixelType.UInt8));
    }
}
