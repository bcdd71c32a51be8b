using Edu.Abstractions.Datasets;
using Edu.Abstractions.Imaging;
using Edu.Abstractions.Modalities;
using Edu.Abstractions.Preprocessing;
using Edu.Abstractions.Synthetic;

namespace Edu.Abstractions.Plugins;

/// <summary>
/// What a plugin contributes, handed to <see cref="IEduPlugin.Register"/>. This is the plugin's
/// service collection, typed: the host stages each plugin's registrations and commits them together,
/// so a plugin that fails half-way leaves nothing behind.
/// </summary>
public interface IPluginRegistry
{
    /// <summary>The contract version of the host calling the plugin (<see cref="PluginContract.Version"/> of the host's build).</summary>
    int HostContractVersion { get; }

    /// <summary>Adds a modality. Its <see cref="ModalityDescriptor.Id"/> must be unique across all plugins.</summary>
    void AddModality(ModalityDescriptor modality);

    /// <summary>Adds a reader for a file format; hosts try plugin readers after their built-in ones.</summary>
    void AddReader(IImageReader reader);

    /// <summary>Adds a custom preprocessing step; its <see cref="IPreprocessingStep.Name"/> must be unique and not a standard step name.</summary>
    void AddPreprocessingStep(IPreprocessingStep step);

    /// <summary>Adds a synthetic case generator for a modality.</summary>
    void AddSyntheticGenerator(ISyntheticGenerator generator);

    /// <summary>Adds a converter from a public dataset layout to the nnU-Net v2 layout; its id must be unique.</summary>
    void AddDatasetConverter(IDatasetConverter converter);

    /// <summary>
    /// Adds a model variant by name. The model catalogue (Edu.Models) calls <paramref name="factory"/>
    /// and checks the object it returns is a network it can train; Abstractions does not know TorchSharp.
    /// </summary>
    void AddModelVariant(string name, string description, ModelVariantFactory factory);
}
