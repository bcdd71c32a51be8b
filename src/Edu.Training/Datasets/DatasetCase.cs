namespace Edu.Training.Datasets;

/// <summary>One case on disk: its id, its channel files in channel order, and its label file (null when the set has no labels).</summary>
/// <param name="Id">Case identifier (the file stem without the channel suffix).</param>
/// <param name="ImageFiles">Channel files, <c>_0000</c> first.</param>
/// <param name="LabelFile">The label file, or null.</param>
public sealed record DatasetCase(string Id, IReadOnlyList<string> ImageFiles, string? LabelFile);
