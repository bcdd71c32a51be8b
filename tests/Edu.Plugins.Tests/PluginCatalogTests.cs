using Edu.Abstractions.Imaging;

namespace Edu.Plugins.Tests;

public sealed class PluginCatalogTests
{
    private static readonly string[] FirstPartyNames =
        ["Edu.Plugins.CT", "Edu.Plugins.Dermoscopy", "Edu.Plugins.Endoscopy", "Edu.Plugins.Fundus", "Edu.Plugins.MR", "Edu.Plugins.Microscopy", "Edu.Plugins.XRay"];

    [Fact]
    public void First_party_plugins_load_and_register_the_seven_modalities_with_generators()
    {
        var catalog = PluginCatalog.Load([PluginFolders.FirstParty]);

        Assert.All(catalog.Plugins, p => Assert.True(p.Status == PluginStatus.Loaded, $"{p.Name}: {p.Status} {p.Error}"));
        Assert.Equal(FirstPartyNames, catalog.Plugins.Select(p => p.Name));
        Assert.Equal(["ct", "dermoscopy", "endoscopy", "fundus", "microscopy", "mr", "xray"], catalog.Modalities.Select(m => m.Id).Order());
        foreach (var m in catalog.Modalities)
            Assert.NotNull(catalog.FindGenerator(m.Id));
        var mr = catalog.GetModality("mr");
        Assert.Equal(["T1", "T1ce", "T2", "FLAIR"], mr.ChannelNames);
        Assert.Equal("zscore(mask=nonzero)", mr.DefaultPipeline.ToString());
        Assert.Contains(catalog.GetModality("ct").DefaultPipeline.Steps, s => s.Name == "resample");
    }

    [Fact]
    public void A_plugin_whose_entry_point_throws_is_reported_and_the_others_still_load()
    {
        using var folders = new PluginFolders();
        folders.Add("Fixture.Throws");
        folders.Add("Fixture.Good");

        var catalog = folders.Load();

        var broken = Assert.Single(catalog.Plugins, p => p.Name == "Fixture.Throws");
        Assert.Equal(PluginStatus.Failed, broken.Status);
        Assert.Contains("the fixture refuses to register", broken.Error);
        Assert.Equal(PluginStatus.Loaded, catalog.Plugins.Single(p => p.Name == "Fixture.Good").Status);
        Assert.Equal("fixture", Assert.Single(catalog.Modalities).Id);
    }

    [Fact]
    public void A_duplicate_modality_id_is_a_conflict_and_the_first_registration_stays()
    {
        using var folders = new PluginFolders();
        folders.Add("Edu.Plugins.CT");
        folders.Add("Fixture.DuplicateCt");

        var catalog = folders.Load();

        var dup = catalog.Plugins.Single(p => p.Name == "Fixture.DuplicateCt");
        Assert.Equal(PluginStatus.Conflict, dup.Status);
        Assert.Contains("'ct' is already registered by plugin Edu.Plugins.CT", dup.Error);
        Assert.Equal("Chest CT", Assert.Single(catalog.Modalities).Name);
    }

    [Fact]
    public void A_plugin_built_against_another_contract_version_is_refused_with_both_versions_named()
    {
        using var folders = new PluginFolders();
        folders.Add("Fixture.OldContract");

        var p = Assert.Single(folders.Load().Plugins);

        Assert.Equal(PluginStatus.Incompatible, p.Status);
        Assert.Contains("contract 99", p.Error);
        Assert.Contains($"contract {Edu.Abstractions.Plugins.PluginContract.Version}", p.Error);
    }

    [Fact]
    public void A_plugin_for_another_framework_is_refused()
    {
        using var folders = new PluginFolders();
        folders.Add("Fixture.WrongFramework");

        var p = Assert.Single(folders.Load().Plugins);

        Assert.Equal(PluginStatus.Incompatible, p.Status);
        Assert.Contains("netstandard2.0", p.Error);
        Assert.Contains("net10.0", p.Error);
    }

    [Fact]
    public void A_plugin_whose_dependency_is_not_deployed_reports_the_missing_assembly()
    {
        using var folders = new PluginFolders();
        string dir = folders.Add("Fixture.MissingDependency");
        File.Delete(Path.Combine(dir, "Fixture.Helper.dll"));

        var p = Assert.Single(folders.Load().Plugins);

        Assert.Equal(PluginStatus.MissingDependency, p.Status);
        Assert.Contains("Fixture.Helper", p.Error);
    }

    [Fact]
    public void The_same_plugin_with_its_dependency_loads()
    {
        using var folders = new PluginFolders();
        folders.Add("Fixture.MissingDependency");

        var catalog = folders.Load();

        Assert.Equal(PluginStatus.Loaded, Assert.Single(catalog.Plugins).Status);
        Assert.Equal("helper", Assert.Single(catalog.Modalities).Id);
    }

    [Fact]
    public void A_file_that_is_not_an_assembly_and_a_folder_without_one_are_reported()
    {
        using var folders = new PluginFolders();
        Directory.CreateDirectory(Path.Combine(folders.Root, "Garbage"));
        File.WriteAllBytes(Path.Combine(folders.Root, "Garbage", "Garbage.dll"), [0x4d, 0x5a, 1, 2, 3, 4]);
        Directory.CreateDirectory(Path.Combine(folders.Root, "Empty"));

        var catalog = folders.Load();

        Assert.Equal(PluginStatus.Failed, catalog.Plugins.Single(p => p.Name == "Garbage").Status);
        Assert.Contains("not a .NET assembly", catalog.Plugins.Single(p => p.Name == "Garbage").Error);
        Assert.Contains("Empty/Empty.dll", catalog.Plugins.Single(p => p.Name == "Empty").Error);
    }

    [Fact]
    public void The_same_plugin_name_in_a_later_folder_is_a_conflict()
    {
        using var a = new PluginFolders();
        using var b = new PluginFolders();
        a.Add("Fixture.Good");
        b.Add("Fixture.Good");

        var catalog = PluginCatalog.Load([a.Root, b.Root]);

        Assert.Equal([PluginStatus.Loaded, PluginStatus.Conflict], catalog.Plugins.Select(p => p.Status));
    }

    [Fact]
    public void Custom_steps_generators_and_model_variants_of_a_plugin_are_usable_through_the_shared_contracts()
    {
        using var folders = new PluginFolders();
        folders.Add("Fixture.Good");
        var catalog = folders.Load();

        var step = catalog.FindStep("invert")!;
        var generated = catalog.FindGenerator("fixture")!.Generate(seed: 1, size: 8);
        var result = step.Apply(generated.Image, catalog.GetModality("fixture").DefaultPipeline.Steps[0]);
        var variant = Assert.Single(catalog.ModelVariants);

        Assert.Equal(55f, result.Image.Voxels[9]);
        Assert.Equal(255f, result.Image.Voxels[0]);
        Assert.Equal("net:3", variant.Factory(new Dictionary<string, string> { ["classes"] = "3" }));
        Assert.IsType<ImageVolume>(step.InvertLabels(generated.Labels, result.Applied));
    }
}
