using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Preprocessing;
using Edu.Models.Catalogue;

namespace Edu.Inference.Tests;

public sealed class PackagePreprocessingTests
{
    private static PackagePreprocessing Read(string json) =>
        PackagePreprocessing.FromManifest(TestImages.Manifest("unet", new ModelHyperparameters()) with { Preprocessing = JsonDocument.Parse(json).RootElement });

    [Fact]
    public void The_json_written_for_a_manifest_reads_back()
    {
        var original = new PackagePreprocessing(PreprocessingPipeline.Parse("clip(min=-1000, max=400); resample(spacing=1x1x2); zscore"), [96, 96, 48]);
        var manifest = TestImages.Manifest("unet", new ModelHyperparameters()) with { Preprocessing = original.ToJson() };

        var read = PackagePreprocessing.FromManifest(manifest);

        Assert.Equal(original.Pipeline, read.Pipeline);
        Assert.Equal([96, 96, 48], read.PatchSize);
    }

    [Fact]
    public void A_bare_string_a_list_of_steps_and_no_field_are_read()
    {
        Assert.Equal("zscore", Read("\"zscore\"").Pipeline.ToString());
        Assert.Equal("clip(max=1, min=0); zscore", Read("""{"steps": ["clip(min=0, max=1)", "zscore"]}""").Pipeline.ToString());
        Assert.Empty(PackagePreprocessing.FromManifest(TestImages.Manifest("unet", new ModelHyperparameters())).Pipeline.Steps);
    }

    [Theory]
    [InlineData("""{"pipeline": 3}""")]
    [InlineData("""{"pipeline": "clip(min=0"}""")]
    [InlineData("""{"patch_size": [0, 32]}""")]
    [InlineData("""{"patch_size": [32, 32, 32, 32]}""")]
    [InlineData("[1, 2]")]
    public void Malformed_fields_are_refused_naming_the_manifest(string json)
    {
        var e = Assert.Throws<InvalidInputException>(() => Read(json));
        Assert.Equal("model.json", e.Input);
    }
}
