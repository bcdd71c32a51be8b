using Edu.V1;
using Google.Protobuf;

namespace Edu.Client;

/// <summary>Splits files into <see cref="FileChunk"/>s and joins them back.</summary>
public static class FileChunks
{
    /// <summary>The chunk size clients and the worker use: 1 MiB.</summary>
    public const int DefaultChunkBytes = 1024 * 1024;

    /// <summary>Reads <paramref name="path"/> and yields it as chunks named <paramref name="name"/>; an empty file is one empty last chunk.</summary>
    public static async IAsyncEnumerable<FileChunk> ReadAsync(string path, string name, int chunkBytes = DefaultChunkBytes,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        long remaining = stream.Length;
        var buffer = new byte[(int)Math.Min(chunkBytes, Math.Max(remaining, 1))];
        do
        {
            int want = (int)Math.Min(buffer.Length, remaining);
            int read = 0;
            while (read < want)
            {
                int n = await stream.ReadAsync(buffer.AsMemory(read, want - read), cancellationToken).ConfigureAwait(false);
                if (n == 0) throw new IOException($"{path}: the file shrank while it was being sent");
                read += n;
            }
            remaining -= read;
            yield return new FileChunk { FileName = name, Data = ByteString.CopyFrom(buffer, 0, read), Last = remaining == 0 };
        }
        while (remaining > 0);
    }
}
