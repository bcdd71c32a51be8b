using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Imaging;
using Edu.Inference.Output;

namespace Edu.Inference.Tests.Output;

public sealed class PredictionWriterTests
{
    private static ImageVolume Labels(int z) =>
        new(new ImageGeometry(new VolumeSize(5, 4, z), [0.5, 0.5, 2], [1, 2, 3], TestImages.Oblique), 1,
            Enumerable.Range(0, 20 * z).Select(i => (float)(i % 3)).ToArray(), PixelType.UInt8);

    [Fact]
    public void Labels_written_as_nifti_and_png_read_back_with_their_values_and_nifti_keeps_the_geometry()
    {
        using var dir = new TempDir();
        var volume = Labels(3);
        var slice = Labels(1);
        PredictionWriter.WriteLabels(volume, dir.File("a_seg.nii.gz"));
        PredictionWriter.WriteLabels(slice, dir.File("b_seg.png"));
        PredictionWriter.WriteVisibleMask(slice, dir.File("b_mask.png"), 2);
        PredictionWriter.WriteOverlay(slice, slice, dir.File("b_overlay.png"));

        var readers = ImageReaderRegistry.CreateDefault();
        var nifti = readers.Read(dir.File("a_seg.nii.gz"));
        Assert.Equal(volume.Voxels, nifti.Voxels);
        Assert.True(volume.Geometry.IsCloseTo(nifti.Geometry));
        Assert.Equal(slice.Voxels, readers.Read(dir.File("b_seg.png")).Voxels);
        Assert.Equal(slice.Voxels.Select(v => MathF.Round(v * 127.5f)), readers.Read(dir.File("b_mask.png")).Voxels);
        Assert.Equal(3, readers.Read(dir.File("b_overlay.png")).Channels);
        Assert.Equal(4, Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories).Length); // no temporary files left
    }

    [Fact]
    public void An_existing_file_is_never_overwritten()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("x_seg.png"), "mine");

        var e = Assert.Throws<InvalidInputException>(() => PredictionWriter.WriteLabels(Labels(1), dir.File("x_seg.png")));

        Assert.Contains("exists", e.Problem);
        Assert.Equal("mine", File.ReadAllText(dir.File("x_seg.png")));
        Assert.Single(Directory.GetFiles(dir.Path));
    }
    [Fact]
    public void A_dicom_seg_with_a_malformed_label_codes_entry_is_refused_naming_model_json_and_nothing_is_written()
    {
        using var dir = new TempDir();
        string source = Path.Combine(AppContext.BaseDirectory, "TestData", "dicom", "CT_small.dcm");
        var geometry = new ImageGeometry(new VolumeSize(128, 128, 1), [1, 1, 1], [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        var prediction = new Prediction(new ImageVolume(geometry, 1, new float[128 * 128], PixelType.UInt8),
            [new LabelStatistics(1, "lesion", 0, 0)], null, 1);
        var manifest = new Edu.Models.Checkpoints.ModelManifest
        {
            Name = "m", Version = "1", Architecture = "unet", Hyperparameters = new Edu.Models.Catalogue.ModelHyperparameters(),
            LabelCodes = new Dictionary<string, Edu.Models.Checkpoints.LabelCoding>
            {
                ["lesion"] = new(new("49755003", "SCT", "Morphologically Altered Structure"), new("52988006", "SCT", "Lesion")),
            },
        };

        var e = Assert.Throws<InvalidInputException>(() => PredictionWriter.WriteDicomSeg(prediction, manifest, source, null, dir.File("seg.dcm")));
        Assert.Equal("model.json", e.Input);
        Assert.Contains("'lesion'", e.Problem);
        Assert.False(File.Exists(dir.File("seg.dcm")));
    }
}
