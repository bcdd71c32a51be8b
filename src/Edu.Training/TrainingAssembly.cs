namespace Edu.Training;

/// <summary>Marker for the Edu.Training assembly (datasets, losses, metrics, trainer land here).</summary>
internal static class TrainingAssembly;
