using Edu.Abstractions.Errors;
using Edu.Gateway.Routing;

namespace Edu.Gateway.Tests;

public sealed class SeriesRouterTests
{
    private static readonly RouteRule ChestCt = new() { Name = "chest-ct", Modality = "CT", BodyPartExamined = "CHEST", Model = "lung", Version = "2" };
    private static readonly RouteRule Flair = new() { Name = "flair", Modality = "MR", SeriesDescription = @"\bflair\b", Model = "brain" };
    private static readonly RouteRule AnyCt = new() { Name = "any-ct", Modality = "CT", Model = "ct-general" };

    private static SeriesFacts Series(string? modality = null, string? body = null, string? description = null, string? sop = null, string? aet = null) =>
        new("1.2.3", "1.2.3.4", modality, body, description, sop, aet);

    [Fact]
    public void The_first_rule_whose_conditions_all_hold_wins_in_configuration_order()
    {
        var router = new SeriesRouter([ChestCt, Flair, AnyCt]);
        Assert.Equal("chest-ct", router.Route(Series("ct", " chest ")).Rule!.Name); // case and DICOM padding do not matter
        Assert.Equal("any-ct", router.Route(Series("CT", "ABDOMEN")).Rule!.Name);
        Assert.Equal("flair", router.Route(Series("MR", description: "Ax T2 FLAIR fs")).Rule!.Name);
        Assert.Equal("no rule matches", router.Route(Series("MR", description: "Ax T1")).SkipReason);
        Assert.Equal("no rule matches", router.Route(Series("MR")).SkipReason); // a description rule needs a description
    }

    [Fact]
    public void Calling_AE_title_and_SOP_class_are_conditions_too()
    {
        var fromScanner = new RouteRule { Name = "scanner-1", CallingAeTitle = "CT_SCANNER_1", SopClassUid = "1.2.840.10008.5.1.4.1.1.2", Model = "m" };
        var router = new SeriesRouter([fromScanner]);
        Assert.True(router.Route(Series("CT", sop: "1.2.840.10008.5.1.4.1.1.2", aet: "ct_scanner_1")).IsRouted);
        Assert.False(router.Route(Series("CT", sop: "1.2.840.10008.5.1.4.1.1.2", aet: "OTHER")).IsRouted);
    }

    [Theory]
    [InlineData("SEG", null, "modality SEG")]
    [InlineData("SR", null, "modality SR")]
    [InlineData("CT", "1.2.840.10008.5.1.4.1.1.66.4", "Segmentation")]
    [InlineData("OT", "1.2.840.10008.5.1.4.1.1.88.33", "Comprehensive SR")]
    public void Non_images_and_our_own_SEG_are_never_segmented_even_by_a_catch_all_rule(string modality, string? sop, string reason)
    {
        var router = new SeriesRouter([new RouteRule { Name = "everything", Model = "m" }]);
        var decision = router.Route(Series(modality, sop: sop));
        Assert.False(decision.IsRouted);
        Assert.Contains(reason, decision.SkipReason);
    }

    [Fact]
    public void A_bad_rule_stops_the_router_at_start_naming_the_rule()
    {
        var e = Assert.Throws<InvalidInputException>(() => new SeriesRouter([ChestCt, new RouteRule { Name = "broken", SeriesDescription = "(unclosed", Model = "m" }]));
        Assert.Contains("Gateway:Routes:1 (broken)", e.Message);
        Assert.Contains("regular expression", e.Message);
        Assert.Throws<InvalidInputException>(() => new SeriesRouter([new RouteRule { Name = "no-model", Model = " " }]));
    }
}
