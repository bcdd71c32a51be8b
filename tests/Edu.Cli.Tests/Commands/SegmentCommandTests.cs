using System.Text.Json;
using Edu.Abstractions.Imaging;
using Edu.Cli.Segmentation;
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
    private string SaveRun(string name, int inChannels, int dims = 2)
    {
        var hp = new ModelHyperparameters(dims, inChannels, 2, 4, 2);
        using var model = ModelCatalogue.CreateBuiltIn().Create("unet", hp, seed: 4);
        var manifest = new ModelManifest
        {
            Name = "tiny-lung", Version = "1", Architecture = "unet", Hyperparameters = hp, Modality = "xray",
            Labels = new Dictionary<string, string> { ["0"] = "background", ["1"] = "lung" },
            LabelCodes = new Dictionary<string, LabelCoding>
            {
                ["1"] = new(new CodedConcept("91723000", "SCT", "Anatomical Structure"), new CodedConcept("39607008", "SCT", "Lung")),
            },
            Preprocessing = new ManifestPreprocessing(Abstractions.Preprocessing.PreprocessingPipeline.Parse("zscore"), dims == 2 ? [32, 32] : [16, 16, 16]).ToJson(),
        };
        ModelPackage.Save(Dir(name, ModelPackageLocator.RunPackageFolder), manifest, model);
        return Dir(name);
    }

    private string Synth()
    {
        var run = EduProcess.Run(["synth", "--modality", "xray", "--count", "1", "--test", "1", "--size", "64", "--out", Dir("data")]);
        Assert.True(run.ExitCode == 0, run.StdErr);
        // the X-ray pipeline's 512² target becomes the generated size: synthetic cases train and segment at their own scale
        string pipeline = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Dir("data", "dataset.json"))).RootElement.GetProperty("preprocessing").GetString()!;
        Assert.Contains("resize(", pipeline, StringComparison.Ordinal);
        Assert.Contains("size=64x64", pipeline, StringComparison.Ordinal);
        Assert.DoesNotContain("512", pipeline, StringComparison.Ordinal);
        return Dir("data", "imagesTr");
    }

    [Fact]
    public void The_onnxruntime_backend_writes_the_labels_torch_writes_and_the_exported_onnx_file_is_the_same_net()
    {
        string images = Synth();
        var image = ImageReaderRegistry.CreateDefault().Read(Directory.GetFiles(images).Single());
        string runDir = SaveRun("run", image.Channels);

        var torchRun = EduProcess.Run(["segment", "--model", runDir, images, "--out", Dir("torch"), "--json"]);
        var ortRun = EduProcess.Run(["segment", "--model", runDir, images, "--out", Dir("ort"), "--backend", "onnxruntime", "--json"]);
        var export = EduProcess.Run(["models", "export", "--model", runDir, "--out", Dir("net.bin"), "--format", "onnx", "--json"]);

        Assert.True(torchRun.ExitCode == 0, torchRun.StdErr);
        Assert.True(ortRun.ExitCode == 0, ortRun.StdErr);
        Assert.Equal("onnxruntime", JsonDocument.Parse(ortRun.StdOut).RootElement.GetProperty("backend").GetString());
        Assert.Equal(File.ReadAllBytes(Dir("torch", "xray_000_seg.png")), File.ReadAllBytes(Dir("ort", "xray_000_seg.png")));
        Assert.True(export.ExitCode == 0, export.StdErr);
        var onnx = Edu.Models.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Dir("net.bin")));
        Assert.Equal("image", Assert.Single(onnx.Graph.Input).Name);
        Assert.Contains(onnx.Graph.Initializer, t => t.Name == "decoder.0.conv2.weight");
    }

    [Fact]
    public void An_export_format_that_contradicts_the_file_name_is_refused_and_nothing_is_written()
    {
        string runDir = SaveRun("run", 1);

        var run = EduProcess.Run(["models", "export", "--model", runDir, "--out", Dir("weights.pt"), "--format", "onnx"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--format", run.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Dir("weights.pt")));
    }

    [Theory]
    [InlineData("--backend", "tensorrt", "--backend")]
    [InlineData("--device", "cuda", "backend")]
    public void A_backend_that_cannot_run_is_refused_with_exit_code_2(string option, string value, string named)
    {
        string images = Synth();
        var image = ImageReaderRegistry.CreateDefault().Read(Directory.GetFiles(images).Single());
        string runDir = SaveRun("run", image.Channels);
        string[] extra = option == "--device" ? ["--backend", "onnxruntime", option, value] : [option, value];

        var run = EduProcess.Run(["segment", "--model", runDir, images, "--out", Dir("out"), .. extra]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(named, run.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Dir("out")));
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
        var seconds = item.GetProperty("seconds");
        Assert.True(seconds.GetProperty("predict").GetDouble() > 0);
        Assert.True(seconds.GetProperty("read").GetDouble() >= 0 && seconds.GetProperty("write").GetDouble() >= 0);
        Assert.True(item.GetProperty("windows").GetInt32() >= 1);
        Assert.InRange(item.GetProperty("windows_per_batch").GetInt32(), 1, item.GetProperty("windows").GetInt32());

        // one window per pass gives the same labels; an impossible count is the user's error, named
        var single = EduProcess.Run(["segment", "--model", runDir, input, "--out", Dir("out-1"), "--windows-per-batch", "1", "--json"]);
        Assert.True(single.ExitCode == 0, single.StdErr);
        Assert.Equal(1, JsonDocument.Parse(single.StdOut.Trim()).RootElement.GetProperty("cases")[0].GetProperty("windows_per_batch").GetInt32());
        Assert.Equal(labels.Voxels, ImageReaderRegistry.CreateDefault().Read(Dir("out-1", "xray_000_seg.png")).Voxels);
        var bad = EduProcess.Run(["segment", "--model", runDir, input, "--out", Dir("out-bad"), "--windows-per-batch", "300"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("windows per batch", bad.StdErr);

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

        var run = EduProcess.Run(["segment", "--model", runDir, series, "--out", Dir("out"), "--largest", "--dicom-seg"]);

        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Contains("lung", run.StdOut);
        var source = Imaging.ImageInput.Read(series, null).Volume;
        var labels = ImageReaderRegistry.CreateDefault().Read(Dir("out", "CT5N_seg.nii.gz"));
        Assert.True(source.Geometry.IsCloseTo(labels.Geometry), $"{source.Geometry} vs {labels.Geometry}");

        // The SEG joins the source's study, one frame per slice holding the lung (one empty frame if none does).
        var seg = Dicom.DicomStructure.Validate(Dir("out", "CT5N_seg.dcm"));
        Assert.Equal(source.Metadata["StudyInstanceUID"], System.Text.Encoding.ASCII.GetString(seg.ReferenceValues[0x0020000D]).TrimEnd('\0'));
        Assert.Equal((16, 16), (seg.Columns, seg.Rows));
        int slicesWithLung = Enumerable.Range(0, 5).Count(z => labels.Voxels.AsSpan(z * 256, 256).Contains(1f));
        Assert.Equal(Math.Max(1, slicesWithLung), seg.NumberOfFrames);
        // the segment is coded as model.json's label_codes say (dcmtk's dcmdump reads the SEG)
        var dump = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("dcmdump", [Dir("out", "CT5N_seg.dcm")]) { RedirectStandardOutput = true })!;
        string text = dump.StandardOutput.ReadToEnd();
        dump.WaitForExit();
        Assert.Contains("[39607008]", text);
        Assert.Contains("[Lung]", text);
        Assert.Contains("[Anatomical Structure]", text);
    }

    [Fact]
    public void Dicom_seg_output_for_an_input_that_is_not_dicom_fails_with_exit_2_before_anything_is_written()
    {
        string images = Synth();
        string runDir = SaveRun("run", 1);

        var run = EduProcess.Run(["segment", "--model", runDir, images, "--out", Dir("out"), "--dicom-seg"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--dicom-seg needs DICOM input", run.StdErr);
        Assert.False(Directory.Exists(Dir("out")));
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
        Assert.False(Directory.Exists(Dir("out"))); // not even the empty folder it would have made
    }

    [Fact]
    public void A_folder_that_is_neither_a_package_nor_a_run_is_refused()
    {
        var run = EduProcess.Run(["segment", "--model", _root, _root, "--out", Dir("out")]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("model.json", run.StdErr);
    }

    [Fact]
    public void Channel_files_of_an_nnunet_case_are_stacked_and_a_3d_result_keeps_the_geometry()
    {
        var geometry = new ImageGeometry(new VolumeSize(20, 14, 9), [0.8, 0.8, 2.5], [-10, 20, 30], [0, 1, 0, -1, 0, 0, 0, 0, 1]);
        var writers = ImageWriterRegistry.CreateDefault();
        Directory.CreateDirectory(Dir("mr"));
        for (int c = 0; c < 2; c++)
        {
            var v = Enumerable.Range(0, 20 * 14 * 9).Select(i => (float)((i * (c + 3)) % 17)).ToArray();
            writers.Write(new ImageVolume(geometry, 1, v, PixelType.Int16), Dir("mr", $"brain_{c:D4}.nii.gz"));
        }
        string runDir = SaveRun("run3d", 2, dims: 3);

        var run = EduProcess.Run(["segment", "--model", Dir("run3d", "model"), Dir("mr"), "--out", Dir("out"), "--tta", "--overlay", "--json"]);

        Assert.True(run.ExitCode == 0, run.StdErr);
        var item = Assert.Single(JsonDocument.Parse(run.StdOut).RootElement.GetProperty("cases").EnumerateArray());
        Assert.Equal("brain", item.GetProperty("case").GetString());
        Assert.Equal(2, item.GetProperty("input").GetArrayLength());
        var labels = ImageReaderRegistry.CreateDefault().Read(Dir("out", "brain_seg.nii.gz"));
        Assert.True(geometry.IsCloseTo(labels.Geometry), $"{geometry} vs {labels.Geometry}");
        Assert.True(File.Exists(Dir("out", "brain_overlay.png")));
        Assert.True(Directory.Exists(runDir));
    }

    [Fact]
    public void Inputs_group_numbered_channel_files_and_refuse_gaps_and_colliding_case_names()
    {
        Directory.CreateDirectory(Dir("a"));
        Directory.CreateDirectory(Dir("b"));
        Directory.CreateDirectory(Dir("dicom"));
        foreach (string f in (string[])["a/x_0000.png", "a/x_0001.png", "a/y.png", "a/notes.txt", "b/x.png", "b/z_0000.png", "b/z_0002.png", "dicom/IM1"])
            File.WriteAllText(Dir(f), "");

        var cases = SegmentationInputs.Expand([Dir("a"), Dir("dicom")]);

        Assert.Equal(["x", "y", "dicom"], cases.Select(c => c.Name));
        Assert.Equal([Dir("a", "x_0000.png"), Dir("a", "x_0001.png")], cases[0].Files);
        Assert.True(cases[2].IsDicomSeries);
        var gap = Assert.Throws<Abstractions.Errors.InvalidInputException>(() => SegmentationInputs.Expand([Dir("b", "z_0000.png"), Dir("b", "z_0002.png")]));
        Assert.Contains("without gaps", gap.Problem);
        var collision = Assert.Throws<Abstractions.Errors.InvalidInputException>(() => SegmentationInputs.Expand([Dir("a", "x_0000.png"), Dir("b", "x.png")]));
        Assert.Contains("collide", collision.Problem);
        Assert.Equal("brain", SegmentationInputs.Stem("/d/brain.nii.gz"));
    }
}
