using System.Text.Json;

namespace Edu.Abstractions.Serialization;

/// <summary>
/// The JSON options every file and output of the framework is written and read with (trainer state, logs, model
/// packages, evaluation and benchmark results, <c>--json</c> output, the worker's files). One rule for numbers that
/// JSON cannot hold: a non-finite <see cref="double"/> or <see cref="float"/> (NaN, +∞, −∞) is written as <c>null</c>,
/// and <c>null</c> where such a number is expected reads back as NaN (a nullable number reads back as null). Finite
/// numbers are written exactly as System.Text.Json writes them (shortest round-trip form).
/// </summary>
public static class EduJson
{
    /// <summary>Compact options: one line, property names as declared.</summary>
    public static JsonSerializerOptions Compact { get; } = Create(indented: false);

    /// <summary>Indented options, for files a person may read.</summary>
    public static JsonSerializerOptions Indented { get; } = Create(indented: true);

    /// <summary>
    /// New options with the non-finite rule (<see cref="NonFiniteDoubleConverter"/>, <see cref="NonFiniteSingleConverter"/>),
    /// for a caller that needs more settings; they stay mutable until first used.
    /// </summary>
    public static JsonSerializerOptions Create(bool indented)
    {
        var options = new JsonSerializerOptions { WriteIndented = indented };
        options.Converters.Add(new NonFiniteDoubleConverter());
        options.Converters.Add(new NonFiniteSingleConverter());
        return options;
    }
}
