using Edu.Models.Onnx;
using Edu.Models.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Blocks;

/// <summary>
/// Multi-scale denoise enhancement (MODELS.md): <c>h = e + (1/3) Σ_k λ_k ⊙ (e − G_k ∗ e)</c> for k ∈ {3,5,7},
/// computed as ONE depthwise convolution with the fused 7×7(×7) kernel
/// <c>δ + (1/3) Σ_k λ_k ⊙ (δ − pad(G_k))</c> rebuilt from the parameters on every forward;
/// then <c>z = ReLU(BN(Conv1(h)))</c> and the output is <c>z + u</c>. Forward takes <c>(e, u)</c>.
/// </summary>
public sealed class Mde : Module<Tensor, Tensor, Tensor>
{
    /// <summary>The three kernel sizes, in the order of the rows of <c>gain</c>.</summary>
    public static readonly int[] Scales = [3, 5, 7];

    private readonly int _spatialDims;
    private readonly long _channels;
    [ComponentName(Name = "kernel3")] private readonly Parameter _kernel3;
    [ComponentName(Name = "kernel5")] private readonly Parameter _kernel5;
    [ComponentName(Name = "kernel7")] private readonly Parameter _kernel7;
    [ComponentName(Name = "gain")] private readonly Parameter _gain;
    [ComponentName(Name = "pointwise")] private readonly Module<Tensor, Tensor> _pointwise;
    [ComponentName(Name = "bn")] private readonly Module<Tensor, Tensor> _bn;

    public Mde(int spatialDims, long channels) : base(nameof(Mde))
    {
        Layers.CheckDims(spatialDims);
        _spatialDims = spatialDims;
        _channels = channels;
        _kernel3 = new Parameter(GaussianKernel(spatialDims, channels, 3));
        _kernel5 = new Parameter(GaussianKernel(spatialDims, channels, 5));
        _kernel7 = new Parameter(GaussianKernel(spatialDims, channels, 7));
        _gain = new Parameter(ones(3, channels));
        _pointwise = Layers.Conv(spatialDims, channels, channels, 1, bias: false);
        _bn = Layers.BatchNorm(spatialDims, channels);
        RegisterComponents();
    }

    /// <summary>The depthwise kernels G_3, G_5, G_7 (shape <c>[C, 1, k, …]</c>) and the gains λ (<c>[3, C]</c>).</summary>
    public (Parameter G3, Parameter G5, Parameter G7, Parameter Gain) EnhancementParameters => (_kernel3, _kernel5, _kernel7, _gain);

