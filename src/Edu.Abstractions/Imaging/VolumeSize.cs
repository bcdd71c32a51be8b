namespace Edu.Abstractions.Imaging;

/// <summary>Voxel counts along the image axes: X = columns, Y = rows, Z = slices (ITK order).</summary>
public readonly record struct VolumeSize(int X, int Y, int Z)
{
    /// <summary>Voxels in one channel: X·Y·Z.</summary>
    public long VoxelCount => (long)X * Y * Z;

    /// <summary>As an array [x, y, z], the order <c>edu inspect --json</c> reports.</summary>
    public int[] ToArray() => [X, Y, Z];

    /// <inheritdoc />
    public override string ToString() => $"{X}×{Y}×{Z}";
}
