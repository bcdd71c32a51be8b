using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Abstractions.Preprocessing;
using Edu.Training.Datasets;

namespace Edu.Training.Tests.Datasets;

public sealed class SegmentationDatasetTests
{
    [Fact]
    public void Opens_an_nnunet_2d_dataset_and_loads_a_case()
    {
        using var t = new TempFolder();
        TinyDatasets.NnUNet(t.Path, 4, 32, twoLabels: true, test: 2);
        var ds = SegmentationDataset.Open(t.Path);
        Assert.Equal(DatasetLayout.NnUNet, ds.Layout);
        Assert.Equal(["case_000", "case_001", "case_002", "case_003"], ds.Training.Select(c => c.Id));
        Assert.Equal(2, ds.Test.Count);
        Assert.Equal(3, ds.Classes);
        var (image, labels) = ds.LoadCase(ds.Training[0]);
        var (expectedImage, expectedLabels) = TinyDatasets.Case(0, 32, twoLabels: true);
        Assert.Equal(expectedImage.Voxels, image.Voxels);
        Assert.Equal(expectedLabels.Voxels, labels!.Voxels);
    }

    [Fact]
    public void Opens_a_3d_nifti_dataset()
    {
        using var t = new TempFolder();
        TinyDatasets.NnUNet(t.Path, 2, 16, depth: 8);
        var ds = SegmentationDataset.Open(t.Path);
        var (image, labels) = ds.LoadCase(ds.Training[1]);
        Assert.Equal(new VolumeSize(16, 16, 8), image.Size);
        Assert.Equal(1, ds.Classes);
        Assert.Contains(1f, labels!.Voxels);
    }

    [Fact]
    public void Missing_dataset_json_is_named()
    {
        using var t = new TempFolder();
        TinyDatasets.NnUNet(t.Path, 2, 16);
        File.Delete(Path.Combine(t.Path, "dataset.json"));
        var e = Assert.Throws<InvalidInputException>(() => SegmentationDataset.Open(t.Path));
        Assert.EndsWith("dataset.json", e.Input);
        Assert.Contains("missing", e.Problem);
    }

    [Fact]
    public void A_case_without_its_label_is_named()
    {
        using var t = new TempFolder();
        TinyDatasets.NnUNet(t.Path, 3, 16);
        File.Delete(Path.Combine(t.Path, "labelsTr", "case_001.png"));
        var e = Assert.Throws<InvalidInputException>(() => SegmentationDataset.Open(t.Path));
        Assert.EndsWith(Path.Combine("labelsTr", "case_001.png"), e.Input);
        Assert.Contains("no label", e.Problem);
    }

    [Fact]
    public void Channel_count_mismatch_is_named()
    {
        using var t = new TempFolder();
        TinyDatasets.NnUNet(t.Path, 2, 16);
        TinyDatasets.WriteJson(t.Path, new { channel_names = new Dictionary<string, string> { ["0"] = "T1", ["1"] = "T2" }, labels = new { background = 0, disc = 1 }, file_ending = ".png" });
        var ds = SegmentationDataset.Open(t.Path);
        var e = Assert.Throws<InvalidInputException>(() => ds.LoadCase(ds.Training[0]));
        Assert.EndsWith("case_000_0000.png", e.Input);
        Assert.Contains("1 channel(s) but the dataset declares 2", e.Problem);
    }

    [Fact]
    public void Undeclared_label_values_are_named()
    {
        using var t = new TempFolder();
        TinyDatasets.NnUNet(t.Path, 2, 16, twoLabels: true);
        TinyDatasets.WriteJson(t.Path, new { channel_names = new Dictionary<string, string> { ["0"] = "x" }, labels = new { background = 0, disc = 1 }, file_ending = ".png" });
        var ds = SegmentationDataset.Open(t.Path);
        var e = Assert.Throws<InvalidInputException>(() => ds.LoadCase(ds.Training[0]));
        Assert.EndsWith(Path.Combine("labelsTr", "case_000.png"), e.Input);
        Assert.Contains("label value 2 is not declared", e.Problem);
    }

