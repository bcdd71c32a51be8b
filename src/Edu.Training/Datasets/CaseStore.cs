using System.Buffers;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Edu.Training.Datasets;

/// <summary>
/// Holds the prepared cases of a training run within a memory budget: cases stay in memory until the budget
/// is spent, later ones go to raw files in a cache folder and are read back through memory maps, so a dataset
/// larger than the machine's memory (BraTS, LUNA16) trains with the page cache doing the work, as nnU-Net's
/// preprocessed folder does. The folder is deleted on <see cref="Dispose"/>. Not thread-safe: one trainer fills it.
/// </summary>
public sealed class CaseStore : IDisposable
{
    private readonly string _folder;
    private readonly long _budgetBytes;
    private readonly List<IDisposable> _maps = [];
    private long _inMemory;

    /// <summary>A store that keeps up to <paramref name="budgetBytes"/> in memory and spills the rest to <paramref name="folder"/>.</summary>
    public CaseStore(string folder, long budgetBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentOutOfRangeException.ThrowIfNegative(budgetBytes);
        _folder = folder;
        _budgetBytes = budgetBytes;
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); // left by a killed run
    }

    /// <summary>The default budget: a quarter of the memory this process may use (the container limit where there is one).</summary>
    public static long DefaultBudgetBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;

    /// <summary>Bytes of the cases kept in memory.</summary>
    public long BytesInMemory => _inMemory;

    /// <summary>Cases written to the cache folder.</summary>
    public int CasesOnDisk { get; private set; }

    /// <summary>Returns <paramref name="c"/> itself while the budget lasts, otherwise the same case mapped from the cache folder.</summary>
    public PreparedCase Keep(PreparedCase c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (_inMemory + c.Bytes <= _budgetBytes)
        {
            _inMemory += c.Bytes;
            return c;
        }
        Directory.CreateDirectory(_folder);
        string stem = Path.Combine(_folder, $"{CasesOnDisk:D6}");
        var image = Map<float>(stem + ".image.f32", MemoryMarshal.AsBytes(c.Image.Span));
        var labels = Map<byte>(stem + ".labels.u8", c.Labels.Span);
        CasesOnDisk++;
        return c with { Image = image, Labels = labels };
    }

    private ReadOnlyMemory<T> Map<T>(string path, ReadOnlySpan<byte> bytes) where T : unmanaged
    {
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            stream.Write(bytes);
        if (bytes.Length == 0) return ReadOnlyMemory<T>.Empty;
        var manager = new MappedFile<T>(path, bytes.Length);
        _maps.Add(manager);
        return manager.Memory;
    }

    /// <summary>Unmaps the cached cases and deletes the cache folder (the cases it returned must no longer be used).</summary>
    public void Dispose()
    {
        foreach (var map in _maps) map.Dispose();
        _maps.Clear();
        try
        {
            if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a cache folder left behind is emptied by the next run in this folder; never hide the run's own outcome
        }
    }

    /// <summary>A read-only memory map of one file, exposed as <see cref="Memory{T}"/>.</summary>
    private sealed unsafe class MappedFile<T> : MemoryManager<T> where T : unmanaged
    {
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _view;
        private readonly byte* _pointer;
        private readonly int _length;
        private bool _unmapped;

        public MappedFile(string path, long bytes)
        {
            _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _file.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _pointer = pointer + _view.PointerOffset;
            _length = checked((int)(bytes / sizeof(T)));
        }

        // after Dispose the pointer is unmapped: an exception, never a read of freed pages
        public override Span<T> GetSpan()
        {
            ObjectDisposedException.ThrowIf(_unmapped, this);
            return new(_pointer, _length);
        }

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            ObjectDisposedException.ThrowIf(_unmapped, this);
            return new(_pointer + (long)elementIndex * sizeof(T));
        }

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
            if (!disposing || _unmapped) return;
            _unmapped = true;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }
}
