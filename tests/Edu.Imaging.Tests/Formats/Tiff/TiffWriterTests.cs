using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats.Tiff;

namespace Edu.Imaging.Tests.Formats.Tiff;

public class TiffWriterTests
{
    [Theory]
    [InlineData("u8.tif", TiffCompression.Deflate)]
    [InlineData("i32.tif", TiffCompression.Lzw)]
    [InlineData("f32.tif", TiffCompression.None)]
    [InlineData("rgb.tif", TiffCompression.Deflate)]
    [InlineData("multipage_u16.tif", TiffCompression.Lzw)]
    public void Round_trip_keeps_values_pages_and_spacing(string file, TiffCompression compression)
    {
        var read = new TiffReader().Read(TestFiles.Tiff(file));
        var original = new ImageVolume(
            new ImageGeometry(read.Size, [0.25, 0.5, 1], [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]), read.Channels, read.Voxels, read.SourcePixelType);
        string path = Path.Combine(TestFiles.NewTempFolder(), "out.tif");

        new TiffWriter { Compression = compression }.Write(original, path);
        var back = new TiffReader().Read(path);

        Assert.True(original.Geometry.IsCloseTo(back.Geometry, 1e-6), back.Geometry.ToString());
        Assert.Equal(original.Channels, back.Channels);
        Assert.Equal(original.SourcePixelType, back.SourcePixelType);
        Assert.Equal(original.Voxels, back.Voxels);
    }
}
