// LibTorch's default random generator is process-wide and the CPU has two cores: run tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
