using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats.Png;

/// <summary>
/// Reads PNG losslessly: grey (1, 2, 4, 8, 16 bits) as one channel with its values, RGB as three,
/// alpha dropped; palette images as RGB, or as one grey channel when every palette entry is grey.
/// 16-bit files give <see cref="PixelType.UInt16"/>. Interlaced files are decoded through SkiaSharp (8-bit).
/// </summary>
public sealed class PngReader : IImageReader
{
    /// <inheritdoc />
    public string Name => "PNG";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".png"];

    /// <inheritdoc />
    public int HeaderBytesNeeded => 8;

    /// <inheritdoc />
    public bool TryDetect(ReadOnlySpan<byte> header) => header.Length >= 8 && header[..8].SequenceEqual(PngCodec.Signature);

    /// <inheritdoc />
    public ImageHeader Identify(string path)
    {
        var (_, h, _) = Load(path);
        return new ImageHeader(Name, ImageGeometry.Identity(new VolumeSize(h.Width, h.Height, 1)), h.Channels, h.Interlaced ? PixelType.UInt8 : h.PixelType);
    }

    /// <inheritdoc />
    public ImageVolume Read(string path, CancellationToken cancellationToken = default)
    {
        var (bytes, h, idat) = Load(path);
        if (h.Interlaced)
            return new SkiaImageReader().Read(path, cancellationToken);
        var voxels = PngCodec.Decode(bytes, h, idat, out string? problem) ?? throw PngThrowHelper.Invalid(path, Name, problem!);
        return new ImageVolume(ImageGeometry.Identity(new VolumeSize(h.Width, h.Height, 1)), h.Channels, voxels, h.PixelType,
            new Dictionary<string, string> { ["Format"] = Name });
    }

    private (byte[] Bytes, PngCodec.Header Header, List<(int Offset, int Length)> Idat) Load(string path)
    {
        byte[] bytes;
        using (var stream = ImageFile.OpenRead(path))
        {
            if (stream.Length > int.MaxValue)
                throw PngThrowHelper.Invalid(path, Name, "the file is larger than 2 GiB");
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        var idat = new List<(int, int)>();
        var h = PngCodec.ReadHeader(bytes, out string? problem, idat) ?? throw PngThrowHelper.Invalid(path, Name, problem!);
        long rawBytes = h.Height * (((long)h.Width * h.FileChannels * h.BitDepth + 7) / 8 + 1);
        string? claim = ReaderLimits.CheckClaim((long)h.Width * h.Height * Math.Max(h.Channels, h.FileChannels), 1, h.IdatBytes, compressed: true)
            ?? ReaderLimits.CheckClaim(rawBytes, 1, h.IdatBytes, compressed: true);
        if (claim is not null)
            throw PngThrowHelper.Invalid(path, Name, claim);
        return (bytes, h, idat);
    }
}
