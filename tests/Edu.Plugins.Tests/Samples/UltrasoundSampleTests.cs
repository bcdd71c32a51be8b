using System.Text.Json;
using Edu.Abstractions.Imaging;
using Edu.Imaging;
using Edu.Imaging.Preprocessing;

namespace Edu.Plugins.Tests.Samples;

/// <summary>The third-party sample plugin, built with dotnet build, discovered and used by the host as docs/plugins.md describes.</summary>
public sealed class UltrasoundSampleTests(UltrasoundSampleFixture sample) : IClassFixture<UltrasoundSampleFixture>
{
    private PluginCatalog Load()
    {
        Assert.True(sample.BuildExitCode == 0, sample.BuildOutput);
        return PluginCatalog.Load(PluginSearchPath.Folders(hostDirectory: sample.Root, environmentValue: sample.PluginsFolder));
    }

    [Fact]
    public void The_built_sample_is_one_plugin_folder_without_a_copy_of_the_abstractions()
    {
        Assert.True(sample.BuildExitCode == 0, sample.BuildOutput);
        Assert.True(File.Exists(Path.Combine(sample.PluginFolder, "Edu.Plugins.Ultrasound.dll")));
        Assert.False(File.Exists(Path.Combine(sample.PluginFolder, "Edu.Abstractions.dll")), "the host's Edu.Abstractions must be shared, not shipped");
    }

    [Fact]
    public void The_host_discovers_it_through_EDU_PLUGINS_PATH_beside_the_first_party_plugins()
    {
        var catalog = PluginCatalog.Load([PluginFolders.FirstParty, .. PluginSearchPath.Folders(sample.Root, sample.PluginsFolder)]);
        Assert.True(sample.BuildExitCode == 0, sample.BuildOutput);

        var plugin = Assert.Single(catalog.Plugins, p => p.Name == "Edu.Plugins.Ultrasound");
        Assert.True(plugin.Status == PluginStatus.Loaded, plugin.Error);
        Assert.Equal("1.0.0", plugin.Version.Split('+')[0]);
        Assert.Equal(8, catalog.Plugins.Count(p => p.Status == PluginStatus.Loaded));
        var modality = catalog.GetModality("ultrasound");
        Assert.Equal(2, modality.Dims);
        Assert.Equal(["background", "lesion"], modality.LabelNames);
        Assert.NotNull(catalog.FindStep("despeckle"));
    }

    [Fact]
    public void Its_generator_makes_speckled_images_with_a_darker_lesion_and_its_pipeline_runs_and_inverts()
    {
        var catalog = Load();
        var generator = catalog.FindGenerator("ultrasound")!;

        var a = generator.Generate(seed: 4, size: 96);
        var b = generator.Generate(seed: 4, size: 96);

        Assert.Equal(a.Image.Voxels, b.Image.Voxels);
        Assert.NotEqual(a.Image.Voxels, generator.Generate(seed: 5, size: 96).Image.Voxels);
        float[] v = a.Image.Voxels, l = a.Labels.Voxels;
        Assert.Equal([0f, 1f], l.Distinct().Order());
        var lesion = Enumerable.Range(0, v.Length).Where(i => l[i] == 1).Select(i => (double)v[i]).ToList();
        var tissue = Enumerable.Range(0, v.Length).Where(i => l[i] == 0 && v[i] > 0).Select(i => (double)v[i]).ToList();
        Assert.True(lesion.Average() < 0.6 * tissue.Average(), $"lesion {lesion.Average()} vs tissue {tissue.Average()}: hypoechoic");
        double mean = tissue.Average(), sd = Math.Sqrt(tissue.Average(x => (x - mean) * (x - mean)));
        Assert.True(sd / mean > 0.3, $"speckle contrast {sd / mean}"); // fully developed speckle is about 0.52

        var runner = new PreprocessingRunner(catalog.PreprocessingSteps);
        var (image, applied) = runner.Run(a.Image, catalog.GetModality("ultrasound").DefaultPipeline);
        Assert.Equal(new VolumeSize(256, 256, 1), image.Size);
        Assert.Equal("despeckle", applied[0].Spec.Name);
        var labelsBack = runner.RestoreLabels(new ImageVolume(image.Geometry, 1, new float[image.Voxels.Length], PixelType.UInt8), applied);
        Assert.Equal(a.Image.Geometry, labelsBack.Geometry);
    }

