namespace Edu.Training.Datasets;

/// <summary>
/// A case after preprocessing: image voxels [c][z][y][x] and integer labels [z][y][x] on the same grid, in memory
/// or mapped from the run's case cache (<see cref="CaseStore"/>), plus the foreground voxel indices that
/// foreground-centred patches pick from.
/// </summary>
/// <param name="Id">Case id.</param>
/// <param name="Channels">Channel count.</param>
/// <param name="X">Columns.</param>
/// <param name="Y">Rows.</param>
/// <param name="Z">Slices (1 for 2-D).</param>
/// <param name="Spacing">Voxel spacing x, y, z in mm.</param>
/// <param name="Image">Voxels.</param>
/// <param name="Labels">Label values.</param>
/// <param name="Foreground">Indices (into one channel) of foreground voxels, subsampled to at most 10,000.</param>
public sealed record PreparedCase(string Id, int Channels, int X, int Y, int Z, double[] Spacing, ReadOnlyMemory<float> Image, ReadOnlyMemory<byte> Labels, int[] Foreground)
{
    /// <summary>Bytes of image and labels.</summary>
    public long Bytes => (long)Image.Length * sizeof(float) + Labels.Length;
}
