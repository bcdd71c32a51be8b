using Edu.Models.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Edu.Models.Tests.Runtime;

/// <summary>fp16's dynamic loss scaling: an overflowing step is skipped and lowers the scale; good steps raise it; unscaled gradients equal plain ones.</summary>
public sealed class LossScalerTests
{
    [Fact]
    public void A_step_with_infinite_gradients_is_skipped_and_halves_the_scale()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.EnsureLoaded();
        var w = new Parameter(tensor(new float[] { 1, 2, 3 }));
        var optimizer = KeptScalarAdam.Adam([w], 0.1);
        var mixed = new MixedPrecision(TrainingPrecision.Float16, DeviceType.CPU);
        var scaler = mixed.Scaler!;
        Assert.Equal(LossScaler.DefaultInitialScale, scaler.Scale);

        // 1e35 × 65536 overflows float32: the scaled gradient is infinite
        optimizer.zero_grad();
        using var huge = w.mul(Scalars.Of(1e35)).sum();
        Assert.False(mixed.BackwardAndStep(huge, [w], optimizer, clipNorm: 12));
        Assert.Equal(LossScaler.DefaultInitialScale / 2, scaler.Scale);
        Assert.Equal(1, scaler.SkippedSteps);
        Assert.Equal(new float[] { 1, 2, 3 }, w.data<float>().ToArray()); // the weights were not touched

        // a finite loss is stepped with the lowered scale
        optimizer.zero_grad();
        using var fine = w.square().sum();
        Assert.True(mixed.BackwardAndStep(fine, [w], optimizer, clipNorm: null));
        Assert.NotEqual(new float[] { 1, 2, 3 }, w.data<float>().ToArray());
        Assert.Equal(1, scaler.GoodSteps);
        Assert.Equal(1, scaler.SkippedSteps);
    }

    [Fact]
    public void Unscaled_gradients_equal_the_plain_float32_ones()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.EnsureLoaded();
        var w = new Parameter(tensor(new float[] { 0.5f, -1.5f, 2 }));
        var plain = new Parameter(tensor(new float[] { 0.5f, -1.5f, 2 }));
        plain.square().mul(Scalars.Of(3)).sum().backward();
        var scaler = new LossScaler(initialScale: 1024);
        using (var scaled = scaler.ScaleLoss(w.square().mul(Scalars.Of(3)).sum()))
            scaled.backward();
        Assert.Equal(plain.grad!.data<float>().Select(v => v * 1024).ToArray(), w.grad!.data<float>().ToArray());
        scaler.Unscale([w]);
        Assert.Equal(plain.grad.data<float>().ToArray(), w.grad.data<float>().ToArray());
    }

    [Fact]
    public void The_scale_doubles_after_the_growth_interval_and_a_restored_state_continues()
    {
        var scaler = new LossScaler(initialScale: 8, growthInterval: 3);
        Assert.True(scaler.Update(true));
        Assert.True(scaler.Update(true));
        Assert.Equal(8, scaler.Scale);
        Assert.True(scaler.Update(true));
        Assert.Equal(16, scaler.Scale);
        Assert.Equal(0, scaler.GoodSteps);
        Assert.False(scaler.Update(false));
        Assert.Equal(8, scaler.Scale);

        var resumed = new LossScaler(growthInterval: 3);
        resumed.Restore(8, 2);
        Assert.True(resumed.Update(true));
        Assert.Equal(16, resumed.Scale);
        Assert.Throws<ArgumentOutOfRangeException>(() => resumed.Restore(double.PositiveInfinity, 0));
    }
}
