using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Models.Catalogue;

/// <summary>A catalogue entry: a unique name, a one-line description and a factory.</summary>
public sealed record ModelDefinition(string Name, string Description, Func<ModelHyperparameters, Module<Tensor, Tensor>> Factory);
