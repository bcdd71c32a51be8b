using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats.Png;

namespace Edu.Imaging.Tests.Formats.Png;

/// <summary>
/// Reads files Pillow wrote (tests/TestData/png/make_png.py prints the reference numbers: sums over
/// all channels of np.asarray(image), alpha dropped, palette as RGB; pixels indexed [y, x]).
/// </summary>
public class PngReaderTests
{
    [Theory]
    // file, channels, type, sum, (y=0,x=0) channel 0, (y=36,x=52) per channel
    [InlineData("grey8.png", 1, PixelType.UInt8, 245368, new float[] { 0 }, new float[] { 112 })]
    [InlineData("grey16.png", 1, PixelType.UInt16, 51591949, new float[] { 3 }, new float[] { 52615 })]
    [InlineData("rgb.png", 3, PixelType.UInt8, 717643, new float[] { 0, 255, 0 }, new float[] { 112, 143, 80 })]
    [InlineData("rgba.png", 3, PixelType.UInt8, 717643, new float[] { 0, 255, 0 }, new float[] { 112, 143, 80 })]
    [InlineData("palette.png", 3, PixelType.UInt8, 374850, new float[] { 0, 0, 0 }, new float[] { 0, 0, 0 })]
    [InlineData("bilevel.png", 1, PixelType.UInt8, 981, new float[] { 1 }, new float[] { 1 })]
    public void Png_matches_pillow(string file, int channels, PixelType type, double sum, float[] first, float[] last)
    {
        var volume = new PngReader().Read(TestFiles.Png(file));

        AssertImage(volume, channels, type, sum, first, last);
    }

    [Theory]
    [InlineData("grey8.bmp", 1, 245368, new float[] { 0 }, new float[] { 112 })]
    [InlineData("rgb.bmp", 3, 717643, new float[] { 0, 255, 0 }, new float[] { 112, 143, 80 })]
    public void Bmp_matches_pillow(string file, int channels, double sum, float[] first, float[] last)
    {
        var volume = new SkiaImageReader().Read(TestFiles.Png(file));

        AssertImage(volume, channels, PixelType.UInt8, sum, first, last);
    }

    [Theory]
    [InlineData("grey.jpg", 1, 245339)]
    [InlineData("rgb.jpg", 3, 717888)]
    public void Jpeg_is_close_to_pillow(string file, int channels, double sum)
    {
        // Both decode with libjpeg(-turbo); IDCT and upsampling may differ by a grey level here and there.
        var volume = new SkiaImageReader().Read(TestFiles.Png(file));

        Assert.Equal([53, 37, 1], volume.Size.ToArray());
        Assert.Equal(channels, volume.Channels);
        Assert.InRange(VolumeStats.Of(volume).Sum, sum - volume.Voxels.Length * 1.0, sum + volume.Voxels.Length * 1.0);
    }

    [Fact]
    public void Png_with_a_corrupt_chunk_is_refused_naming_the_problem()
    {
        byte[] bytes = File.ReadAllBytes(TestFiles.Png("grey16.png"));
        bytes[^20] ^= 0xFF; // inside IDAT
        string path = Path.Combine(TestFiles.NewTempFolder(), "bad.png");
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<InvalidInputException>(() => new PngReader().Read(path));
        Assert.Contains("CRC", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Png_claiming_a_huge_size_is_refused_before_decoding()
    {
        byte[] bytes = File.ReadAllBytes(TestFiles.Png("grey8.png"));
        // IHDR width/height = 1,000,000 and fix the CRC so only the claim is wrong.
        byte[] big = [0x00, 0x0F, 0x42, 0x40];
        big.CopyTo(bytes, 16);
        big.CopyTo(bytes, 20);
        uint crc = Crc(bytes.AsSpan(12, 17));
        bytes[29] = (byte)(crc >> 24); bytes[30] = (byte)(crc >> 16); bytes[31] = (byte)(crc >> 8); bytes[32] = (byte)crc;
        string path = Path.Combine(TestFiles.NewTempFolder(), "huge.png");
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<InvalidInputException>(() => new PngReader().Read(path));
        Assert.Contains("claims", e.Problem, StringComparison.Ordinal);
    }

    private static uint Crc(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    private static void AssertImage(ImageVolume volume, int channels, PixelType type, double sum, float[] first, float[] last)
    {
        Assert.Equal([53, 37, 1], volume.Size.ToArray());
        Assert.Equal(channels, volume.Channels);
        Assert.Equal(type, volume.SourcePixelType);
        Assert.Equal(sum, VolumeStats.Of(volume).Sum);
        int plane = 53 * 37;
        for (int c = 0; c < channels; c++)
        {
            Assert.Equal(first[c], volume.Voxels[c * plane]);
            Assert.Equal(last[c], volume.Voxels[c * plane + 36 * 53 + 52]);
        }
        Assert.True(volume.Geometry.IsCloseTo(ImageGeometry.Identity(volume.Size)));
    }
}
