using System.Text.Json;
using Edu.Abstractions.Imaging;
using Edu.Imaging;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;

namespace Edu.Worker.Tests;

/// <summary>Tiny real inputs: model packages (base 4), images and an nnU-Net dataset with exact labels.</summary>
internal static class TestData
{
    /// <summary>Writes an untrained <c>unet</c> package (base 4, depth 2) to <c>MODELS/{name}/{version}</c>.</summary>
    public static string Package(string models, string name, string version, int dims, int inChannels, string? modality = null)
    {
        string dir = Path.Combine(models, name, version);
        var hp = new ModelHyperparameters(dims, inChannels, 1, 4, 2, false);
        using var model = ModelCatalogue.CreateBuiltIn().Create("unet", hp);
        var manifest = new ModelManifest
        {
            Name = name,
            Version = version,
            Architecture = "unet",
            Hyperparameters = hp,
            Modality = modality,
            Labels = new Dictionary<string, string> { ["0"] = "background", ["1"] = "lesion" },
            Preprocessing = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["pipeline"] = "zscore" }),
        };
        ModelPackage.Save(dir, manifest, model);
        return dir;
    }

    /// <summary>A volume of <paramref name="size"/> with a bright box in the middle (label 1) on a darker noisy background.</summary>
    public static (ImageVolume Image, ImageVolume Labels) Box(VolumeSize size, int channels, int seed, double[]? spacing = null)
    {
        var random = new Random(seed);
        long n = size.VoxelCount;
        var image = new float[n * channels];
        var labels = new float[n];
        int x0 = size.X / 4 + random.Next(size.X / 8), y0 = size.Y / 4 + random.Next(size.Y / 8), z0 = size.Z / 4;
        for (int z = 0; z < size.Z; z++)
            for (int y = 0; y < size.Y; y++)
                for (int x = 0; x < size.X; x++)
                {
                    long i = ((long)z * size.Y + y) * size.X + x;
                    bool inside = x >= x0 && x < x0 + size.X / 2 && y >= y0 && y < y0 + size.Y / 2 && (size.Z == 1 || (z >= z0 && z < z0 + size.Z / 2));
                    labels[i] = inside ? 1 : 0;
                    for (int c = 0; c < channels; c++)
                        image[c * n + i] = (inside ? 180 : 40) + random.Next(30);
                }
        var geometry = new ImageGeometry(size, spacing ?? [0.8, 0.8, size.Z == 1 ? 1 : 2.5], [10, -20, 30], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        return (new ImageVolume(geometry, channels, image, PixelType.UInt8), new ImageVolume(geometry, 1, labels, PixelType.UInt8));
    }

    /// <summary>Writes <paramref name="volume"/> to <paramref name="path"/> (format by extension).</summary>
    public static string Write(ImageVolume volume, string path)
    {
        ImageWriterRegistry.CreateDefault().Write(volume, path);
        return path;
    }

    /// <summary>A 2-D grey nnU-Net v2 dataset of <paramref name="count"/> 32×32 PNG cases.</summary>
    public static string Dataset(string root, int count)
    {
        foreach (var sub in new[] { "imagesTr", "labelsTr" }) Directory.CreateDirectory(Path.Combine(root, sub));
        for (int i = 0; i < count; i++)
        {
            var (image, labels) = Box(new VolumeSize(32, 32, 1), 1, i, [1, 1, 1]);
            Write(image, Path.Combine(root, "imagesTr", $"box_{i:D3}_0000.png"));
            Write(labels, Path.Combine(root, "labelsTr", $"box_{i:D3}.png"));
        }
        File.WriteAllText(Path.Combine(root, "dataset.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["channel_names"] = new Dictionary<string, string> { ["0"] = "grey" },
            ["labels"] = new Dictionary<string, int> { ["background"] = 0, ["box"] = 1 },
            ["numTraining"] = count,
            ["file_ending"] = ".png",
        }));
        return root;
    }
}
