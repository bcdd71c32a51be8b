namespace Edu.Training.Datasets;

/// <summary>How a dataset folder is organised.</summary>
public enum DatasetLayout
{
    /// <summary><c>dataset.json</c>, <c>imagesTr/{case}_{XXXX}.ext</c>, <c>labelsTr/{case}.ext</c>, optional <c>imagesTs</c>/<c>labelsTs</c>.</summary>
    NnUNet,
    /// <summary><c>images/</c> and <c>masks/</c> with the same file stems (2-D).</summary>
    Plain2D,
}
