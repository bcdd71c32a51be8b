using System.Text.Json;
using Edu.Abstractions.Serialization;

namespace Edu.Cli;

/// <summary>The one set of JSON options every <c>--json</c> output uses: compact, one line, NaN and ±∞ as null (<see cref="EduJson"/>).</summary>
public static class CliJson
{
    /// <summary>Compact output, property names as declared by <c>JsonPropertyName</c>.</summary>
    public static JsonSerializerOptions Options => EduJson.Compact;
}
