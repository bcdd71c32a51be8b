using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Dicom.Tests;

public sealed class DicomFileReaderTests
{
    [Fact]
    public void Gdcm_binding_loads_from_the_installed_package()
    {
        Assert.StartsWith("3.0.", GdcmRuntime.EnsureLoaded());
    }

    // Reference values: pydicom 2.3.1, apply_modality_lut(ds.pixel_array, ds).
    [Theory]
    [InlineData("CT_small.dcm", 128, 128, "CT", -896.0, 1167.0, -119.0738525390625, 0.661468, -158.135803, -179.035797, -75.699997)]
    [InlineData("MR_small.dcm", 64, 64, "MR", 127.0, 2145.0, 518.88134765625, 0.3125, -83.9063, -91.2000, 6.6406)]
    public void Reads_size_values_after_modality_lut_and_lps_geometry_as_pydicom_reports(
        string name, int columns, int rows, string modality, double min, double max, double mean,
        double spacing, double ox, double oy, double oz)
    {
        var volume = DicomFileReader.Read(TestFiles.Dicom(name));

        Assert.Equal(new VolumeSize(columns, rows, 1), volume.Size);
        Assert.Equal(1, volume.Channels);
        Assert.Equal(PixelType.Int16, volume.SourcePixelType);
        Assert.Equal(modality, volume.Metadata["Modality"]);
        Assert.Equal(min, volume.Voxels.Min());
        Assert.Equal(max, volume.Voxels.Max());
        Assert.Equal(mean, volume.Voxels.Average(v => (double)v), 6);
        Assert.Equal(spacing, volume.Geometry.Spacing[0], 6);
        Assert.Equal(spacing, volume.Geometry.Spacing[1], 6);
        Assert.Equal([ox, oy, oz], volume.Geometry.Origin.Select(v => Math.Round(v, 6)));
        Assert.Equal([1.0, 0, 0, 0, 1, 0, 0, 0, 1], volume.Geometry.Direction);
    }

    [Fact]
    public void A_file_that_is_not_dicom_is_refused_naming_the_file()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edu-not-dicom-{Guid.NewGuid():N}.dcm");
        File.WriteAllBytes(path, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 31))]);
        try
        {
            var error = Assert.Throws<InvalidInputException>(() => DicomFileReader.Read(path));
            Assert.Equal(path, error.Input);
            Assert.Contains("not a DICOM file", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
