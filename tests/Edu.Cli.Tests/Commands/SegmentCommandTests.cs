using System.Text.Json;
using Edu.Imaging;
using Edu.Inference;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using TorchSharp;

namespace Edu.Cli.Tests.Commands;

public sealed class SegmentCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "edu-segment-" + Guid.NewGuid().ToString("N"));

    public SegmentCommandTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private string Dir(params string[] parts) => Path.Combine([_root, .. parts]);

    /// <summary>A tiny untrained U-Net package written where a training run keeps it (RUN/model).</summary>
    private string SaveRun(string name, int inChannels)
    {
        var hp = new ModelHyperparameters(2, inChannels, 2, 4, 2);
        torch.manual_seed(4);
        using var model = ModelCatalogue.CreateBuiltIn().Create("unet", hp);
        var manifest = new ModelManifest
        {
            Name = "tiny-lung", Version = "1", Architecture = "unet", Hyperparameters = hp, Modality = "xray",
            Labels = new Dictionary<string, string> { ["0"] = "background", ["1"] = "lung" },
            Preprocessing = new ManifestPreprocessing(Abstractions.Preprocessing.PreprocessingPipeline.Parse("zscore"), [32, 32]).ToJson(),
        };
        ModelPackage.Save(Dir(name, ModelPackageLocator.RunPackageFolder), manifest, model);
        return Dir(name);
    }

    private string Synth()
    {
        var run = EduProcess.Run(["synth", "--modality", "xray", "--count", "1", "--test", "1", "--size", "64", "--out", Dir("data")]);
        Assert.True(run.ExitCode == 0, run.StdErr);
        return Dir("data", "imagesTr");
    }

    [Fact]
    public void A_synthetic_xray_folder_is_segmented_into_a_label_png_and_overlay_of_the_inputs_size_and_never_overwritten()
    {
        string images = Synth();
        string input = Directory.GetFiles(images).Single();
        var image = ImageReaderRegistry.CreateDefault().Read(input);
        string runDir = SaveRun("run", image.Channels);

        var run = EduProcess.Run(["segment", "--model", runDir, images, "--out", Dir("out"), "--overlay", "--json"]);

        Assert.True(run.ExitCode == 0, run.StdErr);
        var json = JsonDocument.Parse(Assert.Single(run.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries))).RootElement;
        var item = Assert.Single(json.GetProperty("cases").EnumerateArray());
        Assert.Equal("xray_000", item.GetProperty("case").GetString());
        string seg = Dir("out", "xray_000_seg.png"), overlay = Dir("out", "xray_000_overlay.png");
        var labels = ImageReaderRegistry.CreateDefault().Read(seg);
        var picture = ImageReaderRegistry.CreateDefault().Read(overlay);
        Assert.Equal(image.Size, labels.Size);
        Assert.Equal(image.Size, picture.Size);
        Assert.Equal(3, picture.Channels);
        Assert.All(labels.Voxels, v => Assert.True(v is 0 or 1));
        var lung = Assert.Single(item.GetProperty("labels").EnumerateArray());
        Assert.Equal("lung", lung.GetProperty("name").GetString());
        long count = labels.Voxels.LongCount(v => v == 1);
        Assert.Equal(count, lung.GetProperty("voxels").GetInt64());
        Assert.Equal(count * image.Geometry.VoxelVolumeMl, lung.GetProperty("ml").GetDouble(), 6);

        byte[] before = File.ReadAllBytes(seg);
        var again = EduProcess.Run(["segment", "--model", runDir, input, "--out", Dir("out"), "--overlay"]);

        Assert.Equal(2, again.ExitCode);
        Assert.StartsWith("error:", again.StdErr.Trim());
        Assert.Contains("exists already", again.StdErr);
        Assert.Equal(before, File.ReadAllBytes(seg));
        Assert.Equal(2, Directory.GetFiles(Dir("out")).Length);
    }

    [Fact]
    public void A_dicom_series_folder_is_one_case_written_as_nifti_in_the_series_geometry()
    {
        string series = TestFiles.Dicom("series", "98892001", "CT5N");
        string runDir = SaveRun("run", 1);

        var run = EduProcess.Run(["segment", "--model", runDir, series, "--out", Dir("out"), "--largest"]);

        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Contains("lung", run.StdOut);
        var source = Imaging.ImageInput.Read(series, null).Volume;
        var labels = ImageReaderRegistry.CreateDefault().Read(Dir("out", "CT5N_seg.nii.gz"));
        Assert.True(source.Geometry.IsCloseTo(labels.Geometry), $"{source.Geometry} vs {labels.Geometry}");
    }

    [Fact]
    public void An_image_with_the_wrong_channel_count_fails_with_exit_2_naming_the_file_and_writes_nothing()
    {
        string images = Synth();
        string input = Directory.GetFiles(images).Single();
        int channels = ImageReaderRegistry.CreateDefault().Read(input).Channels;
        string runDir = SaveRun("run", channels + 1);

        var run = EduProcess.Run(["segment", "--model", runDir, input, "--out", Dir("out")]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(input, run.StdErr);
        Assert.Contains($"expects {channels + 1}", run.StdErr);
        Assert.Empty(Directory.GetFiles(Dir("out")));
    }

    [Fact]
    public void A_folder_that_is_neither_a_package_nor_a_run_is_refused()
    {
        var run = EduProcess.Run(["segment", "--model", _root, _root, "--out", Dir("out")]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("model.json", run.StdErr);
    }
}
