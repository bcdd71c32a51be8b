using Edu.Models.Catalogue;
using Edu.Models.Runtime;
using Edu.Training.Augmentation;
using Edu.Training.Datasets;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Training;

/// <summary>What the overridable steps of a <see cref="Trainer"/> see: the run's options, data, net and optimizer.</summary>
public sealed class TrainingContext
{
    internal TrainingContext(TrainingOptions options, string runDirectory, SegmentationDataset dataset, DatasetSplit split,
        IReadOnlyList<PreparedCase> trainCases, IReadOnlyList<PreparedCase> validationCases, ModelHyperparameters hyperparameters,
        Module<Tensor, Tensor> model, OptimizerHelper optimizer, Device device, PatchSampler sampler, int stepsPerEpoch, Func<Tensor, Tensor, Tensor> loss,
        MixedPrecision precision)
    {
        Precision = precision;
        Options = options;
        RunDirectory = runDirectory;
        Dataset = dataset;
        Split = split;
        TrainCases = trainCases;
        ValidationCases = validationCases;
        Hyperparameters = hyperparameters;
        Model = model;
        Optimizer = optimizer;
        Device = device;
        Sampler = sampler;
        StepsPerEpoch = stepsPerEpoch;
        Loss = loss;
    }

    /// <summary>The run's options.</summary>
    public TrainingOptions Options { get; }
    /// <summary>The run folder.</summary>
    public string RunDirectory { get; }
    /// <summary>The dataset.</summary>
    public SegmentationDataset Dataset { get; }
    /// <summary>The train/validation split.</summary>
    public DatasetSplit Split { get; }
    /// <summary>Preprocessed training cases.</summary>
    public IReadOnlyList<PreparedCase> TrainCases { get; }
    /// <summary>Preprocessed validation cases.</summary>
    public IReadOnlyList<PreparedCase> ValidationCases { get; }
    /// <summary>The net's hyperparameters.</summary>
    public ModelHyperparameters Hyperparameters { get; }
    /// <summary>The net.</summary>
    public Module<Tensor, Tensor> Model { get; }
    /// <summary>The optimizer.</summary>
    public OptimizerHelper Optimizer { get; }
    /// <summary>The device.</summary>
    public Device Device { get; }
    /// <summary>The patch sampler (patch shape and augmentation).</summary>
    public PatchSampler Sampler { get; }
    /// <summary>Steps per epoch.</summary>
    public int StepsPerEpoch { get; }
    /// <summary>The steps' precision: autocast scope for the forward pass, loss scaling (fp16), backward and optimizer step.</summary>
    public MixedPrecision Precision { get; }
    /// <summary>The loss: (logits, target) → scalar.</summary>
    public Func<Tensor, Tensor, Tensor> Loss { get; }
    /// <summary>Patch shape as the segmenter takes it: [Y, X] in 2-D, [Z, Y, X] in 3-D.</summary>
    public int[] Patch => Hyperparameters.SpatialDims == 2 ? [Sampler.PatchY, Sampler.PatchX] : [Sampler.PatchZ, Sampler.PatchY, Sampler.PatchX];
    /// <summary>Current epoch (1-based) while one runs.</summary>
    public int Epoch { get; internal set; }
    /// <summary>Optimizer steps taken so far.</summary>
    public long GlobalStep { get; internal set; }
    /// <summary>Learning rate in use.</summary>
    public double LearningRate { get; internal set; }
}
