using Edu.Abstractions.Errors;
using Edu.Models.Catalogue;
using static TorchSharp.torch;

namespace Edu.Models.Tests.Catalogue;

public sealed class PluginVariantTests
{
    [Fact]
    public void A_variant_gets_the_hyperparameters_under_their_model_json_names_and_builds_beside_the_built_in_nets()
    {
        IReadOnlyDictionary<string, string>? seen = null;
        var catalogue = ModelCatalogue.CreateWith([("one-conv", "a 1×1 convolution", h =>
        {
            seen = h;
            return nn.Conv2d(int.Parse(h["in_channels"]), int.Parse(h["classes"]), 1);
        })]);

        using var net = catalogue.Create("one-conv", new ModelHyperparameters(2, 3, 2, Depth: 3), seed: 1);

        Assert.Equal([.. ModelCatalogue.BuiltInNames, "one-conv"], catalogue.Definitions.Select(d => d.Name));
        Assert.Equal(new Dictionary<string, string>
        {
            ["spatial_dims"] = "2", ["in_channels"] = "3", ["classes"] = "2", ["base_channels"] = "32", ["depth"] = "3", ["deep_supervision"] = "false",
        }, seen);
        using var output = net.forward(zeros(1, 3, 8, 8));
        Assert.Equal([1L, 2, 8, 8], output.shape);
    }

    [Fact]
    public void A_variant_whose_factory_returns_no_network_is_refused_naming_it()
    {
        var catalogue = ModelCatalogue.CreateWith([("not-a-net", "returns a string", _ => "net")]);

        var e = Assert.Throws<InvalidInputException>(() => catalogue.Create("not-a-net", new ModelHyperparameters()));
        Assert.Contains("not-a-net", e.Message);
        Assert.Contains("System.String", e.Message);
    }

    [Fact]
    public void A_variant_cannot_take_a_built_in_name()
    {
        var e = Assert.Throws<InvalidInputException>(() => ModelCatalogue.CreateWith([("edu", "impostor", _ => nn.Identity())]));
        Assert.Contains("already registered", e.Message);
    }
    [Fact]
    public void A_variant_whose_factory_throws_is_bad_input_naming_it()
    {
        var catalogue = ModelCatalogue.CreateWith([("two-d-only", "refuses 3-D", h =>
            h["spatial_dims"] == "2" ? nn.Identity() : throw new ArgumentException("two-d-only is a 2-D net"))]);

        var e = Assert.Throws<InvalidInputException>(() => catalogue.Create("two-d-only", new ModelHyperparameters(SpatialDims: 3)));
        Assert.Equal("two-d-only", e.Input);
        Assert.Contains("2-D net", e.Problem);
    }
}
