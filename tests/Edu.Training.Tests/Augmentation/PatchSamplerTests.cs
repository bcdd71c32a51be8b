using Edu.Training.Augmentation;
using Edu.Training.Data;
using Edu.Training.Datasets;

namespace Edu.Training.Tests.Augmentation;

public sealed class PatchSamplerTests
{
    /// <summary>A case whose image is exactly 10 × its labels, so any geometric transform must keep them equal.</summary>
    private static PreparedCase Tied(int x, int y, int z)
    {
        var r = new Random(5);
        var labels = new byte[x * y * z];
        for (int i = 0; i < labels.Length; i++) labels[i] = (byte)(r.NextDouble() < 0.3 ? 1 + r.Next(2) : 0);
        var image = labels.Select(l => l * 10f).ToArray();
        var fg = Enumerable.Range(0, labels.Length).Where(i => labels[i] != 0).ToArray();
        return new PreparedCase("tied", 1, x, y, z, [1, 1, 1], image, labels, fg);
    }

    private static (float[] Image, float[] Labels) Draw(PatchSampler s, PreparedCase c, int seed, bool fg = false)
    {
        var img = new float[s.PatchVoxels * c.Channels];
        var lab = new float[s.PatchVoxels];
        s.Sample(c, new Random(seed), fg, img, lab);
        return (img, lab);
    }

    [Fact]
    public void Same_seed_gives_the_same_patch_and_another_seed_another()
    {
        var c = Tied(40, 36, 1);
        var s = new PatchSampler(new AugmentationOptions { AffineProbability = 1, NoiseProbability = 1, GammaProbability = 1 }, 1, 16, 16);
        var a = Draw(s, c, 11);
        var b = Draw(s, c, 11);
        var d = Draw(s, c, 12);
        Assert.Equal(a.Image, b.Image);
        Assert.Equal(a.Labels, b.Labels);
        Assert.NotEqual(a.Image, d.Image);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public void Mirroring_and_rotations_move_image_and_labels_together(int depth)
    {
        var c = Tied(24, 24, depth == 1 ? 1 : 12);
        var s = new PatchSampler(new AugmentationOptions { FlipProbability = 0.5, Rot90Probability = 0.7, AffineProbability = 0, IntensityProbability = 0, GammaProbability = 0, NoiseProbability = 0 },
            depth, 16, 16);
        for (int seed = 0; seed < 20; seed++)
        {
            var (img, lab) = Draw(s, c, seed, fg: seed % 2 == 0);
            for (int i = 0; i < lab.Length; i++) Assert.Equal(lab[i] * 10, img[i]);
        }
    }

    [Fact]
    public void Affine_keeps_labels_on_the_image_where_the_image_is_not_interpolated_across_labels()
    {
        // smooth structure: a large disc, so the bilinear image and nearest labels agree away from the edge
        int n = 48;
        var labels = new byte[n * n];
        for (int y = 0; y < n; y++) for (int x = 0; x < n; x++) labels[y * n + x] = (byte)((x - 24) * (x - 24) + (y - 24) * (y - 24) < 196 ? 1 : 0);
        var c = new PreparedCase("disc", 1, n, n, 1, [1, 1, 1], labels.Select(l => l * 10f).ToArray(), labels, []);
        var s = new PatchSampler(new AugmentationOptions { AffineProbability = 1, IntensityProbability = 0, GammaProbability = 0, NoiseProbability = 0 }, 1, 32, 32);
        for (int seed = 0; seed < 10; seed++)
        {
            var (img, lab) = Draw(s, c, seed);
            double agree = lab.Zip(img).Count(p => Math.Abs(p.First * 10 - p.Second) < 5) / (double)lab.Length;
            Assert.True(agree > 0.93, $"seed {seed}: only {agree:P1} of voxels agree");
        }
    }

    [Fact]
    public void Foreground_patches_contain_foreground()
    {
        int n = 64;
        var labels = new byte[n * n];
        labels[60 * n + 3] = 1; // one foreground voxel in a corner
        var c = new PreparedCase("dot", 1, n, n, 1, [1, 1, 1], new float[n * n], labels, [60 * n + 3]);
        var s = new PatchSampler(AugmentationOptions.None, 1, 16, 16);
        for (int seed = 0; seed < 10; seed++) Assert.Contains(1f, Draw(s, c, seed, fg: true).Labels);
    }

    [Fact]
    public void Lateral_labels_turn_mirroring_off_by_default()
    {
        var c = Tied(16, 16, 1);
        var lateral = new PatchSampler(new AugmentationOptions { AffineProbability = 0, IntensityProbability = 0, GammaProbability = 0, NoiseProbability = 0 }, 1, 16, 16, lateralLabels: true);
        for (int seed = 0; seed < 10; seed++)
            Assert.Equal(c.Labels.ToArray().Select(v => (float)v), Draw(lateral, c, seed).Labels);
    }

    [Fact]
    public void Loader_batches_are_deterministic_for_seed_and_epoch()
    {
        var cases = new[] { Tied(32, 32, 1), Tied(30, 34, 1) };
        var s = new PatchSampler(new AugmentationOptions(), 1, 16, 16);
        List<TrainingBatch> Epoch(int epoch)
        {
            using var loader = new BatchLoader(cases, s, 3, 4, seed: 1, epoch, 1.0 / 3, prefetch: 2, CancellationToken.None);
            var list = new List<TrainingBatch>();
            while (loader.Next(out _) is { } b) list.Add(b);
            return list;
        }
        var a = Epoch(1);
        var b = Epoch(1);
        var c = Epoch(2);
        Assert.Equal(4, a.Count);
        for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].Images, b[i].Images);
        Assert.NotEqual(a[0].Images, c[0].Images);
    }
}
