using System.Text.Json.Nodes;
using Edu.Models.Runtime;
using Edu.Abstractions.Errors;
using Edu.Training.Data;
using static TorchSharp.torch;

namespace Edu.Training.Tests;

public sealed class TrainerDivergenceTests
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

    public enum Fault { NanLoss, InfiniteLoss, NanWeight }

    [Theory]
    [InlineData(Fault.NanLoss, 2, "loss NaN")]
    [InlineData(Fault.InfiniteLoss, 3, "loss Infinity")]
    [InlineData(Fault.NanWeight, 4, "weights of [^ ]+ not finite")] // the last step's update: its loss was still finite
    public void Divergence_in_epoch_2_stops_the_run_naming_the_step_and_leaves_epoch_1s_files_byte_identical(Fault fault, int step, string what)
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 8, 32);
        string run = t.Sub("run");
        var trainer = new FaultyTrainer(fault, epoch: 2, step);
        var events = new List<TrainingEvent>();

        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run(Tiny(data, 3), run, new SyncProgress(events.Add)));

        Assert.IsAssignableFrom<NumericsException>(e);
        Assert.Matches($@"^training diverged at epoch 2 step {step} \({what}\); last good checkpoint: {System.Text.RegularExpressions.Regex.Escape(Path.Combine(run, "checkpoints", "last"))}$", e.Message);
        Assert.Equal((2, step, Path.Combine(run, "checkpoints", "last")), (e.Epoch, e.Step, e.LastCheckpoint));
        Assert.NotEmpty(trainer.AfterEpoch1);
        Assert.Equal(trainer.AfterEpoch1.Keys.Order(StringComparer.Ordinal), Snapshot(run).Keys.Order(StringComparer.Ordinal)); // no model/, no half-written checkpoint
        foreach (var (file, bytes) in Snapshot(run))
            Assert.True(bytes.AsSpan().SequenceEqual(trainer.AfterEpoch1[file]), file);
        Assert.DoesNotContain(events, x => x.Epoch == 2 && x.Kind is TrainingEventKind.EpochEnd or TrainingEventKind.CheckpointWritten);
    }

    [Fact]
    public void Divergence_before_the_first_checkpoint_says_so_and_leaves_the_run_folder_free_for_a_new_try()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 8, 32);
        string run = t.Sub("run");

        var e = Assert.Throws<TrainingDivergedException>(() => new FaultyTrainer(Fault.NanLoss, epoch: 1, step: 1).Run(Tiny(data, 2), run));

        Assert.Equal("training diverged at epoch 1 step 1 (loss NaN); no checkpoint yet", e.Message);
        Assert.Null(e.LastCheckpoint);
        Assert.False(Directory.Exists(run));
        Assert.Equal(2, new Trainer().Run(Tiny(data, 2), run).EpochsRun);
    }

    [Fact]
    public void A_cancellation_after_an_unchecked_nan_step_writes_no_interrupted_checkpoint()
    {
        // The loss sum is read every 10 steps and at an epoch's end; a Ctrl+C in between must not save the NaN weights.
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 8, 32);
        string run = t.Sub("run");
        using var cts = new CancellationTokenSource();
        var trainer = new FaultyTrainer(Fault.NanLoss, epoch: 2, step: 1);
        var progress = new SyncProgress(x =>
        {
            if (x.Kind == TrainingEventKind.Step && x.Epoch == 2 && x.Step == 2) cts.Cancel();
        });

        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run(Tiny(data, 3), run, progress, cts.Token));

        Assert.StartsWith("training diverged at epoch 2 step 1 (loss NaN); last good checkpoint: ", e.Message);
        foreach (var (file, bytes) in Snapshot(run))
            Assert.True(bytes.AsSpan().SequenceEqual(trainer.AfterEpoch1[file]), file);
    }

    [Fact]
    public void Resume_reads_a_trainer_json_whose_non_finite_numbers_are_null()
    {
        using var t = new TempFolder();
        string data = TinyDatasets.NnUNet(t.Sub("data"), 8, 32);
        string run = t.Sub("run");
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(x =>
        {
            if (x.Kind == TrainingEventKind.EpochEnd && x.Epoch == 1) cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => new Trainer().Run(Tiny(data, 2), run, progress, cts.Token));
        string statePath = Path.Combine(run, "checkpoints", "last", "trainer.json");
        var state = JsonNode.Parse(File.ReadAllText(statePath))!;
        state["history"]![0]!["train_loss"] = null; // as the trainer writes a NaN
        File.WriteAllText(statePath, state.ToJsonString());

        var resumed = new Trainer().Run(Tiny(data, 2) with { Resume = true }, run);

        Assert.Equal(2, resumed.EpochsRun);
        Assert.True(double.IsNaN(resumed.History[0].TrainLoss));
        Assert.True(double.IsFinite(resumed.History[1].TrainLoss));
        Assert.Contains("\"train_loss\":null", File.ReadAllLines(Path.Combine(run, "log.jsonl"))[0]);
        Assert.Contains("\"train_loss\": null", File.ReadAllText(statePath));
    }

    private static Dictionary<string, byte[]> Snapshot(string run) =>
        Directory.EnumerateFiles(run, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(run, f), File.ReadAllBytes);

    /// <summary>A trainer variant (one overridden step, as nnU-Net's variants do) whose loss or weights stop being finite at one step.</summary>
    private sealed class FaultyTrainer(Fault fault, int epoch, int step) : Trainer
    {
        public Dictionary<string, byte[]> AfterEpoch1 { get; private set; } = [];

        protected override Tensor TrainStep(TrainingContext context, TrainingBatch batch)
        {
            var loss = base.TrainStep(context, batch);
            int s = (int)(context.GlobalStep - (long)(context.Epoch - 1) * context.StepsPerEpoch) + 1;
            if (context.Epoch != epoch || s != step) return loss;
            if (fault == Fault.NanWeight)
            {
                using (no_grad()) context.Model.parameters().First().fill_(Scalars.Of(float.NaN));
                return loss;
            }
            loss.Dispose();
            return tensor(fault == Fault.NanLoss ? float.NaN : float.PositiveInfinity);
        }

        protected override void OnEpochEnd(TrainingContext context, EpochSummary summary)
        {
            if (summary.Epoch == 1) AfterEpoch1 = Snapshot(context.RunDirectory);
        }
    }

    private sealed class SyncProgress(Action<TrainingEvent> action) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => action(value);
    }
}
