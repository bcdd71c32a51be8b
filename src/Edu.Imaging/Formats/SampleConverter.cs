using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats;

/// <summary>Turns raw samples of any <see cref="PixelType"/> and byte order into float32, in tight loops over spans.</summary>
internal static class SampleConverter
{
    private const int ChunkSamples = 1 << 18;

    /// <summary>Bytes one sample of <paramref name="type"/> takes.</summary>
    public static int SizeOf(PixelType type) => type switch
    {
        PixelType.UInt8 or PixelType.Int8 => 1,
        PixelType.UInt16 or PixelType.Int16 => 2,
        PixelType.UInt32 or PixelType.Int32 or PixelType.Float32 => 4,
        _ => 8,
    };

    /// <summary>Whether <paramref name="type"/> holds integers.</summary>
    public static bool IsInteger(PixelType type) => type is not (PixelType.Float32 or PixelType.Float64);

    /// <summary>Smallest and largest value <paramref name="type"/> holds.</summary>
    public static (double Min, double Max) Range(PixelType type) => type switch
    {
        PixelType.UInt8 => (byte.MinValue, byte.MaxValue),
        PixelType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        PixelType.UInt16 => (ushort.MinValue, ushort.MaxValue),
        PixelType.Int16 => (short.MinValue, short.MaxValue),
        PixelType.UInt32 => (uint.MinValue, uint.MaxValue),
        PixelType.Int32 => (int.MinValue, int.MaxValue),
        PixelType.UInt64 => (ulong.MinValue, ulong.MaxValue),
        PixelType.Int64 => (long.MinValue, long.MaxValue),
        PixelType.Float32 => (float.MinValue, float.MaxValue),
        _ => (double.MinValue, double.MaxValue),
    };

