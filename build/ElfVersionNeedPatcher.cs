// The LibTorchSharp native-library fix for Debian 12 (DESIGN.md, "TorchSharp on Debian 12").
//
// TorchSharp 0.107.0's libLibTorchSharp.so lists a need for GLIBCXX_3.4.32 (GCC 13's libstdc++),
// which Debian 12 (GLIBCXX_3.4.30) lacks, so the dynamic loader refuses it. The only symbol bound
// to that version is std::ios_base_library_init, a link-time marker with no relocation: it is never
// called. Marking that one version need weak (VER_FLG_WEAK in its .gnu.version_r entry) lets
// glibc load the library and merely note the absent version.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (build/TorchSharpNativeFix.targets)
// as the task that patches the copy in the build or publish output, and by tests/Edu.Build.Tests.
// It patches copies only: the file is rewritten through a temporary file, so a hard link into the
// NuGet cache is broken, never written through.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Edu.Build;

/// <summary>What <see cref="ElfVersionNeedPatcher.MarkWeak"/> found and did.</summary>
public enum ElfPatchOutcome
{
    /// <summary>The version need was strong and is now weak.</summary>
    Patched,
    /// <summary>The version need was already weak (patched before).</summary>
    AlreadyWeak,
    /// <summary>The library does not need that version at all.</summary>
    NotNeeded,
}

