using static TorchSharp.torch;

namespace Edu.Models.Nets;

/// <summary>
/// A net that can put heads on intermediate outputs (UNet++ and E-DU: on <c>X[0,1..depth]</c>).
/// With deep supervision on, <c>forward</c> returns the mean of all head logits (used for inference and
/// validation) and <see cref="ForwardAll"/> returns each head's logits so that the loss can average the
/// per-head losses. With it off, <see cref="ForwardAll"/> returns the single output.
/// </summary>
public interface IDeepSupervised
{
    /// <summary>Whether the extra heads exist.</summary>
    bool DeepSupervision { get; }

    /// <summary>Logits of every head, shallowest (<c>X[0,1]</c>) first, the final head (<c>X[0,depth]</c>) last.</summary>
    Tensor[] ForwardAll(Tensor input);
}
