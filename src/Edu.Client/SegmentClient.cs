using Edu.V1;
using Grpc.Core;

namespace Edu.Client;

/// <summary>
/// Runs <c>SegmentationService.Segment</c> calls the way every client of a worker should: the header goes first, and the
/// input files follow in 1 MiB chunks only once the worker has admitted the request (its first answer, progress
/// <c>upload</c> 0), so that a busy answer costs neither side an upload; an answer that comes before the upload finished (a busy worker, an
/// unknown model, a bad input) ends the upload quietly and is reported as the worker's status, never as the transport's
/// error on the write; a busy answer is retried after the worker's <c>retry-after-ms</c> hint with jitter, up to the
/// deadline, and an UNAVAILABLE before any result a few times with a short backoff (a proxy's answer while a worker behind it
/// closes) (<see cref="SegmentRetryPolicy"/>). Every other status is thrown as the <see cref="RpcException"/> the worker
/// sent (its status code, detail and trailers).
/// </summary>
public sealed class SegmentClient
{
    private readonly SegmentationService.SegmentationServiceClient _client;
    private readonly SegmentRetryPolicy _retry;
    private readonly int _chunkBytes;

    /// <summary>The progress stage by which the worker refuses a request before its status: end the request stream.</summary>
    public const string RefusedStage = "refused";

