using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Serialization;
using TorchSharp;

namespace Edu.Models.Runtime;

/// <summary>What the numeric self-check found on this CPU and the configuration the process runs with.</summary>
/// <param name="Cpu">The CPU, as <see cref="CpuInfo.Describe"/> writes it.</param>
/// <param name="OneDnnIsa">The oneDNN ISA level its kernels dispatch to.</param>
/// <param name="LibTorch">LibTorch's version.</param>
/// <param name="Configuration">What convolutions run on: <c>channels-last</c> or <c>channels-first</c> (oneDNN, that layout), or <c>onednn-off</c> (ATen's own kernels).</param>
/// <param name="ChannelsFirstRight">Whether oneDNN's default-layout (NCHW, blocked) convolutions agree with float64.</param>
/// <param name="ChannelsLastRight">Whether the channels-last convolutions (C &gt; 1) agree with float64.</param>
/// <param name="SingleChannelInputRight">Whether the 1-channel-input convolution agrees in both layouts (its input gradient is never needed in training).</param>
/// <param name="Cached">Whether the verdict came from the cache rather than a check run by this process.</param>
/// <param name="CheckMilliseconds">How long the check took when it ran (0 when cached).</param>
/// <param name="Notice">The line said to the user about it, or null when there is nothing to say.</param>
/// <param name="Cases">Every case of the check.</param>
public sealed record NumericsVerdict(
    [property: JsonPropertyName("cpu")] string Cpu,
    [property: JsonPropertyName("onednnIsa")] string OneDnnIsa,
    [property: JsonPropertyName("libTorch")] string LibTorch,
    [property: JsonPropertyName("configuration")] string Configuration,
    [property: JsonPropertyName("channelsFirstRight")] bool ChannelsFirstRight,
    [property: JsonPropertyName("channelsLastRight")] bool ChannelsLastRight,
    [property: JsonPropertyName("singleChannelInputRight")] bool SingleChannelInputRight,
    [property: JsonPropertyName("cached")] bool Cached,
    [property: JsonPropertyName("checkMilliseconds")] double CheckMilliseconds,
    [property: JsonPropertyName("notice")] string? Notice,
    [property: JsonPropertyName("cases")] IReadOnlyList<ConvCaseResult> Cases);

/// <summary>
/// The start-up numeric self-check of every process that runs a net (<see cref="TorchRuntime.EnsureLoaded"/> calls
/// <see cref="Ensure"/>). It runs <see cref="ConvNumericsCheck"/> once per CPU model, flags, oneDNN ISA cap and LibTorch
/// version, caches the verdict (a few milliseconds afterwards), and makes the process run right: the channels-last layout
/// where it is right (everywhere measured so far), else oneDNN switched off. A CPU whose default-layout kernels are wrong
/// is reported once, when the check finds it; the slow fallback is reported by every process that takes it.
/// </summary>
public static class CpuNumerics
{
    /// <summary>Environment variable: <c>onednn-off</c> makes every process run without oneDNN (ATen's kernels), whatever the check says.</summary>
    public const string ModeVariable = "EDU_CPU_NUMERICS";

    /// <summary>Environment variable naming the cache folder (default <c>$XDG_CACHE_HOME/edu</c> or <c>~/.cache/edu</c>).</summary>
    public const string CacheVariable = "EDU_CACHE_DIR";

    private const int CheckVersion = 1;
    private static readonly Lock Gate = new();
    private static NumericsVerdict? _verdict;

    /// <summary>Where notices go (one line each); stderr unless a host (the worker's log) sets it.</summary>
    public static Action<string> Notify { get; set; } = line => Console.Error.WriteLine(line);

    /// <summary>The verdict of this process, or null before <see cref="Ensure"/> ran.</summary>
    public static NumericsVerdict? Current
    {
        get { lock (Gate) return _verdict; }
    }

    /// <summary>
    /// Runs the check (or takes the cached verdict) once per process and applies it; later calls return the same verdict.
    /// Throws <see cref="NumericsException"/> when no configuration computes convolutions right on this CPU.
    /// </summary>
    public static NumericsVerdict Ensure()
    {
        lock (Gate)
        {
            _verdict ??= Decide(fresh: false, thorough: false);
            return _verdict;
        }
    }

    /// <summary>
    /// Runs the check now, whatever the cache holds, refreshes the cache and applies the verdict (<c>edu doctor</c>);
    /// <paramref name="thorough"/> runs the whole grid of shapes (a few seconds) instead of the quick set.
    /// </summary>
    public static NumericsVerdict Recheck(bool thorough = false)
    {
        lock (Gate)
        {
            _verdict = Decide(fresh: true, thorough);
            return _verdict;
        }
    }

