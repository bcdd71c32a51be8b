using System.Diagnostics;
using System.Text.Json;
using Edu.Dicom.Tests;
using Edu.Gateway.Processing;
using Edu.Gateway.Routing;
using Edu.Gateway.State;
using Microsoft.Extensions.DependencyInjection;

namespace Edu.Gateway.Tests.EndToEnd;

/// <summary>
/// The gateway end to end on loopback: a CT series sent by C-STORE reaches the worker, and its DICOM SEG lands in the
/// same study of a real Orthanc; the faults a hospital sees (worker down, gateway killed, PACS refusing) lose nothing
/// and double nothing.
/// </summary>
public sealed class GatewayEndToEndTests
{
    private static string[] CtSeries => Directory.GetFiles(TestFiles.Series("98892001", "CT5N")).Order(StringComparer.Ordinal).ToArray();

    private static string StudyUid => Edu.Dicom.DicomStructure.Validate(CtSeries[0]).Text[0x0020000D];

    private static string SeriesUid => Edu.Dicom.DicomStructure.Validate(CtSeries[0]).Text[0x0020000E];

    [Fact]
    public async Task A_series_sent_to_Orthanc_is_segmented_and_its_SEG_stored_back_by_C_STORE_into_the_same_study()
    {
        await using var rig = GatewayRig.Create();
        await rig.StartWorkerAsync();
        await rig.StartGatewayAsync(rig.Settings("cstore", orthancFeed: true, storeScp: false));

        await GatewayRig.StoreScuAsync("EDU", "ORTHANC", rig.Orthanc.DicomPort, CtSeries);

        await rig.WaitForAsync(s => s.List(SeriesState.Stored).Count == 1, "the SEG stored");
        var segs = await rig.SegSeriesAsync(StudyUid);
        var (segSeries, instances) = Assert.Single(segs);
        Assert.Equal(1, instances);
        await AssertSegMatchesLabelsAsync(rig, segSeries);

        // Orthanc reports the SEG series as a new stable series too: the gateway records it and never segments it
        await rig.WaitForAsync(s => s.List(SeriesState.Skipped).Any(r => r.SeriesInstanceUid == segSeries), "our own SEG skipped");
        using var state = rig.OpenState();
        Assert.Contains("not an image", state.List(SeriesState.Skipped).Single().LastError, StringComparison.Ordinal);
        var stored = state.List(SeriesState.Stored).Single();
        var timings = JsonSerializer.Deserialize<SeriesTimings>(stored.TimingsJson)!;
        Assert.True(timings.FetchSeconds > 0 && timings.SegmentSeconds > 0 && timings.ExportSeconds > 0, stored.TimingsJson);

        // health and metrics on the gateway's HTTP endpoint
        using var http = new HttpClient { BaseAddress = new Uri(Edu.Gateway.Host.GatewayHost.Addresses(rig.Gateway).First()) };
        using var health = JsonDocument.Parse(await http.GetStringAsync("/healthz"));
        Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
        Assert.Equal(1, health.RootElement.GetProperty("series").GetProperty("stored").GetInt32());
        string metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("edu_gateway_series{state=\"stored\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("edu_gateway_stored_seconds_count 1", metrics, StringComparison.Ordinal);
        Assert.Contains("edu_gateway_stage_seconds_count{stage=\"segment\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_series_sent_to_the_gateway_s_own_SCP_is_stored_by_STOW_and_what_is_not_a_routed_image_is_recorded_and_skipped()
    {
        await using var rig = GatewayRig.Create();
        await rig.StartWorkerAsync();
        await rig.StartGatewayAsync(rig.Settings("stow", orthancFeed: false, storeScp: true));

        await GatewayRig.StoreScuAsync("SCANNER1", "EDUGW", rig.ScpPort, CtSeries);
        await GatewayRig.StoreScuAsync("SCANNER1", "EDUGW", rig.ScpPort, [TestFiles.Dicom("MR_small.dcm")]); // an MR: no rule
        await GatewayRig.StoreScuAsync("SCANNER1", "EDUGW", rig.ScpPort, [TestFiles.Dicom("reportsi.dcm")]); // a structured report

        await rig.WaitForAsync(s => s.List(SeriesState.Stored).Count == 1 && s.List(SeriesState.Skipped).Count == 2, "one SEG stored, two series skipped");
        var (segSeries, _) = Assert.Single(await rig.SegSeriesAsync(StudyUid));
        await AssertSegMatchesLabelsAsync(rig, segSeries);
        using var state = rig.OpenState();
        var skipped = state.List(SeriesState.Skipped).Select(r => r.LastError).Order().ToList();
        Assert.Equal("no rule matches", skipped[0]);
        Assert.StartsWith("not an image", skipped[1], StringComparison.Ordinal);
        var stored = state.List(SeriesState.Stored).Single();
        Assert.Equal("SCANNER1", JsonSerializer.Deserialize<SeriesFacts>(stored.FactsJson)!.CallingAeTitle);
        Assert.False(Directory.Exists(Path.Combine(rig.DataPath, "series", SeriesUid)), "the received files are removed once the SEG is stored");
    }

    [Fact]
    public async Task A_series_found_by_QIDO_RS_polling_is_stored_and_what_was_in_the_PACS_before_the_first_poll_is_left_alone()
    {
        await using var rig = GatewayRig.Create();
        await rig.StartWorkerAsync();
        string[] before = Directory.GetFiles(TestFiles.Series("98892001", "CT2N")).Order(StringComparer.Ordinal).ToArray();
        await GatewayRig.StoreScuAsync("EDU", "ORTHANC", rig.Orthanc.DicomPort, before); // in the PACS before the gateway's first poll
        var settings = rig.Settings("stow", orthancFeed: false, storeScp: false);
        settings["Gateway:Pacs:QidoPollSeconds"] = "0.5";
        settings["Gateway:Pacs:QidoFilters:Modality"] = "CT";
        await rig.StartGatewayAsync(settings);
        await rig.WaitForAsync(s => s.GetCursor("qido-initialized") is not null, "the first poll");

        await GatewayRig.StoreScuAsync("EDU", "ORTHANC", rig.Orthanc.DicomPort, CtSeries);

        await rig.WaitForAsync(s => s.List(SeriesState.Stored).Count == 1, "the SEG stored");
        using var state = rig.OpenState();
        Assert.Equal(SeriesUid, state.List(SeriesState.Stored).Single().SeriesInstanceUid);
        string earlier = Edu.Dicom.DicomStructure.Validate(before[0]).Text[0x0020000E];
        Assert.DoesNotContain(state.List(), r => r.SeriesInstanceUid == earlier);
        var (segSeries, _) = Assert.Single(await rig.SegSeriesAsync(StudyUid));
        await AssertSegMatchesLabelsAsync(rig, segSeries);
    }

    [Fact]
    public async Task A_series_that_arrives_while_the_worker_is_down_is_retried_and_stored_once_the_worker_is_back()
    {
        await using var rig = GatewayRig.Create();
        await rig.StartGatewayAsync(rig.Settings("stow", orthancFeed: false, storeScp: true));

        await GatewayRig.StoreScuAsync("SCANNER1", "EDUGW", rig.ScpPort, CtSeries);
        await rig.WaitForAsync(s => s.List().Any(r => r.Attempts >= 2 && r.LastError.Contains("Unavailable", StringComparison.Ordinal)),
            "attempts failing with the worker unavailable");
        await rig.StartWorkerAsync();

        await rig.WaitForAsync(s => s.List(SeriesState.Stored).Count == 1, "the SEG stored once the worker is back");
        Assert.Single(await rig.SegSeriesAsync(StudyUid));
    }

    [Fact]
    public async Task A_gateway_killed_with_SIGKILL_mid_series_finishes_it_after_a_restart_with_one_SEG_in_Orthanc()
    {
        await using var rig = GatewayRig.Create();
        await rig.StartWorkerAsync();
        var settings = rig.Settings("stow", orthancFeed: true, storeScp: false);
        rig.StartGatewayProcess(settings);
        await rig.WaitForAsync(_ => true, "the gateway's state file");
        await Task.Delay(1000); // its change feed position taken: the series below is new to it

        await GatewayRig.StoreScuAsync("EDU", "ORTHANC", rig.Orthanc.DicomPort, CtSeries);
        await rig.WaitForAsync(s => s.List(SeriesState.Segmenting).Count == 1, "the series being segmented", pollMs: 10);
        rig.KillGatewayProcess();
        using (var state = rig.OpenState())
            Assert.Empty(state.List(SeriesState.Stored)); // killed before the SEG was recorded as stored

        rig.StartGatewayProcess(settings);
        await rig.WaitForAsync(s => s.List(SeriesState.Stored).Count == 1, "the SEG stored after the restart");
        var (segSeries, instances) = Assert.Single(await rig.SegSeriesAsync(StudyUid));
        Assert.Equal(1, instances);
        using var after = rig.OpenState();
        var row = after.List(SeriesState.Stored).Single();
        Assert.True(row.Attempts >= 2, $"attempts {row.Attempts}");
        // the restarted gateway read the change feed on from its kept position: it sees its own SEG and skips it
        await rig.WaitForAsync(s => s.List(SeriesState.Skipped).Any(r => r.SeriesInstanceUid == segSeries), "its own SEG skipped");
    }

    [Fact]
    public async Task An_export_the_PACS_drops_fails_and_a_retry_stores_the_same_SEG_without_segmenting_again()
    {
        // Orthanc refuses every SEG while the flag file exists (a Lua ReceivedInstanceFilter, the hook Orthanc offers for this)
        string flag = Path.Combine(Path.GetTempPath(), $"edu-refuse-seg-{Guid.NewGuid():N}");
        File.WriteAllText(flag, "");
        string lua = $$"""
            function ReceivedInstanceFilter(dicom, origin, info)
              if dicom.Modality == 'SEG' then
                local f = io.open('{{flag}}', 'r')
                if f ~= nil then f:close() return false end
              end
              return true
            end
            """;
        await using var rig = GatewayRig.Create(lua);
        await rig.StartWorkerAsync();
        var counting = new CountingSegmenter();
        var settings = rig.Settings("stow", orthancFeed: false, storeScp: true);
        settings["Gateway:MaxAttempts"] = "2";
        await rig.StartGatewayAsync(settings,
            services => services.AddSingleton<ISeriesSegmenter>(sp => counting.Wrap(new WorkerSegmenter(sp.GetRequiredService<GatewayOptions>().Worker))));

        await GatewayRig.StoreScuAsync("SCANNER1", "EDUGW", rig.ScpPort, CtSeries);
        await rig.WaitForAsync(st => st.List(SeriesState.DeadLetter).Count == 1, "the series dead-lettered after two refused exports");
        string firstSeg;
        using (var state = rig.OpenState())
        {
            var row = state.List(SeriesState.DeadLetter).Single();
            // Orthanc's DICOMweb plugin answers the STOW with success for the instance its filter dropped; the gateway asks
            // QIDO-RS whether the SEG is there, and it is not
            Assert.Contains("does not hold the SEG", row.LastError, StringComparison.Ordinal);
            firstSeg = row.SegInstanceUid;
            Assert.NotEmpty(firstSeg);
            File.Delete(flag);
            Assert.Equal(1, state.Retry(SeriesUid)); // what `edu gateway retry` does
        }

        await rig.WaitForAsync(st => st.List(SeriesState.Stored).Count == 1, "the SEG stored after the retry");
        using var final = rig.OpenState();
        Assert.Equal(firstSeg, final.List(SeriesState.Stored).Single().SegInstanceUid);
        Assert.Equal(1, counting.Calls); // segmented once; every later attempt exported the kept SEG
        Assert.Single(await rig.SegSeriesAsync(StudyUid));
    }

    // The SEG in Orthanc: valid for dciodvfy, and per slice exactly the voxels the worker's own label volume (the NIfTI the
    // rule also writes) holds, as pydicom decodes the frames.
    private static async Task AssertSegMatchesLabelsAsync(GatewayRig rig, string segSeries)
    {
        string folder = Path.Combine(rig.Folder, "seg-" + Guid.NewGuid().ToString("N"));
        var files = await rig.Pacs.RetrieveSeriesAsync(StudyUid, segSeries, folder);
        string seg = Assert.Single(files);
        var (_, dciodvfy) = await StorageScpTests.RunAsync("dciodvfy", [seg]);
        Assert.True(!dciodvfy.Split('\n').Any(l => l.StartsWith("Error", StringComparison.Ordinal)), "dciodvfy:\n" + dciodvfy);

        var labels = Edu.Imaging.ImageReaderRegistry.CreateDefault().Read(Path.Combine(rig.NiftiFolder, $"{SeriesUid}_seg.nii.gz"));
        var (exit, json) = await StorageScpTests.RunAsync("/usr/bin/python3", ["-c", DecodeScript, seg]);
        Assert.True(exit == 0, "pydicom:\n" + json);
        using var decoded = JsonDocument.Parse(json);
        Assert.Equal(StudyUid, decoded.RootElement.GetProperty("study_uid").GetString());
        var g = labels.Geometry;
        int nx = g.Size.X, ny = g.Size.Y, nz = g.Size.Z;
        var fromSeg = new HashSet<long>();
        foreach (var frame in decoded.RootElement.GetProperty("frames").EnumerateArray())
        {
            var p = frame.GetProperty("position").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            double dz = 0; // slice index along the volume's third axis
            for (int i = 0; i < 3; i++) dz += (p[i] - g.Origin[i]) * g.Direction[i * 3 + 2];
            int z = (int)Math.Round(dz / g.Spacing[2]);
            Assert.InRange(z, 0, nz - 1);
            foreach (var one in frame.GetProperty("ones").EnumerateArray()) fromSeg.Add((long)z * nx * ny + one.GetInt64());
        }
        var fromLabels = Enumerable.Range(0, nx * ny * nz).Where(i => labels.Voxels[i] == 1).Select(i => (long)i).ToHashSet();
        Assert.True(fromLabels.SetEquals(fromSeg), $"SEG frames hold {fromSeg.Count} voxels, the label volume {fromLabels.Count}");
        Assert.InRange(fromLabels.Count, 1, nx * ny * nz - 1); // neither empty nor full: the comparison means something
    }

    private const string DecodeScript = """
        import json, sys, pydicom
        ds = pydicom.dcmread(sys.argv[1])
        px = ds.pixel_array.reshape(int(ds.NumberOfFrames), ds.Rows * ds.Columns)
        frames = [{'position': [float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient], 'ones': [int(j) for j in px[i].nonzero()[0]]}
                  for i, f in enumerate(ds.PerFrameFunctionalGroupsSequence)]
        print(json.dumps({'study_uid': ds.StudyInstanceUID, 'frames': frames}))
        """;

    /// <summary>Counts segmentation calls (the worker is real behind it).</summary>
    private sealed class CountingSegmenter : ISeriesSegmenter
    {
        private ISeriesSegmenter? _inner;
        private int _calls;

        public int Calls => _calls;

        public CountingSegmenter Wrap(ISeriesSegmenter inner)
        {
            _inner = inner;
            return this;
        }

        public Task<SegmentedSeries> SegmentAsync(RouteRule rule, string seriesInstanceUid, IReadOnlyList<string> files, string outputFolder, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return _inner!.SegmentAsync(rule, seriesInstanceUid, files, outputFolder, cancellationToken);
        }
    }
}
