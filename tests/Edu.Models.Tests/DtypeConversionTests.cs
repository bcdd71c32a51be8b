using Edu.Models.Catalogue;
using TorchSharp;

namespace Edu.Models.Tests;

public sealed class DtypeConversionTests
{
    public static TheoryData<string> Models() => [.. ModelCatalogue.BuiltInNames];

    // bfloat16 inference and .to(cuda) go through Module.to; TorchSharp's ModuleDict breaks it.
    [Theory]
    [MemberData(nameof(Models))]
    public void Every_model_converts_to_bfloat16_and_back_keeping_its_state_dict_keys(string name)
    {
        using var model = ModelCatalogue.CreateBuiltIn().Create(name, new ModelHyperparameters(2, 1, 1, 4, 2, false));
        var keys = model.state_dict().Keys.ToList();

        model.to(torch.ScalarType.BFloat16);
        Assert.All(model.parameters(), p => Assert.Equal(torch.ScalarType.BFloat16, p.dtype));
        model.to(torch.ScalarType.Float32);

        Assert.Equal(keys, model.state_dict().Keys);
        Assert.All(model.parameters(), p => Assert.Equal(torch.ScalarType.Float32, p.dtype));
    }
}
