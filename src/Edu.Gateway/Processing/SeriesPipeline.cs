using System.Diagnostics;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Logging;
using Edu.Dicom;
using Edu.Dicom.Web;
using Edu.Gateway.Export;
using Edu.Gateway.Routing;
using Edu.Gateway.State;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Edu.Gateway.Processing;

/// <summary>Where the time of one stored series went.</summary>
/// <param name="FetchSeconds">WADO-RS retrieval from the PACS (0 for series the gateway received itself).</param>
/// <param name="SegmentSeconds">The segmentation call: upload, the worker's work, the results back.</param>
/// <param name="WorkerSeconds">The worker's own time within it.</param>
/// <param name="ExportSeconds">Storing the SEG into the PACS.</param>
/// <param name="SinceLastInstanceSeconds">From the series' last instance arriving to the SEG stored (quiet time included).</param>
public sealed record SeriesTimings(double FetchSeconds, double SegmentSeconds, double WorkerSeconds, double ExportSeconds, double SinceLastInstanceSeconds);

/// <summary>Hears what the pipeline does (metrics).</summary>
public interface IPipelineObserver
{
    /// <summary>A series was routed or skipped.</summary>
    void Routed(SeriesRecord row);

    /// <summary>A series' SEG is stored.</summary>
    void Stored(SeriesRecord row, SeriesTimings timings);

    /// <summary>An attempt failed (the row says whether it goes to the dead letters).</summary>
    void Failed(SeriesRecord row);
}

