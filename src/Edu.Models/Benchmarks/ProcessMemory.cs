namespace Edu.Models.Benchmarks;

/// <summary>Peak resident memory of this process, from <c>/proc/self/status</c> (Linux).</summary>
public static class ProcessMemory
{
    /// <summary>VmHWM in MiB, or −1 where /proc is not available.</summary>
    public static double PeakRssMb()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return -1;
        foreach (var line in File.ReadLines(path))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                var kb = long.Parse(line.AsSpan(6).Trim().ToString().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                return Math.Round(kb / 1024.0, 1);
            }
        return -1;
    }
}
