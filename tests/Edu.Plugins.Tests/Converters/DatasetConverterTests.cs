using System.Globalization;
using Edu.Abstractions.Datasets;
using Edu.Abstractions.Errors;
using Edu.Abstractions.Imaging;

namespace Edu.Plugins.Tests.Converters;

public sealed class DatasetConverterTests
{
    private static readonly Lazy<PluginCatalog> Catalog = new(() => PluginCatalog.Load([PluginFolders.FirstParty]));

    private static IDatasetConverter Converter(string id) => Catalog.Value.FindConverter(id) ?? throw new InvalidOperationException($"{id} not registered");

    private static ConvertedDataset Convert(string id, TempFolder t, int expectedCases)
    {
        int cases = Converter(id).Convert(t.Source, t.Destination, ReplicaFiles.Context);
        Assert.Equal(expectedCases, cases);
        Assert.Empty(Directory.GetDirectories(t.Root, ".*")); // no staging folder left behind
        var dataset = new ConvertedDataset(t.Destination);
        dataset.AssertLoads();
        Assert.True(Directory.Exists(Path.Combine(t.Destination, "imagesTs")));
        return dataset;
    }

    private static float[] Rect(int w, int h, int x0, int y0, int x1, int y1) =>
        [.. Enumerable.Range(0, w * h).Select(i => i % w >= x0 && i % w < x1 && i / w >= y0 && i / w < y1 ? 1f : 0f)];

    [Fact]
    public void Every_first_party_plugin_registers_its_converter_for_its_modality()
    {
        var pairs = Catalog.Value.Converters.Select(c => $"{c.Id}:{c.ModalityId}").Order(StringComparer.Ordinal);
        Assert.Equal(["brats:mr", "ctc:microscopy", "isic2018:dermoscopy", "kvasir-seg:endoscopy", "luna16:ct", "montgomery:xray", "palm:fundus"], pairs);
        Assert.All(Catalog.Value.Converters, c => Assert.False(string.IsNullOrWhiteSpace(c.Description)));
    }

    [Fact]
    public void Montgomery_merges_left_and_right_lung_masks_into_one_label()
    {
        using var t = new TempFolder();
        const int w = 48, h = 40;
        foreach (string name in (string[])["MCUCXR_0001_0", "MCUCXR_0002_1"])
        {
            ReplicaFiles.Write(ReplicaFiles.Plane(w, h, 1, PixelType.UInt8, (_, x, y) => (x * 5 + y * 3) % 256), t.In("CXR_png", name + ".png"));
            ReplicaFiles.Write(ReplicaFiles.Plane(w, h, 1, PixelType.UInt8, (_, x, y) => x is >= 28 and < 40 && y is >= 8 and < 32 ? 255 : 0), t.In("ManualMask", "leftMask", name + ".png"));
            ReplicaFiles.Write(ReplicaFiles.Plane(w, h, 1, PixelType.UInt8, (_, x, y) => x is >= 6 and < 20 && y is >= 10 and < 34 ? 255 : 0), t.In("ManualMask", "rightMask", name + ".png"));
        }

        var d = Convert("montgomery", t, 2);

        Assert.Equal(new Dictionary<string, int> { ["background"] = 0, ["lung"] = 1 }, d.Labels);
        Assert.Equal(["xray"], d.ChannelNames);
        Assert.Equal(".png", d.Ending);
        Assert.Equal("xray", d.Json.GetProperty("modality").GetString());
        Assert.Equal(["MCUCXR_0001_0_0000.png", "MCUCXR_0002_1_0000.png"], d.Files("imagesTr"));
        var expected = Rect(w, h, 28, 8, 40, 32).Zip(Rect(w, h, 6, 10, 20, 34), Math.Max);
        Assert.Equal(expected, d.Label("MCUCXR_0001_0").Voxels);
        Assert.Equal(ReplicaFiles.Readers.Read(t.In("CXR_png", "MCUCXR_0001_0.png")).Voxels, d.Image("MCUCXR_0001_0").Voxels);
    }

