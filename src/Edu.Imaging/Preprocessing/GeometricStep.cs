using System.Globalization;
using Edu.Abstractions.Imaging;
using Edu.Abstractions.Preprocessing;

namespace Edu.Imaging.Preprocessing;

/// <summary>
/// The standard steps that move voxels: <c>resample(spacing=XxYxZ)</c> (linear, to a target spacing;
/// 2-D images keep z) and <c>resize(size=WxH, pad=, upscale=)</c> (bilinear in-plane scaling that keeps the
/// aspect ratio, then centred padding; with <c>upscale=false</c> an image that already fits is left as it is,
/// neither scaled up nor padded). Labels go back with nearest neighbour onto the input grid.
/// </summary>
public sealed class GeometricStep : IPreprocessingStep
{
    /// <summary>Creates <c>resample</c> or <c>resize</c>.</summary>
    public GeometricStep(string name)
    {
        if (name is not (StandardStepNames.Resample or StandardStepNames.Resize))
            throw new ArgumentException($"'{name}' is not a geometric standard step", nameof(name));
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Description => Name == StandardStepNames.Resample
        ? "resample(spacing=XxYxZ): linear resampling to a target spacing in mm"
        : "resize(size=WxH, pad=0, upscale=true): keep the aspect ratio, scale to fit, pad centred; upscale=false leaves an image that fits as it is";

    /// <inheritdoc />
    public PreprocessingStepResult Apply(ImageVolume image, PreprocessingStepSpec spec)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(spec);
        var g = image.Geometry;
        var s = g.Size;
        int nx, ny, nz, ox = 0, oy = 0, ww, hh;
        double[] spacing;
        float pad = 0;
        if (Name == StandardStepNames.Resample)
        {
            double[] target = spec.GetDoubles("spacing");
            if (target.Length != 3 || target.Any(t => t <= 0)) throw new Abstractions.Errors.InvalidInputException(spec.ToString(), "spacing needs three positive values XxYxZ");
            nx = Math.Max(1, (int)Math.Round(s.X * g.Spacing[0] / target[0]));
            ny = Math.Max(1, (int)Math.Round(s.Y * g.Spacing[1] / target[1]));
            nz = s.Z == 1 ? 1 : Math.Max(1, (int)Math.Round(s.Z * g.Spacing[2] / target[2]));
            ww = nx; hh = ny;
            spacing = [g.Spacing[0] * s.X / nx, g.Spacing[1] * s.Y / ny, g.Spacing[2] * s.Z / nz];
        }
        else
        {
            double[] size = spec.GetDoubles("size");
            if (size.Length != 2 || size.Any(t => t < 1)) throw new Abstractions.Errors.InvalidInputException(spec.ToString(), "size needs two values WxH");
            ww = (int)size[0]; hh = (int)size[1];
            pad = (float)spec.GetDouble("pad", 0);
            bool upscale = spec.GetString("upscale", "true").ToLowerInvariant() switch
            {
                "true" or "1" => true,
                "false" or "0" => false,
                var other => throw new Abstractions.Errors.InvalidInputException(spec.ToString(), $"upscale must be true or false, not '{other}'"),
            };
            double scale = Math.Min(ww / (double)s.X, hh / (double)s.Y);
            if (!upscale && scale >= 1)
            {
                // already fits: scaling up adds no information and costs the square of the factor in every later step
                ww = s.X;
                hh = s.Y;
                scale = 1;
            }
            nx = Math.Clamp((int)Math.Round(s.X * scale), 1, ww);
            ny = Math.Clamp((int)Math.Round(s.Y * scale), 1, hh);
            nz = s.Z;
            ox = (ww - nx) / 2; oy = (hh - ny) / 2;
            spacing = [g.Spacing[0] * s.X / nx, g.Spacing[1] * s.Y / ny, g.Spacing[2]];
        }
        var outSize = new VolumeSize(ww, hh, nz);
        long outN = outSize.VoxelCount;
        var v = new float[outN * image.Channels];
        Array.Fill(v, pad);
        for (int c = 0; c < image.Channels; c++)
        {
            float[] src = image.Channel(c).ToArray();
            for (int z = 0; z < nz; z++)
            {
                double fz = nz == 1 ? 0 : Math.Clamp((z + 0.5) * s.Z / nz - 0.5, 0, s.Z - 1);
                for (int y = 0; y < ny; y++)
                {
                    double fy = Math.Clamp((y + 0.5) * s.Y / ny - 0.5, 0, s.Y - 1);
                    for (int x = 0; x < nx; x++)
                    {
                        double fx = Math.Clamp((x + 0.5) * s.X / nx - 0.5, 0, s.X - 1);
                        v[c * outN + ((long)z * hh + y + oy) * ww + x + ox] = Linear(src, s, fx, fy, fz);
                    }
                }
            }
        }
        // first output voxel centre sits half an output voxel inside the input's first voxel edge; padding shifts it by (ox, oy)
        double ix = ((0.5 * s.X / nx) - 0.5) - ox * (double)s.X / nx;
        double iy = ((0.5 * s.Y / ny) - 0.5) - oy * (double)s.Y / ny;
        double iz = nz == s.Z ? 0 : (0.5 * s.Z / nz) - 0.5;
        var (wx, wy, wz) = g.IndexToWorld(ix, iy, iz);
        var geometry = new ImageGeometry(outSize, spacing, [wx, wy, wz], [.. g.Direction]);
        var state = new Dictionary<string, string>
        {
            ["nx"] = nx.ToString(CultureInfo.InvariantCulture), ["ny"] = ny.ToString(CultureInfo.InvariantCulture),
            ["nz"] = nz.ToString(CultureInfo.InvariantCulture),
            ["ox"] = ox.ToString(CultureInfo.InvariantCulture), ["oy"] = oy.ToString(CultureInfo.InvariantCulture),
        };
        return new PreprocessingStepResult(new ImageVolume(geometry, image.Channels, v, image.SourcePixelType, image.Metadata),
            new AppliedStep(spec, g, image.Channels, state));
    }

