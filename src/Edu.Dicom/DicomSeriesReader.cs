using System.Globalization;
using System.Runtime.ExceptionServices;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Dicom;

/// <summary>One series found in a folder.</summary>
/// <param name="SeriesInstanceUid">The series' UID.</param>
/// <param name="Modality">Modality (CT, MR, …).</param>
/// <param name="Description">Series description, may be empty.</param>
/// <param name="Files">The image files of the series, in folder order.</param>
public sealed record DicomSeriesInfo(string SeriesInstanceUid, string Modality, string Description, IReadOnlyList<string> Files);

/// <summary>
/// Assembles a folder of DICOM files (searched recursively) into one volume: files grouped by
/// SeriesInstanceUID, slices sorted by Image Position (Patient) along the slice normal, z spacing
/// from the positions (not SliceThickness), direction from Image Orientation (Patient).
/// Mixed sizes or orientations, duplicate positions and uneven spacing (gaps) are refused with
/// a message that says which.
/// </summary>
public static class DicomSeriesReader
{
    // Steps may differ by this fraction of the mean step before the series counts as having a gap.
    private const double SpacingTolerance = 0.1;

    /// <summary>Lists the image series in <paramref name="folder"/>; files that are not DICOM images are skipped.</summary>
    public static IReadOnlyList<DicomSeriesInfo> Scan(string folder, CancellationToken cancellationToken = default) =>
        ScanHeaders(folder, cancellationToken)
            .GroupBy(h => h.SeriesUid)
            .Select(g => new DicomSeriesInfo(g.Key, g.First().Modality, g.First().Description, g.Select(h => h.Path).ToList()))
            .OrderBy(s => s.SeriesInstanceUid, StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Reads the series in <paramref name="folder"/>; when it holds several, <paramref name="seriesUid"/>
    /// picks one (the error lists them otherwise).
    /// </summary>
    public static ImageVolume Read(string folder, string? seriesUid = null, CancellationToken cancellationToken = default)
    {
        var slices = ChooseSeries(folder, seriesUid, cancellationToken);
        if (slices.Count == 1)
            return DicomFileReader.Read(slices[0].Path, slices[0].Attributes);

        var sorted = SortAndCheck(folder, slices);
        return Stack(sorted, cancellationToken);
    }

    /// <summary>
    /// The files <see cref="Read"/> would stack for the same arguments, in slice order (index z of the volume is
    /// file z, or frame z of a lone multi-frame file), with their header attributes: what a derived object references.
    /// </summary>
    internal static IReadOnlyList<(string Path, DicomImageAttributes Attributes)> ReadSources(string folder, string? seriesUid, CancellationToken cancellationToken)
    {
        var slices = ChooseSeries(folder, seriesUid, cancellationToken);
        var sorted = slices.Count == 1 ? slices : SortAndCheck(folder, slices);
        return sorted.Select(s => (s.Path, s.Attributes)).ToList();
    }

    private static List<SliceHeader> ChooseSeries(string folder, string? seriesUid, CancellationToken cancellationToken)
    {
        var headers = ScanHeaders(folder, cancellationToken);
        if (headers.Count == 0)
            throw new InvalidInputException(folder, "no DICOM image files found in this folder (searched recursively)");

        var series = headers.GroupBy(h => h.SeriesUid).ToList();
        if (seriesUid is not null)
            return series.FirstOrDefault(g => g.Key == seriesUid)?.ToList()
                ?? throw new InvalidInputException(folder, $"series {seriesUid} is not in this folder; it holds {Describe(series)}");
        if (series.Count > 1)
            throw new InvalidInputException(folder, $"holds {series.Count} series; choose one with --series UID: {Describe(series)}");
        return series[0].ToList();
    }

    private static string Describe(IEnumerable<IGrouping<string, SliceHeader>> series) =>
        string.Join("; ", series.Select(g => $"{g.Key} ({g.First().Modality} '{g.First().Description}', {g.Count()} files)"));

    private sealed record SliceHeader(string Path, string SeriesUid, string Modality, string Description,
        int Rows, int Columns, int Frames, double[]? Position, double[]? Orientation, DicomImageAttributes Attributes);

    private static List<SliceHeader> ScanHeaders(string folder, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(folder))
            throw new InvalidInputException(folder, "folder not found");
        var result = new List<SliceHeader>();
        foreach (var path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var header = TryReadHeader(path);
            if (header is not null) result.Add(header);
        }
        return result;
    }

