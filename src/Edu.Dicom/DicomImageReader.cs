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
    public ImageHeader Identify(string path)
    {
        GdcmRuntime.EnsureLoaded();
        if (!File.Exists(path)) throw new InvalidInputException(path, "file not found");
        DicomStructure.Validate(path);
        using var reader = new gdcm.Reader();
        reader.SetFileName(path);
        if (!reader.ReadUpToTag(new gdcm.Tag(0x7fe0, 0x0010)))
            throw new InvalidInputException(path, "not a DICOM file, or a corrupt or truncated one (GDCM could not parse it)");
        var file = reader.GetFile();
        var dataSet = file.GetDataSet();
        var filter = new gdcm.StringFilter();
        filter.SetFile(file);
        string Get(ushort g, ushort e) =>
            dataSet.FindDataElement(new gdcm.Tag(g, e)) ? filter.ToString(new gdcm.Tag(g, e)).Trim().TrimEnd('\0') : "";
        double[] Numbers(string s) => [.. s.Split('\\', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN)];

        var rows = Numbers(Get(0x0028, 0x0010));
        var columns = Numbers(Get(0x0028, 0x0011));
        if (rows.Length != 1 || columns.Length != 1 || !(rows[0] >= 1) || !(columns[0] >= 1))
            throw new InvalidInputException(path, "DICOM file has no image (Rows/Columns missing)");
        var framesValue = Numbers(Get(0x0028, 0x0008));
        int frames = framesValue.Length == 1 && framesValue[0] >= 1 ? (int)framesValue[0] : 1;
        var size = new VolumeSize((int)columns[0], (int)rows[0], frames);

        var pixelSpacing = Numbers(Get(0x0028, 0x0030)); // row spacing \ column spacing
        var position = Numbers(Get(0x0020, 0x0032));
        var orientation = Numbers(Get(0x0020, 0x0037));
        double[] spacing = pixelSpacing.Length == 2 && pixelSpacing.All(v => v > 0) ? [pixelSpacing[1], pixelSpacing[0], 1] : [1, 1, 1];
        double[] origin = position.Length == 3 && position.All(double.IsFinite) ? position : [0, 0, 0];
        double[] direction = [1, 0, 0, 0, 1, 0, 0, 0, 1];
        if (orientation.Length == 6 && orientation.All(double.IsFinite))
        {
            double[] r = orientation[..3], c = orientation[3..];
            double[] n = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]];
            direction = [r[0], c[0], n[0], r[1], c[1], n[1], r[2], c[2], n[2]];
        }

        int samples = Numbers(Get(0x0028, 0x0002)) is [var spp] && spp >= 1 ? (int)spp : 1;
        int bits = Numbers(Get(0x0028, 0x0100)) is [var ba] ? (int)ba : 16;
        bool signed = Numbers(Get(0x0028, 0x0103)) is [1];
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
        return new ImageHeader(Name, new ImageGeometry(size, spacing, origin, direction), samples, pixelType);
    }

    /// <inheritdoc />
    public ImageVolume Read(string path, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return DicomFileReader.Read(path);
    }
}
