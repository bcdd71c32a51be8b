using Edu.Abstractions.Imaging;
using Edu.Training.Evaluation;

namespace Edu.Training.Tests.Evaluation;

public sealed class EvaluatorTests
{
    [Fact]
    public void Evaluates_a_trained_3d_package_on_held_out_nifti_cases_in_source_geometry()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 5, 16, depth: 12, test: 2);
        var result = new Trainer().Run(new TrainingOptions
        {
            Dataset = data, Model = "unet", BaseChannels = 4, Depth = 2, Epochs = 2, StepsPerEpoch = 2, BatchSize = 2, PatchSize = 8, Threads = 1,
        }, t.Sub("run"));
        var manifest = Edu.Models.Checkpoints.ModelPackage.ReadManifest(result.ModelDirectory);
        Assert.Equal(3, manifest.Hyperparameters.SpatialDims);
        Assert.Equal([8, 8, 8], manifest.Preprocessing!.Value.GetProperty("patch").EnumerateArray().Select(e => e.GetInt32()));

        var sizes = new List<(VolumeSize Image, VolumeSize Prediction)>();
        var report = Evaluator.Evaluate(t.Sub("run"), data, onCase: (_, image, prediction) => sizes.Add((image.Size, prediction.Size)));
        Assert.Equal("test", report.Source);
        Assert.Equal(["case_005", "case_006"], report.Cases.Select(c => c.Case));
        Assert.All(sizes, p => Assert.Equal((new VolumeSize(16, 16, 12), new VolumeSize(16, 16, 12)), p));
        Assert.All(report.Cases, c => Assert.True(c.Labels[0].TruthVoxels > 0));
        Assert.Equal(report.Cases.Average(c => c.Dice), report.Dice, 12);
    }

    [Fact]
    public void Two_d_training_on_slices_of_volumes_writes_a_2d_package()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 4, 16, depth: 6);
        var result = new Trainer().Run(new TrainingOptions
        {
            Dataset = data, Model = "unet", BaseChannels = 4, Depth = 2, Epochs = 1, StepsPerEpoch = 2, BatchSize = 4, TrainOnSlices = true, Threads = 1,
        }, t.Sub("run"));
        var manifest = Edu.Models.Checkpoints.ModelPackage.ReadManifest(result.ModelDirectory);
        Assert.Equal(2, manifest.Hyperparameters.SpatialDims);
        Assert.True(manifest.Preprocessing!.Value.GetProperty("slices").GetBoolean());
    }

    [Fact]
    public void Score_reports_empty_labels_as_documented()
    {
        var g = ImageGeometry.Identity(new VolumeSize(4, 4, 1));
        var truth = new ImageVolume(g, 1, [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0], PixelType.UInt8);
        var empty = new ImageVolume(g, 1, new float[16], PixelType.UInt8);
        // label 1: truth has it, prediction not → Dice 0, HD95 undefined; label 2: both empty → Dice 1, HD95 0
        var c = Evaluator.Score("c", truth, empty, [1, 2]);
        Assert.Equal(0.5, c.Dice);
        Assert.Equal(0, c.Hd95);
        Assert.Null(c.Labels[0].Hd95);
        Assert.Equal(0, c.Labels[1].Hd95);
    }
}
