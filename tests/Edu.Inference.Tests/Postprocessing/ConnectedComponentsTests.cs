using Edu.Abstractions.Imaging;
using Edu.Inference.Postprocessing;

namespace Edu.Inference.Tests.Postprocessing;

public sealed class ConnectedComponentsTests
{
    private static float[] Grid(params string[] rows) =>
        rows.SelectMany(r => r.Select(c => c == '.' ? 0f : c - '0')).ToArray();

    [Fact]
    public void Face_connectivity_in_2d_keeps_the_largest_blob_of_each_label_and_drops_diagonal_neighbours()
    {
        var labels = Grid(
            "11..2.",
            "11...2",
            "..1..2",
            "...1..",
            "2.....");
        long removed = ConnectedComponents.KeepLargest(labels, new VolumeSize(6, 5, 1), Connectivity.Face);

        Assert.Equal(Grid(
            "11....",
            "11...2",
            ".....2",
            "......",
            "......"), labels);
        Assert.Equal(4, removed);
    }

    [Fact]
    public void Full_connectivity_in_2d_joins_diagonal_neighbours()
    {
        var labels = Grid(
            "11..2.",
            "11...2",
            "..1..2",
            "...1..",
            "2.....");
        long removed = ConnectedComponents.KeepLargest(labels, new VolumeSize(6, 5, 1), Connectivity.Full);

        Assert.Equal(Grid(
            "11..2.",
            "11...2",
            "..1..2",
            "...1..",
            "......"), labels);
        Assert.Equal(1, removed);
    }

    [Theory]
    [InlineData(10, Connectivity.Face, true)]  // (1,0,1) shares a face with (1,0,0)
    [InlineData(13, Connectivity.Face, false)] // (1,1,1) shares only an edge
    [InlineData(13, Connectivity.Full, true)]
    [InlineData(14, Connectivity.Face, false)] // (2,1,1) shares only a corner
    [InlineData(14, Connectivity.Full, true)]
    public void In_3d_neighbours_across_slices_join_by_face_and_by_edge_or_corner_only_with_full_connectivity(int index, Connectivity connectivity, bool kept)
    {
        // 3 × 3 × 2; slice 0 holds a bar at (0,0,0)–(1,0,0); one voxel of slice 1 is set
        var labels = new float[18];
        labels[0] = labels[1] = 1;
        labels[index] = 1;

        long removed = ConnectedComponents.KeepLargest(labels, new VolumeSize(3, 3, 2), connectivity);

        Assert.Equal(kept ? 1f : 0f, labels[index]);
        Assert.Equal(kept ? 0 : 1, removed);
        Assert.Equal(1f, labels[0]);
        Assert.Equal(1f, labels[1]);
    }

    [Fact]
    public void Components_are_counted_per_label_and_touching_labels_stay_apart()
    {
        var labels = Grid(
            "1122",
            "1122",
            "..2.",
            "1...");
        var component = ConnectedComponents.Label(labels, new VolumeSize(4, 4, 1), Connectivity.Face, out var sizes, out var labelOf);

        Assert.Equal([4L, 5L, 1L], sizes);
        Assert.Equal([1, 2, 1], labelOf);
        Assert.Equal(-1, component[8]);
        Assert.Equal(2, component[12]);
    }
}
