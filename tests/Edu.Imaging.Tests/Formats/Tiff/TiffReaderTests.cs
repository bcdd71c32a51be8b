using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats.Tiff;

namespace Edu.Imaging.Tests.Formats.Tiff;

/// <summary>
/// Reads TIFFs Pillow and tiffcp wrote (tests/TestData/tiff/make_tiff.py prints the reference numbers:
/// sums over every page and channel; first/last of the pages stacked, raveled in C order).
/// </summary>
public class TiffReaderTests
{
    [Theory]
    [InlineData("u8.tif", 1, 1, PixelType.UInt8, 245368, 0, 112)]
    [InlineData("u16.tif", 1, 1, PixelType.UInt16, 51591949, 3, 52615)]
    [InlineData("i32.tif", 1, 1, PixelType.Int32, 4824087454, 0, 4920028)]
    [InlineData("f32.tif", 1, 1, PixelType.Float32, -39955.375, 0.125, -40.875)]
    [InlineData("rgb.tif", 1, 3, PixelType.UInt8, 717643, 0, 80)]
    [InlineData("multipage_u16.tif", 4, 1, PixelType.UInt16, 206485456, 3, 52645)]
    [InlineData("u16_lzw.tif", 1, 1, PixelType.UInt16, 51591949, 3, 52615)]
    [InlineData("rgb_deflate.tif", 1, 3, PixelType.UInt8, 717643, 0, 80)]
    [InlineData("f32_tiled_deflate.tif", 1, 1, PixelType.Float32, -39955.375, 0.125, -40.875)]
    [InlineData("multipage_u16_lzw.tif", 4, 1, PixelType.UInt16, 206485456, 3, 52645)]
    public void Matches_pillow(string file, int pages, int channels, PixelType type, double sum, float first, float last)
    {
        var volume = new TiffReader().Read(TestFiles.Tiff(file));

        Assert.Equal([53, 37, pages], volume.Size.ToArray());
        Assert.Equal(channels, volume.Channels);
        Assert.Equal(type, volume.SourcePixelType);
        Assert.Equal(sum, VolumeStats.Of(volume).Sum, 3);
        Assert.Equal(first, volume.Voxels[0]);
        Assert.Equal(last, volume.Voxels[^1]);
        var header = new TiffReader().Identify(TestFiles.Tiff(file));
        Assert.Equal(volume.Size, header.Geometry.Size);
        Assert.Equal(channels, header.Channels);
    }
}
