using Edu.Abstractions.Datasets;
using Edu.Abstractions.Imaging;
using Edu.Abstractions.Modalities;
using Edu.Abstractions.Plugins;
using Edu.Abstractions.Preprocessing;
using Edu.Abstractions.Synthetic;

namespace Edu.Plugins;

/// <summary>Collects one plugin's registrations so the catalogue can check and commit them together.</summary>
internal sealed class PluginRegistrations(string plugin) : IPluginRegistry
{
    public string Plugin { get; } = plugin;
    public List<ModalityDescriptor> Modalities { get; } = [];
    public List<IImageReader> Readers { get; } = [];
    public List<IPreprocessingStep> Steps { get; } = [];
    public List<ISyntheticGenerator> Generators { get; } = [];
    public List<IDatasetConverter> Converters { get; } = [];
    public List<ModelVariant> ModelVariants { get; } = [];

    public int HostContractVersion => PluginContract.Version;

    public void AddModality(ModalityDescriptor modality) => Modalities.Add(modality ?? throw new ArgumentNullException(nameof(modality)));
    public void AddReader(IImageReader reader) => Readers.Add(reader ?? throw new ArgumentNullException(nameof(reader)));
    public void AddPreprocessingStep(IPreprocessingStep step) => Steps.Add(step ?? throw new ArgumentNullException(nameof(step)));
    public void AddSyntheticGenerator(ISyntheticGenerator generator) => Generators.Add(generator ?? throw new ArgumentNullException(nameof(generator)));
    public void AddDatasetConverter(IDatasetConverter converter) => Converters.Add(converter ?? throw new ArgumentNullException(nameof(converter)));

    public void AddModelVariant(string name, string description, ModelVariantFactory factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        ModelVariants.Add(new ModelVariant(name, description ?? "", Plugin, factory));
    }
}
