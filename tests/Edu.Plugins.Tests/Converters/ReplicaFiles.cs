using Edu.Abstractions.Datasets;
using Edu.Abstractions.Imaging;
using Edu.Imaging;
using SkiaSharp;

namespace Edu.Plugins.Tests.Converters;

/// <summary>Writes the small replicas of public dataset layouts the converter tests run on: real files in real formats.</summary>
internal static class ReplicaFiles
{
    public static readonly ImageWriterRegistry Writers = ImageWriterRegistry.CreateDefault();

    public static readonly ImageReaderRegistry Readers = ImageReaderRegistry.CreateDefault();

    public static DatasetConversionContext Context => new(Readers.Readers, Writers.Writers);

    /// <summary>A one-slice volume with unit geometry: one value per pixel from <paramref name="value"/>(x, y) per channel.</summary>
    public static ImageVolume Plane(int w, int h, int channels, PixelType type, Func<int, int, int, float> value)
    {
        var voxels = new float[channels * w * h];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    voxels[(c * h + y) * w + x] = value(c, x, y);
        return new ImageVolume(ImageGeometry.Identity(new VolumeSize(w, h, 1)), channels, voxels, type);
    }

    /// <summary>Writes a volume through the project's writers (PNG, TIFF, NIfTI, MetaImage by extension).</summary>
    public static string Write(ImageVolume volume, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Writers.Write(volume, path);
        return path;
    }

    /// <summary>Writes an RGB JPEG (quality 95) through SkiaSharp, as a camera or the dataset authors would.</summary>
    public static string Jpeg(string path, int w, int h, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var (r, g, b) = pixel(x, y);
                bitmap.SetPixel(x, y, new SKColor(r, g, b));
            }
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    /// <summary>Writes an uncompressed 24-bit BMP (bottom-up rows padded to 4 bytes), the format PALM's masks come in.</summary>
    public static string Bmp(string path, int w, int h, Func<int, int, byte> grey)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        int stride = (w * 3 + 3) / 4 * 4, size = 54 + stride * h;
        var bytes = new byte[size];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BitConverter.TryWriteBytes(bytes.AsSpan(2), size);
        BitConverter.TryWriteBytes(bytes.AsSpan(10), 54);
        BitConverter.TryWriteBytes(bytes.AsSpan(14), 40);
        BitConverter.TryWriteBytes(bytes.AsSpan(18), w);
        BitConverter.TryWriteBytes(bytes.AsSpan(22), h);
        BitConverter.TryWriteBytes(bytes.AsSpan(26), (short)1);
        BitConverter.TryWriteBytes(bytes.AsSpan(28), (short)24);
        BitConverter.TryWriteBytes(bytes.AsSpan(34), stride * h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                byte v = grey(x, y);
                int o = 54 + (h - 1 - y) * stride + x * 3;
                bytes[o] = bytes[o + 1] = bytes[o + 2] = v;
            }
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
