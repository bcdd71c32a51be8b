using Edu.Models.Catalogue;
using Edu.Models.Runtime;
using Edu.Models.Nets;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Tests.Nets;

public sealed class NetBehaviourTests
{
    private static readonly ModelCatalogue Catalogue = ModelCatalogue.CreateBuiltIn();

    public static TheoryData<string> Names() => [.. ModelCatalogue.BuiltInNames];

    [Theory]
    [MemberData(nameof(Names))]
    public void Output_has_the_input_size_and_k_channels_in_2d_and_3d(string name)
    {
        using var scope = NewDisposeScope();
        using (var m2 = Catalogue.Create(name, new ModelHyperparameters(2, 3, 2, 4)))
        {
            m2.eval();
            using var _ = no_grad();
            Assert.Equal(new long[] { 2, 2, 48, 80 }, m2.forward(TestRandom.Normal(2, 3, 48, 80)).shape);
        }
        using (var m3 = Catalogue.Create(name, new ModelHyperparameters(3, 1, 3, 2)))
        {
            m3.eval();
            using var _ = no_grad();
            Assert.Equal(new long[] { 1, 3, 16, 48, 32 }, m3.forward(TestRandom.Normal(1, 1, 16, 48, 32)).shape);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Same_seed_gives_the_same_initial_weights_and_the_same_first_losses(string name)
    {
        var (w1, l1) = InitAndTrain(name, seed: 42);
        var (w2, l2) = InitAndTrain(name, seed: 42);
        var (w3, _) = InitAndTrain(name, seed: 43);
        Assert.Equal(w1, w2);
        Assert.Equal(l1, l2);
        Assert.NotEqual(w1, w3);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void State_dict_keys_are_pytorch_style(string name)
    {
        using var model = Catalogue.Create(name, new ModelHyperparameters(2, 1, 1, 4));
        var keys = model.state_dict().Keys.ToList();
        Assert.Contains("encoder.0.conv1.weight", keys);
        Assert.Contains("encoder.4.bn2.running_var", keys);
        Assert.Contains("head.bias", keys);
        Assert.DoesNotContain(keys, k => k.Contains('_') && k.Split('.').Any(p => p.StartsWith('_')));
    }

    [Fact]
    public async Task A_seeded_build_is_not_disturbed_by_nets_built_on_other_threads()
    {
        var hp = new ModelHyperparameters(2, 1, 1, 4);
        float[] Weights()
        {
            using var model = Catalogue.Create("edu", hp, seed: 9);
            return model.parameters().SelectMany(p => p.detach().flatten().data<float>().ToArray()).ToArray();
        }
        float[] alone = Weights();

        using var stop = new CancellationTokenSource();
        var noise = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
                Catalogue.Create("unet", hp).Dispose();
        });
        try
        {
            for (int i = 0; i < 5; i++)
                Assert.Equal(alone, Weights());
        }
        finally
        {
            await stop.CancelAsync();
            await noise;
        }
    }

    [Fact]
    public void Deep_supervision_forward_all_returns_one_output_per_head_and_forward_their_mean()
    {
        using var scope = NewDisposeScope();
        foreach (var name in new[] { "unetpp", "edu", "edu-dense", "edu-lean" })
        {
            using var model = Catalogue.Create(name, new ModelHyperparameters(2, 1, 2, 4, DeepSupervision: true));
            model.eval();
            using var _ = no_grad();
            var x = TestRandom.Normal(1, 1, 32, 32);
            var all = ((IDeepSupervised)model).ForwardAll(x);
            Assert.Equal(4, all.Length);
            Assert.True(model.forward(x).allclose(stack(all).mean([0]), atol: 1e-6));
        }
    }

    internal static (float[] Weights, float[] Losses) InitAndTrain(string name, int seed)
    {
        using var scope = NewDisposeScope();
        using var model = Catalogue.Create(name, new ModelHyperparameters(2, 1, 1, 4), seed);
        var weights = model.parameters().SelectMany(p => p.detach().flatten().data<float>().ToArray()).ToArray();
        var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
        // inputs from a generator of their own: other tests in this assembly draw from the global one in parallel
        using var inputs = new Generator(1000);
        var x = randn([2, 1, 32, 32], generator: inputs);
        var y = (randn([2, 1, 32, 32], generator: inputs) > Scalars.Of(0)).to_type(ScalarType.Float32);
        var losses = new List<Tensor>();
        for (int step = 0; step < 3; step++)
        {
            optimizer.zero_grad();
            var loss = nn.functional.binary_cross_entropy_with_logits(model.forward(x), y);
            loss.backward();
            optimizer.step();
            losses.Add(loss.detach());
        }
        return (weights, stack(losses).data<float>().ToArray());
    }
}
