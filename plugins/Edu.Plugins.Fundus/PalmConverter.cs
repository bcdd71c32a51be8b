using Edu.Abstractions.Datasets;
using Edu.Abstractions.Errors;
using Edu.Plugins.Shared;

namespace Edu.Plugins.Fundus;

/// <summary>
/// PALM (Pathologic Myopia challenge, iChallenge-PM 2019) training release, as unpacked:
/// <c>PALM-Training400/*.jpg</c> (H/N/P + 4 digits), <c>Disc_Masks/*.bmp</c> (from
/// <c>PALM-Training400-Annotation-D&amp;F</c>) and <c>Lesion_Masks/Atrophy/*.bmp</c> (from
/// <c>PALM-Training400-Annotation-Lession</c>), each found anywhere up to three levels below the source.
/// The masks are black (0) structure on white (255) background: a pixel below 128 is the structure.
/// Labels: <c>optic_disc</c> = 1, <c>atrophy</c> = 2; the disc wins where they overlap (peripapillary
/// atrophy surrounds it). A missing mask means the structure is absent in that image (PALM ships
/// atrophy masks only for images with atrophy). The detachment masks and fovea locations are not used.
/// </summary>
public sealed class PalmConverter : IDatasetConverter
{
    /// <inheritdoc />
    public string Id => "palm";

    /// <inheritdoc />
    public string ModalityId => "fundus";

    /// <inheritdoc />
    public string Description => "PALM: PALM-Training400/*.jpg with Disc_Masks/*.bmp and Lesion_Masks/Atrophy/*.bmp (black structure on white)";

    /// <inheritdoc />
    public int Convert(string sourceFolder, string destinationFolder, DatasetConversionContext context, CancellationToken cancellationToken = default) =>
        ConversionFolder.Run(sourceFolder, destinationFolder, (source, staging) =>
        {
            string images = SourceFiles.FindFolder(source, "PALM-Training400", 3)
                ?? throw new InvalidInputException(source, "missing PALM-Training400/ (the fundus photographs); is this the PALM training release?");
            string disc = SourceFiles.FindFolder(source, "Disc_Masks", 3)
                ?? throw new InvalidInputException(source, "missing Disc_Masks/ (optic disc masks, from PALM-Training400-Annotation-D&F)");
            string? lesions = SourceFiles.FindFolder(source, "Lesion_Masks", 3);
            string atrophy = (lesions is null ? null : SourceFiles.FindFolder(lesions, "Atrophy", 1))
                ?? throw new InvalidInputException(source, "missing Lesion_Masks/Atrophy/ (atrophy masks, from PALM-Training400-Annotation-Lession)");
            var files = SourceFiles.List(images, ".jpg");
            if (files.Count == 0) throw new InvalidInputException(images, "holds no .jpg fundus photographs");
            var dataset = new NnUNetDataset(staging, context, ".png");
            foreach (string file in files)
            {
                string stem = SourceFiles.Stem(file, ".jpg");
                var image = SourceFiles.WithChannels(SourceFiles.Require2D(SourceFiles.Read(context, file, cancellationToken), file), 3, file);
                var labels = new float[image.Size.VoxelCount];
                foreach (var (folder, value) in ((string, float)[])[(atrophy, 2), (disc, 1)])
                {
                    string maskPath = Path.Combine(folder, stem + ".bmp");
                    if (!File.Exists(maskPath)) continue;
                    var mask = SourceFiles.Read(context, maskPath, cancellationToken);
                    SourceFiles.RequireSameSize(image, file, mask, maskPath);
                    float[] white = SourceFiles.Foreground(mask, 128);
                    for (int i = 0; i < labels.Length; i++)
                        if (white[i] == 0) labels[i] = value;
                }
                dataset.AddTraining(stem, [image], SourceFiles.Labels(image.Geometry, labels), cancellationToken);
            }
            dataset.WriteDatasetJson("PALM", "Fundus photographs (pathologic myopia challenge) with optic disc and atrophy masks.",
                ModalityId, Id, ["R", "G", "B"], ["background", "optic_disc", "atrophy"], "https://palm.grand-challenge.org/");
            return dataset.Training;
        }, cancellationToken);
}
