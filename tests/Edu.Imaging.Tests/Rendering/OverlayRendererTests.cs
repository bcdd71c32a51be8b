using Edu.Abstractions.Imaging;
using Edu.Imaging.Formats.Nifti;
using Edu.Imaging.Formats.Png;
using Edu.Imaging.Rendering;

namespace Edu.Imaging.Tests.Rendering;

public class OverlayRendererTests
{
    [Fact]
    public void Labels_are_blended_in_distinct_colours_on_the_chosen_slice()
    {
        var image = new NiftiReader().Read(TestFiles.Nifti("anatomical.nii"));
        var size = image.Size;
        var labels = new float[size.VoxelCount];
        int plane = size.X * size.Y, z = 12;
        // Label 1 on a square, label 2 on another, slice 12 only.
        for (int y = 5; y < 15; y++)
            for (int x = 5; x < 15; x++)
            {
                labels[z * plane + y * size.X + x] = 1;
                labels[z * plane + (y + 20) * size.X + x + 10] = 2;
            }
        var labelVolume = new ImageVolume(image.Geometry, 1, labels, PixelType.UInt8);
        string path = Path.Combine(TestFiles.NewTempFolder(), "overlay.png");

        OverlayRenderer.WritePng(image, labelVolume, path, new OverlayOptions { Alpha = 1 });
        var png = new PngReader().Read(path);

        Assert.Equal(3, png.Channels);
        Assert.Equal([size.X, size.Y, 1], png.Size.ToArray());
        var c1 = OverlayRenderer.ColorOf(1);
        var c2 = OverlayRenderer.ColorOf(2);
        Assert.NotEqual(c1, c2);
        int p1 = 7 * size.X + 7, p2 = 27 * size.X + 17, bg = 2 * size.X + 30;
        Assert.Equal([c1.R, c1.G, c1.B], new[] { png.Voxels[p1], png.Voxels[plane + p1], png.Voxels[2 * plane + p1] });
        Assert.Equal([c2.R, c2.G, c2.B], new[] { png.Voxels[p2], png.Voxels[plane + p2], png.Voxels[2 * plane + p2] });
        // Background stays grey.
        Assert.Equal(png.Voxels[bg], png.Voxels[plane + bg]);
        Assert.Equal(png.Voxels[bg], png.Voxels[2 * plane + bg]);
    }

    [Fact]
    public void Contour_only_leaves_the_inside_of_a_label_grey()
    {
        var geometry = ImageGeometry.Identity(new VolumeSize(9, 9, 1));
        var image = new ImageVolume(geometry, 1, Enumerable.Repeat(100f, 81).ToArray(), PixelType.UInt8);
        var labels = new float[81];
        for (int y = 2; y < 7; y++)
            for (int x = 2; x < 7; x++)
                labels[y * 9 + x] = 3;

        var rgb = OverlayRenderer.Render(image, new ImageVolume(geometry, 1, labels, PixelType.UInt8),
            new OverlayOptions { Contour = true, Fill = false, Window = (0, 200) });

        var c = OverlayRenderer.ColorOf(3);
        Assert.Equal(c.R, rgb.Voxels[2 * 9 + 2]);            // corner of the square: outline
        Assert.Equal(128, rgb.Voxels[4 * 9 + 4]);            // inside: grey 100 in window 0..200
        Assert.Equal(128, rgb.Voxels[81 + 4 * 9 + 4]);
    }

    [Fact]
    public void Colours_of_the_first_hundred_labels_are_distinct()
    {
        var colours = Enumerable.Range(1, 100).Select(OverlayRenderer.ColorOf).ToHashSet();

        Assert.Equal(100, colours.Count);
    }
}