    [Fact]
    public void A_missing_mask_is_named_and_nothing_is_left_in_the_destination()
    {
        using var t = new TempFolder();
        ReplicaFiles.Write(ReplicaFiles.Plane(32, 32, 1, PixelType.UInt8, (_, x, _) => x), t.In("CXR_png", "MCUCXR_0001_0.png"));
        ReplicaFiles.Write(ReplicaFiles.Plane(32, 32, 1, PixelType.UInt8, (_, _, _) => 0), t.In("ManualMask", "leftMask", "MCUCXR_0001_0.png"));
        Directory.CreateDirectory(t.In("ManualMask", "rightMask"));

        var e = Assert.Throws<InvalidInputException>(() => Converter("montgomery").Convert(t.Source, t.Destination, ReplicaFiles.Context));

        Assert.Contains(Path.Combine("rightMask", "MCUCXR_0001_0.png"), e.Message);
        Assert.False(Directory.Exists(t.Destination));
        Assert.Single(Directory.GetFileSystemEntries(t.Root)); // only src: the staging folder is gone
    }

    [Fact]
    public void A_wrong_source_folder_names_what_the_layout_needs()
    {
        using var t = new TempFolder();
        File.WriteAllText(t.In("readme.txt"), "not a dataset");

        foreach (var (id, needed) in ((string, string)[])[("montgomery", "CXR_png"), ("luna16", "annotations.csv"), ("brats", "_flair"), ("ctc", "01/"),
                     ("isic2018", "ISIC2018_Task1-2_Training_Input"), ("kvasir-seg", "images"), ("palm", "PALM-Training400")])
        {
            var e = Assert.Throws<InvalidInputException>(() => Converter(id).Convert(t.Source, t.Destination, ReplicaFiles.Context));
            Assert.Contains(needed, e.Message);
        }
        Assert.False(Directory.Exists(t.Destination));
        Assert.Throws<InvalidInputException>(() => Converter("kvasir-seg").Convert(t.In("nothing-here"), t.Destination, ReplicaFiles.Context));
    }

    [Fact]
    public void A_non_empty_destination_is_refused_and_left_untouched()
    {
        using var t = new TempFolder();
        ReplicaFiles.Jpeg(t.In("images", "a.jpg"), 32, 32, (x, y) => ((byte)x, (byte)y, 0));
        ReplicaFiles.Jpeg(t.In("masks", "a.jpg"), 32, 32, (x, _) => x > 16 ? ((byte)255, (byte)255, (byte)255) : ((byte)0, (byte)0, (byte)0));
        Directory.CreateDirectory(t.Destination);
        string mine = Path.Combine(t.Destination, "my-notes.txt");
        File.WriteAllText(mine, "keep me");

        var e = Assert.Throws<InvalidInputException>(() => Converter("kvasir-seg").Convert(t.Source, t.Destination, ReplicaFiles.Context));

        Assert.Contains("not empty", e.Message);
        Assert.Equal(["my-notes.txt"], Directory.GetFileSystemEntries(t.Destination).Select(Path.GetFileName));
        Assert.Equal("keep me", File.ReadAllText(mine));
        var inside = Assert.Throws<InvalidInputException>(() => Converter("kvasir-seg").Convert(t.Source, t.In("converted"), ReplicaFiles.Context));
        Assert.Contains("inside the source", inside.Message);
    }

