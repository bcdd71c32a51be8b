using System.Runtime.InteropServices;
using System.Text;

namespace Edu.Dicom;

/// <summary>
/// Catches what native decoders print on the process's stdout and stderr (file descriptors 1 and 2) while a call
/// runs, including helper programs they start (GDCM runs pvrg-jpeg for some lossless JPEG). GDCM's JPEG
/// codecs report corrupt data only there, as libjpeg warnings ("Corrupt JPEG data: premature end of data segment"),
/// and still return a buffer of garbage; they also print harmless notes ("Unsupported JPEG data precision 12" when
/// the 8-bit decoder is tried first) that would break a command's one-line error output or its JSON on stdout.
/// One call at a time: the descriptors are process-wide, so other threads' output goes to the capture meanwhile
/// (only compressed pixel data takes this path, and only for reading and decoding it).
/// </summary>
internal static partial class NativeOutput
{
    private const int StdoutFd = 1, StderrFd = 2;
    private static readonly Lock Gate = new();

    /// <summary>
    /// Runs <paramref name="action"/> with fds 1 and 2 redirected. <paramref name="printed"/> gets what was printed once the
    /// descriptors are back, also when the action throws, so nothing another thread wrote is lost.
    /// </summary>
    public static T Capture<T>(Func<T> action, Action<string> printed)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(printed);
        lock (Gate)
        {
            string path = Path.Combine(Path.GetTempPath(), $"edu-native-output-{Environment.ProcessId}-{Guid.NewGuid():N}");
            using var capture = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite, 1, FileOptions.DeleteOnClose);
            Console.Out.Flush();
            Console.Error.Flush();
            // close-on-exec copies: a helper program started meanwhile (pvrg-jpeg) must not keep the real stdout open
            int savedOut = DupCloseOnExec(StdoutFd), savedErr = DupCloseOnExec(StderrFd);
            try
            {
                int fd = (int)capture.SafeFileHandle.DangerousGetHandle();
                if (savedOut >= 0 && savedErr >= 0 && Dup2(fd, StdoutFd) >= 0)
                    Dup2(fd, StderrFd); // where redirecting fails the action runs as before, uncaptured
                return action();
            }
            finally
            {
                Fflush(IntPtr.Zero); // C stdio buffers (and C++ streams synced with them) into the capture
                if (savedOut >= 0) { Dup2(savedOut, StdoutFd); Close(savedOut); }
                if (savedErr >= 0) { Dup2(savedErr, StderrFd); Close(savedErr); }
                capture.Seek(0, SeekOrigin.Begin);
                using var reader = new StreamReader(capture, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, 4096, leaveOpen: true);
                printed(reader.ReadToEnd());
            }
        }
    }

    private const int FDupFdCloseOnExec = 1030; // F_DUPFD_CLOEXEC on Linux

    private static int DupCloseOnExec(int fd) => Fcntl(fd, FDupFdCloseOnExec, 0);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "fflush")]
    private static partial int Fflush(IntPtr stream);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int fd, int fd2);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
