using System.Collections.Concurrent;

namespace Edu.Worker.Segmentation;

/// <summary>
/// A fixed set of long-lived threads that run the segmentation inferences, one per concurrent segmentation. On
/// a thread-pool thread each request would meet a different thread, and LibTorch's OpenMP keeps one team of
/// helper threads per calling thread: the teams pile up, and a request starts on cold ones. Here they stay warm.
/// </summary>
public sealed class InferenceThreads : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread[] _threads;

    /// <summary>Starts <paramref name="count"/> threads.</summary>
    public InferenceThreads(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _threads = new Thread[count];
        for (int i = 0; i < count; i++)
        {
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"edu-inference-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Runs <paramref name="work"/> on one of the threads; a call cancelled before it starts never runs.</summary>
    public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                result.TrySetCanceled(cancellationToken);
                return;
            }
            try
            {
                result.TrySetResult(work());
            }
            catch (OperationCanceledException e)
            {
                result.TrySetCanceled(e.CancellationToken);
            }
            catch (Exception e)
            {
                result.TrySetException(e);
            }
        }, CancellationToken.None);
        return result.Task;
    }

    private void Loop()
    {
        foreach (var action in _work.GetConsumingEnumerable())
            action();
    }

    /// <summary>Lets the queued work finish, then ends the threads.</summary>
    public void Dispose()
    {
        _work.CompleteAdding();
        foreach (var thread in _threads) thread.Join();
        _work.Dispose();
    }
}
