using Edu.Abstractions.Errors;
using TorchSharp;

namespace Edu.Models.Runtime;

/// <summary>Parses and checks the <c>--device</c> values users give: <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>.</summary>
public static class DeviceSpec
{
    /// <summary>
    /// Returns the TorchSharp device for <paramref name="spec"/>; an unknown spec, or CUDA where
    /// the backend has none, is an <see cref="InvalidInputException"/> naming the option.
    /// </summary>
    public static torch.Device Parse(string spec, string optionName = "--device")
    {
        ArgumentNullException.ThrowIfNull(spec);
        string s = spec.Trim().ToLowerInvariant();
        if (s == "cpu") return torch.CPU;
        if (s == "cuda" || s.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (s.Length > 5 && !int.TryParse(s.AsSpan(5), out index) || index < 0)
                throw new InvalidInputException(optionName, $"'{spec}' is not a device: use cpu, cuda or cuda:N");
            if (!TorchRuntime.CudaAvailable())
                throw new InvalidInputException(optionName, $"'{spec}' asked for CUDA, but this build's LibTorch has no usable CUDA device (see `edu doctor`)");
            int count = torch.cuda.device_count();
            if (index >= count)
                throw new InvalidInputException(optionName, $"'{spec}': only {count} CUDA device(s) present");
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new InvalidInputException(optionName, $"'{spec}' is not a device: use cpu, cuda or cuda:N");
    }
}
