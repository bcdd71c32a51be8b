using System.Text.Json.Serialization;

namespace Edu.Training;

/// <summary>
/// What a trained package's <c>model.json</c> holds under <c>preprocessing</c>: the pipeline text the predictor
/// must run, the tile (patch) shape the net was trained on, and how outputs map to labels.
/// </summary>
/// <param name="Pipeline">Preprocessing pipeline text (PreprocessingPipeline.Parse reads it).</param>
/// <param name="Patch">Patch shape: [Y, X] for 2-D nets, [Z, Y, X] for 3-D nets.</param>
/// <param name="SpatialDims">2 or 3.</param>
/// <param name="Slices">Whether a 2-D net was trained on the slices of 3-D volumes.</param>
/// <param name="Sigmoid">One output channel with a sigmoid (threshold 0.5 → label 1); otherwise softmax and arg-max.</param>
/// <param name="ChannelNames">Input channel names in order.</param>
public sealed record PackagePreprocessing(
    [property: JsonPropertyName("pipeline")] string Pipeline,
    [property: JsonPropertyName("patch")] int[] Patch,
    [property: JsonPropertyName("spatial_dims")] int SpatialDims,
    [property: JsonPropertyName("slices")] bool Slices,
    [property: JsonPropertyName("sigmoid")] bool Sigmoid,
    [property: JsonPropertyName("channel_names")] IReadOnlyList<string> ChannelNames);
