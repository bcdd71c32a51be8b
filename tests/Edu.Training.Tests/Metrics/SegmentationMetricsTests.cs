using Edu.Training.Metrics;

namespace Edu.Training.Tests.Metrics;

public sealed class SegmentationMetricsTests
{
    private static readonly double[] Unit = [1, 1, 1];

    private static byte[] Square(int n, int x0, int y0, int w, int h, byte value = 1)
    {
        var a = new byte[n * n];
        for (int y = y0; y < y0 + h; y++)
            for (int x = x0; x < x0 + w; x++) a[y * n + x] = value;
        return a;
    }

    [Fact]
    public void Identical_masks_give_dice_1_iou_1_hd95_0()
    {
        var a = Square(16, 4, 4, 6, 6);
        var m = SegmentationMetrics.Compute(a, a, 16, 16, 1, Unit, 1);
        Assert.Equal(1, m.Dice);
        Assert.Equal(1, m.IoU);
        Assert.Equal(0, m.Hd95);
    }

    [Fact]
    public void Overlap_matches_hand_counts()
    {
        var a = Square(16, 0, 0, 4, 4);  // 16 voxels
        var b = Square(16, 2, 0, 4, 4);  // 16 voxels, 8 shared
        var m = SegmentationMetrics.Compute(a, b, 16, 16, 1, Unit, 1);
        Assert.Equal(2.0 * 8 / 32, m.Dice, 12);
        Assert.Equal(8.0 / 24, m.IoU, 12);
        Assert.Equal(16, m.TruthVoxels);
    }

    [Fact]
    public void Both_empty_is_perfect_and_one_empty_is_zero_with_undefined_hd95()
    {
        var empty = new byte[64];
        var some = Square(8, 1, 1, 2, 2);
        var both = SegmentationMetrics.Compute(empty, empty, 8, 8, 1, Unit, 1);
        Assert.Equal((1.0, 1.0, (double?)0.0), (both.Dice, both.IoU, both.Hd95));
        var missed = SegmentationMetrics.Compute(some, empty, 8, 8, 1, Unit, 1);
        Assert.Equal((0.0, 0.0, (double?)null), (missed.Dice, missed.IoU, missed.Hd95));
        var spurious = SegmentationMetrics.Compute(empty, some, 8, 8, 1, Unit, 1);
        Assert.Equal((0.0, 0.0, (double?)null), (spurious.Dice, spurious.IoU, spurious.Hd95));
    }

    [Fact]
    public void Hd95_of_a_shifted_square_equals_the_shift_and_scales_with_anisotropic_spacing()
    {
        // two 1-voxel-thick vertical lines 5 columns apart: every surface distance is exactly 5 columns
        var a = Square(20, 5, 2, 1, 10);
        var b = Square(20, 10, 2, 1, 10);
        Assert.Equal(5, SegmentationMetrics.Compute(a, b, 20, 20, 1, Unit, 1).Hd95!.Value, 9);
        Assert.Equal(5 * 0.7, SegmentationMetrics.Compute(a, b, 20, 20, 1, [0.7, 3.0, 1], 1).Hd95!.Value, 9);
        // the same shift along rows scales with the row spacing instead
        var c = Square(20, 2, 5, 10, 1);
        var d = Square(20, 2, 10, 10, 1);
        Assert.Equal(5 * 3.0, SegmentationMetrics.Compute(c, d, 20, 20, 1, [0.7, 3.0, 1], 1).Hd95!.Value, 9);
    }

    [Fact]
    public void Hd95_matches_brute_force_on_3d_masks_with_anisotropic_spacing()
    {
        var rng = new Random(3);
        int x = 9, y = 8, z = 7;
        double[] spacing = [0.8, 1.3, 2.5];
        var a = new byte[x * y * z];
        var b = new byte[x * y * z];
        for (int i = 0; i < a.Length; i++) { a[i] = (byte)(rng.NextDouble() < 0.3 ? 1 : 0); b[i] = (byte)(rng.NextDouble() < 0.3 ? 1 : 0); }
        double expected = BruteHd95(a, b, x, y, z, spacing);
        Assert.Equal(expected, SegmentationMetrics.Compute(a, b, x, y, z, spacing, 1).Hd95!.Value, 9);
    }

    [Fact]
    public void Percentile_interpolates_like_numpy()
    {
        Assert.Equal(3.85, SegmentationMetrics.Percentile([1, 2, 3, 4], 95), 12); // numpy.percentile([1,2,3,4], 95)
    }

    private static double BruteHd95(byte[] a, byte[] b, int x, int y, int z, double[] s)
    {
        var sa = Surface(a, x, y, z);
        var sb = Surface(b, x, y, z);
        var d = new List<double>();
        foreach (var p in sa) d.Add(sb.Min(q => Dist(p, q, s)));
        foreach (var p in sb) d.Add(sa.Min(q => Dist(p, q, s)));
        d.Sort();
        return SegmentationMetrics.Percentile(d, 95);
    }

    private static double Dist((int X, int Y, int Z) p, (int X, int Y, int Z) q, double[] s) =>
        Math.Sqrt(Math.Pow((p.X - q.X) * s[0], 2) + Math.Pow((p.Y - q.Y) * s[1], 2) + Math.Pow((p.Z - q.Z) * s[2], 2));

    private static List<(int, int, int)> Surface(byte[] m, int x, int y, int z)
    {
        bool At(int i, int j, int k) => i >= 0 && j >= 0 && k >= 0 && i < x && j < y && k < z && m[(k * y + j) * x + i] == 1;
        var r = new List<(int, int, int)>();
        for (int k = 0; k < z; k++)
            for (int j = 0; j < y; j++)
                for (int i = 0; i < x; i++)
                    if (At(i, j, k) && (!At(i - 1, j, k) || !At(i + 1, j, k) || !At(i, j - 1, k) || !At(i, j + 1, k) || !At(i, j, k - 1) || !At(i, j, k + 1)))
                        r.Add((i, j, k));
        return r;
    }
}
