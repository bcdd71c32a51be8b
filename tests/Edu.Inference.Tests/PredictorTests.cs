using Edu.Abstractions.Errors;
using Edu.Models.Runtime;
using Edu.Abstractions.Imaging;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Inference.Tests;

public sealed class PredictorTests
{
    private static readonly ModelCatalogue Catalogue = ModelCatalogue.CreateBuiltIn();

    private static string SavePackage(TempDir dir, string architecture, ModelHyperparameters hp, string? pipeline = null, int[]? patch = null,
        string folder = "pkg", int seed = 3)
    {
        using var model = Catalogue.Create(architecture, hp, seed);
        string path = dir.File(folder);
        ModelPackage.Save(path, TestImages.Manifest(architecture, hp, pipeline, patch), model);
        return path;
    }

    [Theory]
    [InlineData(37, 29, 1, 2, null)]                                     // 2-D, not a multiple of 16
    [InlineData(50, 30, 1, 2, "resize(size=32x32); zscore")]            // resize + pad, undone
    [InlineData(21, 18, 11, 3, "resample(spacing=2x2x2); zscore")]      // 3-D resampling, undone
    [InlineData(20, 17, 5, 2, "zscore")]                                // 2-D model on a volume: slice by slice
    public void Labels_come_back_in_the_source_geometry_oblique_and_anisotropic(int x, int y, int z, int dims, string? pipeline)
    {
        using var dir = new TempDir();
        var hp = new ModelHyperparameters(dims, 1, 2, 4, 2);
        string package = SavePackage(dir, "unet", hp, pipeline);
        var image = TestImages.Pattern(x, y, z, spacing: [0.7, 1.3, 2.5], direction: TestImages.Oblique);
        using var predictor = Predictor.Load(package);

        var prediction = predictor.Predict(image);

        Assert.Equal(image.Geometry, prediction.Labels.Geometry);
        Assert.Equal(1, prediction.Labels.Channels);
        Assert.Equal(image.Size.VoxelCount, prediction.Labels.Voxels.LongLength);
        Assert.All(prediction.Labels.Voxels, v => Assert.True(v is 0 or 1));
        var organ = Assert.Single(prediction.Statistics);
        Assert.Equal("organ", organ.Name);
        Assert.Equal(prediction.Labels.Voxels.Count(v => v == 1), organ.Voxels);
        Assert.Equal(organ.Voxels * 0.7 * 1.3 * 2.5 / 1000, organ.VolumeMl, 9);
    }

    [Fact]
    public void A_training_run_folder_resolves_to_its_model_subfolder_and_predicts_like_the_in_memory_model()
    {
        using var dir = new TempDir();
        var hp = new ModelHyperparameters(2, 3, 3, 4, 2);
        string pipeline = "scale(factor=0.00392156862745098, offset=0)";
        SavePackage(dir, "edu", hp, pipeline, [32, 32], folder: Path.Combine("run", ModelPackageLocator.RunPackageFolder));
        var image = TestImages.Pattern(45, 38, 1, channels: 3);

        using var loaded = Predictor.Load(dir.File("run"), new PredictorOptions { ReturnProbabilities = true });
        var fromPackage = loaded.Predict(image);

        var (manifest, model) = ModelPackage.Load(dir.File(Path.Combine("run", "model")), Catalogue);
        using (model)
        {
            model.train();
            using var inMemory = Predictor.Create(model, manifest, new PredictorOptions { ReturnProbabilities = true });
            var fromMemory = inMemory.Predict(image);
            Assert.True(model.training, "Create must leave a training model in training mode");
            Assert.Equal(fromPackage.Labels.Voxels, fromMemory.Labels.Voxels);
        }
        Assert.Equal(pipeline, loaded.Pipeline.ToString());
        Assert.Equal(2, fromPackage.Statistics.Count);
        Assert.Equal(3, fromPackage.Probabilities!.Channels);
        Assert.Equal(image.Geometry, fromPackage.Probabilities.Geometry);
        // windows of 32 with overlap 0.5 over 45 × 38 (no padding needed): starts 0 and 13 along x, 0 and 6 along y
        Assert.Equal(4, fromPackage.Windows);
        long n = image.Size.VoxelCount;
        for (long i = 0; i < n; i++)
        {
            float sum = fromPackage.Probabilities.Voxels[i] + fromPackage.Probabilities.Voxels[n + i] + fromPackage.Probabilities.Voxels[2 * n + i];
            AssertClose(1f, sum);
            int argmax = Enumerable.Range(0, 3).MaxBy(c => fromPackage.Probabilities.Voxels[c * n + i]);
            Assert.Equal(argmax, (int)fromPackage.Labels.Voxels[i]);
        }
    }

