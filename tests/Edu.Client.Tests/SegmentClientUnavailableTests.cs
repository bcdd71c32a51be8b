using System.Diagnostics;
using Edu.V1;
using Grpc.Core;

namespace Edu.Client.Tests;

/// <summary>A worker that is not there: UNAVAILABLE after the few short retries the policy allows, not at the deadline.</summary>
public sealed class SegmentClientUnavailableTests
{
    [Fact]
    public async Task A_worker_that_is_down_fails_fast_with_unavailable_after_the_short_retries()
    {
        string file = Path.GetTempFileName();
        try
        {
            var (channel, invoker) = EduChannel.Open("http://127.0.0.1:9", null); // the discard port: nothing listens
            using (channel)
            {
                var tries = new List<SegmentProgress>();
                var clock = Stopwatch.StartNew();
                var e = await Assert.ThrowsAsync<RpcException>(() => new SegmentClient(invoker).SegmentAsync(new SegmentHeader { Model = "m" }, [file],
                    _ => new MemoryStream(), DateTime.UtcNow.AddMinutes(5), new SyncProgress(tries.Add)));
                Assert.Equal(StatusCode.Unavailable, e.StatusCode);
                Assert.Equal(3, tries.Count(p => p.Stage == "unavailable")); // three more tries, then the answer
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"took {clock.Elapsed}"); // long before the 5-minute deadline

                var none = await Assert.ThrowsAsync<RpcException>(() => new SegmentClient(invoker, SegmentRetryPolicy.None).SegmentAsync(
                    new SegmentHeader { Model = "m" }, [file], _ => new MemoryStream(), DateTime.UtcNow.AddMinutes(5)));
                Assert.Equal(StatusCode.Unavailable, none.StatusCode);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    private sealed class SyncProgress(Action<SegmentProgress> report) : IProgress<SegmentProgress>
    {
        public void Report(SegmentProgress value) => report(value);
    }
}
