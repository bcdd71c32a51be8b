using System.Globalization;
using System.Text.RegularExpressions;
using Edu.Abstractions.Errors;
using Edu.Cli.Imaging;

namespace Edu.Cli.Segmentation;

/// <summary>
/// Turns the INPUT arguments of <c>edu segment</c> into cases. A file is one image. A folder holding image files
/// (NIfTI, MetaImage, PNG, JPEG, BMP, TIFF) gives one case per file, not recursing; a folder without such files is
/// read as one DICOM series. Files named <c>{case}_{XXXX}.ext</c> (the nnU-Net channel convention) are grouped into
/// one case named <c>{case}</c>, channels in index order.
/// </summary>
public static partial class SegmentationInputs
{
    private static readonly string[] BuiltInEndings = [".nii.gz", ".nii", ".hdr", ".hdr.gz", ".mha", ".mhd", ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"];

    // Plus what plugin readers claim (DICOM excluded: a folder of DICOM files is one series, not one case per file).
    private static readonly Lazy<string[]> ImageEndingsWithPlugins = new(() =>
        [.. BuiltInEndings.Union(ImageInput.Readers.Readers.Where(r => r is not Edu.Dicom.DicomImageReader).SelectMany(r => r.Extensions), StringComparer.OrdinalIgnoreCase)]);

    private static string[] ImageEndings => ImageEndingsWithPlugins.Value;

    private static string[] AllEndings => [.. ImageEndings, ".img", ".img.gz", ".dcm", ".dicom", ".dic"];

    /// <summary>The cases for <paramref name="inputs"/>, in the order given (folders sorted by name).</summary>
    public static IReadOnlyList<SegmentationCase> Expand(IReadOnlyList<string> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new InvalidInputException("INPUT", "name at least one image file or folder");
        var files = new List<string>();
        var cases = new List<(int Order, SegmentationCase Case)>();
        foreach (string input in inputs)
        {
            string full = Path.GetFullPath(input);
            if (File.Exists(full))
                files.Add(full);
            else if (Directory.Exists(full))
            {
                var images = Directory.EnumerateFiles(full)
                    .Where(f => ImageEndings.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)) && !Path.GetFileName(f).StartsWith('.'))
                    .Order(StringComparer.Ordinal).ToList();
                if (images.Count > 0)
                    files.AddRange(images);
                else
                    cases.Add((files.Count, new SegmentationCase(Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar)), [full], true)));
            }
            else
                throw new InvalidInputException(input, "no such file or folder");
        }
        var order = files.Select((f, i) => (File: f, Index: i)).GroupBy(p => p.File).ToDictionary(g => g.Key, g => g.First().Index);
        foreach (var group in files.Distinct().GroupBy(CaseKey))
        {
            var members = group.Select(f => (File: f, Channel: ChannelOf(f))).ToList();
            if (members.Count > 1)
            {
                var channels = members.Select(m => m.Channel).Order().ToList();
                if (channels.Any(c => c is null) || !channels.Select(c => c!.Value).SequenceEqual(Enumerable.Range(0, channels.Count)))
                    throw new InvalidInputException(members[0].File,
                        $"case '{group.Key.Name}' has files {string.Join(", ", members.Select(m => Path.GetFileName(m.File)))}; channel files must be numbered _0000, _0001, … without gaps");
            }
            cases.Add((order[members[0].File], new SegmentationCase(group.Key.Name, [.. members.OrderBy(m => m.Channel ?? 0).Select(m => m.File)], false)));
        }
        var ordered = cases.OrderBy(c => c.Order).Select(c => c.Case).ToList(); // stable: a series precedes the files named after it
        var duplicate = ordered.GroupBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidInputException(duplicate.First().Source,
                $"two inputs give the case name '{duplicate.Key}' ({string.Join(", ", duplicate.Select(d => d.Source))}); their outputs would collide");
        return ordered;
    }

    /// <summary>The file name without its image ending (<c>.nii.gz</c> counts as one).</summary>
    public static string Stem(string path)
    {
        string name = Path.GetFileName(path);
        string? ending = AllEndings.Where(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase)).MaxBy(e => e.Length);
        return ending is null ? Path.GetFileNameWithoutExtension(name) : name[..^ending.Length];
    }

    private static (string Folder, string Name) CaseKey(string file)
    {
        string stem = Stem(file);
        var m = ChannelSuffix().Match(stem);
        return (Path.GetDirectoryName(file)!, m.Success ? m.Groups[1].Value : stem);
    }

    private static int? ChannelOf(string file)
    {
        var m = ChannelSuffix().Match(Stem(file));
        return m.Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : null;
    }

    [GeneratedRegex(@"^(.+)_(\d{4})$")]
    private static partial Regex ChannelSuffix();
}
