using Edu.Client;
using Edu.V1;
using Grpc.Core;

namespace Edu.Worker.Tests;

/// <summary>Runs one Segment call the way a client does and collects what comes back.</summary>
internal static class Segment
{
    public sealed record Outcome(List<Progress> Progress, SegmentResult? Result, Dictionary<string, byte[]> Files, SegmentStatus? Status);

    public static async Task<Outcome> RunAsync(SegmentationService.SegmentationServiceClient client, SegmentHeader header,
        IEnumerable<string> files, CancellationToken cancellationToken = default, DateTime? deadline = null)
    {
        using var call = client.Segment(deadline: deadline ?? DateTime.UtcNow.AddMinutes(3), cancellationToken: cancellationToken);
        var reading = ReadAsync(call.ResponseStream, cancellationToken);
        try
        {
            await call.RequestStream.WriteAsync(new SegmentRequest { Header = header }, cancellationToken);
            foreach (var file in files)
                await foreach (var chunk in FileChunks.ReadAsync(file, Path.GetFileName(file), 64 * 1024, cancellationToken))
                    await call.RequestStream.WriteAsync(new SegmentRequest { Chunk = chunk }, cancellationToken);
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException or HttpRequestException)
        {
            // the server ended the call early (an error status): the response stream says why. Which exception the write
            // throws depends on timing: with the CPU shared, the worker's reset of the stream (HTTP/2 STREAM_CLOSED) can
            // reach the client first, as an HttpRequestException; it used to escape here and fail the busy-answer test
        }
        return await reading;
    }

    public static async Task<Outcome> ReadAsync(IAsyncStreamReader<SegmentResponse> responses, CancellationToken cancellationToken)
    {
        var outcome = new Outcome([], null, [], null);
        var buffers = new Dictionary<string, MemoryStream>();
        SegmentResult? result = null;
        SegmentStatus? status = null;
        while (await responses.MoveNext(cancellationToken))
        {
            var r = responses.Current;
            switch (r.EventCase)
            {
                case SegmentResponse.EventOneofCase.Progress: outcome.Progress.Add(r.Progress); break;
                case SegmentResponse.EventOneofCase.Result: result = r.Result; break;
                case SegmentResponse.EventOneofCase.File:
                    if (!buffers.TryGetValue(r.File.FileName, out var ms)) buffers[r.File.FileName] = ms = new MemoryStream();
                    r.File.Data.WriteTo(ms);
                    break;
                case SegmentResponse.EventOneofCase.Status: status = r.Status; break;
            }
        }
        foreach (var (name, ms) in buffers) outcome.Files[name] = ms.ToArray();
        return outcome with { Result = result, Status = status };
    }
}
