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
/// <param name="Configuration">What convolutions run on: the layouts (<c>channels-last</c>, or e.g. <c>2-D channels-first, 3-D channels-last</c>) with oneDNN, or <c>onednn-off</c> (ATen's own kernels).</param>
/// <param name="Layout2D">The activation layout of 2-D nets.</param>
/// <param name="Layout3D">The activation layout of 3-D nets.</param>
/// <param name="ChannelsFirstRight">Whether oneDNN's default-layout (NCHW, blocked) convolutions agree with float64 (C &gt; 1).</param>
/// <param name="ChannelsLastRight">Whether the channels-last convolutions agree with float64 (C &gt; 1).</param>
/// <param name="SingleChannelInputRight">Whether the 1-channel-input convolution agrees in both layouts (its input gradient is never needed in training).</param>
/// <param name="Cached">Whether the verdict came from the cache rather than a check run by this process.</param>
/// <param name="CheckMilliseconds">How long the check took when it ran (0 when cached).</param>
/// <param name="Notice">The line said to the user about it, or null when there is nothing to say.</param>
/// <param name="Cases">Every case of the check (with oneDNN off too, where that was checked).</param>
public sealed record NumericsVerdict(
    [property: JsonPropertyName("cpu")] string Cpu,
    [property: JsonPropertyName("onednnIsa")] string OneDnnIsa,
    [property: JsonPropertyName("libTorch")] string LibTorch,
    [property: JsonPropertyName("configuration")] string Configuration,
    [property: JsonPropertyName("layout2d")] string Layout2D,
    [property: JsonPropertyName("layout3d")] string Layout3D,
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
/// version, caches the verdict (a few milliseconds afterwards), and makes the process run right: for 2-D and for 3-D nets
/// the preferred layout of <see cref="MemoryFormat"/> where the check finds it right, else the other layout, else oneDNN
/// switched off (ATen's own kernels), else it refuses. A fresh check that finds a layout wrong says so once, on stderr
/// (or the worker's log); the slow oneDNN-off fallback is reported by every process that takes it.
/// </summary>
public static class CpuNumerics
{
    /// <summary>Environment variable: <c>onednn-off</c> makes every process run without oneDNN (ATen's kernels), whatever the check says.</summary>
    public const string ModeVariable = "EDU_CPU_NUMERICS";

    /// <summary>Environment variable naming the cache folder (default <c>$XDG_CACHE_HOME/edu</c> or <c>~/.cache/edu</c>).</summary>
    public const string CacheVariable = "EDU_CACHE_DIR";

    private const int CheckVersion = 2;
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
        bool forceOff = ReadMode();
        string cacheFile = CacheFile(cpu, libTorch);

        Stored? stored = fresh || forceOff ? null : ReadCache(cacheFile);
        bool cached = stored is not null, changed = false;
        double ms = 0;
        if (stored is null)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            OneDnnSwitch.Enabled = true; // a recheck measures oneDNN itself, also after an earlier verdict turned it off
            stored = new Stored(CheckVersion, cpu.Describe(), libTorch, ConvNumericsCheck.Run(thorough), null);
            ms = clock.Elapsed.TotalMilliseconds;
            changed = true;
        }

        // per dimensionality: the preferred layout where it is right, else the other one (unless the user forced a layout)
        var notices = new List<string>();
        bool needOff = forceOff;
        foreach (int dims in new[] { 2, 3 })
        {
            MemoryFormat.Decide(dims, MemoryFormat.Preferred(dims, cpu));
            var wanted = MemoryFormat.Cpu(dims);
            if (Right(stored.Cases, wanted, dims)) continue;
            var other = wanted == ActivationLayout.ChannelsLast ? ActivationLayout.ChannelsFirst : ActivationLayout.ChannelsLast;
            if (!MemoryFormat.IsOverridden && Right(stored.Cases, other, dims))
            {
                MemoryFormat.Decide(dims, other);
                notices.Add($"{dims}-D nets run {MemoryFormat.Name(other)}");
            }
            else needOff = true;
        }

        string? notice = null;
        string configuration = MemoryFormat.DescribeCpu();
        if (needOff)
        {
            if (stored.OneDnnOffCases is null)
            {
                OneDnnSwitch.Enabled = false;
                stored = stored with { OneDnnOffCases = ConvNumericsCheck.Run() };
                changed = true;
            }
            if (!stored.OneDnnOffCases.All(c => c.Right))
            {
                if (changed && !forceOff) WriteCache(cacheFile, stored);
                throw new NumericsException(
                    $"no configuration computes convolutions right on this CPU ({cpu.Describe()}, LibTorch {libTorch}): oneDNN's " +
                    $"convolutions ({MemoryFormat.DescribeCpu()}) and ATen's own kernels disagree with float64; try ONEDNN_MAX_CPU_ISA=AVX2 " +
                    "and see `edu doctor`");
            }
            OneDnnSwitch.Enabled = false;
            configuration = "onednn-off";
            notice = forceOff
                ? $"numerics: oneDNN is off ({ModeVariable}=onednn-off); convolutions run on ATen's own kernels, 2-3x slower"
                : $"numerics: oneDNN's {MemoryFormat.DescribeCpu()} convolutions are wrong on this CPU ({cpu.Model}, {cpu.OneDnnIsa}); " +
                  "running without oneDNN (right, 2-3x slower; see docs/cpu.md)";
        }
        else
        {
            OneDnnSwitch.Enabled = true;
            bool firstWrong = !Right(stored.Cases, ActivationLayout.ChannelsFirst, 2) || !Right(stored.Cases, ActivationLayout.ChannelsFirst, 3);
            if (!cached && (firstWrong || notices.Count > 0))
                notice = $"numerics: oneDNN's default-layout convolution gradients are wrong on this CPU ({cpu.Model}, {cpu.OneDnnIsa}); " +
                         $"nets run {configuration}, which the self-check found right (docs/cpu.md)";
        }
        if (changed && !forceOff) WriteCache(cacheFile, stored);
        if (notice is not null) Notify(notice);

        var oneDnnCases = stored.Cases.Where(c => !ConvNumericsCheck.IsSingleChannelInput(c)).ToList();
        return new NumericsVerdict(cpu.Describe(), cpu.OneDnnIsa, libTorch, configuration,
            MemoryFormat.Name(MemoryFormat.Cpu(2)), MemoryFormat.Name(MemoryFormat.Cpu(3)),
            oneDnnCases.Where(c => c.Layout == MemoryFormat.Name(ActivationLayout.ChannelsFirst)).All(c => c.Right),
            oneDnnCases.Where(c => c.Layout == MemoryFormat.Name(ActivationLayout.ChannelsLast)).All(c => c.Right),
            stored.Cases.Where(ConvNumericsCheck.IsSingleChannelInput).All(c => c.Right),
            cached, Math.Round(ms, 1), notice, [.. stored.Cases, .. stored.OneDnnOffCases ?? []]);
    }

    // EDU_CPU_NUMERICS and EDU_MEMORY_FORMAT: an unknown value is bad input naming the variable; true for onednn-off
    private static bool ReadMode()
    {
        string? mode = NativeEnvironment.Get(ModeVariable)?.Trim();
        if (!string.IsNullOrEmpty(mode) && mode is not ("onednn-off" or "auto"))
            throw new InvalidInputException(ModeVariable, $"'{mode}' is not a numerics mode: use auto (default) or onednn-off");
        if (NativeEnvironment.Get(MemoryFormat.OverrideVariable) is { } layoutText && !string.IsNullOrWhiteSpace(layoutText)
            && MemoryFormat.Parse(layoutText) is null)
            throw new InvalidInputException(MemoryFormat.OverrideVariable, $"'{layoutText}' is not a memory format: use channels-last or channels-first");
        return mode == "onednn-off";
    }

    // every case of that layout and dimensionality (inputs of more than one channel) agrees with float64
    private static bool Right(IEnumerable<ConvCaseResult> cases, ActivationLayout layout, int dims) =>
        cases.Where(c => c.Dims == dims && c.Layout == MemoryFormat.Name(layout) && !ConvNumericsCheck.IsSingleChannelInput(c)).All(c => c.Right);

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
            return s is { Version: CheckVersion, Cases.Count: > 0 } ? s : null;
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

    // the cache file: what the check found (with oneDNN, and without it where that was needed)
    private sealed record Stored(int Version, string Cpu, string LibTorch, IReadOnlyList<ConvCaseResult> Cases, IReadOnlyList<ConvCaseResult>? OneDnnOffCases);
}
