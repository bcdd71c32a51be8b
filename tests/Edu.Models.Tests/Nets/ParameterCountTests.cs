using Edu.Models.Blocks;
using Edu.Models.Catalogue;

namespace Edu.Models.Tests.Nets;

public sealed class ParameterCountTests
{
    private static readonly ModelCatalogue Catalogue = ModelCatalogue.CreateBuiltIn();

    [Theory]
    [InlineData("unet", 7_762_465, 7_763_041, 5_647_732)]
    [InlineData("attention-unet", 7_851_197, 7_851_773, 5_670_344)]
    [InlineData("unet-mde", 7_108_385, 7_108_961, 5_201_972)]
    [InlineData("attention-unet-mde", 7_197_117, 7_197_693, 5_224_584)]
    [InlineData("unetpp", 9_045_249, 9_045_825, 6_554_084)]
    [InlineData("edu", 7_887_617, 7_888_193, 5_781_604)]
    [InlineData("edu-dense", 9_086_529, 9_087_105, 6_673_604)]
    [InlineData("edu-lean", 8_773_185, 8_773_761, 6_438_596)]
    public void Every_cell_of_the_MODELS_md_table_comes_out_exactly(string name, long gray2d, long rgb2d, long mri3d)
    {
        Assert.Equal(gray2d, Count(name, new ModelHyperparameters(2, 1, 1)));
        Assert.Equal(rgb2d, Count(name, new ModelHyperparameters(2, 3, 1)));
        Assert.Equal(mri3d, Count(name, new ModelHyperparameters(3, 4, 4)));
    }

    [Theory]
    [InlineData(2, 88)]
    [InlineData(3, 500)]
    public void One_mde_has_c_squared_plus_88c_in_2d_and_plus_500c_in_3d(int dims, long perChannel)
    {
        const long c = 12;
        using var mde = ModelCatalogue.Seeded(0, () => new Mde(dims, c));
        Assert.Equal(c * c + perChannel * c, Layers.CountParameters(mde));
    }

    [Theory]
    [InlineData(2, 86)]
    [InlineData(3, 498)]
    public void One_mde_lite_has_86c_in_2d_and_498c_in_3d(int dims, long perChannel)
    {
        const long c = 12;
        using var block = ModelCatalogue.Seeded(0, () => new MdeLite(dims, c));
        Assert.Equal(perChannel * c, Layers.CountParameters(block));
    }

    [Theory]
    [InlineData("edu")]
    [InlineData("edu-dense")]
    [InlineData("edu-lean")]
    public void Deep_supervision_adds_one_head_per_intermediate_node(string name)
    {
        long off = Count(name, new ModelHyperparameters(2, 1, 2, 8));
        long on = Count(name, new ModelHyperparameters(2, 1, 2, 8, DeepSupervision: true));
        Assert.Equal(3 * (8 * 2 + 2), on - off);
    }

    private static long Count(string name, ModelHyperparameters h)
    {
        using var model = Catalogue.Create(name, h);
        return Layers.CountParameters(model);
    }
}
