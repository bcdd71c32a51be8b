using static TorchSharp.torch;

namespace Edu.Models.Tests;

/// <summary>
/// Test inputs from private generators. LibTorch's global generator belongs to seeded net builds, which other tests
/// run in parallel: drawing from it (or reseeding it) outside ModelCatalogue's lock would change their weights.
/// </summary>
internal static class TestRandom
{
    private static int _next;

    /// <summary>Standard normal values of the given shape.</summary>
    public static Tensor Normal(params long[] shape)
    {
        using var generator = new Generator((ulong)Interlocked.Increment(ref _next));
        return randn(shape, generator: generator);
    }
}
