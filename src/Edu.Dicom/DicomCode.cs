namespace Edu.Dicom;

/// <summary>A coded concept as DICOM writes it: code value, coding scheme designator (SCT, DCM, …) and code meaning.</summary>
/// <param name="Value">Code Value (0008,0100).</param>
/// <param name="Scheme">Coding Scheme Designator (0008,0102).</param>
/// <param name="Meaning">Code Meaning (0008,0104).</param>
public sealed record DicomCode(string Value, string Scheme, string Meaning)
{
    /// <summary>SNOMED CT "Tissue" (85756007): the default segmented property category.</summary>
    public static DicomCode Tissue { get; } = new("85756007", "SCT", "Tissue");

    /// <summary>SNOMED CT "Anatomical Structure" (91723000).</summary>
    public static DicomCode AnatomicalStructure { get; } = new("91723000", "SCT", "Anatomical Structure");

    /// <summary>SNOMED CT "Morphologically Altered Structure" (49755003): lesions, tumours.</summary>
    public static DicomCode MorphologicallyAlteredStructure { get; } = new("49755003", "SCT", "Morphologically Altered Structure");
}
