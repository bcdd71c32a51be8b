using System.Globalization;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Dicom;

/// <summary>
/// DICOM as one of the framework's <see cref="IImageReader"/>s (single files; folders go to
/// <see cref="DicomSeriesReader"/>). Detects Part 10 files by "DICM" at byte 128.
/// </summary>
public sealed class DicomImageReader : IImageReader
{
    /// <inheritdoc />
    public string Name => "DICOM";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".dcm", ".dicom", ".dic"];

    /// <inheritdoc />
    public int HeaderBytesNeeded => 132;

    /// <inheritdoc />
    public bool TryDetect(ReadOnlySpan<byte> header) =>
        header.Length >= 132 && header[128] == 'D' && header[129] == 'I' && header[130] == 'C' && header[131] == 'M';

    /// <inheritdoc />
    /// <remarks>Header only, from the C# structure check alone: GDCM is not involved.</remarks>
    public ImageHeader Identify(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException(path, "file not found");
        var attributes = DicomStructure.Validate(path);
        if (!attributes.HasPixelData || attributes.Rows is not > 0 || attributes.Columns is not > 0)
            throw new InvalidInputException(path, "DICOM file has no image (no Pixel Data, or Rows/Columns missing)");
        string Text(uint tag) => attributes.Text.TryGetValue(tag, out var value) ? value : "";
        int Us(uint tag, int fallback) => attributes.UnsignedShorts.TryGetValue(tag, out var value) ? value : fallback;
        double[] Numbers(string s) => [.. s.Split('\\', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN)];

        var size = new VolumeSize(attributes.Columns.Value, attributes.Rows.Value, attributes.NumberOfFrames ?? 1);
        var pixelSpacing = Numbers(Text(0x00280030)); // row spacing \ column spacing
        var position = Numbers(Text(0x00200032));
        var orientation = Numbers(Text(0x00200037));
        double[] spacing = pixelSpacing.Length == 2 && pixelSpacing.All(v => v > 0) ? [pixelSpacing[1], pixelSpacing[0], 1] : [1, 1, 1];
        double[] origin = position.Length == 3 && position.All(double.IsFinite) ? position : [0, 0, 0];
        double[] direction = [1, 0, 0, 0, 1, 0, 0, 0, 1];
        if (orientation.Length == 6 && orientation.All(double.IsFinite))
        {
            double[] r = orientation[..3], c = orientation[3..];
            double[] n = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
            direction = [r[0], c[0], n[0], r[1], c[1], n[1], r[2], c[2], n[2]];
        }

        int bits = Us(0x00280100, 16);
        bool signed = Us(0x00280103, 0) == 1;
        var pixelType = (bits, signed) switch
        {
            (<= 8, false) => PixelType.UInt8,
            (<= 8, true) => PixelType.Int8,
            (<= 16, false) => PixelType.UInt16,
            (<= 16, true) => PixelType.Int16,
            (<= 32, false) => PixelType.UInt32,
            (<= 32, true) => PixelType.Int32,
            _ => PixelType.Float64,
        };
        return new ImageHeader(Name, new ImageGeometry(size, spacing, origin, direction), Us(0x00280002, 1), pixelType);
    }

    /// <inheritdoc />
    public ImageVolume Read(string path, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return DicomFileReader.Read(path);
    }
}
