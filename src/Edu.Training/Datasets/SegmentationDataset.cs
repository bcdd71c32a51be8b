using System.Globalization;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Imaging;

namespace Edu.Training.Datasets;

/// <summary>
/// A segmentation dataset folder, nnU-Net v2 or plain 2-D, opened and checked: every case has its label and
/// all its channel files. <see cref="LoadCase"/> reads one case and checks it against the description
/// (channel count, equal image and label sizes, label values declared in <c>dataset.json</c>).
/// </summary>
public sealed class SegmentationDataset
{
    private static readonly string[] ImageEndings = [".nii.gz", ".nii", ".mha", ".mhd", ".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp"];
    private readonly ImageReaderRegistry _readers;

    private SegmentationDataset(string root, DatasetLayout layout, IReadOnlyList<string> channelNames, IReadOnlyDictionary<int, string> labels,
        string? modality, string? preprocessing, IReadOnlyList<DatasetCase> training, IReadOnlyList<DatasetCase> test, ImageReaderRegistry readers)
    {
        Root = root;
        Layout = layout;
        ChannelNames = channelNames;
        Labels = labels;
        Modality = modality;
        Preprocessing = preprocessing;
        Training = training;
        Test = test;
        _readers = readers;
    }

    /// <summary>The dataset folder (absolute).</summary>
    public string Root { get; }

    /// <summary>The layout found.</summary>
    public DatasetLayout Layout { get; }

    /// <summary>Channel names in channel order (dataset.json <c>channel_names</c>).</summary>
    public IReadOnlyList<string> ChannelNames { get; }

    /// <summary>Label value → name, background (0) included.</summary>
    public IReadOnlyDictionary<int, string> Labels { get; }

    /// <summary>The modality id dataset.json names, if any.</summary>
    public string? Modality { get; }

    /// <summary>The preprocessing pipeline text dataset.json names, if any.</summary>
    public string? Preprocessing { get; }

    /// <summary>Training cases (<c>imagesTr</c> or <c>images</c>), sorted by id.</summary>
    public IReadOnlyList<DatasetCase> Training { get; }

    /// <summary>Held-out cases with labels (<c>imagesTs</c> + <c>labelsTs</c>), sorted by id; empty when none.</summary>
    public IReadOnlyList<DatasetCase> Test { get; }

    /// <summary>Number of output channels the network needs: 1 for one foreground label (sigmoid), else the label count (softmax).</summary>
    public int Classes => Labels.Count <= 2 ? 1 : Labels.Count;

    /// <summary>Opens <paramref name="directory"/>; anything missing or inconsistent is an <see cref="InvalidInputException"/> naming the file.</summary>
    public static SegmentationDataset Open(string directory, ImageReaderRegistry? readers = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string root = Path.GetFullPath(directory);
        readers ??= ImageReaderRegistry.CreateDefault();
        if (!Directory.Exists(root)) throw new InvalidInputException(root, "dataset folder not found");
        string json = Path.Combine(root, "dataset.json");
        if (File.Exists(json)) return OpenNnUNet(root, json, readers);
        if (Directory.Exists(Path.Combine(root, "images")) && Directory.Exists(Path.Combine(root, "masks"))) return OpenPlain(root, readers);
        throw new InvalidInputException(json, "dataset.json is missing (an nnU-Net v2 dataset needs it; a plain 2-D dataset needs images/ and masks/ folders)");
    }

