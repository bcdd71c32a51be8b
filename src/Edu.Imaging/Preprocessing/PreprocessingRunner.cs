using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;
using Edu.Abstractions.Preprocessing;

namespace Edu.Imaging.Preprocessing;

/// <summary>
/// Runs a <see cref="PreprocessingPipeline"/>: the standard steps plus any custom ones (from plugins),
/// and undoes it on labels: <see cref="RestoreLabels"/> inverts the applied steps in reverse order so a
/// prediction lands in the source geometry.
/// </summary>
public sealed class PreprocessingRunner
{
    private readonly Dictionary<string, IPreprocessingStep> _steps = new(StringComparer.Ordinal);

    /// <summary>Creates a runner with the standard steps and <paramref name="customSteps"/>.</summary>
    public PreprocessingRunner(IEnumerable<IPreprocessingStep>? customSteps = null)
    {
        foreach (string name in StandardStepNames.All)
            _steps[name] = name is StandardStepNames.Resample or StandardStepNames.Resize ? new GeometricStep(name) : new IntensityStep(name);
        foreach (var step in customSteps ?? [])
            _steps.TryAdd(step.Name, step);
    }

    /// <summary>Every step the runner knows, by name.</summary>
    public IReadOnlyDictionary<string, IPreprocessingStep> Steps => _steps;

    /// <summary>Applies the pipeline; returns the result and the records to undo it.</summary>
    public (ImageVolume Image, IReadOnlyList<AppliedStep> Applied) Run(ImageVolume image, PreprocessingPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var applied = new List<AppliedStep>();
        foreach (var spec in pipeline.Steps)
        {
            var step = _steps.GetValueOrDefault(spec.Name)
                ?? throw new InvalidInputException(pipeline.ToString(), $"unknown preprocessing step '{spec.Name}'; known: {string.Join(", ", _steps.Keys.Order(StringComparer.Ordinal))}");
            var result = step.Apply(image, spec);
            image = result.Image;
            applied.Add(result.Applied);
        }
        return (image, applied);
    }

    /// <summary>Maps a label volume in the preprocessed geometry back to the source geometry.</summary>
    public ImageVolume RestoreLabels(ImageVolume labels, IReadOnlyList<AppliedStep> applied)
    {
        ArgumentNullException.ThrowIfNull(applied);
        for (int i = applied.Count - 1; i >= 0; i--)
            labels = _steps[applied[i].Spec.Name].InvertLabels(labels, applied[i]);
        return labels;
    }
}
