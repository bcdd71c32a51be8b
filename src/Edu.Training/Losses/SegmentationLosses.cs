using Edu.Models.Runtime;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Training.Losses;

/// <summary>
/// Segmentation losses on logits, differentiable through TorchSharp autograd. Binary: logits [B, 1, ...] and a
/// float target of 0/1 [B, 1, ...]. Multi-class: logits [B, K, ...] and an int64 target of class indices [B, ...].
/// Soft Dice is computed over the whole batch per class (nnU-Net's batch Dice) with smoothing 1e-5 and averaged
/// over the foreground classes. Constants go in as process-wide scalars (<see cref="Scalars"/>): a temporary native scalar
/// can be freed under LibTorch while it reads it.
/// </summary>
public static class SegmentationLosses
{
    private const double Smooth = 1e-5;

    /// <summary>BCE-with-logits + (1 − soft Dice).</summary>
    public static Tensor BceDice(Tensor logits, Tensor target)
    {
        using var scope = NewDisposeScope();
        var bce = functional.binary_cross_entropy_with_logits(logits, target);
        var p = functional.sigmoid(logits);
        return (bce.add(Scalars.One, Scalars.One) - SoftDice(p, target).mean()).MoveToOuterDisposeScope();
    }

    /// <summary>Cross-entropy + (1 − mean soft Dice over the foreground classes).</summary>
    public static Tensor CeDice(Tensor logits, Tensor target)
    {
        using var scope = NewDisposeScope();
        var ce = functional.cross_entropy(logits, target);
        var (p, onehot) = ProbabilitiesAndOneHot(logits, target);
        var dice = SoftDice(p, onehot);
        return (ce.add(Scalars.One, Scalars.One) - dice[TensorIndex.Slice(1)].mean()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Focal Tversky loss: mean over foreground classes of (1 − TI)^γ, TI = (TP + s) / (TP + α FN + β FP + s);
    /// α = 0.7 weighs misses, β = 0.3 false alarms, γ = 0.75 (Abraham and Khan 2019). Works for both target forms.
    /// </summary>
    public static Tensor FocalTversky(Tensor logits, Tensor target, double alpha = 0.7, double beta = 0.3, double gamma = 0.75)
    {
        using var scope = NewDisposeScope();
        Tensor p, t;
        if (logits.shape[1] == 1) { p = functional.sigmoid(logits); t = target; }
        else
        {
            (p, t) = ProbabilitiesAndOneHot(logits, target);
            p = p[TensorIndex.Colon, TensorIndex.Slice(1)];
            t = t[TensorIndex.Colon, TensorIndex.Slice(1)];
        }
        var dims = SumDims(p);
        var tp = (p * t).sum(dims);
        var fn = (OneMinus(p) * t).sum(dims);
        var fp = (p * OneMinus(t)).sum(dims);
        var smooth = Scalars.Of(Smooth);
        var one = Scalars.One;
        var ti = tp.add(smooth, one) / tp.add(fn.mul(Scalars.Of(alpha)), one).add(fp.mul(Scalars.Of(beta)), one).add(smooth, one);
        return OneMinus(ti).pow(Scalars.Of(gamma)).mean().MoveToOuterDisposeScope();
    }

    /// <summary>The loss <paramref name="name"/> (<c>dice-ce</c> or <c>focal-tversky</c>) for <paramref name="classes"/> output channels.</summary>
    public static Func<Tensor, Tensor, Tensor> Get(string name, int classes) => name switch
    {
        "dice-ce" => classes == 1 ? BceDice : CeDice,
        "focal-tversky" => (l, t) => FocalTversky(l, t),
        _ => throw new Abstractions.Errors.InvalidInputException("--loss", $"'{name}': use dice-ce or focal-tversky"),
    };

    /// <summary>Soft Dice per class (channel), over batch and space: [K].</summary>
    private static Tensor SoftDice(Tensor p, Tensor t)
    {
        var dims = SumDims(p);
        var inter = (p * t).sum(dims);
        var denom = p.sum(dims).add(t.sum(dims), Scalars.One);
        var smooth = Scalars.Of(Smooth);
        return inter.mul(Scalars.Of(2)).add(smooth, Scalars.One) / denom.add(smooth, Scalars.One);
    }

    private static Tensor OneMinus(Tensor x) => x.neg().add(Scalars.One, Scalars.One);

    private static long[] SumDims(Tensor p) => [0, .. Enumerable.Range(2, (int)p.dim() - 2).Select(i => (long)i)];

    private static (Tensor P, Tensor OneHot) ProbabilitiesAndOneHot(Tensor logits, Tensor target)
    {
        long k = logits.shape[1];
        var p = functional.softmax(logits, 1);
        var oh = functional.one_hot(target, k).to_type(logits.dtype); // [B, ..., K]
        long[] perm = [0, oh.dim() - 1, .. Enumerable.Range(1, (int)oh.dim() - 2).Select(i => (long)i)];
        return (p, oh.permute(perm));
    }
}
