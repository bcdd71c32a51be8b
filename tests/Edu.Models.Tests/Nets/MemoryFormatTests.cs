using Edu.Models.Catalogue;
using Edu.Models.Runtime;
using static TorchSharp.torch;

namespace Edu.Models.Tests.Nets;

public sealed class MemoryFormatTests
{
    private static readonly ModelCatalogue Catalogue = ModelCatalogue.CreateBuiltIn();

    public static TheoryData<string, int> NetsAndDims()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in ModelCatalogue.BuiltInNames)
            foreach (int dims in new[] { 2, 3 })
                data.Add(name, dims);
        return data;
    }

    [Theory]
    [MemberData(nameof(NetsAndDims))]
    public void A_net_converts_its_input_once_and_keeps_the_cpu_layout_to_its_output(string name, int dims)
    {
        using var scope = NewDisposeScope();
        using var model = Catalogue.Create(name, new ModelHyperparameters(dims, 2, 3, 4, Depth: 3, DeepSupervision: name is "unetpp" or "edu" or "edu-dense" or "edu-lean"));
        var x = TestRandom.Normal(dims == 2 ? [2, 2, 32, 32] : [2, 2, 16, 16, 16]);
        foreach (bool training in new[] { true, false })
        {
            model.train(training);
            int before = MemoryFormat.ConversionsOnThisThread;
            var output = model.forward(x);
            // a channels-first (contiguous) input is converted once when the layout is channels-last, never otherwise
            Assert.Equal(MemoryFormat.Cpu(dims) == ActivationLayout.ChannelsLast ? 1 : 0, MemoryFormat.ConversionsOnThisThread - before);
            Assert.Equal(MemoryFormat.Cpu(dims) == ActivationLayout.ChannelsLast, MemoryFormat.IsChannelsLast(output));
        }
    }

    [Theory]
    [InlineData("avx2 fma avx512f avx512bw avx512vl avx512dq avx512_vnni avx512_bf16", null, 2, ActivationLayout.ChannelsLast)]
    [InlineData("avx2 fma avx512f avx512bw avx512vl avx512dq", null, 3, ActivationLayout.ChannelsLast)]
    [InlineData("avx2 fma avx512f avx512bw avx512vl avx512dq avx512_vnni", "AVX2", 2, ActivationLayout.ChannelsFirst)]
    [InlineData("avx2 fma", null, 2, ActivationLayout.ChannelsFirst)]
    [InlineData("avx2 fma", null, 3, ActivationLayout.ChannelsLast)]
    public void The_preferred_cpu_layout_follows_the_measurements_per_isa_and_dimensionality(string flags, string? cap, int dims, ActivationLayout expected)
    {
        var cpu = CpuInfo.Parse($"vendor_id\t: AuthenticAMD\nmodel name\t: Test CPU\nflags\t\t: fpu sse4_1 avx {flags}\n\n", cap);
        Assert.Equal(expected, MemoryFormat.Preferred(dims, cpu));
    }

    [Fact]
    public void Channels_last_strides_are_recognised_by_atens_rule()
    {
        using var scope = NewDisposeScope();
        var nchw = arange(Scalars.Of(120), dtype: ScalarType.Float32).view(2, 3, 4, 5);
        var nhwc = MemoryFormat.ToChannelsLast(nchw);
        Assert.False(MemoryFormat.IsChannelsLast(nchw));
        Assert.True(MemoryFormat.IsChannelsLast(nhwc));
        Assert.Equal(new long[] { 60, 1, 15, 3 }, nhwc.stride());
        Assert.Same(nhwc, MemoryFormat.ToChannelsLast(nhwc));
        Assert.True(MemoryFormat.IsChannelsLast(MemoryFormat.ToChannelsLast(zeros([1, 4, 2, 3, 5]))));
        Assert.False(MemoryFormat.IsChannelsLast(zeros(3, 1, 1, 1))); // ambiguous: channels-first, as ATen says
        Assert.True(MemoryFormat.IsChannelsLast(MemoryFormat.ToChannelsLast(zeros(2, 1, 4, 4)))); // one channel: its own strides
        Assert.True((nchw == nhwc).all().item<bool>()); // the same values, other strides
        Assert.True(MemoryFormat.ToChannelsFirst(nhwc).is_contiguous());
    }
}
