using System.Buffers.Binary;
using System.Text;
using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Formats.Nifti;

/// <summary>The fields of a NIfTI-1 (348-byte) or NIfTI-2 (540-byte) header this project uses, in either byte order.</summary>
internal sealed class NiftiHeader
{
    public const int Nifti1Size = 348;
    public const int Nifti2Size = 540;

    public int Version { get; private init; }
    public bool BigEndian { get; private init; }
    public bool SingleFile { get; private init; }
    public long[] Dim { get; } = new long[8];
    public double[] PixDim { get; } = new double[8];
    public short DataType { get; set; }
    public long VoxOffset { get; set; }
    public double SclSlope { get; set; }
    public double SclInter { get; set; }
    public int QformCode { get; set; }
    public int SformCode { get; set; }
    public double QuaternB { get; set; }
    public double QuaternC { get; set; }
    public double QuaternD { get; set; }
    public double[] QOffset { get; } = new double[3];
    public double[] SRow { get; } = new double[12];
    public string Description { get; set; } = "";

    /// <summary>Whether bytes (already inflated) start like a NIfTI-1 or NIfTI-2 header in either byte order.</summary>
    public static bool LooksLikeNifti(ReadOnlySpan<byte> b)
    {
        if (b.Length < 4)
            return false;
        int le = BinaryPrimitives.ReadInt32LittleEndian(b), be = BinaryPrimitives.ReadInt32BigEndian(b);
        if (le == Nifti1Size || be == Nifti1Size)
            return b.Length >= 348 && (b[344] == 'n' || b[344] == 'N') && (b[345] == '+' || b[345] == 'i') && b[346] == '1' && b[347] == 0;
        if (le == Nifti2Size || be == Nifti2Size)
            return b.Length >= 12 && b[4] == 'n' && (b[5] == '+' || b[5] == 'i') && b[6] == '2' && b[7] == 0;
        return false;
    }

    /// <summary>Parses a header; returns the problem when the bytes are not one.</summary>
    public static NiftiHeader Parse(ReadOnlySpan<byte> b, out string? problem)
    {
        problem = null;
        if (b.Length < 4)
        {
            problem = $"the file has only {b.Length} bytes, too few for a header";
            return new NiftiHeader();
        }
        int le = BinaryPrimitives.ReadInt32LittleEndian(b), be = BinaryPrimitives.ReadInt32BigEndian(b);
        int version = le == Nifti1Size || be == Nifti1Size ? 1 : le == Nifti2Size || be == Nifti2Size ? 2 : 0;
        if (version == 0)
        {
            problem = $"sizeof_hdr is {le}, neither 348 (NIfTI-1) nor 540 (NIfTI-2)";
            return new NiftiHeader();
        }
        bool big = version == 1 ? be == Nifti1Size : be == Nifti2Size;
        int size = version == 1 ? Nifti1Size : Nifti2Size;
        if (b.Length < size)
        {
            problem = $"the header is truncated ({b.Length} of {size} bytes)";
            return new NiftiHeader();
        }
        if (!LooksLikeNifti(b))
        {
            problem = version == 1
                ? "the magic string is not \"n+1\" or \"ni1\" (an Analyze 7.5 header has no orientation and is not read)"
                : "the magic string is not \"n+2\" or \"ni2\"";
            return new NiftiHeader();
        }
        var r = new Reader(b, big);
        var h = new NiftiHeader { Version = version, BigEndian = big };
        if (version == 1)
        {
            h = new NiftiHeader { Version = 1, BigEndian = big, SingleFile = b[345] == '+' };
            for (int i = 0; i < 8; i++) h.Dim[i] = r.I16(40 + 2 * i);
            h.DataType = r.I16(70);
            for (int i = 0; i < 8; i++) h.PixDim[i] = r.F32(76 + 4 * i);
            h.VoxOffset = (long)r.F32(108);
            h.SclSlope = r.F32(112);
            h.SclInter = r.F32(116);
            h.Description = Encoding.ASCII.GetString(b.Slice(148, 80)).TrimEnd('\0');
            h.QformCode = r.I16(252);
            h.SformCode = r.I16(254);
            h.QuaternB = r.F32(256); h.QuaternC = r.F32(260); h.QuaternD = r.F32(264);
            for (int i = 0; i < 3; i++) h.QOffset[i] = r.F32(268 + 4 * i);
            for (int i = 0; i < 12; i++) h.SRow[i] = r.F32(280 + 4 * i);
        }
        else
        {
            h = new NiftiHeader { Version = 2, BigEndian = big, SingleFile = b[5] == '+' };
            h.DataType = r.I16(12);
            for (int i = 0; i < 8; i++) h.Dim[i] = r.I64(16 + 8 * i);
            for (int i = 0; i < 8; i++) h.PixDim[i] = r.F64(104 + 8 * i);
            h.VoxOffset = r.I64(168);
            h.SclSlope = r.F64(176);
            h.SclInter = r.F64(184);
            h.Description = Encoding.ASCII.GetString(b.Slice(240, 80)).TrimEnd('\0');
            h.QformCode = r.I32(344);
            h.SformCode = r.I32(348);
            h.QuaternB = r.F64(352); h.QuaternC = r.F64(360); h.QuaternD = r.F64(368);
            for (int i = 0; i < 3; i++) h.QOffset[i] = r.F64(376 + 8 * i);
            for (int i = 0; i < 12; i++) h.SRow[i] = r.F64(400 + 8 * i);
        }
        return h;
    }

