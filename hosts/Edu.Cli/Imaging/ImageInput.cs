using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Cli.Hosting;
using Edu.Dicom;
using Edu.Imaging;

namespace Edu.Cli.Imaging;

/// <summary>
/// Turns what a user names on the command line into a volume: a folder is a DICOM series,
/// a file goes to the reader registry (NIfTI, MetaImage, PNG/JPEG/BMP, TIFF, DICOM).
/// </summary>
public static class ImageInput
{
    private static readonly Lazy<ImageReaderRegistry> Registry = new(() => ImageReaderRegistry.CreateDefault([.. CliPlugins.Catalog.Readers, new DicomImageReader()]));

    /// <summary>The file readers, in the order they are tried: the built-in ones, the plugins' readers, DICOM.</summary>
    public static ImageReaderRegistry Readers => Registry.Value;

    /// <summary>Reads <paramref name="path"/>; returns the volume and the name of the format it was read as.</summary>
    public static (ImageVolume Volume, string Format) Read(string path, string? seriesUid, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
            return (DicomSeriesReader.Read(path, seriesUid, cancellationToken), "DICOM series");
        if (!File.Exists(path))
            throw new InvalidInputException(path, "no such file or folder");
        if (seriesUid is not null)
            throw new InvalidInputException("--series", "applies to a folder of DICOM files, not to a single file");
        var reader = Readers.Resolve(path);
        return (reader.Read(path, cancellationToken), reader.Name);
    }
}
