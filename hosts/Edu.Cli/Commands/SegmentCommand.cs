using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Errors;
using Edu.Cli.Hosting;
using Edu.Cli.Imaging;
using Edu.Cli.Segmentation;
using Edu.Dicom;
using Edu.Inference;
using Edu.Inference.Output;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu segment --model RUN_OR_PACKAGE INPUT... --out DIR [--overlay] [--dicom-seg] [--tta] [--overlap 0.5] [--patch P] [--largest]
/// [--threshold 0.5] [--bf16] [--device cpu] [--backend torch|onnxruntime] [--series UID] [--json]</c>: segments files, folders of images and DICOM series.
/// Writes <c>{case}_seg.png</c> for 2-D raster inputs (label values 0, 1, 2…) and <c>{case}_seg.nii.gz</c> otherwise
/// (geometry kept), plus <c>{case}_overlay.png</c> with <c>--overlay</c> and <c>{case}_seg.dcm</c> (a DICOM Segmentation in the
/// source's study) with <c>--dicom-seg</c>. DIR may exist; if any file this run would
/// write is there already, nothing is segmented and nothing is written (exit 2): results never overwrite a file.
/// </summary>
public static class SegmentCommand
{
    /// <summary>One label of one case in <c>--json</c>.</summary>
    public sealed record LabelReport(
        [property: JsonPropertyName("label")] int Label,
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("voxels")] long Voxels,
        [property: JsonPropertyName("ml")] double Ml);

    /// <summary>One case in <c>--json</c>.</summary>
    public sealed record CaseReport(
        [property: JsonPropertyName("case")] string Case,
        [property: JsonPropertyName("input")] IReadOnlyList<string> Input,
        [property: JsonPropertyName("size")] int[] Size,
        [property: JsonPropertyName("outputs")] IReadOnlyList<string> Outputs,
        [property: JsonPropertyName("labels")] IReadOnlyList<LabelReport> Labels,
        [property: JsonPropertyName("windows")] int Windows,
        [property: JsonPropertyName("windows_per_batch")] int WindowsPerBatch,
        [property: JsonPropertyName("seconds")] StageSeconds Seconds);

    /// <summary>Wall-clock seconds of one case: reading the input, the prediction (preprocessing, net, postprocessing), writing the outputs.</summary>
    public sealed record StageSeconds(
        [property: JsonPropertyName("read")] double Read,
        [property: JsonPropertyName("predict")] double Predict,
        [property: JsonPropertyName("write")] double Write);

    /// <summary>What <c>--json</c> prints: exactly one object.</summary>
    public sealed record Report(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("package")] string Package,
        [property: JsonPropertyName("device")] string Device,
        [property: JsonPropertyName("backend")] string Backend,
        [property: JsonPropertyName("cases")] IReadOnlyList<CaseReport> Cases);

    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var inputs = new Argument<string[]>("INPUT") { Description = "Image files, folders of images, or folders holding one DICOM series.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string>("--model") { Description = "A model package folder (with model.json) or a training run folder (package in RUN/model/).", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for the results (created if needed); existing files are never overwritten.", Required = true };
        var overlay = new Option<bool>("--overlay") { Description = "Also write {case}_overlay.png: the labels in colour over the image (busiest slice of a volume)." };
        var dicomSeg = new Option<bool>("--dicom-seg") { Description = "Also write {case}_seg.dcm: a DICOM Segmentation (SEG) in the source's study and frame of reference, for a PACS. DICOM inputs only." };
        var tta = new Option<bool>("--tta") { Description = "Test-time augmentation: average over every combination of axis flips." };
        var overlap = new Option<double>("--overlap") { Description = "Sliding-window overlap, 0 to 0.9.", DefaultValueFactory = _ => 0.5 };
        var patch = new Option<int[]?>("--patch") { Description = "Window size in voxels, x y [z] or one value (default: the package's training patch).", AllowMultipleArgumentsPerToken = true };
        var largest = new Option<bool>("--largest") { Description = "Keep only the largest connected component of each label (face connectivity)." };
        var threshold = new Option<float>("--threshold") { Description = "Probability threshold of a binary model.", DefaultValueFactory = _ => 0.5f };
        var bf16 = new Option<bool>("--bf16") { Description = "Run the net in bfloat16." };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var backend = new Option<string>("--backend") { Description = "What runs the net: torch (LibTorch) or onnxruntime (ONNX Runtime, CPU, float32).", DefaultValueFactory = _ => "torch" };
        var windowsPerBatch = new Option<int>("--windows-per-batch")
        {
            Description = "Sliding windows per forward pass, 1 to 256; 0 (default) sizes it to memory (up to 32).", DefaultValueFactory = _ => 0,
        };
        var series = new Option<string?>("--series") { Description = "SeriesInstanceUID to read when a DICOM folder holds several series." };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object with every case's outputs and label volumes." };
        var command = new Command("segment", "Segment images with a trained model; write label maps (NIfTI or PNG) and overlays, print label volumes in ml.")
        {
            inputs, model, output, overlay, dicomSeg, tta, overlap, patch, largest, threshold, bf16, device, backend, windowsPerBatch, series, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var options = new PredictorOptions
            {
                Device = parse.GetValue(device)!,
                FlipTta = parse.GetValue(tta),
                Overlap = parse.GetValue(overlap),
                PatchSize = parse.GetValue(patch) is { Length: > 0 } p ? p : null,
                KeepLargestComponent = parse.GetValue(largest),
                Threshold = parse.GetValue(threshold),
                BFloat16 = parse.GetValue(bf16),
                BatchSize = parse.GetValue(windowsPerBatch),
                Backend = InferenceBackends.Parse(parse.GetValue(backend), "--backend"),
            };
            var report = Run(parse.GetValue(model)!, parse.GetValue(inputs)!, parse.GetValue(output)!, options,
                parse.GetValue(overlay), parse.GetValue(dicomSeg), parse.GetValue(series), !parse.GetValue(json), cancellationToken);
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(report, CliJson.Options));
            return Task.FromResult(CliApp.Ok);
        });
        return command;
    }

    /// <summary>Segments every case and writes its results; with <paramref name="verbose"/> prints a summary per case.</summary>
    public static Report Run(string modelPath, IReadOnlyList<string> inputs, string outDir, PredictorOptions options, bool overlay,
        bool dicomSeg, string? seriesUid, bool verbose, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var cases = SegmentationInputs.Expand(inputs);
        outDir = Path.GetFullPath(outDir);
        if (File.Exists(outDir)) throw new InvalidInputException(outDir, "is a file; --out must be a folder");
        if (dicomSeg && cases.FirstOrDefault(c => !IsDicom(c)) is { } notDicom)
            throw new InvalidInputException(notDicom.Source, "--dicom-seg needs DICOM input (a DICOM file or a folder holding a series): a SEG references its source images");
        var planned = cases.SelectMany(c => PossibleOutputs(c, outDir, overlay, dicomSeg)).ToList();
        var existing = planned.Where(f => File.Exists(f) || Directory.Exists(f)).ToList();
        if (existing.Count > 0)
            throw new InvalidInputException(existing[0],
                $"exists already{(existing.Count > 1 ? $" (and {existing.Count - 1} more result file(s))" : "")}; results never overwrite a file: choose another --out folder or move the old results");

        string package = ModelPackageLocator.Resolve(modelPath);
        var steps = NeedsPlugins(package) ? CliPlugins.Catalog.PreprocessingSteps : null;
        using var predictor = Predictor.Load(package, options, steps, CliPlugins.Models);
        bool createdOut = !Directory.Exists(outDir);
        Directory.CreateDirectory(outDir);
        try
        {
            return new Report($"{predictor.Manifest.Name}:{predictor.Manifest.Version}", package, options.Device, options.Backend.Name(),
                SegmentAll(predictor, cases, outDir, overlay, dicomSeg, seriesUid, verbose, cancellationToken));
        }
        catch when (createdOut && Directory.Exists(outDir) && !Directory.EnumerateFileSystemEntries(outDir).Any())
        {
            Directory.Delete(outDir); // a failed run leaves no empty folder it made
            throw;
        }
    }

    private static List<CaseReport> SegmentAll(Predictor predictor, IReadOnlyList<SegmentationCase> cases, string outDir, bool overlay, bool dicomSeg,
        string? seriesUid, bool verbose, CancellationToken cancellationToken)
    {
        var reports = new List<CaseReport>();
        foreach (var item in cases)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            var image = item.Read(seriesUid, cancellationToken);
            long read = System.Diagnostics.Stopwatch.GetTimestamp();
            Prediction prediction;
            try
            {
                prediction = predictor.Predict(image, cancellationToken);
            }
            catch (InvalidInputException e) when (e.Input == Predictor.ImageInputName)
            {
                throw new InvalidInputException(item.Source, e.Problem, e);
            }
            long predicted = System.Diagnostics.Stopwatch.GetTimestamp();
            var outputs = new List<string>();
            string seg = Path.Combine(outDir, item.Name + (item.WritesPng(image) ? "_seg.png" : "_seg.nii.gz"));
            PredictionWriter.WriteLabels(prediction.Labels, seg, cancellationToken);
            outputs.Add(seg);
            if (overlay)
            {
                string path = Path.Combine(outDir, item.Name + "_overlay.png");
                PredictionWriter.WriteOverlay(image, prediction.Labels, path, null, cancellationToken);
                outputs.Add(path);
            }
            if (dicomSeg)
            {
                string path = Path.Combine(outDir, item.Name + "_seg.dcm");
                PredictionWriter.WriteDicomSeg(prediction, predictor.Manifest, item.Files[0], item.IsDicomSeries ? seriesUid : null, path, cancellationToken);
                outputs.Add(path);
            }
            var labels = prediction.Statistics.Select(s => new LabelReport(s.Label, s.Name, s.Voxels, Math.Round(s.VolumeMl, 6))).ToList();
            static double Seconds(long from, long to) => Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(from, to).TotalSeconds, 3);
            var seconds = new StageSeconds(Seconds(started, read), Seconds(read, predicted), Seconds(predicted, System.Diagnostics.Stopwatch.GetTimestamp()));
            reports.Add(new CaseReport(item.Name, item.Files, image.Size.ToArray(), outputs, labels, prediction.Windows, prediction.WindowsPerBatch, seconds));
            if (verbose)
            {
                Console.Out.WriteLine($"{item.Name}: {image.Size.X} × {image.Size.Y} × {image.Size.Z} → {string.Join(", ", outputs.Select(Path.GetFileName))}");
                foreach (var l in labels)
                    Console.Out.WriteLine($"  {l.Label} {l.Name,-20} {l.Ml.ToString("0.###", CultureInfo.InvariantCulture),12} ml  ({l.Voxels} voxels)");
            }
        }
        return reports;
    }

    private static IEnumerable<string> PossibleOutputs(SegmentationCase item, string outDir, bool overlay, bool dicomSeg)
    {
        yield return Path.Combine(outDir, item.Name + "_seg.png");
        yield return Path.Combine(outDir, item.Name + "_seg.nii.gz");
        if (overlay) yield return Path.Combine(outDir, item.Name + "_overlay.png");
        if (dicomSeg) yield return Path.Combine(outDir, item.Name + "_seg.dcm");
    }

    private static bool IsDicom(SegmentationCase item) =>
        item.IsDicomSeries || (item.Files.Count == 1 && ImageInput.Readers.Resolve(item.Files[0]) is DicomImageReader);

    private static bool NeedsPlugins(string package)
    {
        var manifest = Edu.Models.Checkpoints.ModelPackage.ReadManifest(package);
        var pipeline = ManifestPreprocessing.FromManifest(manifest).Pipeline;
        return pipeline.Steps.Any(s => !Edu.Abstractions.Preprocessing.StandardStepNames.All.Contains(s.Name));
    }
}
