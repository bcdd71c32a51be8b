using System.Diagnostics;
using System.Threading.Channels;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Client;
using Edu.Dicom;
using Edu.Imaging;
using Edu.Imaging.Rendering;
using Edu.Inference;
using Edu.Inference.Output;
using Edu.Plugins;
using Edu.V1;
using Edu.Worker.Configuration;
using Edu.Worker.Errors;
using Edu.Worker.Metrics;
using Edu.Worker.Models;
using Edu.Abstractions.Logging;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Edu.Worker.Segmentation;

/// <summary>
/// One Segment call: header → model lookup → admission (never waits: a full queue is answered at once, before the upload
/// is read) → upload into a private temp folder (size and file limits, an idle limit) → the queue, first come first served,
/// until a slot is free (at most the wait limit) → in the slot: read (one image file, or a DICOM series from several
/// files), predict on the worker's device, write the result files → result header (labels, geometry, voxels and ml per
/// label) → result files in chunks → status. Everything runs under the call's cancellation token (client cancel or
/// deadline). An answer that comes before the client ended its stream reads what is still coming for a moment first
/// (<see cref="RequestStream.DrainAsync"/>), so that the stream closes cleanly and the connection stays up.
/// </summary>
public sealed class SegmentationEngine
{
    /// <summary>Result file names.</summary>
    public const string NiftiFile = "labels.nii.gz", MaskFile = "mask.png", OverlayFile = "overlay.png", DicomSegFile = "segmentation.dcm";

    private readonly WorkerOptions _options;
    private readonly ModelStore _models;
    private readonly SegmentationGate _gate;
    private readonly InferenceThreads _inference;
    private readonly PluginCatalog _plugins;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger<SegmentationEngine> _logger;
    private readonly ImageReaderRegistry _readers;
    private readonly ImageWriterRegistry _writers = ImageWriterRegistry.CreateDefault();

    /// <summary>Creates the engine.</summary>
    public SegmentationEngine(IOptions<WorkerOptions> options, ModelStore models, SegmentationGate gate, InferenceThreads inference,
        PluginCatalog plugins, WorkerMetrics metrics, ILogger<SegmentationEngine> logger)
    {
        _inference = inference;
        _options = options.Value;
        _models = models;
        _gate = gate;
        _plugins = plugins;
        _metrics = metrics;
        _logger = logger;
        _readers = ImageReaderRegistry.CreateDefault([.. plugins.Readers, new DicomImageReader()]);
    }

    /// <summary>Runs the call: reads <paramref name="requests"/>, writes every response through <paramref name="responses"/>.</summary>
    public async Task RunAsync(IAsyncStreamReader<SegmentRequest> requests, IServerStreamWriter<SegmentResponse> responses, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(responses);
        var stream = new RequestStream(requests, TimeSpan.FromSeconds(_options.UploadIdleSeconds));
        try
        {
            await RunCoreAsync(stream, responses, cancellationToken).ConfigureAwait(false);
        }
        catch (EduException e) when (!cancellationToken.IsCancellationRequested)
        {
            if (e is WorkerBusyException busy) _metrics.SegmentationRejected(busy.Reason);
            if (!stream.Ended && e is not (UploadStalledException or ClientGoneException))
            {
                // Refused while the client's stream is open: say so, and end the call only once the client has ended its
                // stream too. Kestrel holds every stream the client has not ended for up to 5 s, and past 200 of them on one
                // connection it refuses new ones (ENHANCE_YOUR_CALM), then closes the connection: UNAVAILABLE for every
                // call on it (docs/worker.md).
                await TryWriteRefusedAsync(responses, cancellationToken).ConfigureAwait(false);
                await stream.DrainAsync(cancellationToken).ConfigureAwait(false);
            }
            throw;
        }
    }

    /// <summary>The progress stage that tells a client its request is refused and the status follows once it ends its stream.</summary>
    public const string RefusedStage = "refused";

