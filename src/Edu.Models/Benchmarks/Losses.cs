using static TorchSharp.torch;
using Edu.Models.Runtime;
using static TorchSharp.torch.nn;

namespace Edu.Models.Benchmarks;

/// <summary>The benchmark loss: BCE-with-logits plus soft Dice (1 − 2|p∩y| / (|p| + |y|), smoothed by 1), averaged over the batch.</summary>
public static class Losses
{
    public static Tensor BceDice(Tensor logits, Tensor target)
    {
        using var scope = NewDisposeScope();
        var bce = functional.binary_cross_entropy_with_logits(logits, target);
        var p = functional.sigmoid(logits).flatten(1);
        var t = target.flatten(1);
        var one = Scalars.One;
        var dice = (p * t).sum(1).mul(Scalars.Of(2)).add(one, one) / p.sum(1).add(t.sum(1), one).add(one, one);
        return bce.add(dice.mean().neg().add(one, one), one).MoveToOuterDisposeScope();
    }

    /// <summary>Dice agreement of two binary masks (1 when both are empty).</summary>
    public static double Dice(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var fa = a.to_type(ScalarType.Float32).flatten();
        var fb = b.to_type(ScalarType.Float32).flatten();
        double denom = fa.sum().add(fb.sum(), Scalars.One).item<float>();
        return denom == 0 ? 1.0 : 2 * (fa * fb).sum().item<float>() / denom;
    }
}
