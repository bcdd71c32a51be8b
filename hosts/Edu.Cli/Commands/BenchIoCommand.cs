using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats.Nifti;

namespace Edu.Cli.Commands;

/// <summary>
/// <c>edu bench io</c>: reading a CT-sized int16 <c>.nii.gz</c> against <c>gzip -dc</c> of the same file
/// (decompression is the floor any reader pays), in one run on this machine.
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
        [property: JsonPropertyName("ratio")] double Ratio);

    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var size = new Option<int>("--size") { Description = "Columns and rows.", DefaultValueFactory = _ => 512 };
        var slices = new Option<int>("--slices") { Description = "Slices.", DefaultValueFactory = _ => 300 };
        var repeat = new Option<int>("--repeat") { Description = "Timed repetitions (the median is reported).", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "End with one JSON line." };
        var command = new Command("io", "Time reading an int16 .nii.gz (default 512×512×300) against `gzip -dc` of the same file.")
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
            double oursMs = Median(ours), gzipMs = Median(gzip);
            return new Result([n, n, slices], new FileInfo(path).Length / 1e6, repeat, Math.Round(oursMs, 1), Math.Round(gzipMs, 1), Math.Round(oursMs / gzipMs, 3));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Body-like HU values (air, soft tissue, bone rings) plus noise, so gzip compresses it as it would a CT.
    private static ImageVolume SyntheticCt(int n, int slices)
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

    private static double GzipDc(string path)
    {
        var info = new ProcessStartInfo("bash", ["-c", "gzip -dc \"$0\" > /dev/null", path]) { UseShellExecute = false };
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start gzip");
        process.WaitForExit();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