    [Theory]
    [InlineData(1, 0.5)]
    [InlineData(3, 0.5)]
    [InlineData(1, 0.25)]
    [InlineData(2, 0.75)]
    public void Sliding_window_stitching_of_a_pointwise_net_equals_one_direct_forward_pass(int classes, double overlap)
    {
        // A 1×1 convolution maps each voxel on its own, so every window predicts exactly the direct pass's logits
        // there, and any weighted average of them (Gaussian, any overlap) must give those logits back.
        using var net = new ConvNet(2, 2, classes, 1, seed: 7);
        var hp = new ModelHyperparameters(2, 2, classes, 4, 4);
        var image = TestImages.Pattern(70, 53, 1, channels: 2);
        using var predictor = Predictor.Create(net, TestImages.Manifest("pointwise", hp),
            new PredictorOptions { PatchSize = [32, 16], Overlap = overlap, ReturnProbabilities = true });

        var prediction = predictor.Predict(image);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var logits = net.forward(tensor(image.Voxels, [1, 2, 53, 70]));
        var expected = (classes == 1 ? sigmoid(logits) : softmax(logits, 1)).squeeze(0).contiguous().data<float>().ToArray();
        Assert.True(prediction.Windows > 6, $"expected several windows, ran {prediction.Windows}");
        Assert.Equal(expected.Length, prediction.Probabilities!.Voxels.Length);
        for (int i = 0; i < expected.Length; i++)
            AssertClose(expected[i], prediction.Probabilities.Voxels[i]);
    }

