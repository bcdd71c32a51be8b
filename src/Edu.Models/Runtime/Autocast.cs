using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Edu.Models.Runtime;

/// <summary>
/// LibTorch's automatic mixed precision (<c>torch.autocast</c>) for the calling thread. TorchSharp 0.107 wraps none of it
/// (dotnet/TorchSharp#1235 is an open pull request), but <c>libtorch_cpu.so</c> exports the functions PyTorch's own
/// <c>torch.autocast</c> calls (<c>at::autocast::set_autocast_enabled</c>, <c>set_autocast_dtype</c>, the nesting count and
/// the cast cache), and every TorchSharp operator goes through LibTorch's dispatcher, where the autocast keys act. Inside a
/// scope, convolutions, transposed convolutions and matrix products run in the lower precision (their float32 weights are
/// cast on the fly, inside the autograd graph, so gradients reach the float32 parameters in float32); batch norm keeps its
/// float32 parameters and statistics; the ops on autocast's float32 list (e.g. the Fourier transforms) run in float32.
/// The state is thread-local, like PyTorch's: open and dispose a scope on one thread.
/// </summary>
public static partial class Autocast
{
    private const string Library = "libtorch_cpu.so";

    /// <summary>
    /// Turns autocast on for <paramref name="device"/> in <paramref name="dtype"/> (bfloat16 or float16) on this thread until
    /// the result is disposed, which restores the previous state and, leaving the outermost scope, empties the cache of cast
    /// weights (PyTorch's rule: a cached copy must not outlive the optimizer step that changes its source).
    /// </summary>
    public static IDisposable Enable(DeviceType device, ScalarType dtype)
    {
        if (dtype is not (ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"autocast runs in bfloat16 or float16, not {dtype}", nameof(dtype));
        if (device is not (DeviceType.CPU or DeviceType.CUDA))
            throw new ArgumentException($"autocast is wired for the CPU and CUDA, not {device}", nameof(device));
        var scope = new Scope(device, IsEnabled(device), GetDtype(device));
        SetDtype(device, dtype);
        SetEnabled(device, true);
        IncrementNesting();
        _openScopes++;
        return scope;
    }

    /// <summary>
    /// The calling thread's autocast state on <paramref name="device"/>: null when off, else its dtype. Outside every scope
    /// of this class it is off without asking LibTorch, so float32 work (every forward pass asks, through
    /// <see cref="MemoryFormat.Apply"/>) never depends on the hand-bound entry points below.
    /// </summary>
    public static ScalarType? Current(DeviceType device) => _openScopes > 0 && IsEnabled(device) ? GetDtype(device) : null;

    // scopes opened with Enable and not yet disposed, on this thread (LibTorch's autocast state is thread-local too)
    [ThreadStatic] private static int _openScopes;

    /// <summary>
    /// Restores a state read with <see cref="Current"/> (e.g. a recomputation in the backward pass that must run as its
    /// forward did): a scope when <paramref name="state"/> names a dtype, nothing to undo when it is null.
    /// </summary>
    public static IDisposable? Resume(DeviceType device, ScalarType? state) => state is { } dtype ? Enable(device, dtype) : null;

    private sealed class Scope(DeviceType device, bool wasEnabled, ScalarType previousDtype) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _openScopes--;
            SetDtype(device, previousDtype);
            SetEnabled(device, wasEnabled);
            if (DecrementNesting() == 0) ClearCache();
        }
    }

    private static bool IsEnabled(DeviceType device) => NativeIsEnabled((sbyte)device);

    private static ScalarType GetDtype(DeviceType device) => (ScalarType)NativeGetDtype((sbyte)device);

    private static void SetEnabled(DeviceType device, bool enabled) => NativeSetEnabled((sbyte)device, enabled);

    private static void SetDtype(DeviceType device, ScalarType dtype) => NativeSetDtype((sbyte)device, (sbyte)dtype);

    // c10::DeviceType and c10::ScalarType are int8 enums with the values of TorchSharp's DeviceType and ScalarType.
    [LibraryImport(Library, EntryPoint = "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb")]
    private static partial void NativeSetEnabled(sbyte device, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Library, EntryPoint = "_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool NativeIsEnabled(sbyte device);

    [LibraryImport(Library, EntryPoint = "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE")]
    private static partial void NativeSetDtype(sbyte device, sbyte dtype);

    [LibraryImport(Library, EntryPoint = "_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE")]
    private static partial sbyte NativeGetDtype(sbyte device);

    [LibraryImport(Library, EntryPoint = "_ZN2at8autocast17increment_nestingEv")]
    private static partial int IncrementNesting();

    [LibraryImport(Library, EntryPoint = "_ZN2at8autocast17decrement_nestingEv")]
    private static partial int DecrementNesting();

    [LibraryImport(Library, EntryPoint = "_ZN2at8autocast11clear_cacheEv")]
    private static partial void ClearCache();
}
