using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Abstractions.Preprocessing;
using Edu.Imaging;
using Edu.Inference;
using Edu.Models.Catalogue;
using Edu.Training.Datasets;
using Edu.Training.Metrics;

namespace Edu.Training.Evaluation;

/// <summary>
/// Evaluates a model package on a dataset's held-out cases (imagesTs/labelsTs), or, when it has none and the model
/// is a run folder, on the run's validation split. Each case goes through the <see cref="Predictor"/> (the package's
/// preprocessing, sliding window, labels back in the source geometry) and is scored against its label file in the
/// source geometry and spacing.
/// </summary>
public static class Evaluator
{
    /// <summary>Evaluates; <paramref name="onCase"/> hears each case's result (and its prediction) as it is done.</summary>
    public static EvaluationReport Evaluate(string modelPath, string datasetDirectory, PredictorOptions? options = null,
        IEnumerable<IPreprocessingStep>? customSteps = null, ImageReaderRegistry? readers = null,
        Action<CaseEvaluation, ImageVolume, ImageVolume>? onCase = null, CancellationToken cancellationToken = default,
        ModelCatalogue? catalogue = null)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        var dataset = SegmentationDataset.Open(datasetDirectory, readers);
        string source = "test";
        IReadOnlyList<DatasetCase> cases = dataset.Test;
        if (cases.Count == 0)
        {
            string splits = Path.Combine(modelPath, RunFolder.Splits);
            if (!File.Exists(splits))
                throw new InvalidInputException(datasetDirectory, $"no held-out cases (imagesTs/ + labelsTs/), and {modelPath} is not a run folder with {RunFolder.Splits} to take the validation split from");
            var split = DatasetSplit.Load(splits);
            var byId = dataset.Training.ToDictionary(c => c.Id);
            cases = split.Validation.Select(id => byId.TryGetValue(id, out var c) ? c
                : throw new InvalidInputException(splits, $"validation case '{id}' is not in {dataset.Root}")).ToList();
            source = "validation";
        }
        using var predictor = Predictor.Load(modelPath, options, customSteps, catalogue);
        var foreground = dataset.Labels.Keys.Where(k => k != 0).ToList();
        var results = new List<CaseEvaluation>();
        foreach (var c in cases)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (image, truth) = dataset.LoadCase(c, cancellationToken);
            var prediction = predictor.Predict(image, cancellationToken);
            var eval = Score(c.Id, truth!, prediction.Labels, foreground);
            onCase?.Invoke(eval, image, prediction.Labels);
            results.Add(eval);
        }
        var hd = results.Where(r => r.Hd95 is not null).Select(r => r.Hd95!.Value).ToList();
        var perLabel = foreground.ToDictionary(l => dataset.Labels[l], l => results.Average(r => r.Labels.First(m => m.Label == l).Dice));
        return new EvaluationReport(predictor.PackageDirectory ?? modelPath, dataset.Root, source,
            results.Average(r => r.Dice), results.Average(r => r.IoU), hd.Count == 0 ? null : hd.Average(),
            results.Sum(r => r.Labels.Count(m => m.Hd95 is null)), perLabel, results);
    }

    /// <summary>Scores one predicted label volume against the truth (same grid) for the given foreground labels.</summary>
    public static CaseEvaluation Score(string id, ImageVolume truth, ImageVolume prediction, IReadOnlyList<int> foreground)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(foreground);
        if (truth.Size != prediction.Size)
            throw new InvalidInputException(id, $"prediction size {prediction.Size} differs from the label size {truth.Size}");
        var t = truth.Voxels.Select(v => (byte)v).ToArray();
        var p = prediction.Voxels.Select(v => (byte)Math.Clamp(v, 0, 255)).ToArray();
        var s = truth.Size;
        var labels = SegmentationMetrics.ComputeAll(t, p, s.X, s.Y, s.Z, truth.Geometry.Spacing, foreground);
        var hd = labels.Where(m => m.Hd95 is not null).Select(m => m.Hd95!.Value).ToList();
        return new CaseEvaluation(id, labels.Average(m => m.Dice), labels.Average(m => m.IoU), hd.Count == 0 ? null : hd.Average(), labels);
    }
}
