using Edu.Client;
using Edu.Gateway.Routing;
using Edu.V1;
using Grpc.Net.Client;

namespace Edu.Gateway.Processing;

/// <summary>What segmenting one series brought back.</summary>
/// <param name="SegFile">The DICOM SEG.</param>
/// <param name="NiftiFile">The label volume as NIfTI, when the rule asked for it.</param>
/// <param name="WorkerSeconds">The worker's own time for the request.</param>
/// <param name="BusyReplies">Busy answers before it was served.</param>
public sealed record SegmentedSeries(string SegFile, string? NiftiFile, double WorkerSeconds, int BusyReplies);

/// <summary>Segments a series' files into a folder.</summary>
public interface ISeriesSegmenter
{
    /// <summary>Sends <paramref name="files"/> to the model of <paramref name="rule"/> and writes the results into <paramref name="outputFolder"/>.</summary>
    Task<SegmentedSeries> SegmentAsync(RouteRule rule, string seriesInstanceUid, IReadOnlyList<string> files, string outputFolder, CancellationToken cancellationToken);
}

/// <summary>
/// Segments on a worker over gRPC with <see cref="SegmentClient"/>: API key, the deadline of
/// <c>Gateway:Worker:DeadlineSeconds</c>, busy answers retried after the worker's <c>retry-after-ms</c> with jitter.
/// Other failures (the worker down: UNAVAILABLE) are the pipeline's to retry, with backoff.
/// </summary>
public sealed class WorkerSegmenter : ISeriesSegmenter, IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly SegmentClient _client;
    private readonly TimeSpan _deadline;

    /// <summary>A segmenter on the worker of <paramref name="settings"/>.</summary>
    public WorkerSegmenter(WorkerSettings settings)
    {
        var (channel, invoker) = EduChannel.Open(settings.Url, string.IsNullOrEmpty(settings.ApiKey) ? null : settings.ApiKey);
        _channel = channel;
        _client = new SegmentClient(invoker);
        _deadline = TimeSpan.FromSeconds(settings.DeadlineSeconds);
    }

    /// <inheritdoc />
    public async Task<SegmentedSeries> SegmentAsync(RouteRule rule, string seriesInstanceUid, IReadOnlyList<string> files, string outputFolder,
        CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outputFolder);
        var header = new SegmentHeader { Model = rule.Model, Version = rule.Version, Modality = rule.ModalityPlugin, SeriesInstanceUid = seriesInstanceUid };
        header.Outputs.Add(OutputKind.DicomSeg);
        if (!string.IsNullOrEmpty(rule.NiftiFolder)) header.Outputs.Add(OutputKind.Nifti);
        var outcome = await _client.SegmentAsync(header, files, name => File.Create(Path.Combine(outputFolder, name)), DateTime.UtcNow + _deadline,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        string? seg = outcome.Files.FirstOrDefault(f => f.EndsWith(".dcm", StringComparison.OrdinalIgnoreCase));
        if (seg is null) throw new InvalidOperationException("the worker's answer holds no DICOM SEG");
        string? nifti = outcome.Files.FirstOrDefault(f => f.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase));
        return new SegmentedSeries(Path.Combine(outputFolder, seg), nifti is null ? null : Path.Combine(outputFolder, nifti),
            outcome.Status.ElapsedSeconds, outcome.BusyReplies);
    }

    /// <inheritdoc />
    public void Dispose() => _channel.Dispose();
}
