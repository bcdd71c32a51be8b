namespace Edu.Inference;

/// <summary>
/// Window placement and importance weights of the sliding-window predictor, as nnU-Net v2 computes them:
/// the first window at 0, the last flush with the end, evenly spaced steps no longer than patch · (1 − overlap),
/// and a Gaussian centred on the window with σ = patch / 8 per axis, scaled to a maximum of 1.
/// </summary>
public static class SlidingWindow
{
    /// <summary>Start offsets of the windows along one axis of length <paramref name="size"/> (≥ <paramref name="patch"/>).</summary>
    public static int[] Starts(int size, int patch, double overlap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, patch);
        if (!(overlap >= 0 && overlap < 1)) throw new ArgumentOutOfRangeException(nameof(overlap), overlap, "must be in [0, 1)");
        if (size == patch) return [0];
        double target = Math.Max(1, patch * (1 - overlap));
        int steps = (int)Math.Ceiling((size - patch) / target) + 1;
        double actual = (size - patch) / (double)(steps - 1);
        var starts = new int[steps];
        for (int i = 0; i < steps; i++) starts[i] = (int)Math.Round(actual * i, MidpointRounding.AwayFromZero);
        return starts;
    }

    /// <summary>
    /// The importance map of a window of size <paramref name="patch"/> (C order, last axis fastest):
    /// the product of 1-D Gaussians with σ = p / 8 centred at (p − 1) / 2, scaled so that its maximum is 1.
    /// </summary>
    public static float[] GaussianWeights(IReadOnlyList<int> patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var axes = patch.Select(p =>
        {
            double sigma = p / 8.0, centre = (p - 1) / 2.0;
            var g = new double[p];
            for (int i = 0; i < p; i++) g[i] = Math.Exp(-(i - centre) * (i - centre) / (2 * sigma * sigma));
            double max = g.Max();
            return g.Select(v => v / max).ToArray();
        }).ToArray();
        long count = patch.Aggregate(1L, (a, p) => a * p);
        var w = new float[count];
        for (long i = 0; i < count; i++)
        {
            long rest = i;
            double v = 1;
            for (int a = axes.Length - 1; a >= 0; a--)
            {
                v *= axes[a][rest % patch[a]];
                rest /= patch[a];
            }
            w[i] = (float)Math.Max(v, 1e-6);
        }
        return w;
    }
}