    [Fact]
    public void Image_and_label_sizes_differing_is_named()
    {
        using var t = new TempFolder();
        TinyDatasets.NnUNet(t.Path, 2, 16);
        TinyDatasets.Write(TinyDatasets.Case(9, 20).Labels, Path.Combine(t.Path, "labelsTr", "case_001.png"));
        var ds = SegmentationDataset.Open(t.Path);
        var e = Assert.Throws<InvalidInputException>(() => ds.LoadCase(ds.Training[1]));
        Assert.EndsWith(Path.Combine("labelsTr", "case_001.png"), e.Input);
        Assert.Contains("differs from the image size", e.Problem);
    }

    [Fact]
    public void Plain_2d_layout_with_0_255_masks()
    {
        using var t = new TempFolder();
        Directory.CreateDirectory(t.Sub("images"));
        Directory.CreateDirectory(t.Sub("masks"));
        for (int i = 0; i < 3; i++)
        {
            var (img, lab) = TinyDatasets.Case(i, 16);
            TinyDatasets.Write(img, Path.Combine(t.Sub("images"), $"s{i}.png"));
            TinyDatasets.Write(new ImageVolume(lab.Geometry, 1, lab.Voxels.Select(v => v * 255).ToArray(), PixelType.UInt8), Path.Combine(t.Sub("masks"), $"s{i}.png"));
        }
        var ds = SegmentationDataset.Open(t.Path);
        Assert.Equal(DatasetLayout.Plain2D, ds.Layout);
        Assert.Equal(1, ds.Classes);
        var (_, labels) = ds.LoadCase(ds.Training[2]);
        Assert.Equal(TinyDatasets.Case(2, 16).Labels.Voxels, labels!.Voxels);
    }

    [Fact]
    public void Split_is_reproducible_disjoint_and_independent_of_input_order()
    {
        var ids = Enumerable.Range(0, 20).Select(i => $"c{i:D2}").ToList();
        var a = DatasetSplit.Create(ids, 0.2, 7);
        var b = DatasetSplit.Create(Enumerable.Reverse(ids), 0.2, 7);
        var c = DatasetSplit.Create(ids, 0.2, 8);
        Assert.Equal(a.Train, b.Train);
        Assert.Equal(a.Validation, b.Validation);
        Assert.Equal(4, a.Validation.Count);
        Assert.Empty(a.Train.Intersect(a.Validation));
        Assert.Equal(20, a.Train.Concat(a.Validation).Distinct().Count());
        Assert.NotEqual(a.Validation, c.Validation);
        using var t = new TempFolder();
        a.Save(t.Sub("splits.json"));
        var loaded = DatasetSplit.Load(t.Sub("splits.json"));
        Assert.Equal(a.Train, loaded.Train);
        Assert.Equal(a.Validation, loaded.Validation);
    }

    [Fact]
    public void Labels_follow_a_resize_step_and_stay_integers()
    {
        var (img, lab) = TinyDatasets.Case(4, 32, twoLabels: true);
        var preparer = new CasePreparer(PreprocessingPipeline.Parse("zscore; resize(size=16x16, pad=0)"));
        var (image, labels, applied) = preparer.Prepare(img, lab, 3);
        Assert.Equal(new VolumeSize(16, 16, 1), image.Size);
        Assert.Equal(new VolumeSize(16, 16, 1), labels!.Size);
        Assert.All(labels.Voxels, v => Assert.Contains(v, new float[] { 0, 1, 2 }));
        Assert.Equal(2, applied.Count);
        // every label is still present, and the disc's share of the image is about the same
        double before = lab.Voxels.Count(v => v == 1) / (double)lab.Voxels.Length;
        double after = labels.Voxels.Count(v => v == 1) / (double)labels.Voxels.Length;
        Assert.InRange(after, before * 0.7, before * 1.3);
        Assert.Contains(2f, labels.Voxels);
    }
}
