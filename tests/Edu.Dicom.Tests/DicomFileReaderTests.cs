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

    // Reference values: pydicom 2.3.1 (Debian 12) with its GDCM/Pillow handlers:
    // apply_modality_lut(ds.pixel_array, ds) for grey, convert_color_space(…, 'RGB') for YBR; min, max, mean over all samples.
    [Theory]
    [InlineData("CT_small.dcm", 128, 128, 1, 1, -896.0, 1167.0, -119.0738525390625)]           // explicit VR LE, rescale −1024
    [InlineData("MR_small.dcm", 64, 64, 1, 1, 127.0, 2145.0, 518.88134765625)]
    [InlineData("MR_small_implicit.dcm", 64, 64, 1, 1, 127.0, 2145.0, 518.88134765625)]       // implicit VR LE
    [InlineData("MR_small_bigendian.dcm", 64, 64, 1, 1, 127.0, 2145.0, 518.88134765625)]      // explicit VR BE
    [InlineData("MR_small_RLE.dcm", 64, 64, 1, 1, 127.0, 2145.0, 518.88134765625)]            // RLE lossless
    [InlineData("MR_small_jp2klossless.dcm", 64, 64, 1, 1, 127.0, 2145.0, 518.88134765625)]   // JPEG 2000 lossless
    [InlineData("MR_small_jpeg_ls_lossless.dcm", 64, 64, 1, 1, 127.0, 2145.0, 518.88134765625)] // JPEG-LS lossless
    [InlineData("image_dfl.dcm", 512, 512, 1, 1, 0.0, 255.0, 127.115967)]                      // deflated explicit VR LE
    [InlineData("JPGExtended.dcm", 256, 1024, 1, 1, 0.0, 264.0, 14.369991)]                    // JPEG extended (12-bit)
    [InlineData("JPEG2000.dcm", 256, 1024, 1, 1, -30.0, 245.0, 13.458160)]                      // JPEG 2000
    [InlineData("J2K_pixelrep_mismatch.dcm", 512, 512, 1, 1, -2000.0, 1896.0, -658.4368057250977)] // JPEG 2000 coded unsigned, Pixel Representation 1 (pydicom's Pillow handler)
    [InlineData("SC_rgb_rle_2frame.dcm", 100, 100, 2, 3, 0.0, 255.0, 127.5)]                    // multi-frame RGB
    [InlineData("SC_rgb_rle_16bit_2frame.dcm", 100, 100, 2, 3, 0.0, 65535.0, 32767.5)]         // 16-bit RGB
    [InlineData("SC_ybr_full_422_uncompressed.dcm", 100, 100, 1, 3, 0.0, 255.0, 127.733333)]  // YBR_FULL_422 → RGB
    [InlineData("SC_rgb_dcmtk_+eb+cy+np.dcm", 100, 100, 1, 3, 0.0, 255.0, 127.545)]           // JPEG baseline, YBR_FULL_422
    [InlineData("SC_rgb_jpeg_gdcm.dcm", 100, 100, 1, 3, 0.0, 255.0, 127.7)]                    // JPEG lossless RGB
    [InlineData("GDCMJ2K_TextGBR.dcm", 400, 400, 1, 3, 0.0, 255.0, 124.435881)]               // JPEG 2000, YBR_RCT
    [InlineData("ExplVR_BigEnd.dcm", 80, 60, 1, 3, 0.0, 255.0, 171.5775)]                      // big endian RGB
    [InlineData("liver_1frame.dcm", 512, 512, 1, 1, 0.0, 1.0, 0.138218)]                       // 1-bit (segmentation)
    public void Decodes_every_transfer_syntax_as_pydicom_does(string name, int columns, int rows, int frames, int channels,
        double min, double max, double mean)
    {
        var volume = DicomFileReader.Read(TestFiles.Dicom(name));

        Assert.Equal(new VolumeSize(columns, rows, frames), volume.Size);
        Assert.Equal(channels, volume.Channels);
        Assert.Equal(min, volume.Voxels.Min());
        Assert.Equal(max, volume.Voxels.Max());
        Assert.Equal(mean, volume.Voxels.Average(v => (double)v), 5);
    }

    [Fact]
    public void A_jpeg_stream_cut_short_by_a_stray_marker_is_refused_not_returned_as_garbage()
    {
        // An EOI marker inside JPGExtended's entropy-coded data: libjpeg only warns "Corrupt JPEG data: premature
        // end of data segment" on stderr and fills the rest of the image; GDCM reports success.
        string path = Path.Combine(Path.GetTempPath(), $"edu-jpeg-{Guid.NewGuid():N}.dcm");
        byte[] bytes = File.ReadAllBytes(TestFiles.Dicom("JPGExtended.dcm"));
        bytes[6000] = 0xFF;
        bytes[6001] = 0xD9;
        File.WriteAllBytes(path, bytes);
        try
        {
            var e = Assert.Throws<InvalidInputException>(() => DicomFileReader.Read(path));
            Assert.Contains("corrupt", e.Message);
            Assert.Equal(264, DicomFileReader.Read(TestFiles.Dicom("JPGExtended.dcm")).Voxels.Max()); // the intact file still reads
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Padding_before_the_jpeg_end_marker_is_not_damage()
    {
        // libjpeg warns "Corrupt JPEG data: 2 extraneous bytes before marker 0xd9" but loses nothing.
        string path = Path.Combine(Path.GetTempPath(), $"edu-jpeg-pad-{Guid.NewGuid():N}.dcm");
        byte[] bytes = File.ReadAllBytes(TestFiles.Dicom("JPGExtended.dcm"));
        int eoi = bytes.AsSpan().LastIndexOf([(byte)0xFF, (byte)0xD9]);
        byte[] padded = [.. bytes[..eoi], 0x00, 0x00, .. bytes[eoi..]];
        // the fragment item and the pixel data element grow by the two bytes (both lengths are defined, little endian)
        int item = bytes.AsSpan(0, eoi).LastIndexOf([(byte)0xFE, (byte)0xFF, (byte)0x00, (byte)0xE0]);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(padded.AsSpan(item + 4), System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(item + 4)) + 2);
        File.WriteAllBytes(path, padded);
        try
        {
            Assert.Equal(DicomFileReader.Read(TestFiles.Dicom("JPGExtended.dcm")).Voxels, DicomFileReader.Read(path).Voxels);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Rgb_channels_are_planes_in_the_volume_layout()
    {
        // SC_rgb_rle_2frame's first pixel is pure red (pydicom: [255, 0, 0]).
        var volume = DicomFileReader.Read(TestFiles.Dicom("SC_rgb_rle_2frame.dcm"));

        Assert.Equal([255f, 0f, 0f], [volume.Channel(0)[0], volume.Channel(1)[0], volume.Channel(2)[0]]);
    }

    [Fact]
    public void Rt_dose_is_scaled_by_dose_grid_scaling_and_frames_become_slices()
    {
        // pydicom: raw 795000…1254000, mean 1013273.333; DoseGridScaling 1e-6 → Gy; GridFrameOffsetVector steps 5 mm.
        var volume = DicomFileReader.Read(TestFiles.Dicom("rtdose.dcm"));

        Assert.Equal(new VolumeSize(10, 10, 15), volume.Size);
        Assert.Equal(0.795, volume.Voxels.Min(), 6);
        Assert.Equal(1.254, volume.Voxels.Max(), 6);
        Assert.Equal(1.01327333, volume.Voxels.Average(v => (double)v), 6);
        Assert.Equal(5.0, volume.Geometry.Spacing[2], 6);
    }

    // Reference values: pydicom 2.3.1, apply_modality_lut(ds.pixel_array, ds).
    [Theory]
    [InlineData("CT_small.dcm", 0.661468, -158.135803, -179.035797, -75.699997)]
    [InlineData("MR_small.dcm", 0.3125, -83.9063, -91.2000, 6.6406)]
    public void Geometry_is_lps_from_position_orientation_and_spacing(string name, double spacing, double ox, double oy, double oz)
    {
        var volume = DicomFileReader.Read(TestFiles.Dicom(name));

        Assert.Equal(spacing, volume.Geometry.Spacing[0], 6);
        Assert.Equal(spacing, volume.Geometry.Spacing[1], 6);
        Assert.Equal([ox, oy, oz], volume.Geometry.Origin.Select(v => Math.Round(v, 6)));
        Assert.Equal([1.0, 0, 0, 0, 1, 0, 0, 0, 1], volume.Geometry.Direction);
        Assert.Equal(name[..2], volume.Metadata["Modality"]);
        Assert.DoesNotContain(volume.Metadata.Keys, k => k.Contains("Patient", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("MR_truncated.dcm", "truncated")]
    [InlineData("reportsi.dcm", "no pixel data (modality 'SR'")]
    [InlineData("rtplan.dcm", "no pixel data (modality 'RTPLAN'")]
    public void Files_that_cannot_give_a_correct_image_are_refused_naming_the_file(string name, string reason)
    {
        string path = TestFiles.Dicom(name);
        var error = Assert.Throws<InvalidInputException>(() => DicomFileReader.Read(path));

        Assert.Equal(path, error.Input);
        Assert.Contains(reason, error.Message);
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

    [Fact]
    public void Identify_reads_size_and_geometry_from_the_header_alone()
    {
        var header = new DicomImageReader().Identify(TestFiles.Dicom("CT_small.dcm"));
        var full = DicomFileReader.Read(TestFiles.Dicom("CT_small.dcm"));

        Assert.Equal("DICOM", header.Format);
        Assert.True(header.Geometry.IsCloseTo(full.Geometry), $"{header.Geometry} vs {full.Geometry}");
        Assert.Equal(PixelType.Int16, header.PixelType);
        Assert.Equal(1, header.Channels);
    }
}
