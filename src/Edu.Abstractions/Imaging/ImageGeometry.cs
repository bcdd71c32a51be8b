namespace Edu.Abstractions.Imaging;

/// <summary>
/// Where the voxels of a volume lie in the patient, in LPS world coordinates (the DICOM and ITK
/// convention: +x towards the patient's left, +y posterior, +z superior), all lengths in mm.
/// World position of voxel index (i, j, k) = Origin + Direction · diag(Spacing) · (i, j, k).
/// </summary>
public sealed record ImageGeometry
{
    /// <summary>Creates a geometry, checking that spacing is positive and the direction is 3×3.</summary>
    public ImageGeometry(VolumeSize size, double[] spacing, double[] origin, double[] direction)
    {
        ArgumentNullException.ThrowIfNull(spacing);
        ArgumentNullException.ThrowIfNull(origin);
        ArgumentNullException.ThrowIfNull(direction);
        if (size.X <= 0 || size.Y <= 0 || size.Z <= 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, "every dimension must be at least 1");
        if (spacing.Length != 3 || origin.Length != 3 || direction.Length != 9)
            throw new ArgumentException("spacing and origin need 3 values, direction 9");
        if (spacing.Any(s => !(s > 0) || double.IsInfinity(s)))
            throw new ArgumentOutOfRangeException(nameof(spacing), string.Join(",", spacing), "spacing must be positive and finite");
        Size = size;
        Spacing = (double[])spacing.Clone();
        Origin = (double[])origin.Clone();
        Direction = (double[])direction.Clone();
    }

    /// <summary>Voxel counts [x, y, z].</summary>
    public VolumeSize Size { get; }

    /// <summary>Distance between voxel centres along x, y, z in mm.</summary>
    public IReadOnlyList<double> Spacing { get; }

    /// <summary>World (LPS, mm) position of the centre of voxel (0, 0, 0).</summary>
    public IReadOnlyList<double> Origin { get; }

    /// <summary>
    /// 3×3 direction cosines, row-major; column c is the world direction of image axis c (as in ITK).
    /// </summary>
    public IReadOnlyList<double> Direction { get; }

    /// <summary>An axis-aligned geometry with unit spacing at the origin, for images with no position (PNG, TIFF).</summary>
    public static ImageGeometry Identity(VolumeSize size) =>
        new(size, [1, 1, 1], [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]);

    /// <summary>The same placement with another size (e.g. after reading a subset of slices).</summary>
    public ImageGeometry WithSize(VolumeSize size) => new(size, [.. Spacing], [.. Origin], [.. Direction]);

    /// <summary>World (LPS, mm) position of a continuous voxel index.</summary>
    public (double X, double Y, double Z) IndexToWorld(double i, double j, double k)
    {
        double si = i * Spacing[0], sj = j * Spacing[1], sk = k * Spacing[2];
        return (Origin[0] + Direction[0] * si + Direction[1] * sj + Direction[2] * sk,
                Origin[1] + Direction[3] * si + Direction[4] * sj + Direction[5] * sk,
                Origin[2] + Direction[6] * si + Direction[7] * sj + Direction[8] * sk);
    }

    /// <summary>Volume of one voxel in millilitres.</summary>
    public double VoxelVolumeMl => Spacing[0] * Spacing[1] * Spacing[2] / 1000.0;

    /// <summary>Value equality within a tolerance, for comparing geometries read from different files.</summary>
    public bool IsCloseTo(ImageGeometry other, double tolerance = 1e-4)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Size == other.Size
            && Close(Spacing, other.Spacing, tolerance)
            && Close(Origin, other.Origin, tolerance)
            && Close(Direction, other.Direction, tolerance);
    }

    private static bool Close(IReadOnlyList<double> a, IReadOnlyList<double> b, double tolerance) =>
        a.Zip(b).All(p => Math.Abs(p.First - p.Second) <= tolerance * Math.Max(1, Math.Abs(p.First)));

    /// <inheritdoc />
    public bool Equals(ImageGeometry? other) =>
        other is not null && Size == other.Size
        && Spacing.SequenceEqual(other.Spacing) && Origin.SequenceEqual(other.Origin) && Direction.SequenceEqual(other.Direction);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Size, Spacing[0], Origin[0], Direction[0]);
}
