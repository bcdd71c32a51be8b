using BitMiracle.LibTiff.Classic;
using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats.Tiff;

/// <summary>
/// Writes TIFF through LibTiff.NET: one page per slice, channels as samples per pixel (3 as RGB),
/// contiguous, in the volume's <see cref="ImageVolume.SourcePixelType"/> when every value fits it,
/// else float32. Spacing x/y goes to the resolution tags (pixels per centimetre).
/// </summary>
public sealed class TiffWriter : IImageWriter
{
    /// <summary>Creates the writer.</summary>
    public TiffWriter() => QuietTiffErrorHandler.Install();

    /// <inheritdoc />
    public string Name => "TIFF";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".tif", ".tiff"];

    /// <summary>Compression; Deflate by default.</summary>
    public TiffCompression Compression { get; init; } = TiffCompression.Deflate;

    /// <inheritdoc />
    public void Write(ImageVolume volume, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentException.ThrowIfNullOrEmpty(path);
        PixelType type = SampleConverter.FitsExactly(volume.Voxels, volume.SourcePixelType) ? volume.SourcePixelType : PixelType.Float32;
        int bytes = SampleConverter.SizeOf(type);
        var size = volume.Size;
        int spp = volume.Channels;
        long plane = (long)size.X * size.Y, voxels = plane * size.Z;
        ImageFile.WriteAtomically(path, stream =>
        {
            using var tiff = BitMiracle.LibTiff.Classic.Tiff.ClientOpen(path, "w", stream, new TiffStream())
                ?? throw new IOException($"{path}: LibTiff cannot create the file");
            var pixelRow = new float[size.X * spp];
            var raw = new byte[pixelRow.Length * bytes];
            for (int z = 0; z < size.Z; z++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                tiff.SetField(TiffTag.IMAGEWIDTH, size.X);
                tiff.SetField(TiffTag.IMAGELENGTH, size.Y);
                tiff.SetField(TiffTag.BITSPERSAMPLE, bytes * 8);
                tiff.SetField(TiffTag.SAMPLESPERPIXEL, spp);
                tiff.SetField(TiffTag.SAMPLEFORMAT, type switch
                {
                    PixelType.Float32 or PixelType.Float64 => SampleFormat.IEEEFP,
                    PixelType.Int8 or PixelType.Int16 or PixelType.Int32 or PixelType.Int64 => SampleFormat.INT,
                    _ => SampleFormat.UINT,
                });
                tiff.SetField(TiffTag.PHOTOMETRIC, spp == 3 ? Photometric.RGB : Photometric.MINISBLACK);
                tiff.SetField(TiffTag.PLANARCONFIG, PlanarConfig.CONTIG);
                tiff.SetField(TiffTag.COMPRESSION, Compression switch
                {
                    TiffCompression.Lzw => BitMiracle.LibTiff.Classic.Compression.LZW,
                    TiffCompression.Deflate => BitMiracle.LibTiff.Classic.Compression.ADOBE_DEFLATE,
                    _ => BitMiracle.LibTiff.Classic.Compression.NONE,
                });
                if (Compression != TiffCompression.None)
                    tiff.SetField(TiffTag.PREDICTOR, type is PixelType.Float32 or PixelType.Float64 ? Predictor.NONE : Predictor.HORIZONTAL);
                tiff.SetField(TiffTag.ROWSPERSTRIP, Math.Max(1, (1 << 16) / Math.Max(1, raw.Length)));
                tiff.SetField(TiffTag.RESOLUTIONUNIT, ResUnit.CENTIMETER);
                tiff.SetField(TiffTag.XRESOLUTION, 10.0 / volume.Geometry.Spacing[0]);
                tiff.SetField(TiffTag.YRESOLUTION, 10.0 / volume.Geometry.Spacing[1]);
                if (size.Z > 1)
                {
                    tiff.SetField(TiffTag.SUBFILETYPE, FileType.PAGE);
                    tiff.SetField(TiffTag.PAGENUMBER, z, size.Z);
                }
                for (int y = 0; y < size.Y; y++)
                {
                    long rowBase = (long)z * plane + (long)y * size.X;
                    for (int x = 0; x < size.X; x++)
                        for (int c = 0; c < spp; c++)
                            pixelRow[x * spp + c] = volume.Voxels[c * voxels + rowBase + x];
                    SampleConverter.ToRaw(pixelRow, raw, type, bigEndian: !BitConverter.IsLittleEndian);
                    if (!tiff.WriteScanline(raw, y))
                        throw new IOException($"{path}: LibTiff failed to write row {y} of page {z}: {QuietTiffErrorHandler.LastError}");
                }
                tiff.WriteDirectory();
            }
        });
    }
}
