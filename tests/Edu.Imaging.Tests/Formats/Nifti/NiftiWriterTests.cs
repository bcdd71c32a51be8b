using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats.Nifti;

namespace Edu.Imaging.Tests.Formats.Nifti;

public class NiftiWriterTests
{
    [Theory]
    [InlineData("anatomical.nii", "out.nii.gz")]
    [InlineData("example4d.nii.gz", "out.nii")]
    [InlineData("scaled_qform.nii.gz", "out.nii.gz")]
    [InlineData("standard.nii.gz", "out.nii.gz")]
    [InlineData("rgb24.nii", "out.nii.gz")]
    public void Round_trip_keeps_geometry_and_values(string source, string target)
    {
        var original = new NiftiReader().Read(TestFiles.Nifti(source));
        string path = Path.Combine(TestFiles.NewTempFolder(), target);

        new NiftiWriter().Write(original, path);
        var back = new NiftiReader().Read(path);

        Assert.True(original.Geometry.IsCloseTo(back.Geometry, 1e-5), $"{original.Geometry} vs {back.Geometry}");
        Assert.Equal(original.Channels, back.Channels);
        Assert.Equal(original.Voxels, back.Voxels);
    }

    [Fact]
    public void Oblique_left_handed_geometry_survives_through_sform_and_qform()
    {
        double c = Math.Cos(0.4), s = Math.Sin(0.4);
        // Columns: rotated x, rotated y, and z flipped (left-handed).
        var geometry = new ImageGeometry(new VolumeSize(5, 4, 3), [0.7, 0.8, 3.0], [12.5, -7.25, 101],
            [c, -s, 0, s, c, 0, 0, 0, -1]);
        var labels = new ImageVolume(geometry, 1, Enumerable.Range(0, 60).Select(i => (float)(i % 4)).ToArray(), PixelType.UInt8);
        string path = Path.Combine(TestFiles.NewTempFolder(), "labels.nii.gz");

        new NiftiWriter().Write(labels, path);
        var back = new NiftiReader().Read(path);

        Assert.True(geometry.IsCloseTo(back.Geometry, 1e-6), back.Geometry.ToString());
        Assert.Equal(PixelType.UInt8, back.SourcePixelType);
        Assert.Equal(labels.Voxels, back.Voxels);

        // The qform alone gives the same geometry: zero the sform_code (int16 at offset 254) and read again.
        string plain = Path.ChangeExtension(path, null) + "_qform.nii";
        new NiftiWriter().Write(labels, plain);
        byte[] bytes = File.ReadAllBytes(plain);
        bytes[254] = 0;
        bytes[255] = 0;
        File.WriteAllBytes(plain, bytes);
        var viaQform = new NiftiReader().Read(plain);
        Assert.True(geometry.IsCloseTo(viaQform.Geometry, 1e-5), viaQform.Geometry.ToString());
    }

    [Fact]
    public void Values_that_do_not_fit_the_source_type_are_written_as_float()
    {
        var volume = new ImageVolume(ImageGeometry.Identity(new VolumeSize(2, 2, 1)), 1, [0.5f, -3, 70000, 1], PixelType.Int16);
        string path = Path.Combine(TestFiles.NewTempFolder(), "f.nii.gz");

        new NiftiWriter().Write(volume, path);
        var back = new NiftiReader().Read(path);

        Assert.Equal(PixelType.Float32, back.SourcePixelType);
        Assert.Equal(volume.Voxels, back.Voxels);
    }
}