    /// <summary>
    /// Reads one case: its channels stacked into one volume, and its labels (1 channel, integer values).
    /// Checks the channel count, that image and label sizes agree, and that every label value is declared.
    /// </summary>
    public (ImageVolume Image, ImageVolume? Labels) LoadCase(DatasetCase item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        var parts = item.ImageFiles.Select(f => _readers.Read(f, cancellationToken)).ToList();
        var first = parts[0];
        for (int i = 1; i < parts.Count; i++)
            if (parts[i].Size != first.Size)
                throw new InvalidInputException(item.ImageFiles[i], $"size {parts[i].Size} differs from the case's first channel file ({first.Size}, {item.ImageFiles[0]})");
        int channels = parts.Sum(p => p.Channels);
        if (channels != ChannelNames.Count)
            throw new InvalidInputException(item.ImageFiles[0], $"case '{item.Id}' has {channels} channel(s) but the dataset declares {ChannelNames.Count} ({string.Join(", ", ChannelNames)})");
        var image = parts.Count == 1 ? first : new ImageVolume(first.Geometry, channels, parts.SelectMany(p => p.Voxels).ToArray(), first.SourcePixelType, first.Metadata);
        if (item.LabelFile is null) return (image, null);
        var raw = _readers.Read(item.LabelFile, cancellationToken);
        if (raw.Size != image.Size)
            throw new InvalidInputException(item.LabelFile, $"label size {raw.Size} differs from the image size {image.Size} ({item.ImageFiles[0]})");
        if (raw.Channels != 1)
            throw new InvalidInputException(item.LabelFile, $"a label file needs one channel, this one has {raw.Channels}");
        var values = new float[raw.Voxels.Length];
        bool binary255 = Layout == DatasetLayout.Plain2D && raw.Voxels.All(v => v is 0 or 255);
        for (int i = 0; i < values.Length; i++)
        {
            float v = raw.Voxels[i];
            if (binary255 && v == 255) v = 1;
            if (v != MathF.Round(v) || !Labels.ContainsKey((int)v))
                throw new InvalidInputException(item.LabelFile, $"label value {v.ToString(CultureInfo.InvariantCulture)} is not declared (declared: {string.Join(", ", Labels.Keys.Order())})");
            values[i] = v;
        }
        return (image, new ImageVolume(image.Geometry, 1, values, PixelType.UInt8, raw.Metadata));
    }

