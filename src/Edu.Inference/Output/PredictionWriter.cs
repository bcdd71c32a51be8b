using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Imaging;
using Edu.Imaging.Rendering;

namespace Edu.Inference.Output;

/// <summary>
/// Writes prediction results without ever replacing a file: each is written to a hidden temporary file in the
/// target folder and then moved to its name, which fails if the name exists (also when another process
/// created it meanwhile). The format follows the extension (<c>.nii.gz</c>, <c>.nii</c>, <c>.mha</c>, <c>.png</c>, <c>.tif</c>).
/// </summary>
public static class PredictionWriter
{
    private static readonly ImageWriterRegistry Writers = ImageWriterRegistry.CreateDefault();

    /// <summary>The label volume with its label values (0, 1, 2…) and its geometry; a PNG needs a 2-D (Z = 1) volume.</summary>
    public static void WriteLabels(ImageVolume labels, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(labels);
        WriteNew(path, temp => Writers.Write(labels, temp, cancellationToken));
    }

    /// <summary>A grey PNG where labels are spread over 0..255 (label l of L: l · 255 / L) so a mask is visible in any viewer.</summary>
    public static void WriteVisibleMask(ImageVolume labels, string path, int maxLabel, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLabel, 1);
        var v = labels.Voxels.Select(l => MathF.Round(Math.Clamp(l, 0, maxLabel) * 255f / maxLabel)).ToArray();
        var visible = new ImageVolume(labels.Geometry, 1, v, PixelType.UInt8, labels.Metadata);
        WriteNew(path, temp => Writers.Write(visible, temp, cancellationToken));
    }

    /// <summary>A colour overlay of the labels on the image (the slice with most foreground for a volume), as a PNG.</summary>
    public static void WriteOverlay(ImageVolume image, ImageVolume labels, string path, OverlayOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(labels);
        WriteNew(path, temp => OverlayRenderer.WritePng(image, labels, temp, options, cancellationToken));
    }

    /// <summary>
    /// A result in a format this assembly does not know (a DICOM SEG from Edu.Dicom, say): <paramref name="write"/> fills
    /// the stream, under the same never-overwrite rule.
    /// </summary>
    public static void WriteStream(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        WriteNew(path, temp =>
        {
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            write(stream);
        });
    }

    private static void WriteNew(string path, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path) || Directory.Exists(path))
            throw new InvalidInputException(path, "exists already; results never overwrite a file (choose another output folder)");
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, $".tmp-{Guid.NewGuid():N}-{Path.GetFileName(path)}");
        try
        {
            write(temp);
            try
            {
                File.Move(temp, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                throw new InvalidInputException(path, "was created by someone else while writing; not overwritten");
            }
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
