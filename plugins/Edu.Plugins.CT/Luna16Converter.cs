using System.Globalization;
using Edu.Abstractions.Datasets;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Plugins.Shared;

namespace Edu.Plugins.CT;

/// <summary>
/// LUNA16: scans in <c>subsetN/*.mhd</c> (+ <c>.raw</c>; at any depth below <c>subsetN/</c>) and <c>annotations.csv</c> (or
/// <c>CSVFILES/annotations.csv</c>) with <c>seriesuid, coordX, coordY, coordZ, diameter_mm</c> in world
/// millimetres. Each nodule becomes a sphere of its diameter, label <c>nodule</c> = 1, rasterised in
/// world coordinates through the scan's geometry (a voxel is inside when its centre is). Scans without
/// annotations get an empty label volume; annotations of scans not present are ignored (users often
/// download only some subsets). Images are written as NIfTI in HU with the scan's geometry; the case
/// id is the series UID.
/// </summary>
public sealed class Luna16Converter : IDatasetConverter
{
    /// <inheritdoc />
    public string Id => "luna16";

    /// <inheritdoc />
    public string ModalityId => "ct";

    /// <inheritdoc />
    public string Description => "LUNA16: subsetN/*.mhd + .raw and annotations.csv (world-mm nodule centres and diameters → spheres)";

    /// <inheritdoc />
    public int Convert(string sourceFolder, string destinationFolder, DatasetConversionContext context, CancellationToken cancellationToken = default) =>
        ConversionFolder.Run(sourceFolder, destinationFolder, (source, staging) =>
        {
            string csv = SourceFiles.Find(source, "annotations.csv") ?? SourceFiles.Find(source, Path.Combine("CSVFILES", "annotations.csv"))
                ?? throw new InvalidInputException(source, "missing annotations.csv (nodule centres and diameters); is this the LUNA16 folder?");
            var nodules = ReadAnnotations(csv);
            var scans = Directory.GetDirectories(source, "subset*").Order(StringComparer.Ordinal)
                .SelectMany(d => Directory.GetFiles(d, "*.mhd", SearchOption.AllDirectories).Order(StringComparer.Ordinal)).ToList(); // subset0.zip may unpack to subset0/subset0/
            if (scans.Count == 0)
                throw new InvalidInputException(source, "no scans: expected subset0/ … subset9/ folders holding *.mhd with their .raw files");
            var dataset = new NnUNetDataset(staging, context, ".nii.gz");
            foreach (string scan in scans)
            {
                string uid = SourceFiles.Stem(scan, ".mhd");
                var image = SourceFiles.Read(context, scan, cancellationToken);
                if (image.Channels != 1) throw new InvalidInputException(scan, $"has {image.Channels} channels; a CT scan has one");
                var labels = new float[image.Size.VoxelCount];
                foreach (var (x, y, z, d) in nodules.GetValueOrDefault(uid) ?? [])
                    NoduleSphere.Paint(labels, image.Geometry, x, y, z, d / 2, 1);
                dataset.AddTraining(uid, [image], SourceFiles.Labels(image.Geometry, labels), cancellationToken);
            }
            dataset.WriteDatasetJson("LUNA16", "Chest CT (LIDC-IDRI subset) with nodules ≥ 3 mm as spheres from annotations.csv.",
                ModalityId, Id, ["CT"], ["background", "nodule"], "https://luna16.grand-challenge.org/");
            return dataset.Training;
        }, cancellationToken);

    private static Dictionary<string, List<(double X, double Y, double Z, double Diameter)>> ReadAnnotations(string csv)
    {
        var lines = File.ReadAllLines(csv);
        if (lines.Length == 0) throw new InvalidInputException(csv, "is empty; expected a header seriesuid,coordX,coordY,coordZ,diameter_mm");
        var header = lines[0].Split(',').Select(h => h.Trim()).ToList();
        int Column(string name) => header.IndexOf(name) is var i and >= 0 ? i
            : throw new InvalidInputException(csv, $"the header has no '{name}' column (found: {lines[0]})");
        int uid = Column("seriesuid"), cx = Column("coordX"), cy = Column("coordY"), cz = Column("coordZ"), cd = Column("diameter_mm");
        var result = new Dictionary<string, List<(double, double, double, double)>>(StringComparer.Ordinal);
        for (int n = 1; n < lines.Length; n++)
        {
            if (string.IsNullOrWhiteSpace(lines[n])) continue;
            var cells = lines[n].Split(',');
            double Number(int column)
            {
                if (column >= cells.Length || !double.TryParse(cells[column], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                    throw new InvalidInputException(csv, $"line {n + 1}: '{(column < cells.Length ? cells[column] : "")}' in column {header[column]} is not a number");
                return v;
            }
            double d = Number(cd);
            if (d <= 0 || d > 500) throw new InvalidInputException(csv, $"line {n + 1}: diameter_mm {d} is not a nodule diameter");
            string id = cells[uid].Trim();
            if (!result.TryGetValue(id, out var list)) result[id] = list = [];
            list.Add((Number(cx), Number(cy), Number(cz), d));
        }
        return result;
    }
}