    [Fact]
    public void Sliding_window_and_whole_image_of_a_pointwise_net_agree_in_3d()
    {
        using var net = new ConvNet(3, 1, 1, 1, seed: 8);
        var hp = new ModelHyperparameters(3, 1, 1, 4, 2);
        var image = TestImages.Pattern(23, 19, 14);
        using var windows = Predictor.Create(net, TestImages.Manifest("pointwise", hp), new PredictorOptions { PatchSize = [8], ReturnProbabilities = true });
        using var whole = Predictor.Create(net, TestImages.Manifest("pointwise", hp), new PredictorOptions { PatchSize = [64], ReturnProbabilities = true });

        var a = windows.Predict(image);
        var b = whole.Predict(image);

        Assert.True(a.Windows > 20);
        Assert.Equal(1, b.Windows);
        for (int i = 0; i < a.Probabilities!.Voxels.Length; i++)
            AssertClose(b.Probabilities!.Voxels[i], a.Probabilities.Voxels[i]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Flip_tta_of_a_flip_equivariant_net_equals_no_tta(int dims)
    {
        using var net = new ConvNet(dims, 1, 2, 3, seed: 11, flipSymmetric: true);
        var hp = new ModelHyperparameters(dims, 1, 2, 4, 2);
        var image = dims == 2 ? TestImages.Pattern(41, 30, 1) : TestImages.Pattern(19, 13, 9);
        var options = new PredictorOptions { PatchSize = [16], ReturnProbabilities = true };
        using var plain = Predictor.Create(net, TestImages.Manifest("symmetric", hp), options);
        using var tta = Predictor.Create(net, TestImages.Manifest("symmetric", hp), options with { FlipTta = true });

        var a = plain.Predict(image);
        var b = tta.Predict(image);

        for (int i = 0; i < a.Probabilities!.Voxels.Length; i++)
            AssertClose(a.Probabilities.Voxels[i], b.Probabilities!.Voxels[i]);
        Assert.Equal(a.Labels.Voxels, b.Labels.Voxels);
    }

    [Fact]
    public void Flip_tta_averages_the_logits_of_the_four_flipped_passes()
    {
        using var net = new ConvNet(2, 1, 1, 3, seed: 12);
        var hp = new ModelHyperparameters(2, 1, 1, 4, 2);
        var image = TestImages.Pattern(16, 16, 1);
        using var tta = Predictor.Create(net, TestImages.Manifest("asymmetric", hp), new PredictorOptions { FlipTta = true, ReturnProbabilities = true });
        using var plain = Predictor.Create(net, TestImages.Manifest("asymmetric", hp), new PredictorOptions { ReturnProbabilities = true });

        var prediction = tta.Predict(image);
        var without = plain.Predict(image);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = tensor(image.Voxels, [1, 1, 16, 16]);
        long[][] flips = [[], [2], [3], [2, 3]];
        var mean = flips.Select(f => f.Length == 0 ? net.forward(x) : net.forward(x.flip(f)).flip(f)).Aggregate((p, q) => p + q) / 4;
        var expected = sigmoid(mean).contiguous().data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++)
            AssertClose(expected[i], prediction.Probabilities!.Voxels[i]);
        Assert.NotEqual(without.Probabilities!.Voxels, prediction.Probabilities!.Voxels);
    }

    [Fact]
    public void A_2d_model_segments_a_volume_slice_by_slice_exactly_as_each_slice_alone()
    {
        using var dir = new TempDir();
        string package = SavePackage(dir, "attention-unet", new ModelHyperparameters(2, 2, 3, 4, 2), "zscore(mask=none)", [16, 16]);
        using var predictor = Predictor.Load(package, new PredictorOptions { Pipeline = Abstractions.Preprocessing.PreprocessingPipeline.Empty });
        var volume = TestImages.Pattern(27, 22, 4, channels: 2);

        var whole = predictor.Predict(volume).Labels.Voxels;

        int plane = 27 * 22;
        for (int z = 0; z < 4; z++)
        {
            var slice = new float[2 * plane];
            for (int c = 0; c < 2; c++)
                Array.Copy(volume.Voxels, (c * 4 + z) * plane, slice, c * plane, plane);
            var alone = predictor.Predict(new ImageVolume(ImageGeometry.Identity(new VolumeSize(27, 22, 1)), 2, slice, PixelType.Float32)).Labels.Voxels;
            Assert.Equal(alone, whole.AsSpan(z * plane, plane).ToArray());
        }
    }

    [Fact]
    public void Gaussian_and_uniform_weighting_differ_for_a_net_that_sees_window_borders()
    {
        using var net = new ConvNet(2, 1, 1, 3, seed: 17);
        var hp = new ModelHyperparameters(2, 1, 1, 4, 2);
        var image = TestImages.Pattern(40, 40, 1);
        var options = new PredictorOptions { PatchSize = [16], ReturnProbabilities = true };
        using var gaussian = Predictor.Create(net, TestImages.Manifest("conv", hp), options);
        using var uniform = Predictor.Create(net, TestImages.Manifest("conv", hp), options with { GaussianWeighting = false });

        var a = gaussian.Predict(image).Probabilities!.Voxels;
        var b = uniform.Predict(image).Probabilities!.Voxels;

        Assert.NotEqual(a, b);
        // the image border is never a window's inner edge: the first row and column agree whatever the weights
        for (int x = 0; x < 8; x++) AssertClose(a[x], b[x]);
    }

    [Fact]
    public void A_binary_model_thresholds_the_sigmoid_at_the_chosen_probability()
    {
        using var net = new ConvNet(2, 1, 1, 1, seed: 13);
        var hp = new ModelHyperparameters(2, 1, 1, 4, 2);
        var image = TestImages.Pattern(24, 20, 1);
        foreach (float threshold in new[] { 0.3f, 0.5f, 0.8f })
        {
            using var predictor = Predictor.Create(net, TestImages.Manifest("pointwise", hp), new PredictorOptions { Threshold = threshold, ReturnProbabilities = true });
            var p = predictor.Predict(image);
            for (int i = 0; i < p.Labels.Voxels.Length; i++)
                Assert.Equal(p.Probabilities!.Voxels[i] > threshold ? 1f : 0f, p.Labels.Voxels[i]);
        }
    }

    [Fact]
    public void Bfloat16_on_the_cpu_gives_probabilities_close_to_float32()
    {
        using var dir = new TempDir();
        var catalogue = new ModelCatalogue();
        catalogue.Register(new ModelDefinition("conv3", "one 3×3 convolution", h => new ConvNet(h.SpatialDims, h.InChannels, h.Classes, 3, seed: 16)));
        var hp = new ModelHyperparameters(2, 1, 3, 4, 2);
        using (var net = catalogue.Create("conv3", hp))
            ModelPackage.Save(dir.File("pkg"), TestImages.Manifest("conv3", hp, "zscore"), net);
        var image = TestImages.Pattern(40, 33, 1);
        using var full = Predictor.Load(dir.File("pkg"), new PredictorOptions { ReturnProbabilities = true }, catalogue: catalogue);
        using var half = Predictor.Load(dir.File("pkg"), new PredictorOptions { ReturnProbabilities = true, BFloat16 = true }, catalogue: catalogue);

        var a = full.Predict(image).Probabilities!.Voxels;
        var b = half.Predict(image).Probabilities!.Voxels;

        Assert.NotEqual(a, b); // it really ran in another precision
        Assert.True(a.Zip(b).All(p => Math.Abs(p.First - p.Second) < 0.03), $"max difference {a.Zip(b).Max(p => Math.Abs(p.First - p.Second))}");
    }

    [Fact]
    public void A_package_whose_output_is_not_finite_is_refused_naming_it_instead_of_giving_empty_labels()
    {
        using var dir = new TempDir();
        var catalogue = new ModelCatalogue();
        catalogue.Register(new ModelDefinition("conv3", "one 3×3 convolution", h => new ConvNet(h.SpatialDims, h.InChannels, h.Classes, 3, seed: 17)));
        var hp = new ModelHyperparameters(2, 1, 2, 4, 2);
        using (var net = catalogue.Create("conv3", hp))
        {
            using (no_grad()) net.parameters().First().fill_(Scalars.Of(float.NaN)); // what a diverged training used to save
            ModelPackage.Save(dir.File("pkg"), TestImages.Manifest("conv3", hp, "zscore"), net);
        }
        using var predictor = Predictor.Load(dir.File("pkg"), new PredictorOptions { FlipTta = true }, catalogue: catalogue);

        var e = Assert.Throws<NumericsException>(() => predictor.Predict(TestImages.Pattern(40, 33, 1)));

        Assert.StartsWith($"model 'test-model' version '0.0.1' ({dir.File("pkg")}): ", e.Message);
        Assert.Contains("NaN or infinite", e.Message);
    }

    [Fact]
    public void An_in_memory_net_with_infinite_logits_is_refused_too()
    {
        using var net = new ConvNet(2, 1, 1, 1, seed: 18);
        using (no_grad()) net.parameters().Last().fill_(Scalars.Of(float.PositiveInfinity)); // the bias: every logit +∞
        using var predictor = Predictor.Create(net, TestImages.Manifest("pointwise", new ModelHyperparameters(2, 1, 1, 4, 2)));

        var e = Assert.Throws<NumericsException>(() => predictor.Predict(TestImages.Pattern(16, 16, 1)));

        Assert.StartsWith("model 'test-model' version '0.0.1': ", e.Message);
    }

    [Fact]
    public void An_image_with_the_wrong_channel_count_is_refused_naming_both_counts()
    {
        using var net = new ConvNet(2, 3, 1, 1, seed: 14);
        using var predictor = Predictor.Create(net, TestImages.Manifest("pointwise", new ModelHyperparameters(2, 3, 1, 4, 2)));

        var e = Assert.Throws<InvalidInputException>(() => predictor.Predict(TestImages.Pattern(16, 16, 1, channels: 1)));

        Assert.Equal(Predictor.ImageInputName, e.Input);
        Assert.Contains("1 channel(s)", e.Problem);
        Assert.Contains("expects 3", e.Problem);
    }

    [Fact]
    public void Keep_largest_component_leaves_one_component_per_label()
    {
        using var dir = new TempDir();
        string package = SavePackage(dir, "unet", new ModelHyperparameters(2, 1, 3, 4, 2), "zscore", seed: 21);
        var image = TestImages.Pattern(48, 40, 1);
        using var all = Predictor.Load(package);
        using var largest = Predictor.Load(package, new PredictorOptions { KeepLargestComponent = true });

        var a = all.Predict(image).Labels;
        var b = largest.Predict(image).Labels;

        Edu.Inference.Postprocessing.ConnectedComponents.Label(b.Voxels, b.Size, Edu.Inference.Postprocessing.Connectivity.Face, out _, out var labelOf);
        Assert.Equal(labelOf.Count, labelOf.Distinct().Count());
        for (int i = 0; i < a.Voxels.Length; i++)
            Assert.True(b.Voxels[i] == a.Voxels[i] || b.Voxels[i] == 0);
    }

    [Fact]
    public void Twenty_predictions_leave_no_live_tensors_behind()
    {
        using var dir = new TempDir();
        string package = SavePackage(dir, "edu", new ModelHyperparameters(2, 1, 2, 4, 2), "zscore");
        using var predictor = Predictor.Load(package, new PredictorOptions { PatchSize = [16], FlipTta = true, ReturnProbabilities = true });
        var image = TestImages.Pattern(30, 21, 1);
        predictor.Predict(image);

        DisposeScopeManager.Statistics.Reset();
        for (int i = 0; i < 20; i++) predictor.Predict(image);

        Assert.Equal(0, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Windows_batched_by_memory_give_the_labels_of_one_window_per_pass()
    {
        using var dir = new TempDir();
        var hp = new ModelHyperparameters(2, 1, 3, 4, 2);
        string package = SavePackage(dir, "unet", hp, "zscore", [16, 16]);
        var image = TestImages.Pattern(64, 48, 1);
        using var one = Predictor.Load(package, new PredictorOptions { BatchSize = 1, ReturnProbabilities = true });
        using var auto = Predictor.Load(package, new PredictorOptions { ReturnProbabilities = true });

        var a = one.Predict(image);
        var b = auto.Predict(image);

        Assert.Equal(1, a.WindowsPerBatch);
        Assert.Equal(Math.Min(a.Windows, WindowBatch.Choose([16, 16], 4)), b.WindowsPerBatch);
        Assert.True(b.WindowsPerBatch > 1, $"a 16×16 window of a base-4 net should batch, got {b.WindowsPerBatch}");
        Assert.Equal(a.Labels.Voxels, b.Labels.Voxels);
        for (int i = 0; i < a.Probabilities!.Voxels.Length; i++)
            AssertClose(a.Probabilities.Voxels[i], b.Probabilities!.Voxels[i]);
    }

    [Fact]
    public void The_window_batch_is_sized_to_the_memory_budget()
    {
        Assert.Equal(WindowBatch.MaxWindows, WindowBatch.Choose([64, 64], 8, budgetBytes: 1L << 30));
        Assert.Equal(1, WindowBatch.Choose([128, 128, 128], 16, budgetBytes: 512L << 20)); // a 3-D window of 2 Mi voxels: one per pass
        Assert.Equal(4, WindowBatch.Choose([64, 64], 8, budgetBytes: 4L * 64 * 64 * 8 * WindowBatch.BytesPerVoxelAndChannel));
    }

    [Fact]
    public void Cancellation_stops_after_the_window_batch_in_flight()
    {
        using var net = new ConvNet(2, 1, 1, 3, seed: 15);
        using var predictor = Predictor.Create(net, TestImages.Manifest("conv", new ModelHyperparameters(2, 1, 1, 4, 2)),
            new PredictorOptions { PatchSize = [16], BatchSize = 1 });
        using var cts = new CancellationTokenSource();
        var reports = new List<PredictionProgress>();
        var progress = new SyncProgress(p =>
        {
            reports.Add(p);
            cts.Cancel();
        });

        Assert.ThrowsAny<OperationCanceledException>(() => predictor.Predict(TestImages.Pattern(64, 64, 1), cts.Token, progress));

        var report = Assert.Single(reports);
        Assert.Equal(1, report.CompletedWindows);
        Assert.Equal(49, report.TotalWindows); // 7 × 7 windows of 16 with step 8 over 64
    }

    [Fact]
    public void An_unknown_preprocessing_step_or_a_patch_of_the_wrong_rank_is_refused_when_loading()
    {
        using var dir = new TempDir();
        string bad = SavePackage(dir, "unet", new ModelHyperparameters(2, 1, 1, 4, 2), "zscore; sharpen(amount=2)");
        var e = Assert.Throws<InvalidInputException>(() => Predictor.Load(bad));
        Assert.Contains("sharpen", e.Problem);

        string ok = SavePackage(dir, "unet", new ModelHyperparameters(2, 1, 1, 4, 2), folder: "ok");
        var p = Assert.Throws<InvalidInputException>(() => Predictor.Load(ok, new PredictorOptions { PatchSize = [32, 32, 32] }));
        Assert.Equal("patch size", p.Input);
        Assert.Throws<InvalidInputException>(() => Predictor.Load(dir.Path));
        Assert.Throws<InvalidInputException>(() => Predictor.Load(ok, new PredictorOptions { Overlap = 0.95 }));
        Assert.Throws<InvalidInputException>(() => Predictor.Load(ok, new PredictorOptions { Device = "tpu" }));
    }

    private static void AssertClose(float expected, float actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-5f, $"expected {expected}, got {actual}");

    private sealed class SyncProgress(Action<PredictionProgress> report) : IProgress<PredictionProgress>
    {
        public void Report(PredictionProgress value) => report(value);
    }
}
