using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Edu.Models.Runtime;

/// <summary>
/// Dynamic loss scaling for float16 training (PyTorch's <c>torch.amp.GradScaler</c>, which TorchSharp 0.107 lacks): the
/// loss is multiplied by <see cref="Scale"/> before the backward pass so small float16 gradients do not flush to zero, the
/// float32 gradients are divided by it again before clipping and the optimizer step, and a step whose gradients hold
/// an infinity or NaN (the scale was too large) is skipped and the scale halved. After <see cref="GrowthInterval"/>
/// steps in a row with finite gradients the scale doubles. Defaults are GradScaler's: 2^16, ×2 every 2000 good steps, ×0.5
/// on overflow.
/// </summary>
public sealed class LossScaler
{
    /// <summary>GradScaler's initial scale, 2^16.</summary>
    public const double DefaultInitialScale = 65536;

    /// <summary>Creates a scaler; the arguments restore a saved state (<see cref="Scale"/>, <see cref="GoodSteps"/>).</summary>
    public LossScaler(double initialScale = DefaultInitialScale, int growthInterval = 2000, int goodSteps = 0)
    {
        if (!(initialScale > 0) || double.IsInfinity(initialScale)) throw new ArgumentOutOfRangeException(nameof(initialScale), initialScale, "a positive finite scale is needed");
        if (growthInterval < 1) throw new ArgumentOutOfRangeException(nameof(growthInterval), growthInterval, "at least 1");
        if (goodSteps < 0 || goodSteps >= growthInterval) throw new ArgumentOutOfRangeException(nameof(goodSteps), goodSteps, "0 to growthInterval − 1");
        Scale = initialScale;
        GrowthInterval = growthInterval;
        GoodSteps = goodSteps;
    }

    /// <summary>The factor the loss is multiplied by.</summary>
    public double Scale { get; private set; }

    /// <summary>Finite steps in a row needed before the scale doubles.</summary>
    public int GrowthInterval { get; }

    /// <summary>Finite steps in a row since the scale last changed.</summary>
    public int GoodSteps { get; private set; }

    /// <summary>Steps skipped for non-finite gradients since this scaler was made.</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>Sets the state saved with a checkpoint (a resumed run continues with the scale it had).</summary>
    public void Restore(double scale, int goodSteps)
    {
        if (!(scale > 0) || double.IsInfinity(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "a positive finite scale is needed");
        if (goodSteps < 0 || goodSteps >= GrowthInterval) throw new ArgumentOutOfRangeException(nameof(goodSteps), goodSteps, "0 to growthInterval − 1");
        Scale = scale;
        GoodSteps = goodSteps;
    }

    /// <summary><paramref name="loss"/> × <see cref="Scale"/>, for the backward pass.</summary>
    public Tensor ScaleLoss(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        using var scale = Scale.ToScalar();
        return loss.mul(scale);
    }

    /// <summary>Divides every gradient of <paramref name="parameters"/> by <see cref="Scale"/>, in place.</summary>
    public void Unscale(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        using var inverse = (1.0 / Scale).ToScalar();
        using var noGrad = no_grad();
        foreach (var p in parameters)
            p.grad?.mul_(inverse);
    }

    /// <summary>
    /// Records the outcome of a step: with <paramref name="finiteGradients"/> false the scale halves, the run of good steps
    /// restarts and the step must be skipped (returns false); otherwise the step may be taken (returns true), and the scale
    /// doubles when this completes <see cref="GrowthInterval"/> good steps.
    /// </summary>
    public bool Update(bool finiteGradients)
    {
        if (!finiteGradients)
        {
            Scale = Math.Max(Scale * 0.5, double.Epsilon);
            GoodSteps = 0;
            SkippedSteps++;
            return false;
        }
        if (++GoodSteps >= GrowthInterval)
        {
            GoodSteps = 0;
            Scale = Math.Min(Scale * 2, double.MaxValue / 2);
        }
        return true;
    }

    /// <summary>Whether every gradient of <paramref name="parameters"/> is finite (one read-back for all of them).</summary>
    public static bool GradientsFinite(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var checks = parameters.Where(p => p.grad is not null).Select(p => isfinite(p.grad!).all()).ToArray();
        return checks.Length == 0 || stack(checks).all().item<bool>();
    }
}