    /// <inheritdoc />
    public ImageVolume InvertLabels(ImageVolume labels, AppliedStep applied)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(applied);
        int Get(string k) => int.Parse(applied.State[k], CultureInfo.InvariantCulture);
        int nx = Get("nx"), ny = Get("ny"), nz = Get("nz"), ox = Get("ox"), oy = Get("oy");
        var s = applied.InputGeometry.Size;
        var o = labels.Size;
        var v = new float[s.VoxelCount];
        for (int z = 0; z < s.Z; z++)
        {
            int lz = Math.Clamp((int)Math.Floor((z + 0.5) * nz / s.Z), 0, o.Z - 1);
            for (int y = 0; y < s.Y; y++)
            {
                int ly = Math.Clamp(oy + (int)Math.Floor((y + 0.5) * ny / s.Y), 0, o.Y - 1);
                for (int x = 0; x < s.X; x++)
                {
                    int lx = Math.Clamp(ox + (int)Math.Floor((x + 0.5) * nx / s.X), 0, o.X - 1);
                    v[((long)z * s.Y + y) * s.X + x] = labels.Voxels[((long)lz * o.Y + ly) * o.X + lx];
                }
            }
        }
        return new ImageVolume(applied.InputGeometry, 1, v, labels.SourcePixelType, labels.Metadata);
    }

    private static float Linear(float[] src, VolumeSize s, double fx, double fy, double fz)
    {
        int x0 = (int)fx, y0 = (int)fy, z0 = (int)fz;
        int x1 = Math.Min(x0 + 1, s.X - 1), y1 = Math.Min(y0 + 1, s.Y - 1), z1 = Math.Min(z0 + 1, s.Z - 1);
        double ax = fx - x0, ay = fy - y0, az = fz - z0;
        float At(int x, int y, int z) => src[(int)(((long)z * s.Y + y) * s.X + x)];
        double c00 = At(x0, y0, z0) * (1 - ax) + At(x1, y0, z0) * ax, c10 = At(x0, y1, z0) * (1 - ax) + At(x1, y1, z0) * ax;
        double c01 = At(x0, y0, z1) * (1 - ax) + At(x1, y0, z1) * ax, c11 = At(x0, y1, z1) * (1 - ax) + At(x1, y1, z1) * ax;
        return (float)((c00 * (1 - ay) + c10 * ay) * (1 - az) + (c01 * (1 - ay) + c11 * ay) * az);
    }
}
