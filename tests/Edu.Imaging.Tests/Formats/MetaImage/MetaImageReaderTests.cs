using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats.MetaImage;
using Edu.Imaging.Tests.Formats.Nifti;

namespace Edu.Imaging.Tests.Formats.MetaImage;

/// <summary>
/// Reads the MetaImage files of tests/TestData/metaimage (written by make_metaimage.py following MetaIO;
/// no ITK is packaged here). TransformMatrix holds the direction column by column, as ITK's
/// MetaImageIO::ReadImageInformation reads it (directionAxis[j] = TransformMatrix[i·N + j] → axis i).
/// </summary>
public class MetaImageReaderTests
{
    private static readonly double Cos30 = Math.Cos(Math.PI / 6);

    [Fact]
    public void Oblique_mha_gives_the_direction_column_by_column()
    {
        var volume = new MetaImageReader().Read(TestFiles.MetaImage("oblique_short.mha"));

        Assert.Equal([6, 5, 4], volume.Size.ToArray());
        Assert.Equal(PixelType.Int16, volume.SourcePixelType);
        NiftiReaderTests.AssertClose([0.5, 0.75, 2.5], volume.Geometry.Spacing, 1e-12);
        NiftiReaderTests.AssertClose([-12.5, 30.25, 7], volume.Geometry.Origin, 1e-12);
        // Row-major ITK direction: columns are the axes (axis 0 = (cos30, sin30, 0)).
        NiftiReaderTests.AssertClose([Cos30, -0.5, 0, 0.5, Cos30, 0, 0, 0, -1], volume.Geometry.Direction, 1e-12);
        Assert.Equal(206760, VolumeStats.Of(volume).Sum);
        Assert.Equal([-7f, 93, 193], volume.Voxels[..3]);
        Assert.Equal(3453, volume.Voxels[^1]);
    }

    [Fact]
    public void Big_endian_mhd_with_raw_file()
    {
        var volume = new MetaImageReader().Read(TestFiles.MetaImage("big_endian_ushort.mhd"));

        Assert.Equal(PixelType.UInt16, volume.SourcePixelType);
        NiftiReaderTests.AssertClose([1, 2, 3], volume.Geometry.Origin, 1e-12);
        NiftiReaderTests.AssertClose([1.5, 1.5, 3], volume.Geometry.Spacing, 1e-12);
        Assert.Equal(991680, VolumeStats.Of(volume).Sum);
        Assert.Equal([0f, 300, 600], volume.Voxels[..3]);
        Assert.Equal(16528, volume.Voxels[^1]);
    }

    [Fact]
    public void Compressed_2d_with_three_channels_becomes_planar_channels()
    {
        var volume = new MetaImageReader().Read(TestFiles.MetaImage("compressed_float_3ch.mha"));

        Assert.Equal([6, 5, 1], volume.Size.ToArray());
        Assert.Equal(3, volume.Channels);
        NiftiReaderTests.AssertClose([0.1, 0.2, 1], volume.Geometry.Spacing, 1e-12);
        Assert.Equal(37.5, volume.Channel(0).ToArray().Sum());
        Assert.Equal(15.0, volume.Channel(1).ToArray().Sum());
        Assert.Equal(150.0, volume.Channel(2).ToArray().Sum());
    }
}
