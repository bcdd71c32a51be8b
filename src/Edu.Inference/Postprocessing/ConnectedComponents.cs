using Edu.Abstractions.Imaging;

namespace Edu.Inference.Postprocessing;

/// <summary>Connected components of a label volume, on managed arrays (no tensors).</summary>
public static class ConnectedComponents
{
    /// <summary>
    /// For every label value &gt; 0, keeps its largest connected component and sets the voxels of its other
    /// components to 0. <paramref name="labels"/> is laid out [z][y][x] (x fastest) for <paramref name="size"/>;
    /// a volume with Z = 1 is treated as 2-D (4 or 8 neighbours), otherwise 3-D (6 or 26). Ties keep the
    /// component met first in memory order. Returns the number of voxels set to background.
    /// </summary>
    public static long KeepLargest(float[] labels, VolumeSize size, Connectivity connectivity = Connectivity.Face)
    {
        ArgumentNullException.ThrowIfNull(labels);
        long n = size.VoxelCount;
        if (labels.LongLength < n) throw new ArgumentException($"{labels.LongLength} values do not fill {size}", nameof(labels));
        var component = Label(labels, size, connectivity, out var sizes, out var labelOf);
        var best = new Dictionary<int, int>();
        for (int c = 0; c < sizes.Count; c++)
        {
            int l = labelOf[c];
            if (!best.TryGetValue(l, out int b) || sizes[c] > sizes[b]) best[l] = c;
        }
        long removed = 0;
        for (long i = 0; i < n; i++)
        {
            int c = component[i];
            if (c >= 0 && best[labelOf[c]] != c)
            {
                labels[i] = 0;
                removed++;
            }
        }
        return removed;
    }

    /// <summary>
    /// Component index of every voxel (−1 for background), with each component's voxel count and label value.
    /// Voxels join when they carry the same label and are neighbours under <paramref name="connectivity"/>.
    /// </summary>
    public static int[] Label(float[] labels, VolumeSize size, Connectivity connectivity, out List<long> sizes, out List<int> labelOf)
    {
        ArgumentNullException.ThrowIfNull(labels);
        int nx = size.X, ny = size.Y, nz = size.Z;
        long n = size.VoxelCount;
        if (n > int.MaxValue) throw new ArgumentException($"{size} is too large for connected components", nameof(size));
        var offsets = Neighbours(nz > 1, connectivity);
        var component = new int[n];
        Array.Fill(component, -1);
        sizes = [];
        labelOf = [];
        var stack = new Stack<int>();
        for (int start = 0; start < n; start++)
        {
            int label = (int)labels[start];
            if (label <= 0 || component[start] >= 0) continue;
            int id = sizes.Count;
            long count = 0;
            component[start] = id;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int i = stack.Pop();
                count++;
                int x = i % nx, y = i / nx % ny, z = i / (nx * ny);
                foreach (var (dx, dy, dz) in offsets)
                {
                    int xx = x + dx, yy = y + dy, zz = z + dz;
                    if ((uint)xx >= (uint)nx || (uint)yy >= (uint)ny || (uint)zz >= (uint)nz) continue;
                    int j = (zz * ny + yy) * nx + xx;
                    if (component[j] >= 0 || (int)labels[j] != label) continue;
                    component[j] = id;
                    stack.Push(j);
                }
            }
            sizes.Add(count);
            labelOf.Add(label);
        }
        return component;
    }

    private static (int Dx, int Dy, int Dz)[] Neighbours(bool threeD, Connectivity connectivity)
    {
        var list = new List<(int, int, int)>();
        int zr = threeD ? 1 : 0;
        for (int dz = -zr; dz <= zr; dz++)
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                {
                    int manhattan = Math.Abs(dx) + Math.Abs(dy) + Math.Abs(dz);
                    if (manhattan == 0 || (connectivity == Connectivity.Face && manhattan > 1)) continue;
                    list.Add((dx, dy, dz));
                }
        return [.. list];
    }
}
