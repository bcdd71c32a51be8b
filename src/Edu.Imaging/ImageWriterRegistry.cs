using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats.MetaImage;
using Edu.Imaging.Formats.Nifti;
using Edu.Imaging.Formats.Png;
using Edu.Imaging.Formats.Tiff;

namespace Edu.Imaging;

/// <summary>Chooses a writer by the file name's ending (longest matching extension wins, then list order).</summary>
public sealed class ImageWriterRegistry
{
    private readonly IImageWriter[] _writers;

    /// <summary>Creates a registry over <paramref name="writers"/>.</summary>
    public ImageWriterRegistry(IEnumerable<IImageWriter> writers)
    {
        ArgumentNullException.ThrowIfNull(writers);
        _writers = [.. writers];
    }

    /// <summary>The writers, in order.</summary>
    public IReadOnlyList<IImageWriter> Writers => _writers;

    /// <summary>NIfTI (.nii.gz, .nii), MetaImage (.mha, .mhd), PNG (.png), TIFF (.tif, .tiff), then <paramref name="more"/>.</summary>
    public static ImageWriterRegistry CreateDefault(params IEnumerable<IImageWriter> more) =>
        new([new NiftiWriter(), new MetaImageWriter(), new PngWriter(), new TiffWriter(), .. more]);

    /// <summary>The writer for <paramref name="path"/>'s extension; an unknown one is an <see cref="InvalidInputException"/> listing the known.</summary>
    public IImageWriter Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var best = _writers
            .Select((w, i) => (Writer: w, Index: i, Ext: w.Extensions.Where(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase)).DefaultIfEmpty("").Max(e => e.Length)))
            .Where(x => x.Ext > 0)
            .OrderByDescending(x => x.Ext).ThenBy(x => x.Index)
            .Select(x => x.Writer)
            .FirstOrDefault();
        return best ?? throw new InvalidInputException(path,
            $"no writer for this file name; known endings: {string.Join(", ", _writers.SelectMany(w => w.Extensions))}");
    }

    /// <summary>Writes <paramref name="volume"/> with the writer for <paramref name="path"/>'s extension.</summary>
    public void Write(ImageVolume volume, string path, CancellationToken cancellationToken = default) =>
        Resolve(path).Write(volume, path, cancellationToken);
}
