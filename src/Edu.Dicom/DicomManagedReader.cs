using System.Buffers.Binary;
using System.Globalization;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Dicom;

/// <summary>
/// Reads, in C# without GDCM, the grey DICOM images GDCM must not see or decodes wrongly: uncompressed pixel data
/// (implicit/explicit VR little endian, deflated, explicit VR big endian) and RLE Lossless (<see cref="DicomRle"/>).
/// Debian's GDCM 3.0 aborts the process on an RT Dose with Grid Frame Offset Vector but no Number of Frames (an assertion
/// in its RT Dose geometry code), and decodes 32/64-bit explicit VR big endian wrongly; <see cref="DicomFileReader"/>
/// sends exactly those files here. Values as pydicom and dcmtk give them: samples as the data set describes them
/// (Bits Stored, High Bit, Pixel Representation), Dose Grid Scaling for RT Dose, the Modality LUT (rescale) otherwise.
/// </summary>
internal static class DicomManagedReader
{
    private const string ImplicitLittle = "1.2.840.10008.1.2";
    private const string ExplicitLittle = "1.2.840.10008.1.2.1";
    private const string ExplicitBig = "1.2.840.10008.1.2.2";
    private const string Deflated = "1.2.840.10008.1.2.1.99";
    private const string Rle = "1.2.840.10008.1.2.5";
    private const string RtDoseStorage = "1.2.840.10008.5.1.4.1.1.481.2";

    // Frame offsets may differ from their mean step by this much (mm, or this fraction of the step) and still be one grid.
    private const double OffsetTolerance = 1e-3;

    /// <summary>
    /// Whether the file must be read here: GDCM aborts on it (Grid Frame Offset Vector without Number of Frames) or
    /// decodes it wrongly (32/64-bit samples in explicit VR big endian).
    /// </summary>
    public static bool Takes(DicomImageAttributes attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        return AbortsGdcm(attributes)
            || (attributes.TransferSyntaxUid == ExplicitBig && !attributes.PixelDataEncapsulated
                && attributes.UnsignedShorts.GetValueOrDefault(0x00280100u) > 16);
    }

    private static bool AbortsGdcm(DicomImageAttributes attributes) =>
        attributes.Text.ContainsKey(0x3004000C) && attributes.NumberOfFrames is null;

