using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Imaging;
using Edu.Cli.Imaging;

namespace Edu.Cli.Commands;

/// <summary><c>edu inspect PATH [--series UID] [--json]</c>: size, geometry and value statistics of an image.</summary>
public static class InspectCommand
{
    /// <summary>
    /// What <c>--json</c> prints. <see cref="Min"/>, <see cref="Max"/> and <see cref="Mean"/> are over the finite voxels
    /// (null when there is none); <see cref="NonFinite"/> counts the NaN and infinite ones they leave out.
    /// </summary>
    public sealed record Report(
        [property: JsonPropertyName("format")] string Format,
        [property: JsonPropertyName("size")] int[] Size,
        [property: JsonPropertyName("channels")] int Channels,
        [property: JsonPropertyName("spacing")] double[] Spacing,
        [property: JsonPropertyName("origin")] double[] Origin,
        [property: JsonPropertyName("direction")] double[] Direction,
        [property: JsonPropertyName("pixelType")] string PixelType,
        [property: JsonPropertyName("min")] double? Min,
        [property: JsonPropertyName("max")] double? Max,
        [property: JsonPropertyName("mean")] double? Mean,
        [property: JsonPropertyName("nonFinite")] long NonFinite,
        [property: JsonPropertyName("modality")] string? Modality);

    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var path = new Argument<string>("PATH") { Description = "An image file (NIfTI, MetaImage, PNG/JPEG/BMP, TIFF, DICOM) or a folder holding a DICOM series." };
        var series = new Option<string?>("--series") { Description = "SeriesInstanceUID to read when the folder holds several series." };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON object." };
        var command = new Command("inspect", "Show an image's size, channels, LPS geometry, pixel type and value statistics (after the Modality LUT).")
        {
            path, series, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var (volume, format) = ImageInput.Read(parse.GetValue(path)!, parse.GetValue(series), cancellationToken);
            var report = Describe(volume, format);
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(report, CliJson.Options));
            else
                WriteSummary(report, volume);
            return Task.FromResult(CliApp.Ok);
        });
        return command;
    }

    /// <summary>Statistics over every channel's finite voxels; NaN and ±∞ are counted, not averaged.</summary>
    public static Report Describe(ImageVolume volume, string format)
    {
        ArgumentNullException.ThrowIfNull(volume);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        double sum = 0;
        long nonFinite = 0;
        foreach (float v in volume.Voxels)
        {
            if (!float.IsFinite(v))
            {
                nonFinite++;
                continue;
            }
            if (v < min) min = v;
            if (v > max) max = v;
            sum += v;
        }
        long finite = volume.Voxels.LongLength - nonFinite;
        var g = volume.Geometry;
        return new Report(format, g.Size.ToArray(), volume.Channels, [.. g.Spacing], [.. g.Origin], [.. g.Direction],
            volume.SourcePixelType.ToString().ToLowerInvariant(),
            finite > 0 ? min : null, finite > 0 ? max : null, finite > 0 ? sum / finite : null, nonFinite,
            volume.Metadata.TryGetValue("Modality", out var modality) ? modality : null);
    }

    private static void WriteSummary(Report r, ImageVolume volume)
    {
        // rounded first, so that -0.00001 (and -0.0 itself) prints 0, not "-0"
        string F(double v) => (Math.Round(v, 4) is var r && r == 0 ? 0 : r).ToString("0.####", CultureInfo.InvariantCulture);
        string Vec(IEnumerable<double> v) => "[" + string.Join(", ", v.Select(F)) + "]";
        Console.Out.WriteLine($"  format      {r.Format}{(r.Modality is null ? "" : $" ({r.Modality})")}");
        Console.Out.WriteLine($"  size        {r.Size[0]} × {r.Size[1]} × {r.Size[2]} (x, y, z), {r.Channels} channel(s), {r.PixelType}");
        Console.Out.WriteLine($"  spacing     {Vec(r.Spacing)} mm");
        Console.Out.WriteLine($"  origin      {Vec(r.Origin)} mm (LPS)");
        Console.Out.WriteLine($"  direction   {Vec(r.Direction.Take(3))} {Vec(r.Direction.Skip(3).Take(3))} {Vec(r.Direction.Skip(6))}");
        string ignored = r.NonFinite == 0 ? "" : $" ({r.NonFinite} NaN or infinite voxels left out)";
        Console.Out.WriteLine(r.Mean is { } mean
            ? $"  values      min {F(r.Min!.Value)}, max {F(r.Max!.Value)}, mean {F(mean)}{ignored}"
            : $"  values      no finite voxel ({r.NonFinite} NaN or infinite)");
        foreach (var key in new[] { "SeriesDescription", "SeriesInstanceUID", "PhotometricInterpretation", "TransferSyntaxUID" })
            if (volume.Metadata.TryGetValue(key, out var value))
                Console.Out.WriteLine($"  {key,-11} {value}");
    }
}
