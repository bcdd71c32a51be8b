using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Edu.Models.Runtime;

/// <summary>
/// How one training step runs in a <see cref="TrainingPrecision"/>: the forward pass inside <see cref="ForwardScope"/>
/// (autocast in bfloat16 or float16; nothing in float32), the loss on <see cref="ToFloat32"/> logits, then
/// <see cref="BackwardAndStep"/>. Parameters, gradients and optimizer state stay float32 (autocast casts the weights inside
/// the graph, so they are the master copy); float16 adds dynamic loss scaling. The trainer and <c>bench train</c> share it.
/// </summary>
public sealed class MixedPrecision
{
    /// <summary>Creates the policy for <paramref name="device"/>; float16 gets <paramref name="scaler"/> or a new <see cref="LossScaler"/>.</summary>
    public MixedPrecision(TrainingPrecision precision, DeviceType device, LossScaler? scaler = null)
    {
        Precision = precision;
        Device = device;
        Scaler = precision == TrainingPrecision.Float16 ? scaler ?? new LossScaler() : null;
    }

    /// <summary>The precision.</summary>
    public TrainingPrecision Precision { get; }

    /// <summary>The device the net runs on.</summary>
    public DeviceType Device { get; }

    /// <summary>The loss scaler (float16 only).</summary>
    public LossScaler? Scaler { get; }

    /// <summary>Opens the forward pass's scope on this thread (autocast in the lower precision); null in float32. Dispose before the loss.</summary>
    public IDisposable? ForwardScope() => Precisions.AutocastDtype(Precision) is { } dtype ? Autocast.Enable(Device, dtype) : null;

    /// <summary><paramref name="logits"/> in float32 (the loss is always computed in float32); the same tensor when it already is.</summary>
    public static Tensor ToFloat32(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        return logits.dtype == ScalarType.Float32 ? logits : logits.to(ScalarType.Float32);
    }

    /// <summary>
    /// Backward pass of <paramref name="loss"/> (scaled in float16), gradients divided back, gradient-norm clipping at
    /// <paramref name="clipNorm"/> (none when null), then the optimizer step. In float16 a step with a non-finite gradient is
    /// skipped and the scale lowered (<see cref="LossScaler.Update"/>); returns whether the step was taken. The caller
    /// zeroes the gradients before the forward pass, as without mixed precision.
    /// </summary>
    public bool BackwardAndStep(Tensor loss, IReadOnlyList<Parameter> parameters, OptimizerHelper optimizer, double? clipNorm)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (Scaler is null)
        {
            loss.backward();
            if (clipNorm is { } max) nn.utils.clip_grad_norm_(parameters, max);
            optimizer.step();
            return true;
        }
        using (var scaled = Scaler.ScaleLoss(loss))
            scaled.backward();
        Scaler.Unscale(parameters);
        // the clipping norm is read back anyway: a non-finite one is the overflow check, with no read-back of its own
        bool finite = clipNorm is { } limit
            ? double.IsFinite(nn.utils.clip_grad_norm_(parameters, limit))
            : LossScaler.GradientsFinite(parameters);
        if (!Scaler.Update(finite)) return false;
        optimizer.step();
        return true;
    }
}
