using System.Runtime.InteropServices;

namespace Edu.Models.Runtime;

/// <summary>
/// Turns LibTorch's use of oneDNN (MKL-DNN) for CPU convolutions off or on, at any time in the process, through
/// <c>at::globalContext().setUserEnabledMkldnn(bool)</c>, which <c>libtorch_cpu.so</c> exports (LibTorchSharp wraps
/// no switch of its own). With oneDNN off, ATen's own kernels run: right on every CPU, 2–3× slower at base width ≥ 16.
/// </summary>
public static partial class OneDnnSwitch
{
    private const string Library = "libtorch_cpu.so";

    /// <summary>Whether LibTorch may use oneDNN for CPU operators.</summary>
    public static bool Enabled
    {
        get => UserEnabledMkldnn(GlobalContext());
        set => SetUserEnabledMkldnn(GlobalContext(), value);
    }

    [LibraryImport(Library, EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport(Library, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static partial void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Library, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool UserEnabledMkldnn(IntPtr context);
}
