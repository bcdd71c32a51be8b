using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Dicom;
using Edu.Imaging.Formats.Nifti;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu bench io</c>: reading a CT-sized int16 <c>.nii.gz</c> against <c>gzip -dc</c> of the same file
/// (decompression is the floor any reader pays), and reading a DICOM series of the same volume
/// (one file per slice) against GDCM's own command-line tools, in one run on this machine; then writing a two-label
/// segmentation of that series as a DICOM SEG, beside writing the same labels as <c>.nii.gz</c> (the other result format).
/// </summary>
public static class BenchIoCommand
{
    /// <summary>The <c>--json</c> result (the last stdout line).</summary>
    public sealed record Result(
        [property: JsonPropertyName("size")] int[] Size,
        [property: JsonPropertyName("file_mb")] double FileMb,
        [property: JsonPropertyName("repeat")] int Repeat,
        [property: JsonPropertyName("nifti_read_ms")] double NiftiReadMs,
        [property: JsonPropertyName("gzip_dc_ms")] double GzipDcMs,
        [property: JsonPropertyName("ratio")] double Ratio,
        [property: JsonPropertyName("dicom_files")] int DicomFiles,
        [property: JsonPropertyName("dicom_series_read_ms")] double DicomSeriesReadMs,
        [property: JsonPropertyName("dicom_slices_per_s")] double DicomSlicesPerSecond,
        [property: JsonPropertyName("gdcmscanner_ms")] double? GdcmScannerMs,
        [property: JsonPropertyName("gdcmraw_loop_ms")] double? GdcmRawLoopMs,
        [property: JsonPropertyName("seg_frames")] int SegFrames,
        [property: JsonPropertyName("seg_mb")] double SegMb,
        [property: JsonPropertyName("dicom_seg_write_ms")] double DicomSegWriteMs,
        [property: JsonPropertyName("nifti_labels_write_ms")] double NiftiLabelsWriteMs);

    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var size = new Option<int>("--size") { Description = "Columns and rows.", DefaultValueFactory = _ => 512 };
        var slices = new Option<int>("--slices") { Description = "Slices.", DefaultValueFactory = _ => 300 };
        var repeat = new Option<int>("--repeat") { Description = "Timed repetitions (the median is reported).", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "End with one JSON line." };
        var command = new Command("io", "Time reading an int16 .nii.gz (default 512×512×300) against `gzip -dc`, and the same volume as a DICOM series against GDCM's tools.")
        {
            size, slices, repeat, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            int n = parse.GetValue(size), z = parse.GetValue(slices), r = parse.GetValue(repeat);
            if (n < 16 || n > 4096) throw new InvalidInputException("--size", $"{n} is outside 16…4096");
            if (z < 1 || z > 2048) throw new InvalidInputException("--slices", $"{z} is outside 1…2048");
            if (r < 1 || r > 50) throw new InvalidInputException("--repeat", $"{r} is outside 1…50");
            var result = Run(n, z, r, cancellationToken);
            var culture = CultureInfo.InvariantCulture;
            Console.Out.WriteLine(string.Create(culture, $"volume {n}×{n}×{z} int16, .nii.gz {result.FileMb:0.0} MB, median of {r}"));
            Console.Out.WriteLine(string.Create(culture, $"  gzip -dc        {result.GzipDcMs,8:0.0} ms"));
            Console.Out.WriteLine(string.Create(culture, $"  edu NiftiReader {result.NiftiReadMs,8:0.0} ms  ({result.Ratio:0.00}× gzip -dc)"));
            Console.Out.WriteLine(string.Create(culture, $"DICOM series, {result.DicomFiles} files of {n}×{n} int16 (explicit VR LE)"));
            Console.Out.WriteLine(string.Create(culture, $"  edu DicomSeriesReader   {result.DicomSeriesReadMs,8:0.0} ms  ({result.DicomSlicesPerSecond:0} slices/s; scan, sort, decode, stack)"));
            Console.Out.WriteLine(result.GdcmScannerMs is double scan
                ? string.Create(culture, $"  gdcmscanner (headers)   {scan,8:0.0} ms")
                : "  gdcmscanner             not installed (apt-get install libgdcm-tools)");
            Console.Out.WriteLine(result.GdcmRawLoopMs is double raw
                ? string.Create(culture, $"  gdcmraw per file (loop) {raw,8:0.0} ms  (one process per file)")
                : "  gdcmraw                 not installed (apt-get install libgdcm-tools)");
            Console.Out.WriteLine(string.Create(culture, $"Labels of that series (2 labels), written as results"));
            Console.Out.WriteLine(string.Create(culture, $"  edu DicomSegWriter      {result.DicomSegWriteMs,8:0.0} ms  ({result.SegFrames} frames, {result.SegMb:0.0} MB; reads the {result.DicomFiles} source headers)"));
            Console.Out.WriteLine(string.Create(culture, $"  edu NIfTI .nii.gz       {result.NiftiLabelsWriteMs,8:0.0} ms"));
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(result, CliJson.Options));
            return Task.FromResult(CliApp.Ok);
        });
        return command;
    }

    private static Result Run(int n, int slices, int repeat, CancellationToken cancellationToken)
    {
        string dir = Directory.CreateTempSubdirectory("edu-bench-io-").FullName;
        try
        {
            string path = Path.Combine(dir, "ct.nii.gz");
            new NiftiWriter().Write(SyntheticCt(n, slices), path, cancellationToken);
            var reader = new NiftiReader();
            reader.Read(path, cancellationToken); // warm-up: JIT and page cache
            GzipDc(path);
            var ours = new List<double>();
            var gzip = new List<double>();
            for (int i = 0; i < repeat; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                gzip.Add(GzipDc(path));
                var watch = Stopwatch.StartNew();
                var volume = reader.Read(path, cancellationToken);
                ours.Add(watch.Elapsed.TotalMilliseconds);
                GC.KeepAlive(volume);
            }
            double oursMs = BenchStatistics.Median(ours), gzipMs = BenchStatistics.Median(gzip);

            string series = Path.Combine(dir, "series");
            DicomSeriesWriter.Write(reader.Read(path, cancellationToken), series, "CT", cancellationToken);
            DicomSeriesReader.Read(series, null, cancellationToken); // warm-up
            var dicom = new List<double>();
            for (int i = 0; i < repeat; i++)
            {
                var watch = Stopwatch.StartNew();
                GC.KeepAlive(DicomSeriesReader.Read(series, null, cancellationToken));
                dicom.Add(watch.Elapsed.TotalMilliseconds);
            }
            double dicomMs = BenchStatistics.Median(dicom);
            double? scanner = Tool("gdcmscanner") ? BenchStatistics.Median([.. Enumerable.Range(0, repeat).Select(_ => Shell("gdcmscanner -d \"$0\" -t 0020,0032 > /dev/null", series))]) : null;
            double? raw = Tool("gdcmraw") ? BenchStatistics.Median([.. Enumerable.Range(0, repeat).Select(_ => Shell("for f in \"$0\"/*.dcm; do gdcmraw -i \"$f\" -o /dev/null || exit 1; done", series))]) : null;

            // Results: "bone" (> 300 HU) and "soft tissue" (−100…300 HU) of the series, as a SEG and as a .nii.gz.
            var image = DicomSeriesReader.Read(series, null, cancellationToken);
            var labels = new ImageVolume(image.Geometry, 1, [.. image.Voxels.Select(v => v > 300 ? 2f : v > -100 ? 1f : 0f)], PixelType.UInt8);
            var segOptions = new DicomSegOptions { LabelNames = new Dictionary<int, string> { [1] = "soft tissue", [2] = "bone" }, AlgorithmName = "bench" };
            var seg = new MemoryStream();
            DicomSegWriter.Write(labels, series, null, seg, segOptions, cancellationToken); // warm-up
            var segTimes = new List<double>();
            var niftiTimes = new List<double>();
            string labelsPath = Path.Combine(dir, "labels.nii.gz");
            for (int i = 0; i < repeat; i++)
            {
                seg = new MemoryStream();
                var watch = Stopwatch.StartNew();
                DicomSegWriter.Write(labels, series, null, seg, segOptions, cancellationToken);
                segTimes.Add(watch.Elapsed.TotalMilliseconds);
                File.Delete(labelsPath);
                watch.Restart();
                new NiftiWriter().Write(labels, labelsPath, cancellationToken);
                niftiTimes.Add(watch.Elapsed.TotalMilliseconds);
            }
            int segFrames = DicomStructure.Validate(seg.ToArray(), "seg").NumberOfFrames ?? 0;
            return new Result([n, n, slices], new FileInfo(path).Length / 1e6, repeat, Math.Round(oursMs, 1), Math.Round(gzipMs, 1), Math.Round(oursMs / gzipMs, 3),
                slices, Math.Round(dicomMs, 1), Math.Round(slices / (dicomMs / 1000), 1), scanner is null ? null : Math.Round(scanner.Value, 1), raw is null ? null : Math.Round(raw.Value, 1),
                segFrames, Math.Round(seg.Length / 1e6, 2), Math.Round(BenchStatistics.Median(segTimes), 1), Math.Round(BenchStatistics.Median(niftiTimes), 1));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Body-like HU values (air, soft tissue, bone rings) plus noise, so gzip compresses it as it would a CT.
    /// <summary>A synthetic CT of <paramref name="n"/>² × <paramref name="slices"/> (a body cylinder with a rim, soft tissue inside, noise), 0.7×0.7×1.25 mm.</summary>
    internal static ImageVolume SyntheticCt(int n, int slices)
    {
        var voxels = new float[(long)n * n * slices];
        var random = new Random(42);
        double c = n / 2.0;
        for (int z = 0; z < slices; z++)
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++)
                {
                    double r = Math.Sqrt((x - c) * (x - c) + (y - c) * (y - c)) / c;
                    double hu = r > 0.9 ? -1000 : r > 0.85 ? 700 : 40 + 30 * Math.Sin(x * 0.05 + z * 0.02);
                    voxels[((long)z * n + y) * n + x] = (float)Math.Round(hu + random.Next(-20, 21));
                }
        var geometry = new ImageGeometry(new VolumeSize(n, n, slices), [0.7, 0.7, 1.25], [-180, -180, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        return new ImageVolume(geometry, 1, voxels, PixelType.Int16);
    }

    private static double GzipDc(string path) => Shell("gzip -dc \"$0\" > /dev/null", path);

    private static bool Tool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, name)));

    // Runs a bash command with $0 bound to the argument; returns the wall time in ms.
    private static double Shell(string command, string argument)
    {
        var info = new ProcessStartInfo("bash", ["-c", command, argument]) { UseShellExecute = false, RedirectStandardError = true };
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start: {command}");
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"`{command}` failed: {errors.Trim()}");
        return watch.Elapsed.TotalMilliseconds;
    }
}
