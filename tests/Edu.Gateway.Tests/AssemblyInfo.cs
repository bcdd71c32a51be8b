// The end-to-end tests each start an Orthanc, a worker (LibTorch threads) and a gateway; on 2 shared cores one class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
