using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using Edu.Abstractions.Errors;

namespace Edu.Dicom;

/// <summary>
/// Finds GDCM's C# binding (Debian's <c>libgdcm-cil</c>) at run time: the managed
/// <c>gdcm-sharp.dll</c> and its native glue <c>libgdcmsharpglue.so</c>, both in
/// <see cref="Directory"/>, so that nobody sets LD_LIBRARY_PATH. Installed when this assembly loads.
/// </summary>
public static class GdcmRuntime
{
    /// <summary>The apt command that installs the binding.</summary>
    public const string InstallCommand = "apt-get install libgdcm-cil";

    private const string ManagedName = "gdcm-sharp";
    private const string GlueImportName = "gdcmsharpglue";
    private static readonly Lock Gate = new();
    private static Assembly? _managed;
    private static bool _resolverSet;

    /// <summary>Folder of the binding; <c>EDU_GDCM_DIR</c> overrides the Debian default.</summary>
    public static string Directory { get; } =
        Environment.GetEnvironmentVariable("EDU_GDCM_DIR") is { Length: > 0 } dir ? dir : "/usr/lib/cli/gdcm-sharp-3.0";

    /// <summary>Path of the managed binding.</summary>
    public static string ManagedPath => Path.Combine(Directory, ManagedName + ".dll");

    /// <summary>Path of the native glue.</summary>
    public static string GluePath => Path.Combine(Directory, "lib" + GlueImportName + ".so");

    // A module initializer, because the resolver must be in place before any method of this
    // assembly that names a gdcm type is compiled, whichever entry point a caller uses first.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Install()
    {
        AssemblyLoadContext.Default.Resolving += (context, name) =>
            name.Name == ManagedName ? LoadManaged(context) : null;
    }

    /// <summary>
    /// Loads both parts and returns GDCM's version (e.g. "3.0.21"); throws
    /// <see cref="MissingDependencyException"/> naming the package when either is missing.
    /// </summary>
    public static string EnsureLoaded()
    {
        try
        {
            return ReadVersion();
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or DllNotFoundException
                                  or BadImageFormatException or TypeInitializationException or EntryPointNotFoundException)
        {
            throw Missing(e);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // touching gdcm types must happen inside EnsureLoaded's try
    private static string ReadVersion()
    {
        // GDCM writes warnings about odd files to stderr; our errors say what matters in one line.
        gdcm.Trace.WarningOff();
        gdcm.Trace.DebugOff();
        gdcm.Trace.ErrorOff();
        return gdcm.Version.GetVersion();
    }

    private static Assembly LoadManaged(AssemblyLoadContext context)
    {
        lock (Gate)
        {
            if (_managed is not null) return _managed;
            if (!File.Exists(ManagedPath))
                throw Missing(new FileNotFoundException("not found", ManagedPath));
            _managed = context.LoadFromAssemblyPath(ManagedPath);
            if (!_resolverSet)
            {
                NativeLibrary.SetDllImportResolver(_managed, ResolveGlue);
                _resolverSet = true;
            }
            return _managed;
        }
    }

    private static IntPtr ResolveGlue(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != GlueImportName) return IntPtr.Zero;
        if (!File.Exists(GluePath))
            throw Missing(new DllNotFoundException(GluePath + " not found"));
        return NativeLibrary.Load(GluePath);
    }

    private static MissingDependencyException Missing(Exception cause) =>
        new("GDCM C# binding (libgdcm-cil)", $"{ManagedPath} or {GluePath} does not load ({cause.Message})", InstallCommand, cause);
}
