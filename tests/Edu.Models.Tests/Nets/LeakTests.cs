using Edu.Models.Catalogue;
using Edu.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Tests.Nets;

public sealed class LeakTests
{
    private static readonly ModelCatalogue Catalogue = ModelCatalogue.CreateBuiltIn();

    [Theory]
    [InlineData("unet", 2)]
    [InlineData("attention-unet-mde", 2)]
    [InlineData("edu", 2)]
    [InlineData("edu", 3)]
    [InlineData("edu-dense", 2)]
    [InlineData("edu-lean", 3)]
    public void Many_training_and_inference_steps_leave_no_live_tensors_behind(string name, int dims)
    {
        using var model = Catalogue.Create(name, new ModelHyperparameters(dims, 1, 1, 2, DeepSupervision: name.StartsWith("edu", StringComparison.Ordinal)));
        var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
        var shape = dims == 2 ? new long[] { 2, 1, 32, 32 } : new long[] { 1, 1, 16, 16, 16 };
        Step(model, optimizer, shape); // optimizer state and grads are allocated once, on the first step

        DisposeScopeManager.Statistics.Reset();
        for (int i = 0; i < 5; i++) Step(model, optimizer, shape);
        model.eval();
        for (int i = 0; i < 5; i++)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            model.forward(TestRandom.Normal(shape));
        }
        model.train();
        Assert.Equal(0, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    private static void Step(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, long[] shape)
    {
        using var scope = NewDisposeScope();
        var x = TestRandom.Normal(shape);
        var y = (x > Scalars.Of(0)).to_type(ScalarType.Float32);
        optimizer.zero_grad();
        var loss = nn.functional.binary_cross_entropy_with_logits(model.forward(x), y);
        loss.backward();
        optimizer.step();
    }
}
