using System.Text.Json;
using Edu.Abstractions.Imaging;
using Edu.Imaging;

namespace Edu.Cli.Tests.Commands;

public sealed class InspectCommandTests
{
    private static JsonElement InspectJson(string path, params string[] extra)
    {
        var run = EduProcess.Run(["inspect", path, "--json", .. extra]);
        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Single(run.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // exactly one JSON object
        return JsonDocument.Parse(run.StdOut).RootElement.Clone();
    }

    private static double[] Numbers(JsonElement e) => [.. e.EnumerateArray().Select(v => v.GetDouble())];

    [Fact]
    public void Json_for_a_ct_file_carries_size_lps_geometry_hu_statistics_and_modality()
    {
        // Reference: pydicom 2.3.1 on CT_small.dcm (apply_modality_lut).
        var json = InspectJson(TestFiles.Dicom("CT_small.dcm"));

        Assert.Equal("DICOM", json.GetProperty("format").GetString());
        Assert.Equal([128.0, 128, 1], Numbers(json.GetProperty("size")));
        Assert.Equal(1, json.GetProperty("channels").GetInt32());
        Assert.Equal(0.661468, json.GetProperty("spacing")[0].GetDouble(), 6);
        Assert.Equal([-158.135803, -179.035797, -75.699997], Numbers(json.GetProperty("origin")).Select(v => Math.Round(v, 6)));
        Assert.Equal([1.0, 0, 0, 0, 1, 0, 0, 0, 1], Numbers(json.GetProperty("direction")));
        Assert.Equal("int16", json.GetProperty("pixelType").GetString());
        Assert.Equal(-896, json.GetProperty("min").GetDouble());
        Assert.Equal(1167, json.GetProperty("max").GetDouble());
        Assert.Equal(-119.0738525390625, json.GetProperty("mean").GetDouble(), 6);
        Assert.Equal(0, json.GetProperty("nonFinite").GetInt64());
        Assert.Equal("CT", json.GetProperty("modality").GetString());
    }

    [Theory]
    [InlineData("rtdose_1frame.dcm")]      // GDCM aborts the process on this layout: the project's own decoder reads it
    [InlineData("rtdose_rle_1frame.dcm")]  // the same, RLE Lossless
    public void Json_for_a_single_frame_rt_dose_without_number_of_frames_is_one_frame_in_gray(string name)
    {
        // Reference: pydicom 2.3.1, pixel_array × DoseGridScaling (1e-6).
        var json = InspectJson(TestFiles.Dicom(name));

        Assert.Equal([10.0, 10, 1], Numbers(json.GetProperty("size")));
        Assert.Equal([10.0, 10, 1], Numbers(json.GetProperty("spacing")));
        Assert.Equal([189.43125, 199.43125, -761.87], Numbers(json.GetProperty("origin")).Select(v => Math.Round(v, 6)));
        Assert.Equal(0.795, json.GetProperty("min").GetDouble(), 6);
        Assert.Equal(1.254, json.GetProperty("max").GetDouble(), 6);
        Assert.Equal(1.01378, json.GetProperty("mean").GetDouble(), 6);
        Assert.Equal("RTDOSE", json.GetProperty("modality").GetString());
    }

    [Fact]
    public void The_summary_never_prints_minus_zero()
    {
        // example4d's oblique direction has components that round to -0 at four decimals
        var result = EduProcess.Run(["inspect", Path.Combine(AppContext.BaseDirectory, "TestData", "nifti", "example4d.nii.gz")]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("direction   [1, 0, 0]", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(?<![0-9.])-0(?![.0-9])", result.StdOut);
    }

    [Fact]
    public void Json_for_jpeg_2000_follows_pixel_representation_over_the_codestream()
    {
        // Reference: pydicom 2.3.1 (Pillow/OpenJPEG handler) on J2K_pixelrep_mismatch.dcm: -2000…1896.
        var json = InspectJson(TestFiles.Dicom("J2K_pixelrep_mismatch.dcm"));

        Assert.Equal(-2000, json.GetProperty("min").GetDouble());
        Assert.Equal(1896, json.GetProperty("max").GetDouble());
        Assert.Equal("int16", json.GetProperty("pixelType").GetString());
    }

    [Fact]
    public void Nan_voxels_are_counted_and_left_out_of_the_statistics_in_json_and_text()
    {
        // nibabel's resampled_anat_moved.nii: float32 with 153 NaN voxels. Reference: nibabel 5.0.0 (tests/TestData/README.md).
        string path = TestFiles.Nifti("resampled_anat_moved.nii");
        var json = InspectJson(path);

        Assert.Equal("float32", json.GetProperty("pixelType").GetString());
        Assert.Equal(153, json.GetProperty("nonFinite").GetInt64());
        Assert.Equal(409.30045, json.GetProperty("min").GetDouble(), 5);
        Assert.Equal(13360.962, json.GetProperty("max").GetDouble(), 3);
        Assert.Equal(8442.21906172476, json.GetProperty("mean").GetDouble(), 9);

        var text = EduProcess.Run(["inspect", path]);
        Assert.True(text.ExitCode == 0, text.StdErr);
        Assert.Contains("values      min 409.3004, max 13360.9619, mean 8442.2191 (153 NaN or infinite voxels left out)", text.StdOut);
        Assert.DoesNotContain("NaN,", text.StdOut);
    }

    [Fact]
    public void A_volume_without_a_finite_voxel_has_null_statistics()
    {
        string dir = Directory.CreateTempSubdirectory("edu-inspect-").FullName;
        try
        {
            string path = Path.Combine(dir, "broken.nii");
            float[] voxels = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
            ImageWriterRegistry.CreateDefault().Write(new ImageVolume(ImageGeometry.Identity(new VolumeSize(2, 2, 1)), 1, voxels, PixelType.Float32), path);

            var json = InspectJson(path);

            Assert.Equal(4, json.GetProperty("nonFinite").GetInt64());
            foreach (string key in new[] { "min", "max", "mean" })
                Assert.Equal(JsonValueKind.Null, json.GetProperty(key).ValueKind);
            var text = EduProcess.Run(["inspect", path]);
            Assert.Contains("values      no finite voxel (4 NaN or infinite)", text.StdOut);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_dicom_file_without_extension_whose_preamble_looks_like_a_tiff_is_read_as_dicom()
    {
        // The 128-byte preamble is free-form (dual-personality files put a TIFF header there); "DICM" at 128 decides.
        string path = Path.Combine(Path.GetTempPath(), "edu-inspect-" + Guid.NewGuid().ToString("N"), "IM0001");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        byte[] bytes = File.ReadAllBytes(TestFiles.Dicom("MR_small.dcm"));
        "II*\0"u8.CopyTo(bytes);
        File.WriteAllBytes(path, bytes);
        try
        {
            var json = InspectJson(path);
            Assert.Equal("DICOM", json.GetProperty("format").GetString());
            Assert.Equal([64.0, 64, 1], Numbers(json.GetProperty("size")));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void Native_decoder_notes_never_reach_the_output()
    {
        // GDCM tries libjpeg's 8-bit decoder on 12-bit data first, which prints "Unsupported JPEG data precision 12".
        var run = EduProcess.Run(["inspect", TestFiles.Dicom("JPGExtended.dcm"), "--json"]);

        Assert.True(run.ExitCode == 0, run.StdErr);
        Assert.Equal("", run.StdErr.Trim());
        Assert.Equal(264, JsonDocument.Parse(run.StdOut).RootElement.GetProperty("max").GetDouble());
    }

    [Fact]
    public void A_folder_is_read_as_a_dicom_series()
    {
        var json = InspectJson(TestFiles.Dicom("series", "98892001", "CT5N"));

        Assert.Equal("DICOM series", json.GetProperty("format").GetString());
        Assert.Equal([16.0, 16, 5], Numbers(json.GetProperty("size")));
        Assert.Equal(2.5, json.GetProperty("spacing")[2].GetDouble(), 4);
    }

    [Fact]
    public void A_folder_with_several_series_needs_series_and_accepts_it()
    {
        string folder = TestFiles.Dicom("series", "98892001");
        var ambiguous = EduProcess.Run(["inspect", folder, "--json"]);
        Assert.Equal(2, ambiguous.ExitCode);
        Assert.Contains("--series", ambiguous.StdErr);
        Assert.Empty(ambiguous.StdOut);

        var fiveSlices = Edu.Dicom.DicomSeriesReader.Scan(folder).Single(s => s.Files.Count == 5);
        Assert.Contains(fiveSlices.SeriesInstanceUid, ambiguous.StdErr);
        string uid = fiveSlices.SeriesInstanceUid;
        var chosen = InspectJson(folder, "--series", uid);
        Assert.Equal(5, chosen.GetProperty("size")[2].GetInt32());
    }

    [Fact]
    public void Human_summary_names_format_size_and_values()
    {
        var run = EduProcess.Run(["inspect", TestFiles.Dicom("MR_small.dcm")]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("DICOM (MR)", run.StdOut);
        Assert.Contains("64 × 64 × 1", run.StdOut);
        Assert.Contains("min 127, max 2145", run.StdOut);
    }

    public static TheoryData<string, string> BadInputs() => new()
    {
        { "missing.nii.gz", "no such file" },
        { "random.nii.gz", "" },
        { "empty.png", "empty" },
        { "truncated.dcm", "" },
        { "report.dcm", "no pixel data" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_exits_2_with_one_error_line_naming_the_file(string name, string reason)
    {
        string dir = Directory.CreateTempSubdirectory("edu-inspect-").FullName;
        try
        {
            string path = Path.Combine(dir, name);
            switch (name)
            {
                case "random.nii.gz": File.WriteAllBytes(path, [.. Enumerable.Range(0, 5000).Select(i => (byte)(i * 7 + 3))]); break;
                case "empty.png": File.WriteAllBytes(path, []); break;
                case "truncated.dcm": File.WriteAllBytes(path, File.ReadAllBytes(TestFiles.Dicom("CT_small.dcm"))[..20000]); break;
                case "report.dcm": File.Copy(TestFiles.Dicom("reportsi.dcm"), path); break;
            }

            var run = EduProcess.Run(["inspect", path, "--json"], timeoutSeconds: 60);

            Assert.Equal(2, run.ExitCode);
            Assert.Empty(run.StdOut);
            string line = Assert.Single(run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:", StringComparison.Ordinal));
            Assert.Contains(path, line);
            Assert.Contains(reason, line);
            Assert.DoesNotContain("   at ", run.StdErr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
