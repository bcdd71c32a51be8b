using Edu.Worker.Segmentation;

namespace Edu.Worker.Tests;

public sealed class InferenceThreadsTests
{
    [Fact]
    public async Task Work_runs_on_the_same_few_long_lived_threads_and_results_and_errors_come_back()
    {
        using var threads = new InferenceThreads(2);
        var names = new HashSet<string>();
        for (int i = 0; i < 20; i++)
        {
            string name = await threads.RunAsync(() => Thread.CurrentThread.Name!, CancellationToken.None);
            names.Add(name);
        }
        Assert.Subset(new HashSet<string> { "edu-inference-0", "edu-inference-1" }, names);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => threads.RunAsync<int>(() => throw new InvalidOperationException("boom"), CancellationToken.None));
        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public async Task A_call_cancelled_while_it_waits_never_runs()
    {
        using var threads = new InferenceThreads(1);
        using var release = new ManualResetEventSlim();
        var busy = threads.RunAsync(() => release.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None);
        using var cts = new CancellationTokenSource();
        bool ran = false;
        var waiting = threads.RunAsync(() => ran = true, cts.Token);
        await cts.CancelAsync();
        release.Set();
        Assert.True(await busy);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.False(ran);
    }
}
