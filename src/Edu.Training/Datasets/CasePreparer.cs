using Edu.Abstractions.Imaging;
using Edu.Abstractions.Preprocessing;
using Edu.Imaging.Preprocessing;

namespace Edu.Training.Datasets;

/// <summary>
/// Runs the preprocessing pipeline on a case's image and carries its labels along the geometric steps
/// (a step that changes the geometry is applied to the one-hot labels, which are then arg-maxed, so labels
/// stay integers and follow resampling or resizing exactly as the image does).
/// </summary>
public sealed class CasePreparer
{
    private readonly PreprocessingRunner _runner;
    private readonly PreprocessingPipeline _pipeline;

    /// <summary>Creates a preparer for <paramref name="pipeline"/>.</summary>
    public CasePreparer(PreprocessingPipeline pipeline, IEnumerable<IPreprocessingStep>? customSteps = null)
    {
        _pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
        _runner = new PreprocessingRunner(customSteps);
    }

    /// <summary>The pipeline.</summary>
    public PreprocessingPipeline Pipeline => _pipeline;

    /// <summary>Preprocesses an image with its labels (labels may be null for unlabelled data).</summary>
    public (ImageVolume Image, ImageVolume? Labels, IReadOnlyList<AppliedStep> Applied) Prepare(ImageVolume image, ImageVolume? labels, int labelCount)
    {
        var (outImage, applied) = _runner.Run(image, _pipeline);
        if (labels is null) return (outImage, null, applied);
        for (int i = 0; i < applied.Count; i++)
        {
            var after = i + 1 < applied.Count ? applied[i + 1].InputGeometry : outImage.Geometry;
            if (applied[i].InputGeometry.Equals(after)) continue; // intensity step: labels unchanged
            labels = ApplyGeometric(labels, applied[i].Spec, labelCount);
        }
        return (outImage, labels, applied);
    }

    /// <summary>Prepares a case into the in-memory form the loader samples from.</summary>
    public PreparedCase PrepareCase(string id, ImageVolume image, ImageVolume labels, int labelCount)
    {
        var (img, lab, _) = Prepare(image, labels, labelCount);
        var s = img.Size;
        var bytes = new byte[lab!.Voxels.Length];
        var fg = new List<int>();
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)lab.Voxels[i];
            if (bytes[i] != 0) fg.Add(i);
        }
        int[] foreground = fg.Count <= 10_000 ? [.. fg] : Enumerable.Range(0, 10_000).Select(k => fg[(int)((long)k * fg.Count / 10_000)]).ToArray();
        return new PreparedCase(id, img.Channels, s.X, s.Y, s.Z, [.. img.Geometry.Spacing], img.Voxels, bytes, foreground);
    }

    private ImageVolume ApplyGeometric(ImageVolume labels, PreprocessingStepSpec spec, int labelCount)
    {
        long n = labels.Size.VoxelCount;
        var onehot = new float[n * labelCount];
        for (long i = 0; i < n; i++) onehot[(long)labels.Voxels[i] * n + i] = 1;
        var moved = _runner.Steps[spec.Name].Apply(new ImageVolume(labels.Geometry, labelCount, onehot, PixelType.Float32), spec).Image;
        long m = moved.Size.VoxelCount;
        var result = new float[m];
        for (long i = 0; i < m; i++)
        {
            int best = 0;
            float bv = moved.Voxels[i];
            for (int k = 1; k < labelCount; k++)
            {
                float v = moved.Voxels[k * m + i];
                if (v > bv) { bv = v; best = k; }
            }
            result[i] = best;
        }
        return new ImageVolume(moved.Geometry, 1, result, PixelType.UInt8, labels.Metadata);
    }
}
