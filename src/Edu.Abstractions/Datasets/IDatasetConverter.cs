namespace Edu.Abstractions.Datasets;

/// <summary>
/// Converts a public dataset, as downloaded, into the nnU-Net v2 layout (<c>dataset.json</c>,
/// <c>imagesTr/{case}_{XXXX}.ext</c>, <c>labelsTr/{case}.ext</c>). Never writes into the source.
/// </summary>
public interface IDatasetConverter
{
    /// <summary>Id users pass to <c>edu dataset convert --from</c> (<c>montgomery</c>, <c>brats</c>...).</summary>
    string Id { get; }

    /// <summary>The modality the converted dataset belongs to.</summary>
    string ModalityId { get; }

    /// <summary>One line for users: the dataset and the layout expected.</summary>
    string Description { get; }

    /// <summary>Converts <paramref name="sourceFolder"/> into the empty <paramref name="destinationFolder"/>.</summary>
    /// <returns>The number of cases written.</returns>
    int Convert(string sourceFolder, string destinationFolder, DatasetConversionContext context, CancellationToken cancellationToken = default);
}
