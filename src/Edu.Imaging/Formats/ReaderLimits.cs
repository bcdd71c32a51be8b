namespace Edu.Imaging.Formats;

/// <summary>Sanity limits every reader checks against a header's claims before it allocates.</summary>
internal static class ReaderLimits
{
    /// <summary>Most samples (voxels × channels) one volume may hold: 2^30 floats, 4 GiB.</summary>
    public const long MaxSamples = 1L << 30;

    /// <summary>Largest extent along one axis.</summary>
    public const long MaxExtent = 1 << 20;

    /// <summary>Deflate cannot expand data by more than about 1032:1; a claim beyond that is a lie.</summary>
    public const long MaxDeflateRatio = 1100;

    /// <summary>
    /// Checks a claimed sample count against the caps and against the bytes really present, and
    /// returns the problem, or null when the claim is plausible.
    /// </summary>
    public static string? CheckClaim(long samples, int bytesPerSample, long availableBytes, bool compressed)
    {
        if (samples <= 0)
            return "the header claims no voxels";
        if (samples > MaxSamples)
            return $"the header claims {samples:N0} samples, more than the limit of {MaxSamples:N0}";
        long needed = samples * bytesPerSample;
        long possible = compressed ? availableBytes * MaxDeflateRatio : availableBytes;
        if (needed > possible)
            return compressed
                ? $"the header claims {needed:N0} bytes of voxel data, more than {availableBytes:N0} compressed bytes can hold"
                : $"the header claims {needed:N0} bytes of voxel data but only {Math.Max(0, availableBytes):N0} are in the file (truncated?)";
        return null;
    }
}
