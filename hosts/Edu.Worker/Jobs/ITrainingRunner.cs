using Edu.V1;

namespace Edu.Worker.Jobs;

/// <summary>Runs one training job to its end; the scheduler owns queueing, state and the final event.</summary>
public interface ITrainingRunner
{
    /// <summary>Checks a request before it is queued (options valid, target package free); throws what the client must fix.</summary>
    void Check(StartTrainingRequest request);

    /// <summary>
    /// Trains <paramref name="job"/> in <paramref name="runDirectory"/> (which holds a checkpoint to resume from when
    /// the job ran before), reporting started/epoch/checkpoint events through <paramref name="report"/>. Returns the
    /// finished event. Cancellation stops it at the next step; a trainer leaves its last checkpoint behind.
    /// </summary>
    Task<JobFinished> RunAsync(Job job, string runDirectory, Action<JobEvent> report, CancellationToken cancellationToken);
}
