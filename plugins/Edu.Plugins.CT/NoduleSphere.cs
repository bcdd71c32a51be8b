using Edu.Abstractions.Imaging;

namespace Edu.Plugins.CT;

/// <summary>Rasterises a sphere given in world (LPS, mm) coordinates onto a volume's voxel grid.</summary>
internal static class NoduleSphere
{
    /// <summary>Sets to <paramref name="value"/> every voxel whose centre lies within <paramref name="radius"/> mm of the world point.</summary>
    public static void Paint(float[] labels, ImageGeometry geometry, double x, double y, double z, double radius, float value)
    {
        // M = Direction · diag(Spacing) maps index to world offset; its inverse maps back.
        var d = geometry.Direction;
        var s = geometry.Spacing;
        double[] m = [d[0] * s[0], d[1] * s[1], d[2] * s[2], d[3] * s[0], d[4] * s[1], d[5] * s[2], d[6] * s[0], d[7] * s[1], d[8] * s[2]];
        double[] inv = Invert(m);
        double px = x - geometry.Origin[0], py = y - geometry.Origin[1], pz = z - geometry.Origin[2];
        var size = geometry.Size;
        int[] lo = new int[3], hi = new int[3];
        int[] n = [size.X, size.Y, size.Z];
        for (int a = 0; a < 3; a++)
        {
            double centre = inv[3 * a] * px + inv[3 * a + 1] * py + inv[3 * a + 2] * pz;
            // |Δindex_a| ≤ radius · ‖row a of M⁻¹‖ for any point of the sphere.
            double reach = radius * Math.Sqrt(inv[3 * a] * inv[3 * a] + inv[3 * a + 1] * inv[3 * a + 1] + inv[3 * a + 2] * inv[3 * a + 2]);
            lo[a] = (int)Math.Max(0, Math.Floor(centre - reach));
            hi[a] = (int)Math.Min(n[a] - 1, Math.Ceiling(centre + reach));
        }
        double r2 = radius * radius;
        for (int k = lo[2]; k <= hi[2]; k++)
            for (int j = lo[1]; j <= hi[1]; j++)
                for (int i = lo[0]; i <= hi[0]; i++)
                {
                    var (wx, wy, wz) = geometry.IndexToWorld(i, j, k);
                    double dx = wx - x, dy = wy - y, dz = wz - z;
                    if (dx * dx + dy * dy + dz * dz <= r2)
                        labels[((long)k * size.Y + j) * size.X + i] = value;
                }
    }

    private static double[] Invert(double[] m)
    {
        double c00 = m[4] * m[8] - m[5] * m[7], c01 = m[5] * m[6] - m[3] * m[8], c02 = m[3] * m[7] - m[4] * m[6];
        double det = m[0] * c00 + m[1] * c01 + m[2] * c02;
        if (Math.Abs(det) < 1e-12) throw new ArgumentException("the direction matrix is singular", nameof(m));
        return
        [
            c00 / det, (m[2] * m[7] - m[1] * m[8]) / det, (m[1] * m[5] - m[2] * m[4]) / det,
            c01 / det, (m[0] * m[8] - m[2] * m[6]) / det, (m[2] * m[3] - m[0] * m[5]) / det,
            c02 / det, (m[1] * m[6] - m[0] * m[7]) / det, (m[0] * m[4] - m[1] * m[3]) / det,
        ];
    }
}
