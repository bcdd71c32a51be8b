namespace Edu.Imaging.Rendering;

/// <summary>How <see cref="OverlayRenderer"/> draws labels over an image.</summary>
public sealed record OverlayOptions
{
    /// <summary>The z slice to draw; null picks the slice with the most labelled voxels (the middle one when none).</summary>
    public int? Slice { get; init; }

    /// <summary>Opacity of the label colours over the image, 0 to 1.</summary>
    public float Alpha { get; init; } = 0.5f;

    /// <summary>Whether to draw each label's outline at full opacity on top of the fill.</summary>
    public bool Contour { get; init; }

    /// <summary>Whether to fill labels (with <see cref="Alpha"/>); off with <see cref="Contour"/> on gives outlines only.</summary>
    public bool Fill { get; init; } = true;

    /// <summary>Grey window (low, high) for a one-channel image; null uses the slice's 1st and 99th percentiles.</summary>
    public (double Low, double High)? Window { get; init; }
}
