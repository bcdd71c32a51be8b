using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats.Nifti;

namespace Edu.Imaging.Tests.Formats.Nifti;

/// <summary>
/// Reads NIfTI files written by other tools and compares with nibabel. Reference numbers come from
/// nibabel 5.0.0 (Debian 12 python3-nibabel) through tests/TestData/nifti/reference.py:
/// ITK/LPS direction = diag(-1,-1,1)·affine[:3,:3] normalised by column, spacing = the column norms,
/// origin = diag(-1,-1,1)·affine[:3,3]; statistics over the scaled data (get_fdata); "first"/"last"
/// are the data raveled in Fortran order (x fastest), the layout of <see cref="ImageVolume"/>.
/// </summary>
public class NiftiReaderTests
{
    public sealed record Expected(string File, int[] Size, int Channels, PixelType Type, double[] Spacing, double[] Origin,
        double[] Direction, double Sum, double Min, double Max, float[] First, float Last)
    {
        public override string ToString() => File;
    }

    private static readonly double[] Anat = [1, 0, 0, 0, -1, 0, 0, 0, 1];
    private static readonly double[] Tilted = [1, 0, 0, 0, -0.986856, 0.161604, 0, 0.161604, 0.986856];

    public static TheoryData<Expected> Files() =>
    [
        // nibabel's own test files; anatomical.nii is big-endian.
        new("anatomical.nii", [33, 41, 25], 1, PixelType.Int16, [2, 2, 2], [-32, 40, -16], Anat, 284166082, -610, 30393, [10712, 10463, 10600], 2971),
        new("example4d.nii.gz", [128, 96, 24], 2, PixelType.Int16, [2, 2, 2.199999], [-117.855103, 35.722942, -7.248798], Tilted, 101985356, 0, 1162, [0, 0, 0], 0),
        new("standard.nii.gz", [4, 5, 7], 1, PixelType.UInt8, [1, 3, 2], [0, 0, 0], [-1, 0, 0, 0, -1, 0, 0, 0, 1], 7650, 0, 255, [0, 255, 0], 255),
        new("example_nifti2.nii.gz", [32, 20, 12], 2, PixelType.Int16, [2, 2, 2.199999], [-117.855103, 35.722942, -7.248798], Tilted, 6926802, 46, 757, [424, 428, 408], 457),
        // Written by nibabel with make_nifti.py.
        new("anatomical_le.nii", [33, 41, 25], 1, PixelType.Int16, [2, 2, 2], [-32, 40, -16], Anat, 284166082, -610, 30393, [10712, 10463, 10600], 2971),
        new("anatomical_pair.hdr", [33, 41, 25], 1, PixelType.Int16, [2, 2, 2], [-32, 40, -16], Anat, 284166082, -610, 30393, [10712, 10463, 10600], 2971),
        new("anatomical_pair.img", [33, 41, 25], 1, PixelType.Int16, [2, 2, 2], [-32, 40, -16], Anat, 284166082, -610, 30393, [10712, 10463, 10600], 2971),
        new("scaled_qform.nii.gz", [7, 6, 5], 1, PixelType.Int16, [0.8, 0.9, 2.5], [-10.5, 20.25, 30],
            [-0.866025, 0.5, 0, -0.5, -0.866025, 0, 0, 0, -1], -9306, -2016, 1956, [-860, -1922, 108], -1930),
        new("rgb24.nii", [4, 3, 2], 3, PixelType.UInt8, [2, 3, 4], [0, 0, 0], [-1, 0, 0, 0, -1, 0, 0, 0, 1], 7752, 0, 200, [0, 6, 12], 200),
    ];

