namespace Edu.Models.Runtime;

/// <summary>The arithmetic a training step runs in (<c>--precision</c>); the parameters and optimizer state stay float32 in every one.</summary>
public enum TrainingPrecision
{
    /// <summary><c>fp32</c>: everything in float32 (the default).</summary>
    Float32,

    /// <summary><c>bf16</c>: the forward pass under autocast in bfloat16 (convolutions in bfloat16, batch norm and loss in float32); no loss scaling.</summary>
    BFloat16,

    /// <summary><c>fp16</c>: the forward pass under autocast in float16, with dynamic loss scaling (<see cref="LossScaler"/>).</summary>
    Float16,
}
