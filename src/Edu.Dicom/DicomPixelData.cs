namespace Edu.Dicom;

/// <summary>
/// Where a parsed file's top-level Pixel Data lies, for the project's own decoder (<see cref="DicomManagedReader"/>).
/// Offsets index <paramref name="Data"/>: the file's bytes, or the inflated data set of a deflated file.
/// </summary>
/// <param name="Data">The bytes the offsets refer to.</param>
/// <param name="BigEndian">Whether the data set is explicit VR big endian.</param>
/// <param name="Vr">Pixel Data's VR as written (empty for implicit VR).</param>
/// <param name="NativeOffset">Start of native (uncompressed) pixel data.</param>
/// <param name="NativeLength">Length of native pixel data.</param>
/// <param name="Fragments">Encapsulated pixel data's fragments after the Basic Offset Table, as (offset, length).</param>
internal sealed record DicomPixelData(byte[] Data, bool BigEndian, string Vr, int NativeOffset, long NativeLength,
    IReadOnlyList<(int Offset, int Length)> Fragments);
