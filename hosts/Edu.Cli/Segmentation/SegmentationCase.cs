using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Cli.Imaging;

namespace Edu.Cli.Segmentation;

/// <summary>
/// One image to segment: a file, the channel files of one nnU-Net case (<c>{case}_{XXXX}.ext</c>, stacked as
/// channels in index order), or a folder holding a DICOM series.
/// </summary>
/// <param name="Name">The case name the outputs are named after (<c>{Name}_seg.nii.gz</c>…).</param>
/// <param name="Files">The channel files in order, or the one series folder.</param>
/// <param name="IsDicomSeries">Whether <paramref name="Files"/> is one folder read as a DICOM series.</param>
public sealed record SegmentationCase(string Name, IReadOnlyList<string> Files, bool IsDicomSeries)
{
    private static readonly string[] RasterEndings = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"];

    /// <summary>What a user sees: the file, folder, or first channel file and the count.</summary>
    public string Source => Files.Count == 1 ? Files[0] : $"{Files[0]} (+{Files.Count - 1} channel files)";

    /// <summary>
    /// Whether the labels are written as PNG: a 2-D raster input (PNG, JPEG, BMP, TIFF) with one slice. Everything
    /// else (NIfTI, MetaImage, DICOM, volumes) gets NIfTI, which keeps the geometry.
    /// </summary>
    public bool WritesPng(ImageVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        return !IsDicomSeries && volume.Size.Z == 1
            && Files.All(f => RasterEndings.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>Reads the case; channel files must agree in size and geometry.</summary>
    public ImageVolume Read(string? seriesUid, CancellationToken cancellationToken)
    {
        if (IsDicomSeries || Files.Count == 1)
            return ImageInput.Read(Files[0], IsDicomSeries ? seriesUid : null, cancellationToken).Volume;
        var parts = Files.Select(f => ImageInput.Read(f, null, cancellationToken).Volume).ToList();
        var first = parts[0];
        for (int i = 1; i < parts.Count; i++)
            if (!parts[i].Geometry.IsCloseTo(first.Geometry))
                throw new InvalidInputException(Files[i], $"size or geometry differs from {Files[0]} (size {parts[i].Size} vs {first.Size}); the channel files of case '{Name}' must match");
        var voxels = new float[parts.Sum(p => p.Voxels.LongLength)];
        long offset = 0;
        foreach (var p in parts)
        {
            p.Voxels.CopyTo(voxels, offset);
            offset += p.Voxels.LongLength;
        }
        return new ImageVolume(first.Geometry, parts.Sum(p => p.Channels), voxels, first.SourcePixelType, first.Metadata);
    }
}
