using System.Text.Json.Serialization;

namespace Edu.Models.Catalogue;

/// <summary>
/// What a catalogue factory needs to build a net. <see cref="BaseChannels"/> null means the spec's default
/// (32 in 2-D, 16 in 3-D); <see cref="DeepSupervision"/> applies to <c>unetpp</c>, <c>edu</c>, <c>edu-dense</c> and <c>edu-lean</c> only.
/// </summary>
public sealed record ModelHyperparameters(
    [property: JsonPropertyName("spatial_dims")] int SpatialDims = 2,
    [property: JsonPropertyName("in_channels")] int InChannels = 1,
    [property: JsonPropertyName("classes")] int Classes = 1,
    [property: JsonPropertyName("base_channels")] int? BaseChannels = null,
    [property: JsonPropertyName("depth")] int Depth = 4,
    [property: JsonPropertyName("deep_supervision")] bool DeepSupervision = false)
{
    /// <summary>The base width actually used.</summary>
    [JsonIgnore]
    public int EffectiveBaseChannels => BaseChannels ?? (SpatialDims == 3 ? 16 : 32);

    /// <summary>The same values with <see cref="BaseChannels"/> made explicit (what a package records).</summary>
    public ModelHyperparameters Resolved() => this with { BaseChannels = EffectiveBaseChannels };
}
