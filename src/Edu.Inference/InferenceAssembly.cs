namespace Edu.Inference;

/// <summary>Marker for the Edu.Inference assembly (the predictor lands here).</summary>
internal static class InferenceAssembly;