    /// <summary>The scalar type, sample count per voxel, or null when the datatype code is not supported.</summary>
    public (PixelType Type, int SamplesPerVoxel)? Sample => DataType switch
    {
        2 => (PixelType.UInt8, 1),
        4 => (PixelType.Int16, 1),
        8 => (PixelType.Int32, 1),
        16 => (PixelType.Float32, 1),
        64 => (PixelType.Float64, 1),
        128 => (PixelType.UInt8, 3),
        256 => (PixelType.Int8, 1),
        512 => (PixelType.UInt16, 1),
        768 => (PixelType.UInt32, 1),
        1024 => (PixelType.Int64, 1),
        1280 => (PixelType.UInt64, 1),
        2304 => (PixelType.UInt8, 4),
        _ => null,
    };

    /// <summary>The NIfTI datatype code for a pixel type.</summary>
    public static short DataTypeCode(PixelType type) => type switch
    {
        PixelType.UInt8 => 2,
        PixelType.Int16 => 4,
        PixelType.Int32 => 8,
        PixelType.Float32 => 16,
        PixelType.Float64 => 64,
        PixelType.Int8 => 256,
        PixelType.UInt16 => 512,
        PixelType.UInt32 => 768,
        PixelType.Int64 => 1024,
        PixelType.UInt64 => 1280,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Serialises a little-endian single-file NIfTI-1 header (348 bytes + 4 extension bytes).</summary>
    public byte[] ToNifti1Bytes()
    {
        var b = new byte[352];
        var s = b.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(s, Nifti1Size);
        s[38] = (byte)'r';
        for (int i = 0; i < 8; i++) BinaryPrimitives.WriteInt16LittleEndian(s[(40 + 2 * i)..], (short)Dim[i]);
        BinaryPrimitives.WriteInt16LittleEndian(s[70..], DataType);
        var sample = Sample ?? throw new InvalidOperationException("datatype not set");
        BinaryPrimitives.WriteInt16LittleEndian(s[72..], (short)(SampleConverter.SizeOf(sample.Type) * 8 * sample.SamplesPerVoxel));
        for (int i = 0; i < 8; i++) BinaryPrimitives.WriteSingleLittleEndian(s[(76 + 4 * i)..], (float)PixDim[i]);
        BinaryPrimitives.WriteSingleLittleEndian(s[108..], VoxOffset);
        BinaryPrimitives.WriteSingleLittleEndian(s[112..], (float)SclSlope);
        BinaryPrimitives.WriteSingleLittleEndian(s[116..], (float)SclInter);
        s[123] = 2 | 8; // xyzt_units: mm, s
        Encoding.ASCII.GetBytes(Description.Length > 79 ? Description[..79] : Description, s.Slice(148, 80));
        BinaryPrimitives.WriteInt16LittleEndian(s[252..], (short)QformCode);
        BinaryPrimitives.WriteInt16LittleEndian(s[254..], (short)SformCode);
        BinaryPrimitives.WriteSingleLittleEndian(s[256..], (float)QuaternB);
        BinaryPrimitives.WriteSingleLittleEndian(s[260..], (float)QuaternC);
        BinaryPrimitives.WriteSingleLittleEndian(s[264..], (float)QuaternD);
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteSingleLittleEndian(s[(268 + 4 * i)..], (float)QOffset[i]);
        for (int i = 0; i < 12; i++) BinaryPrimitives.WriteSingleLittleEndian(s[(280 + 4 * i)..], (float)SRow[i]);
        "n+1\0"u8.CopyTo(s[344..]);
        return b;
    }

    private readonly ref struct Reader(ReadOnlySpan<byte> b, bool big)
    {
        private readonly ReadOnlySpan<byte> _b = b;
        private readonly bool _big = big;

        public short I16(int o) => _big ? BinaryPrimitives.ReadInt16BigEndian(_b[o..]) : BinaryPrimitives.ReadInt16LittleEndian(_b[o..]);
        public int I32(int o) => _big ? BinaryPrimitives.ReadInt32BigEndian(_b[o..]) : BinaryPrimitives.ReadInt32LittleEndian(_b[o..]);
        public long I64(int o) => _big ? BinaryPrimitives.ReadInt64BigEndian(_b[o..]) : BinaryPrimitives.ReadInt64LittleEndian(_b[o..]);
        public double F32(int o) => _big ? BinaryPrimitives.ReadSingleBigEndian(_b[o..]) : BinaryPrimitives.ReadSingleLittleEndian(_b[o..]);
        public double F64(int o) => _big ? BinaryPrimitives.ReadDoubleBigEndian(_b[o..]) : BinaryPrimitives.ReadDoubleLittleEndian(_b[o..]);
    }
}
