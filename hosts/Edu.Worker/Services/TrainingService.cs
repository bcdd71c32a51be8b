using Edu.Abstractions.Errors;
using Edu.V1;
using Edu.Worker.Datasets;
using Edu.Worker.Errors;
using Edu.Worker.Jobs;
using Grpc.Core;

namespace Edu.Worker.Services;

/// <summary><c>edu.v1.TrainingService</c>: datasets through <see cref="DatasetStore"/>, jobs through <see cref="JobScheduler"/> and <see cref="IJobStore"/>.</summary>
public sealed class TrainingService : Edu.V1.TrainingService.TrainingServiceBase
{
    private readonly DatasetStore _datasets;
    private readonly JobScheduler _scheduler;
    private readonly IJobStore _store;
    private readonly JobEventHub _hub;
    private readonly ITrainingRunner _runner;

    /// <summary>Creates the service.</summary>
    public TrainingService(DatasetStore datasets, JobScheduler scheduler, IJobStore store, JobEventHub hub, ITrainingRunner runner)
    {
        _runner = runner;
        _datasets = datasets;
        _scheduler = scheduler;
        _store = store;
        _hub = hub;
    }

    /// <inheritdoc />
    public override Task<UploadDatasetResponse> UploadDataset(IAsyncStreamReader<UploadDatasetRequest> requestStream, ServerCallContext context) =>
        _datasets.UploadAsync(requestStream, context.CancellationToken);

    /// <inheritdoc />
    public override Task<Job> StartTraining(StartTrainingRequest request, ServerCallContext context)
    {
        _datasets.Resolve(request.Dataset);
        if (string.IsNullOrWhiteSpace(request.ModelName))
            throw new InvalidInputException("model_name", "name the model package the job produces");
        if (request.Epochs < 0 || request.BatchSize < 0 || request.PatchSize < 0 || request.BaseChannels < 0 || request.LearningRate < 0)
            throw new InvalidInputException("request", "epochs, batch_size, patch_size, base_channels and learning_rate cannot be negative (0 means the default)");
        _runner.Check(request);
        return Task.FromResult(_scheduler.Enqueue(request));
    }

    /// <inheritdoc />
    public override async Task WatchJob(WatchJobRequest request, IServerStreamWriter<JobEvent> responseStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        _ = Get(request.JobId);
        long last = request.AfterSequence;
        while (true)
        {
            foreach (var e in _store.Events(request.JobId, last))
            {
                await responseStream.WriteAsync(e, ct).ConfigureAwait(false);
                last = e.Sequence;
                if (e.EventCase is JobEvent.EventOneofCase.Finished or JobEvent.EventOneofCase.Failed or JobEvent.EventOneofCase.Cancelled)
                    return;
            }
            var job = Get(request.JobId);
            if ((job.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled) && _store.Events(request.JobId, last).Count == 0)
                return;
            if (_scheduler.Stopping.IsCancellationRequested)
                throw new RpcException(new Status(StatusCode.Unavailable, "the worker is shutting down; the job resumes when it restarts: watch again then"));
            await _hub.WaitAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
        }
    }

    /// <inheritdoc />
    public override Task<Job> CancelJob(JobRequest request, ServerCallContext context) =>
        Task.FromResult(_scheduler.Cancel(request.JobId, "cancelled by a client"));

    /// <inheritdoc />
    public override Task<Job> GetJob(JobRequest request, ServerCallContext context) => Task.FromResult(Get(request.JobId));

    /// <inheritdoc />
    public override Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        if (request.Limit < 0) throw new InvalidInputException("limit", "cannot be negative");
        var response = new ListJobsResponse();
        response.Jobs.AddRange(_store.List([.. request.States], request.Limit == 0 ? 100 : Math.Min(request.Limit, 10_000)));
        return Task.FromResult(response);
    }

    private Job Get(string id)
    {
        if (string.IsNullOrWhiteSpace(id)) throw new InvalidInputException("job_id", "no job id given");
        return _store.Find(id) ?? throw new NotFoundException($"job '{id}'");
    }
}
