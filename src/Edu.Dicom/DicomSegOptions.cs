namespace Edu.Dicom;

/// <summary>What a DICOM Segmentation object says about its segments and about the algorithm that made them.</summary>
public sealed record DicomSegOptions
{
    /// <summary>Label value → segment label (label 0, the background, is never a segment).</summary>
    public required IReadOnlyDictionary<int, string> LabelNames { get; init; }

    /// <summary>Segment Algorithm Name (0062,0009): the model's name.</summary>
    public string AlgorithmName { get; init; } = "EDU.Framework";

    /// <summary>The model's version, written into Software Versions (0018,1020) beside the framework's.</summary>
    public string AlgorithmVersion { get; init; } = "";

    /// <summary>Segmented Property Category Code Sequence of every segment, unless <see cref="Codes"/> names one.</summary>
    public DicomCode DefaultCategory { get; init; } = DicomCode.Tissue;

    /// <summary>Segmented Property Type Code Sequence of every segment, unless <see cref="Codes"/> names one.</summary>
    public DicomCode DefaultType { get; init; } = DicomCode.Tissue;

    /// <summary>Label value → (category, type) codes for labels whose meaning is known.</summary>
    public IReadOnlyDictionary<int, (DicomCode Category, DicomCode Type)> Codes { get; init; } = new Dictionary<int, (DicomCode, DicomCode)>();

    /// <summary>Series Description (0008,103E) of the new series.</summary>
    public string SeriesDescription { get; init; } = "EDU.Framework segmentation";

    /// <summary>Device Serial Number (0018,1000): which worker made it (default: the host name).</summary>
    public string DeviceSerialNumber { get; init; } = Environment.MachineName;

    /// <summary>Series Number (0020,0011) of the new series.</summary>
    public int SeriesNumber { get; init; } = 900;
}