    [Theory]
    [MemberData(nameof(Files))]
    public void Read_matches_nibabel(Expected e)
    {
        var volume = new NiftiReader().Read(TestFiles.Nifti(e.File));

        Assert.Equal(e.Size, volume.Size.ToArray());
        Assert.Equal(e.Channels, volume.Channels);
        Assert.Equal(e.Type, volume.SourcePixelType);
        AssertClose(e.Spacing, volume.Geometry.Spacing, 1e-5);
        AssertClose(e.Origin, volume.Geometry.Origin, 1e-5);
        AssertClose(e.Direction, volume.Geometry.Direction, 1e-5);
        var stats = VolumeStats.Of(volume);
        Assert.Equal(e.Sum, stats.Sum);
        Assert.Equal(e.Min, stats.Min);
        Assert.Equal(e.Max, stats.Max);
        Assert.Equal(e.First, volume.Voxels[..3]);
        Assert.Equal(e.Last, volume.Voxels[^1]);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Identify_reads_the_same_header_as_Read(Expected e)
    {
        var header = new NiftiReader().Identify(TestFiles.Nifti(e.File));

        Assert.Equal("NIfTI", header.Format);
        Assert.Equal(e.Size, header.Geometry.Size.ToArray());
        Assert.Equal(e.Channels, header.Channels);
        Assert.Equal(e.Type, header.PixelType);
        AssertClose(e.Origin, header.Geometry.Origin, 1e-5);
    }

    [Theory]
    [InlineData("anatomical.nii", true)]
    [InlineData("example4d.nii.gz", true)]
    [InlineData("example_nifti2.nii.gz", true)]
    [InlineData("anatomical_pair.hdr", true)]
    [InlineData("anatomical_pair.img", false)]
    public void TryDetect_looks_at_header_bytes_only(string file, bool expected)
    {
        var reader = new NiftiReader();
        byte[] head = File.ReadAllBytes(TestFiles.Nifti(file)).Take(reader.HeaderBytesNeeded).ToArray();

        Assert.Equal(expected, reader.TryDetect(head));
    }

    [Fact]
    public void Header_claiming_more_voxels_than_the_file_holds_is_refused_before_allocating()
    {
        string dir = TestFiles.NewTempFolder();
        byte[] bytes = File.ReadAllBytes(TestFiles.Nifti("anatomical_le.nii"));
        // dim[1..3] = 30000 × 30000 × 30000 (little endian int16 at offsets 42, 44, 46).
        foreach (int o in new[] { 42, 44, 46 })
            BitConverter.GetBytes((short)30000).CopyTo(bytes, o);
        string path = Path.Combine(dir, "huge.nii");
        File.WriteAllBytes(path, bytes);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var e = Assert.Throws<InvalidInputException>(() => new NiftiReader().Read(path));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(path, e.Input);
        Assert.Contains("claims", e.Problem, StringComparison.Ordinal);
        Assert.True(allocated < 10_000_000, $"allocated {allocated} bytes before refusing");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-4)]
    public void Zero_or_negative_dimension_is_refused(short dim)
    {
        string dir = TestFiles.NewTempFolder();
        byte[] bytes = File.ReadAllBytes(TestFiles.Nifti("anatomical_le.nii"));
        BitConverter.GetBytes(dim).CopyTo(bytes, 44);
        string path = Path.Combine(dir, "bad.nii");
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<InvalidInputException>(() => new NiftiReader().Read(path));
        Assert.Contains("dim[2]", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sheared_sform_falls_back_to_the_qform_or_is_refused(bool withQform)
    {
        byte[] bytes = File.ReadAllBytes(TestFiles.Nifti("anatomical_le.nii"));
        BitConverter.GetBytes(1.5f).CopyTo(bytes, 284);          // srow_x[1]: shear x by y
        BitConverter.GetBytes((short)(withQform ? 1 : 0)).CopyTo(bytes, 252);
        string path = Path.Combine(TestFiles.NewTempFolder(), "shear.nii");
        File.WriteAllBytes(path, bytes);

        if (withQform)
        {
            // anatomical.nii's qform is the same placement as its (unsheared) sform.
            var volume = new NiftiReader().Read(path);
            AssertClose([-32, 40, -16], volume.Geometry.Origin, 1e-5);
            AssertClose(Anat, volume.Geometry.Direction, 1e-5);
        }
        else
        {
            var e = Assert.Throws<InvalidInputException>(() => new NiftiReader().Read(path));
            Assert.Contains("shear", e.Problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Truncated_file_is_refused_with_the_reason()
    {
        string dir = TestFiles.NewTempFolder();
        byte[] bytes = File.ReadAllBytes(TestFiles.Nifti("anatomical.nii"));
        string path = Path.Combine(dir, "cut.nii");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<InvalidInputException>(() => new NiftiReader().Read(path));
        Assert.Contains("truncated", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_gzip_is_refused()
    {
        string dir = TestFiles.NewTempFolder();
        byte[] bytes = File.ReadAllBytes(TestFiles.Nifti("example4d.nii.gz"));
        string path = Path.Combine(dir, "cut.nii.gz");
        File.WriteAllBytes(path, bytes[..(bytes.Length * 3 / 4)]);

        Assert.Throws<InvalidInputException>(() => new NiftiReader().Read(path));
    }

    [Fact]
    public void Missing_file_names_the_path()
    {
        string path = Path.Combine(TestFiles.NewTempFolder(), "absent.nii.gz");

        var e = Assert.Throws<InvalidInputException>(() => new NiftiReader().Read(path));
        Assert.Equal(path, e.Input);
        Assert.Contains("not found", e.Problem, StringComparison.Ordinal);
    }

    internal static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double tolerance)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"[{i}] expected {expected[i]} got {actual[i]} (all: {string.Join(", ", actual)})");
    }
}