    // One pass of our own parser per file: it refuses malformed files (naming them) before GDCM sees
    // them, and yields what grouping and sorting need.
    private static SliceHeader? TryReadHeader(string path)
    {
        if (!LooksLikeDicom(path)) return null;
        var attributes = DicomStructure.Validate(path);
        if (!attributes.HasPixelData || attributes.Rows is null || attributes.Columns is null)
            return null; // no image: DICOMDIR, structured report, RT plan…
        string Text(uint tag) => attributes.Text.TryGetValue(tag, out var value) ? value : "";
        string uid = Text(0x0020000E);
        return new SliceHeader(path, uid.Length > 0 ? uid : "(no SeriesInstanceUID)", Text(0x00080060), Text(0x0008103E),
            attributes.Rows.Value, attributes.Columns.Value, attributes.NumberOfFrames ?? 1,
            ParseVector(Text(0x00200032), 3), ParseVector(Text(0x00200037), 6), attributes);
    }

    // Part 10 files carry "DICM" at 128; files without the preamble start with a group 0002 or 0008 tag.
    private static bool LooksLikeDicom(string path)
    {
        Span<byte> head = stackalloc byte[132];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (read >= 132 && head[128] == 'D' && head[129] == 'I' && head[130] == 'C' && head[131] == 'M') return true;
        return read >= 8 && (head[0] is 0x02 or 0x08) && head[1] == 0x00;
    }

