using System.Diagnostics;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Dicom.Tests;

/// <summary>
/// The SEG is checked by other tools: dciodvfy (dicom3tools) validates it against the Segmentation IOD, and pydicom
/// decodes its frames, which must equal the labels slice by slice and reference the right source images.
/// </summary>
public sealed class DicomSegWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edu-seg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly DicomSegOptions Options = new()
    {
        LabelNames = new Dictionary<int, string> { [0] = "background", [1] = "liver", [2] = "tumour", [3] = "vessel" },
        AlgorithmName = "tiny-liver",
        AlgorithmVersion = "3",
        Codes = new Dictionary<int, (DicomCode, DicomCode)> { [2] = (DicomCode.MorphologicallyAlteredStructure, new DicomCode("108369006", "SCT", "Neoplasm")) },
    };

    private string WriteSeg(ImageVolume labels, string source, DicomSegOptions? options = null)
    {
        string path = Path.Combine(_dir, "seg.dcm");
        using (var stream = File.Create(path))
            DicomSegWriter.Write(labels, source, null, stream, options ?? Options);
        return path;
    }

    private static ImageVolume LabelsLike(ImageVolume image, Func<int, int, int, int> label)
    {
        var s = image.Size;
        var voxels = new float[s.VoxelCount];
        for (int z = 0; z < s.Z; z++)
            for (int y = 0; y < s.Y; y++)
                for (int x = 0; x < s.X; x++)
                    voxels[(z * s.Y + y) * s.X + x] = label(x, y, z);
        return new ImageVolume(image.Geometry, 1, voxels, PixelType.UInt8);
    }

    [Fact]
    public void A_series_seg_is_a_valid_iod_whose_frames_are_the_labels_on_their_source_slices()
    {
        string series = TestFiles.Series("98892001", "CT5N");
        var image = DicomSeriesReader.Read(series);
        // Liver in slices 1–3, a tumour inside it on slice 2, no vessel anywhere.
        var labels = LabelsLike(image, (x, y, z) => z is >= 1 and <= 3 && x is > 3 and < 12 && y is > 2 and < 10 ? (z == 2 && x > 6 && y > 5 ? 2 : 1) : 0);
        string seg = WriteSeg(labels, series);

        AssertValidIod(seg);
        var decoded = Decode(seg);
        Assert.Equal("SEG", decoded.GetProperty("modality").GetString());
        Assert.Equal("Doe^Peter", decoded.GetProperty("patient_name").GetString());
        Assert.Equal(image.Metadata["StudyInstanceUID"], decoded.GetProperty("study_uid").GetString());
        Assert.NotEqual(image.Metadata["SeriesInstanceUID"], decoded.GetProperty("series_uid").GetString());
        Assert.Equal(["liver", "tumour", "vessel"], decoded.GetProperty("segments").EnumerateArray().Select(s => s.GetString()!));

        // Every frame: its segment's mask on the slice of the source image it references, at that image's position.
        // Slice index of each source image, from its own position (the volume is axial: z grows with the index).
        var sliceOf = Directory.GetFiles(series).Select(DicomFileReader.Read).ToDictionary(
            v => v.Metadata["SOPInstanceUID"], v => (int)Math.Round((v.Geometry.Origin[2] - image.Geometry.Origin[2]) / image.Geometry.Spacing[2]));
        var frames = decoded.GetProperty("frames").EnumerateArray().ToList();
        Assert.Equal(3 + 1 + 1, frames.Count); // liver on 3 slices, tumour on 1, the empty vessel segment keeps one frame
        foreach (var frame in frames)
        {
            int segment = frame.GetProperty("segment").GetInt32();
            Assert.True(sliceOf.TryGetValue(frame.GetProperty("source_uid").GetString()!, out int z), "a frame references an image outside the series");
            var expected = labels.Voxels.AsSpan(z * 256, 256).ToArray().Select((v, i) => (v, i)).Where(p => p.v == segment).Select(p => p.i);
            Assert.Equal(expected, frame.GetProperty("ones").EnumerateArray().Select(e => e.GetInt32()));
            var (wx, wy, wz) = labels.Geometry.IndexToWorld(0, 0, z);
            Assert.Equal([wx, wy, wz], frame.GetProperty("position").EnumerateArray().Select(e => e.GetDouble()), (a, b) => Math.Abs(a - b) < 1e-3);
        }
        Assert.Contains(frames, f => f.GetProperty("segment").GetInt32() == 3 && f.GetProperty("ones").GetArrayLength() == 0);
        Assert.Equal(["85756007", "49755003", "85756007"], decoded.GetProperty("categories").EnumerateArray().Select(s => s.GetString()!));
    }

    [Fact]
    public void Frames_that_do_not_end_on_a_byte_boundary_pack_back_to_back()
    {
        // 7 × 5 voxels a slice: every frame after the first starts inside a byte. A series GDCM wrote, with no patient module.
        var geometry = new ImageGeometry(new VolumeSize(7, 5, 3), [0.8, 0.6, 2], [10, -20, 30], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        var ct = new ImageVolume(geometry, 1, [.. Enumerable.Range(0, 105).Select(i => (float)(i % 13 * 10))], PixelType.Int16);
        string series = Path.Combine(_dir, "odd");
        DicomSeriesWriter.Write(ct, series);
        var image = DicomSeriesReader.Read(series);
        var labels = LabelsLike(image, (x, y, z) => (x + 2 * y + z) % 3 == 0 ? 1 : (x * y + z) % 4 == 1 ? 2 : 0);
        string seg = WriteSeg(labels, series);

        AssertValidIod(seg);
        var frames = Decode(seg).GetProperty("frames").EnumerateArray().ToList();
        Assert.Equal(3 + 3 + 1, frames.Count);
        foreach (var frame in frames)
        {
            int segment = frame.GetProperty("segment").GetInt32();
            double zWorld = frame.GetProperty("position")[2].GetDouble();
            int z = (int)Math.Round((zWorld - 30) / 2);
            var expected = labels.Voxels.AsSpan(z * 35, 35).ToArray().Select((v, i) => (v, i)).Where(p => p.v == segment).Select(p => p.i);
            Assert.Equal(expected, frame.GetProperty("ones").EnumerateArray().Select(e => e.GetInt32()));
        }
    }

    [Fact]
    public void Names_and_codes_keep_dicom_s_limits_and_the_source_s_character_set()
    {
        // CT5N declares ISO_IR 100 (Latin-1): a label with an umlaut and a backslash, an 18-digit SNOMED code.
        string series = TestFiles.Series("98892001", "CT5N");
        var labels = LabelsLike(DicomSeriesReader.Read(series), (x, y, z) => x < 4 ? 1 : 0);
        var options = new DicomSegOptions
        {
            LabelNames = new Dictionary<int, string> { [1] = "Läsion\\Kern" },
            Codes = new Dictionary<int, (DicomCode, DicomCode)> { [1] = (DicomCode.MorphologicallyAlteredStructure, new DicomCode("450893003123456789", "SCT", "Läsion")) },
        };
        string seg = WriteSeg(labels, series, options);

        AssertValidIod(seg);
        var (exit, output) = Run("/usr/bin/python3", "-c",
            "import sys, pydicom; s = pydicom.dcmread(sys.argv[1]).SegmentSequence[0]; t = s.SegmentedPropertyTypeCodeSequence[0]; "
            + "print(s.SegmentLabel); print(t.LongCodeValue); print(t.CodeMeaning)", seg);
        Assert.True(exit == 0, output);
        Assert.Equal(["Läsion/Kern", "450893003123456789", "Läsion"], output.Trim().Split('\n'));
    }

    [Fact]
    public void A_single_image_without_a_frame_of_reference_gets_a_seg_without_plane_positions()
    {
        string file = Path.Combine(TestFiles.Series("77654033", "CR1"), "6154");
        var image = DicomFileReader.Read(file);
        var labels = LabelsLike(image, (x, y, _) => x < 8 && y < 4 ? 1 : 0);
        string seg = WriteSeg(labels, file);

        AssertValidIod(seg);
        var frames = Decode(seg).GetProperty("frames").EnumerateArray().ToList();
        Assert.Equal(3, frames.Count);
        Assert.Equal(32, frames[0].GetProperty("ones").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, frames[0].GetProperty("position").ValueKind);
    }

    [Fact]
    public void Labels_outside_the_source_geometry_are_refused_before_anything_is_written()
    {
        string series = TestFiles.Series("98892001", "CT5N");
        var image = DicomSeriesReader.Read(series);
        var g = image.Geometry;
        var shifted = new ImageVolume(new ImageGeometry(g.Size, [.. g.Spacing], [g.Origin[0], g.Origin[1], g.Origin[2] + 1.25], [.. g.Direction]), 1, new float[g.Size.VoxelCount], PixelType.UInt8);
        using var stream = new MemoryStream();
        var e = Assert.Throws<InvalidInputException>(() => DicomSegWriter.Write(shifted, series, null, stream, Options));
        Assert.Contains("not in this series' geometry", e.Message);

        var small = new ImageVolume(ImageGeometry.Identity(new VolumeSize(8, 8, 5)), 1, new float[320], PixelType.UInt8);
        e = Assert.Throws<InvalidInputException>(() => DicomSegWriter.Write(small, series, null, stream, Options));
        Assert.Contains("8×8", e.Message);
        Assert.Equal(0, stream.Length);
    }

    private static void AssertValidIod(string path)
    {
        var (exit, output) = Run("dciodvfy", path);
        var errors = output.Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, "dciodvfy:\n" + output);
        Assert.Contains("Segmentation", output);
        _ = exit;
    }

    // pydicom (Debian's python3-pydicom) decodes the SEG: segments, and per frame the segment, the referenced source
    // image, the plane position and the flat indices of the set pixels.
    private const string DecodeScript = """
        import json, sys, pydicom
        ds = pydicom.dcmread(sys.argv[1])
        px = ds.pixel_array.reshape(int(ds.NumberOfFrames), ds.Rows * ds.Columns)
        frames = []
        for i, f in enumerate(ds.PerFrameFunctionalGroupsSequence):
            pos = f.PlanePositionSequence[0].ImagePositionPatient if 'PlanePositionSequence' in f else None
            frames.append({
                'segment': int(f.SegmentIdentificationSequence[0].ReferencedSegmentNumber),
                'source_uid': f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID,
                'position': [float(v) for v in pos] if pos is not None else None,
                'ones': [int(j) for j in px[i].nonzero()[0]],
            })
        print(json.dumps({
            'modality': ds.Modality, 'patient_name': str(ds.PatientName), 'study_uid': ds.StudyInstanceUID,
            'series_uid': ds.SeriesInstanceUID, 'segments': [s.SegmentLabel for s in ds.SegmentSequence],
            'categories': [s.SegmentedPropertyCategoryCodeSequence[0].CodeValue for s in ds.SegmentSequence],
            'frames': frames}))
        """;

    private static JsonElement Decode(string path)
    {
        var (exit, output) = Run("/usr/bin/python3", "-c", DecodeScript, path);
        Assert.True(exit == 0, "pydicom could not read the SEG:\n" + output);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static (int Exit, string Output) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
