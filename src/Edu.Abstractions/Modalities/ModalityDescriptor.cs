using Edu.Abstractions.Preprocessing;

namespace Edu.Abstractions.Modalities;

/// <summary>
/// What a modality plugin declares: how images of this kind look on disk and in memory, how to
/// preprocess them by default, and which labels a segmentation of them has.
/// </summary>
public sealed record ModalityDescriptor
{
    /// <summary>Creates a descriptor, checking it is consistent.</summary>
    /// <param name="id">Unique id, lower case letters, digits and '-' (<c>ct</c>, <c>xray</c>).</param>
    /// <param name="name">Name for people ("Chest X-ray").</param>
    /// <param name="dims">Spatial dimensions of a case: 2 or 3.</param>
    /// <param name="channelNames">One name per expected channel, in order (nnU-Net <c>channel_names</c>).</param>
    /// <param name="fileFormats">File endings users bring, lower case with the dot (".nii.gz", ".png").</param>
    /// <param name="defaultPipeline">The default preprocessing, which users may override.</param>
    /// <param name="labelNames">Label names by value; index 0 is the background.</param>
    public ModalityDescriptor(string id, string name, int dims, IReadOnlyList<string> channelNames,
        IReadOnlyList<string> fileFormats, PreprocessingPipeline defaultPipeline, IReadOnlyList<string> labelNames)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(channelNames);
        ArgumentNullException.ThrowIfNull(fileFormats);
        ArgumentNullException.ThrowIfNull(defaultPipeline);
        ArgumentNullException.ThrowIfNull(labelNames);
        if (!id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            throw new ArgumentException($"modality id '{id}' must be lower case letters, digits or '-'", nameof(id));
        if (dims is not (2 or 3)) throw new ArgumentOutOfRangeException(nameof(dims), dims, "a modality is 2-D or 3-D");
        if (channelNames.Count == 0) throw new ArgumentException("a modality has at least one channel", nameof(channelNames));
        if (labelNames.Count < 2) throw new ArgumentException("labels are the background plus at least one structure", nameof(labelNames));
        if (fileFormats.Any(f => !f.StartsWith('.') || f != f.ToLowerInvariant()))
            throw new ArgumentException("file formats are lower case endings with the dot", nameof(fileFormats));
        Id = id;
        Name = name;
        Dims = dims;
        ChannelNames = [.. channelNames];
        FileFormats = [.. fileFormats];
        DefaultPipeline = defaultPipeline;
        LabelNames = [.. labelNames];
    }

    /// <summary>Unique id (<c>ct</c>, <c>mr</c>, <c>xray</c>...).</summary>
    public string Id { get; }

    /// <summary>Name for people.</summary>
    public string Name { get; }

    /// <summary>2 or 3.</summary>
    public int Dims { get; }

    /// <summary>Expected number of channels.</summary>
    public int Channels => ChannelNames.Count;

    /// <summary>Channel names in order (e.g. T1, T1ce, T2, FLAIR; or R, G, B).</summary>
    public IReadOnlyList<string> ChannelNames { get; }

    /// <summary>File endings users bring, lower case with the dot.</summary>
    public IReadOnlyList<string> FileFormats { get; }

    /// <summary>The default preprocessing pipeline.</summary>
    public PreprocessingPipeline DefaultPipeline { get; }

    /// <summary>Label names by value; index 0 is the background.</summary>
    public IReadOnlyList<string> LabelNames { get; }

    /// <inheritdoc />
    public bool Equals(ModalityDescriptor? other) =>
        other is not null && Id == other.Id && Name == other.Name && Dims == other.Dims
        && ChannelNames.SequenceEqual(other.ChannelNames) && FileFormats.SequenceEqual(other.FileFormats)
        && DefaultPipeline.Equals(other.DefaultPipeline) && LabelNames.SequenceEqual(other.LabelNames);

    /// <inheritdoc />
    public override int GetHashCode() => Id.GetHashCode(StringComparison.Ordinal);
}
