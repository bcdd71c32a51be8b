using System.Text.Json;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using Edu.Training.Augmentation;

namespace Edu.Training.Tests;

public sealed class TrainerTests
{
    private static TrainingOptions Tiny(string dataset, int epochs) => new()
    {
        Dataset = dataset,
        Model = "unet",
        BaseChannels = 4,
        Depth = 2,
        Epochs = epochs,
        BatchSize = 4,
        StepsPerEpoch = 4,
        LearningRate = 0.01,
        Threads = 1,
        Seed = 3,
        ValidationFraction = 0.25,
    };

    [Fact]
    public void Training_on_a_tiny_dataset_lowers_the_loss_and_writes_the_run_folder()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 8, 32);
        var events = new List<TrainingEvent>();
        var result = new Trainer().Run(Tiny(data, 6), t.Sub("run"), new SyncProgress(events.Add));

        Assert.Equal(6, result.History.Count);
        Assert.True(result.History[^1].TrainLoss < result.History[0].TrainLoss * 0.8,
            $"loss {result.History[0].TrainLoss} → {result.History[^1].TrainLoss}");
        foreach (string f in new[] { "options.json", "splits.json", "log.jsonl", "curves.png", "model/model.json", "model/weights.safetensors",
                     "checkpoints/last/weights.safetensors", "checkpoints/last/optimizer.bin", "checkpoints/last/trainer.json", "checkpoints/best/checkpoint.json" })
            Assert.True(File.Exists(Path.Combine(result.RunDirectory, f)), f);
        var lines = File.ReadAllLines(Path.Combine(result.RunDirectory, "log.jsonl"));
        Assert.Equal(6, lines.Length);
        using (var doc = JsonDocument.Parse(lines[0]))
            foreach (string key in new[] { "epoch", "train_loss", "val_dice", "lr", "seconds", "data_wait_fraction" })
                Assert.True(doc.RootElement.TryGetProperty(key, out _), key);
        var (manifest, model) = ModelPackage.Load(result.ModelDirectory, ModelCatalogue.CreateBuiltIn());
        model.Dispose();
        Assert.Equal("unet", manifest.Architecture);
        Assert.Equal("zscore", manifest.Preprocessing!.Value.GetProperty("pipeline").GetString());
        Assert.Equal(result.BestValidationDice, manifest.Metrics["dice"], 5);
        Assert.Contains(events, e => e.Kind == TrainingEventKind.Step && e.Step == 4 && e.Loss is not null);
        Assert.Equal(6, events.Count(e => e.Kind == TrainingEventKind.EpochEnd));
        Assert.Equal(TrainingEventKind.Completed, events[^1].Kind);
    }

    [Theory]
    [InlineData("edu-dense")]
    [InlineData("edu-lean")]
    public void The_second_readings_of_edu_train_with_deep_supervision_and_publish_a_loadable_package(string name)
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 8, 32);
        var result = new Trainer().Run(Tiny(data, 2) with { Model = name, DeepSupervision = true }, t.Sub("run"));

        Assert.Equal(2, result.History.Count);
        Assert.All(result.History, h => Assert.True(double.IsFinite(h.TrainLoss), $"{name}: loss {h.TrainLoss}"));
        var (manifest, model) = ModelPackage.Load(result.ModelDirectory, ModelCatalogue.CreateBuiltIn());
        model.Dispose();
        Assert.Equal(name, manifest.Architecture);
        Assert.True(manifest.Hyperparameters.DeepSupervision);
    }

    [Fact]
    public void Resume_after_cancellation_at_an_epoch_boundary_ends_with_the_same_weights()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 6, 32);
        var options = Tiny(data, 4) with { Augmentation = new AugmentationOptions { AffineProbability = 1 } };
        var straight = new Trainer().Run(options, t.Sub("straight"));

        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(e =>
        {
            if (e.Kind == TrainingEventKind.EpochEnd && e.Epoch == 2) cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => new Trainer().Run(options, t.Sub("resumed"), progress, cts.Token));
        Assert.False(Directory.Exists(Path.Combine(t.Sub("resumed"), "model")));
        var resumed = new Trainer().Run(options with { Resume = true }, t.Sub("resumed"));

        Assert.Equal(straight.History.Select(h => h.TrainLoss), resumed.History.Select(h => h.TrainLoss));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight.RunDirectory, "checkpoints/last/weights.safetensors")),
            File.ReadAllBytes(Path.Combine(resumed.RunDirectory, "checkpoints/last/weights.safetensors")));
        Assert.Equal(File.ReadAllText(Path.Combine(straight.RunDirectory, "splits.json")), File.ReadAllText(Path.Combine(resumed.RunDirectory, "splits.json")));
    }

    [Fact]
    public void Resume_after_cancellation_inside_an_epoch_continues_from_the_next_step_with_the_same_result()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 6, 32);
        var options = Tiny(data, 3) with { Augmentation = new AugmentationOptions { AffineProbability = 1 } };
        var straight = new Trainer().Run(options, t.Sub("straight"));

        // cancelled after step 2 of epoch 2 (of 4 steps): a worker's graceful shutdown, or Ctrl+C
        using var cts = new CancellationTokenSource();
        var events = new List<TrainingEvent>();
        var progress = new SyncProgress(e =>
        {
            events.Add(e);
            if (e.Kind == TrainingEventKind.Step && e.Epoch == 2 && e.Step == 2) cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => new Trainer().Run(options, t.Sub("resumed"), progress, cts.Token));
        Assert.Contains(events, e => e.Kind == TrainingEventKind.CheckpointWritten && e.Message.Contains("after step 2 of epoch 2", StringComparison.Ordinal));
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(t.Sub("resumed"), "checkpoints/last/trainer.json"))))
        {
            Assert.Equal(1, doc.RootElement.GetProperty("epoch").GetInt32());
            Assert.Equal(2, doc.RootElement.GetProperty("step_in_epoch").GetInt32());
        }

        var resumedEvents = new List<TrainingEvent>();
        var resumed = new Trainer().Run(options with { Resume = true }, t.Sub("resumed"), new SyncProgress(resumedEvents.Add));

        Assert.Equal(3, resumedEvents.First(e => e.Kind == TrainingEventKind.Step).Step); // steps 1 and 2 are not repeated
        Assert.Equal(straight.History.Select(h => h.TrainLoss), resumed.History.Select(h => h.TrainLoss));
        Assert.Equal(straight.History.Select(h => h.ValidationDice), resumed.History.Select(h => h.ValidationDice));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight.RunDirectory, "checkpoints/last/weights.safetensors")),
            File.ReadAllBytes(Path.Combine(resumed.RunDirectory, "checkpoints/last/weights.safetensors")));
    }

    [Fact]
    public void Cases_beyond_the_memory_budget_train_from_the_memory_mapped_cache_with_the_same_result()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 6, 32);
        var options = Tiny(data, 2) with { Augmentation = new AugmentationOptions { AffineProbability = 1 } };
        var inMemory = new Trainer().Run(options, t.Sub("memory"));
        var events = new List<TrainingEvent>();
        var mapped = new Trainer().Run(options with { MemoryBudgetMb = 0 }, t.Sub("mapped"), new SyncProgress(events.Add));

        Assert.Contains(events, e => e.Message?.Contains("memory-mapped from cache/", StringComparison.Ordinal) == true);
        Assert.Equal(inMemory.History.Select(h => h.TrainLoss), mapped.History.Select(h => h.TrainLoss));
        Assert.Equal(inMemory.History.Select(h => h.ValidationDice), mapped.History.Select(h => h.ValidationDice));
        Assert.Equal(File.ReadAllBytes(Path.Combine(inMemory.RunDirectory, "checkpoints/last/weights.safetensors")),
            File.ReadAllBytes(Path.Combine(mapped.RunDirectory, "checkpoints/last/weights.safetensors")));
        Assert.False(Directory.Exists(Path.Combine(mapped.RunDirectory, "cache")), "the cache folder is removed when the run ends");
    }

    [Fact]
    public void A_non_empty_run_folder_is_refused_without_resume()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 4, 32);
        Directory.CreateDirectory(t.Sub("run"));
        File.WriteAllText(Path.Combine(t.Sub("run"), "keep.txt"), "mine");
        var e = Assert.Throws<Abstractions.Errors.InvalidInputException>(() => new Trainer().Run(Tiny(data, 1), t.Sub("run")));
        Assert.Contains("--resume", e.Problem);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(t.Sub("run"), "keep.txt")));
    }

    [Fact]
    public void A_new_run_that_fails_on_bad_data_leaves_no_run_folder_behind()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 4, 32);
        File.WriteAllText(Path.Combine(data, "imagesTr", "case_002_0000.png"), "not a png");
        Assert.ThrowsAny<Abstractions.Errors.EduException>(() => new Trainer().Run(Tiny(data, 1), t.Sub("run")));
        Assert.False(Directory.Exists(t.Sub("run")));
    }

    [Fact]
    public void Learning_rate_schedules_start_at_lr_and_end_at_zero()
    {
        var o = new TrainingOptions { Dataset = "x", LearningRate = 0.01 };
        Assert.Equal(0.01, Trainer.LearningRateAt(o, 0, 100), 12);
        Assert.Equal(0.01 * Math.Pow(0.5, 0.9), Trainer.LearningRateAt(o, 50, 100), 12);
        Assert.Equal(0, Trainer.LearningRateAt(o, 100, 100), 12);
        var cos = o with { Schedule = "cosine" };
        Assert.Equal(0.005, Trainer.LearningRateAt(cos, 50, 100), 12);
        Assert.Equal(0, Trainer.LearningRateAt(cos, 100, 100), 12);
    }

    private sealed class SyncProgress(Action<TrainingEvent> action) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => action(value);
    }
}
