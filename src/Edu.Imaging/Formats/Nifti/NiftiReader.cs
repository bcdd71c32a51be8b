using System.IO.Compression;
using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats.Nifti;

/// <summary>
/// Reads NIfTI-1 and NIfTI-2 files (<c>.nii</c>, <c>.nii.gz</c>, <c>.hdr</c>/<c>.img</c> pairs), either byte
/// order, every integer and float datatype plus RGB24/RGBA32 (as channels), 4-D and higher as
/// channels. Geometry as ITK: sform, else qform, else spacing only; converted from RAS to LPS.
/// Values have scl_slope/scl_inter applied (slope 0 means none).
/// </summary>
public sealed class NiftiReader : IImageReader
{
    /// <inheritdoc />
    public string Name => "NIfTI";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".nii.gz", ".nii", ".hdr", ".img", ".hdr.gz", ".img.gz"];

    /// <inheritdoc />
    public int HeaderBytesNeeded => 4096;

    /// <inheritdoc />
    public bool TryDetect(ReadOnlySpan<byte> header) =>
        ImageFile.IsGzip(header)
            ? NiftiHeader.LooksLikeNifti(ImageFile.GunzipPrefix(header, NiftiHeader.Nifti2Size))
            : NiftiHeader.LooksLikeNifti(header);

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
        int samplesPerVoxel = info.Header.Sample!.Value.SamplesPerVoxel;
        var data = new float[voxels * info.Channels];
        using (var file = ImageFile.OpenRead(info.DataPath))
        {
            Stream stream = file;
            GZipStream? gz = null;
            if (info.DataCompressed)
            {
                stream = gz = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
                Skip(gz, info.Header.VoxOffset, info.DataPath);
            }
            else
            {
                file.Seek(info.Header.VoxOffset, SeekOrigin.Begin);
            }
            using (gz)
            {
                SampleConverter.ReadSamples(stream, data, info.PixelType, info.Header.BigEndian, info.DataPath, cancellationToken);
                if (gz is not null) SampleConverter.CheckCompressedEnd(gz, info.DataPath);
            }
        }
        if (samplesPerVoxel > 1)
            data = Deinterleave(data, voxels, samplesPerVoxel);
        else
            SampleConverter.Rescale(data, info.Slope, info.Intercept);
        var metadata = new Dictionary<string, string>
        {
            ["Format"] = $"NIfTI-{info.Header.Version}",
        };
        if (info.Header.Description.Length > 0)
            metadata["Description"] = info.Header.Description;
        return new ImageVolume(info.Geometry, info.Channels, data, info.PixelType, metadata);
    }

    private static float[] Deinterleave(float[] interleaved, long voxels, int samples)
    {
        var result = new float[interleaved.LongLength];
        long frames = interleaved.LongLength / (voxels * samples);
        for (long t = 0; t < frames; t++)
        {
            long inBase = t * voxels * samples;
            for (int c = 0; c < samples; c++)
            {
                long outBase = (t * samples + c) * voxels;
                for (long v = 0; v < voxels; v++)
                    result[outBase + v] = interleaved[inBase + v * samples + c];
            }
        }
        return result;
    }

    private static void Skip(Stream stream, long count, string path)
    {
        var scratch = new byte[Math.Min(count, 1 << 16)];
        long left = count;
        try
        {
            while (left > 0)
            {
                int n = stream.Read(scratch, 0, (int)Math.Min(left, scratch.Length));
                if (n == 0)
                    throw NiftiThrowHelper.Invalid(path, $"the file ends before vox_offset {count}");
                left -= n;
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw NiftiThrowHelper.Invalid(path, $"the gzip data is corrupt ({e.Message})", e);
        }
    }

    private sealed record Info(NiftiHeader Header, ImageGeometry Geometry, int Channels, PixelType PixelType,
        string DataPath, bool DataCompressed, double Slope, double Intercept);

    private static Info Open(string path)
    {
        string headerPath = path;
        if (ImageFile.HasExtension(path, ".img") || ImageFile.HasExtension(path, ".img.gz"))
            headerPath = ReplaceEnding(path, ".img", ".hdr");
        byte[] headBytes;
        long fileLength;
        bool compressed;
        using (var file = ImageFile.OpenRead(headerPath))
        {
            fileLength = file.Length;
            var magic = new byte[2];
            int m = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            compressed = m == 2 && ImageFile.IsGzip(magic);
            file.Seek(0, SeekOrigin.Begin);
            headBytes = new byte[NiftiHeader.Nifti2Size];
            int got;
            try
            {
                using Stream s = compressed ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
                got = s.ReadAtLeast(headBytes, headBytes.Length, throwOnEndOfStream: false);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                throw NiftiThrowHelper.Invalid(headerPath, $"the gzip data is corrupt ({e.Message})", e);
            }
            headBytes = headBytes[..got];
        }
        var h = NiftiHeader.Parse(headBytes, out string? problem);
        if (problem is not null)
            throw NiftiThrowHelper.Invalid(headerPath, problem);

        // Dimensions: checked before anything is allocated.
        long ndim = h.Dim[0];
        if (ndim < 1 || ndim > 7)
            throw NiftiThrowHelper.Invalid(headerPath, $"dim[0] (number of dimensions) is {ndim}, not 1 to 7");
        for (int i = 1; i <= ndim; i++)
        {
            if (h.Dim[i] < 1 || h.Dim[i] > ReaderLimits.MaxExtent)
                throw NiftiThrowHelper.Invalid(headerPath, $"dim[{i}] is {h.Dim[i]}, not 1 to {ReaderLimits.MaxExtent}");
        }
        var sample = h.Sample ?? throw NiftiThrowHelper.Unsupported(headerPath, $"datatype {h.DataType} (complex and 128-bit types are not read)");
        long channels = sample.SamplesPerVoxel;
        for (int i = 4; i <= ndim; i++)
            channels *= h.Dim[i];
        var size = new VolumeSize((int)h.Dim[1], ndim >= 2 ? (int)h.Dim[2] : 1, ndim >= 3 ? (int)h.Dim[3] : 1);
        if (channels > ReaderLimits.MaxSamples)
            throw NiftiThrowHelper.Invalid(headerPath, $"the header claims {channels:N0} channels/time points");

        // Where the voxels are.
        string dataPath = headerPath;
        bool dataCompressed = compressed;
        long minOffset = h.Version == 1 ? NiftiHeader.Nifti1Size : NiftiHeader.Nifti2Size;
        if (!h.SingleFile)
        {
            if (!(ImageFile.HasExtension(headerPath, ".hdr") || ImageFile.HasExtension(headerPath, ".hdr.gz")))
                throw NiftiThrowHelper.Invalid(headerPath, "the header says the voxels are in a separate .img file, but this is not a .hdr file");
            dataPath = ReplaceEnding(headerPath, ".hdr", ".img");
            if (!File.Exists(dataPath) && File.Exists(dataPath + ".gz"))
                dataPath += ".gz";
            if (!File.Exists(dataPath))
                throw NiftiThrowHelper.Invalid(headerPath, $"its voxel file {Path.GetFileName(dataPath)} is missing");
            fileLength = new FileInfo(dataPath).Length;
            dataCompressed = ImageFile.IsGzip(ImageFile.ReadHead(dataPath, 2));
            minOffset = 0;
        }
        if (h.VoxOffset < minOffset)
            throw NiftiThrowHelper.Invalid(headerPath, $"vox_offset {h.VoxOffset} lies inside the header");
        long samples = size.VoxelCount * channels;
        int bytesPerSample = SampleConverter.SizeOf(sample.Type);
        string? claim = ReaderLimits.CheckClaim(samples, bytesPerSample,
            dataCompressed ? fileLength - (h.VoxOffset / ReaderLimits.MaxDeflateRatio) : fileLength - h.VoxOffset, dataCompressed);
        if (claim is not null)
            throw NiftiThrowHelper.Invalid(dataPath, claim);

        var geometry = NiftiGeometry.FromHeader(h, size, out problem)
            ?? throw NiftiThrowHelper.Invalid(headerPath, problem!);
        double slope = h.SclSlope, intercept = h.SclInter;
        if (slope == 0 || !double.IsFinite(slope))
        {
            slope = 1;
            intercept = 0;
        }
        if (!double.IsFinite(intercept))
            intercept = 0;
        return new Info(h, geometry, (int)channels, sample.Type, dataPath, dataCompressed, slope, intercept);
    }

    private static string ReplaceEnding(string path, string from, string to)
    {
        int i = path.LastIndexOf(from, StringComparison.OrdinalIgnoreCase);
        string replaced = path[..i] + (char.IsUpper(path[i + 1]) ? to.ToUpperInvariant() : to) + path[(i + from.Length)..];
        return replaced;
    }
}
