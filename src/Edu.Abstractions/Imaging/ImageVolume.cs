namespace Edu.Abstractions.Imaging;

/// <summary>
/// Voxel data plus geometry: what every reader produces and every pipeline consumes.
/// </summary>
/// <remarks>
/// Memory layout: one float32 array, channel-major then z, y, x with x fastest:
/// <c>Voxels[((c · Z + z) · Y + y) · X + x]</c>. This is the C-order layout of a tensor of shape
/// [C, Z, Y, X] (or [C, H, W] when Z = 1), so a volume becomes a tensor without reordering.
/// Values are after the source's rescale (DICOM Modality LUT, NIfTI scl_slope/scl_inter): CT in HU.
/// Channels are RGB samples, MR sequences or time points.
/// </remarks>
public sealed class ImageVolume
{
    /// <summary>Creates a volume; <paramref name="voxels"/> is taken, not copied.</summary>
    public ImageVolume(ImageGeometry geometry, int channels, float[] voxels, PixelType sourcePixelType,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        ArgumentNullException.ThrowIfNull(voxels);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (voxels.LongLength != geometry.Size.VoxelCount * channels)
            throw new ArgumentException($"{voxels.LongLength} voxels do not fill {geometry.Size} × {channels} channels", nameof(voxels));
        Geometry = geometry;
        Channels = channels;
        Voxels = voxels;
        SourcePixelType = sourcePixelType;
        Metadata = metadata ?? new Dictionary<string, string>();
    }

    /// <summary>Placement in LPS world coordinates.</summary>
    public ImageGeometry Geometry { get; }

    /// <summary>Size [x, y, z].</summary>
    public VolumeSize Size => Geometry.Size;

    /// <summary>Number of channels (1 for grey, 3 for RGB, 4 for BraTS' sequences).</summary>
    public int Channels { get; }

    /// <summary>Voxel values in the layout described on the type.</summary>
    public float[] Voxels { get; }

    /// <summary>The scalar type in the source file.</summary>
    public PixelType SourcePixelType { get; }

    /// <summary>
    /// Small, non-identifying facts about the source: <c>Modality</c>, <c>SeriesDescription</c>,
    /// <c>SeriesInstanceUID</c>, <c>StudyInstanceUID</c>, <c>SOPInstanceUID</c>, <c>Format</c>…
    /// Never patient name, ID or birth date.
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Voxels of one channel.</summary>
    public Span<float> Channel(int c)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(c);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(c, Channels);
        long n = Size.VoxelCount;
        return Voxels.AsSpan(checked((int)(c * n)), checked((int)n));
    }
}
