using System.Buffers.Binary;

namespace Edu.Dicom.Tests;

/// <summary>
/// Deterministic malformed variants of real DICOM files: truncations, byte flips in the header,
/// and targeted corruptions of the image attributes GDCM relies on (explicit VR little endian).
/// </summary>
internal static class DicomMutants
{
    // (group, element) of US attributes and the hostile values written into them.
    private static readonly (ushort Group, ushort Element)[] UsTags =
    [
        (0x0028, 0x0010), (0x0028, 0x0011), (0x0028, 0x0100), (0x0028, 0x0101),
        (0x0028, 0x0102), (0x0028, 0x0103), (0x0028, 0x0002), (0x0028, 0x0006),
    ];

    private static readonly ushort[] HostileUs = [0, 1, 3, 7, 9, 15, 17, 31, 33, 63, 64, 0x7fff, 0xffff];

    public static IEnumerable<(string Name, byte[] Bytes)> From(string name, byte[] original, int seed)
    {
        var random = new Random(seed);
        int headerEnd = PixelDataOffset(original) is int p and > 0 ? p : Math.Min(original.Length, 1024);

        foreach (double fraction in new[] { 0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99 })
            yield return ($"{name}-truncated-{fraction}", original[..(int)(original.Length * fraction)]);

        for (int i = 0; i < 24; i++)
        {
            var bytes = (byte[])original.Clone();
            int flips = 1 + random.Next(8);
            for (int f = 0; f < flips; f++)
                bytes[132 + random.Next(Math.Max(1, headerEnd - 132))] ^= (byte)(1 << random.Next(8));
            yield return ($"{name}-flip-{i}", bytes);
        }

        foreach (var (group, element) in UsTags)
        {
            int at = FindExplicitUs(original, group, element);
            if (at < 0) continue;
            foreach (ushort value in HostileUs)
            {
                var bytes = (byte[])original.Clone();
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at), value);
                yield return ($"{name}-{group:x4}{element:x4}={value}", bytes);
            }
        }

        // The Pixel Data element's length: zero, odd, huge.
        if (PixelDataOffset(original) is int pixel and > 0 && pixel + 12 <= original.Length)
            foreach (uint length in new uint[] { 0, 1, 3, 0x7fffffff, 0xfffffff0 })
            {
                var bytes = (byte[])original.Clone();
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(pixel + 8), length);
                yield return ($"{name}-pixellength={length}", bytes);
            }
    }

    // Explicit VR LE: tag (4) + "US" + length 2 → value at +8.
    private static int FindExplicitUs(byte[] b, ushort group, ushort element)
    {
        for (int i = 132; i + 10 <= b.Length; i++)
            if (BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(i)) == group
                && BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(i + 2)) == element
                && b[i + 4] == 'U' && b[i + 5] == 'S' && b[i + 6] == 2 && b[i + 7] == 0)
                return i + 8;
        return -1;
    }

    private static int PixelDataOffset(byte[] b)
    {
        for (int i = 132; i + 4 <= b.Length; i++)
            if (b[i] == 0xE0 && b[i + 1] == 0x7F && b[i + 2] == 0x10 && b[i + 3] == 0x00) return i;
        return -1;
    }
}
