using System.Globalization;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Dicom;
using Edu.Imaging;
using Edu.Imaging.Rendering;
using Edu.Models.Checkpoints;

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
    /// A DICOM Segmentation of the prediction, in the study of <paramref name="source"/> (the DICOM file or series folder the
    /// image was read from, with the same <paramref name="seriesUid"/>): segments named and coded from the package's
    /// model.json, the model's name and version as the algorithm. Built in memory first, since the source folder may be
    /// the one the result is written to.
    /// </summary>
    public static void WriteDicomSeg(Prediction prediction, ModelManifest manifest, string source, string? seriesUid, string path,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(manifest);
        var codes = new Dictionary<int, (DicomCode, DicomCode)>();
        foreach (var (key, coding) in manifest.LabelCodes ?? new Dictionary<string, LabelCoding>())
        {
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int label) || coding?.Category is null || coding.Type is null)
                throw new InvalidInputException(ModelPackage.ManifestFile, $"label_codes entry '{key}' needs a label value and both a category and a type");
            codes[label] = (Code(coding.Category, key), Code(coding.Type, key));
        }
        var options = new DicomSegOptions
        {
            LabelNames = prediction.Statistics.ToDictionary(l => l.Label, l => l.Name),
            AlgorithmName = manifest.Name,
            AlgorithmVersion = manifest.Version,
            Codes = codes,
        };
        using var seg = new MemoryStream();
        DicomSegWriter.Write(prediction.Labels, source, seriesUid, seg, options, cancellationToken);
        WriteStream(path, stream => seg.WriteTo(stream));
    }

    // DICOM's limits: scheme designator SH (16 characters), meaning LO (64); a long code value goes in Long Code Value.
    private static DicomCode Code(CodedConcept concept, string label) =>
        concept is { Value.Length: > 0, Scheme.Length: > 0 and <= 16, Meaning.Length: > 0 and <= 64 } && !concept.Value.Contains('\\') && !concept.Scheme.Contains('\\')
            ? new DicomCode(concept.Value, concept.Scheme, concept.Meaning)
            : throw new InvalidInputException(ModelPackage.ManifestFile,
                $"label_codes entry '{label}' needs a value, a scheme of at most 16 characters and a meaning of at most 64 (got '{concept.Value}', '{concept.Scheme}', '{concept.Meaning}')");

    /// <summary>
    /// A result in any other format: <paramref name="write"/> fills the stream, under the same never-overwrite rule.
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

    /// <summary>
    /// Writes a new file through <paramref name="write"/>, which gets a hidden temporary path in the same folder; the file
    /// then takes its name, which fails if the name exists. Every writer here goes through it.
    /// </summary>
    public static void WriteNew(string path, Action<string> write)
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
