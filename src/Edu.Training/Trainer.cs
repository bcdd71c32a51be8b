using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Preprocessing;
using Edu.Abstractions.Serialization;
using Edu.Imaging;
using Edu.Imaging.Preprocessing;
using Edu.Models.Catalogue;
using Edu.Models.Checkpoints;
using Edu.Models.Nets;
using Edu.Models.Runtime;
using Edu.Training.Augmentation;
using Edu.Training.Data;
using Edu.Training.Datasets;
using Edu.Training.Evaluation;
using Edu.Training.Losses;
using Edu.Training.Metrics;
using Edu.Training.Reporting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Training;

/// <summary>
/// Trains a catalogue net on a dataset into a run folder (see <see cref="RunFolder"/>), nnU-Net style: a variant
/// overrides one step (<see cref="OnTrainStart"/>, <see cref="TrainStep"/>, <see cref="ValidationStep"/>,
/// <see cref="OnEpochEnd"/>). A checkpoint is written at the end of every epoch (weights, optimizer, trainer state);
/// <see cref="TrainingOptions.Resume"/> continues from it exactly: an interrupted epoch is restarted, and because
/// all randomness derives from (seed, epoch, step, sample) and the learning rate from the step count, a resumed
/// run ends with the same weights as an uninterrupted one. Safe to run on a background thread; honours the token
/// between steps.
/// </summary>
public class Trainer
{
    private static JsonSerializerOptions Json => EduJson.Indented;
    private static JsonSerializerOptions JsonLine => EduJson.Compact;
    private readonly ModelCatalogue _catalogue;
    private readonly IReadOnlyList<IPreprocessingStep> _customSteps;
    private readonly Func<string, PreprocessingPipeline?>? _modalityPipelines;
    private readonly ImageReaderRegistry _readers;

    /// <summary>Creates a trainer.</summary>
    /// <param name="catalogue">Nets by name (default: the built-in six).</param>
    /// <param name="customSteps">Preprocessing steps from plugins.</param>
    /// <param name="modalityPipelines">Modality id → default pipeline (e.g. from the plugin catalogue), used when dataset.json names a modality but no pipeline.</param>
    /// <param name="readers">Image readers (default: the built-in formats).</param>
    public Trainer(ModelCatalogue? catalogue = null, IEnumerable<IPreprocessingStep>? customSteps = null,
        Func<string, PreprocessingPipeline?>? modalityPipelines = null, ImageReaderRegistry? readers = null)
    {
        _catalogue = catalogue ?? ModelCatalogue.CreateBuiltIn();
        _customSteps = customSteps?.ToList() ?? [];
        _modalityPipelines = modalityPipelines;
        _readers = readers ?? ImageReaderRegistry.CreateDefault();
    }

    /// <summary>
    /// Refuses options this trainer could not run, before any work is queued: values out of range, a net the
    /// catalogue does not hold, a pipeline that does not parse or names a step nobody provides.
    /// </summary>
    public void Check(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Precisions.CheckSupported(Precisions.Parse(options.Precision), Precisions.DeviceTypeOf(options.Device), CpuInfo.Current);
        _catalogue.Get(options.Model);
        if (options.Preprocessing is { } text)
        {
            var known = new PreprocessingRunner(_customSteps).Steps;
            foreach (var step in PreprocessingPipeline.Parse(text).Steps)
                if (!known.ContainsKey(step.Name))
                    throw new InvalidInputException("preprocessing", $"unknown preprocessing step '{step.Name}'; known: {string.Join(", ", known.Keys.Order(StringComparer.Ordinal))}");
        }
    }

