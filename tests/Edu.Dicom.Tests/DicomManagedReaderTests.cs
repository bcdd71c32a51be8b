using System.Buffers.Binary;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Dicom.Tests;

/// <summary>
/// RT Dose layouts GDCM cannot take (it aborts the process on a Grid Frame Offset Vector without Number of Frames, and
/// decodes 32-bit explicit VR big endian wrongly) are read by the project's own decoder, through the public reader.
/// An abort would kill the test host, so these tests also prove GDCM never sees them.
/// </summary>
public sealed class DicomManagedReaderTests
{
    private static readonly double[] DosePosition = [189.43125, 199.43125, -761.87];

    // Reference: pydicom 2.3.1, pixel_array × DoseGridScaling (1e-6) as float32; all three hold the first frame of
    // rtdose.dcm: raw 795000…1254000, mean 1013780.
    [Theory]
    [InlineData("rtdose_1frame.dcm")]       // implicit VR little endian
    [InlineData("rtdose_expb_1frame.dcm")]  // explicit VR big endian
    [InlineData("rtdose_rle_1frame.dcm")]   // RLE Lossless
    public void Single_frame_rt_dose_without_number_of_frames_is_one_frame_in_gray(string name)
    {
        var volume = DicomFileReader.Read(TestFiles.Dicom(name));

        Assert.Equal(new VolumeSize(10, 10, 1), volume.Size);
        Assert.Equal(0.795, volume.Voxels.Min(), 6);
        Assert.Equal(1.254, volume.Voxels.Max(), 6);
        Assert.Equal(1.01378, volume.Voxels.Average(v => (double)v), 6);
        Assert.Equal(1.249, volume.Voxels[0], 6);
        Assert.Equal(0.798, volume.Voxels[^1], 6);
        Assert.Equal([10.0, 10, 1], volume.Geometry.Spacing);
        Assert.Equal(DosePosition, volume.Geometry.Origin);
        Assert.Equal([1.0, 0, 0, 0, 1, 0, 0, 0, 1], volume.Geometry.Direction);
        Assert.Equal(PixelType.UInt32, volume.SourcePixelType);
        Assert.Equal("RTDOSE", volume.Metadata["Modality"]);
    }

    [Fact]
    public void The_three_encodings_decode_to_the_first_frame_gdcm_reads_from_the_multi_frame_file()
    {
        var firstFrame = DicomFileReader.Read(TestFiles.Dicom("rtdose.dcm")).Voxels[..100];

        foreach (string name in new[] { "rtdose_1frame.dcm", "rtdose_expb_1frame.dcm", "rtdose_rle_1frame.dcm" })
            Assert.Equal(firstFrame, DicomFileReader.Read(TestFiles.Dicom(name)).Voxels);
    }

    [Fact]
    public void Multi_frame_big_endian_rt_dose_has_its_frames_at_the_grid_frame_offsets()
    {
        // pydicom: 15 frames, raw 795000…1254000, mean 1013273.333; Grid Frame Offset Vector 0, 5, …, 70 mm from Image Position.
        var volume = DicomFileReader.Read(TestFiles.Dicom("rtdose_expb.dcm"));

        Assert.Equal(new VolumeSize(10, 10, 15), volume.Size);
        Assert.Equal(0.795, volume.Voxels.Min(), 6);
        Assert.Equal(1.254, volume.Voxels.Max(), 6);
        Assert.Equal(1.01327333, volume.Voxels.Average(v => (double)v), 6);
        Assert.Equal([10.0, 10, 5], volume.Geometry.Spacing);
        Assert.Equal(DosePosition, volume.Geometry.Origin);
        for (int z = 0; z < 15; z++)
        {
            var (x, y, wz) = volume.Geometry.IndexToWorld(0, 0, z);
            Assert.Equal([189.43125, 199.43125, -761.87 + 5 * z], new[] { x, y, wz }.Select(v => Math.Round(v, 6)));
        }
        // The same dose as the little-endian file GDCM decodes.
        Assert.Equal(DicomFileReader.Read(TestFiles.Dicom("rtdose.dcm")).Voxels, volume.Voxels);
    }

    [Fact]
    public void Identify_gives_one_frame_for_a_single_frame_rt_dose_without_number_of_frames()
    {
        var header = new DicomImageReader().Identify(TestFiles.Dicom("rtdose_rle_1frame.dcm"));

        Assert.Equal(new VolumeSize(10, 10, 1), header.Geometry.Size);
        Assert.Equal(PixelType.UInt32, header.PixelType);
    }

    // rtdose_rle_1frame.dcm's one fragment: an RLE header of 4 segments (32-bit samples, one byte plane each) at
    // offsets 64, 84, 112 and 222, in 332 bytes.
    public static TheoryData<string, string> RleDamage() => new()
    {
        { "truncated", "decodes to" },              // the fragment loses its last 60 bytes: the last plane comes out short
        { "segment-count", "has 3 RLE segments" },  // the header claims 3 byte planes where 32-bit samples need 4
        { "offset-outside", "outside the fragment" }, // the last segment starts past the fragment's end
        { "huge-image", "too short" },              // Rows 0x7FFF: 332 bytes cannot decode to that many samples
    };

    [Theory]
    [MemberData(nameof(RleDamage))]
    public void Corrupt_or_truncated_rle_is_refused_naming_the_file(string damage, string reason)
    {
        byte[] bytes = File.ReadAllBytes(TestFiles.Dicom("rtdose_rle_1frame.dcm"));
        int item = FragmentItem(bytes);
        int fragment = item + 8;
        switch (damage)
        {
            case "truncated":
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(item + 4), 332 - 60);
                bytes = [.. bytes[..(fragment + 332 - 60)], .. bytes[(fragment + 332)..]];
                break;
            case "segment-count":
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(fragment), 3);
                break;
            case "offset-outside":
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(fragment + 16), 1000);
                break;
            case "huge-image":
                int rows = bytes.AsSpan().IndexOf(new byte[] { 0x28, 0x00, 0x10, 0x00, (byte)'U', (byte)'S', 0x02, 0x00 });
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(rows + 8), 0x7FFF);
                break;
        }
        string path = Path.Combine(Path.GetTempPath(), $"edu-rle-{damage}-{Guid.NewGuid():N}.dcm");
        File.WriteAllBytes(path, bytes);
        try
        {
            var error = Assert.Throws<InvalidInputException>(() => DicomFileReader.Read(path));
            Assert.Equal(path, error.Input);
            Assert.Contains(reason, error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // The item (FFFE,E000) whose value starts with the RLE header "4 segments, first at 64".
    private static int FragmentItem(byte[] bytes)
    {
        int at = bytes.AsSpan().IndexOf(new byte[] { 0xFE, 0xFF, 0x00, 0xE0, 0x4C, 0x01, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00 });
        Assert.True(at > 0, "rtdose_rle_1frame.dcm's fragment not found");
        return at;
    }
}
