using Edu.V1;
using Edu.Worker.Segmentation;
using Grpc.Core;

namespace Edu.Worker.Services;

/// <summary><c>edu.v1.SegmentationService</c>: hands each call to the <see cref="SegmentationEngine"/>.</summary>
public sealed class SegmentationService : Edu.V1.SegmentationService.SegmentationServiceBase
{
    private readonly SegmentationEngine _engine;

    /// <summary>Creates the service.</summary>
    public SegmentationService(SegmentationEngine engine) => _engine = engine;

    /// <inheritdoc />
    public override Task Segment(IAsyncStreamReader<SegmentRequest> requestStream, IServerStreamWriter<SegmentResponse> responseStream, ServerCallContext context) =>
        _engine.RunAsync(requestStream, responseStream, context.CancellationToken);
}
