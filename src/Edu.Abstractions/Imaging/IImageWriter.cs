namespace Edu.Abstractions.Imaging;

/// <summary>
/// Writes an <see cref="ImageVolume"/> (an image, or a label volume: one channel of integer labels)
/// in one file format. Writers never overwrite silently what a user did not ask to replace: callers
/// choose the path; a writer writes to a temporary file and renames it into place when done.
/// </summary>
public interface IImageWriter
{
    /// <summary>Format name as users see it.</summary>
    string Name { get; }

    /// <summary>File name endings this writer produces, lower case with the dot.</summary>
    IReadOnlyList<string> Extensions { get; }

    /// <summary>Writes <paramref name="volume"/> to <paramref name="path"/>.</summary>
    void Write(ImageVolume volume, string path, CancellationToken cancellationToken = default);
}
