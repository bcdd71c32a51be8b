using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Edu.Models.Runtime;

/// <summary>
/// Adam and AdamW computed exactly as TorchSharp 0.107 computes them (the same operations in the same order, the same
/// state, the same checkpoint format), except that every number handed to LibTorch is a native scalar owned by a
/// <c>using</c> declaration for the length of the calls that read it. TorchSharp's own step passes temporary scalars,
/// which its finalizer can free while LibTorch reads them (rule EDU0001, <see cref="Scalars"/>). AMSGrad and maximize
/// are not offered (nothing here uses them).
/// </summary>
public static class KeptScalarAdam
{
    /// <summary>Adam with L2 weight decay added to the gradient (<c>torch.optim.Adam</c>).</summary>
    public static OptimizerHelper Adam(IEnumerable<Parameter> parameters, double lr, double weightDecay = 0) =>
        new L2Adam(parameters, lr, weightDecay);

    /// <summary>Adam with decoupled weight decay (<c>torch.optim.AdamW</c>).</summary>
    public static OptimizerHelper AdamW(IEnumerable<Parameter> parameters, double lr, double weightDecay = 0.01) =>
        new DecoupledAdam(parameters, lr, weightDecay);

    private sealed class L2Adam(IEnumerable<Parameter> parameters, double lr, double weightDecay)
        : TorchSharp.Modules.Adam(parameters, lr, weight_decay: weightDecay)
    {
        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
        {
            var options = (Options)group.Options;
            var (lr, weightDecay) = (options.LearningRate!.Value, options.weight_decay!.Value);
            foreach (var param in group.Parameters)
            {
                var grad = param.grad;
                if (grad is null) continue;
                var state = (State)_state[param.Handle];
                state.step += 1;
                if (weightDecay != 0)
                {
                    using var decay = weightDecay.ToScalar();
                    grad = grad.add(param, alpha: decay);
                }
                Update(param, grad, state.exp_avg, state.exp_avg_sq, state.step, lr, options.beta1!.Value, options.beta2!.Value, options.eps!.Value);
            }
        }, closure);
    }

    private sealed class DecoupledAdam(IEnumerable<Parameter> parameters, double lr, double weightDecay)
        : TorchSharp.Modules.AdamW(parameters, lr, weight_decay: weightDecay)
    {
        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
        {
            var options = (Options)group.Options;
            var (lr, weightDecay) = (options.LearningRate!.Value, options.weight_decay!.Value);
            foreach (var param in group.Parameters)
            {
                var grad = param.grad;
                if (grad is null) continue;
                var state = (State)_state[param.Handle];
                state.step += 1;
                using (var shrink = (1 - lr * weightDecay).ToScalar()) param.mul_(shrink);
                Update(param, grad, state.exp_avg, state.exp_avg_sq, state.step, lr, options.beta1!.Value, options.beta2!.Value, options.eps!.Value);
            }
        }, closure);
    }

    /// <summary>The moment updates and the parameter step shared by both (TorchSharp's order of operations).</summary>
    private static void Update(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, long step, double lr, double beta1, double beta2, double eps)
    {
        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        using var b1 = beta1.ToScalar();
        using var oneMinusB1 = (1 - beta1).ToScalar();
        using var b2 = beta2.ToScalar();
        using var oneMinusB2 = (1 - beta2).ToScalar();
        using var sqrtBias2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var epsilon = eps.ToScalar();
        using var negativeStepSize = (-(lr / biasCorrection1)).ToScalar();
        expAvg.mul_(b1).add_(grad, alpha: oneMinusB1);
        expAvgSq.mul_(b2).addcmul_(grad, grad.conj(), value: oneMinusB2);
        var denom = (expAvgSq.sqrt() / sqrtBias2).add_(epsilon, Scalars.One);
        param.addcdiv_(expAvg, denom, value: negativeStepSize);
    }
}
