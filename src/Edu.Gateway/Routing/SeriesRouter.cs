namespace Edu.Gateway.Routing;

/// <summary>The outcome of routing one series: the rule it goes to, or why it is not segmented.</summary>
public sealed record RouteDecision(RouteRule? Rule, string? SkipReason)
{
    /// <summary>Whether the series goes to a model.</summary>
    public bool IsRouted => Rule is not null;
}

/// <summary>
/// Picks the first rule a series matches, in configuration order. Series that are not images are never segmented,
/// whatever the rules say: structured reports, presentation states, key objects, RT objects, encapsulated documents,
/// and segmentations (our own output among them: the gateway must not segment its own SEG).
/// </summary>
public sealed class SeriesRouter
{
    private static readonly HashSet<string> NonImageModalities = new(StringComparer.OrdinalIgnoreCase)
    {
        "SR", "PR", "KO", "SEG", "RTSTRUCT", "RTPLAN", "RTDOSE", "RTRECORD", "REG", "DOC", "FID", "PLAN", "AU", "ECG",
    };

    private static readonly Dictionary<string, string> NonImageSopClasses = new()
    {
        ["1.2.840.10008.5.1.4.1.1.66.4"] = "a Segmentation (DICOM SEG)",
        ["1.2.840.10008.5.1.4.1.1.66.7"] = "a Label Map Segmentation",
        ["1.2.840.10008.5.1.4.1.1.11.1"] = "a Grayscale Softcopy Presentation State",
        ["1.2.840.10008.5.1.4.1.1.88.11"] = "a Basic Text SR",
        ["1.2.840.10008.5.1.4.1.1.88.22"] = "an Enhanced SR",
        ["1.2.840.10008.5.1.4.1.1.88.33"] = "a Comprehensive SR",
        ["1.2.840.10008.5.1.4.1.1.88.59"] = "a Key Object Selection",
        ["1.2.840.10008.5.1.4.1.1.104.1"] = "an Encapsulated PDF",
        ["1.2.840.10008.5.1.4.1.1.481.3"] = "an RT Structure Set",
    };

    private readonly IReadOnlyList<RouteRule> _rules;

    /// <summary>A router over <paramref name="rules"/>, each checked now.</summary>
    public SeriesRouter(IReadOnlyList<RouteRule> rules)
    {
        for (int i = 0; i < rules.Count; i++) rules[i].Validate(i);
        _rules = rules;
    }

    /// <summary>The rule for <paramref name="series"/>, or the reason it is skipped.</summary>
    public RouteDecision Route(SeriesFacts series)
    {
        if (series.SopClassUid is { } sop && NonImageSopClasses.TryGetValue(sop.Trim(), out var kind))
            return new RouteDecision(null, $"not an image: {kind}");
        if (series.Modality is { } modality && NonImageModalities.Contains(modality.Trim()))
            return new RouteDecision(null, $"not an image: modality {modality.Trim()}");
        var rule = _rules.FirstOrDefault(r => r.Matches(series));
        return rule is null ? new RouteDecision(null, "no rule matches") : new RouteDecision(rule, null);
    }
}
