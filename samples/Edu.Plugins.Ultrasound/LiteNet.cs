using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Edu.Plugins.Ultrasound;

/// <summary>
/// A model variant a plugin brings: a compact 2-D encoder–decoder (two scales, no skip concatenation) for small
/// ultrasound lesions on a CPU. Registered as <c>us-lite</c>; the host trains, saves, loads and serves it like its own
/// nets. Built from the hyperparameters the host passes (model.json names).
/// </summary>
public sealed class LiteNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> _encoder;
    private readonly Module<Tensor, Tensor> _decoder;

    /// <summary>Builds the net; refuses a 3-D request (the modality is 2-D).</summary>
    public LiteNet(IReadOnlyDictionary<string, string> hyperparameters) : base(nameof(LiteNet))
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        int Get(string key, int fallback) => hyperparameters.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        if (Get("spatial_dims", 2) != 2)
            throw new ArgumentException("us-lite is a 2-D net (spatial_dims = 2)", nameof(hyperparameters));
        int inChannels = Get("in_channels", 1), classes = Get("classes", 1), width = Get("base_channels", 16);
        _encoder = Sequential(
            Conv2d(inChannels, width, 3, padding: 1), BatchNorm2d(width), ReLU(),
            MaxPool2d(2),
            Conv2d(width, 2 * width, 3, padding: 1), BatchNorm2d(2 * width), ReLU());
        _decoder = Sequential(
            ConvTranspose2d(2 * width, width, 2, stride: 2), BatchNorm2d(width), ReLU(),
            Conv2d(width, classes, 1));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var features = _encoder.forward(input);
        return _decoder.forward(features);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _encoder.Dispose();
            _decoder.Dispose();
        }
        base.Dispose(disposing);
    }
}