    /// <summary>
    /// Runs (or, with <see cref="TrainingOptions.Resume"/>, continues) training into <paramref name="runDirectory"/>.
    /// A new run needs a missing or empty folder. On resume the stored options.json and splits.json are used
    /// (only <c>device</c>, <c>threads</c> and <c>prefetch</c> are taken from <paramref name="options"/>).
    /// </summary>
    public TrainingResult Run(TrainingOptions options, string runDirectory, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(runDirectory);
        options.Validate();
        string run = Path.GetFullPath(runDirectory);
        bool existed = Directory.Exists(run);
        options = PrepareRunFolder(options, run);
        try
        {
            return RunIn(options, run, progress, cancellationToken);
        }
        catch when (!options.Resume && !RunFolder.HasCheckpoint(run))
        {
            // a new run that failed before its first checkpoint: remove only what this call wrote, so the same command can be run again
            foreach (string f in new[] { RunFolder.Options, RunFolder.Splits })
                File.Delete(Path.Combine(run, f));
            if (!existed && !Directory.EnumerateFileSystemEntries(run).Any()) Directory.Delete(run);
            throw;
        }
    }

    private TrainingResult RunIn(TrainingOptions options, string run, IProgress<TrainingEvent>? progress, CancellationToken cancellationToken)
    {
        TorchRuntime.EnsureLoaded();
        var device = DeviceSpec.Parse(options.Device);
        var precision = Precisions.Parse(options.Precision);
        Precisions.CheckSupported(precision, device.type, CpuInfo.Current);
        if (options.Threads > 0) set_num_threads(options.Threads);

        var dataset = SegmentationDataset.Open(options.Dataset, _readers);
        var pipeline = ResolvePipeline(options, dataset);
        string splitPath = Path.Combine(run, RunFolder.Splits);
        var split = File.Exists(splitPath) ? DatasetSplit.Load(splitPath) : DatasetSplit.Create(dataset.Training.Select(c => c.Id), options.ValidationFraction, options.Seed);
        var known = dataset.Training.ToDictionary(c => c.Id);
        foreach (string id in split.Train.Concat(split.Validation))
            if (!known.ContainsKey(id)) throw new InvalidInputException(splitPath, $"case '{id}' of the split is not in the dataset {dataset.Root}");
        if (!File.Exists(splitPath)) split.Save(splitPath);

        var preparer = new CasePreparer(pipeline, _customSteps);
        int labelCount = dataset.Labels.Count;
        using var store = new CaseStore(Path.Combine(run, RunFolder.Cache),
            options.MemoryBudgetMb is int mb ? mb * (1L << 20) : CaseStore.DefaultBudgetBytes);
        PreparedCase Prepare(string id)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (image, labels) = dataset.LoadCase(known[id], cancellationToken);
            return store.Keep(preparer.PrepareCase(id, image, labels!, labelCount));
        }
        Report(progress, new TrainingEvent(TrainingEventKind.Started, 0, options.Epochs, 0, 0, null, null, options.LearningRate, null, null,
            $"preparing {split.Train.Count} training and {split.Validation.Count} validation cases ({pipeline})"));
        var trainCases = split.Train.Select(Prepare).ToList();
        var valCases = split.Validation.Select(Prepare).ToList();
        foreach (var c in trainCases.Concat(valCases))
            if (c.Channels != trainCases[0].Channels)
                throw new InvalidInputException(c.Id, $"has {c.Channels} channels after preprocessing, case '{trainCases[0].Id}' has {trainCases[0].Channels}");

        bool volumes = trainCases.Any(c => c.Z > 1);
        int dims = volumes && !options.TrainOnSlices ? 3 : 2;
        Precisions.CheckSupported(precision, device.type, CpuInfo.Current, dims);
        int multiple = 1 << options.Depth;
        int maxX = trainCases.Max(c => c.X), maxY = trainCases.Max(c => c.Y), maxZ = trainCases.Max(c => c.Z);
        int edge = options.PatchSize ?? (dims == 2 ? Math.Min(256, Math.Max(maxX, maxY)) : 64);
        int px = RoundUp(Math.Min(edge, maxX), multiple), py = RoundUp(Math.Min(edge, maxY), multiple);
        int pz = dims == 3 ? RoundUp(Math.Min(edge, maxZ), multiple) : 1;
        bool lateral = dataset.Labels.Values.Any(n => n.Contains("left", StringComparison.OrdinalIgnoreCase) || n.Contains("right", StringComparison.OrdinalIgnoreCase));
        var sampler = new PatchSampler(options.Augmentation, pz, py, px, lateral);
        int steps = options.StepsPerEpoch ?? Math.Max(1, (trainCases.Count + options.BatchSize - 1) / options.BatchSize);