    [Fact]
    public void Luna16_nodules_become_spheres_rasterised_in_world_coordinates_and_geometry_is_kept()
    {
        using var t = new TempFolder();
        const int nx = 40, ny = 36, nz = 12;
        // rotated 90° about z, anisotropic spacing, offset origin: a world-coordinate mistake cannot pass
        var geometry = new ImageGeometry(new VolumeSize(nx, ny, nz), [0.7, 0.8, 2.5], [-100, -120, -300], [0, -1, 0, 1, 0, 0, 0, 0, 1]);
        var voxels = Enumerable.Range(0, nx * ny * nz).Select(i => (float)(i % 2000 - 1000)).ToArray();
        string uid1 = "1.3.6.1.4.1.14519.5.2.1.6279.6001.100", uid2 = "1.3.6.1.4.1.14519.5.2.1.6279.6001.200";
        ReplicaFiles.Write(new ImageVolume(geometry, 1, voxels, PixelType.Int16), t.In("subset0", uid1 + ".mhd"));
        ReplicaFiles.Write(new ImageVolume(geometry, 1, (float[])voxels.Clone(), PixelType.Int16), t.In("subset1", "subset1", uid2 + ".mhd")); // as subset1.zip unpacks into a folder of the same name
        var (cx, cy, cz) = geometry.IndexToWorld(20.3, 17.6, 5.2);
        var (ex, ey, ez) = geometry.IndexToWorld(2, 3, 0.4); // a nodule cut by the volume's edge
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        File.WriteAllLines(t.In("annotations.csv"),
        [
            "seriesuid,coordX,coordY,coordZ,diameter_mm",
            $"{uid1},{F(cx)},{F(cy)},{F(cz)},9.5",
            $"{uid1},{F(ex)},{F(ey)},{F(ez)},4",
            "1.3.6.1.4.1.14519.5.2.1.6279.6001.999,1,2,3,5", // a scan not downloaded: ignored
        ]);

        var d = Convert("luna16", t, 2);

        Assert.Equal(new Dictionary<string, int> { ["background"] = 0, ["nodule"] = 1 }, d.Labels);
        Assert.Equal(".nii.gz", d.Ending);
        var label = d.Label(uid1);
        Assert.True(label.Geometry.IsCloseTo(geometry), $"{label.Geometry} vs {geometry}");
        Assert.True(d.Image(uid1).Geometry.IsCloseTo(geometry));
        Assert.Equal(voxels, d.Image(uid1).Voxels);
        // brute force over every voxel centre
        var expected = new float[voxels.Length];
        for (int k = 0; k < nz; k++)
            for (int j = 0; j < ny; j++)
                for (int i = 0; i < nx; i++)
                {
                    var (x, y, z) = geometry.IndexToWorld(i, j, k);
                    double a = (x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz);
                    double b = (x - ex) * (x - ex) + (y - ey) * (y - ey) + (z - ez) * (z - ez);
                    if (a <= 4.75 * 4.75 || b <= 2 * 2) expected[(k * ny + j) * nx + i] = 1;
                }
        Assert.True(expected.Sum() > 40);
        Assert.Equal(expected, label.Voxels);
        Assert.All(d.Label(uid2).Voxels, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Luna16_bad_annotation_rows_are_refused_with_the_line()
    {
        using var t = new TempFolder();
        ReplicaFiles.Write(new ImageVolume(ImageGeometry.Identity(new VolumeSize(8, 8, 4)), 1, new float[256], PixelType.Int16), t.In("subset0", "1.2.3.mhd"));
        File.WriteAllLines(t.In("annotations.csv"), ["seriesuid,coordX,coordY,coordZ,diameter_mm", "1.2.3,1,2,abc,5"]);

        var e = Assert.Throws<InvalidInputException>(() => Converter("luna16").Convert(t.Source, t.Destination, ReplicaFiles.Context));

        Assert.Contains("line 2", e.Message);
        Assert.Contains("coordZ", e.Message);
    }

    [Fact]
    public void Brats_writes_four_channels_in_order_maps_4_to_3_and_keeps_geometry()
    {
        using var t = new TempFolder();
        const int n = 16, nz = 6;
        var geometry = new ImageGeometry(new VolumeSize(n, n, nz), [1, 1, 1.5], [90, 126, -72], [-1, 0, 0, 0, -1, 0, 0, 0, 1]);
        string[] sequences = ["t1", "t1ce", "t2", "flair"];
        var seg = Enumerable.Range(0, n * n * nz).Select(i => (float)((i % 7) switch { 1 => 1, 2 => 2, 3 => 4, _ => 0 })).ToArray();
        foreach (string id in (string[])["BraTS20_Training_001", "BraTS20_Validation_001"])
        {
            for (int s = 0; s < 4; s++)
            {
                int offset = 100 * (s + 1);
                var v = Enumerable.Range(0, n * n * nz).Select(i => (float)(offset + i % 50)).ToArray();
                ReplicaFiles.Write(new ImageVolume(geometry, 1, v, PixelType.Int16), t.In("MICCAI_BraTS2020_TrainingData", id, $"{id}_{sequences[s]}.nii.gz"));
            }
        }
        ReplicaFiles.Write(new ImageVolume(geometry, 1, seg, PixelType.UInt8), t.In("MICCAI_BraTS2020_TrainingData", "BraTS20_Training_001", "BraTS20_Training_001_seg.nii.gz"));

        var d = Convert("brats", t, 2);

        Assert.Equal(1, d.NumTraining);
        Assert.Equal(["T1", "T1ce", "T2", "FLAIR"], d.ChannelNames);
        Assert.Equal(new Dictionary<string, int> { ["background"] = 0, ["necrosis"] = 1, ["edema"] = 2, ["enhancing_tumor"] = 3 }, d.Labels);
        for (int s = 0; s < 4; s++)
        {
            var image = d.Image("BraTS20_Training_001", s);
            Assert.Equal(100f * (s + 1), image.Voxels[0]);
            Assert.True(image.Geometry.IsCloseTo(geometry));
        }
        var label = d.Label("BraTS20_Training_001");
        Assert.True(label.Geometry.IsCloseTo(geometry));
        Assert.Equal(seg.Select(v => v == 4 ? 3f : v), label.Voxels);
        Assert.Equal(4, d.Files("imagesTs").Length);
        Assert.Empty(d.Files("labelsTs"));
    }

    [Fact]
    public void Brats_case_without_a_sequence_is_refused_naming_it()
    {
        using var t = new TempFolder();
        var g = ImageGeometry.Identity(new VolumeSize(8, 8, 4));
        foreach (string s in (string[])["t1", "t1ce", "flair"])
            ReplicaFiles.Write(new ImageVolume(g, 1, new float[256], PixelType.Int16), t.In("BraTS2021_00000", $"BraTS2021_00000_{s}.nii.gz"));

        var e = Assert.Throws<InvalidInputException>(() => Converter("brats").Convert(t.Source, t.Destination, ReplicaFiles.Context));

        Assert.Contains("T2", e.Message);
        Assert.Contains("BraTS2021_00000_t2.nii.gz", e.Message);
    }

    [Fact]
    public void Brats_case_without_flair_beside_a_complete_one_is_refused_not_skipped()
    {
        using var t = new TempFolder();
        var g = ImageGeometry.Identity(new VolumeSize(8, 8, 4));
        foreach (string s in (string[])["t1", "t1ce", "t2", "flair"])
            ReplicaFiles.Write(new ImageVolume(g, 1, new float[256], PixelType.Int16), t.In("BraTS2021_00000", $"BraTS2021_00000_{s}.nii.gz"));
        foreach (string s in (string[])["t1", "t1ce", "t2"])
            ReplicaFiles.Write(new ImageVolume(g, 1, new float[256], PixelType.Int16), t.In("BraTS2021_00001", $"BraTS2021_00001_{s}.nii.gz"));

        var e = Assert.Throws<InvalidInputException>(() => Converter("brats").Convert(t.Source, t.Destination, ReplicaFiles.Context));

        Assert.Contains("FLAIR", e.Message);
        Assert.Contains("BraTS2021_00001_flair.nii.gz", e.Message);
    }

    [Fact]
    public void Ctc_converts_annotated_frames_with_instances_as_one_foreground_label()
    {
        using var t = new TempFolder();
        const int w = 40, h = 32;
        for (int f = 0; f < 3; f++)
            ReplicaFiles.Write(ReplicaFiles.Plane(w, h, 1, PixelType.UInt16, (_, x, y) => 1000 + f * 100 + x * 10 + y), t.In("Fluo-N2DH-GOWT1", "01", $"t{f:D3}.tif"));
        ReplicaFiles.Write(ReplicaFiles.Plane(w, h, 1, PixelType.UInt16, (_, x, y) => 500 + x), t.In("Fluo-N2DH-GOWT1", "02", "t000.tif")); // no GT: skipped
        foreach (int f in (int[])[0, 2])
            ReplicaFiles.Write(ReplicaFiles.Plane(w, h, 1, PixelType.UInt16, (_, x, y) => x < 10 && y < 10 ? 1 : x > 20 && y > 15 ? 300 + f : 0),
                t.In("Fluo-N2DH-GOWT1", "01_GT", "SEG", $"man_seg{f:D3}.tif"));

        var d = Convert("ctc", t, 2);

        Assert.Equal(["01_0000.tif", "01_0002.tif"], d.Files("labelsTr"));
        Assert.Equal(new Dictionary<string, int> { ["background"] = 0, ["nucleus"] = 1 }, d.Labels);
        var label = d.Label("01_0002").Voxels;
        Assert.Equal(Enumerable.Range(0, w * h).Select(i => i % w < 10 && i / w < 10 || i % w > 20 && i / w > 15 ? 1f : 0f), label);
        var image = d.Image("01_0002");
        Assert.Equal(1000f + 200 + 39 * 10 + 31, image.Voxels[^1]); // 16-bit intensities kept
    }

    [Fact]
    public void Isic2018_thresholds_masks_and_puts_validation_images_in_imagesTs()
    {
        using var t = new TempFolder();
        const int w = 40, h = 30;
        foreach (string id in (string[])["ISIC_0000000", "ISIC_0000001"])
        {
            ReplicaFiles.Jpeg(t.In("ISIC2018_Task1-2_Training_Input", id + ".jpg"), w, h, (x, y) => ((byte)(150 + x), (byte)(100 + y), 80));
            ReplicaFiles.Write(ReplicaFiles.Plane(w, h, 1, PixelType.UInt8, (_, x, y) => (x - 20) * (x - 20) + (y - 15) * (y - 15) < 64 ? 255 : 0),
                t.In("ISIC2018_Task1_Training_GroundTruth", id + "_segmentation.png"));
        }
        File.WriteAllText(t.In("ISIC2018_Task1-2_Training_Input", "LICENSE.txt"), "CC-BY-NC");
        ReplicaFiles.Jpeg(t.In("ISIC2018_Task1-2_Validation_Input", "ISIC_0012255.jpg"), w, h, (x, y) => (200, 120, 90));

        var d = Convert("isic2018", t, 3);

        Assert.Equal(2, d.NumTraining);
        Assert.Equal(["R", "G", "B"], d.ChannelNames);
        Assert.Equal(["ISIC_0012255_0000.png"], d.Files("imagesTs"));
        Assert.Equal(3, d.Image("ISIC_0000000").Channels);
        Assert.Equal(Enumerable.Range(0, w * h).Select(i => (i % w - 20) * (i % w - 20) + (i / w - 15) * (i / w - 15) < 64 ? 1f : 0f), d.Label("ISIC_0000001").Voxels);
    }

    [Fact]
    public void Kvasir_seg_thresholds_jpeg_masks_at_128()
    {
        using var t = new TempFolder();
        const int w = 48, h = 40;
        bool Polyp(int x, int y) => (x - 24) * (x - 24) + (y - 20) * (y - 20) < 12 * 12;
        foreach (string id in (string[])["cju0qkwl35piu0993l0dewei2", "cju0qoxqj9q6s0835b43399p4"])
        {
            ReplicaFiles.Jpeg(t.In("Kvasir-SEG", "images", id + ".jpg"), w, h, (x, y) => (180, (byte)(60 + y), (byte)(40 + x)));
            ReplicaFiles.Jpeg(t.In("Kvasir-SEG", "masks", id + ".jpg"), w, h, (x, y) => Polyp(x, y) ? ((byte)255, (byte)255, (byte)255) : ((byte)0, (byte)0, (byte)0));
        }

        var d = Convert("kvasir-seg", t, 2);

        Assert.Equal(new Dictionary<string, int> { ["background"] = 0, ["polyp"] = 1 }, d.Labels);
        var label = d.Label("cju0qkwl35piu0993l0dewei2").Voxels;
        int truth = Enumerable.Range(0, w * h).Count(i => Polyp(i % w, i / w));
        int agree = Enumerable.Range(0, w * h).Count(i => (label[i] == 1) == Polyp(i % w, i / w));
        Assert.True(agree >= w * h - 0.05 * truth, $"{w * h - agree} pixels differ from the drawn polyp of {truth}"); // JPEG ringing at the edge only
        Assert.Equal(1f, label[20 * w + 24]);
        Assert.Equal(0f, label[0]);
    }

    [Fact]
    public void Palm_reads_black_on_white_bmp_masks_disc_over_atrophy()
    {
        using var t = new TempFolder();
        const int w = 40, h = 32;
        bool Disc(int x, int y) => (x - 28) * (x - 28) + (y - 16) * (y - 16) < 25;
        bool Atrophy(int x, int y) => (x - 24) * (x - 24) + (y - 16) * (y - 16) < 81;
        foreach (string id in (string[])["H0001", "P0001"])
        {
            ReplicaFiles.Jpeg(t.In("PALM-Training400", id + ".jpg"), w, h, (x, y) => (200, (byte)(80 + x), 40));
            ReplicaFiles.Bmp(t.In("PALM-Training400-Annotation-D&F", "Disc_Masks", id + ".bmp"), w, h, (x, y) => Disc(x, y) ? (byte)0 : (byte)255);
        }
        ReplicaFiles.Bmp(t.In("PALM-Training400-Annotation-Lession", "Lesion_Masks", "Atrophy", "P0001.bmp"), w, h, (x, y) => Atrophy(x, y) ? (byte)0 : (byte)255);

        var d = Convert("palm", t, 2);

        Assert.Equal(new Dictionary<string, int> { ["background"] = 0, ["optic_disc"] = 1, ["atrophy"] = 2 }, d.Labels);
        Assert.Equal(Enumerable.Range(0, w * h).Select(i => Disc(i % w, i / w) ? 1f : Atrophy(i % w, i / w) ? 2f : 0f), d.Label("P0001").Voxels);
        Assert.Equal(Enumerable.Range(0, w * h).Select(i => Disc(i % w, i / w) ? 1f : 0f), d.Label("H0001").Voxels);
    }
    [Fact]
    public void Brats_refuses_a_label_value_that_is_not_a_brats_label()
    {
        using var t = new TempFolder();
        var g = ImageGeometry.Identity(new VolumeSize(8, 8, 4));
        foreach (string s in (string[])["t1", "t1ce", "t2", "flair"])
            ReplicaFiles.Write(new ImageVolume(g, 1, new float[256], PixelType.Int16), t.In("BraTS2021_00001", $"BraTS2021_00001_{s}.nii.gz"));
        var seg = new float[256];
        seg[17] = 3;
        ReplicaFiles.Write(new ImageVolume(g, 1, seg, PixelType.UInt8), t.In("BraTS2021_00001", "BraTS2021_00001_seg.nii.gz"));

        var e = Assert.Throws<InvalidInputException>(() => Converter("brats").Convert(t.Source, t.Destination, ReplicaFiles.Context));

        Assert.Contains("BraTS2021_00001_seg.nii.gz", e.Message);
        Assert.Contains("label value 3", e.Message);
        Assert.False(Directory.Exists(t.Destination));
    }

    [Fact]
    public void Ctc_refuses_a_3d_sequence()
    {
        using var t = new TempFolder();
        var volume = new ImageVolume(ImageGeometry.Identity(new VolumeSize(16, 16, 3)), 1, new float[768], PixelType.UInt16);
        ReplicaFiles.Write(volume, t.In("01", "t000.tif"));
        ReplicaFiles.Write(volume, t.In("01_GT", "SEG", "man_seg000.tif"));

        var e = Assert.Throws<InvalidInputException>(() => Converter("ctc").Convert(t.Source, t.Destination, ReplicaFiles.Context));

        Assert.Contains("3 slices", e.Message);
    }

    [Fact]
    public void A_cancelled_conversion_leaves_nothing_behind()
    {
        using var t = new TempFolder();
        ReplicaFiles.Jpeg(t.In("images", "a.jpg"), 32, 32, (x, y) => ((byte)x, (byte)y, 0));
        ReplicaFiles.Jpeg(t.In("masks", "a.jpg"), 32, 32, (x, _) => x > 16 ? ((byte)255, (byte)255, (byte)255) : ((byte)0, (byte)0, (byte)0));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => Converter("kvasir-seg").Convert(t.Source, t.Destination, ReplicaFiles.Context, cancelled.Token));

        Assert.Equal(["src"], Directory.GetFileSystemEntries(t.Root).Select(Path.GetFileName));
    }
}
