namespace Edu.Inference;

/// <summary>Size of one predicted label in the source geometry.</summary>
/// <param name="Label">The label value (1..K−1; 0 is background and is not reported).</param>
/// <param name="Name">The name from the package's <c>labels</c>, or <c>label N</c> when the package names none.</param>
/// <param name="Voxels">Voxels carrying the label.</param>
/// <param name="VolumeMl">Voxels × the source voxel volume in millilitres (for a 2-D image with unit spacing: mm² / 1000).</param>
public sealed record LabelStatistics(int Label, string Name, long Voxels, double VolumeMl);