/// <summary>
/// The gateway's one direction of work: received series that are quiet are routed; routed ones are claimed one at a
/// time per slot, fetched (WADO-RS, unless the gateway received them itself), segmented on the worker, and their SEG
/// exported into the source study. The SEG is recorded in the state file before it is exported, so an attempt after a
/// failure or a restart exports the same SEG (same SOP Instance UID: one SEG in the PACS) instead of segmenting again.
/// Logs carry hashed UIDs only.
/// </summary>
public sealed class SeriesPipeline(GatewayOptions options, GatewayStateStore state, SeriesRouter router, ISeriesSegmenter segmenter,
    ISegExporter exporter, DicomWebClient? pacs, ILogger log, IPipelineObserver? observer = null)
{
    private readonly string _work = Path.Combine(Path.GetFullPath(options.DataPath), "work");

    /// <summary>Routes every series that is ready; returns how many.</summary>
    public int RouteQuietSeries()
    {
        var quiet = state.QuietSeries(TimeSpan.FromSeconds(options.QuietSeconds));
        foreach (var row in quiet)
        {
            var facts = JsonSerializer.Deserialize<SeriesFacts>(row.FactsJson)!;
            var decision = router.Route(facts);
            var routed = state.Route(row.Id, decision);
            if (routed.Id != row.Id)
            {
                log.LogInformation("Series {Series}: already {State} for {Model} {Version}; not sent again", LogRedaction.Hash(row.SeriesInstanceUid), routed.State, routed.Model, routed.Version);
                if (routed.State == SeriesState.Stored) DeleteQuietly(row.LocalFolder);
            }
            else if (decision.IsRouted)
                log.LogInformation("Series {Series} ({Modality}) routed by rule {Rule} to {Model} {Version}", LogRedaction.Hash(row.SeriesInstanceUid), facts.Modality, routed.Rule, routed.Model, routed.Version);
            else
            {
                log.LogInformation("Series {Series} ({Modality}) skipped: {Reason}", LogRedaction.Hash(row.SeriesInstanceUid), facts.Modality, decision.SkipReason);
                DeleteQuietly(row.LocalFolder);
            }
            observer?.Routed(routed);
        }
        return quiet.Count;
    }

    /// <summary>Claims and processes routed series until none is left; returns how many it took.</summary>
    public async Task<int> ProcessAvailableAsync(CancellationToken cancellationToken)
    {
        int done = 0;
        while (!cancellationToken.IsCancellationRequested && state.ClaimNext() is { } row)
        {
            await ProcessAsync(row, cancellationToken).ConfigureAwait(false);
            done++;
        }
        return done;
    }

    /// <summary>One attempt at one claimed series; its outcome is in the state file.</summary>
    public async Task ProcessAsync(SeriesRecord row, CancellationToken cancellationToken)
    {
        string series = LogRedaction.Hash(row.SeriesInstanceUid);
        string work = Path.Combine(_work, row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            var rule = options.Routes.FirstOrDefault(r => r.Name == row.Rule)
                ?? throw new InvalidInputException($"rule '{row.Rule}'", "is no longer in Gateway:Routes");
            double fetch = 0, segment = 0, worker = 0;
            if (row.SegFile.Length == 0 || !File.Exists(row.SegFile))
            {
                var clock = Stopwatch.StartNew();
                var files = await SeriesFilesAsync(row, Path.Combine(work, "input"), cancellationToken).ConfigureAwait(false);
                fetch = clock.Elapsed.TotalSeconds;
                clock.Restart();
                var result = await segmenter.SegmentAsync(rule, row.SeriesInstanceUid, files, Path.Combine(work, "output"), cancellationToken).ConfigureAwait(false);
                segment = clock.Elapsed.TotalSeconds;
                worker = result.WorkerSeconds;
                var seg = DicomStructure.Validate(result.SegFile);
                string segUid = seg.Text.TryGetValue(0x00080018, out var uid) ? uid : throw new InvalidOperationException("the worker's SEG has no SOP Instance UID");
                if (result.NiftiFile is not null && !string.IsNullOrEmpty(rule.NiftiFolder))
                {
                    Directory.CreateDirectory(rule.NiftiFolder);
                    string target = Path.Combine(rule.NiftiFolder, $"{row.SeriesInstanceUid}_seg.nii.gz");
                    File.Copy(result.NiftiFile, target + ".partial", overwrite: true);
                    File.Move(target + ".partial", target, overwrite: true);
                }
                row = state.RecordSeg(row.Id, result.SegFile, segUid);
                log.LogInformation("Series {Series}: segmented by {Model} in {Seconds:0.0} s (fetch {Fetch:0.0} s)", series, row.Model, segment, fetch);
            }
            var exportClock = Stopwatch.StartNew();
            await exporter.ExportAsync(row.SegFile, row.StudyInstanceUid, cancellationToken).ConfigureAwait(false);
            if (pacs is not null && options.Export.VerifyStored) await VerifyStoredAsync(row, cancellationToken).ConfigureAwait(false);
            double export = exportClock.Elapsed.TotalSeconds;
            var timings = new SeriesTimings(fetch, segment, worker, export,
                (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - row.LastActivityUnixMs) / 1000.0);
            var stored = state.MarkStored(row.Id, row.SegInstanceUid, JsonSerializer.Serialize(timings));
            log.LogInformation("Series {Series}: SEG {Seg} stored ({Exporter}); {Total:0.0} s after its last instance", series, LogRedaction.Hash(row.SegInstanceUid),
                exporter.Describe(), timings.SinceLastInstanceSeconds);
            observer?.Stored(stored, timings);
            DeleteQuietly(work);
            DeleteQuietly(row.LocalFolder);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw; // stopping: the row stays segmenting and is routed again at the next start
        }
        catch (Exception e)
        {
            var (message, permanent) = Classify(e);
            var failed = state.MarkFailed(row.Id, message, options.MaxAttempts, options.RetryDelay(row.Attempts), permanent);
            if (failed.State == SeriesState.DeadLetter)
                log.LogError("Series {Series}: attempt {Attempt} failed, dead-lettered ({Why}): {Error}", series, row.Attempts, permanent ? "permanent error" : "no attempts left", message);
            else
                log.LogWarning("Series {Series}: attempt {Attempt} failed, next in {Delay:0} s: {Error}", series, row.Attempts, options.RetryDelay(row.Attempts).TotalSeconds, message);
            observer?.Failed(failed);
            if (row.SegFile.Length == 0) DeleteQuietly(Path.Combine(work, "input")); // the SEG, if made, stays for the next attempt
        }
    }

    // A PACS can answer "stored" for an instance it then does not keep (Orthanc's DICOMweb plugin 1.7 does, when a Lua
    // filter drops it): the SEG counts as stored only once QIDO-RS finds it.
    private async Task VerifyStoredAsync(SeriesRecord row, CancellationToken cancellationToken)
    {
        string segSeries = DicomStructure.Validate(row.SegFile).Text.GetValueOrDefault(0x0020000Eu, "");
        var instances = await pacs!.SearchInstancesAsync(row.StudyInstanceUid, segSeries, cancellationToken).ConfigureAwait(false);
        if (!instances.Any(i => i.GetString(0x00080018) == row.SegInstanceUid))
            throw new ExportException($"the PACS answered the export with success but does not hold the SEG (QIDO-RS finds no instance {LogRedaction.Hash(row.SegInstanceUid)}): a filter or rule in the PACS may drop it");
    }

    private async Task<IReadOnlyList<string>> SeriesFilesAsync(SeriesRecord row, string folder, CancellationToken cancellationToken)
    {
        if (row.LocalFolder.Length > 0)
        {
            var local = Directory.Exists(row.LocalFolder) ? Directory.GetFiles(row.LocalFolder, "*.dcm").Order(StringComparer.Ordinal).ToList() : [];
            return local.Count > 0 ? local : throw new InvalidInputException($"series {LogRedaction.Hash(row.SeriesInstanceUid)}", "its received files are gone from the spool");
        }
        if (pacs is null) throw new InvalidInputException($"series {LogRedaction.Hash(row.SeriesInstanceUid)}", "is in the PACS but Gateway:Pacs:DicomWebUrl is not set");
        DeleteQuietly(folder);
        return await pacs.RetrieveSeriesAsync(row.StudyInstanceUid, row.SeriesInstanceUid, folder, cancellationToken).ConfigureAwait(false);
    }

    // Permanent: trying again cannot help (the request or the data is wrong); everything else is retried with backoff.
    private static (string Message, bool Permanent) Classify(Exception e) => e switch
    {
        RpcException r => ($"worker: {r.StatusCode}: {LogRedaction.Uids(r.Status.Detail)}",
            r.StatusCode is StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.FailedPrecondition or StatusCode.Unimplemented
                or StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.OutOfRange),
        DicomWebException d => ($"PACS: {LogRedaction.Uids(d.Message)}", !d.IsTransient),
        ExportException x => (LogRedaction.Uids(x.Message), false),
        InvalidInputException i => (LogRedaction.Uids(i.Message), true),
        _ => ($"{e.GetType().Name}: {LogRedaction.Uids(e.Message)}", false),
    };

    private static void DeleteQuietly(string path)
    {
        if (string.IsNullOrEmpty(path)) return;
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // left for the operator; it never blocks the next series
        }
    }
}
