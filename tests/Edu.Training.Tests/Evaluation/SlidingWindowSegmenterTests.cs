using Edu.Abstractions.Errors;
using Edu.Models.Runtime;
using Edu.Models.Catalogue;
using Edu.Training.Evaluation;
using static TorchSharp.torch;

namespace Edu.Training.Tests.Evaluation;

public sealed class SlidingWindowSegmenterTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void A_net_whose_logits_are_nan_gets_a_numerics_error_naming_it_not_labels(int dims)
    {
        using var net = ModelCatalogue.CreateBuiltIn().Create("unet", new ModelHyperparameters(dims, 1, 2, 4, 2), seed: 4);
        using (no_grad()) net.parameters().First().fill_(Scalars.Of(float.NaN));
        int z = dims == 3 ? 8 : 3;
        var image = new float[16 * 16 * z];
        for (int i = 0; i < image.Length; i++) image[i] = i % 7;

        var e = Assert.Throws<NumericsException>(() => SlidingWindowSegmenter.Segment(net, dims, image, 1, 16, 16, z,
            dims == 3 ? [8, 8, 8] : [8, 8], CPU, "model 'unet' of run /runs/x"));

        Assert.StartsWith("model 'unet' of run /runs/x: ", e.Message);
        Assert.Contains("NaN or infinite", e.Message);
    }
}
