using Edu.Gateway.Routing;
using Edu.Gateway.State;

namespace Edu.Gateway.Tests;

public sealed class GatewayStateStoreTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edu-gateway-state-").FullName;
    private long _now = 1_000_000;
    private static readonly RouteRule Lung = new() { Name = "lung", Model = "lung", Version = "2" };
    private static readonly SeriesFacts Ct = new("1.2.3", "1.2.3.4", "CT");

    private string StateFile => Path.Combine(_folder, "gateway.db");

    private GatewayStateStore Open() => new(StateFile, () => _now);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_series_goes_received_routed_segmenting_stored_once_quiet()
    {
        using var store = Open();
        var row = store.Receive(Ct);
        _now += 5_000;
        store.Receive(Ct); // more instances: the quiet time starts again
        Assert.Equal(SeriesState.Received, row.State);
        Assert.Empty(store.QuietSeries(TimeSpan.FromSeconds(10)));
        _now += 10_000;
        var quiet = Assert.Single(store.QuietSeries(TimeSpan.FromSeconds(10)));
        Assert.Equal(SeriesState.Routed, store.Route(quiet.Id, new RouteDecision(Lung, null)).State);
        var claimed = store.ClaimNext()!;
        Assert.Equal((SeriesState.Segmenting, 1, "lung", "2"), (claimed.State, claimed.Attempts, claimed.Model, claimed.Version));
        Assert.Null(store.ClaimNext());
        Assert.Equal(SeriesState.Stored, store.MarkStored(claimed.Id, "2.25.1").State);
    }

    [Fact]
    public void A_stored_series_that_arrives_again_is_not_sent_again_for_the_same_model_and_version()
    {
        using var store = Open();
        var first = store.Route(store.Receive(Ct).Id, new RouteDecision(Lung, null));
        store.MarkStored(store.ClaimNext()!.Id, "2.25.1");
        var again = store.Route(store.Receive(Ct).Id, new RouteDecision(Lung, null));
        Assert.Equal((first.Id, SeriesState.Stored), (again.Id, again.State));
        Assert.Null(store.ClaimNext());
        Assert.Single(store.List());
        // another version of the model is new work
        var v3 = store.Route(store.Receive(Ct).Id, new RouteDecision(Lung with { Version = "3" }, null));
        Assert.Equal(SeriesState.Routed, v3.State);
    }

    [Fact]
    public void Failures_retry_after_the_delay_then_go_to_the_dead_letters_and_come_back_on_retry()
    {
        using var store = Open();
        store.Route(store.Receive(Ct).Id, new RouteDecision(Lung, null));
        for (int attempt = 1; attempt <= 3; attempt++)
        {
            var claimed = store.ClaimNext()!;
            Assert.Equal(attempt, claimed.Attempts);
            var failed = store.MarkFailed(claimed.Id, $"worker unavailable ({attempt})", maxAttempts: 3, TimeSpan.FromSeconds(30));
            if (attempt < 3)
            {
                Assert.Equal(SeriesState.Failed, failed.State);
                Assert.Null(store.ClaimNext()); // not before the delay
                _now += 30_000;
            }
            else Assert.Equal((SeriesState.DeadLetter, "worker unavailable (3)"), (failed.State, failed.LastError));
        }
        _now += 60_000;
        Assert.Null(store.ClaimNext());
        Assert.Equal(1, store.Counts()[SeriesState.DeadLetter]);
        Assert.Equal(1, store.Retry("1.2.3.4"));
        Assert.Equal(1, store.ClaimNext()!.Attempts);
    }

    [Fact]
    public void A_permanent_error_goes_to_the_dead_letters_at_once()
    {
        using var store = Open();
        store.Route(store.Receive(Ct).Id, new RouteDecision(Lung, null));
        var failed = store.MarkFailed(store.ClaimNext()!.Id, "no such model", maxAttempts: 5, TimeSpan.FromSeconds(1), permanent: true);
        Assert.Equal(SeriesState.DeadLetter, failed.State);
    }

    [Fact]
    public void After_a_restart_a_series_left_segmenting_is_routed_again_with_its_attempt_counted()
    {
        long id;
        using (var store = Open())
        {
            store.Route(store.Receive(Ct).Id, new RouteDecision(Lung, null));
            id = store.ClaimNext()!.Id;
        } // the process dies here: no MarkStored, no MarkFailed
        using (var reopened = Open())
        {
            Assert.Equal(SeriesState.Segmenting, reopened.List().Single().State);
            Assert.Equal(1, reopened.RecoverInterrupted());
            var again = reopened.ClaimNext()!;
            Assert.Equal((id, 2), (again.Id, again.Attempts));
            Assert.Contains("interrupted", again.LastError);
        }
    }

    [Fact]
    public void A_skipped_series_keeps_its_reason_and_is_routed_anew_when_it_arrives_again()
    {
        using var store = Open();
        var skipped = store.Route(store.Receive(Ct).Id, new RouteDecision(null, "no rule matches"));
        Assert.Equal((SeriesState.Skipped, "no rule matches"), (skipped.State, skipped.LastError));
        var again = store.Receive(Ct);
        Assert.Equal((skipped.Id, SeriesState.Received), (again.Id, again.State));
    }

    [Fact]
    public void Only_a_claimed_series_can_finish()
    {
        using var store = Open();
        var routed = store.Route(store.Receive(Ct).Id, new RouteDecision(Lung, null));
        Assert.Throws<InvalidOperationException>(() => store.MarkStored(routed.Id, "2.25.1"));
    }

    [Fact]
    public void A_recorded_SEG_survives_a_failed_export_and_a_restart_and_a_stored_row_drops_its_file()
    {
        long id;
        using (var store = Open())
        {
            id = store.Route(store.Receive(Ct).Id, new RouteDecision(Lung, null)).Id;
            store.ClaimNext();
            store.RecordSeg(id, "/spool/work/1/output/segmentation.dcm", "2.25.42");
            var failed = store.MarkFailed(id, "PACS: refused", maxAttempts: 5, TimeSpan.Zero);
            Assert.Equal((SeriesState.Failed, "/spool/work/1/output/segmentation.dcm", "2.25.42"), (failed.State, failed.SegFile, failed.SegInstanceUid));
        }
        using var reopened = Open();
        var again = reopened.ClaimNext()!;
        Assert.Equal(("/spool/work/1/output/segmentation.dcm", "2.25.42"), (again.SegFile, again.SegInstanceUid));
        var stored = reopened.MarkStored(id, again.SegInstanceUid, """{"FetchSeconds":1}""");
        Assert.Equal((SeriesState.Stored, "", "2.25.42", """{"FetchSeconds":1}"""), (stored.State, stored.SegFile, stored.SegInstanceUid, stored.TimingsJson));
    }

    [Fact]
    public void A_series_its_source_calls_complete_is_routed_without_the_quiet_time_and_cursors_are_kept()
    {
        using (var store = Open())
        {
            store.Receive(Ct, complete: true);
            store.Receive(Ct with { SeriesInstanceUid = "1.2.3.5" }, localFolder: "/spool/series/1.2.3.5");
            var quiet = Assert.Single(store.QuietSeries(TimeSpan.FromMinutes(5)));
            Assert.Equal(Ct.SeriesInstanceUid, quiet.SeriesInstanceUid);
            Assert.Equal("/spool/series/1.2.3.5", store.List().Single(r => r.SeriesInstanceUid == "1.2.3.5").LocalFolder);
            Assert.Null(store.GetCursor("orthanc-changes"));
            store.SetCursor("orthanc-changes", "41");
            store.SetCursor("orthanc-changes", "42");
        }
        using var reopened = Open();
        Assert.Equal("42", reopened.GetCursor("orthanc-changes"));
    }
}