    /// <summary>
    /// A normalised Gaussian depthwise kernel <c>[C, 1, k, …, k]</c>: σ = 0.3((k−1)/2 − 1) + 0.8 (OpenCV's
    /// default), the separable product over the axes, renormalised to sum 1.
    /// </summary>
    public static Tensor GaussianKernel(int spatialDims, long channels, int k)
    {
        double sigma = 0.3 * ((k - 1) / 2.0 - 1) + 0.8;
        var g1 = new float[k];
        double sum = 0;
        for (int i = 0; i < k; i++)
        {
            double x = i - (k - 1) / 2.0;
            g1[i] = (float)Math.Exp(-x * x / (2 * sigma * sigma));
            sum += g1[i];
        }
        for (int i = 0; i < k; i++) g1[i] = (float)(g1[i] / sum);
        int n = spatialDims == 2 ? k * k : k * k * k;
        var flat = new float[n];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double v = 1;
            for (int rest = i, a = 0; a < spatialDims; a++, rest /= k) v *= g1[rest % k];
            flat[i] = (float)v;
            total += v;
        }
        for (int i = 0; i < n; i++) flat[i] = (float)(flat[i] / total);
        var shape = spatialDims == 2 ? new long[] { 1, 1, k, k } : new long[] { 1, 1, k, k, k };
        using var one = tensor(flat, shape);
        return one.repeat(spatialDims == 2 ? [channels, 1, 1, 1] : [channels, 1, 1, 1, 1]).contiguous();
    }

    /// <summary>The fused 7×7(×7) depthwise kernel <c>δ + (1/3) Σ_k λ_k ⊙ (δ − pad(G_k))</c>, differentiable in the parameters.</summary>
    public Tensor FusedKernel() => FuseKernel(_spatialDims, _channels, _kernel3, _kernel5, _kernel7, _gain, 3);

    /// <summary>
    /// The fused 7×7(×7) depthwise kernel <c>δ + (1/<paramref name="divisor"/>) Σ_k w_k ⊙ (δ − pad(G_k))</c> for the kernels
    /// <c>G_3, G_5, G_7</c> (<c>[C, 1, k, …]</c>) and per-channel weights <paramref name="weights"/> (<c>[3, C]</c>), differentiable
    /// in all of them. MDE passes its gains λ and 3, <see cref="MdeLite"/> its α and 1.
    /// </summary>
    public static Tensor FuseKernel(int spatialDims, long channels, Tensor g3, Tensor g5, Tensor g7, Tensor weights, double divisor)
    {
        ArgumentNullException.ThrowIfNull(g3);
        ArgumentNullException.ThrowIfNull(g5);
        ArgumentNullException.ThrowIfNull(g7);
        ArgumentNullException.ThrowIfNull(weights);
        using var scope = NewDisposeScope();
        var viewShape = spatialDims == 2 ? new long[] { channels, 1, 1, 1 } : new long[] { channels, 1, 1, 1, 1 };
        Tensor Pad(Tensor t, long p) => p == 0 ? t : functional.pad(t, Enumerable.Repeat(p, 2 * spatialDims).ToArray());
        // centre weight 1 + (1/divisor) Σ w_k, a [C,1,1,…] tensor padded to a centred δ-like kernel
        // the constants as process-wide scalars: a temporary one can be freed under LibTorch (Runtime.Scalars)
        var d = Scalars.Of(divisor);
        var centre = Pad(weights.sum(dim: 0).div(d).add(Scalars.One, Scalars.One).view(viewShape), 3);
        var blur = (weights[0].view(viewShape) * Pad(g3, 2))
            .add(weights[1].view(viewShape) * Pad(g5, 1), Scalars.One)
            .add(weights[2].view(viewShape) * g7, Scalars.One);
        return (centre - blur.div(d)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The enhancement <c>h</c> alone (one depthwise convolution). In 3-D on the CPU it is computed through the
    /// Fourier transform (<see cref="DepthwiseByFft"/>): LibTorch has no fast CPU kernel for a depthwise 7×7×7
    /// convolution, and the transform is about 7× faster for forward and backward on 64³ volumes.
    /// </summary>
    public Tensor Enhance(Tensor e)
    {
        using var scope = NewDisposeScope();
        return Depthwise(_spatialDims, e, FusedKernel().to(e.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The depthwise "same" convolution of <paramref name="e"/> (<c>[N, C, …]</c>) with an odd <paramref name="kernel"/>
    /// (<c>[C, 1, k, …]</c>, in <paramref name="e"/>'s dtype): direct in 2-D and on CUDA, by FFT in 3-D on the CPU
    /// (<see cref="DepthwiseByFft"/>). The one path MDE and <see cref="MdeLite"/> share.
    /// </summary>
    public static Tensor Depthwise(int spatialDims, Tensor e, Tensor kernel)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(kernel);
        long channels = e.shape[1], pad = kernel.shape[^1] / 2;
        return spatialDims == 2
            ? functional.conv2d(e, kernel, padding: [pad, pad], groups: channels)
            : e.device_type == DeviceType.CPU
                ? DepthwiseByFft(e, kernel)
                : functional.conv3d(e, kernel, padding: [pad, pad, pad], groups: channels);
    }

    /// <summary>
    /// <c>conv3d(e, kernel, padding: same, groups: C)</c> for an odd cubic <paramref name="kernel"/> <c>[C, 1, k, k, k]</c>,
    /// as a product of spectra: the transforms are zero-padded to size + k − 1 per axis, so the circular
    /// convolution equals the linear one, and the flipped kernel turns convolution into PyTorch's cross-correlation.
    /// Equal to the direct convolution up to float rounding (tested); differentiable in both arguments.
    /// </summary>
    public static Tensor DepthwiseByFft(Tensor e, Tensor kernel)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(kernel);
        long k = kernel.shape[^1], half = k / 2;
        if (kernel.dim() != 5 || kernel.shape[1] != 1 || k % 2 == 0 || kernel.shape[2] != k || kernel.shape[3] != k)
            throw new ArgumentException($"an odd cubic depthwise kernel [C, 1, k, k, k] is needed, got [{string.Join(", ", kernel.shape)}]", nameof(kernel));
        using var scope = NewDisposeScope();
        long[] size = [e.shape[2], e.shape[3], e.shape[4]];
        // any transform length of at least size + k − 1 gives the linear convolution; lengths with small prime factors are fast
        long[] padded = [.. size.Select(n => SmoothLength(n + k - 1))];
        // the transforms have no bfloat16 kernels on the CPU: compute in float32 and cast back
        var dtype = e.dtype;
        var x = dtype == ScalarType.Float32 || dtype == ScalarType.Float64 ? e : e.to(ScalarType.Float32);
        var w = kernel.to(x.dtype).squeeze(1).flip(1, 2, 3);
        var product = fft.rfftn(x, padded, [2, 3, 4]) * fft.rfftn(w, padded, [1, 2, 3]).unsqueeze(0);
        var full = fft.irfftn(product, padded, [2, 3, 4]);
        var h = full.narrow(2, half, size[0]).narrow(3, half, size[1]).narrow(4, half, size[2]);
        // one copy out of the padded transform, into the input's memory layout (channels-last keeps the net in its layout)
        return MemoryFormat.ContiguousLike(h.to(dtype), e).MoveToOuterDisposeScope();
    }

    // the smallest n' ≥ n whose prime factors are 2, 3, 5 and 7
    private static long SmoothLength(long n)
    {
        for (long m = n; ; m++)
        {
            long r = m;
            foreach (long p in (long[])[2, 3, 5, 7])
                while (r % p == 0) r /= p;
            if (r == 1) return m;
        }
    }

    /// <summary>
    /// In training, keep only <c>e</c> for the backward pass and recompute <c>h</c>, the pointwise output and
    /// <c>z</c> there (gradient checkpointing). Gradients and running statistics are the same as without it
    /// (tested); the step saves three C-channel activations per MDE and pays one more MDE forward. On by default:
    /// without it E-DU keeps more activations than UNet++.
    /// </summary>
    public bool RecomputeInBackward { get; set; } = true;

    public override Tensor forward(Tensor e, Tensor u)
    {
        if (RecomputeInBackward && training && is_grad_enabled())
            return Recomputed.apply(this, e, u, _kernel3, _kernel5, _kernel7, _gain, PointwiseWeight, BatchNormModule.weight!, BatchNormModule.bias!);
        using var scope = NewDisposeScope();
        return Enhanced(e, updateStatistics: true).add(u, Scalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// MDE in an ONNX graph, as it computes in eval mode: the depthwise convolution with the fused kernel
    /// (<c>{prefix}.fused_kernel</c>), the pointwise convolution, BatchNorm, ReLU, plus <paramref name="u"/>.
    /// </summary>
    internal string ToOnnx(OnnxGraphBuilder g, string prefix, string e, string u)
    {
        using var noGrad = no_grad();
        using var kernel = FusedKernel();
        var h = g.Conv(e, g.Constant($"{prefix}.fused_kernel", kernel), null, kernel.shape, groups: _channels);
        var z = g.Relu(g.BatchNorm(g.Conv(h, _pointwise, $"{prefix}.pointwise"), _bn, $"{prefix}.bn"));
        return g.Add(z, u);
    }

    private Tensor PointwiseWeight => ((Convolution)_pointwise).weight!;

    private BatchNorm BatchNormModule => (BatchNorm)_bn;

    // z = ReLU(BN(Conv1(h))); the recomputation normalises with the same batch statistics but leaves the running ones alone
    private Tensor Enhanced(Tensor e, bool updateStatistics)
    {
        using var scope = NewDisposeScope();
        var p = _pointwise.forward(Enhance(e));
        var bn = BatchNormModule;
        var b = updateStatistics
            ? _bn.forward(p)
            : functional.batch_norm(p, null, null, bn.weight, bn.bias, training: true, momentum: bn.momentum ?? 0.1, eps: bn.eps);
        return functional.relu(b, inplace: true).MoveToOuterDisposeScope();
    }

    /// <summary>MDE as one autograd node that saves only its input <c>e</c> (see <see cref="RecomputeInBackward"/>).</summary>
    private sealed class Recomputed : autograd.SingleTensorFunction<Recomputed>
    {
        public override string Name => "MdeRecomputed";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var mde = (Mde)vars[0];
            var e = (Tensor)vars[1];
            var u = (Tensor)vars[2];
            ctx.save_for_backward([e]);
            ctx.save_data("mde", mde);
            ctx.save_data("autocast", Autocast.Current(e.device_type)); // the recomputation runs in the forward's precision
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            return mde.Enhanced(e, updateStatistics: true).add(u, Scalars.One).MoveToOuterDisposeScope();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var mde = (Mde)ctx.get_data("mde");
            using var saved = ctx.get_saved_variables()[0];
            using var enableGrad = enable_grad();
            using var e = saved.detach().requires_grad_();
            Tensor[] parameters = [mde._kernel3, mde._kernel5, mde._kernel7, mde._gain, mde.PointwiseWeight,
                mde.BatchNormModule.weight!, mde.BatchNormModule.bias!];
            var trainable = parameters.Where(p => p.requires_grad).ToList(); // frozen ones get no gradient
            Tensor recomputed;
            using (Autocast.Resume(saved.device_type, (ScalarType?)ctx.get_data("autocast"))) // autocast for the forward ops only, as torch.utils.checkpoint does
                recomputed = mde.Enhanced(e, updateStatistics: false);
            using var z = recomputed;
            var grads = autograd.grad([z], [e, .. trainable], [gradOutput]);
            int next = 1;
            // one entry per argument of apply: the module (none), e, u (the sum passes the gradient through), the parameters
            return [null!, grads[0], gradOutput, .. parameters.Select(p => p.requires_grad ? grads[next++] : null!)];
        }
    }
}
