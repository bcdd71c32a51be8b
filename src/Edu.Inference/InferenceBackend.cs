using Edu.Abstractions.Errors;

namespace Edu.Inference;

/// <summary>What runs the net's forward pass for a <see cref="Predictor"/>.</summary>
public enum InferenceBackend
{
    /// <summary>TorchSharp/LibTorch, the net itself (default; CPU or CUDA).</summary>
    Torch,

    /// <summary>ONNX Runtime on the CPU, with the net exported to ONNX when the package is loaded (<see cref="OnnxRuntimeNet"/>).</summary>
    OnnxRuntime,
}

/// <summary>Names of <see cref="InferenceBackend"/> as the CLI and configuration spell them.</summary>
public static class InferenceBackends
{
    /// <summary>The accepted names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["torch", "onnxruntime"];

    /// <summary>Parses <c>torch</c> or <c>onnxruntime</c> (case-insensitive); anything else is an <see cref="InvalidInputException"/> naming <paramref name="input"/>.</summary>
    public static InferenceBackend Parse(string? text, string input = "backend") =>
        TryParse(text) ?? throw new InvalidInputException(input, $"'{text}' is not an inference backend: use {string.Join(" or ", Names)}");

    /// <summary><c>torch</c> or <c>onnxruntime</c> (case-insensitive); null for anything else.</summary>
    public static InferenceBackend? TryParse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "torch" => InferenceBackend.Torch,
        "onnxruntime" => InferenceBackend.OnnxRuntime,
        _ => null,
    };

    /// <summary>
    /// Why <paramref name="backend"/> cannot run on <paramref name="device"/> (in bfloat16 when <paramref name="bfloat16"/>), or
    /// null when it can: ONNX Runtime runs float32 on the CPU in this build. The one rule the predictor and the worker's
    /// configuration check share.
    /// </summary>
    public static string? Unsupported(InferenceBackend backend, string device, bool bfloat16)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (backend != InferenceBackend.OnnxRuntime) return null;
        if (bfloat16) return "onnxruntime runs float32 in this build; bfloat16 needs the torch backend";
        return device.Trim().Equals("cpu", StringComparison.OrdinalIgnoreCase) ? null
            : $"onnxruntime runs on the CPU in this build; device {device} needs the torch backend";
    }

    /// <summary>The name of <paramref name="backend"/>.</summary>
    public static string Name(this InferenceBackend backend) => backend == InferenceBackend.OnnxRuntime ? "onnxruntime" : "torch";
}
