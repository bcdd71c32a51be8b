using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats.MetaImage;
using Edu.Imaging.Formats.Nifti;
using Edu.Imaging.Formats.Png;
using Edu.Imaging.Formats.Tiff;

namespace Edu.Imaging.Tests;

public class ImageReaderRegistryTests
{
    public static TheoryData<string, string> Files() => new()
    {
        { "nifti/anatomical.nii", "NIfTI" },
        { "nifti/example4d.nii.gz", "NIfTI" },
        { "nifti/anatomical_pair.hdr", "NIfTI" },
        { "metaimage/oblique_short.mha", "MetaImage" },
        { "metaimage/big_endian_ushort.mhd", "MetaImage" },
        { "png/grey16.png", "PNG" },
        { "png/rgb.jpg", "JPEG/BMP" },
        { "png/rgb.bmp", "JPEG/BMP" },
        { "tiff/multipage_u16_lzw.tif", "TIFF" },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void Picks_the_reader_by_extension_and_header(string file, string format)
    {
        var registry = ImageReaderRegistry.CreateDefault();
        string path = Path.Combine(TestFiles.Root, file);

        Assert.Equal(format, registry.Resolve(path).Name);
        var header = registry.Identify(path);
        var volume = registry.Read(path);
        Assert.Equal(header.Geometry.Size, volume.Size);
        Assert.Equal(header.Channels, volume.Channels);
    }

    [Theory]
    [InlineData("png/grey16.png", "scan.nii", "PNG")]
    [InlineData("nifti/example4d.nii.gz", "scan.png", "NIfTI")]
    [InlineData("nifti/example4d.nii.gz", "scan", "NIfTI")]
    [InlineData("tiff/u16.tif", "scan.mha", "TIFF")]
    [InlineData("metaimage/oblique_short.mha", "scan.dat", "MetaImage")]
    public void Wrong_or_missing_extension_falls_back_to_the_header(string file, string name, string format)
    {
        string path = Path.Combine(TestFiles.NewTempFolder(), name);
        File.Copy(Path.Combine(TestFiles.Root, file), path);

        var registry = ImageReaderRegistry.CreateDefault();

        Assert.Equal(format, registry.Resolve(path).Name);
        Assert.True(registry.Read(path).Voxels.Length > 0);
    }

    [Fact]
    public void Unrecognised_content_names_every_reader_tried()
    {
        string path = Path.Combine(TestFiles.NewTempFolder(), "notes.nii.gz");
        File.WriteAllText(path, "this is not an image at all, just some text that is long enough");

        var e = Assert.Throws<InvalidInputException>(() => ImageReaderRegistry.CreateDefault().Read(path));

        Assert.Equal(path, e.Input);
        foreach (string name in new[] { "NIfTI", "MetaImage", "PNG", "JPEG/BMP", "TIFF" })
            Assert.Contains(name, e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_and_folder_are_clear_errors()
    {
        string dir = TestFiles.NewTempFolder();
        var registry = ImageReaderRegistry.CreateDefault();

        var missing = Assert.Throws<InvalidInputException>(() => registry.Read(Path.Combine(dir, "nope.nii.gz")));
        var folder = Assert.Throws<InvalidInputException>(() => registry.Read(dir));

        Assert.Contains("not found", missing.Problem, StringComparison.Ordinal);
        Assert.Contains("folder", folder.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Extra_readers_are_tried_after_the_built_in_ones()
    {
        var registry = ImageReaderRegistry.CreateDefault(new NiftiReader());

        Assert.Equal(6, registry.Readers.Count);
        Assert.IsType<NiftiReader>(registry.Readers[0]);
        Assert.IsType<MetaImageReader>(registry.Readers[1]);
        Assert.IsType<PngReader>(registry.Readers[2]);
        Assert.IsType<SkiaImageReader>(registry.Readers[3]);
        Assert.IsType<TiffReader>(registry.Readers[4]);
    }
}
