namespace Edu.Dicom;

/// <summary>
/// The top-level attributes of a source image that a derived object copies (patient, study, frame of reference)
/// or references (SOP class and instance), with their VRs. <see cref="DicomStructure"/> keeps their raw values.
/// </summary>
internal static class DicomReferenceTags
{
    public const uint SpecificCharacterSet = 0x00080005;
    public const uint SopClassUid = 0x00080016;
    public const uint SopInstanceUid = 0x00080018;
    public const uint StudyDate = 0x00080020;
    public const uint StudyTime = 0x00080030;
    public const uint AccessionNumber = 0x00080050;
    public const uint ReferringPhysicianName = 0x00080090;
    public const uint StudyDescription = 0x00081030;
    public const uint PatientName = 0x00100010;
    public const uint PatientId = 0x00100020;
    public const uint PatientBirthDate = 0x00100030;
    public const uint PatientSex = 0x00100040;
    public const uint StudyInstanceUid = 0x0020000D;
    public const uint SeriesInstanceUid = 0x0020000E;
    public const uint StudyId = 0x00200010;
    public const uint PatientOrientation = 0x00200020;
    public const uint ImagePositionPatient = 0x00200032;
    public const uint ImageOrientationPatient = 0x00200037;
    public const uint FrameOfReferenceUid = 0x00200052;
    public const uint PositionReferenceIndicator = 0x00201040;
    public const uint PixelSpacing = 0x00280030;
    public const uint SliceThickness = 0x00180050;

    /// <summary>Patient and General Study attributes a derived object in the same study copies, with their VRs (type 2 ones written empty when absent).</summary>
    public static readonly IReadOnlyList<(uint Tag, string Vr)> PatientAndStudy =
    [
        (StudyDate, "DA"), (StudyTime, "TM"), (AccessionNumber, "SH"), (ReferringPhysicianName, "PN"), (StudyDescription, "LO"),
        (PatientName, "PN"), (PatientId, "LO"), (PatientBirthDate, "DA"), (PatientSex, "CS"), (StudyId, "SH"),
    ];

    /// <summary>Every tag kept.</summary>
    public static readonly HashSet<uint> All =
    [
        SpecificCharacterSet, SopClassUid, SopInstanceUid, SeriesInstanceUid, StudyInstanceUid, PatientOrientation, ImagePositionPatient, ImageOrientationPatient,
        FrameOfReferenceUid, PositionReferenceIndicator, PixelSpacing, SliceThickness, .. PatientAndStudy.Select(p => p.Tag),
    ];
}
