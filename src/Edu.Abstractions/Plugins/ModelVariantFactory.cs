namespace Edu.Abstractions.Plugins;

/// <summary>
/// Builds a model variant from its hyperparameters (as written in <c>model.json</c>). Returns the
/// network object (a TorchSharp module for the model catalogue); Abstractions stays free of TorchSharp.
/// </summary>
/// <param name="hyperparameters">Name → value, e.g. <c>in_channels</c>, <c>classes</c>, <c>spatial_dims</c>, <c>base_features</c>.</param>
public delegate object ModelVariantFactory(IReadOnlyDictionary<string, string> hyperparameters);
