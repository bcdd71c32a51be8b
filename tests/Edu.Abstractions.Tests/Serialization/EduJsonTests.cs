using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Serialization;

namespace Edu.Abstractions.Tests.Serialization;

public sealed class EduJsonTests
{
    private sealed record Numbers(
        [property: JsonPropertyName("d")] double D,
        [property: JsonPropertyName("f")] float F,
        [property: JsonPropertyName("maybe")] double? Maybe,
        [property: JsonPropertyName("list")] double[] List,
        [property: JsonPropertyName("map")] Dictionary<string, double> Map);

    [Fact]
    public void Non_finite_numbers_are_written_as_null_where_default_options_throw()
    {
        var value = new Numbers(double.NaN, float.PositiveInfinity, double.NegativeInfinity, [1.5, double.NaN],
            new Dictionary<string, double> { ["dice"] = double.PositiveInfinity });

        Assert.Throws<ArgumentException>(() => JsonSerializer.Serialize(value));
        Assert.Equal("""{"d":null,"f":null,"maybe":null,"list":[1.5,null],"map":{"dice":null}}""", JsonSerializer.Serialize(value, EduJson.Compact));
        // boxed numbers (anonymous objects, Dictionary<string, object>) follow the same rule
        Assert.Equal("""{"loss":null,"dice":0.25}""", JsonSerializer.Serialize(new Dictionary<string, object> { ["loss"] = double.NaN, ["dice"] = 0.25 }, EduJson.Compact));
        Assert.Equal("""{"x":null}""", JsonSerializer.Serialize(new { x = float.NegativeInfinity }, EduJson.Compact));
    }

    [Fact]
    public void Null_reads_back_as_nan_and_finite_numbers_round_trip_exactly()
    {
        var value = new Numbers(double.NaN, float.NaN, double.PositiveInfinity, [0.1, double.NegativeInfinity, double.Epsilon, double.MaxValue],
            new Dictionary<string, double> { ["a"] = double.NaN, ["b"] = -0.0 });

        var back = JsonSerializer.Deserialize<Numbers>(JsonSerializer.Serialize(value, EduJson.Indented), EduJson.Indented)!;

        Assert.True(double.IsNaN(back.D));
        Assert.True(float.IsNaN(back.F));
        Assert.Null(back.Maybe); // a nullable number: null stays null
        Assert.Equal(0.1, back.List[0]);
        Assert.True(double.IsNaN(back.List[1]));
        Assert.Equal(double.Epsilon, back.List[2]);
        Assert.Equal(double.MaxValue, back.List[3]);
        Assert.True(double.IsNaN(back.Map["a"]));
        Assert.True(double.IsNegative(back.Map["b"]));
        Assert.Equal(0.1f, JsonSerializer.Deserialize<float>(JsonSerializer.Serialize(0.1f, EduJson.Compact), EduJson.Compact));
        Assert.Equal("3.4028235E+38", JsonSerializer.Serialize(float.MaxValue, EduJson.Compact));
    }

    [Fact]
    public void A_value_that_is_neither_number_nor_null_is_still_an_error()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Numbers>("""{"d":"NaN","f":0,"maybe":null,"list":[],"map":{}}""", EduJson.Compact));
    }
}
