using Edu.Models.Blocks;
using Edu.Models.Runtime;
using Edu.Models.Catalogue;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Tests.Blocks;

public sealed class MdeTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Fused_depthwise_convolution_equals_the_unfused_three_scale_formula(int dims)
    {
        using var scope = NewDisposeScope();
        const long c = 5;
        using var mde = ModelCatalogue.Seeded(7, () => new Mde(dims, c));
        using var generator = new Generator(7);
        var (g3, g5, g7, gain) = mde.EnhancementParameters;
        using (no_grad())
        {
            gain.copy_(randn([3, c], generator: generator) * 2);
            foreach (var g in new[] { g3, g5, g7 }) g.add_(rand(g.shape, generator: generator) * 0.05);
        }
        var e = randn(dims == 2 ? [2, c, 13, 11] : [1, c, 9, 7, 8], generator: generator);

        using (no_grad())
        {
            Tensor Blur(Tensor g, int k) => dims == 2
                ? nn.functional.conv2d(e, g, padding: [k / 2, k / 2], groups: c)
                : nn.functional.conv3d(e, g, padding: [k / 2, k / 2, k / 2], groups: c);
            var view = dims == 2 ? new long[] { 1, c, 1, 1 } : new long[] { 1, c, 1, 1, 1 };
            var expected = e + (gain[0].view(view) * (e - Blur(g3, 3))
                              + gain[1].view(view) * (e - Blur(g5, 5))
                              + gain[2].view(view) * (e - Blur(g7, 7))) / 3;
            var actual = mde.Enhance(e);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-5),
                $"max difference {(actual - expected).abs().max().item<float>()}");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Recomputing_in_the_backward_pass_gives_the_same_output_gradients_and_running_statistics(int dims)
    {
        using var scope = NewDisposeScope();
        const long c = 3;
        (Tensor Output, Dictionary<string, Tensor> Grads, Dictionary<string, Tensor> Buffers) Step(bool recompute)
        {
            var mde = ModelCatalogue.Seeded(21, () => new Mde(dims, c) { RecomputeInBackward = recompute });
            mde.train();
            using var generator = new Generator(5);
            long[] shape = dims == 2 ? [2, c, 12, 10] : [2, c, 8, 6, 7];
            var e = randn(shape, generator: generator).requires_grad_();
            var u = randn(shape, generator: generator).requires_grad_();
            var output = mde.forward(e, u);
            (output * randn(shape, generator: generator)).sum().backward();
            var grads = mde.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
            grads["e"] = e.grad!.clone();
            grads["u"] = u.grad!.clone();
            var buffers = mde.named_buffers().ToDictionary(b => b.name, b => b.buffer.clone());
            return (output.detach().clone(), grads, buffers);
        }
        var plain = Step(recompute: false);
        var recomputed = Step(recompute: true);
        Assert.True(recomputed.Output.allclose(plain.Output, rtol: 1e-5, atol: 1e-6));
        Assert.Equal(plain.Grads.Keys.Order(), recomputed.Grads.Keys.Order());
        Assert.Equal(9, plain.Grads.Count); // e, u, three kernels, gains, pointwise weight, BN weight and bias
        foreach (var (name, grad) in plain.Grads)
            Assert.True(recomputed.Grads[name].allclose(grad, rtol: 1e-4, atol: 1e-5),
                $"{name}: differs by {(recomputed.Grads[name] - grad).abs().max().item<float>()}");
        foreach (var (name, buffer) in plain.Buffers)
            Assert.True(recomputed.Buffers[name].to(ScalarType.Float64).allclose(buffer.to(ScalarType.Float64), rtol: 1e-5, atol: 1e-7), $"buffer {name}");
    }

    [Theory]
    [InlineData(3, 9, 7, 8)]
    [InlineData(7, 9, 7, 8)]
    [InlineData(7, 16, 16, 16)]
    public void Depthwise_convolution_by_fft_equals_the_direct_one_with_its_gradients(int k, int d, int h, int w)
    {
        using var scope = NewDisposeScope();
        const long c = 4;
        using var generator = new Generator(11);
        var e1 = randn([2, c, d, h, w], generator: generator).requires_grad_();
        var k1 = randn([c, 1, k, k, k], generator: generator).requires_grad_();
        var e2 = e1.detach().clone().requires_grad_();
        var k2 = k1.detach().clone().requires_grad_();
        var direct = nn.functional.conv3d(e1, k1, padding: [k / 2, k / 2, k / 2], groups: c);
        var byFft = Mde.DepthwiseByFft(e2, k2);
        Assert.Equal(direct.shape, byFft.shape);
        Assert.True(byFft.allclose(direct, rtol: 1e-4, atol: 1e-4), $"max difference {(byFft - direct).abs().max().item<float>()}");

        var upstream = randn(direct.shape, generator: generator);
        (direct * upstream).sum().backward();
        (byFft * upstream).sum().backward();
        Assert.True(e2.grad!.allclose(e1.grad!, rtol: 1e-4, atol: 1e-3), $"input gradient differs by {(e2.grad! - e1.grad!).abs().max().item<float>()}");
        Assert.True(k2.grad!.allclose(k1.grad!, rtol: 1e-4, atol: 1e-2), $"kernel gradient differs by {(k2.grad! - k1.grad!).abs().max().item<float>()}");
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void Gaussian_kernels_sum_to_one_peak_in_the_centre_and_are_separable(int k)
    {
        using var scope = NewDisposeScope();
        var g2 = Mde.GaussianKernel(2, 2, k);
        var g3 = Mde.GaussianKernel(3, 1, k);
        Assert.Equal(new long[] { 2, 1, k, k }, g2.shape);
        Assert.Equal(new long[] { 1, 1, k, k, k }, g3.shape);
        Assert.True(g2[0].sum().allclose(tensor(1f)));
        Assert.True(g3.sum().allclose(tensor(1f)));
        Assert.Equal(g2[0, 0].max().item<float>(), g2[0, 0, k / 2, k / 2].item<float>());
        // separable: the 2-D kernel is the outer product of its row and column marginals
        var row = g2[0, 0].sum(dim: 0);
        Assert.True(g2[0, 0].allclose(outer(row, row), atol: 1e-7));
        // σ = 0.3((k−1)/2 − 1) + 0.8: the ratio of neighbouring taps of the marginal
        double sigma = 0.3 * ((k - 1) / 2.0 - 1) + 0.8;
        double ratio = row[k / 2 + 1].item<float>() / row[k / 2].item<float>();
        Assert.Equal(Math.Exp(-1 / (2 * sigma * sigma)), ratio, 5);
    }

    [Fact]
    public void Gains_start_at_one_and_receive_gradients_through_the_fused_kernel()
    {
        using var scope = NewDisposeScope();
        using var mde = ModelCatalogue.Seeded(1, () => new Mde(2, 3));
        var (g3, _, _, gain) = mde.EnhancementParameters;
        Assert.True(gain.eq(Scalars.Of(1)).all().item<bool>());
        var e = TestRandom.Normal(1, 3, 8, 8);
        mde.forward(e, zeros_like(e)).pow(Scalars.Of(2)).sum().backward();
        Assert.True(gain.grad!.abs().sum().item<float>() > 0);
        Assert.True(g3.grad!.abs().sum().item<float>() > 0);
    }
}