    private static SegmentationDataset OpenNnUNet(string root, string jsonPath, ImageReaderRegistry readers)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(jsonPath)); }
        catch (JsonException e) { throw new InvalidInputException(jsonPath, $"not valid JSON: {e.Message}", e); }
        using (doc)
        {
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) throw new InvalidInputException(jsonPath, "dataset.json must hold one JSON object");
            if (!r.TryGetProperty("channel_names", out var cn) || cn.ValueKind != JsonValueKind.Object)
                throw new InvalidInputException(jsonPath, "'channel_names' is missing (e.g. {\"0\": \"CT\"})");
            var channels = new SortedDictionary<int, string>();
            foreach (var p in cn.EnumerateObject())
            {
                if (!int.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int idx))
                    throw new InvalidInputException(jsonPath, $"channel_names key '{p.Name}' is not a channel index");
                channels[idx] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.ToString();
            }
            if (channels.Count == 0 || channels.Keys.Last() != channels.Count - 1)
                throw new InvalidInputException(jsonPath, "channel_names must number the channels 0, 1, 2 ... without gaps");
            if (!r.TryGetProperty("labels", out var lb) || lb.ValueKind != JsonValueKind.Object)
                throw new InvalidInputException(jsonPath, "'labels' is missing (e.g. {\"background\": 0, \"tumour\": 1})");
            var labels = new SortedDictionary<int, string>();
            foreach (var p in lb.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int v) || v < 0 || v > 255)
                    throw new InvalidInputException(jsonPath, $"label '{p.Name}' must be an integer 0-255 (nnU-Net region labels are not supported)");
                if (!labels.TryAdd(v, p.Name)) throw new InvalidInputException(jsonPath, $"label value {v} is used twice");
            }
            if (!labels.ContainsKey(0) || labels.Keys.Last() != labels.Count - 1 || labels.Count < 2)
                throw new InvalidInputException(jsonPath, "labels must be numbered 0 (background), 1, 2 ... without gaps, with at least one foreground label");
            if (!r.TryGetProperty("file_ending", out var fe) || fe.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(fe.GetString()))
                throw new InvalidInputException(jsonPath, "'file_ending' is missing (e.g. \".nii.gz\")");
            string ending = fe.GetString()!;
            string? modality = r.TryGetProperty("modality", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            string? pipeline = r.TryGetProperty("preprocessing", out var pp) && pp.ValueKind == JsonValueKind.String ? pp.GetString() : null;

            string imagesTr = Path.Combine(root, "imagesTr");
            if (!Directory.Exists(imagesTr)) throw new InvalidInputException(imagesTr, "imagesTr/ is missing");
            var training = Cases(imagesTr, Path.Combine(root, "labelsTr"), ending, channelFiles: true, labelsRequired: true);
            if (training.Count == 0) throw new InvalidInputException(imagesTr, $"no '*_0000{ending}' files");
            var test = Directory.Exists(Path.Combine(root, "imagesTs")) && Directory.Exists(Path.Combine(root, "labelsTs"))
                ? Cases(Path.Combine(root, "imagesTs"), Path.Combine(root, "labelsTs"), ending, channelFiles: true, labelsRequired: true)
                : [];
            // every channel of the first case must be present in every case (counts checked against channel_names on load)
            int files = training[0].ImageFiles.Count;
            foreach (var c in training.Concat(test))
                if (c.ImageFiles.Count != files)
                    throw new InvalidInputException(c.ImageFiles[0], $"case '{c.Id}' has {c.ImageFiles.Count} channel file(s), case '{training[0].Id}' has {files}");
            return new SegmentationDataset(root, DatasetLayout.NnUNet, channels.Values.ToList(), labels, modality, pipeline, training, test, readers);
        }
    }

    private static List<DatasetCase> Cases(string images, string labels, string ending, bool channelFiles, bool labelsRequired)
    {
        var byCase = new SortedDictionary<string, SortedDictionary<int, string>>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(images))
        {
            string name = Path.GetFileName(file);
            if (!name.EndsWith(ending, StringComparison.Ordinal)) continue;
            string stem = name[..^ending.Length];
            int us = stem.LastIndexOf('_');
            if (us <= 0 || stem.Length - us - 1 != 4 || !int.TryParse(stem.AsSpan(us + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int ch))
                throw new InvalidInputException(file, $"an image file must be named {{case}}_{{XXXX}}{ending} (channel number in four digits)");
            string id = stem[..us];
            if (!byCase.TryGetValue(id, out var chans)) byCase[id] = chans = new();
            chans[ch] = file;
        }
        var result = new List<DatasetCase>();
        foreach (var (id, chans) in byCase)
        {
            for (int i = 0; i < chans.Count; i++)
                if (!chans.ContainsKey(i))
                    throw new InvalidInputException(Path.Combine(images, $"{id}_{i:D4}{ending}"), $"case '{id}' lacks channel file {i:D4}");
            string label = Path.Combine(labels, id + ending);
            if (!File.Exists(label))
            {
                if (labelsRequired) throw new InvalidInputException(label, $"case '{id}' has no label file");
                label = null!;
            }
            result.Add(new DatasetCase(id, chans.Values.ToList(), label));
        }
        _ = channelFiles;
        return result;
    }

    private static SegmentationDataset OpenPlain(string root, ImageReaderRegistry readers)
    {
        string images = Path.Combine(root, "images"), masks = Path.Combine(root, "masks");
        var maskByStem = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string f in Directory.EnumerateFiles(masks))
            if (Stem(f) is { } s) maskByStem[s] = f;
        var cases = new List<DatasetCase>();
        foreach (string f in Directory.EnumerateFiles(images).Order(StringComparer.Ordinal))
        {
            if (Stem(f) is not { } stem) continue;
            if (!maskByStem.TryGetValue(stem, out var mask))
                throw new InvalidInputException(f, $"case '{stem}' has no mask in {masks} (same file stem expected)");
            cases.Add(new DatasetCase(stem, [f], mask));
        }
        if (cases.Count == 0) throw new InvalidInputException(images, "no image files");
        var first = readers.Read(cases[0].ImageFiles[0]);
        var channelNames = first.Channels == 3 ? new[] { "R", "G", "B" } : Enumerable.Range(0, first.Channels).Select(i => $"channel{i}").ToArray();
        // labels: the distinct mask values over every mask (255 counts as 1 in 0/255 masks)
        var values = new SortedSet<int>();
        foreach (var c in cases)
        {
            var m = readers.Read(c.LabelFile!);
            bool b255 = m.Voxels.All(v => v is 0 or 255);
            foreach (float v in m.Voxels.Distinct()) values.Add(b255 && v == 255 ? 1 : (int)v);
        }
        values.Add(0);
        if (values.Max >= values.Count || values.Max < 1)
            throw new InvalidInputException(masks, $"mask values must be 0, 1, 2 ... without gaps (or 0/255); found {string.Join(", ", values)}");
        var labels = values.ToDictionary(v => v, v => v == 0 ? "background" : $"label{v}");
        return new SegmentationDataset(root, DatasetLayout.Plain2D, channelNames, labels, null, null, cases, [], readers);
    }

    private static string? Stem(string file)
    {
        string name = Path.GetFileName(file);
        foreach (string e in ImageEndings)
            if (name.EndsWith(e, StringComparison.OrdinalIgnoreCase)) return name[..^e.Length];
        return null;
    }
}
