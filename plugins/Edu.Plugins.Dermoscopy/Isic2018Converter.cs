using Edu.Abstractions.Datasets;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Plugins.Shared;

namespace Edu.Plugins.Dermoscopy;

/// <summary>
/// ISIC 2018 Task 1 (lesion boundary segmentation): <c>ISIC2018_Task1-2_Training_Input/ISIC_NNNNNNN.jpg</c>
/// with <c>ISIC2018_Task1_Training_GroundTruth/ISIC_NNNNNNN_segmentation.png</c> (0 / 255), thresholded
/// at 128 into <c>lesion</c> = 1. When present, <c>ISIC2018_Task1-2_Validation_Input</c> and
/// <c>ISIC2018_Task1-2_Test_Input</c> go to imagesTs (with labelsTs from
/// <c>ISIC2018_Task1_Validation_GroundTruth</c> / <c>_Test_GroundTruth</c> when those are there).
/// Images are written as RGB PNG (decoded JPEG pixels, so no further loss).
/// </summary>
public sealed class Isic2018Converter : IDatasetConverter
{
    /// <inheritdoc />
    public string Id => "isic2018";

    /// <inheritdoc />
    public string ModalityId => "dermoscopy";

    /// <inheritdoc />
    public string Description => "ISIC 2018 Task 1: ISIC2018_Task1-2_Training_Input/*.jpg with ISIC2018_Task1_Training_GroundTruth/*_segmentation.png";

    /// <inheritdoc />
    public int Convert(string sourceFolder, string destinationFolder, DatasetConversionContext context, CancellationToken cancellationToken = default) =>
        ConversionFolder.Run(sourceFolder, destinationFolder, (source, staging) =>
        {
            string images = SourceFiles.Require(source, "ISIC2018_Task1-2_Training_Input", "the training images");
            string masks = SourceFiles.Require(source, "ISIC2018_Task1_Training_GroundTruth", "the training lesion masks");
            var files = SourceFiles.List(images, ".jpg");
            if (files.Count == 0) throw new InvalidInputException(images, "holds no ISIC_*.jpg images");
            var dataset = new NnUNetDataset(staging, context, ".png");
            foreach (string file in files)
            {
                string stem = SourceFiles.Stem(file, ".jpg");
                string maskPath = Path.Combine(masks, stem + "_segmentation.png");
                if (!File.Exists(maskPath)) throw new InvalidInputException(maskPath, $"missing: the lesion mask of {Path.GetFileName(file)}");
                var (image, labels) = Pair(context, file, maskPath, cancellationToken);
                dataset.AddTraining(stem, [image], labels!, cancellationToken);
            }
            foreach (string split in (string[])["Validation", "Test"])
            {
                if (SourceFiles.Find(source, $"ISIC2018_Task1-2_{split}_Input") is not { } input || !Directory.Exists(input)) continue;
                string? truth = SourceFiles.Find(source, $"ISIC2018_Task1_{split}_GroundTruth");
                foreach (string file in SourceFiles.List(input, ".jpg"))
                {
                    string stem = SourceFiles.Stem(file, ".jpg");
                    string? maskPath = truth is null ? null : Path.Combine(truth, stem + "_segmentation.png");
                    var (image, labels) = Pair(context, file, maskPath is not null && File.Exists(maskPath) ? maskPath : null, cancellationToken);
                    dataset.AddTest(stem, [image], labels, cancellationToken);
                }
            }
            dataset.WriteDatasetJson("ISIC 2018 Task 1", "Dermoscopic images with lesion boundary masks (thresholded at 128).",
                ModalityId, Id, ["R", "G", "B"], ["background", "lesion"], "https://challenge.isic-archive.com/data/#2018");
            return dataset.Training + dataset.Test;
        }, cancellationToken);

    private static (ImageVolume Image, ImageVolume? Labels) Pair(DatasetConversionContext context, string imagePath, string? maskPath, CancellationToken cancellationToken)
    {
        var image = SourceFiles.WithChannels(SourceFiles.Require2D(SourceFiles.Read(context, imagePath, cancellationToken), imagePath), 3, imagePath);
        if (maskPath is null) return (image, null);
        var mask = SourceFiles.Read(context, maskPath, cancellationToken);
        SourceFiles.RequireSameSize(image, imagePath, mask, maskPath);
        return (image, SourceFiles.Labels(image.Geometry, SourceFiles.Foreground(mask, 128)));
    }
}
