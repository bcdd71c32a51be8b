using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace Edu.Models.Runtime;

/// <summary>
/// The CPU as oneDNN sees it: model name, the vector-extension flags that decide its kernels, and the instruction set it
/// dispatches to (the highest level the flags allow, capped by <c>ONEDNN_MAX_CPU_ISA</c>, the rule of oneDNN's
/// <c>get_max_cpu_isa</c>).
/// </summary>
/// <param name="Model">The model name (<c>/proc/cpuinfo</c>'s "model name"), e.g. "AMD EPYC".</param>
/// <param name="Vendor">"AuthenticAMD", "GenuineIntel", ...</param>
/// <param name="Flags">The vector flags present, from <see cref="VectorFlags"/>.</param>
/// <param name="IsaCap">The value of <c>ONEDNN_MAX_CPU_ISA</c> in the native environment, or null.</param>
public sealed record CpuInfo(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("vendor")] string Vendor,
    [property: JsonPropertyName("flags")] IReadOnlyList<string> Flags,
    [property: JsonPropertyName("onednnIsaCap")] string? IsaCap)
{
    /// <summary>The flags that change oneDNN's choice of kernels, in the order of its ISA ladder.</summary>
    public static readonly IReadOnlyList<string> VectorFlags =
    [
        "sse4_1", "avx", "avx2", "fma", "avx_vnni", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16",
        "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16", "amx_fp16",
    ];

    // oneDNN's ISA ladder (cpu_isa_t), lowest first: the value ONEDNN_MAX_CPU_ISA takes, and the CPU flags it needs
    private static readonly (string Name, string[] Needs)[] Ladder =
    [
        ("SSE41", ["sse4_1"]),
        ("AVX", ["avx"]),
        ("AVX2", ["avx2", "fma"]),
        ("AVX512_CORE", ["avx512f", "avx512bw", "avx512vl", "avx512dq"]),
        ("AVX512_CORE_VNNI", ["avx512_vnni"]),
        ("AVX512_CORE_BF16", ["avx512_bf16"]),
        ("AVX512_CORE_FP16", ["avx512_fp16"]),
        ("AVX512_CORE_AMX", ["amx_tile", "amx_int8", "amx_bf16"]),
        ("AVX512_CORE_AMX_FP16", ["amx_fp16"]),
    ];

    /// <summary>This machine's CPU, read from <c>/proc/cpuinfo</c> (elsewhere: the OS architecture, no flags).</summary>
    public static CpuInfo Current { get; } = Read();

    /// <summary>Whether the CPU has AVX-512 (the level where docs/cpu.md's oneDNN fault lives).</summary>
    [JsonIgnore]
    public bool HasAvx512 => Flags.Contains("avx512f");

    /// <summary>
    /// The oneDNN ISA level that its CPU kernels dispatch to: the highest rung of the ladder whose flags (and those of
    /// every rung below) the CPU has, no higher than <see cref="IsaCap"/> when that names a rung.
    /// </summary>
    [JsonPropertyName("onednnIsa")]
    public string OneDnnIsa
    {
        get
        {
            string best = "none";
            var have = Flags.ToHashSet(StringComparer.Ordinal);
            int cap = IsaCap is { } c ? Array.FindIndex(Ladder, r => r.Name.Equals(c.Trim(), StringComparison.OrdinalIgnoreCase)) : -1;
            for (int i = 0; i < Ladder.Length; i++)
            {
                if (cap >= 0 && i > cap) break;
                if (!Ladder[i].Needs.All(have.Contains)) break;
                best = Ladder[i].Name;
            }
            return best;
        }
    }

    /// <summary>One line for logs and tables: model, oneDNN ISA and the AVX-512 extensions present.</summary>
    public string Describe()
    {
        var avx512 = Flags.Where(f => f.StartsWith("avx512", StringComparison.Ordinal) || f.StartsWith("amx", StringComparison.Ordinal));
        string cap = IsaCap is null ? "" : $", ONEDNN_MAX_CPU_ISA={IsaCap}";
        return $"{Model} ({Vendor}; oneDNN ISA {OneDnnIsa}{cap}; {string.Join(' ', avx512.DefaultIfEmpty("no AVX-512"))})";
    }

    /// <summary>Parses the text of <c>/proc/cpuinfo</c> (its first processor block).</summary>
    public static CpuInfo Parse(string cpuinfo, string? isaCap)
    {
        ArgumentNullException.ThrowIfNull(cpuinfo);
        string model = "unknown", vendor = "unknown";
        var flags = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                if (line.Trim().Length == 0 && flags.Count > 0) break; // end of the first processor
                continue;
            }
            string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "model name": model = value; break;
                case "vendor_id": vendor = value; break;
                case "flags": flags.UnionWith(value.Split(' ', StringSplitOptions.RemoveEmptyEntries)); break;
            }
        }
        return new CpuInfo(model, vendor, VectorFlags.Where(flags.Contains).ToList(), string.IsNullOrWhiteSpace(isaCap) ? null : isaCap.Trim());
    }

    private static CpuInfo Read()
    {
        string? cap = NativeEnvironment.Get("ONEDNN_MAX_CPU_ISA");
        try
        {
            return Parse(File.ReadAllText("/proc/cpuinfo"), cap);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new CpuInfo(RuntimeInformation.ProcessArchitecture.ToString(), "unknown", [], cap);
        }
    }
}
