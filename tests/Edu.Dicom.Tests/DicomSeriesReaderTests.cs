using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Dicom.Tests;

// The series are pydicom's dicomdirtests (16×16 images); positions as pydicom reads them.
public sealed class DicomSeriesReaderTests
{
    [Fact]
    public void A_folder_of_slices_becomes_one_volume_sorted_along_the_normal()
    {
        // CT5N: five axial slices at z = 8.7625, 6.2625, 3.7625, 1.2625, −1.2375 (files 2062 … 3353).
        string folder = TestFiles.Series("98892001", "CT5N");
        var volume = DicomSeriesReader.Read(folder);

        Assert.Equal(new VolumeSize(16, 16, 5), volume.Size);
        Assert.Equal(2.5, volume.Geometry.Spacing[2], 4);
        Assert.Equal([-72.199997, -143.0, -1.2375], volume.Geometry.Origin.Select(v => Math.Round(v, 6)));
        Assert.Equal([1.0, 0, 0, 0, 1, 0, 0, 0, 1], volume.Geometry.Direction);

        // The lowest slice comes first, the highest last.
        var lowest = DicomFileReader.Read(Path.Combine(folder, "3353"));
        var highest = DicomFileReader.Read(Path.Combine(folder, "2062"));
        Assert.Equal(lowest.Voxels, volume.Voxels.AsSpan(0, 256).ToArray());
        Assert.Equal(highest.Voxels, volume.Voxels.AsSpan(4 * 256, 256).ToArray());
    }

    [Fact]
    public void A_gap_between_slices_is_refused_not_stacked()
    {
        // CT2: z = −99.48, 103.02, 104.27, 105.52.
        var error = Assert.Throws<InvalidInputException>(() => DicomSeriesReader.Read(TestFiles.Series("77654033", "CT2")));
        Assert.Contains("unevenly spaced", error.Message);
    }

    [Fact]
    public void Mixed_orientations_are_refused()
    {
        var error = Assert.Throws<InvalidInputException>(() => DicomSeriesReader.Read(TestFiles.Series("98892003", "MR700")));
        Assert.Contains("orientations", error.Message);
    }

    [Fact]
    public void Several_series_are_listed_and_one_can_be_chosen()
    {
        string folder = TestFiles.Series("98892001");
        var series = DicomSeriesReader.Scan(folder);
        Assert.Equal(2, series.Count);
        Assert.Equal([2, 5], series.Select(s => s.Files.Count).Order());

        var error = Assert.Throws<InvalidInputException>(() => DicomSeriesReader.Read(folder));
        Assert.Contains("--series", error.Message);
        foreach (var s in series) Assert.Contains(s.SeriesInstanceUid, error.Message);

        var five = series.Single(s => s.Files.Count == 5);
        Assert.Equal(5, DicomSeriesReader.Read(folder, five.SeriesInstanceUid).Size.Z);
        Assert.Throws<InvalidInputException>(() => DicomSeriesReader.Read(folder, "1.2.3.4"));
    }

    [Fact]
    public void A_folder_without_dicom_images_is_refused()
    {
        string empty = Directory.CreateTempSubdirectory("edu-empty-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(empty, "README"), "not dicom");
            var error = Assert.Throws<InvalidInputException>(() => DicomSeriesReader.Read(empty));
            Assert.Contains("no DICOM image files", error.Message);
        }
        finally
        {
            Directory.Delete(empty, true);
        }
    }
}

public sealed class DicomSeriesRoundTripTests
{
    [Fact]
    public void An_oblique_series_written_with_gdcm_reads_back_with_the_same_geometry_and_values()
    {
        // A rotation of 30° about the patient's z axis, anisotropic spacing, slices written in shuffled order.
        double c = Math.Cos(Math.PI / 6), s = Math.Sin(Math.PI / 6);
        var geometry = new ImageGeometry(new VolumeSize(12, 10, 7), [0.8, 0.9, 2.5], [-40, 25, 110], [c, -s, 0, s, c, 0, 0, 0, 1]);
        var voxels = new float[12 * 10 * 7];
        for (int i = 0; i < voxels.Length; i++) voxels[i] = (i * 37 % 2000) - 1000;
        var volume = new ImageVolume(geometry, 1, voxels, PixelType.Int16);
        string folder = Path.Combine(Path.GetTempPath(), $"edu-series-{Guid.NewGuid():N}");
        try
        {
            var files = DicomSeriesWriter.Write(volume, folder);
            foreach (var (file, index) in files.Select((f, i) => (f, i)))
                File.Move(file, Path.Combine(folder, $"{(index * 5) % 7}-{Path.GetFileName(file)}")); // names no longer sorted by z

            var read = DicomSeriesReader.Read(folder);

            Assert.True(read.Geometry.IsCloseTo(geometry, 1e-4), $"{string.Join(",", read.Geometry.Direction)} / {string.Join(",", read.Geometry.Origin)}");
            Assert.Equal(voxels, read.Voxels);
            Assert.Equal("CT", read.Metadata["Modality"]);
            Assert.Throws<InvalidInputException>(() => DicomSeriesWriter.Write(volume, folder)); // never into a non-empty folder
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
        }
    }
    [Fact]
    public void A_jpeg_lossless_series_decodes_like_the_original_and_a_damaged_slice_is_named()
    {
        // CT5N compressed slice by slice by dcmtk's dcmcjpeg (JPEG lossless, process 14, first-order prediction).
        string dir = Path.Combine(Path.GetTempPath(), $"edu-jpeg-series-{Guid.NewGuid():N}");
        string series = Path.Combine(dir, "series");
        Directory.CreateDirectory(series);
        try
        {
            foreach (string file in Directory.GetFiles(TestFiles.Series("98892001", "CT5N")))
            {
                using var dcmcjpeg = System.Diagnostics.Process.Start("dcmcjpeg", [file, Path.Combine(series, Path.GetFileName(file) + ".dcm")]);
                dcmcjpeg.WaitForExit();
                Assert.Equal(0, dcmcjpeg.ExitCode);
            }
            Assert.Equal(DicomSeriesReader.Read(TestFiles.Series("98892001", "CT5N")).Voxels, DicomSeriesReader.Read(series).Voxels);

            // a stray EOI marker a few bytes into one slice's entropy-coded data
            string damaged = Path.Combine(series, "2392.dcm");
            byte[] bytes = File.ReadAllBytes(damaged);
            int sos = bytes.AsSpan().LastIndexOf([(byte)0xFF, (byte)0xDA]);
            int data = sos + 2 + (bytes[sos + 2] << 8 | bytes[sos + 3]);
            bytes[data + 6] = 0xFF;
            bytes[data + 7] = 0xD9;
            File.WriteAllBytes(damaged, bytes);

            var e = Assert.Throws<InvalidInputException>(() => DicomSeriesReader.Read(series));
            Assert.Equal(damaged, e.Input);
            Assert.Contains("corrupt", e.Problem);

            // a broken SOS marker: GDCM fails outright (inside the parallel decode), and the slice is still named
            bytes[sos + 1] = 0x00;
            File.WriteAllBytes(damaged, bytes);
            e = Assert.Throws<InvalidInputException>(() => DicomSeriesReader.Read(series));
            Assert.Equal(damaged, e.Input);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
