namespace Edu.Worker.Segmentation;

/// <summary>Where an <see cref="Admission"/> is.</summary>
internal enum AdmissionState
{
    /// <summary>Admitted: uploading, not yet in the queue.</summary>
    Admitted,

    /// <summary>In the queue, waiting for a slot.</summary>
    Waiting,

    /// <summary>Holding a slot.</summary>
    Running,

    /// <summary>Left the gate.</summary>
    Done,
}
