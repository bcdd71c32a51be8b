using System.Buffers.Binary;
using System.IO.Compression;
using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats.Png;

/// <summary>
/// A small PNG codec for what SkiaSharp cannot give losslessly: 16-bit samples, palette and low bit
/// depths kept as their values. Decodes non-interlaced PNGs of every colour type and depth; encodes
/// grey and RGB at 8 or 16 bits.
/// </summary>
internal static class PngCodec
{
    public static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The fields of IHDR, plus the palette.</summary>
    public sealed record Header(int Width, int Height, int BitDepth, int ColorType, bool Interlaced, byte[]? Palette, int IdatBytes)
    {
        /// <summary>Samples per pixel in the file.</summary>
        public int FileChannels => ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };

        /// <summary>Whether the palette has only grey entries.</summary>
        public bool GreyPalette => Palette is not null && Enumerable.Range(0, Palette.Length / 3).All(i => Palette[3 * i] == Palette[3 * i + 1] && Palette[3 * i] == Palette[3 * i + 2]);

        /// <summary>Channels of the volume: 1 for grey (alpha dropped) and grey palettes, else 3.</summary>
        public int Channels => ColorType is 0 or 4 || (ColorType == 3 && GreyPalette) ? 1 : 3;

        /// <summary>UInt16 for 16-bit files, else UInt8.</summary>
        public PixelType PixelType => BitDepth == 16 ? PixelType.UInt16 : PixelType.UInt8;
    }

    /// <summary>Reads the chunk structure and IHDR; the problem instead when the bytes are not a sound PNG.</summary>
    public static Header? ReadHeader(ReadOnlySpan<byte> file, out string? problem, List<(int Offset, int Length)>? idat = null)
    {
        problem = null;
        if (file.Length < 8 || !file[..8].SequenceEqual(Signature))
        {
            problem = "no PNG signature";
            return null;
        }
        int pos = 8, width = 0, height = 0, depth = 0, colorType = -1, idatBytes = 0;
        bool interlaced = false, sawEnd = false;
        byte[]? palette = null;
        while (pos + 12 <= file.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(file[pos..]);
            if (length > int.MaxValue || pos + 12 + (long)length > file.Length)
            {
                problem = $"chunk at byte {pos} claims {length} bytes, past the end of the file (truncated?)";
                return null;
            }
            var type = file.Slice(pos + 4, 4);
            var data = file.Slice(pos + 8, (int)length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(file[(pos + 8 + (int)length)..]);
            if ((type[0] & 0x20) == 0 && crc != Crc32.Compute(type, data))
            {
                problem = $"chunk {System.Text.Encoding.ASCII.GetString(type)} at byte {pos} (a critical chunk) has a wrong CRC (corrupt file)";
                return null;
            }
            if (type.SequenceEqual("IHDR"u8) && length >= 13)
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                depth = data[8];
                colorType = data[9];
                interlaced = data[12] == 1;
                if (data[10] != 0 || data[11] != 0 || data[12] > 1)
                {
                    problem = "unknown compression, filter or interlace method";
                    return null;
                }
            }
            else if (type.SequenceEqual("PLTE"u8))
            {
                palette = data.ToArray();
            }
            else if (type.SequenceEqual("IDAT"u8))
            {
                idatBytes += (int)length;
                idat?.Add((pos + 8, (int)length));
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                sawEnd = true;
                break;
            }
            pos += 12 + (int)length;
        }
        if (colorType < 0)
            problem = "no IHDR chunk";
        else if (width < 1 || height < 1 || width > ReaderLimits.MaxExtent || height > ReaderLimits.MaxExtent)
            problem = $"IHDR claims {width}×{height} pixels";
        else if (!ValidDepth(colorType, depth))
            problem = $"colour type {colorType} with bit depth {depth} is not allowed";
        else if (colorType == 3 && (palette is null || palette.Length % 3 != 0 || palette.Length == 0))
            problem = "a palette image without a valid PLTE chunk";
        else if (!sawEnd)
            problem = "no IEND chunk (truncated file)";
        else if (idatBytes == 0)
            problem = "no image data (IDAT)";
        return problem is null ? new Header(width, height, depth, colorType, interlaced, palette, idatBytes) : null;
    }

    private static bool ValidDepth(int colorType, int depth) => colorType switch
    {
        0 => depth is 1 or 2 or 4 or 8 or 16,
        3 => depth is 1 or 2 or 4 or 8,
        2 or 4 or 6 => depth is 8 or 16,
        _ => false,
    };

    /// <summary>Decodes a non-interlaced PNG into planar float channels; the problem instead when it cannot.</summary>
    public static float[]? Decode(ReadOnlySpan<byte> file, Header h, List<(int Offset, int Length)> idat, out string? problem)
    {
        problem = null;
        int fileChannels = h.FileChannels;
        long rowBytes = ((long)h.Width * fileChannels * h.BitDepth + 7) / 8;
        long rawSize = h.Height * (rowBytes + 1);
        var compressed = new byte[h.IdatBytes];
        int at = 0;
        foreach (var (offset, length) in idat)
        {
            file.Slice(offset, length).CopyTo(compressed.AsSpan(at));
            at += length;
        }
        var raw = new byte[rawSize];
        try
        {
            using var z = new ZLibStream(new MemoryStream(compressed), CompressionMode.Decompress);
            int got = z.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false);
            if (got < raw.Length)
            {
                problem = $"the image data ends early ({got} of {raw.Length} bytes)";
                return null;
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            problem = $"the compressed image data is corrupt ({e.Message})";
            return null;
        }
        int bpp = Math.Max(1, fileChannels * h.BitDepth / 8);
        var prev = new byte[rowBytes];
        var cur = new byte[rowBytes];
        int channels = h.Channels;
        long plane = (long)h.Width * h.Height;
        var output = new float[plane * channels];
        for (int y = 0; y < h.Height; y++)
        {
            long start = y * (rowBytes + 1);
            byte filter = raw[start];
            raw.AsSpan((int)(start + 1), (int)rowBytes).CopyTo(cur);
            if (!Unfilter(filter, cur, prev, bpp))
            {
                problem = $"row {y} has unknown filter type {filter}";
                return null;
            }
            WriteRow(cur, h, output, y, plane);
            (prev, cur) = (cur, prev);
        }
        return output;
    }

    private static bool Unfilter(byte filter, Span<byte> cur, ReadOnlySpan<byte> prev, int bpp)
    {
        switch (filter)
        {
            case 0:
                return true;
            case 1:
                for (int i = bpp; i < cur.Length; i++) cur[i] += cur[i - bpp];
                return true;
            case 2:
                for (int i = 0; i < cur.Length; i++) cur[i] += prev[i];
                return true;
            case 3:
                for (int i = 0; i < cur.Length; i++) cur[i] += (byte)(((i >= bpp ? cur[i - bpp] : 0) + prev[i]) >> 1);
                return true;
            case 4:
                for (int i = 0; i < cur.Length; i++)
                {
                    int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    cur[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
                return true;
            default:
                return false;
        }
    }

    private static void WriteRow(ReadOnlySpan<byte> row, Header h, float[] output, int y, long plane)
    {
        int fc = h.FileChannels;
        long rowBase = (long)y * h.Width;
        for (int x = 0; x < h.Width; x++)
        {
            if (h.ColorType == 3)
            {
                int index = Sample(row, x, h.BitDepth);
                var pal = h.Palette!;
                int entry = Math.Min(index, pal.Length / 3 - 1);
                if (h.Channels == 1)
                {
                    output[rowBase + x] = pal[3 * entry];
                }
                else
                {
                    for (int c = 0; c < 3; c++)
                        output[c * plane + rowBase + x] = pal[3 * entry + c];
                }
                continue;
            }
            for (int c = 0; c < h.Channels; c++)
                output[c * plane + rowBase + x] = Sample(row, x * fc + c, h.BitDepth);
        }
    }

    private static int Sample(ReadOnlySpan<byte> row, int index, int depth) => depth switch
    {
        16 => BinaryPrimitives.ReadUInt16BigEndian(row[(index * 2)..]),
        8 => row[index],
        _ => (row[index * depth / 8] >> (8 - depth - (index * depth % 8))) & ((1 << depth) - 1),
    };

    /// <summary>Encodes one slice (channels 1 or 3, planar floats already checked to fit) as PNG.</summary>
    public static void Encode(Stream output, ReadOnlySpan<float> planar, int width, int height, int channels, int depth)
    {
        int bytesPerSample = depth / 8;
        int rowBytes = width * channels * bytesPerSample;
        long plane = (long)width * height;
        output.Write(Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = (byte)depth;
        ihdr[9] = (byte)(channels == 1 ? 0 : 2);
        WriteChunk(output, "IHDR"u8, ihdr);
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var row = new byte[rowBytes + 1];
            var prev = new byte[rowBytes];
            var cur = new byte[rowBytes];
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        int v = (int)MathF.Round(planar[(int)(c * plane + (long)y * width + x)]);
                        int i = (x * channels + c) * bytesPerSample;
                        if (depth == 16)
                            BinaryPrimitives.WriteUInt16BigEndian(cur.AsSpan(i), (ushort)v);
                        else
                            cur[i] = (byte)v;
                    }
                }
                // Filter "Up": cheap and good on images and masks alike.
                row[0] = 2;
                for (int i = 0; i < rowBytes; i++)
                    row[i + 1] = (byte)(cur[i] - prev[i]);
                z.Write(row);
                (prev, cur) = (cur, prev);
            }
        }
        WriteChunk(output, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(output, "IEND"u8, []);
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        output.Write(type);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(type, data));
        output.Write(word);
    }
}