/// <summary>Reads and edits the version needs (<c>.gnu.version_r</c>) of a 64-bit little-endian ELF file.</summary>
public static class ElfVersionNeedPatcher
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    /// <summary>One version a shared library needs from another: <c>file</c> needs <c>version</c>.</summary>
    /// (A class, not a record: MSBuild compiles this file against netstandard2.0.)
    public sealed class VersionNeed
    {
        public VersionNeed(string file, string version, ushort flags, long flagsOffset)
        {
            File = file;
            Version = version;
            Flags = flags;
            FlagsOffset = flagsOffset;
        }

        public string File { get; }
        public string Version { get; }
        public ushort Flags { get; }
        public long FlagsOffset { get; }
        public bool IsWeak => (Flags & VerFlgWeak) != 0;
    }

    /// <summary>Lists every version need of an ELF shared library.</summary>
    public static List<VersionNeed> ReadVersionNeeds(byte[] elf, string nameForErrors)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException(nameForErrors + ": not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException(nameForErrors + ": only 64-bit little-endian ELF is supported");

        long shoff = (long)U64(elf, 0x28, nameForErrors);
        int shentsize = U16(elf, 0x3A, nameForErrors);
        int shnum = U16(elf, 0x3C, nameForErrors);
        var needs = new List<VersionNeed>();
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (U32(elf, sh + 4, nameForErrors) != ShtGnuVerneed)
                continue;
            long offset = (long)U64(elf, sh + 24, nameForErrors);
            uint link = U32(elf, sh + 40, nameForErrors);
            uint count = U32(elf, sh + 44, nameForErrors);
            long strtab = (long)U64(elf, shoff + (long)link * shentsize + 24, nameForErrors);

            long entry = offset;
            for (uint n = 0; n < count; n++)
            {
                int auxCount = U16(elf, entry + 2, nameForErrors);
                string file = CString(elf, strtab + U32(elf, entry + 4, nameForErrors), nameForErrors);
                long aux = entry + U32(elf, entry + 8, nameForErrors);
                for (int a = 0; a < auxCount; a++)
                {
                    ushort flags = U16(elf, aux + 4, nameForErrors);
                    string version = CString(elf, strtab + U32(elf, aux + 8, nameForErrors), nameForErrors);
                    needs.Add(new VersionNeed(file, version, flags, aux + 4));
                    uint nextAux = U32(elf, aux + 12, nameForErrors);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = U32(elf, entry + 12, nameForErrors);
                if (next == 0) break;
                entry += next;
            }
        }
        return needs;
    }

    /// <summary>
    /// Marks the need for <paramref name="version"/> weak in <paramref name="path"/>. The file is
    /// replaced through a temporary copy (breaking any hard link) and keeps its modification time,
    /// so MSBuild's incremental copy sees it as unchanged.
    /// </summary>
    public static ElfPatchOutcome MarkWeak(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        VersionNeed? need = null;
        foreach (var candidate in ReadVersionNeeds(elf, path))
            if (candidate.Version == version) { need = candidate; break; }
        if (need is null) return ElfPatchOutcome.NotNeeded;
        if (need.IsWeak) return ElfPatchOutcome.AlreadyWeak;

        ushort flags = (ushort)(need.Flags | VerFlgWeak);
        elf[need.FlagsOffset] = (byte)(flags & 0xff);
        elf[need.FlagsOffset + 1] = (byte)(flags >> 8);

        DateTime modified = File.GetLastWriteTimeUtc(path);
        string temporary = path + ".edu-patch.tmp";
        File.WriteAllBytes(temporary, elf);
        File.SetLastWriteTimeUtc(temporary, modified);
        // A rename, not a write through the old inode: a hard link into the NuGet cache stays untouched.
        File.Replace(temporary, path, null);
        File.SetLastWriteTimeUtc(path, modified);
        return ElfPatchOutcome.Patched;
    }

    /// <summary>Whether a shared library (for example the system libstdc++) defines a symbol version.</summary>
    public static bool DefinesVersion(string libraryPath, string version)
    {
        // A defined version's name sits NUL-terminated in .dynstr; a search is enough for libstdc++.
        byte[] bytes = File.ReadAllBytes(libraryPath);
        byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
        for (int i = 0; i + needle.Length <= bytes.Length; i++)
        {
            if (bytes[i] != needle[0] || (i > 0 && bytes[i - 1] != 0)) continue;
            int j = 1;
            while (j < needle.Length && bytes[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }

    private static void Check(byte[] elf, long offset, int size, string name)
    {
        if (offset < 0 || offset + size > elf.Length)
            throw new InvalidDataException(name + ": ELF structure points outside the file (offset " + offset + ")");
    }

    private static ushort U16(byte[] b, long o, string name) { Check(b, o, 2, name); return (ushort)(b[o] | b[o + 1] << 8); }
    private static uint U32(byte[] b, long o, string name) { Check(b, o, 4, name); return (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24); }
    private static ulong U64(byte[] b, long o, string name) => U32(b, o, name) | (ulong)U32(b, o + 4, name) << 32;

    private static string CString(byte[] b, long o, string name)
    {
        Check(b, o, 1, name);
        long end = o;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, (int)o, (int)(end - o));
    }
}

/// <summary>
/// MSBuild task: in each given library, marks the listed version needs weak when the system's
/// libstdc++ lacks them. Where the system library has them, or off Linux, it does nothing.
/// </summary>
public sealed class MarkElfVersionNeedsWeak : Microsoft.Build.Utilities.Task
{
    /// <summary>Libraries in the build or publish output (missing ones are skipped).</summary>
    [Required]
    public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Versions known to be safe to weaken (no relocation binds to them), e.g. GLIBCXX_3.4.32.</summary>
    [Required]
    public string[] Versions { get; set; } = Array.Empty<string>();

    /// <summary>Where to look for the system libstdc++; the first that exists is used.</summary>
    public string[] SystemLibStdCxxCandidates { get; set; } =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
    };

    public override bool Execute()
    {
        if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux))
            return true;
        string? libstdcxx = null;
        foreach (var candidate in SystemLibStdCxxCandidates)
            if (File.Exists(candidate)) { libstdcxx = candidate; break; }

        foreach (var item in Libraries)
        {
            string path = item.ItemSpec;
            if (!File.Exists(path)) continue;
            foreach (var version in Versions)
            {
                if (libstdcxx != null && ElfVersionNeedPatcher.DefinesVersion(libstdcxx, version))
                {
                    Log.LogMessage(MessageImportance.Low, "{0}: {1} provides {2}; nothing to patch.", path, libstdcxx, version);
                    continue;
                }
                try
                {
                    var outcome = ElfVersionNeedPatcher.MarkWeak(path, version);
                    Log.LogMessage(outcome == ElfPatchOutcome.Patched ? MessageImportance.High : MessageImportance.Low,
                        "{0}: version need {1}: {2}", path, version, outcome);
                }
                catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
                {
                    Log.LogError("Could not patch {0} for {1}: {2}", path, version, e.Message);
                }
            }
        }
        return !Log.HasLoggedErrors;
    }
}
