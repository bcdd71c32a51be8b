namespace Edu.Inference.Tests;

public sealed class SlidingWindowTests
{
    [Theory]
    [InlineData(32, 32, 0.5)]
    [InlineData(100, 32, 0.5)]
    [InlineData(100, 32, 0)]
    [InlineData(33, 32, 0.5)]
    [InlineData(513, 128, 0.75)]
    public void Windows_cover_the_axis_start_at_zero_end_flush_and_step_at_most_the_overlap_step(int size, int patch, double overlap)
    {
        int[] starts = SlidingWindow.Starts(size, patch, overlap);

        Assert.Equal(0, starts[0]);
        Assert.Equal(size - patch, starts[^1]);
        double maxStep = Math.Max(1, patch * (1 - overlap));
        foreach (var (a, b) in starts.Zip(starts.Skip(1)))
        {
            Assert.True(b > a);
            Assert.True(b - a <= Math.Ceiling(maxStep), $"step {b - a} > {maxStep}");
        }
        Assert.Equal(size == patch ? 1 : (int)Math.Ceiling((size - patch) / maxStep) + 1, starts.Length);
    }

    [Fact]
    public void The_gaussian_peaks_at_the_centre_is_symmetric_and_has_sigma_of_an_eighth_of_the_patch()
    {
        var w = SlidingWindow.GaussianWeights([16, 32]);

        Assert.Equal(16 * 32, w.Length);
        float At(int y, int x) => w[y * 32 + x];
        Assert.Equal(At(7, 15), w.Max());
        Assert.Equal(At(3, 5), At(12, 26));       // mirrored about the centre in both axes
        Assert.Equal(At(3, 5), At(3, 26));
        Assert.True(w.All(v => v > 0));
        // along x alone: exp(−d² / (2σ²)) with σ = 4 relative to the value at the centre (d measured from 15.5)
        double ratio = At(7, 3) / (double)At(7, 15);
        double expected = Math.Exp(-(12.5 * 12.5 - 0.5 * 0.5) / (2 * 4.0 * 4.0));
        Assert.Equal(expected, ratio, 5);
    }
}
