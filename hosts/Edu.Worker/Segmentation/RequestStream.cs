using System.Diagnostics;
using System.Globalization;
using Edu.V1;
using Edu.Worker.Errors;
using Grpc.Core;

namespace Edu.Worker.Segmentation;

/// <summary>
/// A Segment call's request stream: each read waits at most the idle limit (then <see cref="UploadStalledException"/>);
/// a client that resets the stream ends the call as <see cref="ClientGoneException"/>; and it knows whether the client
/// has half-closed it. <see cref="DrainAsync"/> reads what the client is still sending after the worker refused the
/// request, until the client ends its stream, briefly. Kestrel keeps a stream the client has neither ended nor reset
/// for up to 5 s after the call; past 200 of them on one connection it refuses new streams (ENHANCE_YOUR_CALM, which
/// clients report as RESOURCE_EXHAUSTED without a retry hint), then closes the connection, which every call on it sees
/// as UNAVAILABLE.
/// </summary>
internal sealed class RequestStream
{
    /// <summary>The most a drain reads after an early answer.</summary>
    public const int DrainBytes = 4 * 1024 * 1024;

    /// <summary>The longest a drain waits for the client's end of stream.</summary>
    public static readonly TimeSpan DrainTime = TimeSpan.FromMilliseconds(250);

    private readonly IAsyncStreamReader<SegmentRequest> _reader;
    private readonly TimeSpan _idle;

    public RequestStream(IAsyncStreamReader<SegmentRequest> reader, TimeSpan idle)
    {
        _reader = reader;
        _idle = idle;
    }

    /// <summary>Whether the client half-closed the stream (a read returned false).</summary>
    public bool Ended { get; private set; }

    public SegmentRequest Current => _reader.Current;

    /// <summary>The next message, or false at the end of the stream; a client silent for the idle limit ends the call.</summary>
    public async Task<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(_idle);
        try
        {
            bool more = await _reader.MoveNext(idle.Token).ConfigureAwait(false);
            if (!more) Ended = true;
            return more;
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ClientGoneException(e); // a reset stream or a closed connection, seen before the call's token is set
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new UploadStalledException(string.Create(CultureInfo.InvariantCulture,
                $"no message for {_idle.TotalSeconds:0.#} s (Worker:UploadIdleSeconds): send the header, every chunk, then end (half-close) the request stream"));
        }
    }

    /// <summary>Reads and drops the rest of the stream, at most <see cref="DrainBytes"/> and <see cref="DrainTime"/>; true when it ended.</summary>
    public async Task<bool> DrainAsync(CancellationToken cancellationToken)
    {
        if (Ended) return true;
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(DrainTime);
        try
        {
            while (bytes < DrainBytes && clock.Elapsed < DrainTime)
            {
                if (!await _reader.MoveNext(limit.Token).ConfigureAwait(false))
                {
                    Ended = true;
                    return true;
                }
                bytes += _reader.Current.CalculateSize();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException or RpcException)
        {
            // the drain is a courtesy to the connection: the client went away or is slow; the answer stands either way
        }
        return false;
    }
}
