using System.Text;

namespace Edu.Dicom.Web;

/// <summary>
/// Reads a <c>multipart/related</c> body (RFC 2387, as WADO-RS sends instances) part by part as it streams in, each
/// part's content copied to its own file: a series never has to fit in memory, and a part larger than the limit stops
/// the read instead of filling the disk.
/// </summary>
internal sealed class MultipartRelatedReader
{
    private const int MaxHeaderBytes = 16 * 1024;
    private readonly Stream _body;
    private readonly byte[] _delimiter;
    private readonly byte[] _buffer;
    private int _start, _end;
    private bool _eof;

    public MultipartRelatedReader(Stream body, string boundary)
    {
        if (boundary.Length is 0 or > 70) throw new FormatException($"multipart boundary of {boundary.Length} characters (RFC 2046: 1 to 70)");
        _body = body;
        _delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        _buffer = new byte[64 * 1024];
        // the first delimiter has no CRLF before it: start with one, so every delimiter reads the same
        _buffer[0] = (byte)'\r';
        _buffer[1] = (byte)'\n';
        _end = 2;
    }

    /// <summary>The boundary parameter of a multipart Content-Type, unquoted; null when it has none.</summary>
    public static string? Boundary(System.Net.Http.Headers.MediaTypeHeaderValue? contentType) =>
        contentType?.Parameters.FirstOrDefault(p => p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))?.Value?.Trim('"');

    /// <summary>
    /// Copies every part into a new file in <paramref name="folder"/> (named 000001.dcm, 000002.dcm, ... in order) and
    /// returns the files with their Content-Type.
    /// </summary>
    public async Task<IReadOnlyList<(string File, string? ContentType)>> SavePartsAsync(string folder, long maxPartBytes, CancellationToken cancellationToken)
    {
        var parts = new List<(string, string?)>();
        if (!await CopyUntilDelimiterAsync(null, long.MaxValue, cancellationToken))
            throw new FormatException("the multipart body has no boundary delimiter");
        while (true)
        {
            if (!await EnsureAsync(2, cancellationToken)) throw new FormatException("the multipart body ends after a delimiter");
            if (_buffer[_start] == '-' && _buffer[_start + 1] == '-') return parts; // close delimiter
            using var headerBytes = new MemoryStream();
            if (!await CopyUntilAsync("\r\n\r\n"u8.ToArray(), headerBytes, MaxHeaderBytes, cancellationToken))
                throw new FormatException("a multipart part's headers do not end");
            string? contentType = ContentType(Encoding.ASCII.GetString(headerBytes.ToArray()));
            string file = Path.Combine(folder, $"{parts.Count + 1:D6}.dcm");
            await using (var sink = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                if (!await CopyUntilDelimiterAsync(sink, maxPartBytes, cancellationToken))
                    throw new FormatException($"part {parts.Count + 1} of the multipart body is cut off (no closing boundary)");
            }
            parts.Add((file, contentType));
        }
    }

    private static string? ContentType(string headers) => headers
        .Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
        .Select(line => line.Split(':', 2))
        .Where(kv => kv.Length == 2 && kv[0].Trim().Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
        .Select(kv => kv[1].Trim())
        .FirstOrDefault();

    private Task<bool> CopyUntilDelimiterAsync(Stream? sink, long max, CancellationToken cancellationToken) =>
        CopyUntilAsync(_delimiter, sink, max, cancellationToken);

    /// <summary>Copies bytes up to <paramref name="marker"/> into the sink (null: skipped) and consumes the marker; false at the end of the body.</summary>
    private async Task<bool> CopyUntilAsync(byte[] marker, Stream? sink, long max, CancellationToken cancellationToken)
    {
        long copied = 0;
        while (true)
        {
            int found = _buffer.AsSpan(_start, _end - _start).IndexOf(marker);
            int take = found >= 0 ? found : Math.Max(0, _end - _start - (marker.Length - 1)); // keep what may be a marker's start
            copied += take;
            if (copied > max) throw new FormatException($"a multipart part is larger than the limit of {max} bytes");
            if (sink is not null && take > 0) await sink.WriteAsync(_buffer.AsMemory(_start, take), cancellationToken);
            _start += take;
            if (found >= 0)
            {
                _start += marker.Length;
                return true;
            }
            if (!await FillAsync(cancellationToken)) return false;
        }
    }

    private async Task<bool> EnsureAsync(int count, CancellationToken cancellationToken)
    {
        while (_end - _start < count)
            if (!await FillAsync(cancellationToken)) return false;
        return true;
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_eof) return false;
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        int read = await _body.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (read == 0) _eof = true;
        _end += read;
        return read > 0;
    }
}
