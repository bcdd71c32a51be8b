using System.IO.Compression;
using Edu.Abstractions.Errors;

namespace Edu.Imaging.Formats;

/// <summary>File helpers the readers and writers share: checked opening, header peeking, gzip sniffing, atomic writes.</summary>
internal static class ImageFile
{
    /// <summary>Opens a file for reading; a missing file or folder is an <see cref="InvalidInputException"/>.</summary>
    public static FileStream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
            throw new InvalidInputException(path, "is a folder, not an image file");
        if (!File.Exists(path))
            throw new InvalidInputException(path, "file not found");
        // Before opening: a named pipe would block the open itself, and a device has no end.
        if (new FileInfo(path).Length == 0)
            throw new InvalidInputException(path, "the file is empty (or not a regular file: a pipe or a device)");
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(path, $"cannot be opened: {e.Message}", e);
        }
    }

    /// <summary>Reads up to <paramref name="count"/> leading bytes of a file.</summary>
    public static byte[] ReadHead(string path, int count)
    {
        using var stream = OpenRead(path);
        var buffer = new byte[Math.Min(count, Math.Max(0, stream.Length))];
        int got = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        return got == buffer.Length ? buffer : buffer[..got];
    }

    /// <summary>Whether bytes start with the gzip magic number.</summary>
    public static bool IsGzip(ReadOnlySpan<byte> head) => head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b;

    /// <summary>
    /// Inflates as much of a gzip prefix as it can (up to <paramref name="max"/> bytes); a truncated or
    /// corrupt prefix just yields fewer bytes. For header sniffing only.
    /// </summary>
    public static byte[] GunzipPrefix(ReadOnlySpan<byte> compressed, int max)
    {
        var output = new byte[max];
        int total = 0;
        try
        {
            using var gz = new GZipStream(new MemoryStream(compressed.ToArray()), CompressionMode.Decompress);
            while (total < max)
            {
                int n = gz.Read(output, total, max - total);
                if (n == 0)
                    break;
                total += n;
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            // A prefix of a gzip stream ends abruptly: keep what was inflated.
        }
        return output[..total];
    }

    /// <summary>
    /// Writes a file through a temporary file beside it and renames it into place when complete,
    /// so a failed write never leaves half a file under the requested name.
    /// </summary>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir))
            Directory.CreateDirectory(dir);
        string temp = full + $".{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
                write(stream);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    /// <summary>Whether the path's file name ends with <paramref name="extension"/> (case-insensitive).</summary>
    public static bool HasExtension(string path, string extension) =>
        path.EndsWith(extension, StringComparison.OrdinalIgnoreCase);
}
