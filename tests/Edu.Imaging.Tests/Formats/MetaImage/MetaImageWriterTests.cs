using Edu.Imaging.Formats.MetaImage;

namespace Edu.Imaging.Tests.Formats.MetaImage;

public class MetaImageWriterTests
{
    [Theory]
    [InlineData("oblique_short.mha", "out.mha", false)]
    [InlineData("oblique_short.mha", "out.mhd", true)]
    [InlineData("big_endian_ushort.mhd", "out.mhd", false)]
    [InlineData("compressed_float_3ch.mha", "out.mha", true)]
    public void Round_trip_keeps_geometry_and_values(string source, string target, bool compress)
    {
        var original = new MetaImageReader().Read(TestFiles.MetaImage(source));
        string path = Path.Combine(TestFiles.NewTempFolder(), target);

        new MetaImageWriter { Compress = compress }.Write(original, path);
        var back = new MetaImageReader().Read(path);

        Assert.True(original.Geometry.IsCloseTo(back.Geometry, 1e-12), back.Geometry.ToString());
        Assert.Equal(original.Channels, back.Channels);
        Assert.Equal(original.SourcePixelType, back.SourcePixelType);
        Assert.Equal(original.Voxels, back.Voxels);
    }

    [Fact]
    public void Written_header_lists_the_direction_column_by_column()
    {
        var original = new MetaImageReader().Read(TestFiles.MetaImage("oblique_short.mha"));
        string path = Path.Combine(TestFiles.NewTempFolder(), "out.mhd");

        new MetaImageWriter().Write(original, path);

        string line = File.ReadAllLines(path).Single(l => l.StartsWith("TransformMatrix", StringComparison.Ordinal));
        double[] values = line.Split('=')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(double.Parse).ToArray();
        // Axis 0's vector (cos30, sin30, 0) comes first.
        Assert.Equal(Math.Cos(Math.PI / 6), values[0], 12);
        Assert.Equal(0.5, values[1], 12);
        Assert.Equal(-1, values[8], 12);
        Assert.True(File.Exists(Path.ChangeExtension(path, ".raw")));
    }
}
