using System.Globalization;
using System.Text.Json;
using Edu.Abstractions.Datasets;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Abstractions.Serialization;

namespace Edu.Plugins.Shared;

/// <summary>
/// Writes an nnU-Net v2 dataset into a (staging) folder: <c>imagesTr/{case}_{XXXX}{ending}</c>,
/// <c>labelsTr/{case}{ending}</c>, <c>imagesTs/</c> (and <c>labelsTs/</c> when test labels exist) and
/// <c>dataset.json</c>, through the writers the host lends.
/// </summary>
internal sealed class NnUNetDataset
{
    private readonly string _root;
    private readonly string _ending;
    private readonly IImageWriter _writer;
    private readonly HashSet<string> _cases = new(StringComparer.Ordinal);

    /// <summary>Creates the folders; <paramref name="fileEnding"/> is <c>.png</c>, <c>.nii.gz</c>, <c>.tif</c>...</summary>
    public NnUNetDataset(string root, DatasetConversionContext context, string fileEnding)
    {
        ArgumentNullException.ThrowIfNull(context);
        _root = root;
        _ending = fileEnding;
        _writer = context.Writers
            .Select((w, i) => (Writer: w, Index: i, Ext: w.Extensions.Where(e => string.Equals(e, fileEnding, StringComparison.OrdinalIgnoreCase)).Count()))
            .Where(x => x.Ext > 0).OrderBy(x => x.Index).Select(x => x.Writer).FirstOrDefault()
            ?? throw new InvalidOperationException($"the host lent no writer for {fileEnding} files to the converter");
        foreach (string sub in (string[])["imagesTr", "labelsTr", "imagesTs"])
            Directory.CreateDirectory(Path.Combine(root, sub));
    }

    /// <summary>Training cases written so far.</summary>
    public int Training { get; private set; }

    /// <summary>Test cases written so far.</summary>
    public int Test { get; private set; }

    /// <summary>Writes a training case: one file per channel image and the label volume.</summary>
    public void AddTraining(string caseId, IReadOnlyList<ImageVolume> channelImages, ImageVolume labels, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Add(caseId, "imagesTr", channelImages, cancellationToken);
        if (!labels.Geometry.IsCloseTo(channelImages[0].Geometry))
            throw new InvalidOperationException($"case {caseId}: labels are not on the image's geometry");
        _writer.Write(labels, Path.Combine(_root, "labelsTr", caseId + _ending), cancellationToken);
        Training++;
    }

    /// <summary>Writes a test case into imagesTs, with its labels into labelsTs when known.</summary>
    public void AddTest(string caseId, IReadOnlyList<ImageVolume> channelImages, ImageVolume? labels, CancellationToken cancellationToken)
    {
        Add(caseId, "imagesTs", channelImages, cancellationToken);
        if (labels is not null)
        {
            Directory.CreateDirectory(Path.Combine(_root, "labelsTs"));
            _writer.Write(labels, Path.Combine(_root, "labelsTs", caseId + _ending), cancellationToken);
        }
        Test++;
    }

    private void Add(string caseId, string folder, IReadOnlyList<ImageVolume> channelImages, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ArgumentNullException.ThrowIfNull(channelImages);
        if (caseId.Length == 0 || caseId.Any(c => char.IsWhiteSpace(c) || c is '/' or '\\'))
            throw new InvalidOperationException($"'{caseId}' is not a usable case id");
        if (!_cases.Add(caseId))
            throw new InvalidInputException(caseId, "two source cases map to this case id; the source holds a duplicate");
        for (int c = 0; c < channelImages.Count; c++)
            _writer.Write(channelImages[c], Path.Combine(_root, folder, $"{caseId}_{c.ToString("D4", CultureInfo.InvariantCulture)}{_ending}"), cancellationToken);
    }

    /// <summary>Writes <c>dataset.json</c> (nnU-Net v2 fields plus the modality, the converter and notes).</summary>
    /// <param name="name">Dataset name.</param>
    /// <param name="description">What it is and how labels were made.</param>
    /// <param name="modalityId">The EDU modality.</param>
    /// <param name="converterId">The converter's id.</param>
    /// <param name="channelNames">Channel names in file order.</param>
    /// <param name="labelNames">Label names by value, background first.</param>
    /// <param name="reference">Where the dataset comes from.</param>
    public void WriteDatasetJson(string name, string description, string modalityId, string converterId,
        IReadOnlyList<string> channelNames, IReadOnlyList<string> labelNames, string reference)
    {
        var json = new Dictionary<string, object>
        {
            ["name"] = name,
            ["description"] = description,
            ["reference"] = reference,
            ["channel_names"] = channelNames.Select((n, i) => (n, i)).ToDictionary(p => p.i.ToString(CultureInfo.InvariantCulture), p => p.n),
            ["labels"] = labelNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i),
            ["numTraining"] = Training,
            ["numTest"] = Test,
            ["file_ending"] = _ending,
            ["modality"] = modalityId,
            ["converted_by"] = $"edu dataset convert --from {converterId}",
        };
        File.WriteAllText(Path.Combine(_root, "dataset.json"), JsonSerializer.Serialize(json, JsonOptions));
    }

    private static JsonSerializerOptions JsonOptions => EduJson.Indented;
}