    /// <summary>Reads <paramref name="path"/>; what it cannot decode is an <see cref="InvalidInputException"/> saying why.</summary>
    public static ImageVolume Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(path, $"cannot be read ({e.Message})");
        }
        var (a, pixels) = DicomStructure.Parse(bytes, path);
        if (!a.HasPixelData || a.Rows is not int rows || a.Columns is not int columns)
            throw new InvalidInputException(path, "DICOM file has no image (no Pixel Data, or Rows/Columns missing)");

        string syntax = a.TransferSyntaxUid;
        bool rle = syntax == Rle;
        if (!rle && (a.PixelDataEncapsulated || syntax is not (ImplicitLittle or ExplicitLittle or ExplicitBig or Deflated)))
            throw new InvalidInputException(path, AbortsGdcm(a)
                ? $"Grid Frame Offset Vector (3004,000C) is present but Number of Frames (0028,0008) is missing, a layout on which GDCM aborts, and the project decodes only uncompressed and RLE pixel data itself (transfer syntax {syntax}). Add Number of Frames first, e.g. `dcmodify -i \"(0028,0008)=1\" FILE` (dcmtk)"
                : $"transfer syntax {syntax} cannot be decoded here");

        int Us(uint tag, int fallback) => a.UnsignedShorts.TryGetValue(tag, out int v) ? v : fallback;
        int samples = Us(0x00280002, 1);
        int bitsAllocated = Us(0x00280100, 16);
        int bitsStored = Us(0x00280101, bitsAllocated);
        int highBit = Us(0x00280102, bitsStored - 1);
        bool signed = Us(0x00280103, 0) == 1;
        string photometric = Text(a, 0x00280004);
        if (samples != 1 || photometric is not ("MONOCHROME1" or "MONOCHROME2" or ""))
            throw new InvalidInputException(path, $"{photometric} with {samples} samples per pixel: the project's own decoder reads grey images only (MONOCHROME1/2)");
        if (bitsAllocated is not (8 or 16 or 32))
            throw new InvalidInputException(path, $"Bits Allocated {bitsAllocated}: the project's own decoder reads 8, 16 and 32 bits");

        int frames = a.NumberOfFrames ?? 1;
        var size = new VolumeSize(columns, rows, frames);
        long voxels = size.VoxelCount;
        int bytesPerSample = bitsAllocated / 8;
        if (voxels * bytesPerSample > Array.MaxLength)
            throw new InvalidInputException(path, $"image of {size} voxels at {bitsAllocated} bits is too large for one volume");
        var raw = rle
            ? DecodeRle(pixels, size, bytesPerSample, path)
            : Native(pixels, voxels * bytesPerSample, bitsAllocated, path);

        var (slope, intercept) = Scaling(a, path);
        var output = new float[voxels];
        int shift = highBit + 1 - bitsStored;
        ulong mask = bitsStored >= 64 ? ulong.MaxValue : (1UL << bitsStored) - 1;
        for (long i = 0; i < voxels; i++)
        {
            ulong container = bytesPerSample switch
            {
                1 => raw[i],
                2 => BinaryPrimitives.ReadUInt16BigEndian(raw.AsSpan(checked((int)(2 * i)))),
                _ => BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan(checked((int)(4 * i)))),
            };
            ulong stored = (container >> shift) & mask;
            double value = signed && (stored >> (bitsStored - 1)) != 0 ? (long)stored - (1L << bitsStored) : stored;
            output[i] = (float)(value * slope + intercept);
        }

        var metadata = DicomMetadata.Read(a, path);
        var pixelType = (bitsAllocated, signed) switch
        {
            (8, false) => PixelType.UInt8,
            (8, true) => PixelType.Int8,
            (16, false) => PixelType.UInt16,
            (16, true) => PixelType.Int16,
            (_, false) => PixelType.UInt32,
            _ => PixelType.Int32,
        };
        return new ImageVolume(ReadGeometry(a, size, path), 1, output, pixelType, metadata);
    }

    // The samples as big-endian containers, whatever the file's byte order: one layout for the conversion loop.
    private static byte[] Native(DicomPixelData pixels, long length, int bitsAllocated, string path)
    {
        if (pixels.NativeLength < length)
            throw new InvalidInputException(path, $"pixel data is truncated: {pixels.NativeLength} bytes present, {length} needed");
        var raw = pixels.Data.AsSpan(pixels.NativeOffset, checked((int)length)).ToArray();
        int width = bitsAllocated / 8;
        if (pixels.BigEndian && bitsAllocated == 8 && pixels.Vr == "OW")
        {
            // 8-bit samples in OW words: big endian stores each word's second sample first (PS3.5 7.3).
            for (int i = 0; i + 1 < raw.Length; i += 2)
                (raw[i], raw[i + 1]) = (raw[i + 1], raw[i]);
        }
        else if (!pixels.BigEndian && width > 1)
        {
            for (int i = 0; i + width <= raw.Length; i += width)
                raw.AsSpan(i, width).Reverse();
        }
        return raw;
    }

    // RLE planes, most significant byte first, interleaved back into big-endian containers.
    private static byte[] DecodeRle(DicomPixelData pixels, VolumeSize size, int bytesPerSample, string path)
    {
        int frames = size.Z;
        if (pixels.Fragments.Count < frames)
            throw new InvalidInputException(path, $"RLE pixel data holds {pixels.Fragments.Count} fragment(s) for {frames} frame(s) (one fragment a frame)");
        int perFrame = checked(size.X * size.Y);
        long encoded = 0;
        for (int f = 0; f < frames; f++) encoded += pixels.Fragments[f].Length;
        // Before any allocation: the fragments cannot decode to more than this.
        if ((long)perFrame * frames * bytesPerSample > encoded * DicomRle.MaxExpansion)
            throw new InvalidInputException(path, $"RLE pixel data of {encoded} bytes is too short for {size} samples of {bytesPerSample} bytes (truncated or corrupt)");

        var raw = new byte[(long)perFrame * frames * bytesPerSample];
        var planes = new byte[perFrame * bytesPerSample];
        for (int f = 0; f < frames; f++)
        {
            var (offset, length) = pixels.Fragments[f];
            DicomRle.DecodeFrame(pixels.Data.AsSpan(offset, length), bytesPerSample, perFrame, planes, path, f);
            var frame = raw.AsSpan(f * perFrame * bytesPerSample, perFrame * bytesPerSample);
            for (int b = 0; b < bytesPerSample; b++)
                for (int p = 0; p < perFrame; p++)
                    frame[p * bytesPerSample + b] = planes[b * perFrame + p];
        }
        return raw;
    }

    // RT Dose: Dose Grid Scaling to Gy (as GDCM does for RT Dose); any other image: the Modality LUT's rescale.
    private static (double Slope, double Intercept) Scaling(DicomImageAttributes a, string path)
    {
        bool rtDose = Text(a, 0x00080016) == RtDoseStorage || Text(a, 0x00080060) == "RTDOSE";
        if (rtDose && a.Text.ContainsKey(0x3004000E))
            return (Number(a, 0x3004000E, "Dose Grid Scaling", path) ?? 1, 0);
        return (Number(a, 0x00281053, "Rescale Slope", path) ?? 1, Number(a, 0x00281052, "Rescale Intercept", path) ?? 0);
    }

    private static ImageGeometry ReadGeometry(DicomImageAttributes a, VolumeSize size, string path)
    {
        var pixelSpacing = Numbers(Text(a, 0x00280030)); // row spacing \ column spacing
        double[] spacing = pixelSpacing is [> 0 and < double.PositiveInfinity, > 0 and < double.PositiveInfinity]
            ? [pixelSpacing[1], pixelSpacing[0], 1] : [1, 1, 1];
        var position = Numbers(Text(a, 0x00200032));
        double[] origin = position is { Length: 3 } && position.All(double.IsFinite) ? position : [0, 0, 0];
        var orientation = Numbers(Text(a, 0x00200037));
        double[] row = [1, 0, 0], col = [0, 1, 0];
        if (orientation is { Length: 6 } && orientation.All(double.IsFinite))
            (row, col) = (orientation[..3], orientation[3..]);
        double[] normal = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]];
        double n = Math.Sqrt(normal[0] * normal[0] + normal[1] * normal[1] + normal[2] * normal[2]);
        if (n < 1e-6)
            throw new InvalidInputException(path, "Image Orientation (Patient) is degenerate (row and column cosines are parallel)");
        double sign = 1;
        if (size.Z > 1)
            (spacing[2], sign) = SliceStep(a, size.Z, path);
        // Row-major 3×3 whose columns are the image axes' world directions (ITK convention); frames run along
        // the normal, or against it when the offsets decrease.
        double[] direction =
        [
            row[0], col[0], sign * normal[0] / n,
            row[1], col[1], sign * normal[1] / n,
            row[2], col[2], sign * normal[2] / n,
        ];
        return new ImageGeometry(size, spacing, origin, direction);
    }

    /// <summary>
    /// The step between frames: from Grid Frame Offset Vector (frame k lies at Image Position + (offset k − offset 0) ×
    /// normal, for relative offsets starting at 0 and for absolute ones alike), else Spacing Between Slices, else 1.
    /// Uneven offsets are refused: one volume has one spacing.
    /// </summary>
    private static (double Spacing, double Sign) SliceStep(DicomImageAttributes a, int frames, string path)
    {
        if (!a.Text.TryGetValue(0x3004000C, out string? text))
            return (Number(a, 0x00180088, "Spacing Between Slices", path) is double between && between > 0 ? between : 1, 1);
        var offsets = Numbers(text);
        if (offsets.Length < frames || offsets.Any(v => !double.IsFinite(v)))
            throw new InvalidInputException(path, $"Grid Frame Offset Vector (3004,000C) holds {offsets.Length} readable value(s) for {frames} frames");
        double step = (offsets[frames - 1] - offsets[0]) / (frames - 1);
        if (!(Math.Abs(step) > OffsetTolerance))
            throw new InvalidInputException(path, $"Grid Frame Offset Vector (3004,000C) puts {frames} frames at one position");
        for (int k = 1; k < frames; k++)
        {
            double d = offsets[k] - offsets[k - 1];
            if (Math.Abs(d - step) > Math.Max(OffsetTolerance, OffsetTolerance * Math.Abs(step)))
                throw new InvalidInputException(path, $"Grid Frame Offset Vector (3004,000C) is unevenly spaced ({d.ToString("0.###", CultureInfo.InvariantCulture)} mm between frames {k} and {k + 1}, {step.ToString("0.###", CultureInfo.InvariantCulture)} mm on average): not one volume");
        }
        return (Math.Abs(step), Math.Sign(step));
    }

    private static string Text(DicomImageAttributes a, uint tag) => a.Text.TryGetValue(tag, out string? value) ? value : "";

    private static double[] Numbers(string text) =>
        [.. text.Split('\\', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.NaN)];

    // One DS number, or null when absent or empty; a value that is not a number is refused, not guessed.
    private static double? Number(DicomImageAttributes a, uint tag, string name, string path)
    {
        var values = Numbers(Text(a, tag));
        if (values.Length == 0) return null;
        if (!double.IsFinite(values[0]))
            throw new InvalidInputException(path, $"{name} ({tag >> 16:X4},{tag & 0xFFFF:X4}) is '{Text(a, tag)}', not a number");
        return values[0];
    }
}
