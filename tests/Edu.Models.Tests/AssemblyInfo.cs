// LibTorch's default random generator is process-wide: tests that seed it must not interleave with
// tests that draw from it, and the CPU has two cores anyway.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
