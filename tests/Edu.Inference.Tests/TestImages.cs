using Edu.Abstractions.Imaging;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;

namespace Edu.Inference.Tests;

/// <summary>Hand-made images and manifests for predictor tests.</summary>
internal static class TestImages
{
    /// <summary>An oblique direction (rotation about z by 30°, then about x by 20°), columns = image axes.</summary>
    public static readonly double[] Oblique = Rotation();

    /// <summary>A smooth, asymmetric pattern in every channel, deterministic for a seed.</summary>
    public static ImageVolume Pattern(int x, int y, int z, int channels = 1, double[]? spacing = null, double[]? direction = null, int seed = 1)
    {
        var geometry = new ImageGeometry(new VolumeSize(x, y, z), spacing ?? [1, 1, 1], [12.5, -40, 7], direction ?? [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        var v = new float[(long)x * y * z * channels];
        var random = new Random(seed);
        int i = 0;
        for (int c = 0; c < channels; c++)
            for (int k = 0; k < z; k++)
                for (int j = 0; j < y; j++)
                    for (int m = 0; m < x; m++)
                        v[i++] = (float)(Math.Sin(0.31 * m + 0.7 * c) + Math.Cos(0.17 * j * (c + 1)) + 0.05 * k + 0.4 * random.NextDouble() + (m > x / 3 && j < y / 2 ? 1.5 : 0));
        return new ImageVolume(geometry, channels, v, PixelType.Float32);
    }

    public static ModelManifest Manifest(string architecture, ModelHyperparameters hp, string? pipeline = null, int[]? patch = null,
        IReadOnlyDictionary<string, string>? labels = null) => new()
        {
            Name = "test-model",
            Version = "0.0.1",
            Architecture = architecture,
            Hyperparameters = hp,
            Labels = labels ?? new Dictionary<string, string> { ["0"] = "background", ["1"] = "organ" },
            Preprocessing = pipeline is null && patch is null ? null
                : new ManifestPreprocessing(Abstractions.Preprocessing.PreprocessingPipeline.Parse(pipeline ?? ""), patch).ToJson(),
        };

    private static double[] Rotation()
    {
        double a = Math.PI / 6, b = Math.PI / 9;
        double[,] rz = { { Math.Cos(a), -Math.Sin(a), 0 }, { Math.Sin(a), Math.Cos(a), 0 }, { 0, 0, 1 } };
        double[,] rx = { { 1, 0, 0 }, { 0, Math.Cos(b), -Math.Sin(b) }, { 0, Math.Sin(b), Math.Cos(b) } };
        var r = new double[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 3; k++)
                    r[i * 3 + j] += rx[i, k] * rz[k, j];
        return r;
    }
}
