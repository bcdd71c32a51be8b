using System.Runtime.InteropServices;

namespace Edu.Models.Runtime;

/// <summary>
/// The C library's environment, which native code (LibTorch, oneDNN) reads with <c>getenv</c>. On Linux .NET keeps its own
/// copy: <see cref="Environment.SetEnvironmentVariable(string, string)"/> never reaches <c>environ</c>, so a setting meant
/// for native code must go through <c>setenv</c>, before the native library first reads it.
/// </summary>
public static partial class NativeEnvironment
{
    /// <summary>The native value of <paramref name="name"/>, or null.</summary>
    public static string? Get(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return Environment.GetEnvironmentVariable(name);
        return Marshal.PtrToStringUTF8(GetEnv(name));
    }

    /// <summary>Sets <paramref name="name"/> in the native environment (and .NET's copy), overwriting it.</summary>
    public static void Set(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        Environment.SetEnvironmentVariable(name, value);
        if ((OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && SetEnv(name, value, 1) != 0)
            throw new InvalidOperationException($"setenv({name}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
