using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats.Png;

/// <summary>
/// Writes one slice as PNG: one channel as grey, three as RGB. 8 bits when the source was 8-bit (or
/// every value fits 0–255 and the source was not 16-bit or wider), else 16 bits; label masks are
/// 8-bit grey. Values that fit neither (negative, fractional, above 65535) are refused, never clipped.
/// </summary>
public sealed class PngWriter : IImageWriter
{
    /// <inheritdoc />
    public string Name => "PNG";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".png"];

    /// <inheritdoc />
    public void Write(ImageVolume volume, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (volume.Size.Z != 1)
            throw new InvalidInputException(path, $"a PNG holds one slice; the volume has {volume.Size.Z} (choose a slice or write NIfTI/TIFF)");
        if (volume.Channels is not (1 or 3))
            throw new InvalidInputException(path, $"a PNG holds 1 (grey) or 3 (RGB) channels; the volume has {volume.Channels}");
        int depth = ChooseDepth(volume) ?? throw new InvalidInputException(path,
            $"values from {volume.Voxels.Min()} to {volume.Voxels.Max()} (or fractional) do not fit an 8- or 16-bit PNG; rescale first or write NIfTI/TIFF");
        ImageFile.WriteAtomically(path, stream =>
            PngCodec.Encode(stream, volume.Voxels, volume.Size.X, volume.Size.Y, volume.Channels, depth));
    }

    private static int? ChooseDepth(ImageVolume volume)
    {
        bool fits8 = SampleConverter.FitsExactly(volume.Voxels, PixelType.UInt8);
        bool wide = SampleConverter.SizeOf(volume.SourcePixelType) > 1 || !SampleConverter.IsInteger(volume.SourcePixelType);
        if (fits8 && !wide)
            return 8;
        if (SampleConverter.FitsExactly(volume.Voxels, PixelType.UInt16) && (wide || !fits8))
            return 16;
        return fits8 ? 8 : null;
    }
}
