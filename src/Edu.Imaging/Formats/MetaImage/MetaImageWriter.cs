using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats.MetaImage;

/// <summary>
/// Writes MetaImage as ITK does: <c>.mha</c> (header and voxels in one file) or <c>.mhd</c> with the
/// voxels in a <c>.raw</c> (<c>.zraw</c> when compressed) beside it; little endian; the element type
/// from <see cref="ImageVolume.SourcePixelType"/> when every value fits, else MET_FLOAT; several
/// channels as ElementNumberOfChannels (interleaved per voxel).
/// </summary>
public sealed class MetaImageWriter : IImageWriter
{
    private const int ChunkVoxels = 1 << 16;

    /// <inheritdoc />
    public string Name => "MetaImage";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".mha", ".mhd"];

    /// <summary>Whether to zlib-compress the voxels (CompressedData = True). Off by default, as ITK.</summary>
    public bool Compress { get; init; }

    /// <inheritdoc />
    public void Write(ImageVolume volume, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentException.ThrowIfNullOrEmpty(path);
        bool local = ImageFile.HasExtension(path, ".mha");
        if (!local && !ImageFile.HasExtension(path, ".mhd"))
            throw new ArgumentException($"{path}: a MetaImage file name ends with .mha or .mhd", nameof(path));
        PixelType type = SampleConverter.FitsExactly(volume.Voxels, volume.SourcePixelType) ? volume.SourcePixelType : PixelType.Float32;
        string dataName = Path.GetFileNameWithoutExtension(path) + (Compress ? ".zraw" : ".raw");
        var g = volume.Geometry;
        var header = new StringBuilder();
        string F(IEnumerable<double> values) => string.Join(" ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        header.Append("ObjectType = Image\n");
        header.Append(CultureInfo.InvariantCulture, $"NDims = 3\n");
        header.Append("BinaryData = True\n");
        header.Append("BinaryDataByteOrderMSB = False\n");
        header.Append(CultureInfo.InvariantCulture, $"CompressedData = {(Compress ? "True" : "False")}\n");
        // TransformMatrix lists the direction column by column (axis 0's vector, then axis 1's, then axis 2's), as ITK.
        var d = g.Direction;
        header.Append(CultureInfo.InvariantCulture, $"TransformMatrix = {F([d[0], d[3], d[6], d[1], d[4], d[7], d[2], d[5], d[8]])}\n");
        header.Append(CultureInfo.InvariantCulture, $"Offset = {F(g.Origin)}\n");
        header.Append("CenterOfRotation = 0 0 0\n");
        header.Append(CultureInfo.InvariantCulture, $"ElementSpacing = {F(g.Spacing)}\n");
        header.Append(CultureInfo.InvariantCulture, $"DimSize = {volume.Size.X} {volume.Size.Y} {volume.Size.Z}\n");
        if (volume.Channels > 1)
            header.Append(CultureInfo.InvariantCulture, $"ElementNumberOfChannels = {volume.Channels}\n");
        header.Append(CultureInfo.InvariantCulture, $"ElementType = {MetaImageHeader.ElementTypeOf(type)}\n");
        header.Append(CultureInfo.InvariantCulture, $"ElementDataFile = {(local ? "LOCAL" : dataName)}\n");
        byte[] headerBytes = Encoding.ASCII.GetBytes(header.ToString());

        if (local)
        {
            ImageFile.WriteAtomically(path, s =>
            {
                s.Write(headerBytes);
                WriteVoxels(s, volume, type, cancellationToken);
            });
        }
        else
        {
            string dataPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", dataName);
            ImageFile.WriteAtomically(dataPath, s => WriteVoxels(s, volume, type, cancellationToken));
            ImageFile.WriteAtomically(path, s => s.Write(headerBytes));
        }
    }

    private void WriteVoxels(Stream file, ImageVolume volume, PixelType type, CancellationToken cancellationToken)
    {
        using Stream stream = Compress ? new ZLibStream(file, CompressionLevel.Fastest, leaveOpen: true) : new NonClosing(file);
        int size = SampleConverter.SizeOf(type);
        int ch = volume.Channels;
        long voxels = volume.Size.VoxelCount;
        var floats = new float[ChunkVoxels * ch];
        byte[] raw = ArrayPool<byte>.Shared.Rent(floats.Length * size);
        try
        {
            for (long start = 0; start < voxels; start += ChunkVoxels)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = (int)Math.Min(ChunkVoxels, voxels - start);
                for (int v = 0; v < n; v++)
                    for (int c = 0; c < ch; c++)
                        floats[v * ch + c] = volume.Voxels[c * voxels + start + v];
                SampleConverter.ToRaw(floats.AsSpan(0, n * ch), raw.AsSpan(0, n * ch * size), type, bigEndian: false);
                stream.Write(raw, 0, n * ch * size);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
    }

    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
