using Edu.Abstractions.Datasets;
using Edu.Abstractions.Errors;
using Edu.Plugins.Shared;

namespace Edu.Plugins.XRay;

/// <summary>
/// Montgomery County chest X-ray set (NLM): <c>CXR_png/MCUCXR_NNNN_L.png</c> with
/// <c>ManualMask/leftMask/</c> and <c>ManualMask/rightMask/</c> masks of the same name (0 / 255).
/// Both lungs are merged into one label, <c>lung</c> = 1, as the masks are usually used; images are
/// written as 8/16-bit grey PNG, unchanged (an RGB file is averaged to grey).
/// </summary>
public sealed class MontgomeryConverter : IDatasetConverter
{
    /// <inheritdoc />
    public string Id => "montgomery";

    /// <inheritdoc />
    public string ModalityId => "xray";

    /// <inheritdoc />
    public string Description => "Montgomery County CXR: CXR_png/*.png with ManualMask/leftMask and ManualMask/rightMask (merged into one lung label)";

    /// <inheritdoc />
    public int Convert(string sourceFolder, string destinationFolder, DatasetConversionContext context, CancellationToken cancellationToken = default) =>
        ConversionFolder.Run(sourceFolder, destinationFolder, (source, staging) =>
        {
            string images = SourceFiles.Require(source, "CXR_png", "the radiographs");
            string left = SourceFiles.Require(source, Path.Combine("ManualMask", "leftMask"), "the left lung masks");
            string right = SourceFiles.Require(source, Path.Combine("ManualMask", "rightMask"), "the right lung masks");
            var files = SourceFiles.List(images, ".png");
            if (files.Count == 0) throw new InvalidInputException(images, "holds no .png radiographs");
            var dataset = new NnUNetDataset(staging, context, ".png");
            foreach (string file in files)
            {
                string name = Path.GetFileName(file);
                string leftPath = Path.Combine(left, name), rightPath = Path.Combine(right, name);
                foreach (string mask in (string[])[leftPath, rightPath])
                    if (!File.Exists(mask)) throw new InvalidInputException(mask, $"missing: the lung mask of {name}");
                var image = SourceFiles.WithChannels(SourceFiles.Require2D(SourceFiles.Read(context, file, cancellationToken), file), 1, file);
                var leftMask = SourceFiles.Read(context, leftPath, cancellationToken);
                var rightMask = SourceFiles.Read(context, rightPath, cancellationToken);
                SourceFiles.RequireSameSize(image, file, leftMask, leftPath);
                SourceFiles.RequireSameSize(image, file, rightMask, rightPath);
                float[] lung = SourceFiles.Foreground(leftMask, 128);
                float[] r = SourceFiles.Foreground(rightMask, 128);
                for (int i = 0; i < lung.Length; i++) lung[i] = Math.Max(lung[i], r[i]);
                dataset.AddTraining(SourceFiles.Stem(file, ".png"), [image], SourceFiles.Labels(image.Geometry, lung), cancellationToken);
            }
            dataset.WriteDatasetJson("Montgomery County CXR", "Chest radiographs with manual lung masks; left and right masks merged into one lung label.",
                ModalityId, Id, ["xray"], ["background", "lung"], "https://lhncbc.nlm.nih.gov/LHC-downloads/downloads.html#tuberculosis-image-data-sets");
            return dataset.Training;
        }, cancellationToken);
}
