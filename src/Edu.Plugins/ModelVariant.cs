using Edu.Abstractions.Plugins;

namespace Edu.Plugins;

/// <summary>A model variant a plugin registered, for the model catalogue in Edu.Models.</summary>
/// <param name="Name">Unique variant name.</param>
/// <param name="Description">One line for users.</param>
/// <param name="Plugin">The plugin that registered it.</param>
/// <param name="Factory">Builds the network from hyperparameters.</param>
public sealed record ModelVariant(string Name, string Description, string Plugin, ModelVariantFactory Factory);