    /// <summary>Creates a client over <paramref name="invoker"/> (e.g. <see cref="EduChannel.Open"/>'s, which adds the API key).</summary>
    public SegmentClient(CallInvoker invoker, SegmentRetryPolicy? retry = null, int chunkBytes = FileChunks.DefaultChunkBytes)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        _client = new SegmentationService.SegmentationServiceClient(invoker);
        _retry = retry ?? SegmentRetryPolicy.Default;
        _chunkBytes = chunkBytes;
    }

    /// <summary>
    /// Segments <paramref name="files"/> (one image, or the DICOM files of one series) as <paramref name="header"/> asks.
    /// Each result file is written to the stream <paramref name="openResult"/> returns for its name (disposed here).
    /// Throws the worker's <see cref="RpcException"/> when it refuses or fails the request, the last busy answer when the
    /// deadline leaves no time for another try, and, when <paramref name="cancellationToken"/> is cancelled, an
    /// <see cref="RpcException"/> with status Cancelled (during a call) or an <see cref="OperationCanceledException"/>
    /// (while waiting to retry).
    /// </summary>
    public async Task<SegmentOutcome> SegmentAsync(SegmentHeader header, IReadOnlyList<string> files, Func<string, Stream> openResult, DateTime deadline,
        IProgress<SegmentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(openResult);
        if (files.Count == 0) throw new ArgumentException("at least one file to upload", nameof(files));
        deadline = deadline.ToUniversalTime(); // gRPC takes UTC deadlines
        long total = 0;
        foreach (var file in files) total += new FileInfo(file).Length;
        int busy = 0, unavailable = 0;
        bool resultsStarted = false;
        Stream OpenResult(string name)
        {
            resultsStarted = true;
            return openResult(name);
        }
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var (result, status, written) = await AttemptAsync(header, files, total, OpenResult, deadline, attempt, progress, cancellationToken).ConfigureAwait(false);
                return new SegmentOutcome(result, status, written, attempt, busy);
            }
            catch (RpcException e) when (Retryable(e, deadline) && !resultsStarted && unavailable < _retry.UnavailableRetries
                                         && !cancellationToken.IsCancellationRequested)
            {
                unavailable++;
                var delay = TimeSpan.FromMilliseconds(200 * Math.Pow(2, unavailable - 1) * (1 + _retry.Jitter * Random.Shared.NextDouble()));
                if (DateTime.UtcNow + delay >= deadline) throw;
                progress?.Report(new SegmentProgress("unavailable", 0, attempt, delay));
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e) when (_retry.RetryBusy && EduChannel.RetryAfter(e) is { } hint && attempt < _retry.MaxAttempts)
            {
                busy++;
                var delay = _retry.Delay(hint, Random.Shared);
                var last = _retry.RetryUntil is { } until && until.ToUniversalTime() < deadline ? until.ToUniversalTime() : deadline;
                if (DateTime.UtcNow + delay >= last) throw; // no time left for another try: the busy answer is the answer
                progress?.Report(new SegmentProgress("busy", 0, attempt, delay));
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // UNAVAILABLE: the call met no worker (a proxy's 502, a closing connection). DEADLINE_EXCEEDED before our own deadline:
    // the worker stopped waiting for an upload that did not reach it, as when a proxy lost the stream while a worker
    // behind it stopped. Both happen before any result, and segmenting has no side effects, so the whole call is tried again.
    private static bool Retryable(RpcException e, DateTime deadline) =>
        e.StatusCode == StatusCode.Unavailable || (e.StatusCode == StatusCode.DeadlineExceeded && DateTime.UtcNow < deadline);

    private async Task<(SegmentResult Result, SegmentStatus Status, List<string> Files)> AttemptAsync(SegmentHeader header, IReadOnlyList<string> files,
        long total, Func<string, Stream> openResult, DateTime deadline, int attempt, IProgress<SegmentProgress>? progress, CancellationToken cancellationToken)
    {
        using var call = _client.Segment(deadline: deadline, cancellationToken: cancellationToken);
        var answered = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var refused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = ReadAsync(call.ResponseStream, openResult, attempt, progress, answered, refused, cancellationToken);
        try
        {
            await UploadAsync(call.RequestStream, header, files, total, attempt, progress, answered.Task, refused.Task, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // a local failure (a file that cannot be read, the caller's cancellation): end the call, then let the reader finish
            call.Dispose();
            try { await reading.ConfigureAwait(false); } catch (Exception) { /* the local failure is the one to report */ }
            throw;
        }
        return await reading.ConfigureAwait(false);
    }

    // Sends the header, waits for the worker's first answer, then sends every chunk and half-closes. Refused (busy, a bad
    // request), it half-closes at once, so that the worker can end the call cleanly; the status and trailers then come
    // through the response stream. A write that fails means the worker ended the call: its answer is on the way.
    private async Task UploadAsync(IClientStreamWriter<SegmentRequest> requests, SegmentHeader header, IReadOnlyList<string> files, long total,
        int attempt, IProgress<SegmentProgress>? progress, Task<bool> admitted, Task refused, CancellationToken cancellationToken)
    {
        if (!await TryWriteAsync(requests, new SegmentRequest { Header = header }, cancellationToken).ConfigureAwait(false)) return;
        if (!await admitted.WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            await TryCompleteAsync(requests, cancellationToken).ConfigureAwait(false);
            return;
        }
        long sent = 0;
        foreach (var file in files)
            await foreach (var chunk in FileChunks.ReadAsync(file, Path.GetFileName(file), _chunkBytes, cancellationToken).ConfigureAwait(false))
            {
                if (refused.IsCompleted) // e.g. over the worker's upload limit: stop sending, end the stream
                {
                    await TryCompleteAsync(requests, cancellationToken).ConfigureAwait(false);
                    return;
                }
                if (!await TryWriteAsync(requests, new SegmentRequest { Chunk = chunk }, cancellationToken).ConfigureAwait(false)) return;
                sent += chunk.Data.Length;
                progress?.Report(new SegmentProgress("upload", total == 0 ? 1 : (double)sent / total, attempt));
            }
        await TryCompleteAsync(requests, cancellationToken).ConfigureAwait(false);
    }

    private static async Task TryCompleteAsync(IClientStreamWriter<SegmentRequest> requests, CancellationToken cancellationToken)
    {
        try
        {
            await requests.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (EndedByWorker(e, cancellationToken))
        {
            // answered already
        }
    }

    private static async Task<bool> TryWriteAsync(IClientStreamWriter<SegmentRequest> requests, SegmentRequest message, CancellationToken cancellationToken)
    {
        try
        {
            await requests.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (EndedByWorker(e, cancellationToken))
        {
            return false;
        }
    }

    // A write fails once the worker has ended the call (its status is on the way, or here): Grpc.Net.Client says so with an
    // RpcException (Cancelled, or the call's status), an InvalidOperationException (the call is complete) or an IOException;
    // a connection that closed under the call (a proxy's GOAWAY after its request limit, a reset stream) with an
    // HttpRequestException. Either way the response stream has the call's outcome, as a status the caller can act on.
    private static bool EndedByWorker(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && e is RpcException or InvalidOperationException or IOException or OperationCanceledException or HttpRequestException;

    // Reads every answer; `admitted` completes at the first one: true for admission (progress "upload" 0), false when the
    // worker refused the request (progress "refused", its status follows) or the call ended without any answer.
    private static async Task<(SegmentResult Result, SegmentStatus Status, List<string> Files)> ReadAsync(IAsyncStreamReader<SegmentResponse> responses,
        Func<string, Stream> openResult, int attempt, IProgress<SegmentProgress>? progress, TaskCompletionSource<bool> admitted, TaskCompletionSource refused,
        CancellationToken cancellationToken)
    {
        SegmentResult? result = null;
        SegmentStatus? status = null;
        var names = new List<string>();
        var streams = new Dictionary<string, Stream>(StringComparer.Ordinal);
        try
        {
            while (await responses.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                var r = responses.Current;
                bool refusal = r.EventCase == SegmentResponse.EventOneofCase.Progress && r.Progress.Stage == RefusedStage;
                admitted.TrySetResult(!refusal);
                if (refusal) refused.TrySetResult();
                switch (r.EventCase)
                {
                    case SegmentResponse.EventOneofCase.Progress when r.Progress.Stage is "upload" or RefusedStage:
                        break; // the upload's progress is the client's to tell; a refusal's status follows
                    case SegmentResponse.EventOneofCase.Progress:
                        progress?.Report(new SegmentProgress(r.Progress.Stage, r.Progress.Fraction, attempt));
                        break;
                    case SegmentResponse.EventOneofCase.Result:
                        result = r.Result;
                        break;
                    case SegmentResponse.EventOneofCase.File:
                        string name = Path.GetFileName(r.File.FileName);
                        if (name.Length == 0 || (result is not null && !result.Files.Contains(name)))
                            throw new RpcException(new Status(StatusCode.Internal, $"the worker sent a result file '{r.File.FileName}' its result header does not list"));
                        if (!streams.TryGetValue(name, out var stream))
                        {
                            streams[name] = stream = openResult(name);
                            names.Add(name);
                        }
                        await stream.WriteAsync(r.File.Data.Memory, cancellationToken).ConfigureAwait(false);
                        break;
                    case SegmentResponse.EventOneofCase.Status:
                        status = r.Status;
                        break;
                }
            }
        }
        finally
        {
            admitted.TrySetResult(false);
            foreach (var stream in streams.Values) await stream.DisposeAsync().ConfigureAwait(false);
        }
        if (result is null || status is not { Ok: true })
            throw new RpcException(new Status(StatusCode.Internal, $"the worker ended the call without a result ({status?.Message ?? "no status"})"));
        return (result, status, names);
    }
}
