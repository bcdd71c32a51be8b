using System.Globalization;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Serialization;
using Edu.Cli.Hosting;
using Edu.Imaging;

namespace Edu.Cli.Training;

/// <summary>Writes quickstart's synthetic chest X-ray dataset (the xray plugin's generator) in the nnU-Net v2 layout.</summary>
public static class QuickstartDataset
{
    /// <summary>The pipeline quickstart trains with: the xray modality's intensity step, without its 512×512 resize (images are already small).</summary>
    public const string Pipeline = "percentile(low=0.5, high=99.5)";

    /// <summary>Writes <paramref name="training"/> + <paramref name="test"/> cases of <paramref name="size"/> pixels into <paramref name="directory"/>.</summary>
    public static void Write(string directory, int training, int test, int size, int seed, CancellationToken cancellationToken)
    {
        var modality = CliPlugins.Catalog.FindModality("xray");
        var generator = CliPlugins.Catalog.FindGenerator("xray");
        if (modality is null || generator is null)
            throw new MissingDependencyException("the xray modality plugin (plugins/Edu.Plugins.XRay)", "not loaded", "rebuild with ./edu; `./edu plugins` lists what loaded");
        var writers = ImageWriterRegistry.CreateDefault();
        foreach (string sub in (string[])["imagesTr", "labelsTr", "imagesTs", "labelsTs"]) Directory.CreateDirectory(Path.Combine(directory, sub));
        for (int i = 0; i < training + test; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool tr = i < training;
            var c = generator.Generate(seed + i, size);
            string id = $"xray_{i:D3}";
            writers.Write(c.Image, Path.Combine(directory, tr ? "imagesTr" : "imagesTs", $"{id}_0000.png"), cancellationToken);
            writers.Write(c.Labels, Path.Combine(directory, tr ? "labelsTr" : "labelsTs", $"{id}.png"), cancellationToken);
        }
        var json = new Dictionary<string, object>
        {
            ["name"] = "Quickstart synthetic chest X-ray",
            ["description"] = "Synthetic PA chest radiographs with exact lung labels (edu quickstart).",
            ["channel_names"] = modality.ChannelNames.Select((n, i) => (n, i)).ToDictionary(p => p.i.ToString(CultureInfo.InvariantCulture), p => p.n),
            ["labels"] = modality.LabelNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i),
            ["numTraining"] = training,
            ["file_ending"] = ".png",
            ["modality"] = modality.Id,
            ["preprocessing"] = Pipeline,
        };
        File.WriteAllText(Path.Combine(directory, "dataset.json"), JsonSerializer.Serialize(json, EduJson.Indented));
    }
}
