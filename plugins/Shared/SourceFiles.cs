using Edu.Abstractions.Datasets;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Plugins.Shared;

/// <summary>Finding and reading the files of a public dataset's layout with the readers the host lends.</summary>
internal static class SourceFiles
{
    /// <summary>
    /// <paramref name="root"/>/<paramref name="relative"/> when it exists; otherwise the same path under
    /// the one subfolder of <paramref name="root"/> (archives often unpack into a top folder); null when neither.
    /// </summary>
    public static string? Find(string root, string relative)
    {
        string direct = Path.Combine(root, relative);
        if (Directory.Exists(direct) || File.Exists(direct)) return direct;
        var children = Directory.GetDirectories(root);
        if (children.Length == 1)
        {
            string nested = Path.Combine(children[0], relative);
            if (Directory.Exists(nested) || File.Exists(nested)) return nested;
        }
        return null;
    }

    /// <summary>Like <see cref="Find"/>, but a missing path is bad input naming what the layout needs.</summary>
    public static string Require(string root, string relative, string what) =>
        Find(root, relative) ?? throw new InvalidInputException(root, $"missing {relative} ({what}); is this the right dataset folder?");

    /// <summary>The first folder named <paramref name="name"/> at most <paramref name="depth"/> levels below <paramref name="root"/>, in ordinal order.</summary>
    public static string? FindFolder(string root, string name, int depth)
    {
        foreach (string dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            if (string.Equals(Path.GetFileName(dir), name, StringComparison.OrdinalIgnoreCase)) return dir;
        if (depth <= 1) return null;
        foreach (string dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            if (FindFolder(dir, name, depth - 1) is { } found) return found;
        return null;
    }

    /// <summary>Files in <paramref name="folder"/> ending with one of <paramref name="endings"/> (case-insensitive), in ordinal order.</summary>
    public static List<string> List(string folder, params string[] endings) =>
        [.. Directory.GetFiles(folder)
            .Where(f => endings.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)) && !Path.GetFileName(f).StartsWith('.'))
            .Order(StringComparer.Ordinal)];

    /// <summary>The file name without the given ending (<c>a.nii.gz</c> → <c>a</c>).</summary>
    public static string Stem(string path, string ending)
    {
        string name = Path.GetFileName(path);
        return name.EndsWith(ending, StringComparison.OrdinalIgnoreCase) ? name[..^ending.Length] : Path.GetFileNameWithoutExtension(name);
    }

    /// <summary>Reads a file with the host's readers: those claiming its extension first, then any whose header check accepts it.</summary>
    public static ImageVolume Read(DatasetConversionContext context, string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!File.Exists(path)) throw new InvalidInputException(path, "no such file");
        var readers = context.Readers;
        if (readers.Count == 0) throw new InvalidOperationException("the host lent no image readers to the converter");
        int need = readers.Max(r => r.HeaderBytesNeeded);
        var head = new byte[need];
        int got;
        using (var stream = File.OpenRead(path))
            got = stream.ReadAtLeast(head, need, throwOnEndOfStream: false);
        var span = head.AsSpan(0, got);
        var byExtension = readers
            .Select((r, i) => (Reader: r, Index: i, Ext: r.Extensions.Where(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase)).DefaultIfEmpty("").Max(e => e.Length)))
            .Where(x => x.Ext > 0).OrderByDescending(x => x.Ext).ThenBy(x => x.Index).Select(x => x.Reader).ToList();
        foreach (var reader in byExtension.Concat(readers.Except(byExtension)))
            if (reader.TryDetect(span[..Math.Min(got, reader.HeaderBytesNeeded)]))
                return reader.Read(path, cancellationToken);
        throw new InvalidInputException(path, $"no reader recognises this file (tried {string.Join(", ", readers.Select(r => r.Name))})");
    }

    /// <summary>Refuses a mask whose size differs from its image's.</summary>
    public static void RequireSameSize(ImageVolume image, string imagePath, ImageVolume mask, string maskPath)
    {
        if (image.Size != mask.Size)
            throw new InvalidInputException(maskPath, $"mask size {mask.Size} differs from the image's {image.Size} ({Path.GetFileName(imagePath)})");
    }

    /// <summary>1 where the mean over the mask's channels is at least <paramref name="threshold"/>, else 0.</summary>
    public static float[] Foreground(ImageVolume mask, float threshold)
    {
        long n = mask.Size.VoxelCount;
        var result = new float[n];
        for (long i = 0; i < n; i++)
        {
            float sum = 0;
            for (int c = 0; c < mask.Channels; c++) sum += mask.Voxels[c * n + i];
            if (sum / mask.Channels >= threshold) result[i] = 1;
        }
        return result;
    }

    /// <summary>A one-channel 8-bit label volume on <paramref name="geometry"/>.</summary>
    public static ImageVolume Labels(ImageGeometry geometry, float[] values) => new(geometry, 1, values, PixelType.UInt8);

    /// <summary>
    /// The image with <paramref name="channels"/> channels: grey repeated to RGB, or RGB averaged to grey
    /// (rounded, so 8-bit values stay 8-bit); any other mismatch is bad input.
    /// </summary>
    public static ImageVolume WithChannels(ImageVolume image, int channels, string path)
    {
        if (image.Channels == channels) return image;
        long n = image.Size.VoxelCount;
        if (image.Channels == 1 && channels == 3)
        {
            var rgb = new float[3 * n];
            for (int c = 0; c < 3; c++) image.Voxels.AsSpan(0, (int)n).CopyTo(rgb.AsSpan((int)(c * n)));
            return new ImageVolume(image.Geometry, 3, rgb, image.SourcePixelType, image.Metadata);
        }
        if (image.Channels is 3 or 4 && channels == 1)
        {
            var grey = new float[n];
            for (long i = 0; i < n; i++)
                grey[i] = MathF.Round((image.Voxels[i] + image.Voxels[n + i] + image.Voxels[2 * n + i]) / 3f);
            return new ImageVolume(image.Geometry, 1, grey, image.SourcePixelType, image.Metadata);
        }
        throw new InvalidInputException(path, $"has {image.Channels} channels; expected {channels}");
    }

    /// <summary>A 2-D image (one slice), or bad input naming the file.</summary>
    public static ImageVolume Require2D(ImageVolume image, string path) =>
        image.Size.Z == 1 ? image : throw new InvalidInputException(path, $"has {image.Size.Z} slices; this dataset's images are 2-D");
}
