using System.Buffers.Binary;
using Edu.Abstractions.Imaging;
using SkiaSharp;

namespace Edu.Imaging.Formats.Png;

/// <summary>
/// Reads JPEG and BMP (and, as a fallback, interlaced PNG) through SkiaSharp: grey images as one
/// channel, colour images as three (RGB; alpha dropped). 8 bits per sample; no position (identity geometry).
/// </summary>
public sealed class SkiaImageReader : IImageReader
{
    /// <inheritdoc />
    public string Name => "JPEG/BMP";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".jpg", ".jpeg", ".bmp"];

    /// <inheritdoc />
    public int HeaderBytesNeeded => 3;

    /// <inheritdoc />
    public bool TryDetect(ReadOnlySpan<byte> header) =>
        (header.Length >= 3 && header[0] == 0xFF && header[1] == 0xD8 && header[2] == 0xFF)
        || (header.Length >= 2 && header[0] == (byte)'B' && header[1] == (byte)'M');

    /// <inheritdoc />
    public ImageHeader Identify(string path)
    {
        using var codec = Open(path, out _);
        var info = codec.Info;
        return new ImageHeader(Name, ImageGeometry.Identity(new VolumeSize(info.Width, info.Height, 1)), IsGrey(codec, path) ? 1 : 3, PixelType.UInt8);
    }

    /// <inheritdoc />
    public ImageVolume Read(string path, CancellationToken cancellationToken = default)
    {
        using var codec = Open(path, out string format);
        var info = codec.Info;
        bool grey = IsGrey(codec, path);
        var target = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(target);
        var result = codec.GetPixels(target, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
            throw PngThrowHelper.Invalid(path, format, result == SKCodecResult.IncompleteInput ? "the image data ends early (truncated file)" : $"decoding failed ({result})");
        cancellationToken.ThrowIfCancellationRequested();
        ReadOnlySpan<byte> pixels = bitmap.GetPixelSpan();
        long plane = (long)info.Width * info.Height;
        int channels = grey ? 1 : 3;
        var voxels = new float[plane * channels];
        int stride = bitmap.RowBytes;
        for (int y = 0; y < info.Height; y++)
        {
            var row = pixels.Slice(y * stride, stride);
            long rowBase = (long)y * info.Width;
            if (grey)
            {
                for (int x = 0; x < info.Width; x++)
                    voxels[rowBase + x] = row[4 * x];
            }
            else
            {
                for (int x = 0; x < info.Width; x++)
                {
                    voxels[rowBase + x] = row[4 * x];
                    voxels[plane + rowBase + x] = row[4 * x + 1];
                    voxels[2 * plane + rowBase + x] = row[4 * x + 2];
                }
            }
        }
        return new ImageVolume(ImageGeometry.Identity(new VolumeSize(info.Width, info.Height, 1)), channels, voxels, PixelType.UInt8,
            new Dictionary<string, string> { ["Format"] = format });
    }

    private static bool IsGrey(SKCodec codec, string path) =>
        codec.Info.ColorType is SKColorType.Gray8 or SKColorType.Alpha8 || IsGreyPaletteBmp(path);

    /// <summary>An 8-bit-or-less BMP whose palette is all grey (Skia reports it as colour; Pillow as "L").</summary>
    private static bool IsGreyPaletteBmp(string path)
    {
        byte[] head = ImageFile.ReadHead(path, 54 + 256 * 4);
        if (head.Length < 54 || head[0] != 'B' || head[1] != 'M')
            return false;
        int dibSize = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(14));
        int bitCount = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(28));
        if (dibSize < 40 || bitCount > 8 || bitCount == 0)
            return false;
        int used = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(46));
        int entries = used > 0 && used <= 1 << bitCount ? used : 1 << bitCount;
        int start = 14 + dibSize;
        if (start + entries * 4 > head.Length)
            return false;
        for (int i = 0; i < entries; i++)
        {
            int o = start + 4 * i;
            if (head[o] != head[o + 1] || head[o] != head[o + 2])
                return false;
        }
        return true;
    }

    private static SKCodec Open(string path, out string format)
    {
        using (ImageFile.OpenRead(path))
        {
            // Checks existence and readability with the project's wording.
        }
        byte[] head = ImageFile.ReadHead(path, 8);
        format = head.Length >= 2 && head[0] == 0xFF ? "JPEG" : head.Length >= 2 && head[0] == 'B' ? "BMP" : head.Length >= 2 && head[0] == 0x89 ? "PNG" : "JPEG/BMP";
        var codec = SKCodec.Create(path, out var result);
        if (codec is null)
            throw PngThrowHelper.Invalid(path, format, $"SkiaSharp cannot decode it ({result})");
        var info = codec.Info;
        if (info.Width < 1 || info.Height < 1 || info.Width > ReaderLimits.MaxExtent || info.Height > ReaderLimits.MaxExtent
            || (long)info.Width * info.Height * 4 > Math.Min(ReaderLimits.MaxSamples, new FileInfo(path).Length * ReaderLimits.MaxDeflateRatio * 8))
        {
            codec.Dispose();
            throw PngThrowHelper.Invalid(path, format, $"the header claims {info.Width}×{info.Height} pixels, more than its data can hold or than the limit");
        }
        return codec;
    }
}
