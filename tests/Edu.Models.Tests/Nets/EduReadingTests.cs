using Edu.Models.Catalogue;
using static TorchSharp.torch;

namespace Edu.Models.Tests.Nets;

/// <summary>The second reading of E-DU (MODELS.md): <c>edu-dense</c> and <c>edu-lean</c>.</summary>
public sealed class EduReadingTests
{
    private static readonly ModelCatalogue Catalogue = ModelCatalogue.CreateBuiltIn();

    [Theory]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(2, true)]
    public void At_initialisation_edu_dense_computes_what_unetpp_with_the_same_weights_computes(int dims, bool deepSupervision)
    {
        using var scope = NewDisposeScope();
        var hp = dims == 2
            ? new ModelHyperparameters(2, 2, 3, 4, Depth: 3, DeepSupervision: deepSupervision)
            : new ModelHyperparameters(3, 1, 2, 2, Depth: 3, DeepSupervision: deepSupervision);
        using var unetpp = Catalogue.Create("unetpp", hp, seed: 1);
        using var dense = Catalogue.Create("edu-dense", hp, seed: 2);
        var target = dense.state_dict();
        var source = unetpp.state_dict();
        using (no_grad())
        {
            foreach (var (key, value) in source)
            {
                Assert.True(target.ContainsKey(key), $"edu-dense has no {key}");
                target[key].copy_(value);
            }
        }
        // everything else edu-dense has is its MdeLite blocks, one per encoder level above the bottom
        var extra = target.Keys.Except(source.Keys).ToList();
        Assert.All(extra, k => Assert.StartsWith("mde.", k));
        Assert.Equal(Enumerable.Range(0, hp.Depth).Select(i => $"mde.{i}.alpha"), extra.Where(k => k.EndsWith(".alpha")));

        unetpp.eval();
        dense.eval();
        using var generator = new Generator(5);
        var x = randn(dims == 2 ? [2, 2, 32, 24] : [1, 1, 16, 16, 8], generator: generator);
        using (no_grad())
        {
            var expected = unetpp.forward(x);
            var actual = dense.forward(x);
            Assert.Equal(expected.shape, actual.shape);
            // 2-D: MdeLite is a direct convolution with δ at initialisation, exact; 3-D: by FFT, float rounding
            Assert.True(actual.allclose(expected, rtol: 1e-5, atol: dims == 2 ? 0 : 1e-5), $"max difference {(actual - expected).abs().max().item<float>()}");
        }
    }

    [Fact]
    public void Edu_lean_nodes_see_two_widths_and_edu_dense_nodes_the_dense_pathway()
    {
        var hp = new ModelHyperparameters(2, 1, 1, 4, Depth: 3);
        using var lean = Catalogue.Create("edu-lean", hp);
        using var dense = Catalogue.Create("edu-dense", hp);
        // nodes.{i}_{j}.conv1 takes 2 f_i channels in edu-lean, (j + 1) f_i in edu-dense
        Assert.Equal(new long[] { 4, 8, 3, 3 }, lean.state_dict()["nodes.0_3.conv1.weight"].shape);
        Assert.Equal(new long[] { 4, 16, 3, 3 }, dense.state_dict()["nodes.0_3.conv1.weight"].shape);
        Assert.Equal(new long[] { 16, 32, 3, 3 }, lean.state_dict()["nodes.2_1.conv1.weight"].shape);
        Assert.DoesNotContain("mde.3.alpha", lean.state_dict().Keys);
    }
}
