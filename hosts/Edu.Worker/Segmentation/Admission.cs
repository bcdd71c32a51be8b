namespace Edu.Worker.Segmentation;

/// <summary>
/// One request's place at the <see cref="SegmentationGate"/>: admitted (uploading), then waiting in the queue, then
/// running in a slot. <see cref="Complete"/> gives the slot back once the request's work is done and counts its time
/// toward the service time; <see cref="Dispose"/> gives back whatever it holds (a failed or cancelled request).
/// </summary>
public sealed class Admission : IDisposable
{
    private readonly SegmentationGate _gate;

    internal Admission(SegmentationGate gate, string model)
    {
        _gate = gate;
        Model = model;
    }

    /// <summary>The model (name/version) whose service time this request counts toward.</summary>
    internal string Model { get; }

    internal AdmissionState State { get; set; }

    internal LinkedListNode<Admission>? Node { get; set; }

    internal TaskCompletionSource? Granted { get; set; }

    internal long RunningSince { get; set; }

    /// <summary>Waits in first-come order for a slot (at most the wait limit: then <see cref="Errors.WorkerBusyException"/>).</summary>
    public Task WaitForSlotAsync(CancellationToken cancellationToken) => _gate.WaitForSlotAsync(this, cancellationToken);

    /// <summary>The request's work is done: the slot goes to the next in the queue and the time it held it to the service rate.</summary>
    public void Complete() => _gate.Leave(this, served: true);

    /// <inheritdoc />
    public void Dispose() => _gate.Leave(this, served: false);
}
