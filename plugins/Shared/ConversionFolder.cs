using Edu.Abstractions.Errors;

namespace Edu.Plugins.Shared;

/// <summary>
/// The folder rules every dataset converter follows: the source must be a folder; the destination
/// must be new or empty and not inside the source; the dataset is written into a hidden staging folder
/// beside the destination and moved into place only when complete, so a failed or cancelled
/// conversion leaves nothing half-written and never touches what a user has.
/// </summary>
internal static class ConversionFolder
{
    /// <summary>Checks both folders, runs <paramref name="convert"/> on a staging folder and moves it to the destination.</summary>
    public static int Run(string sourceFolder, string destinationFolder, Func<string, string, int> convert, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourceFolder);
        ArgumentException.ThrowIfNullOrEmpty(destinationFolder);
        string source = Path.GetFullPath(sourceFolder);
        string destination = Path.GetFullPath(destinationFolder).TrimEnd(Path.DirectorySeparatorChar);
        if (!Directory.Exists(source))
            throw new InvalidInputException(source, File.Exists(source) ? "is a file; the source must be the dataset's folder" : "no such folder");
        if (File.Exists(destination))
            throw new InvalidInputException(destination, "is a file; the destination must be a new or empty folder");
        if (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any())
            throw new InvalidInputException(destination, "the folder is not empty; refusing to write into it (choose a new or empty folder)");
        string sourcePrefix = source.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        if (destination == source.TrimEnd(Path.DirectorySeparatorChar) || destination.StartsWith(sourcePrefix, StringComparison.Ordinal))
            throw new InvalidInputException(destination, $"lies inside the source folder {source}; write the converted dataset elsewhere");

        string parent = Path.GetDirectoryName(destination) ?? throw new InvalidInputException(destination, "has no parent folder");
        Directory.CreateDirectory(parent);
        string staging = Path.Combine(parent, $".{Path.GetFileName(destination)}.converting-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            int cases = convert(source, staging);
            cancellationToken.ThrowIfCancellationRequested();
            if (Directory.Exists(destination))
                Directory.Delete(destination, recursive: false); // empty (checked above); throws if someone filled it meanwhile
            Directory.Move(staging, destination);
            return cases;
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
    }

    private static void TryDelete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