    /// <summary>
    /// Reads <c>dst.Length</c> samples from <paramref name="stream"/> straight into <paramref name="dst"/>
    /// through one pooled buffer. A short stream or corrupt compressed data is an <see cref="InvalidInputException"/>.
    /// </summary>
    public static void ReadSamples(Stream stream, Span<float> dst, PixelType type, bool bigEndian, string path,
        CancellationToken cancellationToken)
    {
        int size = SizeOf(type);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSamples * size);
        try
        {
            int done = 0;
            while (done < dst.Length)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(ChunkSamples, dst.Length - done);
                int bytes = n * size;
                int got = stream.ReadAtLeast(buffer.AsSpan(0, bytes), bytes, throwOnEndOfStream: false);
                if (got < bytes)
                    throw new InvalidInputException(path,
                        $"the voxel data ends early: {(long)done * size + got:N0} of {(long)dst.Length * size:N0} bytes (truncated file)");
                Convert(buffer.AsSpan(0, bytes), dst.Slice(done, n), type, bigEndian);
                done += n;
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new InvalidInputException(path, $"the voxel data cannot be read, corrupt compressed data? ({e.Message})", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads a decompressing stream on to its end after the last voxel, so that the decompressor checks the stream's
    /// checksum (gzip CRC-32, zlib Adler-32): a reader that stops at the last voxel never sees it, and corrupt data would
    /// come back as silent garbage. Up to 64 MiB may follow the voxels.
    /// </summary>
    public static void CheckCompressedEnd(Stream decompressed, string path)
    {
        const long MaxTrailing = 64L << 20;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            long trailing = 0;
            int n;
            while ((n = decompressed.Read(buffer, 0, buffer.Length)) > 0)
                if ((trailing += n) > MaxTrailing)
                    throw new InvalidInputException(path, "more than 64 MiB of data follow the voxels in the compressed stream");
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new InvalidInputException(path, $"the compressed data is corrupt: its checksum does not match ({e.Message})", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Converts raw samples to float; <paramref name="raw"/> is byte-swapped in place when needed.</summary>
    public static void Convert(Span<byte> raw, Span<float> dst, PixelType type, bool bigEndian)
    {
        if (bigEndian == BitConverter.IsLittleEndian)
            Swap(raw, SizeOf(type));
        switch (type)
        {
            case PixelType.UInt8: Widen(raw, dst); break;
            case PixelType.Int8: Widen(MemoryMarshal.Cast<byte, sbyte>(raw), dst); break;
            case PixelType.UInt16: Widen(MemoryMarshal.Cast<byte, ushort>(raw), dst); break;
            case PixelType.Int16: Widen(MemoryMarshal.Cast<byte, short>(raw), dst); break;
            case PixelType.UInt32: Widen(MemoryMarshal.Cast<byte, uint>(raw), dst); break;
            case PixelType.Int32: Widen(MemoryMarshal.Cast<byte, int>(raw), dst); break;
            case PixelType.UInt64: Widen(MemoryMarshal.Cast<byte, ulong>(raw), dst); break;
            case PixelType.Int64: Widen(MemoryMarshal.Cast<byte, long>(raw), dst); break;
            case PixelType.Float32: MemoryMarshal.Cast<byte, float>(raw).CopyTo(dst); break;
            case PixelType.Float64: Widen(MemoryMarshal.Cast<byte, double>(raw), dst); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
    }

    /// <summary>Applies value = raw · slope + intercept (NIfTI scl_slope/scl_inter).</summary>
    public static void Rescale(Span<float> values, double slope, double intercept)
    {
        if (slope == 1 && intercept == 0)
            return;
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)(values[i] * slope + intercept);
    }

    /// <summary>
    /// Converts floats back to raw samples of <paramref name="type"/> (rounded, little or big endian).
    /// Callers check beforehand that the values fit (see <see cref="FitsExactly"/>).
    /// </summary>
    public static void ToRaw(ReadOnlySpan<float> src, Span<byte> raw, PixelType type, bool bigEndian)
    {
        switch (type)
        {
            case PixelType.UInt8: Narrow(src, raw, static v => (byte)Math.Round(v)); break;
            case PixelType.Int8: Narrow(src, MemoryMarshal.Cast<byte, sbyte>(raw), static v => (sbyte)Math.Round(v)); break;
            case PixelType.UInt16: Narrow(src, MemoryMarshal.Cast<byte, ushort>(raw), static v => (ushort)Math.Round(v)); break;
            case PixelType.Int16: Narrow(src, MemoryMarshal.Cast<byte, short>(raw), static v => (short)Math.Round(v)); break;
            case PixelType.UInt32: Narrow(src, MemoryMarshal.Cast<byte, uint>(raw), static v => (uint)Math.Round((double)v)); break;
            case PixelType.Int32: Narrow(src, MemoryMarshal.Cast<byte, int>(raw), static v => (int)Math.Round((double)v)); break;
            case PixelType.UInt64: Narrow(src, MemoryMarshal.Cast<byte, ulong>(raw), static v => (ulong)Math.Round((double)v)); break;
            case PixelType.Int64: Narrow(src, MemoryMarshal.Cast<byte, long>(raw), static v => (long)Math.Round((double)v)); break;
            case PixelType.Float32: src.CopyTo(MemoryMarshal.Cast<byte, float>(raw)); break;
            case PixelType.Float64: Narrow(src, MemoryMarshal.Cast<byte, double>(raw), static v => (double)v); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
        if (bigEndian == BitConverter.IsLittleEndian)
            Swap(raw, SizeOf(type));
    }

    /// <summary>Whether every value is an integer inside the range of <paramref name="type"/> (always true for floats).</summary>
    public static bool FitsExactly(ReadOnlySpan<float> values, PixelType type)
    {
        if (!IsInteger(type))
            return true;
        var (min, max) = Range(type);
        foreach (float v in values)
        {
            if (!(v >= min && v <= max) || v != MathF.Round(v))
                return false;
        }
        return true;
    }

    /// <summary>The smallest pixel type that holds every value exactly, or Float32.</summary>
    public static PixelType SmallestFitting(ReadOnlySpan<float> values, ReadOnlySpan<PixelType> candidates)
    {
        foreach (var t in candidates)
        {
            if (FitsExactly(values, t))
                return t;
        }
        return PixelType.Float32;
    }

    private static void Swap(Span<byte> raw, int size)
    {
        switch (size)
        {
            case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(raw), MemoryMarshal.Cast<byte, ushort>(raw)); break;
            case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(raw), MemoryMarshal.Cast<byte, uint>(raw)); break;
            case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ulong>(raw), MemoryMarshal.Cast<byte, ulong>(raw)); break;
            default: break;
        }
    }

    private static void Widen(ReadOnlySpan<byte> s, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = s[i]; }
    private static void Widen(ReadOnlySpan<sbyte> s, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = s[i]; }
    private static void Widen(ReadOnlySpan<ushort> s, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = s[i]; }
    private static void Widen(ReadOnlySpan<short> s, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = s[i]; }
    private static void Widen(ReadOnlySpan<uint> s, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = s[i]; }
    private static void Widen(ReadOnlySpan<int> s, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = s[i]; }
    private static void Widen(ReadOnlySpan<ulong> s, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = s[i]; }
    private static void Widen(ReadOnlySpan<long> s, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = s[i]; }
    private static void Widen(ReadOnlySpan<double> s, Span<float> d) { for (int i = 0; i < d.Length; i++) d[i] = (float)s[i]; }

    private static void Narrow<T>(ReadOnlySpan<float> s, Span<T> d, Func<float, T> f)
    {
        for (int i = 0; i < s.Length; i++)
            d[i] = f(s[i]);
    }
}