    private static async Task TryWriteRefusedAsync(IServerStreamWriter<SegmentResponse> responses, CancellationToken cancellationToken)
    {
        try
        {
            await responses.WriteAsync(new SegmentResponse { Progress = new Edu.V1.Progress { Stage = RefusedStage, Fraction = 1 } }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException)
        {
            // the client went away: the status goes nowhere either
        }
    }

    private async Task RunCoreAsync(RequestStream requests, IServerStreamWriter<SegmentResponse> responses, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (!await requests.MoveNextAsync(cancellationToken).ConfigureAwait(false))
            throw new InvalidInputException("request", "the stream ended before the header");
        if (requests.Current.PayloadCase != SegmentRequest.PayloadOneofCase.Header)
            throw new InvalidInputException("request", "the first message must be a SegmentHeader (model, outputs, options), then the file chunks");
        var header = requests.Current.Header;
        var outputs = CheckHeader(header);
        var entry = _models.Resolve(header.Model, header.Version);
        if (!string.IsNullOrEmpty(header.Modality) && entry.Manifest.Modality is { Length: > 0 } m && m != header.Modality)
            throw new InvalidInputException("modality", $"'{header.Modality}' does not match model '{entry.Name}' (trained on '{m}')");

        using var admission = _gate.Admit($"{entry.Name}/{entry.Version}");

        // one writer for the response stream: progress comes from the inference thread
        var channel = Channel.CreateBounded<SegmentResponse>(new BoundedChannelOptions(64) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        var pump = PumpAsync(channel.Reader, responses, cancellationToken);
        long stage;
        try
        {
            stage = await SegmentAsync(header, outputs, entry, requests, admission, channel.Writer, clock, cancellationToken).ConfigureAwait(false);
            channel.Writer.Complete();
        }
        catch (Exception e)
        {
            channel.Writer.TryComplete(e);
            try { await pump.ConfigureAwait(false); } catch (Exception) { /* the original exception wins */ }
            throw;
        }
        await pump.ConfigureAwait(false);
        _metrics.SegmentStage("send", stage);
    }

    private static async Task PumpAsync(ChannelReader<SegmentResponse> reader, IServerStreamWriter<SegmentResponse> responses, CancellationToken cancellationToken)
    {
        await foreach (var response in reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            await responses.WriteAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private static List<OutputKind> CheckHeader(SegmentHeader header)
    {
        if (string.IsNullOrWhiteSpace(header.Model))
            throw new InvalidInputException("header.model", "no model name given");
        var outputs = header.Outputs.Distinct().ToList();
        if (outputs.Contains(OutputKind.Unspecified))
            throw new InvalidInputException("header.outputs", "OUTPUT_KIND_UNSPECIFIED is not an output; use NIFTI, PNG_MASK, OVERLAY or DICOM_SEG");
        if (header.Options is { } o && (o.Overlap < 0 || o.Overlap > 0.9 || double.IsNaN(o.Overlap)))
            throw new InvalidInputException("header.options.overlap", $"{o.Overlap} is outside 0..0.9");
        return outputs;
    }

    // Returns the timestamp at which the last stage (sending the results) began.
    private async Task<long> SegmentAsync(SegmentHeader header, List<OutputKind> outputs, ModelEntry entry, RequestStream requests, Admission admission,
        ChannelWriter<SegmentResponse> responses, Stopwatch clock, CancellationToken cancellationToken)
    {
        long stage = Stopwatch.GetTimestamp();
        string tempRoot = Path.Combine(Path.GetFullPath(_options.DataPath), "tmp");
        using var spool = new UploadSpool(Path.Combine(tempRoot, Guid.NewGuid().ToString("N")), _options.MaxUploadBytes, _options.MaxUploadFiles,
            allowSubfolders: false, _metrics);
        string inputDir = spool.Root;
        await Progress(responses, "upload", 0, cancellationToken).ConfigureAwait(false);
        while (await requests.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            var message = requests.Current;
            if (message.PayloadCase != SegmentRequest.PayloadOneofCase.Chunk)
                throw new InvalidInputException("request", "a second header arrived; send one header, then file chunks");
            await spool.AddAsync(message.Chunk, cancellationToken).ConfigureAwait(false);
        }
        await spool.CompleteAsync().ConfigureAwait(false);
        await Progress(responses, "upload", 1, cancellationToken).ConfigureAwait(false);
        stage = _metrics.SegmentStage("upload", stage);

        // the upload is on disk: wait for a slot (first come, first served), then read, predict and write in it
        await Progress(responses, "queue", 0, cancellationToken).ConfigureAwait(false);
        await admission.WaitForSlotAsync(cancellationToken).ConfigureAwait(false);
        await Progress(responses, "queue", 1, cancellationToken).ConfigureAwait(false);
        stage = _metrics.SegmentStage("admission", stage);

        await Progress(responses, "read", 0, cancellationToken).ConfigureAwait(false);
        var image = await ReadInputAsync(spool, header.SeriesInstanceUid, cancellationToken).ConfigureAwait(false);
        if (outputs.Contains(OutputKind.PngMask) && image.Size.Z > 1)
            throw new InvalidInputException("header.outputs", $"a PNG mask holds one 2-D image, but the input has {image.Size.Z} slices; ask for NIFTI (and OVERLAY for a picture)");
        string? dicomSource = DicomSource(spool, header.SeriesInstanceUid);
        if (outputs.Contains(OutputKind.DicomSeg) && dicomSource is null)
            throw new InvalidInputException("header.outputs", "DICOM_SEG references the source images: upload DICOM files (one image or one series), or ask for NIFTI");
        _logger.LogInformation("Segment: {Files} file(s), {Bytes} bytes, size {Size}, series {Series}, model {Model} {Version}",
            spool.Files.Count, spool.Bytes, image.Size, LogRedaction.Hash(image.Metadata.GetValueOrDefault("SeriesInstanceUID")), entry.Name, entry.Version);
        await Progress(responses, "read", 1, cancellationToken).ConfigureAwait(false);
        stage = _metrics.SegmentStage("read", stage);

        Prediction prediction;
        using (var lease = await _models.AcquireAsync(entry, cancellationToken).ConfigureAwait(false))
        {
            await Progress(responses, "inference", 0, cancellationToken).ConfigureAwait(false);
            var options = new PredictorOptions
            {
                Device = _options.Device,
                FlipTta = header.Options?.Tta ?? false,
                Overlap = header.Options is { Overlap: > 0 } o ? o.Overlap : new PredictorOptions().Overlap,
            };
            using var predictor = Predictor.Create(lease.Model.Network, entry.Manifest, options, _plugins.PreprocessingSteps);
            var progress = new SyncProgress<PredictionProgress>(p =>
                responses.TryWrite(new SegmentResponse { Progress = new Edu.V1.Progress { Stage = "inference", Fraction = p.Fraction } }));
            prediction = await _inference.RunAsync(() => predictor.Predict(image, cancellationToken, progress), cancellationToken).ConfigureAwait(false);
        }
        await Progress(responses, "inference", 1, cancellationToken).ConfigureAwait(false);
        stage = _metrics.SegmentStage("inference", stage);

        var files = new List<string>();
        foreach (var output in outputs)
        {
            string name = output switch
            {
                OutputKind.Nifti => NiftiFile,
                OutputKind.PngMask => MaskFile,
                OutputKind.DicomSeg => DicomSegFile,
                _ => OverlayFile,
            };
            string path = Path.Combine(inputDir, "out-" + name);
            await Task.Run(() =>
            {
                if (output == OutputKind.Overlay) OverlayRenderer.WritePng(image, prediction.Labels, path, null, cancellationToken);
                else if (output == OutputKind.DicomSeg) // reads the uploaded headers with our own parser, never GDCM: no isolation needed
                    WriteDicomSeg(prediction, entry, spool, dicomSource!, header.SeriesInstanceUid, path, cancellationToken);
                else _writers.Write(prediction.Labels, path, cancellationToken);
            }, cancellationToken).ConfigureAwait(false);
            files.Add(name);
        }

        stage = _metrics.SegmentStage("write", stage);
        admission.Complete(); // the slot goes to the next request while this one's results are sent

        var result = new SegmentResult
        {
            Model = entry.Name,
            Version = entry.Version,
            Modality = entry.Manifest.Modality ?? "",
            Geometry = ToMessage(prediction.Labels.Geometry),
        };
        result.Labels.AddRange(prediction.Statistics.Select(s => new Edu.V1.LabelStatistics { Value = s.Label, Name = s.Name, Voxels = s.Voxels, VolumeMl = s.VolumeMl }));
        result.Files.AddRange(files);
        await responses.WriteAsync(new SegmentResponse { Result = result }, cancellationToken).ConfigureAwait(false);
        foreach (var name in files)
            await foreach (var chunk in FileChunks.ReadAsync(Path.Combine(inputDir, "out-" + name), name, _options.ChunkBytes, cancellationToken).ConfigureAwait(false))
                await responses.WriteAsync(new SegmentResponse { File = chunk }, cancellationToken).ConfigureAwait(false);
        await responses.WriteAsync(new SegmentResponse
        {
            Status = new SegmentStatus { Ok = true, Message = $"segmented with {entry.Name} {entry.Version}", ElapsedSeconds = clock.Elapsed.TotalSeconds },
        }, cancellationToken).ConfigureAwait(false);
        return stage;
    }

    // A SEG the uploaded headers refuse (no study UID, labels off the series' geometry) is the upload's fault: the
    // client is told without the worker's temp path, the log without the client's file names.
    private static void WriteDicomSeg(Prediction prediction, ModelEntry entry, UploadSpool spool, string source, string seriesUid, string path,
        CancellationToken cancellationToken)
    {
        try
        {
            PredictionWriter.WriteDicomSeg(prediction, entry.Manifest, source,
                Directory.Exists(source) && !string.IsNullOrEmpty(seriesUid) ? seriesUid : null, path, cancellationToken);
        }
        catch (InvalidInputException e) when (e.Input.Contains(spool.Root, StringComparison.Ordinal) || e.Problem.Contains(spool.Root, StringComparison.Ordinal))
        {
            string input = Path.GetFileName(e.Input) is { Length: > 0 } name && spool.Files.Contains(name) ? name : "DICOM upload";
            string problem = e.Problem.Replace(spool.Root + Path.DirectorySeparatorChar, "", StringComparison.Ordinal).Replace(spool.Root, "", StringComparison.Ordinal);
            throw new UploadInputException(input, problem, LogRedaction.Names(problem, spool.Files), e);
        }
    }

    // Whether an uploaded file is an image some reader other than DICOM's claims (by extension or header bytes).
    private bool IsOtherImage(string path)
    {
        try
        {
            return _readers.Resolve(path) is not DicomImageReader;
        }
        catch (InvalidInputException)
        {
            return false; // not an image at all: the series reader says what is wrong with it
        }
    }

    // The uploaded DICOM the image came from (the one file, or the folder of a series), or null for other formats.
    private string? DicomSource(UploadSpool spool, string seriesUid)
    {
        bool oneFile = spool.Files.Count == 1 && string.IsNullOrEmpty(seriesUid);
        if (!oneFile) return spool.Root; // read as a DICOM series
        string file = spool.PathOf(spool.Files[0]);
        return _readers.Resolve(file) is DicomImageReader ? file : null;
    }

    private async Task<ImageVolume> ReadInputAsync(UploadSpool spool, string seriesUid, CancellationToken cancellationToken)
    {
        bool oneFile = spool.Files.Count == 1 && string.IsNullOrEmpty(seriesUid);
        string input = oneFile ? spool.PathOf(spool.Files[0]) : spool.Root;
        if (!oneFile && spool.Files.Where(f => IsOtherImage(spool.PathOf(f))).ToList() is { Count: > 0 } images)
        {
            string problem = $"{spool.Files.Count} files were uploaded and {string.Join(", ", images.Take(3))}{(images.Count > 3 ? ", …" : "")} "
                + $"{(images.Count == 1 ? "is an image" : "are images")} in a format other than DICOM: send one image per call (several files are read as the DICOM files of one series)";
            throw new UploadInputException("upload", problem, LogRedaction.Names(problem, spool.Files));
        }
        try
        {
            if (oneFile)
            {
                var reader = _readers.Resolve(input);
                if (reader is not DicomImageReader || !_options.IsolateDicomDecoding)
                    return await Task.Run(() => reader.Read(input, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            else if (!_options.IsolateDicomDecoding)
                return await Task.Run(() => DicomSeriesReader.Read(spool.Root, string.IsNullOrEmpty(seriesUid) ? null : seriesUid, cancellationToken),
                    cancellationToken).ConfigureAwait(false);
            return await IsolatedDicomDecoder.ReadAsync(input, seriesUid, spool.Root + ".decoded", cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidInputException e) when (e.Input.Contains(spool.Root, StringComparison.Ordinal))
        {
            // name the file as the client sent it, not the worker's temp path; the log gets the client's file names hashed
            string problem = oneFile ? e.Problem : e.Problem.Replace(spool.Root, "", StringComparison.Ordinal);
            throw new UploadInputException(oneFile ? spool.Files[0] : "DICOM upload", problem, LogRedaction.Names(problem, spool.Files), e);
        }
        finally
        {
            if (Directory.Exists(spool.Root + ".decoded")) Directory.Delete(spool.Root + ".decoded", recursive: true);
        }
    }

    private static Geometry ToMessage(ImageGeometry g)
    {
        var m = new Geometry();
        m.Size.AddRange(g.Size.ToArray());
        m.Spacing.AddRange(g.Spacing);
        m.Origin.AddRange(g.Origin);
        m.Direction.AddRange(g.Direction);
        return m;
    }

    private static ValueTask Progress(ChannelWriter<SegmentResponse> writer, string stage, double fraction, CancellationToken cancellationToken) =>
        writer.WriteAsync(new SegmentResponse { Progress = new Edu.V1.Progress { Stage = stage, Fraction = fraction } }, cancellationToken);

    /// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread (no synchronisation context hop).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
