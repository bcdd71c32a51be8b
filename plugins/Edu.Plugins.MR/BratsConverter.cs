using Edu.Abstractions.Datasets;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Plugins.Shared;

namespace Edu.Plugins.MR;

/// <summary>
/// BraTS (2018–2021): one folder per case (<c>BraTS20xx_…/</c>, at the top of the source or one level
/// down, e.g. <c>MICCAI_BraTS2020_TrainingData/</c>) holding <c>*_t1</c>, <c>*_t1ce</c>, <c>*_t2</c>,
/// <c>*_flair</c> and <c>*_seg</c> as <c>.nii.gz</c> or <c>.nii</c>. Channels 0000–0003 are T1, T1ce, T2,
/// FLAIR (nnU-Net's order). Labels become consecutive as in nnU-Net's BraTS conversion (4 → 3), keeping
/// 1 = necrotic / non-enhancing core and 2 = edema as the <c>mr</c> modality names them (nnU-Net also
/// swaps 1 and 2 for its region-based training; EDU trains on plain labels, so it does not).
/// Cases without a segmentation (validation sets) go to imagesTs. Every channel must share one geometry.
/// </summary>
public sealed class BratsConverter : IDatasetConverter
{
    private static readonly string[] Sequences = ["t1", "t1ce", "t2", "flair"];

    /// <inheritdoc />
    public string Id => "brats";

    /// <inheritdoc />
    public string ModalityId => "mr";

    /// <inheritdoc />
    public string Description => "BraTS: case folders with *_t1, *_t1ce, *_t2, *_flair, *_seg .nii.gz (labels 1, 2, 4 → 1, 2, 3)";

    /// <inheritdoc />
    public int Convert(string sourceFolder, string destinationFolder, DatasetConversionContext context, CancellationToken cancellationToken = default) =>
        ConversionFolder.Run(sourceFolder, destinationFolder, (source, staging) =>
        {
            var cases = Directory.GetDirectories(source).Where(IsCase).ToList();
            if (cases.Count == 0)
                cases = [.. Directory.GetDirectories(source).SelectMany(Directory.GetDirectories).Where(IsCase)];
            if (cases.Count == 0)
                throw new InvalidInputException(source, "no BraTS case folders: expected folders holding *_t1, *_t1ce, *_t2, *_flair (and *_seg) .nii.gz files");
            var dataset = new NnUNetDataset(staging, context, ".nii.gz");
            foreach (string folder in cases.Order(StringComparer.Ordinal))
            {
                string id = Path.GetFileName(folder);
                var channels = new List<ImageVolume>();
                foreach (string sequence in Sequences)
                {
                    string path = FindFile(folder, "_" + sequence)
                        ?? throw new InvalidInputException(folder, $"missing the {sequence.ToUpperInvariant()} image ({id}_{sequence}.nii.gz)");
                    var image = SourceFiles.Read(context, path, cancellationToken);
                    if (image.Channels != 1) throw new InvalidInputException(path, $"has {image.Channels} channels; one sequence per file expected");
                    if (channels.Count > 0 && !image.Geometry.IsCloseTo(channels[0].Geometry))
                        throw new InvalidInputException(path, $"its geometry differs from the T1 image's ({image.Size} vs {channels[0].Size} or spacing/origin/direction)");
                    channels.Add(image);
                }
                string? segPath = FindFile(folder, "_seg") ?? Directory.GetFiles(folder, "*Segm.nii*").FirstOrDefault();
                if (segPath is null)
                {
                    dataset.AddTest(id, channels, null, cancellationToken);
                    continue;
                }
                var seg = SourceFiles.Read(context, segPath, cancellationToken);
                if (seg.Channels != 1 || !seg.Geometry.IsCloseTo(channels[0].Geometry))
                    throw new InvalidInputException(segPath, "the segmentation's geometry differs from the images'");
                dataset.AddTraining(id, channels, SourceFiles.Labels(channels[0].Geometry, Remap(seg.Voxels, segPath)), cancellationToken);
            }
            dataset.WriteDatasetJson("BraTS", "Multi-sequence brain MR with glioma sub-regions; BraTS labels 1, 2, 4 written as 1, 2, 3.",
                ModalityId, Id, ["T1", "T1ce", "T2", "FLAIR"], ["background", "necrosis", "edema", "enhancing_tumor"], "https://www.synapse.org/brats");
            return dataset.Training + dataset.Test;
        }, cancellationToken);

    // A case folder holds any of the four sequences; one that lacks some is then refused by name, never skipped.
    private static bool IsCase(string folder) => Sequences.Any(sequence => FindFile(folder, "_" + sequence) is not null);

    private static string? FindFile(string folder, string suffix) =>
        SourceFiles.List(folder, suffix + ".nii.gz", suffix + ".nii").FirstOrDefault();

    private static float[] Remap(float[] seg, string path)
    {
        var labels = new float[seg.Length];
        for (int i = 0; i < seg.Length; i++)
        {
            labels[i] = seg[i] switch
            {
                0 => 0,
                1 => 1,
                2 => 2,
                4 => 3,
                var v => throw new InvalidInputException(path, $"label value {v} is not a BraTS label (0, 1, 2, 4)"),
            };
        }
        return labels;
    }
}
