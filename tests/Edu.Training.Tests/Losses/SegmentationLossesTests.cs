using Edu.Training.Losses;
using Edu.Models.Runtime;
using static TorchSharp.torch;

namespace Edu.Training.Tests.Losses;

public sealed class SegmentationLossesTests
{
    [Fact]
    public void BceDice_matches_hand_computed_value()
    {
        using var scope = NewDisposeScope();
        // logits 0 → p = 0.5 everywhere; target: two of four voxels set
        var logits = zeros(1, 1, 2, 2);
        var target = tensor(new float[] { 1, 1, 0, 0 }, [1, 1, 2, 2]);
        double bce = Math.Log(2);
        double dice = (2 * 1.0 + 1e-5) / (2.0 + 2.0 + 1e-5); // p·t = 2·0.5, Σp = 2, Σt = 2
        Assert.Equal(bce + 1 - dice, SegmentationLosses.BceDice(logits, target).item<float>(), 5);
    }

    [Fact]
    public void CeDice_is_near_zero_for_confident_correct_logits_and_large_for_wrong_ones()
    {
        using var scope = NewDisposeScope();
        var target = tensor(new long[] { 0, 1, 2, 2 }, [1, 2, 2]);
        var good = functional_one_hot(target, 3) * 20;
        var bad = functional_one_hot((target + 1) % 3, 3) * 20;
        Assert.True(SegmentationLosses.CeDice(good, target).item<float>() < 1e-3);
        Assert.True(SegmentationLosses.CeDice(bad, target).item<float>() > 10);
    }

    [Fact]
    public void FocalTversky_of_perfect_prediction_is_zero_and_of_all_background_is_one()
    {
        using var scope = NewDisposeScope();
        var target = tensor(new float[] { 1, 0, 1, 0 }, [1, 1, 2, 2]);
        Assert.Equal(0, SegmentationLosses.FocalTversky((target * 2 - 1) * 30, target).item<float>(), 4);
        // p = 0 everywhere: TP 0 → TI = s / (0.7·2 + s) ≈ 0 → loss ≈ 1
        Assert.Equal(1, SegmentationLosses.FocalTversky(full(new long[] { 1, 1, 2, 2 }, Scalars.Of(-30f)), target).item<float>(), 3);
    }

    [Theory]
    [InlineData("dice-ce", 1)]
    [InlineData("dice-ce", 3)]
    [InlineData("focal-tversky", 1)]
    [InlineData("focal-tversky", 3)]
    public void Gradients_flow_to_the_logits(string name, int classes)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(1); // not the global one: seeded net builds run in parallel tests
        var logits = randn([2, classes, 4, 4], generator: generator).requires_grad_();
        var target = classes == 1
            ? (rand([2, 1, 4, 4], generator: generator) > Scalars.Of(0.5)).to_type(ScalarType.Float32)
            : randint(0, classes, [2, 4, 4], generator: generator);
        var loss = SegmentationLosses.Get(name, classes)(logits, target);
        loss.backward();
        Assert.NotNull(logits.grad);
        Assert.True(logits.grad!.abs().sum().item<float>() > 0);
        Assert.True(float.IsFinite(loss.item<float>()));
    }

    private static Tensor functional_one_hot(Tensor target, int k) =>
        nn.functional.one_hot(target, k).permute(0, 3, 1, 2).to_type(ScalarType.Float32);
}
