using System.Buffers.Binary;
using Edu.Abstractions.Errors;

namespace Edu.Dicom;

/// <summary>
/// RLE Lossless (DICOM PS3.5 Annex G), decoded in C#: each frame is one fragment that starts with a 64-byte header
/// (the number of segments, then up to 15 segment offsets from the fragment's start, little endian), followed by one
/// PackBits-coded segment per byte plane: for each sample, its most significant byte first.
/// </summary>
internal static class DicomRle
{
    private const int HeaderLength = 64;
    private const int MaxSegments = 15;

    /// <summary>The most bytes a segment's byte can decode to: a run of two bytes repeats one byte up to 128 times.</summary>
    public const int MaxExpansion = 64;

    /// <summary>
    /// Decodes the frame in <paramref name="fragment"/> into <paramref name="planes"/>: <paramref name="segmentCount"/>
    /// byte planes of <paramref name="pixels"/> bytes each, one after the other, in segment order. Anything malformed
    /// (a header that disagrees with the image attributes, an offset outside the fragment, a segment that decodes to
    /// too few bytes) is an <see cref="InvalidInputException"/> naming <paramref name="path"/> and the frame.
    /// </summary>
    public static void DecodeFrame(ReadOnlySpan<byte> fragment, int segmentCount, int pixels, Span<byte> planes, string path, int frame)
    {
        if (segmentCount is < 1 or > MaxSegments)
            throw new ArgumentOutOfRangeException(nameof(segmentCount), segmentCount, "1 to 15");
        if (planes.Length != (long)segmentCount * pixels)
            throw new ArgumentException($"{planes.Length} bytes for {segmentCount} planes of {pixels}", nameof(planes));
        if (fragment.Length < HeaderLength)
            throw Fail($"holds {fragment.Length} bytes, less than the 64-byte RLE header");
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(fragment);
        if (count != segmentCount)
            throw Fail($"has {count} RLE segments; the image attributes (samples per pixel × bytes per sample) need {segmentCount}");

        for (int s = 0; s < segmentCount; s++)
        {
            uint start = BinaryPrimitives.ReadUInt32LittleEndian(fragment[(4 + 4 * s)..]);
            uint end = s + 1 < segmentCount ? BinaryPrimitives.ReadUInt32LittleEndian(fragment[(8 + 4 * s)..]) : (uint)fragment.Length;
            if (start < HeaderLength || end > fragment.Length || start > end)
                throw Fail($"RLE segment {s + 1} spans bytes {start}–{end}, outside the fragment's {fragment.Length} bytes or before the previous segment");
            long encoded = end - start;
            // Checked before decoding: a few bytes cannot claim a huge image.
            if (encoded * MaxExpansion < pixels)
                throw Fail($"RLE segment {s + 1} holds {encoded} bytes, too few for {pixels} pixels (truncated or corrupt)");
            int decoded = DecodeSegment(fragment[(int)start..(int)end], planes.Slice(s * pixels, pixels));
            if (decoded < pixels)
                throw Fail($"RLE segment {s + 1} decodes to {decoded} bytes, {pixels} expected (truncated or corrupt)");
        }

        InvalidInputException Fail(string problem) => new(path, $"frame {frame + 1}: {problem}");
    }

    /// <summary>
    /// PackBits: a header byte n of 0…127 copies the next n + 1 bytes, −1…−127 repeats the next byte 1 − n times,
    /// −128 does nothing. Stops when <paramref name="output"/> is full (bytes beyond it are padding, as pydicom
    /// tolerates); returns how many bytes were written.
    /// </summary>
    private static int DecodeSegment(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int i = 0, o = 0;
        while (i < input.Length && o < output.Length)
        {
            int n = (sbyte)input[i++];
            if (n >= 0)
            {
                int count = Math.Min(Math.Min(n + 1, input.Length - i), output.Length - o);
                input.Slice(i, count).CopyTo(output[o..]);
                i += n + 1;
                o += count;
            }
            else if (n != -128)
            {
                if (i >= input.Length) break;
                int count = Math.Min(1 - n, output.Length - o);
                output.Slice(o, count).Fill(input[i++]);
                o += count;
            }
        }
        return o;
    }
}
