using System.Text.Json;
using System.Text.Json.Serialization;

namespace Edu.Abstractions.Serialization;

/// <summary>
/// Writes a finite <see cref="double"/> as a JSON number and NaN, +∞ and −∞ as <c>null</c> (JSON has no literal for
/// them); reads a number, or <c>null</c> as <see cref="double.NaN"/>. Part of <see cref="EduJson"/>'s options.
/// </summary>
public sealed class NonFiniteDoubleConverter : JsonConverter<double>
{
    /// <summary>Null tokens come to <see cref="Read"/> too (they become NaN).</summary>
    public override bool HandleNull => true;

    /// <inheritdoc />
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Null => double.NaN,
            JsonTokenType.Number => reader.GetDouble(),
            _ => throw new JsonException($"expected a number or null, found {reader.TokenType}"),
        };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteNullValue();
    }
}
