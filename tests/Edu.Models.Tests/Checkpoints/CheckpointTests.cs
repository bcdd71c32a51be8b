using Edu.Abstractions.Errors;
using Edu.Models.Runtime;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Tests.Checkpoints;

public sealed class CheckpointTests
{
    private static readonly ModelCatalogue Catalogue = ModelCatalogue.CreateBuiltIn();
    private static readonly ModelHyperparameters Small = new(2, 1, 2, 4, 3);

    [Fact]
    public void Resuming_from_a_checkpoint_continues_exactly_like_uninterrupted_training()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        using var inputs = new Generator(5);
        var x = randn([2, 1, 32, 32], generator: inputs);
        var y = (randn([2, 2, 32, 32], generator: inputs) > Scalars.Of(0)).to_type(ScalarType.Float32);

        using var a = Catalogue.Create("edu", Small, seed: 1);
        var optA = optim.Adam(a.parameters(), lr: 1e-2);
        for (int i = 0; i < 2; i++) Step(a, optA, x, y);
        TrainingCheckpoint.Save(dir.Path, a, optA, new CheckpointInfo("edu", Small, 1, 2));
        var expected = Step(a, optA, x, y);

        using var b = Catalogue.Create("edu", Small, seed: 2); // different initial weights: everything must come from the checkpoint
        var optB = optim.Adam(b.parameters(), lr: 1e-2);
        var info = TrainingCheckpoint.Load(dir.Path, b, optB);
        var actual = Step(b, optB, x, y);

        Assert.Equal(new CheckpointInfo("edu", Small, 1, 2) with { Hyperparameters = info.Hyperparameters }, info);
        Assert.Equal(Small, info.Hyperparameters);
        Assert.Equal(expected, actual, 6);
        foreach (var (pa, pb) in a.parameters().Zip(b.parameters()))
            Assert.True(pa.allclose(pb, atol: 1e-6));
    }

    [Fact]
    public void A_package_round_trips_manifest_and_weights_and_the_model_predicts_the_same()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        using var model = Catalogue.Create("attention-unet-mde", Small);
        TrainOnce(model);
        model.eval();
        var manifest = new ModelManifest
        {
            Name = "skin-lesion", Version = "1.2.0", Architecture = "attention-unet-mde", Hyperparameters = Small,
            Modality = "dermoscopy", Labels = new Dictionary<string, string> { ["0"] = "background", ["1"] = "lesion" },
            Preprocessing = System.Text.Json.JsonDocument.Parse("""{"steps":[{"op":"zscore"}]}""").RootElement,
            TrainingDataHash = "sha256:abc", Metrics = new Dictionary<string, double> { ["dice"] = 0.91 },
        };
        ModelPackage.Save(dir.File("pkg"), manifest, model);
        var (m, loaded) = ModelPackage.Load(dir.File("pkg"), Catalogue);
        using (loaded)
        {
            Assert.Equal("skin-lesion", m.Name);
            Assert.Equal("1.2.0", m.Version);
            Assert.Equal(0.91, m.Metrics["dice"]);
            Assert.Equal("lesion", m.Labels["1"]);
            Assert.Equal("zscore", m.Preprocessing!.Value.GetProperty("steps")[0].GetProperty("op").GetString());
            Assert.Equal(Small, m.Hyperparameters);
            using var _ = no_grad();
            var x = TestRandom.Normal(1, 1, 32, 32);
            Assert.True(model.forward(x).allclose(loaded.forward(x), atol: 1e-6));
        }
        Assert.Throws<InvalidInputException>(() => ModelPackage.Save(dir.File("pkg"), manifest, model));
    }

    [Fact]
    public void Loading_weights_of_another_shape_names_the_key_and_both_shapes()
    {
        using var dir = new TempDir();
        using var wide = Catalogue.Create("unet", Small with { BaseChannels = 8 });
        using var narrow = Catalogue.Create("unet", Small);
        Weights.SaveSafetensors(wide, dir.File("w.safetensors"));
        var e = Assert.Throws<InvalidInputException>(() => Weights.LoadSafetensors(narrow, dir.File("w.safetensors")));
        Assert.Contains("'encoder.0.conv1.weight'", e.Message);
        Assert.Contains("[8, 1, 3, 3]", e.Message);
        Assert.Contains("[4, 1, 3, 3]", e.Message);
    }

    [Fact]
    public void A_package_of_another_architecture_names_the_missing_key()
    {
        using var dir = new TempDir();
        using var model = Catalogue.Create("unet", Small);
        ModelPackage.Save(dir.File("pkg"), new ModelManifest { Name = "x", Version = "1", Architecture = "unet", Hyperparameters = Small }, model);
        string manifest = File.ReadAllText(dir.File("pkg/model.json")).Replace("\"unet\"", "\"attention-unet\"");
        File.WriteAllText(dir.File("pkg/model.json"), manifest);
        var e = Assert.Throws<InvalidInputException>(() => ModelPackage.Load(dir.File("pkg"), Catalogue));
        Assert.Contains("gate.", e.Message);

        File.WriteAllText(dir.File("pkg/model.json"), manifest.Replace("\"attention-unet\"", "\"no-such-net\""));
        e = Assert.Throws<InvalidInputException>(() => ModelPackage.Load(dir.File("pkg"), Catalogue));
        Assert.Contains("no-such-net", e.Message);
    }

    [Fact]
    public void Pytorch_state_dict_export_and_import_round_trip()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        using var a = Catalogue.Create("edu", Small, seed: 3);
        TrainOnce(a);
        Weights.ExportPyTorch(a, dir.File("w.pt"));
        using var b = Catalogue.Create("edu", Small, seed: 4);
        Weights.ImportPyTorch(b, dir.File("w.pt"));
        foreach (var ((k, ta), (_, tb)) in a.state_dict().Zip(b.state_dict()))
            Assert.True(ta.eq(tb).all().item<bool>(), k);
        using var other = Catalogue.Create("unet", Small);
        Assert.Throws<InvalidInputException>(() => Weights.ImportPyTorch(other, dir.File("w.pt")));
    }

    [Fact]
    public void A_truncated_safetensors_file_is_reported_as_bad_input()
    {
        using var dir = new TempDir();
        using var model = Catalogue.Create("unet", Small);
        Weights.SaveSafetensors(model, dir.File("w.safetensors"));
        var bytes = File.ReadAllBytes(dir.File("w.safetensors"));
        File.WriteAllBytes(dir.File("w.safetensors"), bytes[..(bytes.Length / 2)]);
        Assert.Throws<InvalidInputException>(() => Weights.LoadSafetensors(model, dir.File("w.safetensors")));
    }

    private static float Step(nn.Module<Tensor, Tensor> model, optim.Optimizer opt, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        opt.zero_grad();
        var loss = nn.functional.binary_cross_entropy_with_logits(model.forward(x), y);
        loss.backward();
        opt.step();
        return loss.item<float>();
    }

    private static void TrainOnce(nn.Module<Tensor, Tensor> model)
    {
        var opt = optim.Adam(model.parameters(), lr: 1e-2);
        Step(model, opt, TestRandom.Normal(2, 1, 32, 32), (TestRandom.Normal(2, 2, 32, 32) > Scalars.Of(0)).to_type(ScalarType.Float32));
    }
}
