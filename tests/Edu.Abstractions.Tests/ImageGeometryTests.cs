using Edu.Abstractions.Imaging;

namespace Edu.Abstractions.Tests;

public sealed class ImageGeometryTests
{
    [Fact]
    public void Index_to_world_applies_spacing_then_direction_then_origin()
    {
        // Axial slice seen from the feet: image x runs to patient left, image y to posterior; z flipped.
        var geometry = new ImageGeometry(new VolumeSize(4, 5, 6), [0.5, 2, 3], [10, 20, 30], [1, 0, 0, 0, 1, 0, 0, 0, -1]);

        Assert.Equal((10.0, 20.0, 30.0), geometry.IndexToWorld(0, 0, 0));
        Assert.Equal((11.0, 26.0, 24.0), geometry.IndexToWorld(2, 3, 2));
        Assert.Equal(0.5 * 2 * 3 / 1000, geometry.VoxelVolumeMl, 12);
    }

    [Fact]
    public void Columns_of_the_direction_are_the_image_axes()
    {
        // Sagittal: image x along patient posterior (+y), image y along inferior (-z), slices along +x.
        var geometry = new ImageGeometry(new VolumeSize(2, 2, 2), [1, 1, 1], [0, 0, 0], [0, 0, 1, 1, 0, 0, 0, -1, 0]);

        Assert.Equal((0.0, 1.0, 0.0), geometry.IndexToWorld(1, 0, 0));
        Assert.Equal((0.0, 0.0, -1.0), geometry.IndexToWorld(0, 1, 0));
        Assert.Equal((1.0, 0.0, 0.0), geometry.IndexToWorld(0, 0, 1));
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(1, -1, 1)]
    public void Empty_sizes_are_refused(int x, int y, int z)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageGeometry.Identity(new VolumeSize(x, y, z)));
    }

    [Fact]
    public void Non_positive_spacing_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageGeometry(new VolumeSize(1, 1, 1), [1, 0, 1], [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]));
    }

    [Fact]
    public void Volume_layout_is_channel_major_with_x_fastest()
    {
        var size = new VolumeSize(3, 2, 1);
        float[] voxels = [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15];
        var volume = new ImageVolume(ImageGeometry.Identity(size), 2, voxels, PixelType.UInt8);

        Assert.Equal([10f, 11, 12, 13, 14, 15], volume.Channel(1).ToArray());
        Assert.Throws<ArgumentException>(() => new ImageVolume(ImageGeometry.Identity(size), 3, voxels, PixelType.UInt8));
    }
}
