using Edu.Abstractions.Errors;

namespace Edu.Abstractions.Preprocessing;

/// <summary>
/// An ordered list of steps, as data. Written as text with <c>;</c> between steps, e.g.
/// <c>clip(min=-1000, max=400); resample(spacing=0.8x0.8x1.5); zscore</c>, which
/// <see cref="Parse"/> reads back, so a user can print a modality's default and pass an edited one.
/// Every step is invertible for label volumes: see <see cref="IPreprocessingStep.InvertLabels"/>.
/// </summary>
public sealed record PreprocessingPipeline
{
    /// <summary>Creates a pipeline.</summary>
    public PreprocessingPipeline(IEnumerable<PreprocessingStepSpec> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        Steps = [.. steps];
    }

    /// <summary>The pipeline with no steps.</summary>
    public static PreprocessingPipeline Empty { get; } = new([]);

    /// <summary>The steps in the order they run.</summary>
    public IReadOnlyList<PreprocessingStepSpec> Steps { get; }

    /// <summary>Parses the text form; an empty string is the empty pipeline.</summary>
    public static PreprocessingPipeline Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var steps = new List<PreprocessingStepSpec>();
        foreach (var part in text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            steps.Add(PreprocessingStepSpec.Parse(part));
        return new PreprocessingPipeline(steps);
    }

    /// <summary>A copy where the first step named <paramref name="step"/> has one parameter changed.</summary>
    public PreprocessingPipeline WithParameter(string step, string key, string value)
    {
        int i = Steps.ToList().FindIndex(s => s.Name == step);
        if (i < 0) throw new InvalidInputException(ToString(), $"the pipeline has no step '{step}'");
        var copy = Steps.ToList();
        copy[i] = copy[i].With(key, value);
        return new PreprocessingPipeline(copy);
    }

    /// <inheritdoc />
    public override string ToString() => string.Join("; ", Steps);

    /// <inheritdoc />
    public bool Equals(PreprocessingPipeline? other) => other is not null && Steps.SequenceEqual(other.Steps);

    /// <inheritdoc />
    public override int GetHashCode() => Steps.Count;
}