    [Fact]
    public void Edu_synth_writes_an_ultrasound_dataset_with_the_plugin_on_EDU_PLUGINS_PATH()
    {
        Assert.True(sample.BuildExitCode == 0, sample.BuildOutput);
        Assert.True(File.Exists(BuildFacts.EduCliDll), $"{BuildFacts.EduCliDll} is missing: build hosts/Edu.Cli in {BuildFacts.Configuration} first (build/test.sh builds the whole solution)");
        string output = Path.Combine(sample.Root, "synth");
        var env = new Dictionary<string, string> { ["EDU_PLUGINS_PATH"] = sample.PluginsFolder };

        var plugins = ChildProcess.Run("dotnet", [BuildFacts.EduCliDll, "plugins", "--json"], env);
        var synth = ChildProcess.Run("dotnet", [BuildFacts.EduCliDll, "synth", "--modality", "ultrasound", "--count", "3", "--test", "1", "--size", "64", "--out", output], env);

        Assert.True(plugins.ExitCode == 0, plugins.StdErr);
        var row = JsonDocument.Parse(plugins.StdOut).RootElement.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "Edu.Plugins.Ultrasound");
        Assert.Equal("loaded", row.GetProperty("status").GetString());
        Assert.True(synth.ExitCode == 0, synth.StdErr);
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "dataset.json"))).RootElement;
        Assert.Equal("ultrasound", json.GetProperty("modality").GetString());
        Assert.Equal(3, json.GetProperty("numTraining").GetInt32());
        Assert.Equal(3, Directory.GetFiles(Path.Combine(output, "imagesTr"), "ultrasound_*_0000.png").Length);
        var label = ImageReaderRegistry.CreateDefault().Read(Path.Combine(output, "labelsTr", "ultrasound_000.png"));
        Assert.Equal(new VolumeSize(64, 64, 1), label.Size);
        Assert.Contains(1f, label.Voxels);
    }
    [Fact]
    public void Edu_inspect_reads_a_format_only_the_plugin_knows()
    {
        Assert.True(sample.BuildExitCode == 0, sample.BuildOutput);
        // a 16-bit binary PGM (P5, big-endian samples), 5 × 3, with a comment in its header; no extension to help
        string pgm = Path.Combine(sample.Root, "scan");
        var header = System.Text.Encoding.ASCII.GetBytes("P5\n# probe 7.5 MHz\n5 3\n1000\n");
        var pixels = Enumerable.Range(0, 15).SelectMany(i => new[] { (byte)((i * 60) >> 8), (byte)(i * 60) }).ToArray();
        File.WriteAllBytes(pgm, [.. header, .. pixels]);
        var env = new Dictionary<string, string> { ["EDU_PLUGINS_PATH"] = sample.PluginsFolder };

        var inspect = ChildProcess.Run("dotnet", [BuildFacts.EduCliDll, "inspect", pgm, "--json"], env);
        var without = ChildProcess.Run("dotnet", [BuildFacts.EduCliDll, "inspect", pgm, "--json"]);

        Assert.True(inspect.ExitCode == 0, inspect.StdErr);
        var json = JsonDocument.Parse(inspect.StdOut).RootElement;
        Assert.Equal("PGM", json.GetProperty("format").GetString());
        Assert.Equal([5, 3, 1], json.GetProperty("size").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(0, json.GetProperty("min").GetDouble());
        Assert.Equal(840, json.GetProperty("max").GetDouble());
        Assert.Equal(2, without.ExitCode); // the host alone does not know the format
    }
    [Fact]
    public void The_plugins_model_variant_is_listed_trained_and_used_to_segment_like_a_built_in_net()
    {
        Assert.True(sample.BuildExitCode == 0, sample.BuildOutput);
        var env = new Dictionary<string, string> { ["EDU_PLUGINS_PATH"] = sample.PluginsFolder };
        string data = Path.Combine(sample.Root, "variant-data"), run = Path.Combine(sample.Root, "variant-run"), output = Path.Combine(sample.Root, "variant-out");

        var models = ChildProcess.Run("dotnet", [BuildFacts.EduCliDll, "models", "--json"], env);
        var synth = ChildProcess.Run("dotnet", [BuildFacts.EduCliDll, "synth", "--modality", "ultrasound", "--count", "4", "--test", "1", "--size", "32", "--out", data], env);
        var train = ChildProcess.Run("dotnet", [BuildFacts.EduCliDll, "train", "--dataset", data, "--model", "us-lite", "--out", run, "--epochs", "1", "--batch", "2", "--patch", "32"], env);
        var segment = ChildProcess.Run("dotnet", [BuildFacts.EduCliDll, "segment", "--model", run, Path.Combine(data, "imagesTs"), "--out", output, "--json"], env);
        var withoutPlugin = ChildProcess.Run("dotnet", [BuildFacts.EduCliDll, "segment", "--model", run, Path.Combine(data, "imagesTs"), "--out", output + "-none"]);

        Assert.True(models.ExitCode == 0, models.StdErr);
        var lite = JsonDocument.Parse(models.StdOut).RootElement.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "us-lite");
        Assert.True(lite.GetProperty("parameters").GetInt64() > 0); // the catalogue built the plugin's net
        Assert.True(synth.ExitCode == 0, synth.StdErr);
        Assert.True(train.ExitCode == 0, train.StdErr);
        Assert.Equal("us-lite", JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "model", "model.json"))).RootElement.GetProperty("architecture").GetString());
        Assert.True(segment.ExitCode == 0, segment.StdErr);
        var result = JsonDocument.Parse(segment.StdOut).RootElement.GetProperty("cases")[0];
        var labels = ImageReaderRegistry.CreateDefault().Read(result.GetProperty("outputs")[0].GetString()!);
        Assert.Equal(new VolumeSize(32, 32, 1), labels.Size);
        Assert.Equal(2, withoutPlugin.ExitCode); // without the plugin the package's architecture is unknown
        Assert.Contains("us-lite", withoutPlugin.StdErr);
    }
}
