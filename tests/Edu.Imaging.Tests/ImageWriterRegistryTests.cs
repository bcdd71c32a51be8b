using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Tests;

public class ImageWriterRegistryTests
{
    [Theory]
    [InlineData("out.nii.gz", "NIfTI")]
    [InlineData("out.NII", "NIfTI")]
    [InlineData("out.mha", "MetaImage")]
    [InlineData("out.mhd", "MetaImage")]
    [InlineData("out.png", "PNG")]
    [InlineData("out.tiff", "TIFF")]
    public void Picks_the_writer_by_extension_and_the_file_reads_back(string name, string format)
    {
        var writers = ImageWriterRegistry.CreateDefault();
        var volume = new ImageVolume(ImageGeometry.Identity(new VolumeSize(4, 3, 1)), 1,
            Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), PixelType.UInt8);
        string path = Path.Combine(TestFiles.NewTempFolder(), name);

        Assert.Equal(format, writers.Resolve(path).Name);
        writers.Write(volume, path);

        var back = ImageReaderRegistry.CreateDefault().Read(path);
        Assert.Equal(volume.Voxels, back.Voxels);
    }

    [Fact]
    public void Unknown_extension_lists_the_known_ones()
    {
        var e = Assert.Throws<InvalidInputException>(() => ImageWriterRegistry.CreateDefault().Resolve("out.xyz"));

        Assert.Contains(".nii.gz", e.Problem, StringComparison.Ordinal);
        Assert.Contains(".tif", e.Problem, StringComparison.Ordinal);
    }
}
