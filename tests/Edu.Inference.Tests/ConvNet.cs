using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Inference.Tests;

/// <summary>
/// One convolution with "same" zero padding: a fully convolutional net whose behaviour a test can reason about.
/// A 1×1 kernel makes every output voxel depend on its input voxel only; a flip-symmetric kernel makes the net
/// flip-equivariant.
/// </summary>
internal sealed class ConvNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv;

    public ConvNet(int dims, int inChannels, int outChannels, int kernel, int seed, bool flipSymmetric = false) : base(nameof(ConvNet))
    {
        conv = Edu.Models.Catalogue.ModelCatalogue.Seeded<Module<Tensor, Tensor>>(seed, () => dims == 2
            ? Conv2d(inChannels, outChannels, kernel, padding: kernel / 2)
            : Conv3d(inChannels, outChannels, kernel, padding: kernel / 2));
        RegisterComponents();
        if (flipSymmetric)
        {
            using var _ = no_grad();
            var w = conv.parameters().First();
            using var sum = w.clone();
            for (int mask = 1; mask < 1 << dims; mask++)
            {
                long[] axes = Enumerable.Range(0, dims).Where(a => (mask & (1 << a)) != 0).Select(a => (long)(2 + a)).ToArray();
                using var f = w.flip(axes);
                sum.add_(f);
            }
            w.copy_(sum / (1 << dims));
        }
        eval();
    }

    public override Tensor forward(Tensor input) => conv.forward(input);
}
