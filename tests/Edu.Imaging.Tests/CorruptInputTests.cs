using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Edu.Abstractions.Errors;

namespace Edu.Imaging.Tests;

/// <summary>
/// Inputs that decode without a structural error but are not what was written: every one must be refused, never
/// returned as silent garbage. Compressed streams are written stored (uncompressed deflate blocks), so a flipped byte
/// changes a voxel and leaves the stream well-formed: only its checksum can tell.
/// </summary>
public sealed class CorruptInputTests
{
    private static byte[] Flip(byte[] bytes, int at)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= 0x5A;
        return copy;
    }

    private static byte[] Compress(byte[] data, Func<Stream, Stream> compressor)
    {
        using var output = new MemoryStream();
        using (var z = compressor(output)) z.Write(data);
        return output.ToArray();
    }

    [Fact]
    public void A_nii_gz_whose_voxels_fail_the_gzip_crc_is_refused()
    {
        string dir = TestFiles.NewTempFolder();
        byte[] nii = File.ReadAllBytes(TestFiles.Nifti("anatomical_le.nii"));
        byte[] gz = Compress(nii, s => new GZipStream(s, CompressionLevel.NoCompression));
        string good = Path.Combine(dir, "good.nii.gz"), bad = Path.Combine(dir, "bad.nii.gz");
        File.WriteAllBytes(good, gz);
        File.WriteAllBytes(bad, Flip(gz, gz.Length - 100)); // inside the last voxels, before the 8-byte trailer

        var registry = ImageReaderRegistry.CreateDefault();
        Assert.Equal(registry.Read(TestFiles.Nifti("anatomical_le.nii")).Voxels, registry.Read(good).Voxels);
        var e = Assert.Throws<InvalidInputException>(() => registry.Read(bad));
        Assert.Contains("corrupt", e.Message);
    }

    [Fact]
    public void A_zlib_mha_whose_voxels_fail_the_adler_checksum_is_refused()
    {
        string dir = TestFiles.NewTempFolder();
        var voxels = Enumerable.Range(0, 64 * 64).SelectMany(i => BitConverter.GetBytes((short)(i % 1000))).ToArray();
        byte[] z = Compress(voxels, s => new ZLibStream(s, CompressionLevel.NoCompression));
        byte[] header = Encoding.ASCII.GetBytes($"ObjectType = Image\nNDims = 2\nBinaryData = True\nBinaryDataByteOrderMSB = False\nCompressedData = True\nCompressedDataSize = {z.Length}\nDimSize = 64 64\nElementType = MET_SHORT\nElementDataFile = LOCAL\n");
        string good = Path.Combine(dir, "good.mha"), bad = Path.Combine(dir, "bad.mha");
        File.WriteAllBytes(good, [.. header, .. z]);
        File.WriteAllBytes(bad, [.. header, .. Flip(z, z.Length - 100)]);

        var registry = ImageReaderRegistry.CreateDefault();
        Assert.Equal(999, registry.Read(good).Voxels.Max());
        var e = Assert.Throws<InvalidInputException>(() => registry.Read(bad));
        Assert.Contains("corrupt", e.Message);
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("../outside.raw")]
    public void A_metaimage_header_cannot_point_at_a_file_outside_its_folder(string dataFile)
    {
        string dir = TestFiles.NewTempFolder();
        string inner = Path.Combine(dir, "upload");
        Directory.CreateDirectory(inner);
        File.WriteAllBytes(Path.Combine(dir, "outside.raw"), new byte[16]);
        string mhd = Path.Combine(inner, "escape.mhd");
        File.WriteAllText(mhd, $"ObjectType = Image\nNDims = 2\nDimSize = 4 2\nElementType = MET_UCHAR\nElementDataFile = {dataFile}\n");

        var e = Assert.Throws<InvalidInputException>(() => ImageReaderRegistry.CreateDefault().Read(mhd));
        Assert.Contains("outside the header's folder", e.Message);
    }

    [Fact]
    public async Task A_named_pipe_is_refused_at_once_instead_of_blocking()
    {
        string dir = TestFiles.NewTempFolder();
        string fifo = Path.Combine(dir, "scan.nii");
        using (var mkfifo = Process.Start("mkfifo", [fifo])) await mkfifo.WaitForExitAsync();

        var read = Task.Run(() => ImageReaderRegistry.CreateDefault().Read(fifo));
        var first = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(first == read, "reading a named pipe blocked");
        var e = await Assert.ThrowsAsync<InvalidInputException>(() => read);
        Assert.Contains("not a regular file", e.Message);
    }
}
