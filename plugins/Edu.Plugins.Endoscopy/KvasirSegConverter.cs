using Edu.Abstractions.Datasets;
using Edu.Abstractions.Errors;
using Edu.Plugins.Shared;

namespace Edu.Plugins.Endoscopy;

/// <summary>
/// Kvasir-SEG: <c>images/NAME.jpg</c> with <c>masks/NAME.jpg</c> of the same name. The masks are JPEG,
/// so their edges carry compression noise: a pixel is <c>polyp</c> = 1 when its mean over the mask's
/// channels is at least 128. Images are written as RGB PNG.
/// </summary>
public sealed class KvasirSegConverter : IDatasetConverter
{
    /// <inheritdoc />
    public string Id => "kvasir-seg";

    /// <inheritdoc />
    public string ModalityId => "endoscopy";

    /// <inheritdoc />
    public string Description => "Kvasir-SEG: images/*.jpg with masks/*.jpg of the same name (thresholded at 128)";

    /// <inheritdoc />
    public int Convert(string sourceFolder, string destinationFolder, DatasetConversionContext context, CancellationToken cancellationToken = default) =>
        ConversionFolder.Run(sourceFolder, destinationFolder, (source, staging) =>
        {
            string images = SourceFiles.Require(source, "images", "the colonoscopy frames");
            string masks = SourceFiles.Require(source, "masks", "the polyp masks");
            var files = SourceFiles.List(images, ".jpg", ".jpeg", ".png");
            if (files.Count == 0) throw new InvalidInputException(images, "holds no .jpg images");
            var maskByStem = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string m in SourceFiles.List(masks, ".jpg", ".jpeg", ".png"))
                maskByStem.TryAdd(Path.GetFileNameWithoutExtension(m), m);
            var dataset = new NnUNetDataset(staging, context, ".png");
            foreach (string file in files)
            {
                string stem = Path.GetFileNameWithoutExtension(file);
                string maskPath = maskByStem.GetValueOrDefault(stem)
                    ?? throw new InvalidInputException(Path.Combine(masks, Path.GetFileName(file)), $"missing: the polyp mask of {Path.GetFileName(file)}");
                var image = SourceFiles.WithChannels(SourceFiles.Require2D(SourceFiles.Read(context, file, cancellationToken), file), 3, file);
                var mask = SourceFiles.Read(context, maskPath, cancellationToken);
                SourceFiles.RequireSameSize(image, file, mask, maskPath);
                dataset.AddTraining(stem, [image], SourceFiles.Labels(image.Geometry, SourceFiles.Foreground(mask, 128)), cancellationToken);
            }
            dataset.WriteDatasetJson("Kvasir-SEG", "Colonoscopy frames with polyp masks (JPEG masks thresholded at 128).",
                ModalityId, Id, ["R", "G", "B"], ["background", "polyp"], "https://datasets.simula.no/kvasir-seg/");
            return dataset.Training;
        }, cancellationToken);
}
