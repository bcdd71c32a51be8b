using Edu.Models.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Tests.Blocks;

/// <summary>Our BatchNorm must be TorchSharp's to the bit: outputs, running statistics, batch count and state-dict keys.</summary>
public sealed class KeptScalarBatchNormTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Training_and_evaluation_equal_TorchSharps_BatchNorm_bit_for_bit(int dims)
    {
        using var scope = NewDisposeScope();
        nn.Module<Tensor, Tensor> reference = dims == 2 ? nn.BatchNorm2d(5) : nn.BatchNorm3d(5);
        var kept = new KeptScalarBatchNorm(dims, 5);
        Assert.Equal(reference.state_dict().Keys.Order(), kept.state_dict().Keys.Order());
        var generator = new Generator(11);
        long[] shape = dims == 2 ? [3, 5, 6, 7] : [2, 5, 4, 5, 6];
        for (int step = 0; step < 4; step++)
        {
            var x = randn(shape, generator: generator).mul_(Edu.Models.Runtime.Scalars.Of(step + 1));
            Assert.True(reference.forward(x).equal(kept.forward(x)).all().item<bool>(), $"training output, step {step}");
        }
        foreach (var (key, value) in reference.state_dict())
            Assert.True(value.equal(kept.state_dict()[key]).all().item<bool>(), $"{key} after 4 training steps");
        Assert.Equal(4L, kept.state_dict()["num_batches_tracked"].item<long>());
        reference.eval();
        kept.eval();
        var probe = randn(shape, generator: generator);
        Assert.True(reference.forward(probe).equal(kept.forward(probe)).all().item<bool>(), "evaluation output");
        Assert.Throws<ArgumentException>(() => kept.forward(randn(dims == 2 ? [2, 5, 4] : [2, 5, 4, 4], generator: generator)));
    }
}
