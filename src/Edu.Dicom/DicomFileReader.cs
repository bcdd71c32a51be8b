using System.Buffers.Binary;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Dicom;

/// <summary>
/// Reads one DICOM file (single- or multi-frame) into an <see cref="ImageVolume"/> through GDCM:
/// every transfer syntax GDCM decodes, the Modality LUT applied (CT in HU), YBR delivered as RGB,
/// planar configuration undone, geometry in LPS from Image Position/Orientation (Patient). Files GDCM
/// aborts on or decodes wrongly are read by the project's own decoder instead (<see cref="DicomManagedReader"/>).
/// </summary>
public static class DicomFileReader
{
    /// <summary>Reads <paramref name="path"/>; a file that is not a DICOM image is an <see cref="InvalidInputException"/>.</summary>
    public static ImageVolume Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new InvalidInputException(path, "file not found");
        // Structure and image attributes are checked in C# first: Debian's GDCM aborts the process on
        // malformed files instead of failing.
        return Read(path, DicomStructure.Validate(path));
    }

    /// <summary>Reads a file whose structure <see cref="DicomStructure.Validate(string)"/> has already checked (series reading).</summary>
    /// <remarks>
    /// Compressed pixel data is read and decoded with stdout and stderr captured (the JPEG codecs report corruption only
    /// there), unless <paramref name="captured"/> says the caller captures around many files at once (a series).
    /// </remarks>
    internal static ImageVolume Read(string path, DicomImageAttributes attributes, bool captured = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(attributes);
        // Never hand GDCM a layout it aborts the process on (or decodes wrongly): our own decoder reads those.
        if (DicomManagedReader.Takes(attributes))
            return DicomManagedReader.Read(path);
        GdcmRuntime.EnsureLoaded();
        string printed = "";
        var (reader, decoded) = attributes.PixelDataEncapsulated && !captured
            ? NativeOutput.Capture(() => ReadAndDecode(path), text => printed = PassOnOtherOutput(text))
            : ReadAndDecode(path);
        using var _ = reader; // owns the native file and image used below
        ThrowIfCorrupt(printed, path);
        var file = reader.GetFile();
        var (image, colourConversion, buffer, size, samples, scalar, pixelFormat) = decoded;

        var interleaved = new float[size.VoxelCount * samples];
        Decode(buffer, scalar, interleaved);
        if (attributes.CodestreamSample is { Signed: false, Precision: int precision and > 1 and <= 32 }
            && attributes.UnsignedShorts.GetValueOrDefault(0x00280103u) == 1)
            SignExtend(interleaved, precision);
        if (colourConversion != ColourConversion.None)
            YbrToRgb(interleaved, colourConversion);

        bool isMonochrome1 = image.GetPhotometricInterpretation().GetType() == gdcm.PhotometricInterpretation.PIType.MONOCHROME1;
        double slope = image.GetSlope(), intercept = image.GetIntercept();
        if (samples == 1 && (slope != 1 || intercept != 0))
            for (long i = 0; i < interleaved.LongLength; i++)
                interleaved[i] = (float)(interleaved[i] * slope + intercept);

        var voxels = samples == 1 ? interleaved : Deinterleave(interleaved, samples, size.VoxelCount);
        var geometry = ReadGeometry(image, size, path);
        var metadata = DicomMetadata.Read(file, path);
        if (isMonochrome1) metadata["PhotometricInterpretation"] = "MONOCHROME1";
        return new ImageVolume(geometry, samples, voxels, ToPixelType(scalar, pixelFormat), metadata);
    }

    private sealed record Decoded(gdcm.Image Image, ColourConversion Conversion, byte[] Buffer, VolumeSize Size, int Samples,
        gdcm.PixelFormat.ScalarType Scalar, gdcm.PixelFormat PixelFormat);

    // libjpeg's warnings for lost data ("Corrupt JPEG data: premature end of data segment", "Premature end of JPEG
    // file"): the codec returned a buffer, but part of it is garbage. "N extraneous bytes before marker" is not among
    // them: padding before a marker, which some encoders write, loses nothing.
    internal static void ThrowIfCorrupt(string printed, string path)
    {
        if (Corruption(printed) is { } corrupt)
            throw new InvalidInputException(path, $"the compressed pixel data is corrupt (the JPEG decoder says: {corrupt})");
    }

    /// <summary>The decoder's report of lost data in captured output, or null.</summary>
    internal static string? Corruption(string printed) =>
        printed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault(l => (l.StartsWith("Corrupt JPEG data", StringComparison.Ordinal) && !l.Contains("extraneous bytes before marker", StringComparison.Ordinal))
                || l.StartsWith("Premature end of JPEG file", StringComparison.Ordinal));

    /// <summary>
    /// Passes captured output on to stderr, less the codecs' own notes and their corruption reports (which become the
    /// error); returns the captured text.
    /// </summary>
    internal static string PassOnOtherOutput(string printed)
    {
        foreach (string line in printed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (!DecoderNoise.Any(n => line.StartsWith(n, StringComparison.Ordinal)))
                Console.Error.WriteLine(line);
        return printed;
    }

    // What GDCM 3.0's codecs print on their own: libjpeg refusing 12-bit data in its 8-bit build before the 12-bit one
    // decodes it, and the pvrg-jpeg helper's trace and errors (the call fails then, and says so).
    private static readonly string[] DecoderNoise = ["Unsupported JPEG data precision", ">> C:", "F>", "Fatal error.", "Corrupt JPEG data", "Premature end of JPEG file"];

    // The reader is returned: the file and image GDCM hands out live inside it.
    private static (gdcm.ImageReader Reader, Decoded Decoded) ReadAndDecode(string path)
    {
        var reader = new gdcm.ImageReader();
        try
        {
            reader.SetFileName(path);
            if (!reader.Read())
                throw new InvalidInputException(path, DescribeUnreadable(path));
            return (reader, Decode(reader.GetImage(), reader.GetFile(), path));
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private static Decoded Decode(gdcm.Image image, gdcm.File file, string path)
    {
        (image, var colourConversion) = PrepareColour(image, path);
        image = ToInterleaved(image, path);

        var pixelFormat = image.GetPixelFormat();
        int samples = pixelFormat.GetSamplesPerPixel();
        int columns = checked((int)image.GetDimension(0));
        int rows = checked((int)image.GetDimension(1));
        int frames = image.GetNumberOfDimensions() > 2 ? checked((int)image.GetDimension(2)) : 1;
        if (columns <= 0 || rows <= 0 || frames <= 0)
            throw new InvalidInputException(path, $"image has an empty dimension ({columns}×{rows}×{frames})");
        if (samples != 1 && samples != 3)
            throw new InvalidInputException(path, $"{samples} samples per pixel is not supported (1 or 3)");

        var size = new VolumeSize(columns, rows, frames);
        long expectedVoxels = size.VoxelCount * samples;
        var scalar = pixelFormat.GetScalarType();
        int bytesPerSample = BytesPerSample(scalar, path);
        long expectedBytes = scalar == gdcm.PixelFormat.ScalarType.SINGLEBIT ? (expectedVoxels + 7) / 8 : expectedVoxels * bytesPerSample;
        long bufferLength = image.GetBufferLength();
        if (bufferLength < expectedBytes || expectedVoxels > Array.MaxLength)
            throw new InvalidInputException(path, $"pixel data holds {bufferLength} bytes, {size} × {samples} samples need {expectedBytes}");

        if (bytesPerSample > 2 && IsNativeBigEndian(file, image))
            throw new InvalidInputException(path, "explicit VR big endian (retired) with 32/64-bit samples is not supported: GDCM 3.0 decodes it wrongly. Convert it first, e.g. `dcmconv +te IN OUT` (dcmtk)");
        var buffer = new byte[bufferLength];
        if (!image.GetBuffer(buffer))
            throw new InvalidInputException(path, "pixel data could not be decoded (corrupt or truncated)");
        return new Decoded(image, colourConversion, buffer, size, samples, scalar, pixelFormat);
    }

    private static string DescribeUnreadable(string path)
    {
        // GDCM's image reader fails both on non-DICOM bytes and on DICOM without pixel data; tell them apart.
        using var plain = new gdcm.Reader();
        plain.SetFileName(path);
        if (!plain.Read())
            return "not a DICOM file, or a corrupt or truncated one (GDCM could not parse it)";
        var dataSet = plain.GetFile().GetDataSet();
        if (!dataSet.FindDataElement(new gdcm.Tag(0x7fe0, 0x0010)))
        {
            var sf = new gdcm.StringFilter();
            sf.SetFile(plain.GetFile());
            string modality = dataSet.FindDataElement(new gdcm.Tag(0x0008, 0x0060)) ? sf.ToString(new gdcm.Tag(0x0008, 0x0060)).Trim() : "";
            string sopClass = dataSet.FindDataElement(new gdcm.Tag(0x0008, 0x0016)) ? sf.ToString(new gdcm.Tag(0x0008, 0x0016)).Trim() : "";
            return $"DICOM file has no pixel data (modality '{modality}', SOP class {sopClass}): not an image";
        }
        return "DICOM image could not be decoded (unsupported or corrupt pixel data)";
    }

    /// <summary>How decoded colour samples must be turned into RGB.</summary>
    private enum ColourConversion { None, YbrFull, YbrPartial }

    private static (gdcm.Image Image, ColourConversion Conversion) PrepareColour(gdcm.Image image, string path)
    {
        var pi = image.GetPhotometricInterpretation().GetType();
        switch (pi)
        {
            case gdcm.PhotometricInterpretation.PIType.MONOCHROME1:
            case gdcm.PhotometricInterpretation.PIType.MONOCHROME2:
            case gdcm.PhotometricInterpretation.PIType.RGB:
            // JPEG 2000's reversible/irreversible component transforms are undone by the codec: RGB out.
            case gdcm.PhotometricInterpretation.PIType.YBR_RCT:
            case gdcm.PhotometricInterpretation.PIType.YBR_ICT:
                return (image, ColourConversion.None);
            case gdcm.PhotometricInterpretation.PIType.PALETTE_COLOR:
            {
                var lut = new gdcm.ImageApplyLookupTable();
                lut.SetInput(image);
                if (!lut.Apply()) throw new InvalidInputException(path, "PALETTE COLOR lookup table could not be applied");
                return (lut.GetOutput(), ColourConversion.None);
            }
            // GDCM decodes (and upsamples 4:2:2) but leaves the samples in YCbCr: convert ourselves.
            case gdcm.PhotometricInterpretation.PIType.YBR_FULL:
            case gdcm.PhotometricInterpretation.PIType.YBR_FULL_422:
                return (image, ColourConversion.YbrFull);
            case gdcm.PhotometricInterpretation.PIType.YBR_PARTIAL_422:
            case gdcm.PhotometricInterpretation.PIType.YBR_PARTIAL_420:
                return (image, ColourConversion.YbrPartial);
            default:
                throw new InvalidInputException(path, $"photometric interpretation {pi} is not supported");
        }
    }

    // YCbCr → RGB as DICOM PS3.3 C.7.6.3.1.2 (full range, ITU-R BT.601 as in JFIF) and the partial-range variant.
    private static void YbrToRgb(float[] interleaved, ColourConversion conversion)
    {
        for (long i = 0; i + 2 < interleaved.LongLength; i += 3)
        {
            double y = interleaved[i], cb = interleaved[i + 1] - 128, cr = interleaved[i + 2] - 128;
            if (conversion == ColourConversion.YbrPartial) y = 1.164383 * (y - 16);
            double scale = conversion == ColourConversion.YbrPartial ? 255.0 / 224.0 : 1.0;
            cb *= scale;
            cr *= scale;
            interleaved[i] = Byte(y + 1.402 * cr);
            interleaved[i + 1] = Byte(y - 0.344136 * cb - 0.714136 * cr);
            interleaved[i + 2] = Byte(y + 1.772 * cb);
        }

        static float Byte(double v) => (float)(Math.Clamp(Math.Round(v), 0, 255) + 0.0); // + 0.0 turns −0 into 0
    }

    private static bool IsNativeBigEndian(gdcm.File file, gdcm.Image image) =>
        image.GetTransferSyntax().GetString()?.TrimEnd('\0', ' ') == "1.2.840.10008.1.2.2"
        && file.GetDataSet().GetDataElement(new gdcm.Tag(0x7fe0, 0x0010)).GetByteValue() is not null;

    private static gdcm.Image ToInterleaved(gdcm.Image image, string path)
    {
        if (image.GetPixelFormat().GetSamplesPerPixel() == 1 || image.GetPlanarConfiguration() == 0)
            return image;
        var change = new gdcm.ImageChangePlanarConfiguration();
        change.SetInput(image);
        change.SetPlanarConfiguration(0);
        if (!change.Change()) throw new InvalidInputException(path, "planar colour data could not be interleaved");
        return change.GetOutput();
    }

    private static int BytesPerSample(gdcm.PixelFormat.ScalarType scalar, string path) => scalar switch
    {
        gdcm.PixelFormat.ScalarType.UINT8 or gdcm.PixelFormat.ScalarType.INT8 or gdcm.PixelFormat.ScalarType.SINGLEBIT => 1,
        gdcm.PixelFormat.ScalarType.UINT12 or gdcm.PixelFormat.ScalarType.INT12 or
        gdcm.PixelFormat.ScalarType.UINT16 or gdcm.PixelFormat.ScalarType.INT16 or gdcm.PixelFormat.ScalarType.FLOAT16 => 2,
        gdcm.PixelFormat.ScalarType.UINT32 or gdcm.PixelFormat.ScalarType.INT32 or gdcm.PixelFormat.ScalarType.FLOAT32 => 4,
        gdcm.PixelFormat.ScalarType.UINT64 or gdcm.PixelFormat.ScalarType.INT64 or gdcm.PixelFormat.ScalarType.FLOAT64 => 8,
        _ => throw new InvalidInputException(path, $"pixel scalar type {scalar} is not supported"),
    };

    // GDCM hands decoded samples in the machine's byte order (little endian on x64 and arm64).
    private static void Decode(byte[] b, gdcm.PixelFormat.ScalarType scalar, float[] output)
    {
        var span = b.AsSpan();
        switch (scalar)
        {
            case gdcm.PixelFormat.ScalarType.UINT8: for (int i = 0; i < output.Length; i++) output[i] = b[i]; break;
            case gdcm.PixelFormat.ScalarType.INT8: for (int i = 0; i < output.Length; i++) output[i] = (sbyte)b[i]; break;
            case gdcm.PixelFormat.ScalarType.SINGLEBIT: for (int i = 0; i < output.Length; i++) output[i] = (b[i >> 3] >> (i & 7)) & 1; break;
            case gdcm.PixelFormat.ScalarType.UINT12:
            case gdcm.PixelFormat.ScalarType.UINT16: for (int i = 0; i < output.Length; i++) output[i] = BinaryPrimitives.ReadUInt16LittleEndian(span[(2 * i)..]); break;
            case gdcm.PixelFormat.ScalarType.INT12:
            case gdcm.PixelFormat.ScalarType.INT16: for (int i = 0; i < output.Length; i++) output[i] = BinaryPrimitives.ReadInt16LittleEndian(span[(2 * i)..]); break;
            case gdcm.PixelFormat.ScalarType.FLOAT16: for (int i = 0; i < output.Length; i++) output[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(span[(2 * i)..]); break;
            case gdcm.PixelFormat.ScalarType.UINT32: for (int i = 0; i < output.Length; i++) output[i] = BinaryPrimitives.ReadUInt32LittleEndian(span[(4 * i)..]); break;
            case gdcm.PixelFormat.ScalarType.INT32: for (int i = 0; i < output.Length; i++) output[i] = BinaryPrimitives.ReadInt32LittleEndian(span[(4 * i)..]); break;
            case gdcm.PixelFormat.ScalarType.FLOAT32: for (int i = 0; i < output.Length; i++) output[i] = BinaryPrimitives.ReadSingleLittleEndian(span[(4 * i)..]); break;
            case gdcm.PixelFormat.ScalarType.UINT64: for (int i = 0; i < output.Length; i++) output[i] = BinaryPrimitives.ReadUInt64LittleEndian(span[(8 * i)..]); break;
            case gdcm.PixelFormat.ScalarType.INT64: for (int i = 0; i < output.Length; i++) output[i] = BinaryPrimitives.ReadInt64LittleEndian(span[(8 * i)..]); break;
            case gdcm.PixelFormat.ScalarType.FLOAT64: for (int i = 0; i < output.Length; i++) output[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(span[(8 * i)..]); break;
            default: throw new ArgumentOutOfRangeException(nameof(scalar), scalar, "unsupported");
        }
    }

    // A JPEG 2000 stream that codes signed samples (Pixel Representation 1) as unsigned: GDCM hands the unsigned values
    // on; pydicom and dcmtk follow the data set and read the stream's bits as two's complement. Idempotent for values
    // that are already signed and in range.
    private static void SignExtend(float[] samples, int precision)
    {
        long mask = (1L << precision) - 1, half = 1L << (precision - 1);
        for (long i = 0; i < samples.LongLength; i++)
        {
            long bits = (long)samples[i] & mask;
            samples[i] = bits >= half ? bits - (1L << precision) : bits;
        }
    }

    private static float[] Deinterleave(float[] interleaved, int samples, long voxelsPerChannel)
    {
        var planar = new float[interleaved.Length];
        for (long v = 0; v < voxelsPerChannel; v++)
            for (int c = 0; c < samples; c++)
                planar[c * voxelsPerChannel + v] = interleaved[v * samples + c];
        return planar;
    }

    private static ImageGeometry ReadGeometry(gdcm.Image image, VolumeSize size, string path)
    {
        double[] spacing = [image.GetSpacing(0), image.GetSpacing(1), size.Z > 1 ? image.GetSpacing(2) : 1];
        for (int i = 0; i < 3; i++)
            if (!(spacing[i] > 0) || double.IsInfinity(spacing[i])) spacing[i] = 1;
        double[] origin = [image.GetOrigin(0), image.GetOrigin(1), image.GetOrigin(2)];
        double[] row = [image.GetDirectionCosines(0), image.GetDirectionCosines(1), image.GetDirectionCosines(2)];
        double[] col = [image.GetDirectionCosines(3), image.GetDirectionCosines(4), image.GetDirectionCosines(5)];
        double[] normal = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]];
        double n = Math.Sqrt(normal[0] * normal[0] + normal[1] * normal[1] + normal[2] * normal[2]);
        if (n < 1e-6)
            throw new InvalidInputException(path, "Image Orientation (Patient) is degenerate (row and column cosines are parallel)");
        // Row-major 3×3 whose columns are the image axes' world directions (ITK convention).
        double[] direction =
        [
            row[0], col[0], normal[0] / n,
            row[1], col[1], normal[1] / n,
            row[2], col[2], normal[2] / n,
        ];
        return new ImageGeometry(size, spacing, origin, direction);
    }

    private static PixelType ToPixelType(gdcm.PixelFormat.ScalarType scalar, gdcm.PixelFormat format) => scalar switch
    {
        gdcm.PixelFormat.ScalarType.UINT8 or gdcm.PixelFormat.ScalarType.SINGLEBIT => PixelType.UInt8,
        gdcm.PixelFormat.ScalarType.INT8 => PixelType.Int8,
        gdcm.PixelFormat.ScalarType.UINT12 or gdcm.PixelFormat.ScalarType.UINT16 => PixelType.UInt16,
        gdcm.PixelFormat.ScalarType.INT12 or gdcm.PixelFormat.ScalarType.INT16 => PixelType.Int16,
        gdcm.PixelFormat.ScalarType.UINT32 => PixelType.UInt32,
        gdcm.PixelFormat.ScalarType.INT32 => PixelType.Int32,
        gdcm.PixelFormat.ScalarType.UINT64 => PixelType.UInt64,
        gdcm.PixelFormat.ScalarType.INT64 => PixelType.Int64,
        gdcm.PixelFormat.ScalarType.FLOAT64 => PixelType.Float64,
        _ => format.GetBitsAllocated() == 64 ? PixelType.Float64 : PixelType.Float32,
    };
}
