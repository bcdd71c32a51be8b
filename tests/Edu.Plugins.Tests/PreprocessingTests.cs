using Edu.Abstractions.Preprocessing;
using Edu.Imaging.Preprocessing;

namespace Edu.Plugins.Tests;

public sealed class PreprocessingTests
{
    private static readonly Lazy<PluginCatalog> Catalog = new(() => PluginCatalog.Load([PluginFolders.FirstParty]));

    public static TheoryData<string> ModalityIds => new() { "xray", "ct", "mr", "microscopy", "dermoscopy", "endoscopy", "fundus" };

    [Fact]
    public void A_pipeline_reads_back_from_its_text_and_a_parameter_can_be_overridden()
    {
        var pipeline = PreprocessingPipeline.Parse("clip(min=-1000, max=400); resample(spacing=0.8x0.8x2.5); zscore");

        Assert.Equal(pipeline, PreprocessingPipeline.Parse(pipeline.ToString()));
        Assert.Equal("clip(max=200, min=-1000)", pipeline.WithParameter("clip", "max", "200").Steps[0].ToString());
    }

    [Theory]
    [MemberData(nameof(ModalityIds))]
    public void Default_pipelines_run_and_labels_go_back_to_the_source_geometry_exactly(string id)
    {
        var modality = Catalog.Value.GetModality(id);
        var generated = Catalog.Value.FindGenerator(id)!.Generate(seed: 4, size: 48);
        var runner = new PreprocessingRunner(Catalog.Value.PreprocessingSteps);

        var (image, applied) = runner.Run(generated.Image, modality.DefaultPipeline);
        // a "prediction": the true labels taken through the same geometric steps, rounded to integers
        var geometric = new PreprocessingPipeline(modality.DefaultPipeline.Steps.Where(s => s.Name is "resample" or "resize"));
        var (moved, _) = runner.Run(generated.Labels, geometric);
        var labels = new Abstractions.Imaging.ImageVolume(moved.Geometry, 1, moved.Voxels.Select(v => MathF.Round(v)).ToArray(), moved.SourcePixelType);
        var restored = runner.RestoreLabels(labels, applied);

        Assert.Equal(generated.Image.Geometry, restored.Geometry);
        Assert.True(image.Voxels.All(float.IsFinite));
        double agreement = restored.Voxels.Zip(generated.Labels.Voxels).Count(p => p.First == p.Second) / (double)restored.Voxels.Length;
        Assert.True(agreement > 0.97, $"{id}: {agreement:P1} of labels back in place");
    }

    [Fact]
    public void Zscore_over_the_nonzero_mask_leaves_the_background_zero_and_standardises_the_brain()
    {
        var mr = Catalog.Value.FindGenerator("mr")!.Generate(seed: 1, size: 48);
        var (image, _) = new PreprocessingRunner().Run(mr.Image, PreprocessingPipeline.Parse("zscore(mask=nonzero)"));

        var t1 = image.Channel(0).ToArray();
        var brain = t1.Where((_, i) => mr.Image.Voxels[i] != 0).ToArray();
        Assert.Equal(0f, t1[0]);
        Assert.InRange(brain.Average(), -1e-3, 1e-3);
        Assert.InRange(Math.Sqrt(brain.Average(v => v * v)), 0.999, 1.001);
    }

    [Fact]
    public void The_xray_pipeline_scales_every_radiograph_to_512_and_upscale_false_leaves_small_ones_at_their_size()
    {
        var xray = Catalog.Value.GetModality("xray");
        var runner = new PreprocessingRunner(Catalog.Value.PreprocessingSteps);
        var small = Catalog.Value.FindGenerator("xray")!.Generate(seed: 2, size: 64).Image;
        var large = new Abstractions.Imaging.ImageVolume(Abstractions.Imaging.ImageGeometry.Identity(new Abstractions.Imaging.VolumeSize(1024, 768, 1)), 1,
            Enumerable.Range(0, 1024 * 768).Select(i => (float)(i % 1024)).ToArray(), Abstractions.Imaging.PixelType.UInt16);

        // the default keeps the scale a net was trained at: small exports are scaled up like large ones are scaled down
        var (upscaled, _) = runner.Run(small, xray.DefaultPipeline);
        var (scaled, _) = runner.Run(large, xray.DefaultPipeline);
        var (kept, keptSteps) = runner.Run(small, xray.DefaultPipeline.WithParameter("resize", "upscale", "false"));

        Assert.Equal(new Abstractions.Imaging.VolumeSize(512, 512, 1), upscaled.Size);
        Assert.Equal(new Abstractions.Imaging.VolumeSize(512, 512, 1), scaled.Size); // 512×384 of image, padded centred
        Assert.Equal(small.Size, kept.Size);
        Assert.Equal(small.Geometry.Spacing, kept.Geometry.Spacing);
        Assert.Equal(small.Geometry.Origin, kept.Geometry.Origin);
        var labels = new Abstractions.Imaging.ImageVolume(kept.Geometry, 1, [.. kept.Voxels.Select(v => v > 0.5f ? 1f : 0f)], Abstractions.Imaging.PixelType.UInt8);
        Assert.Equal(small.Geometry, runner.RestoreLabels(labels, keptSteps).Geometry);
    }

    [Fact]
    public void Resize_refuses_an_upscale_that_is_not_true_or_false()
    {
        var runner = new PreprocessingRunner();
        var image = Catalog.Value.FindGenerator("xray")!.Generate(seed: 2, size: 32).Image;

        var e = Assert.Throws<Abstractions.Errors.InvalidInputException>(() => runner.Run(image, PreprocessingPipeline.Parse("resize(size=64x64, upscale=maybe)")));
        Assert.Contains("upscale must be true or false", e.Message, StringComparison.Ordinal);
    }
}
