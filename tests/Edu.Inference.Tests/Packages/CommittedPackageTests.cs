using Edu.Abstractions.Imaging;
using Edu.Imaging;

namespace Edu.Inference.Tests.Packages;

/// <summary>
/// Packages that users already have keep predicting as they did. tests/TestData/packages holds two `edu` packages (2-D and
/// 3-D) trained with the `edu` CLI before the MDE code was shared with `edu-dense`/`edu-lean` (commit 899cd36), each with an
/// input and the probabilities and labels that code predicted (see tests/TestData/README.md). Floating-point sums may
/// round differently on another CPU, so probabilities agree to 1e-5; labels agree exactly except where the expected top
/// two probabilities are within 1e-4 of each other.
/// </summary>
public sealed class CommittedPackageTests
{
    [Theory]
    [InlineData("edu-2d", "input.png")]
    [InlineData("edu-3d", "input.nii.gz")]
    public void An_edu_package_written_before_the_second_readings_predicts_as_it_did(string name, string input)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "TestData", "packages", name);
        var image = ImageReaderRegistry.CreateDefault().Read(Path.Combine(dir, input));
        using var predictor = Predictor.Load(dir, new PredictorOptions { ReturnProbabilities = true });

        var prediction = predictor.Predict(image);

        string probabilitiesFile = Path.Combine(dir, "expected-probabilities.nii.gz"), labelsFile = Path.Combine(dir, "expected-labels.nii.gz");
        if (Environment.GetEnvironmentVariable("EDU_WRITE_GOLDEN") == "1")
        {
            // how the expected files were made, by the code of the commit named above
            ImageWriterRegistry.CreateDefault().Write(prediction.Probabilities!, probabilitiesFile);
            ImageWriterRegistry.CreateDefault().Write(prediction.Labels, labelsFile);
            return;
        }
        var expected = ImageReaderRegistry.CreateDefault().Read(probabilitiesFile);
        var expectedLabels = ImageReaderRegistry.CreateDefault().Read(labelsFile);
        var actual = prediction.Probabilities!;
        Assert.Equal(expected.Channels, actual.Channels);
        Assert.Equal(expected.Size, actual.Size);
        double worst = 0;
        for (long i = 0; i < expected.Voxels.LongLength; i++) worst = Math.Max(worst, Math.Abs(expected.Voxels[i] - actual.Voxels[i]));
        Assert.True(worst <= 1e-5, $"probabilities differ by up to {worst:G3}");
        Assert.True(expected.Voxels.Distinct().Count() > 10, "the expected probabilities are not a trivial constant");
        long n = expectedLabels.Voxels.LongLength;
        for (long v = 0; v < n; v++)
        {
            if (expectedLabels.Voxels[v] == prediction.Labels.Voxels[v]) continue;
            var p = Enumerable.Range(0, expected.Channels).Select(c => expected.Voxels[c * n + v]).OrderDescending().ToArray();
            double margin = p.Length > 1 ? p[0] - p[1] : Math.Abs(p[0] - 0.5);
            Assert.True(margin < 1e-4, $"voxel {v}: label {prediction.Labels.Voxels[v]}, expected {expectedLabels.Voxels[v]} with a margin of {margin:G3}");
        }
    }
}
