namespace Edu.Worker;

/// <summary>The <c>edu-worker</c> executable.</summary>
public static class Program
{
    /// <summary>
    /// Runs the worker; exit code 2 for a configuration the worker refuses. With <c>--decode-dicom</c> first, it is the
    /// worker's own child process that decodes one DICOM upload (see <see cref="Segmentation.IsolatedDicomDecoder"/>).
    /// </summary>
    public static Task<int> Main(string[] args) =>
        args is [Segmentation.IsolatedDicomDecoder.Verb, ..]
            ? Task.FromResult(Segmentation.IsolatedDicomDecoder.RunChild(args))
            : WorkerHost.RunAsync(args);
}