        var hp = new ModelHyperparameters(dims, trainCases[0].Channels, dataset.Classes, options.BaseChannels, options.Depth, options.DeepSupervision);
        using var model = _catalogue.Create(options.Model, hp, options.Seed);
        model.to(device);
        var parameters = model.parameters().ToList();
        OptimizerHelper optimizer = options.Optimizer == "adamw"
            ? KeptScalarAdam.AdamW(parameters, options.LearningRate, options.WeightDecay)
            : KeptScalarAdam.Adam(parameters, options.LearningRate, options.WeightDecay);
        var ctx = new TrainingContext(options, run, dataset, split, trainCases, valCases, hp, model, optimizer, device, sampler, steps,
            SegmentationLosses.Get(options.Loss, hp.Classes), new MixedPrecision(precision, device.type));

        var state = new TrainerState();
        string last = RunFolder.LastCheckpoint(run);
        // A NaN or infinite loss or weight stops the run before anything is written: the checkpoints stay those of the last good epoch.
        TrainingDivergedException Diverged(int epoch, int step, string what, Exception? inner = null) =>
            new(epoch, step, what, RunFolder.HasCheckpoint(run) ? last : null, inner);
        if (options.Resume && RunFolder.HasCheckpoint(run))
        {
            RecoverCheckpointFolder(last);
            TrainingCheckpoint.Load(last, model, optimizer);
            state = ReadState(last);
            if (ctx.Precision.Scaler is { } resumedScaler && state.LossScale is { } scale)
                resumedScaler.Restore(scale, state.LossScaleGoodSteps ?? 0);
            RewriteLog(run, state.History);
        }
        ctx.GlobalStep = state.GlobalStep;
        OnTrainStart(ctx);
        Report(progress, new TrainingEvent(TrainingEventKind.Started, state.Epoch, options.Epochs, 0, steps, null, state.BestDice >= 0 ? state.BestDice : null,
            options.LearningRate, null, null, state.Epoch > 0 ? $"resuming after epoch {state.Epoch}" : $"training {options.Model} ({dims}-D, patch {string.Join("x", ctx.Patch)}, {Precisions.Name(precision)}) on {trainCases.Count} cases" +
            (store.CasesOnDisk > 0 ? $"; {store.CasesOnDisk} prepared cases beyond the memory budget are memory-mapped from {RunFolder.Cache}/" : "")));

