namespace Edu.Abstractions.Plugins;

/// <summary>
/// Builds a model variant from its hyperparameters (as written in <c>model.json</c>). Returns the
/// network object (a TorchSharp module for the model catalogue); Abstractions stays free of TorchSharp.
/// </summary>
/// <param name="hyperparameters">Name → value as model.json writes them: <c>spatial_dims</c>, <c>in_channels</c>, <c>classes</c>,
/// <c>base_channels</c>, <c>depth</c>, <c>deep_supervision</c> (<c>true</c>/<c>false</c>).</param>
public delegate object ModelVariantFactory(IReadOnlyDictionary<string, string> hyperparameters);
