namespace Edu.Plugins.Tests;

public sealed class SyntheticGeneratorTests
{
    private static readonly Lazy<PluginCatalog> Catalog = new(() => PluginCatalog.Load([PluginFolders.FirstParty]));

    public static TheoryData<string> ModalityIds => new() { "xray", "ct", "mr", "microscopy", "dermoscopy", "endoscopy", "fundus" };

    [Theory]
    [MemberData(nameof(ModalityIds))]
    public void Generators_are_deterministic_for_a_seed_and_differ_between_seeds(string id)
    {
        var generator = Catalog.Value.FindGenerator(id)!;

        var a = generator.Generate(seed: 7, size: 64);
        var b = generator.Generate(seed: 7, size: 64);
        var c = generator.Generate(seed: 8, size: 64);

        Assert.Equal(a.Image.Voxels, b.Image.Voxels);
        Assert.Equal(a.Labels.Voxels, b.Labels.Voxels);
        Assert.NotEqual(a.Image.Voxels, c.Image.Voxels);
    }

    [Theory]
    [MemberData(nameof(ModalityIds))]
    public void Cases_match_the_modality_and_every_label_appears(string id)
    {
        var modality = Catalog.Value.GetModality(id);
        var generated = Catalog.Value.FindGenerator(id)!.Generate(seed: 3, size: 96);

        Assert.Equal(modality.Channels, generated.Image.Channels);
        Assert.Equal(1, generated.Labels.Channels);
        Assert.Equal(generated.Image.Geometry, generated.Labels.Geometry);
        Assert.Equal(modality.Dims == 2, generated.Image.Size.Z == 1);
        Assert.Equal(96, generated.Image.Size.X);
        var present = generated.Labels.Voxels.Distinct().Order().ToArray();
        Assert.Equal(Enumerable.Range(0, modality.LabelNames.Count).Select(v => (float)v), present);
    }

    [Fact]
    public void Ct_is_in_hounsfield_units_with_air_outside_and_denser_nodules_in_the_lung()
    {
        var ct = Catalog.Value.FindGenerator("ct")!.Generate(seed: 5, size: 64);
        float[] v = ct.Image.Voxels, l = ct.Labels.Voxels;

        Assert.InRange(v[0], -1100, -900);
        double lung = Enumerable.Range(0, v.Length).Where(i => l[i] == 1).Average(i => v[i]);
        double nodule = Enumerable.Range(0, v.Length).Where(i => l[i] == 2).Average(i => v[i]);
        Assert.InRange(lung, -900, -600);
        Assert.InRange(nodule, -50, 100);
    }

    [Fact]
    public void Mr_background_is_zero_so_the_brain_mask_is_the_nonzero_voxels()
    {
        var mr = Catalog.Value.FindGenerator("mr")!.Generate(seed: 2, size: 64);
        long n = mr.Image.Size.VoxelCount;

        for (int c = 0; c < 4; c++)
            Assert.Equal(0f, mr.Image.Voxels[c * n]);
        Assert.True(mr.Image.Channel(0).ToArray().Count(x => x > 0) > n / 4);
    }
}
