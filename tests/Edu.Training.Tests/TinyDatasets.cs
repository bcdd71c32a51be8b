using System.Text.Json;
using Edu.Abstractions.Imaging;
using Edu.Imaging;

namespace Edu.Training.Tests;

/// <summary>Writes small real datasets with the project's image writers: bright discs (label 1) and, optionally, dark squares (label 2) on noise.</summary>
internal static class TinyDatasets
{
    private static readonly ImageWriterRegistry Writers = ImageWriterRegistry.CreateDefault();

    public static (ImageVolume Image, ImageVolume Labels) Case(int seed, int size, int depth = 1, bool twoLabels = false, double[]? spacing = null)
    {
        var r = new Random(seed);
        int n = size * size * depth;
        var img = new float[n];
        var lab = new float[n];
        double cx = r.Next(size / 4, 3 * size / 4), cy = r.Next(size / 4, 3 * size / 4), cz = (depth - 1) / 2.0, rad = size / 6.0 + r.Next(3);
        for (int z = 0; z < depth; z++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    int i = (z * size + y) * size + x;
                    double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy) + (depth > 1 ? (z - cz) * (z - cz) * 4 : 0);
                    float v = 60 + (float)(r.NextDouble() * 30);
                    if (d2 < rad * rad) { v += 120; lab[i] = 1; }
                    else if (twoLabels && Math.Abs(x - (size - 1 - cx)) < size / 10.0 && Math.Abs(y - (size - 1 - cy)) < size / 10.0) { v = 10; lab[i] = 2; }
                    img[i] = MathF.Round(v);
                }
        var g = new ImageGeometry(new VolumeSize(size, size, depth), spacing ?? [1, 1, 1], [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        return (new ImageVolume(g, 1, img, PixelType.UInt8), new ImageVolume(g, 1, lab, PixelType.UInt8));
    }

    /// <summary>An nnU-Net v2 dataset: PNG for 2-D (depth 1), NIfTI for 3-D.</summary>
    public static string NnUNet(string dir, int count, int size, int depth = 1, bool twoLabels = false, int test = 0, int seed = 0)
    {
        string ending = depth == 1 ? ".png" : ".nii.gz";
        foreach (var sub in new[] { "imagesTr", "labelsTr", "imagesTs", "labelsTs" }) Directory.CreateDirectory(Path.Combine(dir, sub));
        for (int i = 0; i < count + test; i++)
        {
            var (img, lab) = Case(seed + i, size, depth, twoLabels);
            bool tr = i < count;
            Writers.Write(img, Path.Combine(dir, tr ? "imagesTr" : "imagesTs", $"case_{i:D3}_0000{ending}"));
            Writers.Write(lab, Path.Combine(dir, tr ? "labelsTr" : "labelsTs", $"case_{i:D3}{ending}"));
        }
        var labels = new Dictionary<string, int> { ["background"] = 0, ["disc"] = 1 };
        if (twoLabels) labels["square"] = 2;
        WriteJson(dir, new Dictionary<string, object>
        {
            ["channel_names"] = new Dictionary<string, string> { ["0"] = "signal" },
            ["labels"] = labels,
            ["numTraining"] = count,
            ["file_ending"] = ending,
        });
        return dir;
    }

    public static void WriteJson(string dir, object value) =>
        File.WriteAllText(Path.Combine(dir, "dataset.json"), JsonSerializer.Serialize(value));

    public static void Write(ImageVolume v, string path) => Writers.Write(v, path);
}
