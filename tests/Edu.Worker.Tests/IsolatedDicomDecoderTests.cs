using Edu.Abstractions.Errors;
using Edu.Dicom;
using Edu.Worker.Segmentation;

namespace Edu.Worker.Tests;

public sealed class IsolatedDicomDecoderTests
{
    private static readonly string Dicom = Path.Combine(AppContext.BaseDirectory, "TestData", "dicom");

    [Theory]
    [InlineData("CT_small.dcm")]
    [InlineData("SC_rgb_rle_2frame.dcm")]
    public async Task The_child_process_returns_the_volume_the_reader_gives_in_process(string file)
    {
        using var temp = new TempDir();
        string path = Path.Combine(Dicom, file);
        var expected = new DicomImageReader().Read(path);
        var actual = await IsolatedDicomDecoder.ReadAsync(path, null, temp.Sub("work"), CancellationToken.None);

        Assert.Equal(expected.Geometry, actual.Geometry);
        Assert.Equal(expected.Channels, actual.Channels);
        Assert.Equal(expected.SourcePixelType, actual.SourcePixelType);
        Assert.Equal(expected.Voxels, actual.Voxels);
        Assert.Equal(expected.Metadata.OrderBy(p => p.Key), actual.Metadata.OrderBy(p => p.Key));
    }

    [Fact]
    public async Task A_series_folder_and_a_refused_file_come_back_as_they_do_in_process()
    {
        using var temp = new TempDir();
        string series = Path.Combine(Dicom, "series", "98892001", "CT5N");
        var volume = await IsolatedDicomDecoder.ReadAsync(series, null, temp.Sub("series"), CancellationToken.None);
        Assert.Equal(DicomSeriesReader.Read(series).Geometry, volume.Geometry);

        string report = Path.Combine(Dicom, "reportsi.dcm");
        var inProcess = Assert.ThrowsAny<InvalidInputException>(() => new DicomImageReader().Read(report));
        var isolated = await Assert.ThrowsAsync<InvalidInputException>(() => IsolatedDicomDecoder.ReadAsync(report, null, temp.Sub("report"), CancellationToken.None));
        Assert.Equal(inProcess.Input, isolated.Input);
        Assert.Equal(inProcess.Problem, isolated.Problem);
    }

    [Fact]
    public async Task A_decoder_that_crashes_costs_the_request_not_the_caller()
    {
        using var temp = new TempDir();
        // a 1 MiB GC heap: the child dies (out of memory) the way an aborting GDCM would take it down
        var crash = new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x100000" };
        var error = await Assert.ThrowsAsync<InvalidInputException>(() =>
            IsolatedDicomDecoder.ReadAsync(Path.Combine(Dicom, "CT_small.dcm"), null, temp.Sub("work"), CancellationToken.None, crash));
        Assert.Equal("DICOM upload", error.Input);
        Assert.Contains("decoder stopped", error.Problem, StringComparison.Ordinal);
    }
}
