using System.Globalization;
using System.Text;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Plugins.Ultrasound;

/// <summary>
/// A reader a plugin brings for a format the host does not know: binary Netpbm greymaps (P5, 8 or 16 bit,
/// big-endian as the format defines), as some public ultrasound and mammography sets ship their images.
/// Registered readers are used by <c>edu inspect</c>, <c>edu segment</c>, training and evaluation alike.
/// </summary>
public sealed class PgmReader : IImageReader
{
    private const int MaxSide = 1 << 15;

    /// <inheritdoc />
    public string Name => "PGM";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".pgm"];

    /// <inheritdoc />
    public int HeaderBytesNeeded => 2;

    /// <inheritdoc />
    public bool TryDetect(ReadOnlySpan<byte> header) => header.Length >= 2 && header[0] == (byte)'P' && header[1] == (byte)'5';

    /// <inheritdoc />
    public ImageHeader Identify(string path)
    {
        using var stream = Open(path);
        var (width, height, maxValue) = ReadHeader(stream, path);
        return new ImageHeader(Name, ImageGeometry.Identity(new VolumeSize(width, height, 1)), 1, maxValue > 255 ? PixelType.UInt16 : PixelType.UInt8);
    }

    /// <inheritdoc />
    public ImageVolume Read(string path, CancellationToken cancellationToken = default)
    {
        using var stream = Open(path);
        var (width, height, maxValue) = ReadHeader(stream, path);
        int bytesPerSample = maxValue > 255 ? 2 : 1;
        var raw = new byte[(long)width * height * bytesPerSample];
        if (stream.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false) < raw.Length)
            throw new InvalidInputException(path, $"the pixel data ends early: {width}×{height} samples of {bytesPerSample} byte(s) expected");
        var voxels = new float[(long)width * height];
        for (int i = 0; i < voxels.Length; i++)
            voxels[i] = bytesPerSample == 1 ? raw[i] : raw[2 * i] << 8 | raw[2 * i + 1];
        var geometry = ImageGeometry.Identity(new VolumeSize(width, height, 1));
        return new ImageVolume(geometry, 1, voxels, bytesPerSample == 2 ? PixelType.UInt16 : PixelType.UInt8,
            new Dictionary<string, string> { ["Format"] = Name });
    }

    private static FileStream Open(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(path, $"cannot be opened: {e.Message}", e);
        }
    }

    // "P5", whitespace, width, height, maxval (comments from '#' to the end of a line), one whitespace byte, pixels.
    private static (int Width, int Height, int MaxValue) ReadHeader(Stream stream, string path)
    {
        if (stream.ReadByte() != 'P' || stream.ReadByte() != '5')
            throw new InvalidInputException(path, "not a binary PGM file (P5)");
        int width = Number(stream, path, "width"), height = Number(stream, path, "height"), maxValue = Number(stream, path, "maxval");
        if (width is < 1 or > MaxSide || height is < 1 or > MaxSide)
            throw new InvalidInputException(path, $"PGM size {width}×{height} is outside 1…{MaxSide}");
        if (maxValue is < 1 or > 65535)
            throw new InvalidInputException(path, $"PGM maxval {maxValue} is outside 1…65535");
        return (width, height, maxValue);
    }

    private static int Number(Stream stream, string path, string what)
    {
        int c = stream.ReadByte();
        while (c == '#' || char.IsWhiteSpace((char)c))
        {
            if (c == '#') while (c is not ('\n' or -1)) c = stream.ReadByte();
            c = stream.ReadByte();
        }
        var digits = new StringBuilder();
        while (c is >= '0' and <= '9' && digits.Length < 7)
        {
            digits.Append((char)c);
            c = stream.ReadByte();
        }
        if (digits.Length == 0 || !(c == -1 || char.IsWhiteSpace((char)c)))
            throw new InvalidInputException(path, $"the PGM header has no valid {what}");
        return int.Parse(digits.ToString(), CultureInfo.InvariantCulture);
    }
}
