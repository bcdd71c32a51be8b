using Edu.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Tests.Runtime;

/// <summary>
/// The optimizer the trainer uses must be TorchSharp's Adam/AdamW to the bit (only the lifetime of its scalars differs):
/// seeded losses, exact resume and the PyTorch comparison all rest on that.
/// </summary>
public sealed class KeptScalarAdamTests
{
    [Theory]
    [InlineData("adam", 0.0)]
    [InlineData("adam", 1e-4)]
    [InlineData("adamw", 0.01)]
    public void Steps_EqualTorchSharpsOwnOptimizer_BitForBit(string kind, double weightDecay)
    {
        using var scope = NewDisposeScope();
        var (reference, referenceOptimizer) = Make(kind, weightDecay, ours: false);
        var (kept, keptOptimizer) = Make(kind, weightDecay, ours: true);
        var inputs = new Generator(7);
        for (int step = 0; step < 6; step++)
        {
            var x = randn([2, 1, 12, 12], generator: inputs);
            foreach (var (net, optimizer) in new[] { (reference, referenceOptimizer), (kept, keptOptimizer) })
            {
                optimizer.zero_grad();
                net.forward(x).square().mean().backward();
                optimizer.step();
            }
        }
        var expected = reference.parameters().ToList();
        var actual = kept.parameters().ToList();
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(expected[i].equal(actual[i]).all().item<bool>(), $"parameter {i} differs after 6 {kind} steps");
        Assert.False(expected[0].equal(Initial(kind, weightDecay)).all().item<bool>(), "the optimizer did not move the first parameter");
    }

    private static Tensor Initial(string kind, double weightDecay) => Make(kind, weightDecay, ours: true).Net.parameters().First();

    private static (nn.Module<Tensor, Tensor> Net, optim.Optimizer Optimizer) Make(string kind, double weightDecay, bool ours)
    {
        var net = Edu.Models.Catalogue.ModelCatalogue.Seeded(3, () => nn.Sequential(nn.Conv2d(1, 4, 3, padding: 1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 1, 1)));
        var parameters = net.parameters().ToList();
        optim.Optimizer optimizer = (kind, ours) switch
        {
            ("adam", false) => optim.Adam(parameters, 0.01, weight_decay: weightDecay),
            ("adamw", false) => optim.AdamW(parameters, 0.01, weight_decay: weightDecay),
            ("adam", true) => KeptScalarAdam.Adam(parameters, 0.01, weightDecay),
            _ => KeptScalarAdam.AdamW(parameters, 0.01, weightDecay),
        };
        return (net, optimizer);
    }
}
