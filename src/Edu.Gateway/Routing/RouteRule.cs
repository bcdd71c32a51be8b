using System.Text.RegularExpressions;
using Edu.Abstractions.Errors;

namespace Edu.Gateway.Routing;

/// <summary>
/// One routing rule (configuration <c>Gateway:Routes:N</c>): the conditions a series must meet, all of them, and what
/// is done with it. A condition left out matches everything. Modality, body part, SOP Class and AE title compare
/// exactly, ignoring case and padding; the series description is a regular expression (.NET syntax, case-insensitive).
/// </summary>
public sealed record RouteRule
{
    /// <summary>Name in logs, metrics and <c>edu gateway ls</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Modality (0008,0060), e.g. CT.</summary>
    public string? Modality { get; init; }

    /// <summary>Body Part Examined (0018,0015), e.g. CHEST.</summary>
    public string? BodyPartExamined { get; init; }

    /// <summary>A regular expression the Series Description (0008,103E) must contain a match of.</summary>
    public string? SeriesDescription { get; init; }

    /// <summary>SOP Class UID of the series' instances.</summary>
    public string? SopClassUid { get; init; }

    /// <summary>AE title of the modality that sent the series by C-STORE.</summary>
    public string? CallingAeTitle { get; init; }

    /// <summary>Model package name on the worker.</summary>
    public required string Model { get; init; }

    /// <summary>Model version; empty: the worker's newest.</summary>
    public string Version { get; init; } = "";

    /// <summary>Modality plugin id the worker reads the series with; empty: from the model package.</summary>
    public string ModalityPlugin { get; init; } = "";

    /// <summary>An extra output: when set, the label volume as NIfTI (<c>{SeriesInstanceUID}_seg.nii.gz</c>) into this folder too.</summary>
    public string? NiftiFolder { get; init; }

    private Regex? _description;

    /// <summary>Whether <paramref name="series"/> meets every condition of the rule.</summary>
    public bool Matches(SeriesFacts series) =>
        Same(Modality, series.Modality) && Same(BodyPartExamined, series.BodyPartExamined) && Same(SopClassUid, series.SopClassUid)
        && Same(CallingAeTitle, series.CallingAeTitle)
        && (SeriesDescription is null || (series.SeriesDescription is { } d && DescriptionPattern().IsMatch(d)));

    /// <summary>Checks the rule once, at start, so a bad one stops the gateway with its name instead of failing per series.</summary>
    public void Validate(int index)
    {
        string where = $"Gateway:Routes:{index} ({Name})";
        if (string.IsNullOrWhiteSpace(Name)) throw new InvalidInputException($"Gateway:Routes:{index}", "give the rule a Name");
        if (string.IsNullOrWhiteSpace(Model)) throw new InvalidInputException(where, "name the Model the series goes to");
        if (SeriesDescription is not null)
        {
            try { DescriptionPattern(); }
            catch (ArgumentException e) { throw new InvalidInputException(where, $"SeriesDescription '{SeriesDescription}' is not a regular expression: {e.Message}"); }
        }
    }

    // compiled once per pattern (a `with` copy that changes the pattern compiles its own); a time limit: a pattern from
    // configuration must not hang the gateway on a long description
    private Regex DescriptionPattern() => _description is { } compiled && compiled.ToString() == SeriesDescription
        ? compiled
        : _description = new Regex(SeriesDescription!, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));

    private static bool Same(string? wanted, string? actual) =>
        wanted is null || string.Equals(wanted.Trim(), actual?.Trim(), StringComparison.OrdinalIgnoreCase);
}
