using Edu.Models.Blocks;
using Edu.Models.Catalogue;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Tests.Blocks;

public sealed class MdeLiteTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void At_initialisation_it_is_the_identity(int dims)
    {
        using var scope = NewDisposeScope();
        using var block = ModelCatalogue.Seeded(3, () => new MdeLite(dims, 4));
        using var generator = new Generator(3);
        var e = randn(dims == 2 ? [2, 4, 13, 11] : [1, 4, 9, 7, 8], generator: generator);
        using (no_grad())
        {
            var h = block.forward(e);
            Assert.Equal(e.shape, h.shape);
            // 2-D: a direct convolution with δ, exact; 3-D on the CPU: through the Fourier transform, float rounding
            Assert.True(h.allclose(e, rtol: dims == 2 ? 0 : 1e-5, atol: dims == 2 ? 0 : 1e-5), $"max difference {(h - e).abs().max().item<float>()}");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Fused_depthwise_convolution_equals_the_unfused_residual_formula(int dims)
    {
        using var scope = NewDisposeScope();
        const long c = 5;
        using var block = ModelCatalogue.Seeded(7, () => new MdeLite(dims, c));
        using var generator = new Generator(7);
        var (g3, g5, g7, alpha) = block.EnhancementParameters;
        using (no_grad())
        {
            alpha.copy_(randn([3, c], generator: generator));
            foreach (var g in new[] { g3, g5, g7 }) g.add_(rand(g.shape, generator: generator) * 0.05);
        }
        var e = randn(dims == 2 ? [2, c, 13, 11] : [1, c, 9, 7, 8], generator: generator);
        using (no_grad())
        {
            Tensor Blur(Tensor g, int k) => dims == 2
                ? nn.functional.conv2d(e, g, padding: [k / 2, k / 2], groups: c)
                : nn.functional.conv3d(e, g, padding: [k / 2, k / 2, k / 2], groups: c);
            var view = dims == 2 ? new long[] { 1, c, 1, 1 } : new long[] { 1, c, 1, 1, 1 };
            var expected = e + alpha[0].view(view) * (e - Blur(g3, 3))
                             + alpha[1].view(view) * (e - Blur(g5, 5))
                             + alpha[2].view(view) * (e - Blur(g7, 7));
            var actual = block.forward(e);
            Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-5), $"max difference {(actual - expected).abs().max().item<float>()}");
            Assert.False(actual.allclose(e, rtol: 1e-3, atol: 1e-3)); // no longer the identity
        }
    }

    [Fact]
    public void Its_kernels_and_weights_get_gradients()
    {
        using var scope = NewDisposeScope();
        using var block = ModelCatalogue.Seeded(1, () => new MdeLite(2, 3));
        using var generator = new Generator(1);
        var e = randn([2, 3, 10, 9], generator: generator);
        (block.forward(e) * randn([2, 3, 10, 9], generator: generator)).sum().backward();
        var (g3, g5, g7, alpha) = block.EnhancementParameters;
        Assert.True(alpha.grad!.abs().sum().item<float>() > 0);
        // at α = 0 the Gaussians do not change the output yet: their gradient is exactly 0 until α moves
        foreach (var g in new[] { g3, g5, g7 }) Assert.Equal(0f, g.grad!.abs().sum().item<float>());
    }
}
