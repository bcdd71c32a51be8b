using System.Globalization;
using Edu.Abstractions.Datasets;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Plugins.Shared;

namespace Edu.Plugins.Microscopy;

/// <summary>
/// Cell Tracking Challenge 2-D training data (e.g. <c>Fluo-N2DH-GOWT1/</c>): sequences <c>01/</c>, <c>02/</c>
/// of frames <c>tNNN.tif</c> and the gold-standard segmentations <c>01_GT/SEG/man_segNNN.tif</c>
/// (instance ids). Only annotated frames are converted; instances become one foreground label
/// <c>nucleus</c> = 1 (semantic segmentation; the instance ids are not kept). Case ids are
/// <c>{sequence}_{frame}</c>. Images are written as TIFF so 16-bit intensities stay exact.
/// 3-D sequences are refused (the microscopy modality is 2-D).
/// </summary>
public sealed class CellTrackingConverter : IDatasetConverter
{
    /// <inheritdoc />
    public string Id => "ctc";

    /// <inheritdoc />
    public string ModalityId => "microscopy";

    /// <inheritdoc />
    public string Description => "Cell Tracking Challenge (2-D): 01/tNNN.tif with 01_GT/SEG/man_segNNN.tif (instances → foreground 1)";

    /// <inheritdoc />
    public int Convert(string sourceFolder, string destinationFolder, DatasetConversionContext context, CancellationToken cancellationToken = default) =>
        ConversionFolder.Run(sourceFolder, destinationFolder, (source, staging) =>
        {
            string root = Directory.GetDirectories(source).Any(IsSequence) ? source
                : Directory.GetDirectories(source).SingleOrDefault(d => Directory.GetDirectories(d).Any(IsSequence))
                ?? throw new InvalidInputException(source, "no sequence folders (01/, 02/ holding tNNN.tif); is this a Cell Tracking Challenge training folder?");
            var sequences = Directory.GetDirectories(root).Where(IsSequence).Order(StringComparer.Ordinal).ToList();
            var dataset = new NnUNetDataset(staging, context, ".tif");
            foreach (string sequence in sequences)
            {
                string name = Path.GetFileName(sequence);
                string gt = Path.Combine(root, name + "_GT", "SEG");
                if (!Directory.Exists(gt)) continue;
                var frames = new Dictionary<int, string>();
                foreach (string f in SourceFiles.List(sequence, ".tif"))
                    if (FrameNumber(f, "t") is { } t) frames.TryAdd(t, f);
                foreach (string maskPath in SourceFiles.List(gt, ".tif"))
                {
                    int? frame = FrameNumber(maskPath, "man_seg");
                    if (frame is null)
                    {
                        if (Path.GetFileName(maskPath).StartsWith("man_seg_", StringComparison.Ordinal))
                            throw new InvalidInputException(maskPath, "a per-slice annotation of a 3-D sequence; only 2-D Cell Tracking Challenge datasets are converted");
                        continue;
                    }
                    if (!frames.TryGetValue(frame.Value, out string? imagePath))
                        throw new InvalidInputException(maskPath, $"no frame t{frame.Value.ToString("D3", CultureInfo.InvariantCulture)}.tif in {sequence} for this annotation");
                    var image = SourceFiles.Read(context, imagePath, cancellationToken);
                    if (image.Size.Z != 1) throw new InvalidInputException(imagePath, $"has {image.Size.Z} slices; only 2-D Cell Tracking Challenge datasets are converted");
                    image = SourceFiles.WithChannels(image, 1, imagePath);
                    var mask = SourceFiles.Read(context, maskPath, cancellationToken);
                    SourceFiles.RequireSameSize(image, imagePath, mask, maskPath);
                    string caseId = $"{name}_{frame.Value.ToString("D4", CultureInfo.InvariantCulture)}";
                    dataset.AddTraining(caseId, [image], SourceFiles.Labels(image.Geometry, SourceFiles.Foreground(mask, 0.5f)), cancellationToken);
                }
            }
            if (dataset.Training == 0)
                throw new InvalidInputException(root, "no annotated frames: expected NN_GT/SEG/man_segNNN.tif beside the sequence folders");
            dataset.WriteDatasetJson("Cell Tracking Challenge", "Annotated frames of 2-D Cell Tracking Challenge sequences; cell instances merged into one foreground label.",
                ModalityId, Id, ["fluorescence"], ["background", "nucleus"], "https://celltrackingchallenge.net/");
            return dataset.Training;
        }, cancellationToken);

    private static bool IsSequence(string folder) =>
        Path.GetFileName(folder) is { Length: 2 } n && char.IsAsciiDigit(n[0]) && char.IsAsciiDigit(n[1]);

    private static int? FrameNumber(string path, string prefix)
    {
        string stem = Path.GetFileNameWithoutExtension(path);
        if (!stem.StartsWith(prefix, StringComparison.Ordinal)) return null;
        string digits = stem[prefix.Length..];
        return digits.Length > 0 && digits.All(char.IsAsciiDigit) && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int f) ? f : null;
    }
}
