using System.Buffers;
using System.IO.Compression;
using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats.Nifti;

/// <summary>
/// Writes single-file NIfTI-1 (<c>.nii.gz</c> gzip-compressed, or <c>.nii</c>), little endian, with both
/// sform and qform (code 1) set from the LPS geometry converted to RAS. The datatype is the volume's
/// <see cref="ImageVolume.SourcePixelType"/> when every value fits it exactly, else float32; channels
/// become the 4th dimension.
/// </summary>
public sealed class NiftiWriter : IImageWriter
{
    private const int ChunkSamples = 1 << 18;

    /// <inheritdoc />
    public string Name => "NIfTI";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".nii.gz", ".nii"];

    /// <summary>gzip level for <c>.nii.gz</c>; <see cref="CompressionLevel.Fastest"/> by default, as most tools.</summary>
    public CompressionLevel CompressionLevel { get; init; } = CompressionLevel.Fastest;

    /// <inheritdoc />
    public void Write(ImageVolume volume, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentException.ThrowIfNullOrEmpty(path);
        bool gzip = ImageFile.HasExtension(path, ".gz");
        if (!gzip && !ImageFile.HasExtension(path, ".nii"))
            throw new ArgumentException($"{path}: a NIfTI file name ends with .nii or .nii.gz", nameof(path));
        PixelType type = SampleConverter.FitsExactly(volume.Voxels, volume.SourcePixelType) ? volume.SourcePixelType : PixelType.Float32;
        var h = new NiftiHeader { DataType = NiftiHeader.DataTypeCode(type), VoxOffset = 352, SclSlope = 1, SclInter = 0, Description = "EDU.Framework" };
        var size = volume.Size;
        h.Dim[0] = volume.Channels > 1 ? 4 : size.Z > 1 ? 3 : 2;
        h.Dim[1] = size.X;
        h.Dim[2] = size.Y;
        h.Dim[3] = size.Z;
        h.Dim[4] = volume.Channels;
        for (int i = 5; i < 8; i++) h.Dim[i] = 1;
        if (h.Dim[0] < 3) h.Dim[3] = 1;
        NiftiGeometry.ToHeader(volume.Geometry, h);
        h.PixDim[4] = 1;
        byte[] header = h.ToNifti1Bytes();
        ImageFile.WriteAtomically(path, file =>
        {
            using Stream stream = gzip ? new GZipStream(file, CompressionLevel, leaveOpen: true) : file;
            stream.Write(header);
            int size1 = SampleConverter.SizeOf(type);
            byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSamples * size1);
            try
            {
                var voxels = volume.Voxels.AsSpan();
                for (int done = 0; done < voxels.Length; done += ChunkSamples)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int n = Math.Min(ChunkSamples, voxels.Length - done);
                    SampleConverter.ToRaw(voxels.Slice(done, n), buffer.AsSpan(0, n * size1), type, bigEndian: false);
                    stream.Write(buffer, 0, n * size1);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        });
    }
}
