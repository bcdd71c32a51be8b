using Edu.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Blocks;

/// <summary>
/// TorchSharp's BatchNorm2d/BatchNorm3d (same parameters, buffers, state-dict keys and arithmetic), except that the
/// batch counter moves with a kept scalar. TorchSharp 0.107's <c>BatchNorm.forward</c> runs
/// <c>num_batches_tracked.add_(1)</c> on every training forward pass, a temporary native scalar that its finalizer can
/// free while LibTorch reads it (rule EDU0001): training died now and then with "Expected false to be true ... toLong".
/// </summary>
public sealed class KeptScalarBatchNorm : TorchSharp.Modules.BatchNorm
{
    private readonly int _spatialDims;

    /// <summary>Batch normalisation over <paramref name="channels"/> with affine weights and running statistics (momentum 0.1, eps 1e-5).</summary>
    public KeptScalarBatchNorm(int spatialDims, long channels)
        : base(channels, 1e-5, 0.1, affine: true, track_running_stats: true, device: null, dtype: null, spatialDims == 2 ? "BatchNorm2d" : "BatchNorm3d") =>
        _spatialDims = spatialDims;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        double averageFactor = momentum ?? 0.0;
        if (training && track_running_stats && num_batches_tracked is { } tracked)
        {
            tracked.add_(Scalars.IntegerOne, Scalars.IntegerOne);
            averageFactor = momentum ?? 1.0 / (double)tracked;
        }
        bool batchStatistics = training || (running_mean is null && running_var is null);
        bool useRunning = !training || track_running_stats;
        return nn.functional.batch_norm(input, useRunning ? running_mean : null, useRunning ? running_var : null, weight, bias, batchStatistics, averageFactor, eps);
    }

    /// <inheritdoc />
    protected override void ValidateInputDimensions(Tensor input)
    {
        if (input.ndim != _spatialDims + 2)
            throw new ArgumentException($"expected {_spatialDims + 2}D input, but got {input.ndim}D input.");
    }
}
