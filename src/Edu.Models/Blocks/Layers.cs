using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Blocks;

/// <summary>
/// Factories for the layers every network uses, picking the 2-D or 3-D variant from <c>spatialDims</c>
/// (MONAI's <c>Conv[Conv.CONV, dims]</c> idea).
/// </summary>
public static class Layers
{
    /// <summary>Throws unless <paramref name="spatialDims"/> is 2 or 3.</summary>
    public static void CheckDims(int spatialDims)
    {
        if (spatialDims is not (2 or 3))
            throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "spatialDims must be 2 or 3");
    }

    /// <summary>A k×k(×k) convolution with stride 1 and "same" padding (k odd).</summary>
    public static Module<Tensor, Tensor> Conv(int spatialDims, long inChannels, long outChannels, long kernel, bool bias)
    {
        CheckDims(spatialDims);
        long padding = kernel / 2;
        return spatialDims == 2
            ? Conv2d(inChannels, outChannels, kernel, padding: padding, bias: bias)
            : Conv3d(inChannels, outChannels, kernel, padding: padding, bias: bias);
    }

    /// <summary>Transposed convolution, kernel 2, stride 2, with bias (the spec's <c>Up</c>).</summary>
    public static Module<Tensor, Tensor> Up(int spatialDims, long inChannels, long outChannels)
    {
        CheckDims(spatialDims);
        return spatialDims == 2
            ? ConvTranspose2d(inChannels, outChannels, 2, stride: 2, bias: true)
            : ConvTranspose3d(inChannels, outChannels, 2, stride: 2, bias: true);
    }

    /// <summary>Batch normalisation with affine weights (TorchSharp's, with its batch counter on a kept scalar).</summary>
    public static Module<Tensor, Tensor> BatchNorm(int spatialDims, long channels)
    {
        CheckDims(spatialDims);
        return new KeptScalarBatchNorm(spatialDims, channels);
    }

    /// <summary>Max-pool, kernel 2, stride 2 (the spec's <c>Down</c>).</summary>
    public static Tensor Down(int spatialDims, Tensor x) =>
        spatialDims == 2 ? functional.max_pool2d(x, [2, 2], [2, 2]) : functional.max_pool3d(x, [2, 2, 2], [2, 2, 2]);

    /// <summary>The number of trainable parameters (BatchNorm running statistics are buffers, not counted).</summary>
    public static long CountParameters(Module module) =>
        module.parameters().Sum(p => p.numel());
}
