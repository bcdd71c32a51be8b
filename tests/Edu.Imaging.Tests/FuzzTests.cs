using System.IO.Compression;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Xunit.Abstractions;

namespace Edu.Imaging.Tests;

/// <summary>
/// Mutated files (truncations, random byte flips, corrupted header fields, bad gzip) through every
/// reader: the only failure allowed is <see cref="InvalidInputException"/>, and each read ends in bounded time.
/// Seeds are fixed, so a failure reproduces.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PerFileLimit = TimeSpan.FromSeconds(20);

    private static readonly string[] Seeds =
    [
        "nifti/anatomical_le.nii", "nifti/standard.nii.gz", "nifti/example_nifti2.nii.gz", "nifti/scaled_qform.nii.gz",
        "metaimage/oblique_short.mha", "metaimage/compressed_float_3ch.mha",
        "png/grey16.png", "png/palette.png", "png/rgb.jpg", "png/grey8.bmp",
        "tiff/u16_lzw.tif", "tiff/rgb_deflate.tif", "tiff/f32_tiled_deflate.tif", "tiff/multipage_u16.tif",
    ];

    public static TheoryData<string> SeedFiles() => [.. Seeds];

    [Theory]
    [MemberData(nameof(SeedFiles))]
    public void Mutations_only_ever_raise_InvalidInputException(string seed)
    {
        string source = Path.Combine(TestFiles.Root, seed);
        byte[] original = File.ReadAllBytes(source);
        string dir = TestFiles.NewTempFolder();
        string ext = seed.EndsWith(".nii.gz", StringComparison.Ordinal) ? ".nii.gz" : Path.GetExtension(seed);
        var registry = ImageReaderRegistry.CreateDefault();
        int failures = 0, successes = 0, refused = 0;
        var mutants = Mutants(original, ext, new Random(Seeds.ToList().IndexOf(seed) + 1)).ToList();
        for (int m = 0; m < mutants.Count; m++)
        {
            var (kind, bytes) = mutants[m];
            string path = Path.Combine(dir, $"m{m}{ext}");
            File.WriteAllBytes(path, bytes);
            foreach (var reader in registry.Readers)
            {
                var outcome = Run(() =>
                {
                    reader.Identify(path);
                    return reader.Read(path);
                });
                switch (outcome)
                {
                    case null:
                        successes++;
                        break;
                    case InvalidInputException:
                        refused++;
                        break;
                    default:
                        failures++;
                        output.WriteLine($"{seed} mutant {m} ({kind}) with {reader.Name}: {outcome.GetType().Name}: {outcome.Message}");
                        break;
                }
            }
        }
        output.WriteLine($"{seed}: {mutants.Count} mutants × {registry.Readers.Count} readers: {successes} read, {refused} refused, {failures} other");
        Assert.Equal(0, failures);
    }

    private static Exception? Run(Func<ImageVolume> read)
    {
        Exception? caught = null;
        var task = Task.Run(() =>
        {
            try
            {
                read();
            }
            catch (Exception e)
            {
                caught = e;
            }
        });
        if (!task.Wait(PerFileLimit))
            return new TimeoutException($"read did not finish within {PerFileLimit.TotalSeconds} s");
        return caught;
    }

    private static IEnumerable<(string Kind, byte[] Bytes)> Mutants(byte[] original, string ext, Random rng)
    {
        // Truncations, at the header and anywhere.
        foreach (int cut in new[] { 0, 1, 7, 8, 16, 100, 347, 351, 539 }.Where(c => c < original.Length))
            yield return ($"truncated at {cut}", original[..cut]);
        for (int i = 0; i < 6; i++)
        {
            int cut = rng.Next(original.Length);
            yield return ($"truncated at {cut}", original[..cut]);
        }
        // Random byte flips: in the header region, then anywhere.
        for (int i = 0; i < 10; i++)
        {
            var b = (byte[])original.Clone();
            int n = 1 + rng.Next(4);
            for (int k = 0; k < n; k++)
                b[rng.Next(Math.Min(b.Length, 600))] = (byte)rng.Next(256);
            yield return ("header bytes flipped", b);
        }
        for (int i = 0; i < 6; i++)
        {
            var b = (byte[])original.Clone();
            for (int k = 0; k < 8; k++)
                b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
            yield return ("bits flipped", b);
        }
        // Random bytes with the right magic.
        var random = new byte[1024];
        rng.NextBytes(random);
        original.AsSpan(0, Math.Min(8, original.Length)).CopyTo(random);
        yield return ("random bytes after the magic", random);

        // Header field corruptions on the inflated header (NIfTI) or the text (MetaImage).
        if (ext is ".nii" or ".nii.gz")
        {
            byte[] plain = ext == ".nii.gz" ? Gunzip(original) : original;
            bool nifti2 = BitConverter.ToInt32(plain, 0) == 540;
            foreach (long value in new long[] { 0, -1, -32768, 32767, 30000, int.MaxValue, long.MaxValue })
            {
                foreach (int field in new[] { 0, 1, 2, 3, 4 })
                {
                    var b = (byte[])plain.Clone();
                    if (nifti2)
                        BitConverter.GetBytes(value).CopyTo(b, 16 + 8 * field);
                    else
                        BitConverter.GetBytes((short)Math.Clamp(value, short.MinValue, short.MaxValue)).CopyTo(b, 40 + 2 * field);
                    yield return ($"dim[{field}] = {value}", ext == ".nii.gz" ? Gzip(b) : b);
                }
            }
            foreach (float v in new[] { float.NaN, float.PositiveInfinity, -1e30f, 0f })
            {
                var b = (byte[])plain.Clone();
                if (!nifti2)
                {
                    BitConverter.GetBytes(v).CopyTo(b, 108);           // vox_offset
                    yield return ($"vox_offset = {v}", ext == ".nii.gz" ? Gzip(b) : b);
                    var c = (byte[])plain.Clone();
                    for (int k = 0; k < 12; k++) BitConverter.GetBytes(v).CopyTo(c, 280 + 4 * k);   // srow
                    BitConverter.GetBytes(v).CopyTo(c, 80);                                        // pixdim[1]
                    yield return ($"srow/pixdim = {v}", ext == ".nii.gz" ? Gzip(c) : c);
                }
            }
            foreach (short dt in new short[] { 0, 1, 32, 1536, 2048, -1 })
            {
                var b = (byte[])plain.Clone();
                BitConverter.GetBytes(dt).CopyTo(b, nifti2 ? 12 : 70);
                yield return ($"datatype = {dt}", ext == ".nii.gz" ? Gzip(b) : b);
            }
            if (ext == ".nii.gz")
            {
                var b = (byte[])original.Clone();
                b[3] = 0xFF; // gzip flags: every optional field
                yield return ("bad gzip flags", b);
                var c = (byte[])original.Clone();
                for (int k = 10; k < Math.Min(40, c.Length); k++) c[k] = 0xFF;
                yield return ("bad deflate stream", c);
            }
        }
        if (ext == ".mha")
        {
            string text = System.Text.Encoding.ASCII.GetString(original);
            foreach (string replacement in new[] { "DimSize = 0 0 0", "DimSize = -5 5 5", "DimSize = 100000 100000 100000", "DimSize = 6", "DimSize = a b c",
                         "DimSize = 1e300 1 1", "NDims = 9", "ElementType = MET_COMPLEX", "ElementNumberOfChannels = 100000", "ElementSpacing = 0 0 0",
                         "TransformMatrix = 0 0 0 0 0 0 0 0 0", "ElementDataFile = ../../../../etc/passwd", "ElementDataFile = LIST", "CompressedData = True" })
            {
                string key = replacement.Split(' ')[0];
                var lines = text.Split('\n');
                int i = Array.FindIndex(lines, l => l.StartsWith(key, StringComparison.Ordinal));
                if (i >= 0)
                    lines[i] = replacement;
                else
                    lines = [replacement, .. lines];
                yield return (replacement, System.Text.Encoding.Latin1.GetBytes(string.Join('\n', lines)));
            }
        }
    }

    private static byte[] Gunzip(byte[] bytes)
    {
        using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest))
            gz.Write(bytes);
        return ms.ToArray();
    }
}
