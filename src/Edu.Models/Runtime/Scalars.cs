using System.Collections.Concurrent;
using TorchSharp;

namespace Edu.Models.Runtime;

/// <summary>
/// Native scalars that live as long as the process, for arithmetic between a tensor and a constant on the hot paths
/// (every forward pass, every validation window). TorchSharp 0.107 turns a C# number into a native <see cref="Scalar"/>
/// that only its finalizer frees, and does not keep it alive across the native call it is passed to. A garbage
/// collection in that window, frequent while the data loader's threads allocate, frees it under LibTorch, which then
/// reads freed memory: training died now and then with "Unknown scalar type" or "For integral input tensors, argument
/// alpha must not be a floating point number" (reproduced with a stack into MDE's fused kernel; dotnet/TorchSharp#1434
/// and #1496 are about these implicit scalars). Only for constants: every distinct value is kept.
/// </summary>
public static class Scalars
{
    private static readonly ConcurrentDictionary<double, Scalar> Cache = new();

    /// <summary>1, e.g. as the <c>alpha</c> of an in-place add.</summary>
    public static Scalar One { get; } = Of(1);

    /// <summary>The integer 1, for counters held in integer tensors (a floating-point scalar cannot be added to those in place).</summary>
    public static Scalar IntegerOne { get; } = 1L.ToScalar();

    /// <summary>The process-wide native scalar for the constant <paramref name="value"/>.</summary>
    public static Scalar Of(double value) => Cache.GetOrAdd(value, v => (Scalar)v);
}