    private static NumericsVerdict Decide(bool fresh, bool thorough)
    {
        var cpu = CpuInfo.Current;
        string libTorch = TorchRuntime.Describe().LibTorchVersion ?? "unknown";
        string? mode = NativeEnvironment.Get(ModeVariable);
        if (mode is not null && !string.IsNullOrWhiteSpace(mode) && mode.Trim() != "onednn-off" && mode.Trim() != "auto")
            throw new InvalidInputException(ModeVariable, $"'{mode}' is not a numerics mode: use auto (default) or onednn-off");
        if (NativeEnvironment.Get(MemoryFormat.OverrideVariable) is { } layoutText && !string.IsNullOrWhiteSpace(layoutText)
            && MemoryFormat.Parse(layoutText) is null)
            throw new InvalidInputException(MemoryFormat.OverrideVariable, $"'{layoutText}' is not a memory format: use channels-last or channels-first");
        bool forceOff = mode?.Trim() == "onednn-off";
        var layout = MemoryFormat.Cpu;
        string cacheFile = CacheFile(cpu, libTorch);

        Stored? stored = fresh || forceOff ? null : ReadCache(cacheFile);
        bool cached = stored is not null;
        double ms = 0;
        if (stored is null)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var cases = ConvNumericsCheck.Run(thorough);
            bool firstRight = LayoutRight(cases, ActivationLayout.ChannelsFirst);
            bool lastRight = LayoutRight(cases, ActivationLayout.ChannelsLast);
            bool oneRight = cases.Where(ConvNumericsCheck.IsSingleChannelInput).All(c => c.Right);
            IReadOnlyList<ConvCaseResult>? offCases = null;
            if (forceOff || !(layout == ActivationLayout.ChannelsLast ? lastRight : firstRight))
            {
                OneDnnSwitch.Enabled = false;
                offCases = ConvNumericsCheck.Run();
            }
            ms = clock.Elapsed.TotalMilliseconds;
            stored = new Stored(CheckVersion, cpu.Describe(), libTorch, firstRight, lastRight, oneRight,
                offCases is null ? null : offCases.All(c => c.Right), [.. cases, .. offCases ?? []]);
            if (!forceOff) WriteCache(cacheFile, stored);
        }

        bool usedRight = layout == ActivationLayout.ChannelsLast ? stored.ChannelsLastRight : stored.ChannelsFirstRight;
        string configuration = MemoryFormat.Name(layout);
        string? notice = null;
        if (forceOff || !usedRight)
        {
            if (stored.OneDnnOffRight is null)
            {
                // a cached verdict without the fallback measured: measure it now
                OneDnnSwitch.Enabled = false;
                var offCases = ConvNumericsCheck.Run();
                stored = stored with { OneDnnOffRight = offCases.All(c => c.Right), Cases = [.. stored.Cases, .. offCases] };
                if (!forceOff) WriteCache(cacheFile, stored);
            }
            if (stored.OneDnnOffRight != true)
                throw new NumericsException(
                    $"no configuration computes convolutions right on this CPU ({cpu.Describe()}, LibTorch {libTorch}): oneDNN's " +
                    $"{MemoryFormat.Name(layout)} kernels and ATen's own kernels both disagree with float64; try ONEDNN_MAX_CPU_ISA=AVX2 " +
                    "and see `edu doctor`");
            OneDnnSwitch.Enabled = false;
            configuration = "onednn-off";
            notice = forceOff
                ? $"numerics: oneDNN is off ({ModeVariable}=onednn-off); convolutions run on ATen's own kernels, 2-3x slower"
                : $"numerics: oneDNN's {MemoryFormat.Name(layout)} convolutions are wrong on this CPU ({cpu.Model}, {cpu.OneDnnIsa}); " +
                  "running without oneDNN (right, 2-3x slower; see docs/cpu.md)";
        }
        else if (!stored.ChannelsFirstRight && layout == ActivationLayout.ChannelsLast && !cached)
        {
            notice = $"numerics: oneDNN's default-layout convolution gradients are wrong on this CPU ({cpu.Model}, {cpu.OneDnnIsa}); " +
                     "every net runs channels-last, which the self-check found right (docs/cpu.md)";
        }
        else if (layout == ActivationLayout.ChannelsFirst && !stored.ChannelsLastRight)
        {
            notice = $"numerics: {MemoryFormat.OverrideVariable}=channels-first is right on this CPU but channels-last is not; keep channels-first";
        }

        if (notice is not null) Notify(notice);
        return new NumericsVerdict(cpu.Describe(), cpu.OneDnnIsa, libTorch, configuration, stored.ChannelsFirstRight, stored.ChannelsLastRight,
            stored.SingleChannelInputRight, cached, Math.Round(ms, 1), notice, stored.Cases);
    }

    private static bool LayoutRight(IEnumerable<ConvCaseResult> cases, ActivationLayout layout) =>
        cases.Where(c => c.Layout == MemoryFormat.Name(layout) && !ConvNumericsCheck.IsSingleChannelInput(c)).All(c => c.Right);

    /// <summary>The cache folder: <c>EDU_CACHE_DIR</c>, else <c>$XDG_CACHE_HOME/edu</c>, else <c>~/.cache/edu</c>.</summary>
    public static string CacheDirectory()
    {
        if (Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } dir) return dir;
        string baseDir = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(baseDir, "edu");
    }

    private static string CacheFile(CpuInfo cpu, string libTorch)
    {
        string key = $"{CheckVersion}|{cpu.Vendor}|{cpu.Model}|{string.Join(',', cpu.Flags)}|{cpu.IsaCap}|{libTorch}|{TorchRuntime.TorchSharpVersion}";
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        return Path.Combine(CacheDirectory(), $"numerics-{hash}.json");
    }

    private static Stored? ReadCache(string path)
    {
        try
        {
            var s = JsonSerializer.Deserialize<Stored>(File.ReadAllText(path), EduJson.Indented);
            return s is { Version: CheckVersion, Cases: not null } ? s : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null; // no cache, or one another version wrote: run the check
        }
    }

    private static void WriteCache(string path, Stored stored)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string temp = $"{path}.{Environment.ProcessId}.tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(stored, EduJson.Indented));
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a read-only home: the check runs again next time, nothing else changes
        }
    }

    // the cache file: what the check found, without the process-specific parts of the verdict
    private sealed record Stored(
        int Version, string Cpu, string LibTorch, bool ChannelsFirstRight, bool ChannelsLastRight, bool SingleChannelInputRight,
        bool? OneDnnOffRight, IReadOnlyList<ConvCaseResult> Cases);
}
