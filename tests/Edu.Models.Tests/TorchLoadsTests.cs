using Edu.Models.Catalogue;
using Edu.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Tests;

public sealed class TorchLoadsTests
{
    [Fact]
    public void Native_library_loads_and_a_tiny_conv_net_trains_one_step()
    {
        using var scope = torch.NewDisposeScope();
        var net = ModelCatalogue.Seeded(1, () => nn.Sequential(nn.Conv2d(1, 4, 3, padding: 1), nn.ReLU(), nn.Conv2d(4, 1, 1)));
        var optimizer = optim.Adam(net.parameters(), lr: 0.01);
        var input = TestRandom.Normal(2, 1, 8, 8);
        var target = (input > Scalars.Of(0)).to_type(ScalarType.Float32);
        var before = net.parameters().Select(p => p.detach().clone()).ToList();

        optimizer.zero_grad();
        var loss = nn.functional.binary_cross_entropy_with_logits(net.forward(input), target);
        loss.backward();
        optimizer.step();

        Assert.True(float.IsFinite(loss.item<float>()));
        Assert.Contains(net.parameters().Zip(before), pair => !pair.First.allclose(pair.Second));
    }
}
