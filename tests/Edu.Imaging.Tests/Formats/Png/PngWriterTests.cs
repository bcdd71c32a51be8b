using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats.Png;

namespace Edu.Imaging.Tests.Formats.Png;

public class PngWriterTests
{
    [Theory]
    [InlineData("grey8.png")]
    [InlineData("grey16.png")]
    [InlineData("rgb.png")]
    [InlineData("palette.png")]
    public void Round_trip_keeps_values(string file)
    {
        var original = new PngReader().Read(TestFiles.Png(file));
        string path = Path.Combine(TestFiles.NewTempFolder(), "out.png");

        new PngWriter().Write(original, path);
        var back = new PngReader().Read(path);

        Assert.Equal(original.Size, back.Size);
        Assert.Equal(original.Channels, back.Channels);
        Assert.Equal(original.SourcePixelType, back.SourcePixelType);
        Assert.Equal(original.Voxels, back.Voxels);
    }

    [Fact]
    public void Label_mask_is_written_as_8_bit_grey_that_skia_reads_too()
    {
        var labels = new ImageVolume(ImageGeometry.Identity(new VolumeSize(7, 5, 1)), 1,
            Enumerable.Range(0, 35).Select(i => (float)(i % 3)).ToArray(), PixelType.UInt8);
        string path = Path.Combine(TestFiles.NewTempFolder(), "mask.png");

        new PngWriter().Write(labels, path);

        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(8, bytes[24]);  // IHDR bit depth
        Assert.Equal(0, bytes[25]);  // colour type grey
        using var bitmap = SkiaSharp.SKBitmap.Decode(path);
        Assert.Equal(7, bitmap.Width);
        Assert.Equal(2, bitmap.GetPixel(5, 0).Red);
    }

    [Fact]
    public void Values_a_png_cannot_hold_are_refused_not_clipped()
    {
        var ct = new ImageVolume(ImageGeometry.Identity(new VolumeSize(2, 1, 1)), 1, [-1024, 3000], PixelType.Int16);
        string path = Path.Combine(TestFiles.NewTempFolder(), "ct.png");

        var e = Assert.Throws<InvalidInputException>(() => new PngWriter().Write(ct, path));
        Assert.Contains("-1024", e.Problem, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }
}
