using System.Text.Json.Serialization;

namespace Edu.Models.Benchmarks;

/// <summary>One train-step benchmark: times per step after warm-up, and peak memory; <c>precision</c> is fp32, bf16 or fp16, <c>skipped_steps</c> the float16 steps loss scaling skipped.</summary>
public sealed record BenchResult(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("dims")] int Dims,
    [property: JsonPropertyName("batch")] int Batch,
    [property: JsonPropertyName("size")] int Size,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("parameters")] long Parameters,
    [property: JsonPropertyName("median_ms")] double MedianMs,
    [property: JsonPropertyName("min_ms")] double MinMs,
    [property: JsonPropertyName("max_ms")] double MaxMs,
    [property: JsonPropertyName("peak_rss_mb")] double PeakRssMb,
    [property: JsonPropertyName("peak_device_mb")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? PeakDeviceMb = null,
    [property: JsonPropertyName("memory_format")] string MemoryFormat = "",
    [property: JsonPropertyName("numerics")] string Numerics = "",
    [property: JsonPropertyName("cpu")] string Cpu = "",
    [property: JsonPropertyName("losses")] IReadOnlyList<float>? Losses = null,
    [property: JsonPropertyName("precision")] string Precision = "fp32",
    [property: JsonPropertyName("skipped_steps")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? SkippedSteps = null);
