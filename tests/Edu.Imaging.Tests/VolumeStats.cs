using Edu.Abstractions.Imaging;

namespace Edu.Imaging.Tests;

/// <summary>Sum, min, max and mean of a volume's voxels, in double precision, to compare with other tools.</summary>
internal readonly record struct VolumeStats(double Sum, double Min, double Max, double Mean)
{
    public static VolumeStats Of(ImageVolume volume)
    {
        double sum = 0, min = double.MaxValue, max = double.MinValue;
        foreach (float v in volume.Voxels)
        {
            sum += v;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        return new VolumeStats(sum, min, max, sum / volume.Voxels.Length);
    }
}