        long totalSteps = (long)options.Epochs * steps;
        var epochTimes = new List<double>();
        var runClock = Stopwatch.StartNew();
        while (state.Epoch < options.Epochs && !state.StoppedEarly)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int epoch = state.Epoch + 1;
            ctx.Epoch = epoch;
            var clock = Stopwatch.StartNew();
            double waited = 0, stepTime = 0;
            long skippedBefore = ctx.Precision.Scaler?.SkippedSteps ?? 0;
            model.train();
            int firstStep = state.StepInEpoch; // > 0 when resuming inside this epoch
            using var lossSum = zeros(1, dtype: float64);
            if (firstStep > 0)
            {
                using var resumedSum = state.EpochLossSum.ToScalar();
                lossSum.fill_(resumedSum);
            }
            using var stepLosses = zeros(steps, dtype: float64); // read only to name the step once the sum is not finite
            double? runningLoss = null;
            int s = firstStep;
            // The loss sum is read back every few steps anyway (the running loss): a NaN or infinite loss in any step keeps
            // the sum non-finite, so reading it there finds divergence without a sync of its own. Nothing is written after it.
            double CheckedLossSum()
            {
                double sum = lossSum.item<double>();
                if (double.IsFinite(sum)) return sum;
                var losses = stepLosses.data<double>().ToArray();
                int bad = Array.FindIndex(losses, firstStep, s - firstStep, v => !double.IsFinite(v));
                throw bad < 0
                    ? Diverged(epoch, s, TrainingDivergedException.Loss(sum) + " in the epoch's sum")
                    : Diverged(epoch, bad + 1, TrainingDivergedException.Loss(losses[bad]));
            }
            // A step's update can break the weights while its loss was still finite: checked before anything is saved.
            void CheckWeights()
            {
                if (NonFiniteParameter(model) is { } name) throw Diverged(epoch, s, $"weights of {name} not finite");
            }
            // Cancelled inside an epoch (Ctrl+C, a worker's graceful shutdown): the steps taken so far are kept in the last
            // checkpoint, and a resume continues from the next step with the same batches.
            void CheckpointInterrupted()
            {
                if (s == firstStep) return; // nothing since the last checkpoint
                double sum = CheckedLossSum();
                CheckWeights();
                var interrupted = WithLossScale(state with { GlobalStep = ctx.GlobalStep, StepInEpoch = s, EpochLossSum = sum }, ctx.Precision);
                SaveCheckpoint(last, model, optimizer, new CheckpointInfo(options.Model, hp, epoch - 1, ctx.GlobalStep), interrupted);
                Report(progress, new TrainingEvent(TrainingEventKind.CheckpointWritten, epoch, options.Epochs, s, steps, sum / s, null,
                    ctx.LearningRate, null, last, $"last checkpoint, interrupted after step {s} of epoch {epoch}"));
            }
            void StopIfCancelled()
            {
                if (!cancellationToken.IsCancellationRequested) return;
                CheckpointInterrupted();
                cancellationToken.ThrowIfCancellationRequested();
            }
            using (var loader = new BatchLoader(trainCases, sampler, options.BatchSize, steps, options.Seed, epoch,
                       options.Augmentation.ForegroundShare, options.PrefetchBatches, cancellationToken, firstStep))
            {
                var stepClock = Stopwatch.StartNew();
                while (NextBatch(loader, cancellationToken, CheckpointInterrupted, out var wait) is { } batch)
                {
                    StopIfCancelled();
                    waited += wait.TotalSeconds;
                    double lr = LearningRateAt(options, ctx.GlobalStep, totalSteps);
                    foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
                    ctx.LearningRate = lr;
                    using (NewDisposeScope())
                    {
                        long skippedSoFar = ctx.Precision.Scaler?.SkippedSteps ?? 0;
                        using var loss = TrainStep(ctx, batch);
                        var value = loss.to_type(float64).cpu().reshape(1);
                        // a step fp16's loss scaler skipped (overflow; weights untouched) is not a diverged run: its loss stays out of the sum
                        if ((ctx.Precision.Scaler?.SkippedSteps ?? 0) == skippedSoFar) lossSum.add_(value, Scalars.One);
                        stepLosses.narrow(0, s, 1).copy_(value);
                    }
                    ctx.GlobalStep++;
                    s++;
                    if (s % 10 == 0 || s == steps) runningLoss = CheckedLossSum() / s;
                    stepTime += stepClock.Elapsed.TotalSeconds;
                    stepClock.Restart();
                    Report(progress, new TrainingEvent(TrainingEventKind.Step, epoch, options.Epochs, s, steps, runningLoss, null, lr,
                        Eta(epochTimes, options.Epochs - epoch + 1), null, ""));
                }
            }
            double trainLoss = CheckedLossSum() / steps;
            StopIfCancelled();
            CheckWeights();
            double dice;
            try
            {
                dice = ValidationStep(ctx);
            }
            catch (NumericsException e) when (e is not TrainingDivergedException)
            {
                throw Diverged(epoch, s, "the net's output on the validation cases is not finite", e);
            }
            clock.Stop();
            epochTimes.Add(clock.Elapsed.TotalSeconds);
            var scaler = ctx.Precision.Scaler;
            var summary = new EpochSummary(epoch, Math.Round(trainLoss, 6), Math.Round(dice, 6), ctx.LearningRate,
                Math.Round(clock.Elapsed.TotalSeconds, 3), stepTime > 0 ? Math.Round(waited / stepTime, 4) : 0, Precisions.Name(precision),
                scaler is null ? null : (int)(scaler.SkippedSteps - skippedBefore), scaler?.Scale);
            bool improved = dice > state.BestDice;
            state = state with
            {
                Epoch = epoch,
                GlobalStep = ctx.GlobalStep,
                StepInEpoch = 0,
                EpochLossSum = 0,
                BestDice = improved ? dice : state.BestDice,
                BestEpoch = improved ? epoch : state.BestEpoch,
                EpochsSinceBest = improved ? 0 : state.EpochsSinceBest + 1,
                History = [.. state.History, summary],
            };
            state = WithLossScale(state, ctx.Precision);
            if (options.Patience is { } patience && state.EpochsSinceBest >= patience && epoch < options.Epochs)
                state = state with { StoppedEarly = true };
            if (options.TimeBudgetSeconds is { } budget && runClock.Elapsed.TotalSeconds > budget && epoch < options.Epochs)
                state = state with { StoppedEarly = true };
            var info = new CheckpointInfo(options.Model, hp, epoch, ctx.GlobalStep);
            if (improved)
            {
                SaveCheckpoint(RunFolder.BestCheckpoint(run), model, optimizer, info, state);
                Report(progress, new TrainingEvent(TrainingEventKind.CheckpointWritten, epoch, options.Epochs, steps, steps, trainLoss, dice, ctx.LearningRate, null,
                    RunFolder.BestCheckpoint(run), $"best checkpoint (validation Dice {dice:F4})"));
            }
            SaveCheckpoint(last, model, optimizer, info, state);
            Report(progress, new TrainingEvent(TrainingEventKind.CheckpointWritten, epoch, options.Epochs, steps, steps, trainLoss, dice, ctx.LearningRate, null, last, "last checkpoint"));
            File.AppendAllText(Path.Combine(run, RunFolder.Log), JsonSerializer.Serialize(summary, JsonLine) + "\n");
            TrainingCurves.Write(state.History, Path.Combine(run, RunFolder.Curves));
            OnEpochEnd(ctx, summary);
            Report(progress, new TrainingEvent(TrainingEventKind.EpochEnd, epoch, options.Epochs, steps, steps, trainLoss, dice, ctx.LearningRate,
                Eta(epochTimes, options.Epochs - epoch), null,
                $"epoch {epoch}/{options.Epochs}: loss {trainLoss:F4}, validation Dice {dice:F4}, lr {ctx.LearningRate:G3}, {clock.Elapsed.TotalSeconds:F1} s, data wait {summary.DataWaitFraction:P1}"));
            if (state.StoppedEarly)
                Report(progress, new TrainingEvent(TrainingEventKind.EarlyStopped, epoch, options.Epochs, steps, steps, trainLoss, state.BestDice, ctx.LearningRate, null, null,
                    state.EpochsSinceBest >= (options.Patience ?? int.MaxValue)
                        ? $"no better validation Dice for {options.Patience} epochs: stopping (best {state.BestDice:F4} at epoch {state.BestEpoch})"
                        : $"time budget of {options.TimeBudgetSeconds:F0} s used: stopping (best {state.BestDice:F4} at epoch {state.BestEpoch})"));
        }

        string package = Path.Combine(run, RunFolder.Model);
        if (!Directory.Exists(package))
        {
            if (state.BestEpoch > 0) Weights.LoadSafetensors(model, Path.Combine(RunFolder.BestCheckpoint(run), TrainingCheckpoint.WeightsFile));
            WritePackage(package, options, dataset, pipeline, ctx, state);
        }
        Report(progress, new TrainingEvent(TrainingEventKind.Completed, state.Epoch, options.Epochs, 0, steps, state.History.LastOrDefault()?.TrainLoss, state.BestDice,
            ctx.LearningRate, TimeSpan.Zero, package, $"model package written: {package} (best validation Dice {state.BestDice:F4} at epoch {state.BestEpoch})"));
        return new TrainingResult(run, package, state.Epoch, state.BestEpoch, state.BestDice, state.History, state.StoppedEarly);
    }

    /// <summary>Called once before the first (or resumed) epoch.</summary>
    protected virtual void OnTrainStart(TrainingContext context) { }

    /// <summary>
    /// One optimizer step on a batch: forward (under autocast in bf16/fp16, <see cref="TrainingContext.Precision"/>), loss in
    /// float32 (averaged over the heads with deep supervision), backward (loss-scaled in fp16), gradient-norm clipping at 12,
    /// step (skipped in fp16 when a gradient overflowed). Returns the detached loss (a scalar the caller disposes).
    /// </summary>
    protected virtual Tensor TrainStep(TrainingContext context, TrainingBatch batch)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        long[] shape = [batch.Size, batch.Channels, .. batch.Shape];
        var x = MemoryFormat.Apply(tensor(batch.Images, shape).to(context.Device)); // the net's layout, once (docs/cpu.md)
        var y = context.Hyperparameters.Classes == 1
            ? tensor(batch.Labels, [batch.Size, 1, .. batch.Shape]).to(context.Device)
            : tensor(batch.Labels, [batch.Size, .. batch.Shape]).to(ScalarType.Int64).to(context.Device);
        context.Optimizer.zero_grad();
        Tensor[] heads;
        using (context.Precision.ForwardScope()) // autocast in bf16/fp16; nothing in fp32
            heads = context.Model is IDeepSupervised { DeepSupervision: true } ds ? ds.ForwardAll(x) : [context.Model.forward(x)];
        // the loss in float32 whatever the forward pass ran in
        var loss = heads.Length == 1
            ? context.Loss(MixedPrecision.ToFloat32(heads[0]), y)
            : heads.Select(h => context.Loss(MixedPrecision.ToFloat32(h), y)).Aggregate((a, b) => a.add(b, Scalars.One)).div(Scalars.Of(heads.Length));
        context.Precision.BackwardAndStep(loss, [.. context.Model.parameters()], context.Optimizer, clipNorm: 12);
        return loss.detach().MoveToOuterDisposeScope();
    }

    /// <summary>Validation after each epoch: mean Dice over the validation cases (each the mean over its foreground labels), sliding window on the preprocessed images.</summary>
    protected virtual double ValidationStep(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var foreground = context.Dataset.Labels.Keys.Where(k => k != 0).ToList();
        double sum = 0;
        foreach (var c in context.ValidationCases)
        {
            var predicted = SlidingWindowSegmenter.Segment(context.Model, context.Hyperparameters.SpatialDims, c.Image, c.Channels, c.X, c.Y, c.Z, context.Patch, context.Device,
                $"model '{context.Options.Model}' of run {context.RunDirectory}");
            sum += SegmentationMetrics.ComputeAll(c.Labels.Span, predicted, c.X, c.Y, c.Z, c.Spacing, foreground).Average(m => m.Dice);
        }
        context.Model.train();
        return context.ValidationCases.Count == 0 ? 0 : sum / context.ValidationCases.Count;
    }

    /// <summary>Called after each epoch's checkpoint and log line are written.</summary>
    protected virtual void OnEpochEnd(TrainingContext context, EpochSummary summary) { }

    /// <summary>The learning rate at <paramref name="step"/> of <paramref name="totalSteps"/>: poly (exponent 0.9) or cosine to 0.</summary>
    public static double LearningRateAt(TrainingOptions options, long step, long totalSteps)
    {
        ArgumentNullException.ThrowIfNull(options);
        double t = totalSteps <= 0 ? 0 : Math.Clamp((double)step / totalSteps, 0, 1);
        return options.Schedule == "cosine"
            ? options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * t))
            : options.LearningRate * Math.Pow(1 - t, 0.9);
    }

    private TrainingOptions PrepareRunFolder(TrainingOptions options, string run)
    {
        string optionsPath = Path.Combine(run, RunFolder.Options);
        if (options.Resume)
        {
            if (!File.Exists(optionsPath))
                throw new InvalidInputException(run, $"nothing to resume: {RunFolder.Options} is missing (start a new run without --resume)");
            TrainingOptions? stored;
            try { stored = JsonSerializer.Deserialize<TrainingOptions>(File.ReadAllText(optionsPath), Json); }
            catch (JsonException e) { throw new InvalidInputException(optionsPath, $"not valid run options: {e.Message}", e); }
            if (stored is null) throw new InvalidInputException(optionsPath, "empty run options");
            stored.Validate();
            return stored with { Device = options.Device, Threads = options.Threads, PrefetchBatches = options.PrefetchBatches,
                MemoryBudgetMb = options.MemoryBudgetMb, Resume = true };
        }
        if (File.Exists(run)) throw new InvalidInputException(run, "is a file; the run folder must be new or empty");
        if (Directory.Exists(run) && Directory.EnumerateFileSystemEntries(run).Any())
            throw new InvalidInputException(run, "the run folder exists and is not empty; use --resume to continue it, or choose a new folder");
        Directory.CreateDirectory(run);
        var absolute = options with { Dataset = Path.GetFullPath(options.Dataset) };
        File.WriteAllText(optionsPath, JsonSerializer.Serialize(absolute, Json));
        return absolute;
    }

    private PreprocessingPipeline ResolvePipeline(TrainingOptions options, SegmentationDataset dataset)
    {
        if (options.Preprocessing is { } text) return PreprocessingPipeline.Parse(text);
        if (dataset.Preprocessing is { } fromJson) return PreprocessingPipeline.Parse(fromJson);
        if (dataset.Modality is { } modality && _modalityPipelines?.Invoke(modality) is { } p) return p;
        return DefaultPipeline(dataset.ChannelNames);
    }

    /// <summary>The pipeline used when nothing names one: CT channels clip to [−1000, 1000] then z-score; RGB percentile scaling; otherwise z-score per channel.</summary>
    public static PreprocessingPipeline DefaultPipeline(IReadOnlyList<string> channelNames)
    {
        ArgumentNullException.ThrowIfNull(channelNames);
        if (channelNames.Count > 0 && channelNames.All(n => n.Equals("CT", StringComparison.OrdinalIgnoreCase)))
            return PreprocessingPipeline.Parse("clip(min=-1000, max=1000); zscore");
        if (channelNames.Count == 3 && channelNames.Select(n => n.ToUpperInvariant()).SequenceEqual(["R", "G", "B"]))
            return PreprocessingPipeline.Parse("percentile(low=0.5, high=99.5)");
        return PreprocessingPipeline.Parse("zscore");
    }

    // The loader's wait ends with OperationCanceledException when the run is cancelled: checkpoint first.
    private static TrainingBatch? NextBatch(BatchLoader loader, CancellationToken cancellationToken, Action checkpoint, out TimeSpan waited)
    {
        try
        {
            return loader.Next(out waited);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            checkpoint();
            throw;
        }
    }

    private static TrainerState WithLossScale(TrainerState state, MixedPrecision precision) =>
        precision.Scaler is { } scaler ? state with { LossScale = scaler.Scale, LossScaleGoodSteps = scaler.GoodSteps } : state;

    /// <summary>The name of the first parameter holding NaN or ∞, or null (one read-back for all of them).</summary>
    private static string? NonFiniteParameter(Module model)
    {
        using var scope = NewDisposeScope();
        var named = model.named_parameters().ToList();
        if (named.Count == 0) return null;
        using var noGrad = no_grad();
        var finite = stack(named.Select(p => isfinite(p.parameter).all()).ToArray()).cpu().data<bool>().ToArray();
        int bad = Array.IndexOf(finite, false);
        return bad < 0 ? null : named[bad].name;
    }

    private static void SaveCheckpoint(string directory, Module model, OptimizerHelper optimizer, CheckpointInfo info, TrainerState state)
    {
        // write beside, then swap: a kill at any moment leaves either the old or the new checkpoint whole
        string tmp = directory + ".tmp", old = directory + ".old";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        TrainingCheckpoint.Save(tmp, model, optimizer, info);
        File.WriteAllText(Path.Combine(tmp, RunFolder.TrainerState), JsonSerializer.Serialize(state, Json));
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        if (Directory.Exists(directory)) Directory.Move(directory, old);
        Directory.Move(tmp, directory);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }

    private static void RecoverCheckpointFolder(string directory)
    {
        string tmp = directory + ".tmp", old = directory + ".old";
        if (!File.Exists(Path.Combine(directory, RunFolder.TrainerState)) && Directory.Exists(old))
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
            Directory.Move(old, directory);
        }
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
    }

    private static TrainerState ReadState(string directory)
    {
        string path = Path.Combine(directory, RunFolder.TrainerState);
        try { return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new InvalidInputException(path, $"not a valid trainer state: {e.Message}", e); }
    }

    private static void RewriteLog(string run, IReadOnlyList<EpochSummary> history)
    {
        string path = Path.Combine(run, RunFolder.Log);
        File.WriteAllText(path + ".tmp", string.Concat(history.Select(h => JsonSerializer.Serialize(h, JsonLine) + "\n")));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private void WritePackage(string package, TrainingOptions options, SegmentationDataset dataset, PreprocessingPipeline pipeline, TrainingContext ctx, TrainerState state)
    {
        var pre = new PackagePreprocessing(pipeline.ToString(), ctx.Patch, ctx.Hyperparameters.SpatialDims,
            options.TrainOnSlices && ctx.Hyperparameters.SpatialDims == 2 && ctx.TrainCases.Any(c => c.Z > 1), ctx.Hyperparameters.Classes == 1, dataset.ChannelNames);
        var manifest = new ModelManifest
        {
            Name = $"{options.Model}-{Path.GetFileName(dataset.Root.TrimEnd(Path.DirectorySeparatorChar))}",
            Version = "1",
            Architecture = options.Model,
            Hyperparameters = ctx.Hyperparameters,
            Modality = dataset.Modality,
            Labels = dataset.Labels.ToDictionary(p => p.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), p => p.Value),
            Preprocessing = JsonSerializer.SerializeToElement(pre, JsonLine),
            TrainingDataHash = HashTrainingData(dataset, ctx.Split),
            TrainingPrecision = Precisions.Name(ctx.Precision.Precision),
            Metrics = new Dictionary<string, double> { ["dice"] = Math.Round(state.BestDice, 6), ["best_epoch"] = state.BestEpoch, ["epochs"] = state.Epoch },
        };
        string tmp = Path.Combine(Path.GetDirectoryName(package)!, $".{RunFolder.Model}.tmp-{Guid.NewGuid():N}");
        ModelPackage.Save(tmp, manifest, ctx.Model);
        Directory.Move(tmp, package);
    }

    private static string HashTrainingData(SegmentationDataset dataset, DatasetSplit split)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var byId = dataset.Training.ToDictionary(c => c.Id);
        var buffer = new byte[1 << 16];
        foreach (string id in split.Train.Concat(split.Validation).Order(StringComparer.Ordinal))
            foreach (string file in byId[id].ImageFiles.Append(byId[id].LabelFile!))
            {
                sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n"));
                using var stream = File.OpenRead(file);
                int n;
                while ((n = stream.Read(buffer)) > 0) sha.AppendData(buffer, 0, n);
            }
        return "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static TimeSpan? Eta(List<double> epochSeconds, int remainingEpochs) =>
        epochSeconds.Count == 0 ? null : TimeSpan.FromSeconds(epochSeconds.Average() * Math.Max(0, remainingEpochs));

    private static int RoundUp(int v, int multiple) => (v + multiple - 1) / multiple * multiple;

    private static void Report(IProgress<TrainingEvent>? progress, TrainingEvent e) => progress?.Report(e);
}
