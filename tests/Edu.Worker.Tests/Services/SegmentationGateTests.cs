using Edu.Worker.Configuration;
using Edu.Worker.Errors;
using Edu.Worker.Metrics;
using Edu.Worker.Segmentation;
using Microsoft.Extensions.Options;

namespace Edu.Worker.Tests.Services;

/// <summary>The admission policy of <see cref="SegmentationGate"/> on its own, with requests that hold their slot for a set time.</summary>
public sealed class SegmentationGateTests
{
    private static SegmentationGate Gate(double waitSeconds, int queue = 8) => new(
        Options.Create(new WorkerOptions { SegmentationConcurrency = 1, SegmentationQueue = queue, SegmentationQueueWaitSeconds = waitSeconds, RetryAfterMs = 0 }),
        new WorkerMetrics(Prometheus.Metrics.NewCustomRegistry()));

    private static async Task ServeAsync(SegmentationGate gate, string model, TimeSpan hold)
    {
        using var admission = gate.Admit(model);
        await admission.WaitForSlotAsync(CancellationToken.None);
        await Task.Delay(hold);
        admission.Complete();
    }

    [Fact]
    public async Task A_slow_model_makes_the_next_in_line_wait_for_it_and_refuses_the_one_behind_with_the_excess_as_hint()
    {
        var gate = Gate(waitSeconds: 0.3);
        await ServeAsync(gate, "ct/1", TimeSpan.FromMilliseconds(600)); // measured: about 0.6 s per CT

        using var first = gate.Admit("ct/1");
        await first.WaitForSlotAsync(CancellationToken.None); // running
        // next in line: admitted although the CT ahead needs longer than the wait limit, and it waits past the limit for its slot
        using var second = gate.Admit("ct/1");
        var secondSlot = second.WaitForSlotAsync(CancellationToken.None);
        // behind it: refused at once, the hint being the expected wait beyond the limit (about 0.6 + 0.6 − 0.3 s)
        var refused = Assert.Throws<WorkerBusyException>(() => gate.Admit("ct/1"));
        Assert.Equal(WorkerBusyException.WaitLimit, refused.Reason);
        Assert.InRange(refused.RetryAfterMs!.Value, 300, 1200);

        await Task.Delay(500); // longer than the wait limit: the next in line keeps its place
        Assert.False(secondSlot.IsCompleted);
        first.Complete();
        await secondSlot.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, gate.Running);
    }

    [Fact]
    public async Task A_fast_model_is_not_refused_because_a_slow_one_was_measured()
    {
        var gate = Gate(waitSeconds: 0.5);
        await ServeAsync(gate, "ct/1", TimeSpan.FromMilliseconds(800));
        await ServeAsync(gate, "xray/1", TimeSpan.FromMilliseconds(5));

        using var running = gate.Admit("xray/1");
        await running.WaitForSlotAsync(CancellationToken.None);
        // three X-rays ahead cost milliseconds by their own measurement, not the CT's 0.8 s each
        var queued = Enumerable.Range(0, 3).Select(_ => gate.Admit("xray/1")).ToList();
        using var fourth = gate.Admit("xray/1");
        Assert.Equal(5, gate.Admitted);
        foreach (var a in queued) a.Dispose();
    }

    [Fact]
    public void Before_anything_is_measured_the_hint_is_the_configured_one_kept_at_50_ms_or_more()
    {
        var gate = Gate(waitSeconds: 30, queue: 0);
        using var holder = gate.Admit("xr/1");
        var busy = Assert.Throws<WorkerBusyException>(() => gate.Admit("xr/1"));
        Assert.Equal(WorkerBusyException.QueueFull, busy.Reason);
        Assert.Equal(50, busy.RetryAfterMs); // Worker:RetryAfterMs = 0 would make clients spin
    }
}
