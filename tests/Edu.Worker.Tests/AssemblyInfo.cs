// Each test starts its own worker (Kestrel, LibTorch threads); on 2 shared cores they run one class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
