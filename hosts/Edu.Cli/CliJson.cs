using System.Text.Json;

namespace Edu.Cli;

/// <summary>The one set of JSON options every <c>--json</c> output uses: compact, one line.</summary>
public static class CliJson
{
    /// <summary>Compact output, property names as declared by <c>JsonPropertyName</c>.</summary>
    public static JsonSerializerOptions Options { get; } = new() { WriteIndented = false };
}
