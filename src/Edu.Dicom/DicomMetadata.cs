namespace Edu.Dicom;

/// <summary>
/// The few non-identifying attributes a volume carries as metadata (modality, descriptions, UIDs,
/// transfer syntax). Patient name, ID and birth date are never read.
/// </summary>
public static class DicomMetadata
{
    private static readonly (ushort Group, ushort Element, string Name)[] Attributes =
    [
        (0x0008, 0x0060, "Modality"),
        (0x0008, 0x103e, "SeriesDescription"),
        (0x0020, 0x000e, "SeriesInstanceUID"),
        (0x0020, 0x000d, "StudyInstanceUID"),
        (0x0008, 0x0018, "SOPInstanceUID"),
        (0x0008, 0x0016, "SOPClassUID"),
        (0x0020, 0x0011, "SeriesNumber"),
        (0x0028, 0x0004, "PhotometricInterpretation"),
        (0x0018, 0x0015, "BodyPartExamined"),
    ];

    /// <summary>Reads the listed attributes that are present, plus <c>Format</c> and <c>TransferSyntaxUID</c>.</summary>
    public static Dictionary<string, string> Read(gdcm.File file, string path)
    {
        ArgumentNullException.ThrowIfNull(file);
        var result = new Dictionary<string, string> { ["Format"] = "DICOM", ["Source"] = Path.GetFileName(path) };
        var dataSet = file.GetDataSet();
        var filter = new gdcm.StringFilter();
        filter.SetFile(file);
        foreach (var (group, element, name) in Attributes)
        {
            var tag = new gdcm.Tag(group, element);
            if (!dataSet.FindDataElement(tag)) continue;
            string value = filter.ToString(tag).Trim().TrimEnd('\0');
            if (value.Length > 0) result[name] = value;
        }
        string syntax = file.GetHeader().GetDataSetTransferSyntax().GetString()?.Trim().TrimEnd('\0') ?? "";
        if (syntax.Length > 0) result["TransferSyntaxUID"] = syntax;
        return result;
    }

    /// <summary>The same attributes from the C# structure check, for files read without GDCM.</summary>
    internal static Dictionary<string, string> Read(DicomImageAttributes attributes, string path)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var result = new Dictionary<string, string> { ["Format"] = "DICOM", ["Source"] = Path.GetFileName(path) };
        foreach (var (group, element, name) in Attributes)
            if (attributes.Text.TryGetValue((uint)group << 16 | element, out string? value) && value.Trim().Length > 0)
                result[name] = value.Trim();
        if (attributes.TransferSyntaxUid.Length > 0) result["TransferSyntaxUID"] = attributes.TransferSyntaxUid;
        return result;
    }
}
