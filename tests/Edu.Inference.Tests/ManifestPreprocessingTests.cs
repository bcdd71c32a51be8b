using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Preprocessing;
using Edu.Models.Catalogue;

namespace Edu.Inference.Tests;

public sealed class ManifestPreprocessingTests
{
    private static ManifestPreprocessing Read(string json) =>
        ManifestPreprocessing.FromManifest(TestImages.Manifest("unet", new ModelHyperparameters()) with { Preprocessing = JsonDocument.Parse(json).RootElement });

    [Fact]
    public void The_json_written_for_a_manifest_reads_back()
    {
        var original = new ManifestPreprocessing(PreprocessingPipeline.Parse("clip(min=-1000, max=400); resample(spacing=1x1x2); zscore"), [96, 96, 48]);
        var manifest = TestImages.Manifest("unet", new ModelHyperparameters()) with { Preprocessing = original.ToJson() };

        var read = ManifestPreprocessing.FromManifest(manifest);

        Assert.Equal(original.Pipeline, read.Pipeline);
        Assert.Equal([96, 96, 48], read.PatchSize);
    }

    [Fact]
    public void The_trainers_fields_are_read_with_the_patch_in_tensor_order()
    {
        var read = Read("""{"pipeline": "zscore", "patch": [16, 96, 128], "spatial_dims": 3, "slices": false, "sigmoid": true, "channel_names": ["T1", "FLAIR"]}""");

        Assert.Equal("zscore", read.Pipeline.ToString());
        Assert.Equal([128, 96, 16], read.PatchSize);
        Assert.Equal(["T1", "FLAIR"], read.ChannelNames);
        Assert.Equal([64, 32], Read("""{"patch_size": [64, 32]}""").PatchSize);
    }

    [Fact]
    public void A_bare_string_a_list_of_steps_and_no_field_are_read()
    {
        Assert.Equal("zscore", Read("\"zscore\"").Pipeline.ToString());
        Assert.Equal("clip(max=1, min=0); zscore", Read("""{"steps": ["clip(min=0, max=1)", "zscore"]}""").Pipeline.ToString());
        Assert.Empty(ManifestPreprocessing.FromManifest(TestImages.Manifest("unet", new ModelHyperparameters())).Pipeline.Steps);
    }

    [Theory]
    [InlineData("""{"pipeline": 3}""")]
    [InlineData("""{"pipeline": "clip(min=0"}""")]
    [InlineData("""{"patch_size": [0, 32]}""")]
    [InlineData("""{"patch": "64x64"}""")]
    [InlineData("""{"patch_size": [32, 32, 32, 32]}""")]
    [InlineData("[1, 2]")]
    public void Malformed_fields_are_refused_naming_the_manifest(string json)
    {
        var e = Assert.Throws<InvalidInputException>(() => Read(json));
        Assert.Equal("model.json", e.Input);
    }
}
