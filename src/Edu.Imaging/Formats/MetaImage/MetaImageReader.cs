using System.IO.Compression;
using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats.MetaImage;

/// <summary>
/// Reads MetaImage (<c>.mha</c> with the voxels after the header, <c>.mhd</c> with a <c>.raw</c> or
/// <c>.zraw</c> beside it): MET_UCHAR … MET_DOUBLE, ElementNumberOfChannels, zlib-compressed data,
/// either byte order, 2-D and 3-D (a 4th dimension becomes channels). MetaImage is already LPS:
/// Offset is the origin, ElementSpacing the spacing, TransformMatrix the direction column by column (as ITK).
/// </summary>
public sealed class MetaImageReader : IImageReader
{
    /// <inheritdoc />
    public string Name => "MetaImage";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".mha", ".mhd"];

    /// <inheritdoc />
    public int HeaderBytesNeeded => 64;

    /// <inheritdoc />
    public bool TryDetect(ReadOnlySpan<byte> header) => MetaImageHeader.LooksLikeMetaImage(header);

    /// <inheritdoc />
    public ImageHeader Identify(string path)
    {
        var info = Open(path);
        return new ImageHeader(Name, info.Geometry, info.Channels, info.PixelType);
    }

    /// <inheritdoc />
    public ImageVolume Read(string path, CancellationToken cancellationToken = default)
    {
        var info = Open(path);
        long voxels = info.Geometry.Size.VoxelCount;
        var interleaved = new float[voxels * info.Channels];
        using (var file = ImageFile.OpenRead(info.DataPath))
        {
            file.Seek(info.DataOffset, SeekOrigin.Begin);
            Stream stream = file;
            if (info.Compressed)
            {
                var magic = new byte[2];
                int m = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
                file.Seek(info.DataOffset, SeekOrigin.Begin);
                stream = m == 2 && ImageFile.IsGzip(magic)
                    ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true)
                    : new ZLibStream(file, CompressionMode.Decompress, leaveOpen: true);
            }
            using (stream == file ? null : stream)
            {
                SampleConverter.ReadSamples(stream, interleaved, info.PixelType, info.BigEndian, info.DataPath, cancellationToken);
                if (stream != file) SampleConverter.CheckCompressedEnd(stream, info.DataPath);
            }
        }
        float[] data = interleaved;
        if (info.Channels > 1 && info.InterleavedChannels)
        {
            // MetaImage stores channels per voxel: [z][y][x][c] → [c][z][y][x].
            data = new float[interleaved.LongLength];
            int ch = info.Channels;
            for (int c = 0; c < ch; c++)
            {
                long outBase = c * voxels;
                for (long v = 0; v < voxels; v++)
                    data[outBase + v] = interleaved[v * ch + c];
            }
        }
        return new ImageVolume(info.Geometry, info.Channels, data, info.PixelType, new Dictionary<string, string> { ["Format"] = Name });
    }

    private sealed record Info(ImageGeometry Geometry, int Channels, bool InterleavedChannels, PixelType PixelType, string DataPath,
        long DataOffset, bool Compressed, bool BigEndian);

    private static Info Open(string path)
    {
        byte[] head = ImageFile.ReadHead(path, MetaImageHeader.MaxHeaderBytes);
        var h = MetaImageHeader.Parse(head, out string? problem) ?? throw MetaImageThrowHelper.Invalid(path, problem!);
        string? objectType = h.Get("ObjectType");
        if (objectType is not null && !objectType.Equals("Image", StringComparison.OrdinalIgnoreCase))
            throw MetaImageThrowHelper.Unsupported(path, $"ObjectType = {objectType} (only Image is read)");
        var ndimsValues = h.Numbers(out problem, "NDims");
        if (problem is not null || ndimsValues is not { Length: 1 })
            throw MetaImageThrowHelper.Invalid(path, problem ?? "NDims is missing");
        int ndims = (int)ndimsValues[0];
        if (ndims is < 1 or > 4 || ndims != ndimsValues[0])
            throw MetaImageThrowHelper.Unsupported(path, $"NDims = {ndimsValues[0]} (1 to 4 are read)");
        var dimSize = h.Numbers(out problem, "DimSize");
        if (problem is not null || dimSize is null || dimSize.Length != ndims)
            throw MetaImageThrowHelper.Invalid(path, problem ?? $"DimSize must have {ndims} values");
        foreach (double d in dimSize)
        {
            if (d < 1 || d > ReaderLimits.MaxExtent || d != Math.Floor(d))
                throw MetaImageThrowHelper.Invalid(path, $"DimSize = {h.Get("DimSize")} has an extent that is not 1 to {ReaderLimits.MaxExtent}");
        }
        string elementType = h.Get("ElementType") ?? throw MetaImageThrowHelper.Invalid(path, "ElementType is missing");
        var pixelType = MetaImageHeader.PixelTypeOf(elementType)
            ?? throw MetaImageThrowHelper.Unsupported(path, $"ElementType = {elementType} (known: {string.Join(", ", MetaImageHeader.KnownElementTypes)})");
        var channelValues = h.Numbers(out problem, "ElementNumberOfChannels");
        int channels = channelValues is { Length: 1 } ? (int)channelValues[0] : 1;
        if (problem is not null || channels < 1 || channels > 1024)
            throw MetaImageThrowHelper.Invalid(path, problem ?? $"ElementNumberOfChannels = {channels}");
        bool interleaved = channels > 1;
        if (ndims == 4)
        {
            if (channels > 1)
                throw MetaImageThrowHelper.Unsupported(path, "4-D images with several channels per element");
            channels = (int)dimSize[3];
        }
        if (h.Get("BinaryData") is { } binary && !MetaImageHeader.IsTrue(binary))
            throw MetaImageThrowHelper.Unsupported(path, "BinaryData = False (ASCII voxel data)");
        bool bigEndian = MetaImageHeader.IsTrue(h.Get("BinaryDataByteOrderMSB", "ElementByteOrderMSB"));
        bool compressed = MetaImageHeader.IsTrue(h.Get("CompressedData"));

        var size = new VolumeSize((int)dimSize[0], ndims >= 2 ? (int)dimSize[1] : 1, ndims >= 3 ? (int)dimSize[2] : 1);
        int n = Math.Min(ndims, 3);
        var spacing = h.Numbers(out problem, "ElementSpacing") ?? (problem is null ? h.Numbers(out problem, "ElementSize") : null);
        var offset = problem is null ? h.Numbers(out problem, "Offset", "Position", "Origin") : null;
        var matrix = problem is null ? h.Numbers(out problem, "TransformMatrix", "Rotation", "Orientation") : null;
        if (problem is not null)
            throw MetaImageThrowHelper.Invalid(path, problem);
        if (spacing is not null && spacing.Length < n || offset is not null && offset.Length < n || matrix is not null && matrix.Length != ndims * ndims)
            throw MetaImageThrowHelper.Invalid(path, $"ElementSpacing, Offset or TransformMatrix do not have {ndims} (or {ndims}×{ndims}) values");
        var sp = new double[] { 1, 1, 1 };
        var origin = new double[3];
        var direction = new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
        for (int i = 0; i < n; i++)
        {
            if (spacing is not null)
                sp[i] = Math.Abs(spacing[i]) > 0 ? Math.Abs(spacing[i]) : throw MetaImageThrowHelper.Invalid(path, $"ElementSpacing = {h.Get("ElementSpacing")} has a zero");
            if (offset is not null)
                origin[i] = offset[i];
            if (matrix is not null)
            {
                for (int j = 0; j < n; j++)
                    direction[j * 3 + i] = matrix[i * ndims + j]; // axis i's direction is column i
            }
        }
        if (matrix is not null && Enumerable.Range(0, 3).Any(c => direction[c] * direction[c] + direction[3 + c] * direction[3 + c] + direction[6 + c] * direction[6 + c] < 1e-12))
            throw MetaImageThrowHelper.Invalid(path, $"TransformMatrix = {h.Get("TransformMatrix", "Rotation", "Orientation")} is degenerate");

        string dataFile = h.Get("ElementDataFile")!;
        string dataPath;
        long dataOffset;
        if (dataFile.Equals("LOCAL", StringComparison.OrdinalIgnoreCase))
        {
            dataPath = path;
            dataOffset = h.Length;
        }
        else if (dataFile.StartsWith("LIST", StringComparison.OrdinalIgnoreCase) || dataFile.Contains('%', StringComparison.Ordinal) || dataFile.Contains(' ', StringComparison.Ordinal))
        {
            throw MetaImageThrowHelper.Unsupported(path, $"ElementDataFile = {dataFile} (one file per slice)");
        }
        else
        {
            // The data file must lie beside the header or below it, as ITK writes it: a header uploaded to a server
            // must not make it read (and send back) any other file on that machine.
            string folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
            dataPath = Path.GetFullPath(Path.Combine(folder, dataFile));
            if (Path.IsPathRooted(dataFile) || !dataPath.StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw MetaImageThrowHelper.Invalid(path, $"ElementDataFile = {dataFile} is outside the header's folder; name a file beside the header or below it");
            if (!File.Exists(dataPath))
                throw MetaImageThrowHelper.Invalid(path, $"its data file {dataFile} is missing");
            dataOffset = 0;
        }
        long dataLength = new FileInfo(dataPath).Length;
        var headerSize = h.Numbers(out _, "HeaderSize");
        long samples = size.VoxelCount * channels;
        int bytesPerSample = SampleConverter.SizeOf(pixelType);
        if (headerSize is { Length: 1 } && dataPath != path)
        {
            dataOffset = headerSize[0] == -1 && !compressed ? dataLength - samples * bytesPerSample : (long)headerSize[0];
            if (dataOffset < 0 || dataOffset > dataLength)
                throw MetaImageThrowHelper.Invalid(path, $"HeaderSize = {headerSize[0]} does not fit its data file of {dataLength} bytes");
        }
        string? claim = ReaderLimits.CheckClaim(samples, bytesPerSample, dataLength - dataOffset, compressed);
        if (claim is not null)
            throw MetaImageThrowHelper.Invalid(dataPath, claim);
        var geometry = new ImageGeometry(size, sp, origin, direction);
        return new Info(geometry, channels, interleaved, pixelType, dataPath, dataOffset, compressed, bigEndian);
    }
}
