namespace Edu.Abstractions.Imaging;

/// <summary>The scalar type the source file stored its samples in (before any rescale).</summary>
public enum PixelType
{
    /// <summary>8-bit unsigned.</summary>
    UInt8,
    /// <summary>8-bit signed.</summary>
    Int8,
    /// <summary>16-bit unsigned.</summary>
    UInt16,
    /// <summary>16-bit signed.</summary>
    Int16,
    /// <summary>32-bit unsigned.</summary>
    UInt32,
    /// <summary>32-bit signed.</summary>
    Int32,
    /// <summary>64-bit unsigned.</summary>
    UInt64,
    /// <summary>64-bit signed.</summary>
    Int64,
    /// <summary>32-bit IEEE float.</summary>
    Float32,
    /// <summary>64-bit IEEE float.</summary>
    Float64,
}
