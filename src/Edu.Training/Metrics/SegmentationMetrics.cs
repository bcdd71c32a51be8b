namespace Edu.Training.Metrics;

/// <summary>
/// Dice, IoU and HD95 on managed label arrays laid out [z][y][x] (x fastest). HD95 follows medpy: surface voxels
/// are foreground voxels with a background (or out-of-image) face neighbour (4-neighbourhood in 2-D, 6 in 3-D);
/// distances from each surface voxel of one mask to the nearest surface voxel of the other are taken in mm with
/// the voxel spacing (an exact Euclidean distance transform, Felzenszwalb–Huttenlocher), both directions pooled,
/// and the 95th percentile (linear interpolation) reported.
/// </summary>
public static class SegmentationMetrics
{
    /// <summary>Metrics of label <paramref name="label"/>.</summary>
    public static LabelMetrics Compute(ReadOnlySpan<byte> truth, ReadOnlySpan<byte> prediction, int x, int y, int z, IReadOnlyList<double> spacing, int label)
    {
        ArgumentNullException.ThrowIfNull(spacing);
        long n = (long)x * y * z;
        if (truth.Length != n || prediction.Length != n) throw new ArgumentException($"label arrays must hold {n} values");
        var a = new bool[n];
        var b = new bool[n];
        long na = 0, nb = 0, inter = 0;
        for (int i = 0; i < n; i++)
        {
            bool ta = truth[i] == label, tb = prediction[i] == label;
            a[i] = ta; b[i] = tb;
            if (ta) na++;
            if (tb) nb++;
            if (ta && tb) inter++;
        }
        if (na == 0 && nb == 0) return new LabelMetrics(label, 1, 1, 0, 0, 0);
        if (na == 0 || nb == 0) return new LabelMetrics(label, 0, 0, null, na, nb);
        double dice = 2.0 * inter / (na + nb);
        double iou = (double)inter / (na + nb - inter);
        return new LabelMetrics(label, dice, iou, Hd95(a, b, x, y, z, spacing), na, nb);
    }

    /// <summary>Metrics of every label in <paramref name="labels"/>.</summary>
    public static IReadOnlyList<LabelMetrics> ComputeAll(ReadOnlySpan<byte> truth, ReadOnlySpan<byte> prediction, int x, int y, int z,
        IReadOnlyList<double> spacing, IEnumerable<int> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var result = new List<LabelMetrics>();
        foreach (int l in labels) result.Add(Compute(truth, prediction, x, y, z, spacing, l));
        return result;
    }

    /// <summary>HD95 in mm of two non-empty masks.</summary>
    public static double Hd95(bool[] a, bool[] b, int x, int y, int z, IReadOnlyList<double> spacing)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(spacing);
        var sa = Surface(a, x, y, z);
        var sb = Surface(b, x, y, z);
        var da = DistanceToFeatures(sb, x, y, z, spacing);
        var db = DistanceToFeatures(sa, x, y, z, spacing);
        var d = new List<double>();
        for (int i = 0; i < sa.Length; i++) if (sa[i]) d.Add(Math.Sqrt(da[i]));
        for (int i = 0; i < sb.Length; i++) if (sb[i]) d.Add(Math.Sqrt(db[i]));
        d.Sort();
        return Percentile(d, 95);
    }

    /// <summary>The p-th percentile of sorted values, linear interpolation (numpy's default).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0) return double.NaN;
        double pos = (sorted.Count - 1) * p / 100;
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    private static bool[] Surface(bool[] m, int x, int y, int z)
    {
        var s = new bool[m.Length];
        int plane = x * y;
        for (int k = 0; k < z; k++)
            for (int j = 0; j < y; j++)
                for (int i = 0; i < x; i++)
                {
                    int o = k * plane + j * x + i;
                    if (!m[o]) continue;
                    bool edge = i == 0 || i == x - 1 || j == 0 || j == y - 1 || !m[o - 1] || !m[o + 1] || !m[o - x] || !m[o + x];
                    if (!edge && z > 1) edge = k == 0 || k == z - 1 || !m[o - plane] || !m[o + plane];
                    s[o] = edge;
                }
        return s;
    }

    /// <summary>Squared distance in mm² from every voxel to the nearest feature voxel (separable exact EDT).</summary>
    private static double[] DistanceToFeatures(bool[] features, int x, int y, int z, IReadOnlyList<double> spacing)
    {
        const double Inf = 1e20;
        var d = new double[features.Length];
        for (int i = 0; i < d.Length; i++) d[i] = features[i] ? 0 : Inf;
        int[] dims = [x, y, z];
        int[] strides = [1, x, x * y];
        for (int axis = 0; axis < 3; axis++)
        {
            int len = dims[axis];
            if (len == 1) continue;
            int stride = strides[axis];
            double w = spacing[axis];
            var f = new double[len];
            var v = new int[len];
            var zb = new double[len + 1];
            var outLine = new double[len];
            for (int start = 0; start < d.Length; start++)
            {
                // start must be the first voxel of a line along this axis
                if (start / stride % len != 0) continue;
                for (int q = 0; q < len; q++) f[q] = d[start + q * stride];
                Line(f, len, w, v, zb, outLine);
                for (int q = 0; q < len; q++) d[start + q * stride] = outLine[q];
            }
        }
        return d;
    }

    private static void Line(double[] f, int n, double w, int[] v, double[] zb, double[] d)
    {
        const double Inf = 1e20;
        int k = 0;
        v[0] = 0; zb[0] = double.NegativeInfinity; zb[1] = double.PositiveInfinity;
        for (int q = 1; q < n; q++)
        {
            double pq = q * w;
            while (true)
            {
                double pv = v[k] * w;
                double s = (f[q] + pq * pq - (f[v[k]] + pv * pv)) / (2 * (pq - pv));
                if (s <= zb[k] && k > 0) { k--; continue; }
                if (s <= zb[k]) { v[0] = q; zb[0] = double.NegativeInfinity; zb[1] = double.PositiveInfinity; k = 0; break; }
                k++; v[k] = q; zb[k] = s; zb[k + 1] = double.PositiveInfinity;
                break;
            }
        }
        k = 0;
        for (int q = 0; q < n; q++)
        {
            while (zb[k + 1] < q * w) k++;
            double diff = (q - v[k]) * w;
            d[q] = Math.Min(Inf, diff * diff + f[v[k]]);
        }
    }
}
