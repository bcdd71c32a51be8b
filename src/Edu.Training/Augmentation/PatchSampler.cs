using Edu.Training.Datasets;

namespace Edu.Training.Augmentation;

/// <summary>
/// Cuts one training patch out of a prepared case and augments it, all from one <see cref="Random"/>: the same
/// seed gives the same patch. Crop, in-plane rotation and scaling are one inverse mapping (linear for the image,
/// nearest for labels; outside the case: image 0, label 0), then mirroring, 90° rotations and intensity changes.
/// A patch of depth 1 from a 3-D case is one axial slice (2-D training on slices).
/// </summary>
public sealed class PatchSampler
{
    private readonly AugmentationOptions _options;
    private readonly double _flip;
    private readonly double _rot90;

    /// <summary>Creates a sampler for patches of <paramref name="patchZ"/> × <paramref name="patchY"/> × <paramref name="patchX"/>.</summary>
    /// <param name="options">Augmentation settings.</param>
    /// <param name="patchZ">Patch depth (1 for 2-D).</param>
    /// <param name="patchY">Patch rows.</param>
    /// <param name="patchX">Patch columns.</param>
    /// <param name="lateralLabels">Whether labels name a side (left/right): mirroring and rotations then default to off.</param>
    public PatchSampler(AugmentationOptions options, int patchZ, int patchY, int patchX, bool lateralLabels = false)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        PatchZ = patchZ;
        PatchY = patchY;
        PatchX = patchX;
        _flip = options.FlipProbability ?? (lateralLabels ? 0 : 0.5);
        _rot90 = options.Rot90Probability ?? (lateralLabels ? 0 : 0.5);
    }

    /// <summary>Patch depth.</summary>
    public int PatchZ { get; }
    /// <summary>Patch rows.</summary>
    public int PatchY { get; }
    /// <summary>Patch columns.</summary>
    public int PatchX { get; }

    /// <summary>Voxels in one channel of a patch.</summary>
    public int PatchVoxels => PatchZ * PatchY * PatchX;

    /// <summary>
    /// Samples a patch into <paramref name="image"/> (channels × patch voxels) and <paramref name="labels"/> (patch voxels).
    /// <paramref name="foreground"/> centres the patch on a random foreground voxel (when the case has any).
    /// </summary>
    public void Sample(PreparedCase c, Random rng, bool foreground, Span<float> image, Span<float> labels)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(rng);
        int n = PatchVoxels;
        if (image.Length != c.Channels * n || labels.Length != n) throw new ArgumentException("buffer sizes do not match the patch");
        // centre in case coordinates
        double cx, cy, cz;
        if (foreground && c.Foreground.Length > 0)
        {
            int idx = c.Foreground[rng.Next(c.Foreground.Length)];
            // the patch starts at voxel − patch/2, so patch voxels land on case voxels (no interpolation without affine)
            cx = idx % c.X - PatchX / 2 + (PatchX - 1) / 2.0;
            cy = idx / c.X % c.Y - PatchY / 2 + (PatchY - 1) / 2.0;
            cz = idx / (c.X * c.Y) - PatchZ / 2 + (PatchZ - 1) / 2.0;
        }
        else
        {
            cx = Centre(rng, c.X, PatchX); cy = Centre(rng, c.Y, PatchY); cz = Centre(rng, c.Z, PatchZ);
        }
        if (PatchZ == 1) cz = Math.Round(cz);
        // in-plane affine (rotation, scale) as an inverse map from patch to case coordinates
        double a = 1, b = 0, d = 0, e = 1;
        bool affine = rng.NextDouble() < _options.AffineProbability;
        if (affine)
        {
            double angle = (rng.NextDouble() * 2 - 1) * _options.RotationDegrees * Math.PI / 180;
            double scale = 1 + (rng.NextDouble() * 2 - 1) * _options.ScaleRange;
            double cos = Math.Cos(angle) / scale, sin = Math.Sin(angle) / scale;
            a = cos; b = -sin; d = sin; e = cos;
        }
        double pcx = (PatchX - 1) / 2.0, pcy = (PatchY - 1) / 2.0, pcz = (PatchZ - 1) / 2.0;
        int plane = c.X * c.Y;
        int chStride = plane * c.Z; // a case's voxels fit an array, so int offsets do
        var caseImage = c.Image.Span;
        var caseLabels = c.Labels.Span;
        for (int z = 0; z < PatchZ; z++)
        {
            double sz = cz + (z - pcz);
            int iz = (int)Math.Round(sz);
            for (int y = 0; y < PatchY; y++)
            {
                for (int x = 0; x < PatchX; x++)
                {
                    double dx = x - pcx, dy = y - pcy;
                    double sx = cx + a * dx + b * dy, sy = cy + d * dx + e * dy;
                    int o = (z * PatchY + y) * PatchX + x;
                    int nx = (int)Math.Round(sx), ny = (int)Math.Round(sy);
                    labels[o] = nx >= 0 && ny >= 0 && iz >= 0 && nx < c.X && ny < c.Y && iz < c.Z ? caseLabels[iz * plane + ny * c.X + nx] : 0;
                    if (iz < 0 || iz >= c.Z) { for (int ch = 0; ch < c.Channels; ch++) image[ch * n + o] = 0; continue; }
                    if (!affine && nx == sx && ny == sy)
                    {
                        bool inside = nx >= 0 && ny >= 0 && nx < c.X && ny < c.Y;
                        for (int ch = 0; ch < c.Channels; ch++)
                            image[ch * n + o] = inside ? caseImage[ch * chStride + iz * plane + ny * c.X + nx] : 0;
                        continue;
                    }
                    int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                    float fx = (float)(sx - x0), fy = (float)(sy - y0);
                    for (int ch = 0; ch < c.Channels; ch++)
                    {
                        var layer = caseImage.Slice(ch * chStride + iz * plane, plane);
                        float v00 = At(layer, c.X, c.Y, x0, y0), v10 = At(layer, c.X, c.Y, x0 + 1, y0),
                            v01 = At(layer, c.X, c.Y, x0, y0 + 1), v11 = At(layer, c.X, c.Y, x0 + 1, y0 + 1);
                        image[ch * n + o] = (v00 * (1 - fx) + v10 * fx) * (1 - fy) + (v01 * (1 - fx) + v11 * fx) * fy;
                    }
                }
            }
        }
        // mirroring and 90° rotations (geometry: image and labels together)
        for (int axis = 0; axis < 3; axis++)
        {
            if (axis == 2 && PatchZ == 1) break;
            if (rng.NextDouble() < _flip)
            {
                Flip(image, c.Channels, axis);
                Flip(labels, 1, axis);
            }
        }
        if (PatchX == PatchY && rng.NextDouble() < _rot90)
        {
            int k = 1 + rng.Next(3);
            for (int i = 0; i < k; i++) { Rot90(image, c.Channels); Rot90(labels, 1); }
        }
        // intensity (image only)
        for (int ch = 0; ch < c.Channels; ch++)
        {
            var v = image.Slice(ch * n, n);
            if (rng.NextDouble() < _options.IntensityProbability)
            {
                float s = (float)(0.9 + 0.2 * rng.NextDouble()), shift = (float)(rng.NextDouble() * 0.2 - 0.1);
                for (int i = 0; i < n; i++) v[i] = v[i] * s + shift;
            }
            if (rng.NextDouble() < _options.GammaProbability)
            {
                double gamma = rng.NextDouble() < 0.5 ? 0.7 + 0.3 * rng.NextDouble() : 1 + 0.5 * rng.NextDouble();
                float lo = float.MaxValue, hi = float.MinValue;
                foreach (float f in v) { lo = Math.Min(lo, f); hi = Math.Max(hi, f); }
                float range = hi - lo;
                if (range > 1e-6f)
                    for (int i = 0; i < n; i++) v[i] = lo + range * (float)Math.Pow((v[i] - lo) / range, gamma);
            }
            if (rng.NextDouble() < _options.NoiseProbability)
            {
                double sigma = rng.NextDouble() * _options.NoiseSigma;
                for (int i = 0; i < n; i++) v[i] += (float)(sigma * Gauss(rng));
            }
        }
    }

    private static double Centre(Random rng, int extent, int patch)
    {
        // a patch larger than the case stays centred on it; otherwise any position that keeps it inside
        if (patch >= extent) return -((patch - extent) / 2) + (patch - 1) / 2.0;
        return rng.Next(extent - patch + 1) + (patch - 1) / 2.0;
    }

    private static float At(ReadOnlySpan<float> layer, int width, int height, int x, int y) =>
        x < 0 || y < 0 || x >= width || y >= height ? 0 : layer[y * width + x];

    private static double Gauss(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private void Flip(Span<float> data, int channels, int axis)
    {
        int n = PatchVoxels;
        for (int ch = 0; ch < channels; ch++)
        {
            var v = data.Slice(ch * n, n);
            for (int z = 0; z < PatchZ; z++)
                for (int y = 0; y < PatchY; y++)
                    for (int x = 0; x < PatchX; x++)
                    {
                        int tx = x, ty = y, tz = z;
                        if (axis == 0) { if (x >= PatchX / 2) continue; tx = PatchX - 1 - x; }
                        else if (axis == 1) { if (y >= PatchY / 2) continue; ty = PatchY - 1 - y; }
                        else { if (z >= PatchZ / 2) continue; tz = PatchZ - 1 - z; }
                        int i = (z * PatchY + y) * PatchX + x, j = (tz * PatchY + ty) * PatchX + tx;
                        (v[i], v[j]) = (v[j], v[i]);
                    }
        }
    }

    private void Rot90(Span<float> data, int channels)
    {
        int n = PatchVoxels, s = PatchX;
        var tmp = new float[s * s];
        for (int ch = 0; ch < channels; ch++)
            for (int z = 0; z < PatchZ; z++)
            {
                var v = data.Slice(ch * n + z * s * s, s * s);
                for (int y = 0; y < s; y++)
                    for (int x = 0; x < s; x++)
                        tmp[x * s + (s - 1 - y)] = v[y * s + x];
                tmp.CopyTo(v);
            }
    }
}
