namespace Edu.Abstractions.Imaging;

/// <summary>
/// Reads one image file format into an <see cref="ImageVolume"/>. Readers are tried from an
/// explicit ordered list: by extension first, then by <see cref="TryDetect"/> on the header bytes (readers that
/// need more header bytes first, since a signature deep in a file is the more specific one).
/// Every failure on bad input is an <c>InvalidInputException</c> naming the file and the problem;
/// a header that claims an absurd size is refused before any allocation.
/// </summary>
public interface IImageReader
{
    /// <summary>Format name as users see it ("NIfTI", "MetaImage", "PNG", "DICOM").</summary>
    string Name { get; }

    /// <summary>File name endings this reader claims, lower case with the dot (".nii.gz", ".nii").</summary>
    IReadOnlyList<string> Extensions { get; }

    /// <summary>How many leading bytes <see cref="TryDetect"/> needs to decide.</summary>
    int HeaderBytesNeeded { get; }

    /// <summary>Whether the leading bytes of a file look like this format. Looks only at the header.</summary>
    bool TryDetect(ReadOnlySpan<byte> header);

    /// <summary>Reads the header only: size, channels, pixel type and geometry, without the voxels.</summary>
    ImageHeader Identify(string path);

    /// <summary>Reads the whole image.</summary>
    ImageVolume Read(string path, CancellationToken cancellationToken = default);
}