    private static int ParseInt(string s) =>
        int.TryParse(s.Split('\\')[0].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : 0;

    /// <summary>A backslash-separated DS value of exactly <paramref name="count"/> numbers, or null.</summary>
    internal static double[]? ParseVector(string s, int count)
    {
        var parts = s.Split('\\', StringSplitOptions.TrimEntries);
        if (parts.Length != count) return null;
        var values = new double[count];
        for (int i = 0; i < count; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])) return null;
        return values;
    }

    private static List<SliceHeader> SortAndCheck(string folder, List<SliceHeader> slices)
    {
        var first = slices[0];
        if (slices.Any(s => s.Frames != 1))
            throw new InvalidInputException(folder, "series mixes multi-frame files with other files; read the multi-frame file on its own");
        var sizes = slices.Select(s => (s.Columns, s.Rows)).Distinct().ToList();
        if (sizes.Count > 1)
            throw new InvalidInputException(folder, $"series mixes image sizes: {string.Join(", ", sizes.Select(s => $"{s.Columns}×{s.Rows}"))}");
        if (slices.Any(s => s.Position is null || s.Orientation is null))
            throw new InvalidInputException(folder, $"{slices.First(s => s.Position is null || s.Orientation is null).Path} has no Image Position/Orientation (Patient): cannot order the slices");
        var orientation = first.Orientation!;
        var odd = slices.FirstOrDefault(s => s.Orientation!.Zip(orientation).Any(p => Math.Abs(p.First - p.Second) > 1e-4));
        if (odd is not null)
            throw new InvalidInputException(folder, $"series mixes slice orientations ({Path.GetFileName(first.Path)} and {Path.GetFileName(odd.Path)} differ): not one volume");

        double[] normal = Normal(orientation);
        var ordered = slices.Select(s => (Slice: s, Distance: Dot(s.Position!, normal))).OrderBy(p => p.Distance).ToList();
        var steps = ordered.Zip(ordered.Skip(1), (a, b) => b.Distance - a.Distance).ToList();
        int duplicate = steps.FindIndex(step => Math.Abs(step) < 1e-3);
        if (duplicate >= 0)
            throw new InvalidInputException(folder, $"two slices share one position ({Path.GetFileName(ordered[duplicate].Slice.Path)} and {Path.GetFileName(ordered[duplicate + 1].Slice.Path)}, at {ordered[duplicate].Distance:0.###} mm along the normal)");
        double median = steps.Order().ElementAt(steps.Count / 2);
        int gap = steps.FindIndex(step => Math.Abs(step - median) > SpacingTolerance * median);
        if (gap >= 0)
            throw new InvalidInputException(folder, $"slices are unevenly spaced: {steps[gap]:0.###} mm between {Path.GetFileName(ordered[gap].Slice.Path)} and {Path.GetFileName(ordered[gap + 1].Slice.Path)}, {median:0.###} mm elsewhere (missing slices?)");
        return ordered.Select(p => p.Slice).ToList();
    }

    private static ImageVolume Stack(List<SliceHeader> sorted, CancellationToken cancellationToken)
    {
        var volumes = new ImageVolume[sorted.Count];
        void DecodeAll(bool captured)
        {
            try
            {
                Parallel.For(0, sorted.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
                    volumes[i] = DicomFileReader.Read(sorted[i].Path, sorted[i].Attributes, captured));
            }
            catch (AggregateException e) when (e.InnerExceptions.OfType<InvalidInputException>().FirstOrDefault() is { } bad)
            {
                ExceptionDispatchInfo.Throw(bad); // a slice GDCM could not decode: its own error, naming it
            }
        }
        if (!sorted.Any(s => s.Attributes.PixelDataEncapsulated))
            DecodeAll(captured: false);
        else
        {
            // One capture around the parallel decode keeps it parallel; only when a decoder reported lost data are the
            // slices decoded again one by one, to name the file.
            string printed = "";
            NativeOutput.Capture(() => { DecodeAll(captured: true); return 0; }, text => printed = DicomFileReader.PassOnOtherOutput(text));
            if (DicomFileReader.Corruption(printed) is not null)
                foreach (var slice in sorted.Where(s => s.Attributes.PixelDataEncapsulated))
                    DicomFileReader.Read(slice.Path, slice.Attributes); // throws for the damaged one
            DicomFileReader.ThrowIfCorrupt(printed, Path.GetDirectoryName(sorted[0].Path) ?? sorted[0].Path);
        }

        var first = volumes[0];
        int channels = first.Channels;
        if (volumes.Any(v => v.Channels != channels || v.Size != first.Size))
            throw new InvalidInputException(Path.GetDirectoryName(sorted[0].Path) ?? sorted[0].Path, "slices decode to different sizes or channel counts");
        long perSlice = first.Size.VoxelCount;
        long total = perSlice * sorted.Count * channels;
        if (total > Array.MaxLength)
            throw new InvalidInputException(Path.GetDirectoryName(sorted[0].Path) ?? sorted[0].Path, $"series of {sorted.Count} slices is too large for one volume ({total} voxels)");
        var voxels = new float[total];
        long perChannel = perSlice * sorted.Count;
        for (int z = 0; z < volumes.Length; z++)
            for (int c = 0; c < channels; c++)
                volumes[z].Channel(c).CopyTo(voxels.AsSpan(checked((int)(c * perChannel + z * perSlice)), checked((int)perSlice)));

        double[] origin = [.. first.Geometry.Origin];
        var last = volumes[^1].Geometry.Origin;
        double[] direction = [.. first.Geometry.Direction];
        double[] normal = [direction[2], direction[5], direction[8]];
        double zSpacing = ((last[0] - origin[0]) * normal[0] + (last[1] - origin[1]) * normal[1] + (last[2] - origin[2]) * normal[2]) / (volumes.Length - 1);
        var size = new VolumeSize(first.Size.X, first.Size.Y, volumes.Length);
        var geometry = new ImageGeometry(size, [first.Geometry.Spacing[0], first.Geometry.Spacing[1], zSpacing], origin, direction);
        var metadata = new Dictionary<string, string>(first.Metadata);
        metadata.Remove("SOPInstanceUID");
        metadata["Source"] = Path.GetDirectoryName(sorted[0].Path) ?? "";
        return new ImageVolume(geometry, channels, voxels, first.SourcePixelType, metadata);
    }

    private static double[] Normal(double[] o) =>
        [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]];

    private static double Dot(double[] a, double[] b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
