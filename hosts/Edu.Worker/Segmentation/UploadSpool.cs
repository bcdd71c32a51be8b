using Edu.Abstractions.Errors;
using Edu.V1;
using Edu.Worker.Errors;
using Edu.Worker.Metrics;

namespace Edu.Worker.Segmentation;

/// <summary>
/// Writes uploaded <see cref="FileChunk"/>s into a private folder, enforcing the size and file-count limits
/// and refusing names that could leave the folder. Deleted (with everything in it) on dispose.
/// </summary>
public sealed class UploadSpool : IDisposable
{
    private readonly long _maxBytes;
    private readonly int _maxFiles;
    private readonly bool _allowSubfolders;
    private readonly WorkerMetrics _metrics;
    private readonly bool _deleteOnDispose;
    private readonly Dictionary<string, FileStream> _open = new(StringComparer.Ordinal);
    private readonly HashSet<string> _closed = new(StringComparer.Ordinal);

    /// <summary>Creates the spool in <paramref name="directory"/> (created; must not exist yet).</summary>
    public UploadSpool(string directory, long maxBytes, int maxFiles, bool allowSubfolders, WorkerMetrics metrics, bool deleteOnDispose = true)
    {
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            throw new ConflictException($"upload folder '{Path.GetFileName(directory)}' exists and is not empty", alreadyExists: true);
        Directory.CreateDirectory(directory);
        Root = Path.GetFullPath(directory);
        _maxBytes = maxBytes;
        _maxFiles = maxFiles;
        _allowSubfolders = allowSubfolders;
        _metrics = metrics;
        _deleteOnDispose = deleteOnDispose;
    }

    /// <summary>The folder the files go to.</summary>
    public string Root { get; }

    /// <summary>Bytes received.</summary>
    public long Bytes { get; private set; }

    /// <summary>Files received, in the order they started.</summary>
    public List<string> Files { get; } = [];

    /// <summary>Appends a chunk to its file.</summary>
    public async Task AddAsync(FileChunk chunk, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        string name = CheckName(chunk.FileName);
        if (_closed.Contains(name))
            throw new InvalidInputException(chunk.FileName, "was already sent completely (a chunk arrived after its last chunk)");
        Bytes += chunk.Data.Length;
        _metrics.UploadBytes.Inc(chunk.Data.Length);
        if (Bytes > _maxBytes)
            throw new WorkerBusyException($"the upload exceeds this worker's limit of {_maxBytes} bytes", retryAfterMs: null);
        if (!_open.TryGetValue(name, out var stream))
        {
            if (Files.Count >= _maxFiles)
                throw new WorkerBusyException($"the upload exceeds this worker's limit of {_maxFiles} files", retryAfterMs: null);
            string path = Path.Combine(Root, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            _open[name] = stream;
            Files.Add(name);
        }
        await stream.WriteAsync(chunk.Data.Memory, cancellationToken).ConfigureAwait(false);
        if (chunk.Last)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            _open.Remove(name);
            _closed.Add(name);
        }
    }

    /// <summary>Closes every file; a file whose last chunk never came is an error (the upload was cut short).</summary>
    public async Task CompleteAsync()
    {
        foreach (var (name, stream) in _open)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new InvalidInputException(name, "the upload ended before the file's last chunk (last = true)");
        }
        if (Files.Count == 0)
            throw new InvalidInputException("request", "no file was uploaded after the header");
    }

    /// <summary>The full path of a received file.</summary>
    public string PathOf(string name) => Path.Combine(Root, name);

    private string CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new InvalidInputException("file_name", "a chunk has no file name");
        if (name.Length > 255 * 4 || name.Contains('\0') || name.Contains('\\') || Path.IsPathRooted(name))
            throw new InvalidInputException(name, "is not an acceptable file name");
        var parts = name.Split('/');
        if (parts.Any(p => p.Length == 0 || p == "." || p == ".." || p.Length > 255))
            throw new InvalidInputException(name, "is not an acceptable file name (empty, '.' or '..' parts)");
        if (!_allowSubfolders && parts.Length > 1)
            throw new InvalidInputException(name, "must be a plain file name without folders");
        string full = Path.GetFullPath(Path.Combine(Root, name));
        if (!full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidInputException(name, "points outside the upload");
        return string.Join(Path.DirectorySeparatorChar, parts);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var stream in _open.Values) stream.Dispose();
        _open.Clear();
        if (_deleteOnDispose)
        {
            try { Directory.Delete(Root, recursive: true); }
            catch (IOException) { /* best effort: a temp folder left behind is cleaned at the next start */ }
        }
    }
}
