using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats;
using Edu.Imaging.Formats.MetaImage;
using Edu.Imaging.Formats.Nifti;
using Edu.Imaging.Formats.Png;
using Edu.Imaging.Formats.Tiff;

namespace Edu.Imaging;

/// <summary>
/// Chooses a reader for a file from an explicit ordered list: first the readers whose extension the
/// file name ends with (longest extension first) and whose <see cref="IImageReader.TryDetect"/> accepts
/// the header bytes, then any reader in list order whose detector accepts them. When none fits, one
/// <see cref="InvalidInputException"/> names every reader tried.
/// </summary>
public sealed class ImageReaderRegistry
{
    private readonly IImageReader[] _readers;

    /// <summary>Creates a registry over <paramref name="readers"/>, tried in the given order.</summary>
    public ImageReaderRegistry(IEnumerable<IImageReader> readers)
    {
        ArgumentNullException.ThrowIfNull(readers);
        _readers = [.. readers];
        if (_readers.Length == 0)
            throw new ArgumentException("at least one reader is needed", nameof(readers));
    }

    /// <summary>The readers in the order they are tried.</summary>
    public IReadOnlyList<IImageReader> Readers => _readers;

    /// <summary>
    /// The readers this project provides: NIfTI, MetaImage, PNG, JPEG/BMP, TIFF, followed by
    /// <paramref name="more"/> (e.g. the DICOM reader from Edu.Dicom).
    /// </summary>
    public static ImageReaderRegistry CreateDefault(params IEnumerable<IImageReader> more) =>
        new([new NiftiReader(), new MetaImageReader(), new PngReader(), new SkiaImageReader(), new TiffReader(), .. more]);

    /// <summary>The reader for <paramref name="path"/>; a missing file or one no reader accepts is an <see cref="InvalidInputException"/>.</summary>
    public IImageReader Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] head = ImageFile.ReadHead(path, _readers.Max(r => r.HeaderBytesNeeded));
        var byExtension = _readers
            .Select((r, i) => (Reader: r, Index: i, Ext: r.Extensions.Where(e => ImageFile.HasExtension(path, e)).DefaultIfEmpty("").Max(e => e.Length)))
            .Where(x => x.Ext > 0)
            .OrderByDescending(x => x.Ext).ThenBy(x => x.Index)
            .Select(x => x.Reader)
            .ToList();
        // Without a matching extension, readers whose signature lies deeper in the file go first: DICOM's "DICM" sits at
        // byte 128 after a free-form preamble that may itself look like a TIFF or another format's magic number.
        foreach (var reader in byExtension.Concat(_readers.Except(byExtension).OrderByDescending(r => r.HeaderBytesNeeded)))
        {
            if (reader.TryDetect(head.AsSpan(0, Math.Min(head.Length, reader.HeaderBytesNeeded))))
                return reader;
        }
        string tried = string.Join(", ", _readers.Select(r => $"{r.Name} ({string.Join(" ", r.Extensions)})"));
        string ext = Path.GetExtension(path);
        string problem = head.Length == 0
            ? $"the file is empty; tried every reader: {tried}"
            : byExtension.Count > 0
                ? $"the name says {string.Join(" or ", byExtension.Select(r => r.Name))} but the content is not; no reader recognises it (tried {tried})"
                : $"not a recognised image format (extension '{ext}'); tried {tried}";
        throw new InvalidInputException(path, problem);
    }

    /// <summary>Reads only the header of <paramref name="path"/> with the reader <see cref="Resolve"/> picks.</summary>
    public ImageHeader Identify(string path) => Resolve(path).Identify(path);

    /// <summary>Reads <paramref name="path"/> with the reader <see cref="Resolve"/> picks.</summary>
    public ImageVolume Read(string path, CancellationToken cancellationToken = default) =>
        Resolve(path).Read(path, cancellationToken);
}
