using System.Text.Json;
using System.Text.Json.Serialization;

namespace Edu.Abstractions.Serialization;

/// <summary>
/// Writes a finite <see cref="float"/> as a JSON number and NaN, +∞ and −∞ as <c>null</c> (JSON has no literal for
/// them); reads a number, or <c>null</c> as <see cref="float.NaN"/>. Part of <see cref="EduJson"/>'s options.
/// </summary>
public sealed class NonFiniteSingleConverter : JsonConverter<float>
{
    /// <summary>Null tokens come to <see cref="Read"/> too (they become NaN).</summary>
    public override bool HandleNull => true;

    /// <inheritdoc />
    public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Null => float.NaN,
            JsonTokenType.Number => reader.GetSingle(),
            _ => throw new JsonException($"expected a number or null, found {reader.TokenType}"),
        };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (float.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteNullValue();
    }
}
