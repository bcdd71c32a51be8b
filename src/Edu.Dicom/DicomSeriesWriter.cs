using System.Buffers.Binary;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Dicom;

/// <summary>
/// Writes a grey volume as a DICOM series through GDCM: one single-frame file per slice, int16
/// pixels in explicit VR little endian, Image Position/Orientation (Patient) and Pixel Spacing from
/// the volume's LPS geometry, new Study/Series/SOP Instance UIDs. Used to make test and benchmark
/// series of any geometry; values must fit int16 after rounding.
/// </summary>
public static class DicomSeriesWriter
{
    private const string CtImageStorage = "1.2.840.10008.5.1.4.1.1.2";
    private const string MrImageStorage = "1.2.840.10008.5.1.4.1.1.4";

    private static void SetGeometry(string path, double[] position, double[] cosines, IReadOnlyList<double> spacing)
    {
        static string Ds(IEnumerable<double> values) => string.Join('\\', values.Select(DicomDataSet.DecimalString));
        using var reader = new gdcm.Reader();
        reader.SetFileName(path);
        if (!reader.Read()) throw new IOException($"GDCM could not read back {path}");
        var file = reader.GetFile();
        var anonymizer = new gdcm.Anonymizer();
        anonymizer.SetFile(file);
        anonymizer.Replace(new gdcm.Tag(0x0020, 0x0032), Ds(position));
        anonymizer.Replace(new gdcm.Tag(0x0020, 0x0037), Ds(cosines));
        anonymizer.Replace(new gdcm.Tag(0x0028, 0x0030), Ds([spacing[1], spacing[0]])); // row spacing \ column spacing
        anonymizer.Replace(new gdcm.Tag(0x0018, 0x0050), Ds([spacing[2]]));
        using var writer = new gdcm.Writer();
        writer.SetFileName(path);
        writer.SetFile(file);
        if (!writer.Write()) throw new IOException($"GDCM could not write {path}");
    }

    /// <summary>Writes <paramref name="volume"/> into the new or empty <paramref name="folder"/>; returns the file paths in slice order.</summary>
    public static IReadOnlyList<string> Write(ImageVolume volume, string folder, string modality = "CT", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (volume.Channels != 1)
            throw new InvalidInputException(folder, $"a DICOM series holds one grey channel, the volume has {volume.Channels}");
        if (modality is not ("CT" or "MR"))
            throw new ArgumentOutOfRangeException(nameof(modality), modality, "CT or MR");
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new InvalidInputException(folder, "folder is not empty: refusing to write a series into it");
        foreach (float v in volume.Voxels)
            if (!(v >= short.MinValue && v <= short.MaxValue))
                throw new InvalidInputException(folder, $"value {v} does not fit the int16 pixels of the series");
        GdcmRuntime.EnsureLoaded();
        Directory.CreateDirectory(folder);

        var uids = new gdcm.UIDGenerator();
        string study = uids.Generate(), series = uids.Generate(), frameOfReference = uids.Generate();
        var g = volume.Geometry;
        var d = g.Direction;
        double[] cosines = [d[0], d[3], d[6], d[1], d[4], d[7]]; // image x and y axes in LPS
        int columns = g.Size.X, rows = g.Size.Y, slice = columns * rows;
        var bytes = new byte[slice * 2];
        var paths = new List<string>(g.Size.Z);
        for (int z = 0; z < g.Size.Z; z++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pixels = volume.Voxels.AsSpan(z * slice, slice);
            for (int i = 0; i < slice; i++)
                BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(2 * i), (short)Math.Round(pixels[i]));

            string path = Path.Combine(folder, $"slice{z:D4}.dcm");
            using var writer = new gdcm.ImageWriter();
            // The writer's own pixmap: an image created in C# and handed over would be freed twice
            // (by the writer's reference count and by the wrapper's finalizer).
            var image = writer.GetImage();
            image.SetNumberOfDimensions(2);
            image.SetDimension(0, (uint)columns);
            image.SetDimension(1, (uint)rows);
            image.SetPixelFormat(new gdcm.PixelFormat(gdcm.PixelFormat.ScalarType.INT16));
            image.SetPhotometricInterpretation(new gdcm.PhotometricInterpretation(gdcm.PhotometricInterpretation.PIType.MONOCHROME2));
            image.SetTransferSyntax(new gdcm.TransferSyntax(gdcm.TransferSyntax.TSType.ExplicitVRLittleEndian));
            var pixelData = new gdcm.DataElement(new gdcm.Tag(0x7fe0, 0x0010));
            pixelData.SetByteValue(bytes, new gdcm.VL((uint)bytes.Length));
            image.SetDataElement(pixelData);
            writer.SetFileName(path);
            var attributes = new gdcm.Anonymizer();
            attributes.SetFile(writer.GetFile());
            attributes.Replace(new gdcm.Tag(0x0008, 0x0016), modality == "CT" ? CtImageStorage : MrImageStorage);
            attributes.Replace(new gdcm.Tag(0x0008, 0x0018), uids.Generate());
            attributes.Replace(new gdcm.Tag(0x0008, 0x0060), modality);
            attributes.Replace(new gdcm.Tag(0x0020, 0x000d), study);
            attributes.Replace(new gdcm.Tag(0x0020, 0x000e), series);
            attributes.Replace(new gdcm.Tag(0x0020, 0x0052), frameOfReference);
            attributes.Replace(new gdcm.Tag(0x0020, 0x0013), (z + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            attributes.Replace(new gdcm.Tag(0x0008, 0x103e), "EDU.Framework synthetic series");
            if (!writer.Write())
                throw new IOException($"GDCM could not write {path}");
            // A pixmap carries no geometry; it goes in as a second pass over the written file.
            var (x, y, zw) = g.IndexToWorld(0, 0, z);
            SetGeometry(path, [x, y, zw], cosines, g.Spacing);
            paths.Add(path);
        }
        return paths;
    }
}
