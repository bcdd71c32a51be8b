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
    public static InferenceBackend Parse(string? text, string input = "backend") => text?.Trim().ToLowerInvariant() switch
    {
        "torch" => InferenceBackend.Torch,
        "onnxruntime" => InferenceBackend.OnnxRuntime,
        _ => throw new InvalidInputException(input, $"'{text}' is not an inference backend: use {string.Join(" or ", Names)}"),
    };

    /// <summary>The name of <paramref name="backend"/>.</summary>
    public static string Name(this InferenceBackend backend) => backend == InferenceBackend.OnnxRuntime ? "onnxruntime" : "torch";
}
