using Edu.Abstractions.Imaging;
using Edu.Client;
using Edu.Imaging;
using Edu.V1;
using Grpc.Core;
using Google.Protobuf;

namespace Edu.Worker.Tests.Services;

public sealed class SegmentationServiceTests
{
    private static DateTime Soon => DateTime.UtcNow.AddMinutes(2);

    private static SegmentHeader Header(string model, params OutputKind[] outputs)
    {
        var h = new SegmentHeader { Model = model };
        h.Outputs.AddRange(outputs);
        return h;
    }

    private static async Task AssertServing(TestWorker worker)
    {
        var models = await worker.Client<ModelService.ModelServiceClient>().ListModelsAsync(new ListModelsRequest(), deadline: Soon);
        Assert.NotNull(models);
    }

    [Fact]
    public async Task Segments_a_2d_rgb_png_end_to_end_with_every_output()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "skin", "1", dims: 2, inChannels: 3, modality: "dermoscopy");
        var (image, _) = TestData.Box(new VolumeSize(48, 40, 1), 3, seed: 1, spacing: [1, 1, 1]);
        string png = TestData.Write(image, temp.Sub("lesion.png"));
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));

        var outcome = await Segment.RunAsync(worker.Client<SegmentationService.SegmentationServiceClient>(),
            Header("skin", OutputKind.Nifti, OutputKind.PngMask, OutputKind.Overlay), [png]);

        Assert.True(outcome.Status!.Ok);
        Assert.Contains(outcome.Progress, p => p.Stage == "inference" && p.Fraction == 1);
        var result = outcome.Result!;
        Assert.Equal("skin", result.Model);
        Assert.Equal("1", result.Version);
        Assert.Equal([48, 40, 1], result.Geometry.Size);
        Assert.Equal(["labels.nii.gz", "mask.png", "overlay.png"], result.Files);
        foreach (var s in result.Labels)
            Assert.Equal(s.Voxels * 1e-3, s.VolumeMl, 9);

        var readers = ImageReaderRegistry.CreateDefault();
        foreach (var (name, bytes) in outcome.Files)
            await File.WriteAllBytesAsync(temp.Sub("out-" + name), bytes);
        var labels = readers.Read(temp.Sub("out-labels.nii.gz"));
        Assert.Equal(new VolumeSize(48, 40, 1), labels.Size);
        Assert.Equal(result.Labels.Sum(l => l.Voxels), labels.Voxels.LongCount(v => v > 0));
        var mask = readers.Read(temp.Sub("out-mask.png"));
        Assert.Equal(labels.Voxels, mask.Voxels);
        var overlay = readers.Read(temp.Sub("out-overlay.png"));
        Assert.Equal(3, overlay.Channels);
        Assert.Equal(new VolumeSize(48, 40, 1), overlay.Size);
    }

    [Fact]
    public async Task A_worker_on_onnxruntime_gives_the_labels_of_a_worker_on_torch()
    {
        using var temp = new TempDir();
        // a seeded two-class package (argmax): its labels hold both classes on this image, so equal labels mean something
        var hp = new Edu.Models.Catalogue.ModelHyperparameters(3, 1, 2, 4, 2);
        using (var net = Edu.Models.Catalogue.ModelCatalogue.CreateBuiltIn().Create("unet-mde", hp, seed: 21))
        {
            // an untrained head's bias outweighs the small spread of its logits: without it the argmax follows the image
            using (TorchSharp.torch.no_grad())
                net.named_parameters().Single(p => p.name == "head.bias").parameter.zero_();
            Edu.Models.Checkpoints.ModelPackage.Save(Path.Combine(temp.Sub("models"), "organ", "1"), new Edu.Models.Checkpoints.ModelManifest
            {
                Name = "organ", Version = "1", Architecture = "unet-mde", Hyperparameters = hp,
                Labels = new Dictionary<string, string> { ["0"] = "background", ["1"] = "organ" },
                Preprocessing = System.Text.Json.JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["pipeline"] = "zscore" }),
            }, net);
        }
        var (image, _) = TestData.Box(new VolumeSize(32, 24, 16), 1, seed: 5);
        string nii = TestData.Write(image, temp.Sub("ct.nii.gz"));
        var results = new List<Dictionary<string, byte[]>>();
        foreach (string backend in new[] { "torch", "onnxruntime" })
        {
            await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data-" + backend),
                new Dictionary<string, string?> { ["Worker:InferenceBackend"] = backend });
            var outcome = await Segment.RunAsync(worker.Client<SegmentationService.SegmentationServiceClient>(), Header("organ", OutputKind.Nifti), [nii]);
            Assert.True(outcome.Status!.Ok, outcome.Status.Message);
            long organ = outcome.Result!.Labels.Sum(l => l.Voxels);
            Assert.InRange(organ, 1, 32 * 24 * 16 - 1);
            results.Add(outcome.Files);
        }
        var readers = ImageReaderRegistry.CreateDefault();
        var labels = results.Select((files, i) =>
        {
            File.WriteAllBytes(temp.Sub($"labels-{i}.nii.gz"), files["labels.nii.gz"]);
            return readers.Read(temp.Sub($"labels-{i}.nii.gz")).Voxels;
        }).ToList();
        Assert.Equal(labels[0], labels[1]);
    }

    [Theory]
    [InlineData("tensorrt", "cpu", "Worker:InferenceBackend must be torch or onnxruntime")]
    [InlineData("onnxruntime", "cuda", "runs on the CPU")]
    public async Task A_backend_the_worker_cannot_run_stops_it_at_start_with_the_reason(string backend, string device, string reason)
    {
        using var temp = new TempDir();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"),
            new Dictionary<string, string?> { ["Worker:InferenceBackend"] = backend, ["Worker:Device"] = device }));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Segments_a_3d_nifti_volume_and_keeps_its_geometry()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "organ", "2", dims: 3, inChannels: 1, modality: "ct");
        TestData.Package(temp.Sub("models"), "organ", "10", dims: 3, inChannels: 1, modality: "ct");
        var (image, _) = TestData.Box(new VolumeSize(32, 24, 16), 1, seed: 2);
        string nii = TestData.Write(image, temp.Sub("ct.nii.gz"));
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));

        var header = Header("organ", OutputKind.Nifti, OutputKind.Overlay);
        header.Modality = "ct";
        var outcome = await Segment.RunAsync(worker.Client<SegmentationService.SegmentationServiceClient>(), header, [nii]);

        Assert.True(outcome.Status!.Ok);
        Assert.Equal("10", outcome.Result!.Version); // the newest version, numerically
        Assert.Equal([32, 24, 16], outcome.Result.Geometry.Size);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(image.Geometry.Spacing[i], outcome.Result.Geometry.Spacing[i], 1e-6); // NIfTI stores float32
            Assert.Equal(image.Geometry.Origin[i], outcome.Result.Geometry.Origin[i], 1e-5);
        }
        foreach (var s in outcome.Result.Labels)
            Assert.Equal(s.Voxels * 0.8 * 0.8 * 2.5 / 1000, s.VolumeMl, 1e-6 * (1 + s.VolumeMl)); // spacing stored as float32 in NIfTI
        await File.WriteAllBytesAsync(temp.Sub("labels.nii.gz"), outcome.Files["labels.nii.gz"]);
        var labels = ImageReaderRegistry.CreateDefault().Read(temp.Sub("labels.nii.gz"));
        Assert.True(labels.Geometry.IsCloseTo(image.Geometry));
    }

    [Fact]
    public async Task Segments_the_dicom_files_of_one_series_as_one_volume()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "ct3d", "1", dims: 3, inChannels: 1);
        string series = Path.Combine(AppContext.BaseDirectory, "TestData", "dicom", "series", "98892001", "CT5N");
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));

        var outcome = await Segment.RunAsync(worker.Client<SegmentationService.SegmentationServiceClient>(), Header("ct3d", OutputKind.Nifti, OutputKind.DicomSeg),
            Directory.EnumerateFiles(series).Order(StringComparer.Ordinal));

        Assert.True(outcome.Status!.Ok);
        Assert.Equal([16, 16, 5], outcome.Result!.Geometry.Size); // five slices sorted along the normal, as DicomSeriesReader reads the folder
        var direct = Edu.Dicom.DicomSeriesReader.Read(series);
        Assert.Equal(direct.Geometry.Spacing, outcome.Result.Geometry.Spacing);
        Assert.Equal(direct.Geometry.Origin, outcome.Result.Geometry.Origin);

        // The SEG joins the uploaded series' study: one frame per slice holding the label (one empty frame if none does).
        Assert.Equal(["labels.nii.gz", "segmentation.dcm"], outcome.Result.Files);
        await File.WriteAllBytesAsync(temp.Sub("labels.nii.gz"), outcome.Files["labels.nii.gz"]);
        await File.WriteAllBytesAsync(temp.Sub("segmentation.dcm"), outcome.Files["segmentation.dcm"]);
        var labels = Edu.Imaging.ImageReaderRegistry.CreateDefault().Read(temp.Sub("labels.nii.gz"));
        var seg = Edu.Dicom.DicomStructure.Validate(temp.Sub("segmentation.dcm"));
        Assert.Equal(direct.Metadata["StudyInstanceUID"], System.Text.Encoding.ASCII.GetString(seg.ReferenceValues[0x0020000D]).TrimEnd('\0'));
        int slicesWithLabel = Enumerable.Range(0, 5).Count(z => labels.Voxels.AsSpan(z * 256, 256).IndexOfAnyExcept(0f) >= 0);
        Assert.Equal(Math.Max(1, slicesWithLabel), seg.NumberOfFrames);
    }

    [Fact]
    public async Task A_seg_the_upload_cannot_have_is_invalid_argument_naming_the_uploaded_file_not_the_worker_s_path()
    {
        // CT5N without Study Instance UID (dcmtk's dcmodify erases it): it segments, but a SEG cannot join a study.
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "ct3d", "1", dims: 3, inChannels: 1);
        string series = temp.Sub("nostudy");
        Directory.CreateDirectory(series);
        foreach (string file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "TestData", "dicom", "series", "98892001", "CT5N")))
        {
            string copy = Path.Combine(series, Path.GetFileName(file) + ".dcm");
            File.Copy(file, copy);
            using var dcmodify = System.Diagnostics.Process.Start("dcmodify", ["-nb", "-ea", "(0020,000d)", copy])!;
            await dcmodify.WaitForExitAsync();
            Assert.Equal(0, dcmodify.ExitCode);
        }
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));

        var e = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(worker.Client<SegmentationService.SegmentationServiceClient>(),
            Header("ct3d", OutputKind.DicomSeg), Directory.EnumerateFiles(series).Order(StringComparer.Ordinal)));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("Study Instance UID", e.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(temp.Sub("data"), e.Status.Detail, StringComparison.Ordinal);
        Assert.Matches(@"^\d+\.dcm: ", e.Status.Detail); // the client's own file name
    }

    [Fact]
    public async Task Eight_concurrent_streams_all_get_the_same_result()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "xr", "1", dims: 2, inChannels: 1);
        var (image, _) = TestData.Box(new VolumeSize(64, 64, 1), 1, seed: 3, spacing: [1, 1, 1]);
        string png = TestData.Write(image, temp.Sub("chest.png"));
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"),
            new Dictionary<string, string?> { ["Worker:SegmentationConcurrency"] = "2", ["Worker:SegmentationQueue"] = "8" });
        var client = worker.Client<SegmentationService.SegmentationServiceClient>();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Segment.RunAsync(client, Header("xr", OutputKind.Nifti), [png])));

        Assert.All(outcomes, o => Assert.True(o.Status!.Ok));
        var first = outcomes[0].Files["labels.nii.gz"];
        Assert.All(outcomes, o => Assert.Equal(outcomes[0].Result!.Labels, o.Result!.Labels));
        Assert.Equal(8, outcomes.Select(o => o.Files["labels.nii.gz"].Length).Count(n => n == first.Length));
    }

    [Fact]
    public async Task Bad_requests_get_clear_statuses_and_the_worker_keeps_serving()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "xr", "1", dims: 2, inChannels: 1, modality: "xray");
        string garbage = temp.Sub("broken.png");
        await File.WriteAllBytesAsync(garbage, [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R', 1, 2, 3]);
        string text = temp.Sub("notes.txt");
        await File.WriteAllTextAsync(text, "not an image at all");
        var (picture, _) = TestData.Box(new VolumeSize(32, 32, 1), 1, seed: 5, spacing: [1, 1, 1]);
        string png = TestData.Write(picture, temp.Sub("chest.png"));
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"));
        var client = worker.Client<SegmentationService.SegmentationServiceClient>();

        // chunks before any header
        using (var call = client.Segment(deadline: Soon))
        {
            await call.RequestStream.WriteAsync(new SegmentRequest { Chunk = new FileChunk { FileName = "a.png", Data = ByteString.CopyFromUtf8("x"), Last = true } });
            await call.RequestStream.CompleteAsync();
            var e = await Assert.ThrowsAsync<RpcException>(() => Segment.ReadAsync(call.ResponseStream, CancellationToken.None));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains("SegmentHeader", e.Status.Detail, StringComparison.Ordinal);
        }
        await AssertServing(worker);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, Header("nope", OutputKind.Nifti), [garbage]));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("'nope'", unknown.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("xr", unknown.Status.Detail, StringComparison.Ordinal);

        var version = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, new SegmentHeader { Model = "xr", Version = "7" }, [garbage]));
        Assert.Equal(StatusCode.NotFound, version.StatusCode);

        var corrupt = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, Header("xr", OutputKind.Nifti), [garbage]));
        Assert.Equal(StatusCode.InvalidArgument, corrupt.StatusCode);
        Assert.StartsWith("broken.png:", corrupt.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(temp.Path, corrupt.Status.Detail, StringComparison.Ordinal);

        var segOfPng = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, Header("xr", OutputKind.DicomSeg), [png]));
        Assert.Equal(StatusCode.InvalidArgument, segOfPng.StatusCode);
        Assert.Contains("DICOM_SEG", segOfPng.Status.Detail, StringComparison.Ordinal);

        string png2 = TestData.Write(picture, temp.Sub("chest2.png"));
        var twoImages = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, Header("xr", OutputKind.Nifti), [png, png2]));
        Assert.Equal(StatusCode.InvalidArgument, twoImages.StatusCode);
        Assert.Contains("send one image per call", twoImages.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("chest2.png", twoImages.Status.Detail, StringComparison.Ordinal);

        var notImage = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, Header("xr"), [text]));
        Assert.Equal(StatusCode.InvalidArgument, notImage.StatusCode);

        var traversal = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = client.Segment(deadline: Soon);
            await call.RequestStream.WriteAsync(new SegmentRequest { Header = Header("xr") });
            await call.RequestStream.WriteAsync(new SegmentRequest { Chunk = new FileChunk { FileName = "../escape.png", Data = ByteString.CopyFromUtf8("x"), Last = true } });
            await call.RequestStream.CompleteAsync();
            await Segment.ReadAsync(call.ResponseStream, CancellationToken.None);
        });
        Assert.Equal(StatusCode.InvalidArgument, traversal.StatusCode);
        Assert.False(File.Exists(Path.Combine(temp.Sub("data"), "escape.png")));

        var mismatch = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, new SegmentHeader { Model = "xr", Modality = "ct" }, [garbage]));
        Assert.Equal(StatusCode.InvalidArgument, mismatch.StatusCode);
        Assert.Contains("'xray'", mismatch.Status.Detail, StringComparison.Ordinal);

        await AssertServing(worker);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(temp.Sub("data"), "tmp")));
    }

    [Fact]
    public async Task An_upload_over_the_limit_is_resource_exhausted()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "xr", "1", dims: 2, inChannels: 1);
        var (image, _) = TestData.Box(new VolumeSize(64, 64, 1), 1, seed: 4);
        string png = TestData.Write(image, temp.Sub("chest.png"));
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"),
            new Dictionary<string, string?> { ["Worker:MaxUploadBytes"] = "100" });

        var e = await Assert.ThrowsAsync<RpcException>(() =>
            Segment.RunAsync(worker.Client<SegmentationService.SegmentationServiceClient>(), Header("xr", OutputKind.Nifti), [png]));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("100 bytes", e.Status.Detail, StringComparison.Ordinal);
        Assert.Null(e.Trailers.GetValue(EduChannel.RetryAfterTrailer));
        await AssertServing(worker);
    }

    [Fact]
    public async Task A_full_queue_is_resource_exhausted_with_a_retry_hint_and_cancellation_frees_the_slot()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "xr", "1", dims: 2, inChannels: 1);
        var (image, _) = TestData.Box(new VolumeSize(32, 32, 1), 1, seed: 5);
        string png = TestData.Write(image, temp.Sub("chest.png"));
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"),
            new Dictionary<string, string?> { ["Worker:SegmentationConcurrency"] = "1", ["Worker:SegmentationQueue"] = "0", ["Worker:RetryAfterMs"] = "1500" });
        var client = worker.Client<SegmentationService.SegmentationServiceClient>();

        // the first call holds the only slot: its header is in, its upload never ends
        using var holder = new CancellationTokenSource();
        var first = client.Segment(deadline: Soon, cancellationToken: holder.Token);
        await first.RequestStream.WriteAsync(new SegmentRequest { Header = Header("xr") });
        Assert.True(await first.ResponseStream.MoveNext(CancellationToken.None)); // "upload" progress: admitted
        Assert.Equal("upload", first.ResponseStream.Current.Progress.Stage);

        var busy = await Assert.ThrowsAsync<RpcException>(() => Segment.RunAsync(client, Header("xr", OutputKind.Nifti), [png]));
        Assert.Equal(StatusCode.ResourceExhausted, busy.StatusCode);
        Assert.Equal("1500", busy.Trailers.GetValue(EduChannel.RetryAfterTrailer));

        holder.Cancel();
        first.Dispose();
        var outcome = await RetryWhileBusy(() => Segment.RunAsync(client, Header("xr", OutputKind.Nifti), [png]));
        Assert.True(outcome.Status!.Ok);
    }

    [Fact]
    public async Task A_deadline_stops_the_call_and_frees_the_slot()
    {
        using var temp = new TempDir();
        TestData.Package(temp.Sub("models"), "xr", "1", dims: 2, inChannels: 1);
        var (image, _) = TestData.Box(new VolumeSize(32, 32, 1), 1, seed: 6);
        string png = TestData.Write(image, temp.Sub("chest.png"));
        await using var worker = await TestWorker.StartAsync(temp.Sub("models"), temp.Sub("data"),
            new Dictionary<string, string?> { ["Worker:SegmentationConcurrency"] = "1", ["Worker:SegmentationQueue"] = "0" });
        var client = worker.Client<SegmentationService.SegmentationServiceClient>();

        await AssertServing(worker); // the connection is up: the deadline below is spent on the call, not on connecting
        using (var call = client.Segment(deadline: DateTime.UtcNow.AddMilliseconds(1500)))
        {
            // the header, then silence: the worker admits the call, and the deadline ends it (on a loaded machine it may
            // already end the header's write)
            var e = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                await call.RequestStream.WriteAsync(new SegmentRequest { Header = Header("xr") });
                await Segment.ReadAsync(call.ResponseStream, CancellationToken.None);
            });
            // At the deadline the server resets the stream (CANCEL) while the client is still uploading; Grpc.Net.Client
            // reports DEADLINE_EXCEEDED only if its own clock has passed the deadline by then, CANCELLED otherwise
            // (grpc/grpc-dotnet#1402): both mean the deadline ended the call.
            Assert.Contains(e.StatusCode, new[] { StatusCode.DeadlineExceeded, StatusCode.Cancelled });
        }
        var outcome = await RetryWhileBusy(() => Segment.RunAsync(client, Header("xr", OutputKind.Nifti), [png]));
        Assert.True(outcome.Status!.Ok);
    }

    /// <summary>The server notices a cancelled or expired call asynchronously; a client retries on RESOURCE_EXHAUSTED as told.</summary>
    private static async Task<Segment.Outcome> RetryWhileBusy(Func<Task<Segment.Outcome>> call)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }
}
